"""The ``httpx.Client`` the plain-HTTP fetcher sends through.

It follows no redirects (``sources.fetch.http`` follows them by hand, to
catch Akamai's apology redirect and apply the network policy to each hop),
its default transport enforces the network policy and the deadlines
(``sources.fetch.netpolicy.guard_transport``) with a TLS context that reads
its CA bundle on first use (``sources.fetch.tls``), and it keeps no cookies:
one client serves many sources, so each fetcher keeps its own jar.
"""

from __future__ import annotations

from http.cookiejar import Cookie, CookieJar

import httpx

from sources.fetch.netpolicy import guard_transport

__all__ = ["new_client"]


class _NoCookieJar(CookieJar):
    """A jar that keeps nothing, so a cookie one site sets never reaches another."""

    def set_cookie(self, cookie: Cookie) -> None:
        pass


class _NoCookies(httpx.Cookies):
    """The cookies of a client that many fetchers share: always none (each fetcher
    keeps its own). httpx hands every response to the client's cookies; reading
    ``Set-Cookie`` into a jar that keeps nothing still built two ``urllib``
    request/response adapters per response, so this store does not look."""

    def __init__(self) -> None:
        super().__init__(_NoCookieJar())

    def extract_cookies(self, response: httpx.Response) -> None:
        pass


class _Client(httpx.Client):
    """An ``httpx.Client`` whose cookie store is always empty (``_NoCookies``)."""

    _none = _NoCookies()

    @property
    def cookies(self) -> httpx.Cookies:
        return self._none

    @cookies.setter
    def cookies(self, cookies: object) -> None:
        raise TypeError("a shared regwatch client keeps no cookies: each fetcher has its own")


def new_client(
    user_agent: str, timeout: float, transport: httpx.BaseTransport | None = None
) -> httpx.Client:
    """The client of ``HttpFetcher`` and ``SharedClient``: this User-Agent, this
    socket timeout, redirects not followed, no cookies of its own, and (without a
    ``transport``) the network policy's transport."""
    return _Client(
        headers={"User-Agent": user_agent},
        timeout=httpx.Timeout(timeout),
        follow_redirects=False,  # followed by hand, to catch Akamai's apology redirect
        # the default transport enforces the network policy and the deadlines
        # (sources.fetch.netpolicy) at connect and read time
        transport=transport if transport is not None else guard_transport(),
    )
