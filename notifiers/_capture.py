"""Capture what apprise logs while it handles one URL, without leaking it.

apprise reports a failed delivery as ``False`` and writes the reason to its
``"apprise"`` logger; the useful detail (``Socket Exception: (535, …)``) is
often at DEBUG. ``capture()`` collects the records logged in the current
context (thread or task) and nothing else, so concurrent sends keep their
own reasons. While any capture is active the apprise logger is lowered to
DEBUG and a filter holds back every record below the level the application
had configured, so the application's own log handlers see exactly what they
saw before.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

_LOGGER = logging.getLogger("apprise")
_sink: ContextVar[list[logging.LogRecord] | None] = ContextVar("notifiers_capture", default=None)
_hide: ContextVar[tuple[tuple[str, str], ...]] = ContextVar("notifiers_hide", default=())
_lock = threading.Lock()
_active = 0
_saved_level = logging.NOTSET
_user_level = logging.WARNING


class _Gate(logging.Filter):
    """Copy records into the active capture; pass on what the app asked for."""

    def filter(self, record: logging.LogRecord) -> bool:
        hide = _hide.get()
        if hide:
            try:
                message = record.getMessage()
            except (TypeError, ValueError):
                message = str(record.msg)
            for secret, shown in hide:
                if secret:
                    message = message.replace(secret, shown)
            record.msg, record.args = message, ()
        sink = _sink.get()
        if sink is not None:
            sink.append(record)
        return record.levelno >= _user_level


_GATE = _Gate()


def _enter() -> None:
    global _active, _saved_level, _user_level
    with _lock:
        if _active == 0:
            _saved_level = _LOGGER.level
            _user_level = _LOGGER.getEffectiveLevel()
            _LOGGER.addFilter(_GATE)
            _LOGGER.setLevel(logging.DEBUG)
        _active += 1


def _exit() -> None:
    global _active
    with _lock:
        _active -= 1
        if _active == 0:
            _LOGGER.setLevel(_saved_level)
            _LOGGER.removeFilter(_GATE)


@contextmanager
def capture(hide: tuple[tuple[str, str], ...] = ()) -> Iterator[list[logging.LogRecord]]:
    """Collect apprise's log records of this context into the yielded list.

    ``hide``: (text, shown instead) pairs replaced in every record of the block
    before any log handler sees it (a URL apprise has not parsed yet)."""
    records: list[logging.LogRecord] = []
    token = _sink.set(records)
    hidden = _hide.set(hide)
    _enter()
    try:
        yield records
    finally:
        _exit()
        _hide.reset(hidden)
        _sink.reset(token)


# DEBUG lines worth keeping in a failure reason; the rest (payload dumps,
# "Language set to en") is noise.
_DETAIL_PREFIXES = ("Socket Exception", "Response Details", "Exception", "Error")


def reasons(records: list[logging.LogRecord], *, limit: int = 600) -> str:
    """Join the warnings and error details of ``records`` into one line."""
    lines: list[str] = []
    for record in records:
        try:
            message = " ".join(record.getMessage().split())
        except (TypeError, ValueError):  # a malformed log call inside apprise
            message = str(record.msg)
        keep = record.levelno >= logging.WARNING or message.startswith(_DETAIL_PREFIXES)
        if keep and message and message not in lines:
            lines.append(message[:limit])
    return "; ".join(lines)
