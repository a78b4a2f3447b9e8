"""apprise URLs: parsing, privacy form, and each service's format and size limit.

Everything that needs to know about a notification *service* (Slack, WeCom,
e-mail, …) rather than about an alert lives here. The per-service table is
data (``services.toml``); a service it does not list gets plain text and
the body limit apprise declares for it.
"""

from __future__ import annotations

import re
import threading
import tomllib
import warnings
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, Literal
from urllib.parse import unquote

from notifiers import url_cache
from notifiers._capture import capture, reasons
from notifiers.redact import register_url

SERVICES_FILE = Path(__file__).with_name("services.toml")
Format = Literal["text", "markdown", "html"]
CUT_MARK = "… (cut)"

_load_lock = threading.Lock()
_loaded = False


def _ensure_plugins() -> None:
    """Load apprise's plugins once, silencing the DeprecationWarnings some emit.

    apprise's e-mail plugin imports ``imghdr`` (deprecated since Python 3.11);
    under ``-W error`` that import would fail and e-mail would be unusable.
    """
    global _loaded
    import apprise  # here, not at the top: a check without [[notify]] routes never needs it

    with _load_lock:
        if _loaded:
            return
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            apprise.Apprise.instantiate("json://localhost", suppress_exceptions=True)
        _loaded = True


def instantiate(url: str, asset: Any = None) -> tuple[Any | None, str]:
    """apprise's plugin object for ``url`` (or None) and why it failed, secret-free."""
    import apprise

    _ensure_plugins()
    tail = url.partition("://")[2]
    with capture(hide=((url, masked(url)), (tail, "…"))) as records:
        try:
            plugin = apprise.Apprise.instantiate(url, asset=asset, suppress_exceptions=True)
        except Exception as exc:  # noqa: BLE001 - apprise promises not to raise; be safe
            plugin = None
            records_text = f"{type(exc).__name__}: {exc}"
        else:
            records_text = ""
    if plugin is not None:
        found: Any = plugin
        register_url(url, str(found.url(privacy=True)))
        return plugin, ""
    register_url(url, None)
    url_cache.drop(url)  # accepted by an earlier run, maybe: asked again next time
    why = reasons(records) or records_text or "unknown service or missing token"
    why = why.replace(url, masked(url))
    password = _password(url)
    return None, why.replace(password, "****") if password else why


def _password(url: str) -> str:
    """The password of ``scheme://user:password@host``, if any (to keep it out of errors)."""
    match = re.match(r"^[^:/]+://[^/@]*?:([^/@]+)@", url)
    return unquote(match.group(1)) if match else ""


def scheme(url: str) -> str:
    match = re.match(r"^\s*([A-Za-z][A-Za-z0-9+.-]*)://", url)
    return match.group(1).lower() if match else ""


def masked(url: str) -> str:
    """What to show for a URL apprise cannot parse: its scheme only."""
    found = scheme(url)
    return f"{found}://…" if found else "(not a URL)"


def privacy_url(url: str) -> str:
    """apprise's privacy form (``mailto://user:****@host``), or ``scheme://…``."""
    known = url_cache.accepted(url)
    if known is not None:
        return known
    plugin, _ = instantiate(url)
    if plugin is None:
        return masked(url)
    return str(plugin.url(privacy=True))


_HEADER_SCHEMES = {"json", "jsons", "xml", "xmls", "form", "forms"}
_MAIL_SCHEMES = {"mailto", "mailtos"}


def with_delivery_key(url: str, key: str) -> str:
    """``url`` with apprise's ``+Header=value`` parameters that carry ``key``:
    ``X-Regwatch-Delivery`` and ``Idempotency-Key`` for webhooks, ``X-Regwatch-Delivery``
    for email; other services take no custom header and get ``url`` unchanged."""
    found = scheme(url)
    if found in _HEADER_SCHEMES:
        extra = f"+X-Regwatch-Delivery={key}&+Idempotency-Key={key}"
    elif found in _MAIL_SCHEMES:
        extra = f"+X-Regwatch-Delivery={key}"
    else:
        return url
    base, _, fragment = url.partition("#")
    joined = f"{base}{'&' if '?' in base else '?'}{extra}"
    return f"{joined}#{fragment}" if fragment else joined


def check_urls(urls: list[str] | tuple[str, ...]) -> list[str]:
    """One error per URL apprise cannot use: ``"urls[1] (foo://…): why"``."""
    errors = []
    for index, url in enumerate(urls):
        if url_cache.accepted(url) is not None:  # accepted before: apprise not loaded
            continue
        plugin, why = instantiate(url)
        if plugin is None:
            errors.append(f"urls[{index}] ({masked(url)}): apprise cannot use this URL: {why}")
        else:
            url_cache.remember(url, str(plugin.url(privacy=True)))
    return errors


def secrets_of(url: str, privacy: str) -> list[str]:
    """The pieces of ``url`` its privacy form hides (passwords, tokens), longest first."""
    split = re.compile(r"[/:@?&=#,;+\s]+")
    shown = {unquote(part) for part in split.split(unquote(privacy))}
    hidden = {part for part in split.split(unquote(url)) if len(part) >= 3 and part not in shown}
    hidden -= {scheme(url)}
    return sorted(hidden, key=len, reverse=True)


def scrub(text: str, url: str, privacy: str) -> str:
    """``text`` with the raw URL and every hidden piece of it replaced."""
    text = text.replace(url, privacy)
    for secret in secrets_of(url, privacy):
        text = text.replace(secret, "****")
    return text


@dataclass(frozen=True)
class ServiceInfo:
    """How one URL's service gets its messages."""

    service: str  # apprise's id, e.g. "slack", "mailto", "wecombot"
    format: Format
    limit: int
    unit: Literal["chars", "bytes"]
    title_in_body: bool  # the service has no title: apprise puts it on top of the body


@cache
def _table() -> dict[str, Any]:
    with SERVICES_FILE.open("rb") as handle:
        return tomllib.load(handle)


def _service_id(plugin: Any) -> str:
    for attribute in ("protocol", "secure_protocol"):
        value = getattr(plugin, attribute, None)
        if isinstance(value, (tuple, list)) and value:
            return str(value[0])
        if isinstance(value, str) and value:
            return value
    return ""


def service_info(url: str) -> ServiceInfo:
    """Format, limit and unit for ``url``, from services.toml or apprise's plugin."""
    plugin, _ = instantiate(url)
    service = _service_id(plugin) if plugin is not None else scheme(url)
    table = _table()
    default = table["default"]
    entry = {**default, **table["service"].get(service, {})}
    limit = int(entry["limit"])
    if service not in table["service"] and plugin is not None:
        limit = min(limit, int(getattr(plugin, "body_maxlen", limit)) or limit)
    title_maxlen = getattr(plugin, "title_maxlen", 1) if plugin is not None else 1
    return ServiceInfo(
        service=service,
        format=entry["format"],
        limit=limit,
        unit=entry["unit"],
        title_in_body=title_maxlen == 0,
    )


def format_for(url: str) -> Format:
    """markdown for chat, html for e-mail, text for webhooks and anything else."""
    return service_info(url).format


def limit_for(url: str) -> int:
    """The largest body regwatch sends to ``url`` (see ``counts_bytes``)."""
    return service_info(url).limit


def counts_bytes(url: str) -> bool:
    """True when the service measures its limit in UTF-8 bytes (WeCom, DingTalk, …)."""
    return service_info(url).unit == "bytes"


def size(text: str, *, in_bytes: bool = False) -> int:
    return len(text.encode("utf-8")) if in_bytes else len(text)


def _head(text: str, limit: int, in_bytes: bool) -> str:
    if not in_bytes:
        return text[:limit]
    return text.encode("utf-8")[:limit].decode("utf-8", errors="ignore")


def cut_to(text: str, limit: int, *, in_bytes: bool = False) -> str:
    """``text`` if it fits in ``limit``, else whole lines that fit and ``"… (cut)"``.

    With ``in_bytes`` the limit counts UTF-8 bytes, never splitting a
    character. A first line longer than the limit is cut inside the line.
    """
    if size(text, in_bytes=in_bytes) <= limit:
        return text
    mark = "\n" + CUT_MARK
    budget = limit - size(mark, in_bytes=in_bytes)
    if budget <= 0:
        return _head(text, max(limit, 0), in_bytes)
    kept: list[str] = []
    used = 0
    for line in text.split("\n"):
        cost = size(line, in_bytes=in_bytes) + (1 if kept else 0)
        if used + cost > budget:
            break
        kept.append(line)
        used += cost
    body = "\n".join(kept).rstrip()
    if not body:
        body = _head(text, budget, in_bytes).rstrip()
    return body + mark
