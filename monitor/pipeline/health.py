"""Source health: consecutive failures, one alert after N, one on recovery."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from monitor.store.models import ChangeRow, RunRow, SourceRow


def record_failure(
    session: Session,
    source: SourceRow,
    run: RunRow,
    error: str,
    outcome: str,
    *,
    alert_after: int,
    now: datetime,
) -> ChangeRow | None:
    """Count a failed or blocked run; return the health change on the N-th one."""
    source.consecutive_failures += 1
    source.last_run_at, source.last_outcome, source.last_error = now, outcome, error[:2000]
    session.add(source)
    if source.consecutive_failures < alert_after or source.health_alerted:
        return None
    source.health_alerted = True
    what = "blocked" if outcome == "blocked" else "failing"
    return ChangeRow(
        source_id=source.id or 0,
        run_id=run.id,
        kind="health",
        event="health",
        detected_at=now,
        title=f"{source.name} is {what}",
        url=source.url,
        jurisdiction=source.jurisdiction,
        detail=error[:2000],
    )


def record_success(
    session: Session, source: SourceRow, run: RunRow, *, now: datetime
) -> ChangeRow | None:
    """Reset the failure count; return a "recovered" change if an alert had gone out."""
    was_alerted, failures = source.health_alerted, source.consecutive_failures
    source.consecutive_failures, source.health_alerted = 0, False
    source.healthy_runs += 1
    source.last_ok_at = source.last_run_at = now
    source.last_outcome, source.last_error = run.outcome, ""
    session.add(source)
    if not was_alerted:
        return None
    return ChangeRow(
        source_id=source.id or 0,
        run_id=run.id,
        kind="health",
        event="recovered",
        detected_at=now,
        title=f"{source.name} works again",
        url=source.url,
        jurisdiction=source.jurisdiction,
        detail=f"recovered after {failures} failed checks",
    )
