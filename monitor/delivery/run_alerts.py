"""Queueing the alerts of one check, in bulk.

One query for the deliveries already queued, one insert for the new ones.
Mirrors (``ChangeRow.mirror_of``) are stored, not alerted. Above
``[delivery] summary_over`` alerts for one route, that route gets one
summary alert for the check ("137 new documents at nmpa, 12 about CGT")
instead of one each.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import insert
from sqlmodel import Session, col, select

from monitor.config import Config
from monitor.delivery.alerts import alert_from_change, alert_to_json, regulator_of
from monitor.store.models import ChangeRow, DeliveryRow, SourceRow
from notifiers.routes import routes_for
from notifiers.types import Alert
from sources.registry import SourceSettings


def queue_run_alerts(
    session: Session,
    config: Config,
    changes: list[ChangeRow],
    source: SourceRow,
    settings: SourceSettings,
    now: datetime,
) -> int:
    """Queue the run's alerts in bulk: one query for deliveries already queued,
    one insert. Mirrors are stored, not alerted."""
    fresh = [c for c in changes if c.id is None]
    if fresh:
        session.add_all(fresh)
        session.flush()
    local_now = now.astimezone(ZoneInfo(config.service.timezone))
    wanted: list[_Wanted] = []
    for change in changes:
        if change.mirror_of is not None or change.id is None:
            continue
        # "N days left" counts calendar days where the team is, like the reminders do
        alert = alert_from_change(change, source, regulator=settings.regulator, now=local_now)
        wanted.append((f"change:{change.id}", change.id, alert))
    if not wanted:
        return 0
    by_route = _by_route(session, config, wanted)
    rows: list[dict[str, object]] = []
    over = config.delivery.summary_over
    for route in config.routes:
        items = by_route.get(route.name, [])
        if over and len(items) > over:
            run_id = changes[0].run_id
            summary = _summary(source, settings, [alert for _, _, alert in items], now)
            rows.append(
                _delivery(
                    route.name, f"summary:{run_id}", None, alert_to_json(summary), route.mode, now
                )
            )
            continue
        rows += [
            _delivery(route.name, purpose, change_id, alert_to_json(alert), route.mode, now)
            for purpose, change_id, alert in items
        ]
    if rows:
        session.execute(insert(DeliveryRow), rows)  # one insert, no ORM objects
    return len(rows)


_Wanted = tuple[str, int, Alert]  # (purpose, change id, alert)


def _by_route(session: Session, config: Config, wanted: list[_Wanted]) -> dict[str, list[_Wanted]]:
    """The alerts each route matches and has not queued yet (one query per 500)."""
    purposes = [purpose for purpose, _, _ in wanted]
    taken: set[tuple[str, str]] = set()
    for start in range(0, len(purposes), 500):
        taken |= {
            (route, purpose)
            for route, purpose in session.exec(
                select(DeliveryRow.route, DeliveryRow.purpose).where(
                    col(DeliveryRow.route).in_([r.name for r in config.routes]),
                    col(DeliveryRow.purpose).in_(purposes[start : start + 500]),
                )
            )
        }
    by_route: dict[str, list[_Wanted]] = {}
    for item in wanted:
        for route in routes_for(item[2], config.routes):
            if (route.name, item[0]) not in taken:
                by_route.setdefault(route.name, []).append(item)
    return by_route


def _delivery(
    route: str, purpose: str, change_id: int | None, alert: str, mode: str, now: datetime
) -> dict[str, object]:
    return {
        "route": route,
        "purpose": purpose,
        "change_id": change_id,
        "alert": alert,
        "mode": mode,
        "status": "pending",
        "attempts": 0,
        "done": "[]",
        "next_attempt_at": now,
        "last_error": "",
        "created_at": now,
        "sent_at": None,
    }


def _summary(
    source: SourceRow, settings: SourceSettings, alerts: list[Alert], now: datetime
) -> Alert:
    """One alert standing for many of one check ("137 new documents at …, 12 about CGT")."""
    added = sum(1 for a in alerts if a.change_kind == "added")
    cgt = sum(1 for a in alerts if a.relevant)
    what = (
        f"{len(alerts)} new documents"
        if added == len(alerts)
        else f"{len(alerts)} changes ({added} new documents)"
    )
    shown = "\n".join(f"- {a.title}" for a in alerts[:10])
    more = len(alerts) - 10
    return Alert(
        id=f"summary-{source.id}-{alerts[0].id}",
        kind=alerts[0].kind,
        source=source.name,
        regulator=regulator_of(source, settings.regulator),
        jurisdiction=source.jurisdiction,
        title=f"{what} at {source.name}, {cgt} about CGT",
        url=source.url,
        detected_at=now,
        change_kind=alerts[0].change_kind,
        relevant=cgt > 0,
        detail=shown
        + (f"\n… and {more} more: `regwatch changes` lists them all" if more > 0 else ""),
    )
