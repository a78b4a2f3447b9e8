"""Secrets never shown: one process-wide list of secret strings, masked in every output.

What goes in (``register``): the value of every ``${NAME}`` the configuration
expands into a ``[store]``, ``[[source]]`` or ``[[notify]]`` table (feed keys
in source URLs and headers, webhook tokens, database passwords), and the
pieces of every notify URL that apprise's privacy form hides
(``register_url``). Each is registered with its percent-encoded and
HTML-escaped forms, so a URL as httpx prints it or as a web page shows it is
masked too.

Where it is applied (``redact``): every log record of every logger at every
level, apprise's debug and error lines included (``install_logging``
replaces the log record factory, so a record is clean before any handler or
filter sees it, exception text too); the CLI's output; ``/healthz``; the web
UI; every message sent through apprise. A secret shows as ``${NAME}`` when
it came from the environment, else as ``****``.

Values shorter than four characters are not registered: masking them would
garble ordinary text more than it protects.
"""

from __future__ import annotations

import html
import logging
import re
import threading
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

__all__ = ["install_logging", "redact", "redact_bytes", "register", "register_url"]

MIN_LENGTH = 4

_lock = threading.Lock()
_secrets: dict[str, str] = {}  # secret text -> what to show instead
_pattern: re.Pattern[str] | None = None
_installed = False


def register(value: str, shown: str = "****") -> None:
    """Mask ``value`` (and its encoded forms) as ``shown`` in every output from now on."""
    global _pattern
    if len(value) < MIN_LENGTH:
        return
    forms = {
        value,
        quote(value, safe=""),
        quote(value, safe="/:@"),
        html.escape(value),
        html.escape(quote(value, safe="/:@=&?")),
    }
    with _lock:
        changed = False
        for form in forms:
            if len(form) >= MIN_LENGTH and form not in _secrets:
                _secrets[form] = shown
                changed = True
        if changed:
            ordered = sorted(_secrets, key=len, reverse=True)
            _pattern = re.compile("|".join(re.escape(s) for s in ordered))
    install_logging()


def register_url(url: str, privacy: str | None) -> None:
    """Mask what ``privacy`` (apprise's privacy form of ``url``) hides; a URL apprise
    cannot read at all is masked whole after its scheme."""
    from notifiers.services import secrets_of

    if privacy is None:
        _, sep, rest = url.partition("://")
        register(rest if sep else url)
        return
    for secret in secrets_of(url, privacy):
        register(secret)


def redact(text: str) -> str:
    """``text`` with every registered secret replaced."""
    pattern = _pattern
    if pattern is None or not text:
        return text
    return pattern.sub(lambda m: _secrets.get(m.group(0), "****"), text)


def redact_bytes(data: bytes) -> bytes:
    """``redact`` for UTF-8 bytes (an HTTP response body)."""
    if _pattern is None:
        return data
    text = data.decode("utf-8", errors="surrogateescape")
    clean = redact(text)
    return data if clean == text else clean.encode("utf-8", errors="surrogateescape")


def _clean(record: logging.LogRecord) -> logging.LogRecord:
    if _pattern is None:
        return record
    try:
        message = record.getMessage()
    except (TypeError, ValueError):
        message = str(record.msg)
    clean = redact(message)
    if clean != message:
        record.msg, record.args = clean, ()
    if record.exc_info and record.exc_info[0] is not None:
        record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
    return record


def install_logging() -> None:
    """Make every log record pass through ``redact`` (idempotent)."""
    global _installed
    with _lock:
        if _installed:
            return
        previous: Callable[..., logging.LogRecord] = logging.getLogRecordFactory()

        def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
            return _clean(previous(*args, **kwargs))

        logging.setLogRecordFactory(factory)
        _installed = True
