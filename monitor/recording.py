"""A fetcher wrapper that remembers every body it returned, for snapshots."""

from __future__ import annotations

from collections.abc import Generator, Mapping
from dataclasses import dataclass, field

from sources.errors import Blocked
from sources.pages import PageDriver
from sources.types import Expect, Fetched, Fetcher


@dataclass
class RecordingFetcher:
    """Passes calls through to ``inner`` and keeps (url, status, body) of each."""

    inner: Fetcher
    responses: list[Fetched] = field(default_factory=list)

    def get(
        self,
        url: str,
        *,
        params: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        expect: Expect = "html",
        conditional: bool = False,
    ) -> Fetched:
        fetched = self.inner.get(
            url, params=params, headers=headers, expect=expect, conditional=conditional
        )
        self.responses.append(fetched)
        return fetched

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

    # -- page-driven reading (sources.pages) passes through, recorded too --------

    @property
    def plain(self) -> Fetcher | None:
        inner: Fetcher | None = getattr(self.inner, "plain", None)
        return None if inner is None else RecordingFetcher(inner, self.responses)

    def page_driver(self, url: str, blocked: Blocked | None = None) -> PageDriver | None:
        choose = getattr(self.inner, "page_driver", None)
        driver: PageDriver | None = choose(url, blocked) if callable(choose) else None
        return None if driver is None else _RecordingDriver(driver, self.responses)


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
