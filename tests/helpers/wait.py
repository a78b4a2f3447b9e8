"""Waiting on a condition, never on the clock alone: poll until true or a deadline."""

from __future__ import annotations

import time
from collections.abc import Callable


def until(predicate: Callable[[], object], timeout: float, poll: float = 0.05) -> bool:
    """Poll ``predicate`` until it is true (True) or ``timeout`` seconds pass (its last value)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(poll)
    return bool(predicate())


def wait_for(
    predicate: Callable[[], object], timeout: float, what: str, poll: float = 0.05
) -> None:
    """Like ``until``, but a timeout is a test failure naming ``what`` it waited for."""
    if not until(predicate, timeout, poll):
        raise AssertionError(f"timed out after {timeout:g}s waiting for {what}")
