"""Source health as the CLI and /healthz show it."""

from __future__ import annotations

from typing import Any

from sqlmodel import select

from monitor.store import Store
from monitor.store.models import SourceRow


def source_rows(store: Store) -> dict[str, SourceRow]:
    with store.session() as session:
        return {row.name: row for row in session.exec(select(SourceRow)).all()}


def status_of(store: Store, names: list[tuple[str, str, str]]) -> list[dict[str, Any]]:
    rows = source_rows(store)
    result = []
    for name, kind, schedule in names:
        row = rows.get(name)
        result.append(
            {
                "name": name,
                "kind": kind,
                "schedule": schedule,
                "last_outcome": row.last_outcome if row else "",
                "last_run_at": row.last_run_at.isoformat() if row and row.last_run_at else None,
                "last_ok_at": row.last_ok_at.isoformat() if row and row.last_ok_at else None,
                "consecutive_failures": row.consecutive_failures if row else 0,
                "records": row.last_record_count if row else 0,
                "last_error": row.last_error if row else "",
            }
        )
    return result
