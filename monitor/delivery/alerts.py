"""From stored changes to queued deliveries (the outbox).

``enqueue`` runs inside the same transaction that stores the change, so a
change and its alerts are written together or not at all.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from monitor.store.db import utcnow
from monitor.store.models import ChangeRow, DeliveryRow, SourceRow
from notifiers.routes import Route, routes_for
from notifiers.types import Alert
from sources.registry import regulator_label


def regulator_of(source: SourceRow, regulator: str | None = None) -> str:
    """The regulator an alert names: the source's ``regulator`` setting, else
    the label its adapter kind declares, else the source's name."""
    return regulator or regulator_label(source.kind) or source.name


def split_list(value: str) -> tuple[str, ...]:
    return tuple(part for part in value.split(",") if part)


def join_list(values: Sequence[str]) -> str:
    return "," + ",".join(values) + "," if values else ""


def alert_from_change(
    change: ChangeRow,
    source: SourceRow,
    *,
    regulator: str | None = None,
    now: datetime | None = None,
) -> Alert:
    classification: dict[str, Any] = json.loads(change.classification or "{}")
    deadline = change.comment_deadline
    today = (now or utcnow()).date()
    return Alert(
        id=f"change-{change.id}",
        kind=change.event,
        source=source.name,
        regulator=regulator_of(source, regulator),
        jurisdiction=change.jurisdiction,
        title=change.title,
        url=change.url,
        # shown where the team is: ``now`` carries the [service] timezone
        detected_at=(
            change.detected_at.astimezone(now.tzinfo)
            if now is not None and now.tzinfo is not None and change.detected_at.tzinfo
            else change.detected_at
        ),
        change_kind=change.kind,
        status=change.status,
        relevant=change.relevant if classification else None,
        cn=split_list(change.cn),
        eu=split_list(change.eu),
        us=split_list(change.us),
        jp=split_list(change.jp),
        scope=str(classification.get("scope", "cgt" if change.relevant else "none"))
        if classification
        else "",
        modalities=split_list(change.modalities),
        doc_type=change.doc_type,
        disciplines=tuple(classification.get("disciplines", ())),
        evidence=tuple(classification.get("evidence", ())),
        found_in=found_in(classification),
        fields_changed=tuple(json.loads(change.fields_changed or "[]")),
        diff_excerpt=change.excerpt,
        comment_deadline=deadline,
        days_left=(deadline - today).days if deadline else None,
        detail=change.detail,
        failures=source.consecutive_failures if change.event == "health" else 0,
    )


def found_in(classification: dict[str, Any]) -> tuple[str, ...]:
    """Where the words that made a document relevant were found in its
    attachments (``Classification.found_in``); empty when the title decided."""
    words, places = classification.get("evidence", ()), classification.get("evidence_at", ())
    return tuple(f'{place}: "{word}"' for word, place in zip(words, places, strict=False) if place)


def alert_to_json(alert: Alert) -> str:
    data: dict[str, Any] = {}
    for name in Alert.__dataclass_fields__:
        value = getattr(alert, name)
        if isinstance(value, date):  # datetimes too
            value = value.isoformat()
        elif isinstance(value, tuple):
            value = list(value)
        data[name] = value
    return json.dumps(data, ensure_ascii=False, sort_keys=True)


def alert_from_json(text: str) -> Alert:
    data: dict[str, Any] = json.loads(text)
    fields = Alert.__dataclass_fields__
    values: dict[str, Any] = {}
    for name, value in data.items():
        if name not in fields:
            continue
        if name == "detected_at" and value:
            value = datetime.fromisoformat(value)
        elif name == "comment_deadline" and value:
            value = date.fromisoformat(value)
        elif isinstance(value, list):
            value = tuple(value)
        values[name] = value
    return Alert(**values)


def enqueue(
    session: Session,
    alert: Alert,
    routes: Sequence[Route],
    *,
    purpose: str,
    change_id: int | None = None,
    now: datetime | None = None,
) -> list[DeliveryRow]:
    """Queue one delivery per matching route; a (route, purpose) pair is queued
    at most once, ever."""
    queued: list[DeliveryRow] = []
    moment = now or utcnow()
    payload = alert_to_json(alert)
    for route in routes_for(alert, routes):
        exists = session.exec(
            select(DeliveryRow.id).where(
                DeliveryRow.route == route.name, DeliveryRow.purpose == purpose
            )
        ).first()
        if exists is not None:
            continue
        row = DeliveryRow(
            route=route.name,
            purpose=purpose,
            change_id=change_id,
            alert=payload,
            mode=route.mode,
            status="pending",
            next_attempt_at=moment,
            created_at=moment,
        )
        try:
            with session.begin_nested():
                session.add(row)
        except IntegrityError:
            continue
        queued.append(row)
    return queued
