"""Pick the fetcher a source asks for: ``fetch = "http" | "browser" | "auto"``.

- ``"http"``: ``HttpFetcher``, plain HTTP (the default; fast, conditional GET).
- ``"browser"``: ``BrowserFetcher``, the system Chromium for every request.
- ``"auto"``: ``AutoFetcher``: plain HTTP first; when a host answers with a bot
  challenge (``Blocked``), that request and every later one to the same host
  go through the browser, for the fetcher's life (one check). Hosts that
  never block stay on plain HTTP.

When Chromium or Playwright is missing, ``"browser"`` raises
``BrowserUnavailable`` (a ``Blocked``) on its first request, and ``"auto"``
raises the site's own ``Blocked`` with the install hint added: a blocked
site is always reported as blocked, never as an empty list.

Every fetcher made here shares one ``HostGate``, so plain and browser
requests to one host are spaced and counted together; given a
``SharedClient``, plain requests also share one connection pool.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import TracebackType
from typing import Literal, Protocol, Self

from sources.errors import Blocked
from sources.fetch.browser import INSTALL_HINT, BrowserFetcher, BrowserSettings, browser_available
from sources.fetch.http import HttpFetcher, HttpSettings, SharedClient
from sources.fetch.netpolicy import NetworkPolicy
from sources.fetch.politeness import HostGate, host_of
from sources.types import Expect, Fetched, Fetcher

__all__ = ["AutoFetcher", "ClosingFetcher", "FetchMode", "browser_available", "make_fetcher"]

FetchMode = Literal["http", "browser", "auto"]


class ClosingFetcher(Fetcher, Protocol):
    """A ``Fetcher`` that holds resources (a connection pool, a browser): close it."""

    @property
    def validators(self) -> dict[str, dict[str, str]]:
        """Conditional-GET state (URL -> ETag / Last-Modified) to persist after a check."""
        ...

    def close(self) -> None: ...

    def __enter__(self) -> Self: ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...


class AutoFetcher:
    """Plain HTTP first, the browser for hosts that answered with a bot challenge."""

    def __init__(
        self,
        http: HttpFetcher,
        browser: BrowserFetcher,
    ) -> None:
        self.http = http
        self.browser = browser
        self.browser_hosts: set[str] = set()
        self.exchanges = self.browser.exchanges = http.exchanges  # one log, in arrival order

    @property
    def validators(self) -> dict[str, dict[str, str]]:
        return self.http.validators

    @property
    def plain(self) -> HttpFetcher:
        """The plain-HTTP half, for page-driven adapters (``sources.fetch.pages.plain_part``)."""
        return self.http

    def get(
        self,
        url: str,
        *,
        params: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        expect: Expect = "html",
        conditional: bool = False,
    ) -> Fetched:
        host = host_of(url)
        if host not in self.browser_hosts:
            try:
                return self.http.get(
                    url, params=params, headers=headers, expect=expect, conditional=conditional
                )
            except Blocked as exc:
                self._switch(host, exc)
        return self.browser.get(url, params=params, headers=headers, expect=expect)

    def post(
        self,
        url: str,
        *,
        data: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        expect: Expect = "json",
    ) -> Fetched:
        host = host_of(url)
        if host not in self.browser_hosts:
            try:
                return self.http.post(url, data=data, headers=headers, expect=expect)
            except Blocked as exc:
                self._switch(host, exc)
        return self.browser.post(url, data=data, headers=headers, expect=expect)

    def page_driver(self, url: str, blocked: Blocked | None = None) -> BrowserFetcher | None:
        """The browser when ``url``'s host is read through it, or is now after ``blocked``."""
        host = host_of(url)
        if host not in self.browser_hosts:
            if blocked is None:
                return None
            self._switch(host, blocked)
        return self.browser

    def _switch(self, host: str, blocked: Blocked) -> None:
        """Send ``host`` to the browser from now on, or re-raise when there is none."""
        if browser_available(self.browser.settings) is None:
            blocked.hint = f"this site needs a browser and none is available: {INSTALL_HINT}"
            raise blocked
        self.browser_hosts.add(host)

    def close(self) -> None:
        try:
            self.http.close()
        finally:
            self.browser.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def make_fetcher(
    mode: FetchMode,
    http: HttpSettings,
    browser: BrowserSettings | None = None,
    *,
    validators: dict[str, dict[str, str]] | None = None,
    politeness: HostGate | None = None,
    policy: NetworkPolicy | None = None,
    shared: SharedClient | None = None,
) -> ClosingFetcher:
    """The fetcher for one check of a source; close it when the check is done.

    Nothing is launched here: the browser starts on its first request.
    ``policy``: the source's network policy (``NetworkPolicy.for_source``).
    ``shared`` is the plain-HTTP client to reuse (one per pipeline); without
    it the fetcher builds its own.
    """
    gate = politeness or HostGate(per_host=http.per_host, delay=http.delay)
    if mode == "http":
        return HttpFetcher(
            http, validators=validators, politeness=gate, policy=policy, shared=shared
        )
    if mode == "browser":
        return BrowserFetcher(http, browser, politeness=gate, policy=policy)
    if mode == "auto":
        return AutoFetcher(
            HttpFetcher(http, validators=validators, politeness=gate, policy=policy, shared=shared),
            BrowserFetcher(http, browser, politeness=gate, policy=policy),
        )
    raise ValueError(f"unknown fetch mode {mode!r}: use 'http', 'browser' or 'auto'")
