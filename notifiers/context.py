"""What a template sees: one flat dict per alert, with the headline worked out.

Templates never compute wording; they lay out these values. The phrases
come from the ``[headlines]`` section of ``labels.toml``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import Any

from notifiers import labels
from notifiers.types import Alert

MAX_DIFF_LINES = 12
MAX_DIFF_LINE = 300
# Kinds whose headline already carries ``detail``.
_DETAIL_IN_HEADLINE = ("health", "baseline")


def _days(n: int) -> str:
    return labels.phrase("day" if abs(n) == 1 else "days").format(n=n)


def days_left(alert: Alert, today: date | None = None) -> int | None:
    """Days until the comment deadline: ``alert.days_left`` or from the detection date."""
    if alert.days_left is not None:
        return alert.days_left
    if alert.comment_deadline is None:
        return None
    if today is None:
        today = (alert.detected_at or datetime.now(UTC)).date()
    return (alert.comment_deadline - today).days


def headline(alert: Alert) -> str:
    """``"New draft open for comment until 2026-12-31 (36 days left)"`` and the like."""
    deadline = alert.comment_deadline.isoformat() if alert.comment_deadline else ""
    left = days_left(alert)
    values = {
        "source": alert.source,
        "regulator": alert.regulator,
        "doc_type": _doc_type_words(alert.doc_type),
        "fields": ", ".join(labels.english("fields", f) for f in alert.fields_changed),
        "deadline": deadline,
        "days": _days(left) if left is not None else "",
        "failures": alert.failures,
        "detail": alert.detail.strip() or "no detail",
    }
    try:
        return labels.phrase(_headline_phrase(alert, left)).format(**values)
    except KeyError:
        return alert.kind.replace("_", " ").capitalize()


def _doc_type_words(doc_type: str | None) -> str:
    """The document type in words ("draft guidance", "guideline" …); "document"
    for none or "other"."""
    if doc_type and doc_type != "other":
        return labels.english("doc_types", doc_type).lower()
    return labels.phrase("document")


def _headline_phrase(alert: Alert, left: int | None) -> str:
    """The name of the headline phrase: the alert's kind, or its variant (a
    draft's open or closed deadline, the changed fields, a reminder's day)."""
    kind = alert.kind
    if kind == "draft" and alert.comment_deadline and left is not None:
        return "draft_deadline" if left >= 0 else "draft_closed"
    if kind == "changed" and alert.fields_changed:
        return "changed_fields"
    if kind == "health" and not alert.failures:
        return "health_no_count"
    if kind == "reminder" and left is not None and left <= 0:
        return "reminder_today" if left == 0 else "reminder_passed"
    return kind


def safe_link(url: str) -> str:
    """The URL if it is http(s), else empty (no ``javascript:`` links in mail)."""
    return url if url.lower().startswith(("http://", "https://")) else ""


def diff_lines(excerpt: str) -> list[str]:
    lines = [line.rstrip()[:MAX_DIFF_LINE] for line in excerpt.strip("\n").splitlines()]
    if len(lines) > MAX_DIFF_LINES:
        lines = [*lines[:MAX_DIFF_LINES], "…"]
    return [line for line in lines if line.strip()]


def alert_context(alert: Alert) -> dict[str, Any]:
    """The values one alert template gets."""
    left = days_left(alert)
    detected = ""
    if alert.detected_at is not None:  # in the zone it carries (the service's), labelled
        stamp = alert.detected_at
        zone = stamp.tzname() if stamp.tzinfo is not None else "UTC"
        if stamp.tzinfo is not None and not stamp.utcoffset():
            zone = "UTC"
        detected = stamp.strftime("%Y-%m-%d %H:%M ") + (zone or "UTC")
    return {
        "alert": alert,
        "id": alert.id,
        "kind": alert.kind,
        "headline": headline(alert),
        "title": " ".join(alert.title.split()),
        "regulator": alert.regulator,
        "source": alert.source,
        "jurisdiction": alert.jurisdiction,
        "url": alert.url,
        "link": safe_link(alert.url),
        "classes": labels.class_parts(alert),
        "classes_line": labels.class_line(alert),
        "modalities_line": labels.joined("modalities", alert.modalities),
        "doc_type_label": labels.label("doc_types", alert.doc_type) if alert.doc_type else "",
        "status_label": labels.label("statuses", alert.status)
        if alert.status and alert.status != "unknown"
        else "",
        "disciplines_line": labels.joined("disciplines", alert.disciplines),
        "deadline": alert.comment_deadline.isoformat() if alert.comment_deadline else "",
        "days_left": left,
        "show_deadline": bool(alert.comment_deadline) and alert.kind not in ("draft", "reminder"),
        "diff_lines": diff_lines(alert.diff_excerpt),
        "detail": "" if alert.kind in _DETAIL_IN_HEADLINE else alert.detail.strip(),
        "detected": detected,
        "group": labels.group_label(alert),
        "found_in": list(alert.found_in),
    }


def digest_context(alerts: Sequence[Alert], title: str) -> dict[str, Any]:
    """Alerts grouped by regulator, then by ATMP class (see ``labels.group_label``)."""
    by_regulator: dict[str, dict[str, list[dict[str, Any]]]] = {}
    ordered = sorted(alerts, key=_when)
    for alert in ordered:
        item = alert_context(alert)
        regulator = alert.regulator or alert.source
        by_regulator.setdefault(regulator, {}).setdefault(item["group"], []).append(item)
    groups = [
        {
            "regulator": regulator,
            "count": sum(len(items) for items in classes.values()),
            "classes": [
                {"label": name, "items": classes[name]}
                for name in sorted(classes, key=_class_order)
            ],
        }
        for regulator, classes in sorted(by_regulator.items())
    ]
    return {"title": title, "count": len(alerts), "regulators": groups}


def _when(alert: Alert) -> tuple[bool, float, str]:
    stamp = alert.detected_at
    return (stamp is None, stamp.timestamp() if stamp else 0.0, alert.id)


def _class_order(name: str) -> tuple[int, str]:
    """Classes alphabetically, then "Not classified", then "Source health"."""
    last = [labels.label("groups", "unclassified"), labels.label("groups", "source_health")]
    return (last.index(name) + 1 if name in last else 0, name)
