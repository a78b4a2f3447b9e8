"""Per-host politeness shared by every fetcher of a process.

``HostGate`` is the one place that decides when the next request to a host
may start: at most ``per_host`` requests in flight to one host, and
``delay`` seconds between two request starts to the same host. A server's
``Retry-After`` (or a back-off after an error) pushes the host's next start
later for everyone, via ``defer``; a robots.txt ``Crawl-delay`` raises one
host's delay, via ``set_delay``. The gate also holds the process's
robots.txt cache (``sources.fetch.robots``), so every fetcher that shares
the gate reads each site's robots.txt once. Thread-safe.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from email.utils import parsedate_to_datetime
from typing import Protocol

import httpx

from sources.fetch.robots import RobotsCache


class GateSettings(Protocol):
    """Anything with ``per_host`` and ``delay``, such as ``HttpSettings``."""

    @property
    def per_host(self) -> int: ...

    @property
    def delay(self) -> float: ...


def host_of(url: httpx.URL | str) -> str:
    """The politeness key of a URL: ``host[:port]``, lower-case."""
    parsed = url if isinstance(url, httpx.URL) else httpx.URL(url)
    host = parsed.host.lower()
    return f"{host}:{parsed.port}" if parsed.port else host


def retry_after_seconds(value: str | None, *, now: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or HTTP date)."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        return None
    current = time.time() if now is None else now
    return max(0.0, when.timestamp() - current)


class HostGate:
    """At most ``per_host`` requests in flight per host, ``delay`` s between starts.

    Build it from the ``[http]`` settings, ``HostGate(settings)``, or with
    explicit numbers, ``HostGate(per_host=1, delay=0.5)`` (keywords win).
    Use ``with gate.slot(host): ...`` around one request. ``clock`` is
    ``time.monotonic`` unless a test gives another; a test that gives a clock
    also gives ``sleep``, which waits out a delay on that clock (called
    without the gate's lock held, so other threads may use the gate meanwhile).
    Without ``sleep`` the gate waits on its condition, in real time.
    """

    def __init__(
        self,
        settings: GateSettings | None = None,
        *,
        per_host: int | None = None,
        delay: float | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], object] | None = None,
    ) -> None:
        if per_host is None:
            per_host = settings.per_host if settings is not None else 1
        if delay is None:
            delay = settings.delay if settings is not None else 2.0
        if per_host < 1:
            raise ValueError("per_host must be at least 1")
        if delay < 0:
            raise ValueError("delay must not be negative")
        self.per_host = per_host
        self.delay = delay
        self._clock = clock
        self._sleep = sleep
        self._cond = threading.Condition()
        self._in_flight: dict[str, int] = {}
        self._next_start: dict[str, float] = {}
        self._host_delay: dict[str, float] = {}  # robots.txt Crawl-delay, over ``delay``
        self.robots = RobotsCache(clock=clock)

    @contextmanager
    def slot(self, host: str, *, timeout: float | None = None) -> Iterator[None]:
        """Wait for this host's turn, hold one of its slots for the block.

        ``timeout``: give up waiting after this many seconds (``TimeoutError``);
        the slot is always released when the block ends, by an error too.
        """
        with self._cond:
            give_up = None if timeout is None else self._clock() + max(0.0, timeout)
            while True:
                now = self._clock()
                busy = self._in_flight.get(host, 0) >= self.per_host
                ready_at = self._next_start.get(host, now)
                if not busy and now >= ready_at:
                    break
                if give_up is not None and (now >= give_up or (not busy and ready_at > give_up)):
                    raise TimeoutError(f"no turn for {host} within {timeout:.1f} s")
                if busy or self._sleep is None:
                    wait = None if busy else ready_at - now
                    if give_up is not None:
                        wait = give_up - now if wait is None else min(wait, give_up - now)
                    self._cond.wait(timeout=wait)
                    continue
                self._cond.release()
                try:
                    self._sleep(ready_at - now)
                finally:
                    self._cond.acquire()
            self._in_flight[host] = self._in_flight.get(host, 0) + 1
            self._next_start[host] = now + max(self.delay, self._host_delay.get(host, 0.0))
        try:
            yield
        finally:
            with self._cond:
                self._in_flight[host] -= 1
                if not self._in_flight[host]:
                    del self._in_flight[host]
                self._cond.notify_all()

    def set_delay(self, host: str, seconds: float) -> None:
        """At least ``seconds`` between two request starts to ``host`` from now on
        (a robots.txt ``Crawl-delay``); never below the gate's own ``delay``."""
        with self._cond:
            self._host_delay[host] = max(0.0, seconds)

    def delay_for(self, host: str) -> float:
        """The seconds kept between two request starts to ``host``."""
        with self._cond:
            return max(self.delay, self._host_delay.get(host, 0.0))

    def defer(self, host: str, seconds: float) -> None:
        """No new request to ``host`` starts for ``seconds`` from now."""
        with self._cond:
            until = self._clock() + max(0.0, seconds)
            if until > self._next_start.get(host, 0.0):
                self._next_start[host] = until
            self._cond.notify_all()
