"""Page-driven reading for ``sources.fetch.browser.BrowserFetcher`` (issue 11).

``PageDriven.pages`` opens a list page as a person does and yields what the
page's own scripts received (Playwright response events), clicking the
page's own pager for the next page; see ``BrowserFetcher`` and
``sources.fetch.pages``. Also the small pieces both modules share: ``_Raw`` (one
response as received) and the challenge test ``_reloads``.
"""

from __future__ import annotations

import time
from collections.abc import Generator, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sources.errors import FetchError
from sources.fetch.blocks import detect_block, is_ruishu
from sources.fetch.politeness import HostGate, host_of
from sources.types import Expect, Fetched

if TYPE_CHECKING:
    from playwright.sync_api import Page
    from playwright.sync_api import Response as PageResponse

    from sources.fetch.chromium import BrowserSettings, Chromium

_POLL = 50  # ms between looks at a challenge page


@dataclass
class _Raw:
    url: str
    status: int
    headers: Mapping[str, str]
    body: bytes
    method: str = "GET"


def _reloads(raw: _Raw) -> bool:
    """True for a challenge that may pass by itself once its script ran."""
    return (
        raw.status in (202, 412, 503)
        or is_ruishu(raw.body)
        or _header(raw.headers, "cf-mitigated").lower() == "challenge"
    )


def _header(headers: Mapping[str, str], name: str) -> str:
    for key, value in headers.items():
        if key.lower() == name:
            return value
    return ""


def _ms_left(deadline: float) -> float:
    return max(1.0, (deadline - time.monotonic()) * 1000)


class PageDriven:
    """The page-driven half of ``BrowserFetcher`` (a mixin: it uses the fetcher's
    browser, host gate, challenge handling and block checks)."""

    settings: BrowserSettings
    gate: HostGate
    _chromium: Chromium | None

    if TYPE_CHECKING:

        def _ensure(self, url: str) -> Page: ...
        def _errors(self, url: str) -> AbstractContextManager[None]: ...
        def _visit(self, url: str, referer: str | None, headers: Mapping[str, str]) -> _Raw: ...
        def _settle(
            self, page: Page, seen: list[PageResponse], url: str, deadline: float
        ) -> _Raw: ...
        def _finish(self, raw: _Raw, expect: Expect) -> Fetched: ...

    def pages(
        self,
        url: str,
        *,
        match: str | None = None,
        next_page: str,
        expect: Expect = "json",
    ) -> Generator[Fetched, None, None]:
        """Open ``url`` as a person does and yield what the page received, page by page.

        With ``match`` (a piece of URL, e.g. ``/zdyz/getDomesticGuideList``),
        each item is the answer to the page's *own* XHR/fetch to a URL
        containing it; without, each item is the page itself (for lists that
        are plain HTML). After an item is consumed, the element matched by the
        CSS selector ``next_page`` (the page's pager) is clicked and the next
        answer awaited; the generator ends when there is no such element.
        When an answer is a challenge (the cookie expired mid-list), the list
        page is opened again and the pager clicked back to where it was, once.
        """
        page = self._ensure(url)
        host = host_of(url)
        got: list[PageResponse] = []

        def on_response(response: PageResponse) -> None:
            request = response.request
            if match is None:
                wanted = (
                    request.is_navigation_request()
                    and request.frame == page.main_frame
                    and not 300 <= response.status < 400
                )
            else:
                wanted = match in response.url and request.resource_type in ("xhr", "fetch")
            if wanted:
                got.append(response)

        page.on("response", on_response)
        clicks, retried = 0, False
        try:
            with self._errors(url):
                raw = self._open(page, url, got, match)
                while True:
                    if (
                        _reloads(raw)
                        and detect_block(raw.status, raw.headers, raw.body, raw.url, expect)
                        and not retried
                    ):
                        retried = True  # the challenge came back: open the list again, once
                        raw = self._open(page, url, got, match)
                        for _ in range(clicks):
                            turned = self._turn(page, next_page, host, got, url, match)
                            if turned is None:
                                break
                            raw = turned
                        continue
                    retried = False
                    yield self._finish(raw, expect)
                    turned = self._turn(page, next_page, host, got, url, match)
                    if turned is None:
                        return
                    clicks, raw = clicks + 1, turned
        finally:
            if self._chromium is not None and self._chromium.alive():
                page.remove_listener("response", on_response)

    def _turn(
        self,
        page: Page,
        selector: str,
        host: str,
        got: list[PageResponse],
        url: str,
        match: str | None,
    ) -> _Raw | None:
        """Click the pager and wait for what it brought, holding the host's slot;
        None when the page has no such element (the last page)."""
        target = page.locator(selector)
        if target.count() == 0 or not target.first.is_visible():
            return None
        with self.gate.slot(host):
            got.clear()
            target.first.click(timeout=self.settings.timeout * 1000)
            answer = self._next_answer(page, got, url, match)
        self._space(host)
        return answer

    def _space(self, host: str) -> None:
        """The next request starts ``delay`` after this answer arrived: the page sends its
        request some time after a click, so spacing starts alone would not be enough."""
        self.gate.defer(host, self.gate.delay)

    def _open(self, page: Page, url: str, got: list[PageResponse], match: str | None) -> _Raw:
        """Visit the list page: the page itself, or the answer to its own list request."""
        got.clear()
        raw = self._visit(url, None, {})
        if match is None:
            got.clear()
        else:
            raw = self._next_answer(page, got, url, match)
        self._space(host_of(url))
        return raw

    def _next_answer(
        self, page: Page, got: list[PageResponse], url: str, match: str | None
    ) -> _Raw:
        if match is None:
            deadline = time.monotonic() + self.settings.timeout
            while not got:
                if time.monotonic() >= deadline:
                    raise FetchError("the pager click opened no page", url=url)
                page.wait_for_timeout(_POLL)
            raw = self._settle(page, got, url, deadline)
            got.clear()
            return raw
        raw = self._answer(page, got, url)
        got.clear()
        return raw

    def _answer(self, page: Page, got: list[PageResponse], url: str) -> _Raw:
        """Wait for the first wanted response of this step and read its body."""
        deadline = time.monotonic() + self.settings.timeout
        while not got:
            if time.monotonic() >= deadline:
                raise FetchError(
                    f"the page made no list request within {self.settings.timeout:g} s "
                    "(its scripts or pager changed?)",
                    url=url,
                )
            page.wait_for_timeout(_POLL)
        response = got[0]
        body = response.body()
        if response.request.is_navigation_request():
            page.wait_for_load_state("load", timeout=_ms_left(deadline))
        return _Raw(response.url, response.status, response.headers, body, response.request.method)
