"""Recognise a bot challenge or block page, so it is never read as content.

``detect_block(status, headers, body, url, expect)`` is a pure function: it
returns a short reason a person can read ("Ruishu JavaScript challenge
(HTTP 202)") or None when the response looks like real content. What it
knows (see docs/sources.md):

- **Ruishu / 瑞数** (CDE, NMPA, NHC): HTTP 202 or 412 with obfuscated
  JavaScript holding ``$_ts``, ``$_ts.cd`` / ``$_ts.nsd`` and a
  ``<meta id="9DhefwqGPrzGxEp9hPaoag">``. A 412 is a challenge even without
  the markers (we never send ``If-Match``). A 200 page that is nothing but
  the challenge script counts too.
- **Akamai** (FDA): a redirect to ``/apology_objects/abuse-detection-apology.html``
  — the redirect itself is the block, whatever the apology URL then returns.
  Akamai's "Access Denied … Reference #" page too.
- **Cloudflare-like** interstitials: "Just a moment…", ``cf-chl`` /
  ``challenge-platform`` scripts, ``cf-mitigated: challenge``.
- **403 block pages**: CDE's "请不要使用非法的URL地址访问" and common WAF
  wording. A bare 403 without such wording is left to the caller (an
  ordinary HTTP error).
- **Refused calls**: HTTP 400 "非法url，被拒绝访问" (Ruishu, a request its
  script did not sign).
- **The wrong kind of body**: HTML where JSON or an XML feed was expected.
  A body that is not JSON at all (``expect="json"``) is reported too.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from sources.types import Expect

BROWSER_HINT = 'this site needs a browser: set fetch = "auto" or "browser" for this source'

_SCAN_BYTES = 65536

_RUISHU_MARKERS: tuple[bytes, ...] = (
    b"$_ts",
    b"9DhefwqGPrzGxEp9hPaoag",
)
_AKAMAI_APOLOGY = "/apology_objects/"
_CHALLENGE_MARKERS: tuple[bytes, ...] = (
    b"<title>just a moment",
    b"cf-chl",
    b"cf_chl_opt",
    b"/cdn-cgi/challenge-platform/",
    b"checking your browser before accessing",
    b"enable javascript and cookies to continue",
    b"ddos protection by",
)
_BLOCK_PAGE_MARKERS: tuple[bytes, ...] = (
    "请不要使用非法的url地址访问".encode(),
    "请不要使用非法的url地址访问".encode("gb18030"),
    "访问被拒绝".encode(),
    "您的访问被阻断".encode(),
    "您的请求带有不合法参数".encode(),
    b"<title>access denied</title>",
    b"you don't have permission to access",
    b"request unsuccessful. incapsula",
    b"the requested url was rejected",
    b"web application firewall",
)
# Ruishu's answer to a call its hook did not sign (docs/sources.md: "非法url，被拒绝访问").
_REFUSED_CALL = "非法url，被拒绝访问".encode()
_TAGS = re.compile(
    rb"<script\b.*?</script\s*>|<style\b.*?</style\s*>|<[^>]*>", re.DOTALL | re.IGNORECASE
)
_SPACE = re.compile(rb"\s+")


def _header(headers: Mapping[str, str], name: str) -> str:
    for key, value in headers.items():
        if key.lower() == name:
            return value
    return ""


def _head(body: bytes) -> bytes:
    return body[:_SCAN_BYTES].lower()


def _visible_text_length(body: bytes) -> int:
    return len(_SPACE.sub(b"", _TAGS.sub(b" ", body[:_SCAN_BYTES])))


def _looks_like_html(body: bytes) -> bool:
    start = body[:1024].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    return start.startswith((b"<!doctype html", b"<html", b"<head", b"<body", b"<script", b"<meta"))


def _first_char(body: bytes) -> bytes:
    return body[:1024].lstrip(b"\xef\xbb\xbf \t\r\n")[:1]


def is_ruishu(body: bytes) -> bool:
    """True when the body carries the Ruishu (瑞数) challenge script."""
    head = body[:_SCAN_BYTES]
    return any(marker in head for marker in _RUISHU_MARKERS)


def detect_block(
    status: int,
    headers: Mapping[str, str],
    body: bytes,
    url: str,
    expect: Expect,
) -> str | None:
    """Why this response is a block rather than content, or None.

    ``headers`` may be any mapping (case is ignored); ``body`` may be empty
    (a redirect); ``url`` is the URL this response came from.
    """
    location = _header(headers, "location")
    if _AKAMAI_APOLOGY in location or _AKAMAI_APOLOGY in url:
        return "Akamai abuse-detection redirect (apology page)"
    if 300 <= status < 400:
        return None
    head = _head(body)
    reason = _challenge_status(status, body) or _block_page(status, headers, head)
    if reason or status >= 400:
        return reason
    if is_ruishu(body) and _visible_text_length(body) < 200:
        return f"Ruishu JavaScript challenge (HTTP {status})"
    return _wrong_content(body, expect)


def _challenge_status(status: int, body: bytes) -> str | None:
    """202 and 412: the statuses Ruishu-guarded sites answer a robot with."""
    if status not in (202, 412):
        return None
    if is_ruishu(body):
        return f"Ruishu JavaScript challenge (HTTP {status})"
    if status == 412:
        return "HTTP 412 bot challenge"
    if _looks_like_html(body) and _visible_text_length(body) < 200:
        return "HTTP 202 with a script-only page (bot challenge)"
    return None


def _block_page(status: int, headers: Mapping[str, str], head: bytes) -> str | None:
    """A browser-check page (any status), a 403 block page, a refused unsigned call."""
    if _header(headers, "cf-mitigated").lower() == "challenge" or any(
        marker in head for marker in _CHALLENGE_MARKERS
    ):
        return f"browser-check challenge page (HTTP {status})"
    if status == 403 and any(marker in head for marker in _BLOCK_PAGE_MARKERS):
        if "请不要使用非法".encode() in head or "请不要使用非法".encode("gb18030") in head:
            return "blocked by the site (HTTP 403: 请不要使用非法的URL地址访问)"
        return "blocked by the site (HTTP 403 block page)"
    if status == 400 and _REFUSED_CALL in head:
        return "the site refused the call (HTTP 400: 非法url，被拒绝访问; an unsigned request)"
    return None


def _wrong_content(body: bytes, expect: Expect) -> str | None:
    """A healthy-looking answer of the wrong kind (HTML for JSON or a feed)."""
    if expect == "json":
        if _looks_like_html(body) or _first_char(body) == b"<":
            return "HTML where JSON was expected"
        if _first_char(body) not in (b"{", b"["):
            return "the response is not JSON"
    elif expect == "xml" and _looks_like_html(body):
        return "HTML where an XML feed was expected"
    return None
