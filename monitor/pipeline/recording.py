"""A fetcher wrapper that remembers every body it returned, for snapshots.

It also answers for a server without validators: when the first conditional
GET of a check returns the very bytes the last healthy listing was read from
(the same URL, the same source settings — ``page_digest``), the adapter is
handed a 304, as a server with an ETag would have sent, and skips parsing. The
real response is still recorded (the run's status and snapshot stay the same),
and ``replay()`` gives it back to an adapter that must read it after all.
"""

from __future__ import annotations

import hashlib
from collections.abc import Generator, Mapping
from dataclasses import dataclass, field

from sources.errors import Blocked
from sources.fetch.pages import PageDriver
from sources.types import Expect, Fetched, Fetcher


@dataclass
class RecordingFetcher:
    """Passes calls through to ``inner`` and keeps (url, status, body) of each."""

    inner: Fetcher
    responses: list[Fetched] = field(default_factory=list)
    same_page: str = ""  # the digest that stands for "unchanged" ("": never)
    salt: str = ""  # what else the listing depends on (the source's settings)
    page_digest: str | None = None  # of the first conditional GET's response
    stood_in: Fetched | None = None  # the real response behind a 304 given out
    _replay: bool = False

    def get(
        self,
        url: str,
        *,
        params: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        expect: Expect = "html",
        conditional: bool = False,
    ) -> Fetched:
        if self._replay and self.stood_in is not None and conditional:
            self._replay = False  # recorded when it arrived
            return self.stood_in
        fetched = self.inner.get(
            url, params=params, headers=headers, expect=expect, conditional=conditional
        )
        self.responses.append(fetched)
        if conditional and self.page_digest is None and not fetched.not_modified and self.salt:
            self.page_digest = page_digest(self.salt, fetched)
            if self.page_digest == self.same_page:
                self.stood_in = fetched
                return Fetched(url=fetched.url, status=304, headers=fetched.headers, body=b"")
        return fetched

    def replay(self) -> RecordingFetcher:
        """Hand the real response behind the 304 to the next conditional GET."""
        self._replay = self.stood_in is not None
        return self

    def post(
        self,
        url: str,
        *,
        data: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        expect: Expect = "json",
    ) -> Fetched:
        fetched = self.inner.post(url, data=data, headers=headers, expect=expect)
        self.responses.append(fetched)
        return fetched

    @property
    def validators(self) -> dict[str, dict[str, str]]:
        return self.inner.validators

    def close(self) -> None:
        self.inner.close()

    @property
    def last_status(self) -> int | None:
        return self.responses[-1].status if self.responses else None

    # -- page-driven reading (sources.fetch.pages) passes through, recorded too --------

    @property
    def plain(self) -> Fetcher | None:
        inner: Fetcher | None = getattr(self.inner, "plain", None)
        return None if inner is None else RecordingFetcher(inner, self.responses)

    def page_driver(self, url: str, blocked: Blocked | None = None) -> PageDriver | None:
        choose = getattr(self.inner, "page_driver", None)
        driver: PageDriver | None = choose(url, blocked) if callable(choose) else None
        return None if driver is None else _RecordingDriver(driver, self.responses)


def page_digest(salt: str, fetched: Fetched) -> str:
    """What identifies a listing page: the settings it is read with, its URL, its bytes."""
    digest = hashlib.sha256(salt.encode("utf-8"))
    digest.update(b"\0" + fetched.url.encode("utf-8") + b"\0" + fetched.encoding.encode() + b"\0")
    digest.update(fetched.body)
    return digest.hexdigest()


@dataclass
class _RecordingDriver:
    inner: PageDriver
    responses: list[Fetched]

    def pages(
        self, url: str, *, match: str | None = None, next_page: str, expect: Expect = "json"
    ) -> Generator[Fetched, None, None]:
        inner = self.inner.pages(url, match=match, next_page=next_page, expect=expect)
        try:
            for fetched in inner:
                self.responses.append(fetched)
                yield fetched
        finally:
            inner.close()
