"""The browser fetcher: ``BrowserFetcher`` reads a site through the system Chromium.

Some regulator sites (CDE, NMPA, NHC: Ruishu/瑞数) answer a plain HTTP client
with a JavaScript challenge (HTTP 202 / 412). A browser runs the challenge
script, gets its cookie and the page reloads into the real content. This
fetcher does what a person's browser does, driven by Playwright:

- ``get(expect="html")`` navigates to the page, lets the challenge reload it
  and returns the final page's bytes as the server sent them (not the DOM
  after scripts ran), so adapters parse the same bytes as over plain HTTP.
- ``pages(...)`` (page-driven reading, issue 11): opens a list page as a
  person does, lets the page's **own** scripts request the list, and returns
  what the page received (Playwright response events); the next page comes
  from clicking the page's own pager. No request the page would not make.
  CDE and NMPA read their lists this way when they are read by the browser.
- ``post(...)`` and ``get`` of JSON / XML / files first load the ``Referer``
  page (or the site's root), then call ``fetch()`` inside that page. Kept for
  sites that do not sign calls; evidence says Ruishu signs XHR (``MmEwMD``)
  and nothing shows it signs ``fetch()`` (docs/sources.md, "Evidence checked
  2026-12"), so Ruishu sites use ``pages`` instead.
- One Chromium per fetcher, launched on first use with the site's persistent
  profile (``sources.fetch.chromium``): a real window on a virtual display by
  default, headless only when ``[browser] headless = true``.
- If the page is still a challenge after ``timeout`` seconds (a CAPTCHA, an
  IP block, a refused headless browser) it raises ``Blocked``; it never
  loops forever. No CAPTCHA solving, no fingerprint spoofing, no stealth
  plugins, the User-Agent is Chromium's own.

Politeness: every page visit (with the reloads and sub-requests it causes),
every pager click and every in-page call holds one slot of the shared
``HostGate`` for its host, so ``per_host`` and ``delay`` apply as for plain
HTTP. Images, fonts and media are not downloaded. ``conditional`` is
accepted but not used: a browser always fetches in full. robots.txt is not
read here (``sources.fetch.robots``): this is a person's browser, opened by
the person who runs regwatch on the pages they chose, not a crawler; a
robots.txt Crawl-delay the HTTP fetcher saw for the host still applies
through the shared gate.

``exchanges`` lists what the fetcher received (URL, status, headers, body),
for ``regwatch probe`` and for the evidence kept of a failed run;
``screenshot(path)`` saves the current page. A fetcher belongs to the thread
that first used it; the pipeline makes one per check.
"""

from __future__ import annotations

import base64
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from importlib import resources
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self
from urllib.parse import urlencode, urlsplit

import httpx

from sources.errors import Blocked, FetchError, TooLarge
from sources.fetch.blocks import detect_block
from sources.fetch.browser_pages import _POLL, PageDriven, _header, _ms_left, _Raw, _reloads
from sources.fetch.chromium import (
    INSTALL_HINT,
    LAUNCH_ARGS,
    BrowserSettings,
    Chromium,
    browser_available,
    chromium_path,
)
from sources.fetch.exchanges import ExchangeLog
from sources.fetch.http import HttpSettings
from sources.fetch.netpolicy import NetworkPolicy, RedirectRefused
from sources.fetch.politeness import HostGate, host_of
from sources.text.decode import charset_from_content_type, decode_html, json_encoding
from sources.types import Expect, Fetched

if TYPE_CHECKING:
    from playwright.sync_api import Page
    from playwright.sync_api import Response as PageResponse

__all__ = [
    "INSTALL_HINT",
    "LAUNCH_ARGS",
    "BrowserFetcher",
    "BrowserSettings",
    "browser_available",
    "chromium_path",
]

STILL_BLOCKED_HINT = (
    "the site still refuses a real browser (a CAPTCHA or an address block?); regwatch does "
    "not solve CAPTCHAs: check less often, or ask the site for access"
)
HEADLESS_HINT = (
    "the site may refuse a headless browser: set [browser] headless = false (the default; "
    "a real window, on a virtual display when there is none); `regwatch probe` shows what "
    "the site answered"
)
_ACCEPT = {"json": "application/json, text/javascript, */*;q=0.1", "xml": "application/xml, */*"}
# fetch() may not set these; the browser does.
_FORBIDDEN = frozenset(
    {"referer", "user-agent", "cookie", "host", "connection", "content-length", "accept-encoding"}
)


class BrowserFetcher(PageDriven):
    """Reads sites through headless Chromium; see the module docstring."""

    def __init__(
        self,
        http: HttpSettings,
        browser: BrowserSettings | None = None,
        *,
        politeness: HostGate | None = None,
        policy: NetworkPolicy | None = None,
    ) -> None:
        self.http = http
        self.policy = policy or NetworkPolicy()
        self.settings = browser or BrowserSettings()
        self.gate = politeness or HostGate(per_host=http.per_host, delay=http.delay)
        self.validators: dict[str, dict[str, str]] = {}
        self._owner: int | None = None
        self._chromium: Chromium | None = None
        self._loaded: str | None = None  # URL of the last good page, for in-page calls
        self._script = resources.files("sources.fetch").joinpath("browser_fetch.js").read_text()
        self.exchanges = ExchangeLog()  # what was received, for probe and evidence

    # -- the Fetcher protocol -------------------------------------------------

    def get(
        self,
        url: str,
        *,
        params: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        expect: Expect = "html",
        conditional: bool = False,
    ) -> Fetched:
        """Load ``url`` as a page (``expect="html"``) or fetch it from inside the site."""
        if params:
            url = str(httpx.URL(url).copy_merge_params(dict(params)))
        self._ensure(url)  # BrowserUnavailable when Chromium or Playwright is missing
        extra = dict(headers or {})
        referer = _pop(extra, "referer")
        if expect == "html":
            with self._errors(url):
                raw = self._visit(url, referer, extra)
            self._landed(url, raw.url)
            return self._finish(raw, expect)
        extra.setdefault("Accept", _ACCEPT.get(expect, "*/*"))
        return self._in_page(url, "GET", None, extra, referer, expect)

    def post(
        self,
        url: str,
        *,
        data: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        expect: Expect = "json",
    ) -> Fetched:
        """Load the ``Referer`` page (or the site root), then POST the form from inside it."""
        self._ensure(url)
        extra = dict(headers or {})
        referer = _pop(extra, "referer")
        body = urlencode(list((data or {}).items()))
        if not any(k.lower() == "content-type" for k in extra):
            extra["Content-Type"] = "application/x-www-form-urlencoded; charset=UTF-8"
        extra.setdefault("Accept", _ACCEPT.get(expect, "*/*"))
        return self._in_page(url, "POST", body, extra, referer, expect)

    def page_driver(self, url: str, blocked: Blocked | None = None) -> BrowserFetcher:
        """Every host is read through the browser: ``sources.fetch.pages.page_driver``."""
        return self

    def close(self) -> None:
        """Close the browser (safe to call twice, and before any use)."""
        chromium, self._chromium, self._loaded = self._chromium, None, None
        if chromium is not None:
            chromium.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- the browser ------------------------------------------------------------

    def _ensure(self, url: str) -> Page:
        if self._owner is not None and self._owner != threading.get_ident():
            raise FetchError("a BrowserFetcher was used from a second thread; use one per check")
        if self._chromium is None or not self._chromium.alive():
            self.close()
            origin = self.policy.site or url

            def refuse(target: str, navigation: bool) -> str | None:
                return self.policy.browser_refusal(target, navigation=navigation, origin=origin)

            self._chromium = Chromium.start(self.settings, host_of(url), refuse)
            self._owner = threading.get_ident()
        assert self._chromium.page is not None
        return self._chromium.page

    def _landed(self, url: str, final: str) -> None:
        """Chromium follows a page's redirects itself, without asking the route
        handler: a page that ended up off the site (or on a refused address) is
        refused after the fact, and what it returned is never used."""
        if final == url:
            return
        why = self.policy.browser_refusal(final, navigation=True, origin=self.policy.site or url)
        if why:
            raise RedirectRefused(
                why,
                url=url,
                hint=(
                    "if the source really moved there, list it in the source's allow_redirects_to"
                ),
            )

    @contextmanager
    def _errors(self, url: str) -> Iterator[None]:
        """Turn Playwright's errors into ``FetchError``."""
        from playwright.sync_api import Error, TimeoutError

        try:
            yield
        except TimeoutError:
            raise FetchError(f"timed out after {self.settings.timeout:g} s", url=url) from None
        except Error as exc:
            text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            if self._chromium is not None and not self._chromium.alive():
                self.close()
            if "ERR_BLOCKED_BY_CLIENT" in text and self._chromium and self._chromium.refused:
                raise RedirectRefused(
                    self._chromium.refused[-1],
                    url=url,
                    hint=(
                        "if the source really moved there, list it in the source's "
                        "allow_redirects_to"
                    ),
                ) from None
            raise FetchError(f"browser error: {text}", url=url) from None

    def _visit(self, url: str, referer: str | None, headers: Mapping[str, str]) -> _Raw:
        """Navigate; wait while the page is a challenge that reloads itself.

        ``timeout`` counts from the moment the host gate lets the visit start
        (starting Chromium and waiting for the host's turn do not count)."""
        page = self._ensure(url)
        seen: list[PageResponse] = []

        def on_response(response: PageResponse) -> None:
            request = response.request
            if (
                request.is_navigation_request()
                and request.frame == page.main_frame
                and not 300 <= response.status < 400
            ):
                seen.append(response)

        page.set_extra_http_headers(
            {k: v for k, v in headers.items() if k.lower() not in _FORBIDDEN}
        )
        page.on("response", on_response)
        self._loaded = None
        try:
            with self.gate.slot(host_of(url)):
                deadline = time.monotonic() + self.settings.timeout
                first = page.goto(
                    url, referer=referer, wait_until="commit", timeout=_ms_left(deadline)
                )
                if first is None:
                    raise FetchError("the browser got no response", url=url)
                if first not in seen:
                    seen.append(first)
                raw = self._settle(page, seen, url, deadline)
        finally:
            page.remove_listener("response", on_response)
            page.set_extra_http_headers({})
        self._loaded = raw.url
        return raw

    def _settle(self, page: Page, seen: list[PageResponse], url: str, deadline: float) -> _Raw:
        from playwright.sync_api import Error

        reason = "no response"
        while True:
            if seen:
                response = seen[-1]
                count = len(seen)
                try:
                    body = response.body()
                except Error:  # replaced by a newer navigation meanwhile
                    body = None
                if body is not None and len(seen) == count:
                    raw = _Raw(response.url, response.status, response.headers, body)
                    reason = detect_block(raw.status, raw.headers, body, raw.url, "html") or ""
                    if not reason:
                        page.wait_for_load_state("load", timeout=_ms_left(deadline))
                        if self.settings.wait_after_load:
                            page.wait_for_timeout(self.settings.wait_after_load * 1000)
                        if len(seen) == count:
                            return raw
                        continue
                    if not _reloads(raw):
                        self._remember(raw)
                        raise Blocked(reason, url=raw.url, status=raw.status, hint=_hint(raw))
                    if time.monotonic() >= deadline:
                        self._remember(raw)
            if time.monotonic() >= deadline:
                raise Blocked(
                    f"still a bot challenge after {self.settings.timeout:g} s in Chromium: "
                    f"{reason}",
                    url=url,
                    status=seen[-1].status if seen else None,
                    hint=self._still_blocked_hint(),
                )
            page.wait_for_timeout(_POLL)

    def _in_page(
        self,
        url: str,
        method: str,
        body: str | None,
        headers: Mapping[str, str],
        referer: str | None,
        expect: Expect,
    ) -> Fetched:
        """Call ``url`` with ``fetch()`` from a loaded page of the site; retry once
        after reloading that page when the call itself meets the challenge."""
        if referer and _root(referer) != _root(url):
            referer = None  # a page of another site cannot call this one (CORS)
        start = referer or _root(url)
        with self._errors(url):
            for attempt in range(2):
                page = self._ensure(url)
                if attempt or not _same_page(self._loaded, referer, url):
                    self._visit(start, None, {})
                with self.gate.slot(host_of(url)):
                    result: dict[str, Any] = page.evaluate(
                        self._script,
                        {
                            "url": url,
                            "method": method,
                            "body": body,
                            "headers": {
                                k: v for k, v in headers.items() if k.lower() not in _FORBIDDEN
                            },
                            "referrer": referer,
                            "cap": self.http.max_bytes,
                            "timeout": self.settings.timeout * 1000,
                        },
                    )
                if "timedOut" in result:
                    raise FetchError(f"timed out after {self.settings.timeout:g} s", url=url)
                status = int(result["status"])
                if "tooLarge" in result:
                    raise TooLarge(
                        f"the response went over max_bytes ({self.http.max_bytes:,} bytes)",
                        url=url,
                        status=status,
                    )
                raw = _Raw(
                    str(result["url"] or url),
                    status,
                    result["headers"],
                    base64.b64decode(result["body"]),
                    method,
                )
                if not (
                    _reloads(raw)
                    and detect_block(raw.status, raw.headers, raw.body, raw.url, expect)
                ):
                    break
        return self._finish(raw, expect)

    def _still_blocked_hint(self) -> str:
        return HEADLESS_HINT if self.settings.headless else STILL_BLOCKED_HINT

    def _remember(self, raw: _Raw, expect: Expect = "html") -> None:
        self.exchanges.add(raw.method, raw.url, raw.status, raw.headers, raw.body, expect)

    def screenshot(self, path: str) -> bool:
        """Save a PNG of the current page (False when no page is open)."""
        if self._chromium is None or self._chromium.page is None:
            return False
        with self._errors(path):
            self._chromium.page.screenshot(path=path, full_page=True)
        return True

    def _finish(self, raw: _Raw, expect: Expect) -> Fetched:
        self._remember(raw, expect)
        reason = detect_block(raw.status, raw.headers, raw.body, raw.url, expect)
        if reason:
            hint = self._still_blocked_hint() if _reloads(raw) else _hint(raw)
            raise Blocked(reason, url=raw.url, status=raw.status, hint=hint)
        if len(raw.body) > self.http.max_bytes:
            raise TooLarge(
                f"the response went over max_bytes ({self.http.max_bytes:,} bytes)",
                url=raw.url,
                status=raw.status,
            )
        if raw.status >= 400:
            phrase = httpx.codes.get_reason_phrase(raw.status)
            raise FetchError(f"HTTP {raw.status} {phrase}".strip(), url=raw.url, status=raw.status)
        content_type = _header(raw.headers, "content-type")
        if expect == "bytes":
            encoding = charset_from_content_type(content_type) or "utf-8"
        elif expect == "json":
            encoding = json_encoding(raw.body, content_type)
        else:
            _, encoding = decode_html(raw.body, content_type)
        return Fetched(
            url=raw.url,
            status=raw.status,
            headers=dict(raw.headers),
            body=raw.body,
            encoding=encoding,
        )


def _hint(raw: _Raw) -> str:
    return STILL_BLOCKED_HINT if _reloads(raw) else "the site refused the browser"


def _pop(headers: dict[str, str], name: str) -> str | None:
    for key in [k for k in headers if k.lower() == name]:
        return headers.pop(key)
    return None


def _root(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}/"


def _same_page(loaded: str | None, referer: str | None, url: str) -> bool:
    """Whether the page already loaded serves for a call to ``url``."""
    if loaded is None:
        return False
    if referer:
        return loaded == referer
    return _root(loaded) == _root(url)
