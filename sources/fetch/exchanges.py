"""What a fetcher received, kept for ``regwatch probe`` and a failed run's evidence.

Every fetcher (plain HTTP and browser) adds each response it received — also
the ones it then refused as a block or an error — to its ``exchanges`` log:
method, URL, status, headers, the body (cut at ``max_body`` bytes) and what the
caller expected. The log keeps the last ``keep`` exchanges; ``fetch = "auto"``
shares one log between its two halves, so the order is the order of arrival.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

from sources.types import Expect

__all__ = ["Exchange", "ExchangeLog", "exchanges_of"]


@dataclass(frozen=True)
class Exchange:
    method: str
    url: str
    status: int
    headers: Mapping[str, str]
    body: bytes
    expect: Expect
    truncated: bool = False


@dataclass
class ExchangeLog:
    """The last ``keep`` exchanges, bodies cut at ``max_body`` bytes. Thread-safe."""

    keep: int = 8
    max_body: int = 1_000_000
    items: list[Exchange] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(
        self,
        method: str,
        url: str,
        status: int,
        headers: Mapping[str, str],
        body: bytes,
        expect: Expect,
    ) -> None:
        kept = Exchange(
            method,
            url,
            status,
            headers,  # the response's own, not a copy: nothing changes them once received
            body[: self.max_body],
            expect,
            len(body) > self.max_body,
        )
        with self._lock:
            self.items.append(kept)
            del self.items[: -self.keep]

    def last(self) -> Exchange | None:
        with self._lock:
            return self.items[-1] if self.items else None

    def __iter__(self) -> Iterator[Exchange]:
        with self._lock:
            return iter(list(self.items))


def exchanges_of(fetcher: object) -> ExchangeLog | None:
    """The fetcher's log (through wrappers that have an ``inner`` fetcher), or None."""
    while fetcher is not None:
        log = getattr(fetcher, "exchanges", None)
        if isinstance(log, ExchangeLog):
            return log
        fetcher = getattr(fetcher, "inner", None)
    return None
