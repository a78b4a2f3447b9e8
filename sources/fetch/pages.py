"""Page-driven reading: let a site's own list page make its requests (issue 11).

Sites behind Ruishu (CDE, NMPA) sign the requests their own scripts make
(XHR, ``MmEwMD``) and, by the public record, refuse the rest; what worked for
other people was opening the list page in a browser and reading what the
page received (docs/sources.md, "Evidence checked 2026-12"). An adapter asks
``page_driver(fetcher, url)`` whether ``url`` is read through a browser; when
it is, it reads the list with ``driver.pages(...)`` (see
``sources.fetch.browser.BrowserFetcher.pages``) instead of calling the API itself.

Until then the adapter reads through ``plain_part(fetcher)``: for ``fetch =
"auto"`` its plain HTTP half, so that a challenge comes back to the adapter
as ``Blocked`` instead of being retried by the browser with a request the
page would not make. With ``blocked`` (plain HTTP met a challenge), ``fetch = "auto"`` moves the
host to the browser and returns it; a plain ``fetch = "http"`` fetcher, or
"auto" without Chromium, re-raises ``blocked`` (with the install hint).
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Protocol

from sources.errors import Blocked
from sources.types import Expect, Fetched, Fetcher

__all__ = ["PageDriver", "page_driver", "plain_part"]


class PageDriver(Protocol):
    """A fetcher that can open a list page and hand back what the page itself received."""

    def pages(
        self,
        url: str,
        *,
        match: str | None = None,
        next_page: str,
        expect: Expect = "json",
    ) -> Generator[Fetched, None, None]: ...


def page_driver(fetcher: object, url: str, blocked: Blocked | None = None) -> PageDriver | None:
    """The browser reading ``url`` page-driven, or None for plain HTTP (see the module)."""
    choose = getattr(fetcher, "page_driver", None)
    driver: PageDriver | None = choose(url, blocked) if callable(choose) else None
    if driver is None and blocked is not None:
        raise blocked
    return driver


def plain_part(fetcher: Fetcher) -> Fetcher:
    """The plain-HTTP half of ``fetch = "auto"``; any other fetcher as it is."""
    plain: Fetcher | None = getattr(fetcher, "plain", None)
    return plain if plain is not None else fetcher
