"""A clock for tests: time moves only when code under test sleeps on it."""

from __future__ import annotations

import threading
from collections.abc import Callable


class FakeClock:
    """``clock()`` is the time now; ``clock.sleep(s)`` moves it ``s`` forward at once.

    Give it where the code accepts a clock (``HostGate(clock=clock, sleep=clock.sleep)``):
    waits then cost no real time, and what the test measures is what the code
    decided, not how busy the machine was. ``on_sleep`` runs before the clock
    moves, so a test can act "during" a wait.
    """

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start
        self.sleeps: list[float] = []
        self.on_sleep: Callable[[float], object] | None = None
        self._lock = threading.Lock()

    def __call__(self) -> float:
        with self._lock:
            return self.now

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.sleeps.append(seconds)
        hook, self.on_sleep = self.on_sleep, None
        if hook is not None:
            hook(seconds)
        with self._lock:
            self.now += max(0.0, seconds)
