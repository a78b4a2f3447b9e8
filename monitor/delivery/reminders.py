"""Comment-deadline reminders: N days before a stored deadline, one alert per route.

``[delivery] reminders = [7, 1]`` asks for a reminder a week before a
comment deadline and one the day before. Each reminder is a delivery with
purpose ``reminder:<document id>:<N>:<deadline>``, queued at most once per
route, so running ``queue_reminders`` every few minutes is safe; a deadline
the regulator extends gets its reminders again for the new date.

Which reminder is due: the one for the smallest N with ``days left <= N``.
A service that was down on the exact day still sends it once when it comes
back, but only the nearest one: down from 8 days before to 1 day before, it
sends the 1-day reminder, not a late 7-day one as well. A deadline that has
passed sends nothing; the deadline day itself counts as 0 days left (the
smallest reminder still goes out).

Not reminded about: documents removed or withdrawn, drafts whose final
version was published, a reminder N for a document first seen N days or
less before its deadline (its first alert already said how many days were
left), and a mirror of the same draft on a second source (one reminder for
the title, jurisdiction and deadline). "Today" is the date in
``[service] timezone``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel import Session, col, select

from monitor.config import Config
from monitor.delivery.alerts import enqueue, regulator_of
from monitor.delivery.dispatch import aware
from monitor.store import Store
from monitor.store.db import utcnow
from monitor.store.models import DocumentRow, SourceRow
from monitor.store.records import classification_dict
from notifiers.types import Alert


def due_reminder(days_left: int, thresholds: Sequence[int]) -> int | None:
    """The reminder (an N of ``thresholds``) due with ``days_left`` days to go, if any."""
    if days_left < 0:
        return None
    fitting = [n for n in thresholds if n >= 0 and days_left <= n]
    return min(fitting) if fitting else None


def queue_reminders(config: Config, store: Store, now: datetime | None = None) -> int:
    """Queue the reminders that are due at ``now``; return how many deliveries were queued."""
    thresholds = sorted({n for n in config.delivery.reminders if n >= 0})
    if not thresholds or not config.routes:
        return 0
    moment = aware(now or utcnow())
    zone = ZoneInfo(config.service.timezone)
    today = moment.astimezone(zone).date()
    horizon = today + timedelta(days=thresholds[-1])
    regulators = {s.name: s.regulator for s in config.sources}
    queued = 0
    with store.session(write=True) as session:
        rows = session.exec(
            select(DocumentRow, SourceRow)
            .join(SourceRow, col(SourceRow.id) == col(DocumentRow.source_id))
            .where(
                DocumentRow.state == "active",
                col(DocumentRow.comment_deadline).is_not(None),
                col(DocumentRow.comment_deadline) >= today,
                col(DocumentRow.comment_deadline) <= horizon,
            )
            .order_by(col(DocumentRow.id))
        ).all()
        finalised = _finalised_drafts(session)
        seen: set[tuple[str, str, date]] = set()
        for doc, source in rows:
            deadline = doc.comment_deadline
            assert deadline is not None and doc.id is not None
            if doc.status == "withdrawn" or doc.id in finalised:
                continue
            twin_key = (doc.lineage or f"#{doc.id}", doc.jurisdiction, deadline)
            if twin_key in seen:
                continue
            seen.add(twin_key)
            days_left = (deadline - today).days
            due = due_reminder(days_left, thresholds)
            if due is None:
                continue
            first_seen = aware(doc.first_seen).astimezone(zone).date()
            if (deadline - first_seen).days <= due:
                continue
            alert = reminder_alert(
                doc,
                source,
                due=due,
                days_left=days_left,
                now=moment,
                regulator=regulators.get(source.name),
            )
            queued += len(
                enqueue(
                    session,
                    alert,
                    config.routes,
                    now=moment,
                    purpose=f"reminder:{doc.id}:{due}:{deadline.isoformat()}",
                )
            )
    return queued


def _finalised_drafts(session: Session) -> set[int]:
    linked = session.exec(
        select(DocumentRow.linked_to).where(
            col(DocumentRow.linked_to).is_not(None), DocumentRow.state != "removed"
        )
    ).all()
    return {value for value in linked if value is not None}


def reminder_alert(
    doc: DocumentRow,
    source: SourceRow,
    *,
    due: int,
    days_left: int,
    now: datetime,
    regulator: str | None = None,
) -> Alert:
    """The reminder for one document, with its stored classification."""
    classification: dict[str, Any] = classification_dict(doc)

    def listed(name: str) -> tuple[str, ...]:
        return tuple(str(v) for v in classification.get(name, ()))

    return Alert(
        id=f"reminder-{doc.id}-{due}",
        kind="reminder",
        source=source.name,
        regulator=regulator_of(source, regulator),
        jurisdiction=doc.jurisdiction,
        title=doc.title,
        url=doc.url,
        detected_at=now,
        status=doc.status,
        relevant=doc.relevant if classification else None,
        cn=listed("cn"),
        eu=listed("eu"),
        us=listed("us"),
        modalities=listed("modalities"),
        doc_type=str(classification.get("doc_type", "")),
        disciplines=listed("disciplines"),
        evidence=listed("evidence"),
        comment_deadline=doc.comment_deadline,
        days_left=days_left,
    )
