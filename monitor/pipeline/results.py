"""What one check of one source did: its result, its log line, and the sources
of a host given up on for this run."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from sources.registry import SourceSettings

log = logging.getLogger("regwatch.check")


@dataclass
class CheckResult:
    """What one check did, for logs, the CLI and tests."""

    source: str
    outcome: str  # baseline / changed / unchanged / failed / blocked
    records: int | None = None
    changes: int = 0
    alerts: int = 0
    error: str = ""
    item_errors: int = 0
    seconds: float = 0.0
    cpu_ms: float = 0.0
    events: list[str] = field(default_factory=list)

    def line(self) -> str:
        parts = [f"{self.source}: {self.outcome}"]
        if self.records is not None:
            parts.append(f"{self.records} records")
        if self.changes:
            parts.append(f"{self.changes} changes")
        if self.alerts:
            parts.append(f"{self.alerts} alerts queued")
        if self.item_errors:
            parts.append(f"{self.item_errors} items without details")
        if self.error:
            parts.append(self.error)
        parts.append(f"{self.seconds:.1f}s")
        return ", ".join(parts)


def unreachable(result: CheckResult) -> bool:
    """The host did not answer at all (refused, no route, DNS, timed out)."""
    return result.outcome == "failed" and result.error.startswith(("network error", "timed out"))


def give_up_on_host(host: str, rest: list[SourceSettings], results: dict[str, CheckResult]) -> None:
    """The host is unreachable: its other sources are not tried again this run."""
    log.warning(
        "cannot reach %s (network down?): its %d other source(s) are skipped this run",
        host,
        len(rest),
    )
    for source in rest:
        results[source.name] = CheckResult(
            source.name, "failed", error=f"skipped: cannot reach {host}"
        )


def log_result(result: CheckResult) -> None:
    """The check's one log line (with its fields for JSON logs)."""
    log.info(
        "%s",
        result.line(),
        extra={
            "source": result.source,
            "outcome": result.outcome,
            "records": result.records,
            "changes": result.changes,
            "alerts": result.alerts,
            "seconds": round(result.seconds, 3),
        },
    )
