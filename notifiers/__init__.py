"""Routing, rendering and sending alerts (apprise). Imports no other project package.

routes_for(alert, routes)      which [[notify]] routes get an alert
render_alert / render_digest   Jinja2 templates -> Message(title, body, format)
send_alert / send_digest       render per URL, cut to the service's limit, send
"""

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
