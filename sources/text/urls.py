"""Links made absolute and canonical (``absolute_url``, ``canonical_url``).

Both are asked once or twice per record of every list page, so both take a
short cut that gives exactly what ``urljoin``/``urlsplit`` give: a link whose
last path segment is plain (no query, fragment, parameters, colon, space...)
is its folder's URL plus that segment, and the folder is joined and
canonicalised once per page (cached), not once per link.
"""

from __future__ import annotations

import html
import re
from functools import lru_cache
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

__all__ = ["absolute_url", "canonical_url"]

# Query parameters and path parameters that carry a session, not a document.
_SESSION_PARAMS = frozenset(
    {
        "jsessionid",
        "phpsessid",
        "sid",
        "sessionid",
        "session_id",
        "aspsessionid",
        "cfid",
        "cftoken",
        "_",
        "_t",
    }
)
_PATH_SESSION = re.compile(r";(?:jsessionid|phpsessid|sessionid)=[^/?#]*", re.IGNORECASE)

_CONTROLS = re.compile(r"[\x00-\x1f\x7f]")
# A last path segment that urljoin and urlsplit pass through as it is: no query,
# fragment, path parameters, colon (scheme), brackets, backslash, space or
# control character. After such a segment's "/", a URL is its directory's URL
# plus the segment, so the directory is joined (and canonicalised) once per list
# page, not once per link.
_PLAIN_SEGMENT = re.compile(r"[^\x00-\x20\x7f/?#;:\[\]\\]*")


def absolute_url(base: str, href: str | None) -> str | None:
    """``href`` resolved against ``base``: an http(s) URL, or None (empty, ``#``, and every
    other scheme: ``javascript:``, ``mailto:``, ``data:``...). Control characters are
    stripped first, the way browsers read a link, so ``\x01javascript:`` is caught."""
    if not href:
        return None
    href = _CONTROLS.sub("", html.unescape(href)).strip()
    if not href or href == "#":
        return None
    folder, tail = _split_last(href)
    if folder is None:
        return _joined(base, href)
    joined = _joined_folder(base, folder)
    return None if joined is None else joined + tail


def _split_last(url: str) -> tuple[str | None, str]:
    """(everything up to the last "/", the plain segment after it), or (None, "")
    when the last segment is not plain, the URL has a query or fragment, or the
    "/" ends a "//" (where a host may follow)."""
    cut = url.rfind("/")
    if cut < 0 or url[cut - 1 : cut] == "/" or "?" in url or "#" in url:
        return None, ""
    tail = url[cut + 1 :]
    if tail in (".", "..") or not _PLAIN_SEGMENT.fullmatch(tail):
        return None, ""
    return url[: cut + 1], tail


def _joined(base: str, href: str) -> str | None:
    joined = urljoin(base, href)
    if urlsplit(joined).scheme.lower() not in ("http", "https"):
        return None
    return joined


@lru_cache(maxsize=1024)  # a list page's links share a few folders
def _joined_folder(base: str, folder: str) -> str | None:
    return _joined(base, folder)


@lru_cache(maxsize=8192)  # pure, and asked 2-3 times per record (key, url, attachments)
def canonical_url(url: str, *, keep_fragment: bool = False) -> str:
    """``url`` without session tokens (``;jsessionid=…``, ``?sid=…``) and, unless
    ``keep_fragment``, without its ``#fragment``; scheme and host lower-cased."""
    folder, tail = _split_last(url)
    if folder is not None:  # the host ends before the last segment, which has no session token
        return _canonical_folder(folder) + tail
    return _canonical(url, keep_fragment)


@lru_cache(maxsize=1024)
def _canonical_folder(folder: str) -> str:
    return _canonical(folder, False)


def _canonical(url: str, keep_fragment: bool) -> str:
    parts = urlsplit(url)
    path = _PATH_SESSION.sub("", parts.path)
    pairs = parse_qsl(parts.query, keep_blank_values=True)
    kept = [(k, v) for k, v in pairs if not _is_session_param(k)]
    query = parts.query if len(kept) == len(pairs) else urlencode(kept)
    fragment = parts.fragment if keep_fragment else ""
    return urlunsplit((parts.scheme.lower(), parts.netloc.lower(), path, query, fragment))


def _is_session_param(name: str) -> bool:
    lowered = name.lower()
    return lowered in _SESSION_PARAMS or lowered.startswith("utm_")
