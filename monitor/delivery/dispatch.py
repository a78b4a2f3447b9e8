"""The dispatcher: sends queued deliveries (the outbox) with retries.

A delivery moves pending → sending → sent, or back to pending with an
exponential back-off, or to failed after ``max_attempts`` (the route's own
``max_attempts`` when it sets one, else ``[delivery] max_attempts``).

Claiming a row is one conditional UPDATE (``pending`` → ``sending``), so two
dispatchers never send the same row. The claim is committed before the
service is called and holds a lease: ``next_attempt_at`` of a "sending" row
is when the claim expires. A process killed while sending leaves the row in
"sending"; once the lease has expired any dispatcher puts it back to pending
(``recover()`` with no argument does it at once: call it when the service
starts and holds the database lock). That is at-least-once for the single
message in flight at the kill — the only way to lose nothing — and exactly
once for everything else.

Each URL of a route is recorded (``done``) as soon as it succeeded, so a
retry, or a restart after a crash, never repeats a URL that worked.

**Attempts are counted at the claim**, before anything is sent: a process
killed mid-send has already spent that attempt, so a crash loop (a service
killed at every start) resends a message at most ``max_attempts`` times, then
the row is failed like any other delivery that kept failing.

**An idempotency key** goes with every message to services that take custom
headers (``json``/``xml``/``form`` webhooks and ``mailto`` email):
``X-Regwatch-Delivery`` (and ``Idempotency-Key`` for webhooks), the same value
on every retry of one delivery to one URL, so a receiver can drop the
duplicate that at-least-once delivery allows. apprise sets email's
``Message-ID`` itself, so email carries only the ``X-Regwatch-Delivery`` header.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable, Collection, Sequence
from datetime import UTC, datetime, timedelta, tzinfo

from sqlmodel import col, select, update

from monitor.config import Config
from monitor.delivery.alerts import alert_from_json, alert_to_json
from monitor.delivery.waiting import DispatchResult
from monitor.store import Store
from monitor.store.db import utcnow
from monitor.store.models import DeliveryRow
from notifiers.render import Message, format_for, render_alert, render_digest
from notifiers.routes import Route, parse_digest
from notifiers.send import send_message
from notifiers.services import with_delivery_key
from notifiers.types import Alert

log = logging.getLogger("regwatch.dispatch")

SEND_TIMEOUT = 30.0  # seconds apprise may take for one URL


def aware(moment: datetime) -> datetime:
    """A stored time as aware UTC (SQLite gives naive datetimes back)."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


class Dispatcher:
    """Sends what is due in one store, for the routes of one configuration."""

    def __init__(
        self, config: Config, store: Store, *, now: Callable[[], datetime] = utcnow
    ) -> None:
        self.config, self.store, self.now = config, store, now
        self.routes = {route.name: route for route in config.routes}

    # -- recovery ----------------------------------------------------------------

    def lease(self, route: Route | None) -> timedelta:
        """How long a claim may last before another dispatcher takes the row back."""
        urls = len(route.urls) if route else 1
        return timedelta(seconds=60 + 2 * SEND_TIMEOUT * urls)

    def recover(self, *, expired_only: bool = False) -> int:
        """Put deliveries left in "sending" by a killed process back to pending.

        Without ``expired_only`` every "sending" row is recovered: only safe
        when no other dispatcher runs (the service at start-up).
        """
        now = self.now()
        query = update(DeliveryRow).where(col(DeliveryRow.status) == "sending")
        if expired_only:
            query = query.where(col(DeliveryRow.next_attempt_at) <= now)
        with self.store.session(write=True) as session:
            count = session.exec(query.values(status="pending", next_attempt_at=now)).rowcount
        if count:
            log.warning(
                "%d deliveries were interrupted while sending; they will be sent again", count
            )
        return int(count or 0)

    # -- one pass ----------------------------------------------------------------

    def run_once(self, only: Collection[int] | None = None) -> DispatchResult:
        """Send every immediate delivery that is due, then every digest that is due.

        ``only`` restricts the pass to these delivery ids (``notify test``).
        """
        result = DispatchResult()
        self.recover(expired_only=True)
        now = self.now()
        query = (
            select(DeliveryRow)
            .where(
                DeliveryRow.status == "pending",
                DeliveryRow.mode == "immediate",
                col(DeliveryRow.next_attempt_at) <= now,
            )
            .order_by(col(DeliveryRow.id))
        )
        if only is not None:
            query = query.where(col(DeliveryRow.id).in_(list(only)))
        with self.store.session() as session:
            due = session.exec(query).all()
        for row in due:
            route = self.routes.get(row.route)
            if route is None:
                if self._claim([row], None):
                    self._finish(
                        [row],
                        ok=False,
                        done=set(),
                        result=result,
                        final=True,
                        error=f"route {row.route!r} is no longer configured",
                    )
                continue
            try:
                alert = alert_from_json(row.alert)
            except (ValueError, TypeError) as exc:
                if self._claim([row], route):
                    self._finish(
                        [row],
                        ok=False,
                        done=set(),
                        result=result,
                        final=True,
                        error=f"the stored alert cannot be read: {exc}",
                    )
                continue
            self._deliver(route, [row], _alert_renderer(alert, route), result)
        if only is None:
            self._digests(result)
        return result

    # -- digests -----------------------------------------------------------------

    def _digests(self, result: DispatchResult) -> None:
        now = self.now()
        with self.store.session() as session:
            pending = session.exec(
                select(DeliveryRow)
                .where(
                    DeliveryRow.status == "pending",
                    DeliveryRow.mode == "digest",
                    col(DeliveryRow.next_attempt_at) <= now,
                )
                .order_by(col(DeliveryRow.id))
            ).all()
        # Rows of one route that already reached different URLs go in separate digests,
        # so no URL gets an alert twice.
        batches: dict[tuple[str, str], list[DeliveryRow]] = {}
        for row in pending:
            batches.setdefault((row.route, row.done or "[]"), []).append(row)
        for (name, _), rows in batches.items():
            route = self.routes.get(name)
            if route is None:
                if self._claim(rows, None):
                    self._finish(
                        rows,
                        ok=False,
                        done=set(),
                        result=result,
                        final=True,
                        error=f"route {name!r} is no longer configured",
                    )
                continue
            # A route switched from digest to immediate sends what it had collected now.
            zone: tzinfo = UTC
            if route.digest:
                schedule = parse_digest(route.digest)
                oldest = min(aware(row.created_at) for row in rows)
                if schedule.next_after(oldest) > now:
                    continue
                zone = schedule.tz
            alerts = [alert_from_json(row.alert) for row in rows]
            title = f"regwatch digest {now.astimezone(zone):%Y-%m-%d}"
            self._deliver(route, rows, _digest_renderer(alerts, title, route), result)

    # -- sending -----------------------------------------------------------------

    def _claim(self, rows: Sequence[DeliveryRow], route: Route | None) -> bool:
        """Mark ``rows`` as sending, all or none; False if another dispatcher has them."""
        until = self.now() + self.lease(route)
        ids = [row.id for row in rows]
        with self.store.session(write=True) as session:
            claimed = session.exec(
                update(DeliveryRow)
                .where(col(DeliveryRow.id).in_(ids), col(DeliveryRow.status) == "pending")
                .values(
                    status="sending", next_attempt_at=until, attempts=col(DeliveryRow.attempts) + 1
                )
            ).rowcount
            if claimed != len(ids):
                session.rollback()
                return False
        return True

    def _deliver(
        self,
        route: Route,
        rows: Sequence[DeliveryRow],
        render: Callable[[str], Message],
        result: DispatchResult,
    ) -> None:
        limit = self._max_attempts(route)
        if max(row.attempts for row in rows) >= limit:
            self._give_up(rows, limit, result)
            return
        if not self._claim(rows, route):
            return
        done: set[int] = set(json.loads(rows[0].done or "[]"))
        errors: list[str] = []
        messages: dict[str, Message] = {}
        for index, url in enumerate(route.urls):
            if index in done:
                continue
            fmt = route.format if route.format != "auto" else format_for(url)
            try:
                if fmt not in messages:
                    messages[fmt] = render(fmt)
            except Exception as exc:  # noqa: BLE001  (a template bug fails this delivery, not the run)
                errors.append(f"cannot render the message: {type(exc).__name__}: {exc}")
                continue
            keyed = with_delivery_key(url, delivery_key(rows, index))
            outcome = send_message(keyed, messages[fmt], timeout=SEND_TIMEOUT)
            if outcome.ok:
                done.add(index)
                if len(done) < len(route.urls):
                    self._save_done(rows, done)
            else:
                errors.append(f"{outcome.url}: {outcome.error}")
        self._finish(
            rows,
            ok=len(done) == len(route.urls),
            error="; ".join(errors),
            result=result,
            done=done,
            max_attempts=self._max_attempts(route),
        )

    def _give_up(self, rows: Sequence[DeliveryRow], limit: int, result: DispatchResult) -> None:
        """Fail rows whose attempts were all spent by processes that stopped mid-send."""
        error = (
            f"gave up after {limit} attempts (max_attempts) that ended without an "
            "answer: the process stopped while sending"
        )
        with self.store.session(write=True) as session:
            count = session.exec(
                update(DeliveryRow)
                .where(
                    col(DeliveryRow.id).in_([row.id for row in rows]),
                    col(DeliveryRow.status) == "pending",
                )
                .values(status="failed", last_error=error, next_attempt_at=None)
            ).rowcount
        if count:
            result.failed += int(count)
            log.warning("deliveries %s to %s: %s", [row.id for row in rows], rows[0].route, error)

    def _save_done(self, rows: Sequence[DeliveryRow], done: set[int]) -> None:
        with self.store.session(write=True) as session:
            session.exec(
                update(DeliveryRow)
                .where(col(DeliveryRow.id).in_([row.id for row in rows]))
                .values(done=json.dumps(sorted(done)))
            )

    def _max_attempts(self, route: Route) -> int:
        if "max_attempts" in route.model_fields_set:
            return route.max_attempts
        return self.config.delivery.max_attempts

    def _finish(
        self,
        rows: Sequence[DeliveryRow],
        *,
        ok: bool,
        error: str,
        done: set[int],
        result: DispatchResult,
        final: bool = False,
        max_attempts: int | None = None,
    ) -> None:
        now = self.now()
        limit = max_attempts or self.config.delivery.max_attempts
        with self.store.session(write=True) as session:
            for row in rows:
                fresh = session.get(DeliveryRow, row.id)
                if fresh is None:
                    continue
                fresh.done = json.dumps(sorted(done))  # attempts were counted at the claim
                if ok:
                    fresh.status, fresh.sent_at, fresh.last_error = "sent", now, ""
                    fresh.next_attempt_at = None
                    result.sent += 1
                elif final or fresh.attempts >= limit:
                    fresh.status, fresh.last_error = "failed", error[:2000]
                    fresh.next_attempt_at = None
                    result.failed += 1
                    log.warning(
                        "delivery %s to %s failed for good after %d attempts: %s",
                        fresh.id,
                        fresh.route,
                        fresh.attempts,
                        error,
                    )
                else:
                    fresh.status, fresh.last_error = "pending", error[:2000]
                    fresh.next_attempt_at = now + self.backoff(fresh.attempts)
                    result.retrying += 1
                    log.info(
                        "delivery %s to %s will be retried at %s: %s",
                        fresh.id,
                        fresh.route,
                        fresh.next_attempt_at,
                        error,
                    )
                session.add(fresh)

    def backoff(self, attempts: int) -> timedelta:
        """Wait after the n-th failed attempt: backoff, 2×, 4×, … up to max_backoff."""
        settings = self.config.delivery
        exponent = min(attempts - 1, 60)
        return timedelta(seconds=min(settings.backoff * 2**exponent, settings.max_backoff))


def delivery_key(rows: Sequence[DeliveryRow], index: int) -> str:
    """The idempotency key of sending ``rows`` (one alert, or one digest) to URL
    number ``index`` of their route: the same on every retry."""
    ids = ",".join(str(row.id) for row in rows)
    created = min(aware(row.created_at) for row in rows).isoformat()
    digest = hashlib.sha256(f"{rows[0].route}|{ids}|{created}|{index}".encode()).hexdigest()
    return f"rw-{digest[:32]}"


def _alert_renderer(alert: Alert, route: Route) -> Callable[[str], Message]:
    return lambda fmt: render_alert(alert, fmt=fmt, templates_dir=route.templates)


def _digest_renderer(alerts: list[Alert], title: str, route: Route) -> Callable[[str], Message]:
    return lambda fmt: render_digest(alerts, fmt=fmt, title=title, templates_dir=route.templates)


def queue_test(store: Store, route: Route, alert: Alert) -> DeliveryRow:
    """Queue a test alert for one route, bypassing its match rules and its digest."""
    now = utcnow()
    row = DeliveryRow(
        route=route.name,
        purpose=f"test:{alert.id}",
        alert=alert_to_json(alert),
        mode="immediate",
        status="pending",
        next_attempt_at=now,
        created_at=now,
    )
    with store.session(write=True) as session:
        session.add(row)
    return row
