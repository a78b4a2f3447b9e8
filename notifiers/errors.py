"""Errors raised by the notifiers package.

The tree::

    NotifierError               anything that went wrong while routing or rendering
    ├── DigestSpecError         a ``digest = "…"`` schedule that cannot be read
    │                           (also a ValueError, so pydantic reports it on the field)
    └── TemplateError           a message template is missing, does not parse,
                                or uses a name the alert does not provide

Sending never raises for a failed delivery: ``send`` returns one
``SendResult`` per URL with ``ok`` and a secret-free reason, and the
dispatcher decides about retries.
"""

from __future__ import annotations


class NotifierError(Exception):
    """Base class of everything the notifiers package raises."""


class DigestSpecError(NotifierError, ValueError):
    """A digest schedule such as ``"daily 09:00 Asia/Shanghai"`` is malformed."""


class TemplateError(NotifierError):
    """A template could not be loaded or rendered.

    ``template`` names the file, ``line`` the line when known.
    """

    def __init__(self, message: str, *, template: str = "", line: int | None = None) -> None:
        where = template + (f" line {line}" if line else "")
        super().__init__(f"{where}: {message}" if where else message)
        self.template = template
        self.line = line
