"""Routing, rendering and sending alerts (apprise). Imports no other project package.

routes_for(alert, routes)      which [[notify]] routes get an alert
render_alert / render_digest   Jinja2 templates -> Message(title, body, format)
send_alert / send_digest       render per URL, cut to the service's limit, send
"""

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from notifiers.errors import DigestSpecError, NotifierError, TemplateError
    from notifiers.render import (
        Message,
        cut_to,
        fit,
        format_for,
        limit_for,
        render_alert,
        render_digest,
    )
    from notifiers.routes import DigestSchedule, Match, Route, parse_digest, routes_for
    from notifiers.send import (
        SendResult,
        check_urls,
        send,
        send_alert,
        send_digest,
        send_message,
        send_to,
    )
    from notifiers.services import privacy_url
    from notifiers.types import ALERT_KINDS, Alert

# what each name is imported from: loaded on first use, so a `check` that only needs
# notifiers.redact (or the route model) does not import apprise and Jinja2
_HOME = {
    "ALERT_KINDS": "notifiers.types",
    "Alert": "notifiers.types",
    "DigestSchedule": "notifiers.routes",
    "DigestSpecError": "notifiers.errors",
    "Match": "notifiers.routes",
    "Message": "notifiers.render",
    "NotifierError": "notifiers.errors",
    "Route": "notifiers.routes",
    "SendResult": "notifiers.send",
    "TemplateError": "notifiers.errors",
    "check_urls": "notifiers.send",
    "cut_to": "notifiers.render",
    "fit": "notifiers.render",
    "format_for": "notifiers.render",
    "limit_for": "notifiers.render",
    "parse_digest": "notifiers.routes",
    "privacy_url": "notifiers.services",
    "render_alert": "notifiers.render",
    "render_digest": "notifiers.render",
    "routes_for": "notifiers.routes",
    "send": "notifiers.send",
    "send_alert": "notifiers.send",
    "send_digest": "notifiers.send",
    "send_message": "notifiers.send",
    "send_to": "notifiers.send",
}


def __getattr__(name: str) -> Any:
    import importlib

    if name not in _HOME:
        raise AttributeError(f"module 'notifiers' has no attribute {name!r}")
    value = getattr(importlib.import_module(_HOME[name]), name)
    globals()[name] = value
    return value


__all__ = [
    "ALERT_KINDS",
    "Alert",
    "DigestSchedule",
    "DigestSpecError",
    "Match",
    "Message",
    "NotifierError",
    "Route",
    "SendResult",
    "TemplateError",
    "check_urls",
    "cut_to",
    "fit",
    "format_for",
    "limit_for",
    "parse_digest",
    "privacy_url",
    "render_alert",
    "render_digest",
    "routes_for",
    "send",
    "send_alert",
    "send_digest",
    "send_message",
    "send_to",
]
