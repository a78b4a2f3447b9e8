"""Send rendered messages through apprise, one URL at a time.

Each URL gets its own ``apprise.Apprise`` object, so the result says which
URL worked and which did not, and why. apprise answers ``False`` on
failure and logs the reason; ``send`` captures that log (see ``_capture``)
and returns it with every secret replaced by apprise's privacy form. Sending
never raises for a failed delivery.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from notifiers._capture import capture, reasons
from notifiers.redact import redact
from notifiers.render import Message, fit, format_for, render_alert, render_digest
from notifiers.routes import Route
from notifiers.services import check_urls, instantiate, masked, scrub
from notifiers.types import Alert

__all__ = [
    "SendResult",
    "check_urls",
    "send",
    "send_alert",
    "send_digest",
    "send_message",
    "send_to",
]

if TYPE_CHECKING:  # apprise itself is imported when a message is sent, not before
    import apprise

_FORMATS = {"text": "TEXT", "markdown": "MARKDOWN", "html": "HTML"}  # apprise.NotifyFormat


@dataclass(frozen=True)
class SendResult:
    """The outcome for one URL. ``url`` is the privacy form; ``error`` is secret-free."""

    ok: bool
    url: str
    error: str | None = None


def _asset() -> apprise.AppriseAsset:
    import apprise

    # Synchronous: the plugin runs in this thread, so its log lands in our capture.
    return apprise.AppriseAsset(async_mode=False)


def send_to(url: str, message: Message, *, timeout: float = 30) -> SendResult:
    """Send ``message`` (as is, not cut) to one apprise URL."""
    import apprise

    plugin, why = instantiate(url, asset=_asset())
    if plugin is None:
        return SendResult(ok=False, url=masked(url), error=f"apprise cannot use this URL: {why}")
    privacy = str(plugin.url(privacy=True))
    for attribute in ("socket_connect_timeout", "socket_read_timeout"):
        if hasattr(plugin, attribute):
            setattr(plugin, attribute, timeout)
    notifier = apprise.Apprise(asset=_asset())
    notifier.add(plugin)
    message = replace(message, title=redact(message.title), body=redact(message.body))
    error: str | None = None
    with capture() as records:
        try:
            ok = bool(
                notifier.notify(
                    body=message.body,
                    title=message.title,
                    body_format=getattr(apprise.NotifyFormat, _FORMATS[message.format]),
                )
            )
        except Exception as exc:  # noqa: BLE001 - a plugin bug must not stop the dispatcher
            ok = False
            error = f"{type(exc).__name__}: {exc}"
    if not ok:
        error = error or reasons(records) or "apprise reported a failure without a reason"
        error = scrub(error, url, privacy)
    return SendResult(ok=ok, url=privacy, error=error)


def send_message(url: str, message: Message, *, timeout: float = 30) -> SendResult:
    """Cut ``message`` to ``url``'s limit and send it there."""
    return send_to(url, fit(message, url), timeout=timeout)


def send(route: Route, message: Message, *, timeout: float = 30) -> list[SendResult]:
    """Send one message to every URL of ``route``, cut to each service's limit."""
    return [send_message(url, message, timeout=timeout) for url in route.urls]


def _format(route: Route, url: str) -> str:
    return format_for(url) if route.format == "auto" else route.format


def send_alert(route: Route, alert: Alert, *, timeout: float = 30) -> list[SendResult]:
    """Render ``alert`` in each URL's format (or the route's), cut it, send it."""
    rendered: dict[str, Message] = {}
    results = []
    for url in route.urls:
        fmt = _format(route, url)
        if fmt not in rendered:
            rendered[fmt] = render_alert(alert, fmt=fmt, templates_dir=route.templates)
        results.append(send_message(url, rendered[fmt], timeout=timeout))
    return results


def send_digest(
    route: Route, alerts: Sequence[Alert], *, title: str, timeout: float = 30
) -> list[SendResult]:
    """Render a digest of ``alerts`` for each URL of ``route`` and send it."""
    rendered: dict[str, Message] = {}
    results = []
    for url in route.urls:
        fmt = _format(route, url)
        if fmt not in rendered:
            rendered[fmt] = render_digest(
                alerts, fmt=fmt, title=title, templates_dir=route.templates
            )
        results.append(send_message(url, rendered[fmt], timeout=timeout))
    return results
