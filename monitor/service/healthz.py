"""The service's own health: ``GET /healthz`` and alerts about the database.

``HealthServer`` is a tiny ``http.server`` in a daemon thread (bound to
127.0.0.1 by default: ``[service] listen``; ``listen = "off"`` turns it off).
``GET /healthz`` answers JSON::

    {"status": "ok" | "failing", "problems": [...],
     "scheduler": {"running": true, "jobs": [{"id", "next_run"}]},
     "store": {"writable": true, "error": "", "since": null},
     "sources": [{"name", "last_outcome", "last_run_at", "consecutive_failures", ...}]}

with HTTP 200, or 503 when the scheduler is not running or the database
cannot be written.

``StoreHealth`` tracks whether the database can be written. When it cannot
(disk full, read-only file system, permissions), the usual path for a health
alert — a row in the outbox — is closed, so the alert is sent directly
through apprise to every route that takes ``health`` alerts, at most once
every ``repeat`` seconds (6 hours), and one "recovered" message follows the
first successful write. These direct messages are best effort: they are not
retried, and a crash loses them (the log line stays).
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from zoneinfo import ZoneInfo

from notifiers.redact import redact_bytes
from notifiers.render import format_for, render_alert
from notifiers.routes import Route, routes_for
from notifiers.send import send_message
from notifiers.types import Alert

log = logging.getLogger("regwatch.service")

Snapshot = Callable[[], tuple[int, dict[str, Any]]]
Sender = Callable[[Route, Alert], None]


def parse_listen(listen: str) -> tuple[str, int]:
    """``"127.0.0.1:8470"`` → ("127.0.0.1", 8470); ``"[::1]:8470"`` → ("::1", 8470);
    an empty host is 127.0.0.1. ``ValueError`` naming the value otherwise (no port,
    a port that is not a number or is above 65535). The one parser of ``HOST:PORT``
    for ``[service] listen``, ``[service] web`` and ``regwatch web --listen``."""
    host, sep, port = listen.strip().rpartition(":")
    if not sep or not port.isdigit() or int(port) > 65535:
        raise ValueError(f"listen {listen!r}: expected HOST:PORT with a port up to 65535")
    return host.strip("[]") or "127.0.0.1", int(port)


def health_listen(listen: str) -> tuple[str, int] | None:
    """``[service] listen``: ``HOST:PORT`` (see :func:`parse_listen`), or ``"off"``
    (also ``""``, ``"none"``, ``"no"``) for no health endpoint → None."""
    if listen.strip().lower() in ("", "off", "none", "no"):
        return None
    try:
        return parse_listen(listen)
    except ValueError:
        raise ValueError(
            f'[service] listen = {listen!r}: expected HOST:PORT (such as 127.0.0.1:8470) or "off"'
        ) from None


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, format: str, *args: object) -> None:
        return

    def do_GET(self) -> None:
        if self.path.split("?", 1)[0].rstrip("/") not in ("/healthz", ""):
            self._send(404, {"error": "not found; try /healthz"})
            return
        try:
            status, body = self.server.snapshot()
        except Exception as exc:  # noqa: BLE001 - the endpoint must answer
            status, body = 503, {"status": "failing", "problems": [f"health check failed: {exc}"]}
        self._send(status, body)

    def _send(self, status: int, body: dict[str, Any]) -> None:
        payload = redact_bytes(
            json.dumps(body, ensure_ascii=False, default=str, indent=1).encode("utf-8")
        )
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(payload)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(payload)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    snapshot: Snapshot


class HealthServer:
    """Serve ``snapshot()`` at ``/healthz`` on ``host:port`` (port 0: any free port)."""

    def __init__(self, host: str, port: int, snapshot: Snapshot) -> None:
        self._server = _Server((host, port), _Handler)
        self._server.snapshot = snapshot
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.2},
            name="healthz",
            daemon=True,
        )

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}/healthz"

    def start(self) -> HealthServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


def send_direct(route: Route, alert: Alert) -> None:
    """Render and send ``alert`` to every URL of ``route`` now (no outbox)."""
    for url in route.urls:
        fmt = route.format if route.format != "auto" else format_for(url)
        message = render_alert(alert, fmt=fmt, templates_dir=route.templates)
        result = send_message(url, message, timeout=15)
        if not result.ok:
            log.warning(
                "could not send the database health alert to %s: %s", result.url, result.error
            )


class StoreHealth:
    """Whether the database can be written, and alerts when that changes."""

    def __init__(self, *, repeat: float = 6 * 3600, sender: Sender = send_direct) -> None:
        self.repeat = repeat
        self.sender = sender
        self.error = ""
        self.since: datetime | None = None
        self.failures = 0
        self.alerts_sent = 0
        self._alerted_at: float | None = None
        self.frozen = False  # the database was lost: nothing clears the error
        self._lock = threading.Lock()

    @property
    def writable(self) -> bool:
        return not self.error

    def failed(self, error: str, routes: Sequence[Route]) -> None:
        """A write failed: log it clearly; alert the health routes (rate-limited)."""
        with self._lock:
            first = not self.error
            self.error = error
            self.failures += 1
            if first:
                self.since = datetime.now(UTC)
            due = self._alerted_at is None or time.monotonic() - self._alerted_at >= self.repeat
            if due:
                self._alerted_at = time.monotonic()
        if first:
            log.error(
                "cannot write the database: %s — checks and deliveries wait until it can "
                "be written again (disk full? read-only? permissions?)",
                error,
            )
        if due:
            self._send(
                self._alert(
                    "store",
                    "health",
                    "the database cannot be written",
                    f"the database cannot be written: {error}",
                    self.failures,
                ),
                routes,
            )

    def lost(self, error: str, routes: Sequence[Route]) -> None:
        """The database is not the one the service opened (deleted, replaced): a
        problem for good (``ok`` no longer clears it), with one alert saying so."""
        with self._lock:
            first = not self.frozen
            self.frozen = True
            self.error = error
            self.since = self.since or datetime.now(UTC)
        if first:
            log.error("%s", error)
            self._send(
                self._alert("store-lost", "health", "the database was lost", error, self.failures),
                routes,
            )

    def ok(self, routes: Sequence[Route]) -> None:
        """A write succeeded: clear the error; say "recovered" if an alert went out."""
        with self._lock:
            if self.frozen or not self.error:
                return
            error, failures = self.error, self.failures
            alerted = self._alerted_at is not None
            self.error, self.since, self.failures, self._alerted_at = "", None, 0, None
        log.info("the database can be written again (after %d failed writes: %s)", failures, error)
        if alerted:
            self._send(
                self._alert(
                    "store-ok",
                    "recovered",
                    "the database can be written again",
                    f"recovered after {failures} failed writes",
                ),
                routes,
            )

    @staticmethod
    def _alert(prefix: str, kind: str, title: str, detail: str, failures: int = 0) -> Alert:
        """A direct alert about the database itself (it has no change row)."""
        return Alert(
            id=f"{prefix}-{int(time.time())}",
            kind=kind,
            source="regwatch",
            regulator="regwatch",
            jurisdiction="",
            title=title,
            detected_at=datetime.now(UTC),
            change_kind="health",
            detail=detail,
            failures=failures,
        )

    def _send(self, alert: Alert, routes: Sequence[Route]) -> None:
        targets = routes_for(alert, routes)
        if not targets:
            log.warning(
                "no [[notify]] route takes %s alerts; the database problem is only "
                "in this log and /healthz",
                alert.kind,
            )
        for route in targets:
            try:
                self.sender(route, alert)
            except Exception:
                log.exception("sending the database health alert to %s failed", route.name)
        with self._lock:
            self.alerts_sent += len(targets)

    def as_dict(self) -> dict[str, Any]:
        return {
            "writable": self.writable,
            "error": self.error,
            "since": self.since.isoformat() if self.since else None,
            "failed_writes": self.failures,
        }


_TIME_KEYS = {"started_at", "next_run", "last_run_at", "last_ok_at", "since"}


def local_times(value: Any, zone: str, key: str = "") -> Any:
    """``/healthz`` times all in the configured zone (one offset, not a mix of
    the scheduler's +08:00 and the store's +00:00)."""
    if isinstance(value, dict):
        return {k: local_times(v, zone, k) for k, v in value.items()}
    if isinstance(value, list):
        return [local_times(v, zone, key) for v in value]
    if key in _TIME_KEYS and isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            return value
        if moment.tzinfo is not None:
            return moment.astimezone(ZoneInfo(zone)).isoformat()
    return value
