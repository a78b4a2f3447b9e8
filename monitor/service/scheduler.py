"""The service's jobs and when they run, as APScheduler 3 triggers.

Jobs (ids as ``/healthz`` shows them):

- ``source:<name>``  one per enabled source: ``every = "6h"`` runs at that
  interval plus a random delay of up to ``[service] jitter`` × the interval
  (so a hundred sources do not start on the same second); ``cron = "0 8 * * *"``
  runs at those times in ``[service] timezone``. A source with neither
  runs every 6 hours.
- ``dispatch``        sends queued alerts every ``[delivery] every`` (1 minute),
  and at once after a check queued some.
- ``digest:<route>``  one per digest route, at its digest time.
- ``reminders``       queues comment-deadline reminders, hourly.
- ``retention``       prunes old raw snapshots, daily at 03:30 local time.

Every job runs at most one instance at a time (``max_instances=1``), and runs
missed while the process was busy are run once, not once per miss
(``coalesce=True``). After downtime, a source whose last check is older than
its interval (or that missed a cron time) is checked once right after start;
the others resume where their schedule says.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from monitor.config import Config, parse_duration
from notifiers.routes import Route
from sources.registry import SourceSettings

DEFAULT_EVERY = "6h"
REMINDERS_EVERY = 3600.0
RETENTION_AT = (3, 30)


@dataclass(frozen=True)
class JobSpec:
    """One job: its id, what it calls, when, and the spec it was built from.

    ``signature`` is compared on reload: a job whose signature is unchanged
    keeps its next run time; a changed one is rescheduled.
    """

    id: str
    kind: str  # source / dispatch / digest / reminders / retention
    trigger: BaseTrigger
    signature: str
    target: str = ""  # the source or route name
    first_run: datetime | None = None
    misfire_grace_time: int | None = None
    options: dict[str, Any] = field(default_factory=dict)


def zone_of(config: Config) -> ZoneInfo:
    return ZoneInfo(config.service.timezone)


def schedule_of(source: SourceSettings) -> str:
    """The schedule as the user wrote it: ``every 6h`` or ``cron 0 8 * * *``."""
    if source.cron:
        return f"cron {source.cron}"
    return f"every {source.every or DEFAULT_EVERY}"


def source_trigger(source: SourceSettings, config: Config) -> BaseTrigger:
    """Interval with jitter, or cron in the service's time zone."""
    zone = zone_of(config)
    if source.cron:
        return CronTrigger.from_crontab(source.cron, timezone=zone)
    interval = parse_duration(source.every or DEFAULT_EVERY)
    jitter = config.service.jitter * interval
    return IntervalTrigger(seconds=interval, jitter=jitter or None, timezone=zone)


def first_run(
    source: SourceSettings, config: Config, last_run: datetime | None, now: datetime
) -> datetime | None:
    """When a source's first check after start is due.

    Never checked, or overdue after downtime: now (once, however many runs
    were missed). Otherwise None: the trigger decides (a full interval after
    start, or the next cron time)."""
    if last_run is None:
        return now
    if source.cron:
        trigger = CronTrigger.from_crontab(source.cron, timezone=zone_of(config))
        missed = trigger.get_next_fire_time(None, last_run)
        return now if missed is not None and missed <= now else None
    interval = parse_duration(source.every or DEFAULT_EVERY)
    due = last_run + timedelta(seconds=interval)
    if due <= now:
        return now
    # Resume the rhythm: the next check one interval after the last one (+ jitter).
    return due + timedelta(seconds=random.uniform(0, config.service.jitter * interval))


class DigestTrigger(BaseTrigger):  # type: ignore[misc]
    """Fires at a route's digest times (``daily 09:00 Asia/Shanghai``), DST-safe."""

    def __init__(self, route: Route) -> None:
        schedule = route.schedule
        assert schedule is not None
        self.schedule = schedule

    def get_next_fire_time(
        self, previous_fire_time: datetime | None, now: datetime
    ) -> datetime | None:
        return self.schedule.next_after(previous_fire_time or now)

    def __str__(self) -> str:
        return f"digest[{self.schedule.describe()}]"


def build_jobs(
    config: Config, *, last_runs: dict[str, datetime] | None = None, now: datetime | None = None
) -> list[JobSpec]:
    """Every job a configuration asks for."""
    last_runs = last_runs or {}
    moment = now or datetime.now(zone_of(config))
    zone: tzinfo = zone_of(config)
    jobs: list[JobSpec] = []
    for source in config.sources:
        if not source.enabled:
            continue
        trigger = source_trigger(source, config)
        grace = None
        if not source.cron:
            grace = max(1, int(parse_duration(source.every or DEFAULT_EVERY)))
        jobs.append(
            JobSpec(
                id=f"source:{source.name}",
                kind="source",
                target=source.name,
                trigger=trigger,
                signature=f"{schedule_of(source)} tz={config.service.timezone} "
                f"jitter={config.service.jitter}",
                first_run=first_run(source, config, last_runs.get(source.name), moment),
                misfire_grace_time=grace,
            )
        )
    every = parse_duration(config.delivery.every)
    jobs.append(
        JobSpec(
            id="dispatch",
            kind="dispatch",
            signature=f"every {every}",
            trigger=IntervalTrigger(seconds=every, timezone=zone),
            first_run=moment,
            misfire_grace_time=max(1, int(every)),
        )
    )
    for route in config.routes:
        if route.mode == "digest" and route.digest:
            jobs.append(
                JobSpec(
                    id=f"digest:{route.name}",
                    kind="digest",
                    target=route.name,
                    trigger=DigestTrigger(route),
                    signature=route.digest,
                    misfire_grace_time=3600,
                )
            )
    jobs.append(
        JobSpec(
            id="reminders",
            kind="reminders",
            signature="hourly",
            trigger=IntervalTrigger(seconds=REMINDERS_EVERY, timezone=zone),
            first_run=moment + timedelta(seconds=5),
            misfire_grace_time=3600,
        )
    )
    hour, minute = RETENTION_AT
    jobs.append(
        JobSpec(
            id="retention",
            kind="retention",
            signature=f"daily {hour:02d}:{minute:02d} {config.service.timezone}",
            trigger=CronTrigger(hour=hour, minute=minute, timezone=zone),
            misfire_grace_time=6 * 3600,
        )
    )
    return jobs


def add_job(scheduler: Any, spec: JobSpec, func: Callable[..., Any]) -> None:
    """Add (or replace) one job: one instance at a time, missed runs coalesced."""
    kwargs: dict[str, Any] = {}
    if spec.first_run is not None:
        kwargs["next_run_time"] = spec.first_run
    scheduler.add_job(
        func,
        spec.trigger,
        id=spec.id,
        name=spec.id,
        args=[spec.target] if spec.target else [],
        max_instances=1,
        coalesce=True,
        misfire_grace_time=spec.misfire_grace_time,
        replace_existing=True,
        executor="checks" if spec.kind == "source" else "default",
        **kwargs,
    )


def sync_jobs(
    scheduler: Any,
    old: dict[str, JobSpec],
    new: list[JobSpec],
    funcs: dict[str, Callable[..., Any]],
) -> tuple[list[str], list[str], list[str]]:
    """Make the scheduler's jobs match ``new``; return ids (added, removed, rescheduled).

    A job whose signature did not change is left alone (its next run stays)."""
    wanted = {spec.id: spec for spec in new}
    removed = [job_id for job_id in old if job_id not in wanted]
    for job_id in removed:
        if scheduler.get_job(job_id) is not None:
            scheduler.remove_job(job_id)
    added: list[str] = []
    changed: list[str] = []
    for job_id, spec in wanted.items():
        before = old.get(job_id)
        if (
            before is not None
            and before.signature == spec.signature
            and scheduler.get_job(job_id) is not None
        ):
            continue
        add_job(scheduler, spec, funcs[spec.kind])
        (changed if before is not None else added).append(job_id)
    return added, removed, changed
