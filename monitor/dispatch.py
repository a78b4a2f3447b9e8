"""The dispatcher: sends queued deliveries (the outbox) with retries.

A delivery moves pending → sending → sent, or back to pending with an
exponential back-off, or to failed after ``delivery.max_attempts``. The
"sending" mark is committed before the service is called; a process killed in
that window leaves rows in "sending", which the next start puts back to
pending (at-least-once: the only way to lose nothing). Each URL of a route is
recorded once it succeeded, so a retry never repeats a URL that worked.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import col, select

from monitor.alerts import alert_from_json
from monitor.config import Config
from monitor.store import Store
from monitor.store.db import utcnow
from monitor.store.models import DeliveryRow
from notifiers.render import Message, format_for, render_alert, render_digest
from notifiers.routes import Route, parse_digest
from notifiers.send import send_message
from notifiers.types import Alert

log = logging.getLogger("regwatch.dispatch")


@dataclass
class DispatchResult:
    sent: int = 0
    failed: int = 0
    retrying: int = 0


class Dispatcher:
    def __init__(self, config: Config, store: Store, *,
                 now: Callable[[], datetime] = utcnow) -> None:
        self.config, self.store, self.now = config, store, now
        self.routes = {route.name: route for route in config.routes}

    def recover(self) -> int:
        """Put deliveries left in "sending" by a killed process back to pending."""
        with self.store.session(write=True) as session:
            rows = session.exec(select(DeliveryRow).where(DeliveryRow.status == "sending")).all()
            for row in rows:
                row.status = "pending"
                session.add(row)
        return len(rows)

    def run_once(self) -> DispatchResult:
        result = DispatchResult()
        self.recover()
        now = self.now()
        with self.store.session() as session:
            due = session.exec(
                select(DeliveryRow).where(DeliveryRow.status == "pending",
                                          DeliveryRow.mode == "immediate",
                                          col(DeliveryRow.next_attempt_at) <= now)
                .order_by(col(DeliveryRow.id))
            ).all()
        for row in due:
            route = self.routes.get(row.route)
            if route is None:
                self._finish([row], ok=False, error=f"route {row.route!r} is no longer configured",
                             result=result, final=True)
                continue
            alert = alert_from_json(row.alert)
            self._deliver(route, [row], lambda fmt: render_alert(
                alert, fmt=fmt, templates_dir=route.templates), result)
        self._digests(result)
        return result

    # -- digests -----------------------------------------------------------------

    def _digests(self, result: DispatchResult) -> None:
        now = self.now()
        with self.store.session() as session:
            pending = session.exec(
                select(DeliveryRow).where(DeliveryRow.status == "pending",
                                          DeliveryRow.mode == "digest",
                                          col(DeliveryRow.next_attempt_at) <= now)
                .order_by(col(DeliveryRow.id))
            ).all()
        by_route: dict[str, list[DeliveryRow]] = {}
        for row in pending:
            by_route.setdefault(row.route, []).append(row)
        for name, rows in by_route.items():
            route = self.routes.get(name)
            if route is None or not route.digest:
                continue
            schedule = parse_digest(route.digest)
            oldest = min(row.created_at for row in rows)
            if schedule.next_after(oldest) > now:
                continue
            alerts = [alert_from_json(row.alert) for row in rows]
            title = f"regwatch digest: {len(alerts)} changes"
            self._deliver(route, rows, lambda fmt: render_digest(
                alerts, fmt=fmt, title=title, templates_dir=route.templates), result)

    # -- sending -----------------------------------------------------------------

    def _deliver(self, route: Route, rows: Sequence[DeliveryRow],
                 render: Callable[[str], Message], result: DispatchResult) -> None:
        with self.store.session(write=True) as session:
            for row in rows:
                fresh = session.get(DeliveryRow, row.id)
                if fresh is None or fresh.status != "pending":
                    return
                fresh.status = "sending"
                session.add(fresh)
        done: set[int] = set(json.loads(rows[0].done or "[]"))
        errors: list[str] = []
        for index, url in enumerate(route.urls):
            if index in done:
                continue
            fmt = route.format if route.format != "auto" else format_for(url)
            outcome = send_message(url, render(fmt))
            if outcome.ok:
                done.add(index)
            else:
                errors.append(f"{outcome.url}: {outcome.error}")
        ok = len(done) == len(route.urls)
        self._finish(rows, ok=ok, error="; ".join(errors), result=result, done=done,
                     max_attempts=route.max_attempts)

    def _finish(self, rows: Sequence[DeliveryRow], *, ok: bool, error: str,
                result: DispatchResult, done: set[int] | None = None, final: bool = False,
                max_attempts: int | None = None) -> None:
        now = self.now()
        limit = max_attempts or self.config.delivery.max_attempts
        with self.store.session(write=True) as session:
            for row in rows:
                fresh = session.get(DeliveryRow, row.id)
                if fresh is None:
                    continue
                fresh.attempts += 1
                fresh.done = json.dumps(sorted(done or ()))
                if ok:
                    fresh.status, fresh.sent_at, fresh.last_error = "sent", now, ""
                    result.sent += 1
                elif final or fresh.attempts >= limit:
                    fresh.status, fresh.last_error = "failed", error[:2000]
                    result.failed += 1
                    log.warning("delivery %s to %s failed for good: %s", fresh.id, fresh.route,
                                error)
                else:
                    fresh.status, fresh.last_error = "pending", error[:2000]
                    fresh.next_attempt_at = now + self.backoff(fresh.attempts)
                    result.retrying += 1
                    log.info("delivery %s to %s will be retried: %s", fresh.id, fresh.route,
                             error)
                session.add(fresh)

    def backoff(self, attempts: int) -> timedelta:
        settings = self.config.delivery
        return timedelta(seconds=min(settings.backoff * 2 ** (attempts - 1), settings.max_backoff))


def queue_test(store: Store, route: Route, alert: Alert) -> DeliveryRow:
    """Queue a test alert for one route, bypassing its match rules."""
    from monitor.alerts import alert_to_json

    now = utcnow()
    row = DeliveryRow(route=route.name, purpose=f"test:{alert.id}", alert=alert_to_json(alert),
                      mode="immediate", status="pending", next_attempt_at=now, created_at=now)
    with store.session(write=True) as session:
        session.add(row)
    return row
