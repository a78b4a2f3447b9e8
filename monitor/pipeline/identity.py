"""Record identity relative to the source's own site.

A regulator site that moves to https, or to a new host name, still publishes
the same documents. Keys (and URLs, for comparison) are therefore taken
relative to the source: ``http://www.nmpa.gov.cn/xxgk/a.html`` and
``https://nmpa.gov.cn/xxgk/a.html`` are both ``/xxgk/a.html`` for a source on
that site. A link to another site keeps its host but loses its scheme
(``//other.example/a``), so an http→https switch there is no change either.
Keys that are not URLs (an FDA slug, an EMA id) are kept as they are; a
Drupal feed GUID (``2552 at https://www.ema.europa.eu``) loses its site part
the same way.

Databases written before this rule hold absolute keys; the pipeline maps
stored keys through ``relative_key`` when it loads them, so they keep
matching (and renames them in place).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

if TYPE_CHECKING:
    from monitor.pipeline.recording import RecordingFetcher

# Drupal feeds (EMA's) give ``<guid>2552 at https://www.ema.europa.eu</guid>``
_DRUPAL_GUID = re.compile(r"^(?P<id>\S+) at (?P<url>https?://\S+)$")


def host_of(url: str) -> str:
    """The host name without ``www.``, lower case ("" when ``url`` has none)."""
    try:
        host = urlsplit(url).hostname or ""
    except ValueError:
        return ""
    return host.removeprefix("www.")


def site_hosts(urls: Iterable[str | None]) -> frozenset[str]:
    """The hosts that are the source's own site: the configured URL, the
    adapter's base URL and every URL the site's answers came from."""
    return frozenset(h for h in (host_of(u) for u in urls if u) if h)


@lru_cache(maxsize=8192)  # pure; asked 2-3 times per record (its key, url and files)
def relative_key(key: str, hosts: frozenset[str]) -> str:
    """``key`` without scheme, and without host when the host is the source's own."""
    drupal = _DRUPAL_GUID.match(key)
    if drupal:
        return f"{drupal['id']} at {relative_key(drupal['url'], hosts)}"
    if not key.startswith(("http://", "https://")):
        return key
    try:
        parts = urlsplit(key)
        host = (parts.hostname or "").removeprefix("www.")
        port = parts.port
    except ValueError:
        return key
    path = parts.path or "/"
    rest = (
        path
        + (f"?{parts.query}" if parts.query else "")
        + (f"#{parts.fragment}" if parts.fragment else "")
    )
    if host in hosts:
        return rest
    return f"//{host}{f':{port}' if port else ''}{rest}"


MAX_HOSTS = 16  # host names remembered per source (a site moves rarely)


def moved_state(configured: str, moved_to: str, fetcher: RecordingFetcher) -> tuple[str, str]:
    """The source's ``moved_to`` after this run, and the origin a "moved" notice
    is owed for ("" when none is): the list answering from another scheme or host
    than ``configured``, said once per move (``moved_to``: where it said so last)."""
    if not fetcher.responses or not configured:
        return moved_to, ""
    answered = origin(fetcher.responses[0].url)
    if answered == origin(configured) or not answered:
        return "", ""
    return answered, "" if answered == moved_to else answered


def origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else ""
