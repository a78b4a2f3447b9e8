"""``regwatch run``'s service: its scheduler, jobs, reload and health.

One process per database (``monitor.service.lock``) runs an APScheduler 3
``BackgroundScheduler`` with the jobs of ``monitor.service.scheduler``: one check job
per source, the dispatcher, digests, comment-deadline reminders and
retention. Checks run in a thread pool of ``[http] concurrency`` workers;
the pipeline's shared ``HostGate`` keeps requests to one host polite. The
process around it (signals, logging, the stop grace) is
``monitor.service.process``.

A database that cannot be written (disk full, read-only) does not stop the
service: the error is logged, ``/healthz`` says so, the health routes get a
direct alert (``monitor.service.healthz.StoreHealth``), and jobs keep trying.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from wsgiref.simple_server import WSGIServer

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler
from sqlmodel import select

from monitor import config as config_module
from monitor.config import Config
from monitor.errors import ConfigError, RegwatchError, StoreError
from monitor.service.healthz import (
    HealthServer,
    StoreHealth,
    health_listen,
    local_times,
    parse_listen,
)
from monitor.service.lock import ServiceLock, service_lock, sqlite_path
from monitor.service.scheduler import JobSpec, build_jobs, schedule_of, sync_jobs, zone_of
from monitor.store import Store
from monitor.store.db import utcnow
from monitor.store.identity import StoreIdentity
from monitor.store.models import SourceRow

if TYPE_CHECKING:  # imported lazily at run time: start-up stays light
    from monitor.delivery.dispatch import Dispatcher
    from monitor.pipeline.check import Pipeline
    from monitor.pipeline.results import CheckResult

log = logging.getLogger("regwatch.service")

DEFAULT_GRACE = 25.0
Listener = Callable[["CheckResult"], None]


class Service:
    """The scheduler, its jobs, the health endpoint and the lock, for one config file."""

    def __init__(self, config_path: str, *, grace: float = DEFAULT_GRACE) -> None:
        self.config_path = config_path
        self.config: Config = config_module.load(config_path)
        self.grace = grace
        self.store_health = StoreHealth()
        self.listeners: list[Listener] = []
        self.started_at: datetime | None = None
        self.health_server: HealthServer | None = None
        self.web_server: WSGIServer | None = None
        self._lock: ServiceLock | None = None
        self._specs: dict[str, JobSpec] = {}
        self._stopping = threading.Event()
        self._running: dict[str, float] = {}
        self.job_deadline: float | None = None  # seconds; None: from [http] check_deadline
        self.identity: StoreIdentity | None = None
        self.jobs_skipped = 0  # jobs not run because the database was lost
        self._running_lock = threading.Lock()
        self._dispatch_lock = threading.Lock()
        self._dispatch_wanted = threading.Event()
        self.store: Store
        self.pipeline: Pipeline
        self.dispatcher: Dispatcher
        self.scheduler: BackgroundScheduler

    # -- life cycle --------------------------------------------------------------

    def start(self) -> None:
        """Lock the database, open it, recover the outbox, start jobs and /healthz."""
        config = self.config
        listen = _listen(config)
        self._lock = service_lock(config.store.url)
        self._lock.acquire()
        try:
            self._start(listen)
        except BaseException:
            self.stop(grace=0)
            raise

    def _start(self, listen: tuple[str, int] | None) -> None:
        from monitor.delivery.dispatch import Dispatcher
        from monitor.pipeline.check import Pipeline

        config = self.config
        self.store = Store(config.store.url)
        self.identity = StoreIdentity.open(
            self.store, sqlite_path(config.store.url) if self.store.is_sqlite else None
        )
        unwritable = ""
        try:
            recovered = Dispatcher(config, self.store).recover()
        except StoreError as exc:  # readable but not writable: run, and say so
            recovered, unwritable = 0, exc.message
        if recovered:
            log.info("%d deliveries interrupted by the last stop will be retried", recovered)
        self.pipeline = Pipeline(config, self.store)
        self.dispatcher = Dispatcher(config, self.store)
        self.scheduler = BackgroundScheduler(
            executors={
                "checks": ThreadPoolExecutor(config.http.concurrency),
                "default": ThreadPoolExecutor(4),
            },
            timezone=zone_of(config),
        )
        specs = build_jobs(config, last_runs=self._last_runs(), now=self._now())
        sync_jobs(self.scheduler, {}, specs, self._funcs())
        self._specs = {spec.id: spec for spec in specs}
        self.scheduler.start()
        self.started_at = utcnow()
        # The web UI binds before /healthz answers: a probe that sees the service
        # up finds its web UI listening too (the web module's imports take a while).
        if config.service.web != "off":
            from monitor.web.server import WebSettings, serve_web

            try:
                parse_listen(config.service.web)
                self.web_server, _ = serve_web(
                    self.store, config.service.web, settings=WebSettings.of(config)
                )
            except (OSError, ValueError) as exc:
                raise RegwatchError(
                    f"cannot serve the web UI on {config.service.web}: {exc}; "
                    'set [service] web to a free HOST:PORT or "off"'
                ) from None
        if listen is not None:
            try:
                self.health_server = HealthServer(*listen, snapshot=self.health).start()
            except OSError as exc:
                self._close_web()
                raise RegwatchError(
                    f"cannot listen on {config.service.listen} for /healthz: "
                    f"{exc.strerror}; set [service] listen to a free "
                    'HOST:PORT or "off"'
                ) from None
        log.info(
            "regwatch service started (pid %d): %d sources, store %s, health %s",
            os.getpid(),
            len([s for s in config.sources if s.enabled]),
            self.store.safe_url,
            self.health_url or "off",
        )
        if unwritable:
            self.store_health.failed(unwritable, config.routes)

    def _close_web(self) -> None:
        if self.web_server is not None:
            self.web_server.shutdown()
            self.web_server.server_close()
            self.web_server = None

    def stop(self, grace: float | None = None) -> bool:
        """Stop starting jobs, wait up to ``grace`` seconds for running ones.

        Returns True when every job finished, False when some were abandoned
        (their transactions were not committed; they are redone at next start)."""
        self._stopping.set()
        if getattr(self, "scheduler", None) is not None and self.scheduler.running:
            self.scheduler.shutdown(wait=False)
        deadline = time.monotonic() + (self.grace if grace is None else grace)
        while self._running and time.monotonic() < deadline:
            time.sleep(0.05)
        with self._running_lock:
            left = sorted(self._running)
        if self.health_server is not None:
            self.health_server.stop()
            self.health_server = None
        self._close_web()
        if left:
            log.warning(
                "stopping with %d jobs still running (%s): abandoned; their work was "
                "not committed and is redone at the next start",
                len(left),
                ", ".join(left),
            )
            return False
        if getattr(self, "store", None) is not None:
            self.store.close()
        if self._lock is not None:
            self._lock.release()
            self._lock = None
        log.info("regwatch service stopped")
        return True

    def reload(self) -> bool:
        """Re-read the configuration file; keep the running one if it is broken."""
        from monitor.delivery.dispatch import Dispatcher
        from monitor.pipeline.check import Pipeline

        try:
            new = config_module.load(self.config_path)
        except ConfigError as exc:
            log.error("configuration not reloaded, the running one stays: %s", exc.message)
            return False
        old = self.config
        if new.store.url != old.store.url:
            log.warning(
                "[store] url changed: restart the service to use the new database; still using %s",
                self.store.safe_url,
            )
            new.store = old.store
        pipeline = Pipeline(new, self.store)
        if new.http == old.http:
            pipeline.gate = self.pipeline.gate
        self.config, self.pipeline = new, pipeline
        self.dispatcher = Dispatcher(new, self.store)
        specs = build_jobs(new, last_runs=self._last_runs(), now=self._now())
        added, removed, changed = sync_jobs(self.scheduler, self._specs, specs, self._funcs())
        self._specs = {spec.id: spec for spec in specs}
        log.info(
            "configuration reloaded: %d sources; jobs added: %s; removed: %s; rescheduled: %s",
            len([s for s in new.sources if s.enabled]),
            ", ".join(added) or "none",
            ", ".join(removed) or "none",
            ", ".join(changed) or "none",
        )
        return True

    def add_listener(self, listener: Listener) -> None:
        """Call ``listener(result)`` after every check (in the check's thread)."""
        self.listeners.append(listener)

    # -- state -------------------------------------------------------------------

    @property
    def health_url(self) -> str | None:
        return self.health_server.url if self.health_server else None

    def scheduler_alive(self) -> bool:
        scheduler = getattr(self, "scheduler", None)
        if scheduler is None or not scheduler.running:
            return False
        thread = getattr(scheduler, "_thread", None)
        return thread is None or thread.is_alive()

    def running_jobs(self) -> list[str]:
        with self._running_lock:
            return sorted(self._running)

    def overdue_jobs(self) -> list[str]:
        """Jobs running longer than a check may (``job_deadline``, by default
        ``[http] check_deadline`` plus a minute for parsing and writing): each one
        is a ``/healthz`` problem."""
        limit = self.job_deadline or self.config.http.check_deadline + 60
        now = time.monotonic()
        with self._running_lock:
            started = dict(self._running)
        return [
            f"job {job} has run for {now - at:.0f} s, past its deadline of {limit:.0f} s"
            for job, at in sorted(started.items())
            if now - at > limit
        ]

    def health(self) -> tuple[int, dict[str, Any]]:
        """The ``/healthz`` answer: (HTTP status, JSON body)."""
        from monitor.status import status_of

        alive = self.scheduler_alive()
        jobs = []
        if alive:
            for job in self.scheduler.get_jobs():
                jobs.append(
                    {
                        "id": job.id,
                        "next_run": job.next_run_time.isoformat() if job.next_run_time else None,
                    }
                )
        running = set(self.running_jobs())
        names = [(s.name, s.kind, schedule_of(s)) for s in self.config.sources if s.enabled]
        problems = []
        try:
            sources = status_of(self.store, names)
        except RegwatchError as exc:
            problems.append(f"the database cannot be read: {exc.message}")
            sources = [{"name": n, "kind": k, "schedule": s} for n, k, s in names]
        for entry in sources:
            entry["running"] = f"source:{entry['name']}" in running
        problems.extend(self.overdue_jobs())
        if not alive:
            problems.append("the scheduler is not running")
        if not self.store_health.writable:
            problems.append(f"the database cannot be written: {self.store_health.error}")
        body = {
            "status": "failing" if problems else "ok",
            "problems": problems,
            "pid": os.getpid(),
            "started_at": self.started_at.isoformat() if self.started_at else None,
            "scheduler": {"running": alive, "jobs": jobs, "running_jobs": sorted(running)},
            "store": self.store_health.as_dict(),
            "sources": sources,
            "timezone": self.config.service.timezone,
        }
        return (503 if problems else 200), local_times(body, self.config.service.timezone)

    def _now(self) -> datetime:
        return datetime.now(zone_of(self.config))

    def _last_runs(self) -> dict[str, datetime]:
        with self.store.session() as session:
            rows = session.exec(select(SourceRow.name, SourceRow.last_run_at)).all()
        return {
            name: (at if at.tzinfo else at.replace(tzinfo=UTC))
            for name, at in rows
            if at is not None
        }

    # -- jobs --------------------------------------------------------------------

    def _funcs(self) -> dict[str, Callable[..., None]]:
        return {
            "source": lambda name: self._job(f"source:{name}", self._check, name),
            "dispatch": lambda: self._job("dispatch", self._dispatch),
            "digest": lambda route: self._job(f"digest:{route}", self._dispatch),
            "reminders": lambda: self._job("reminders", self._reminders),
            "retention": lambda: self._job("retention", self._retention),
        }

    def _job(self, job_id: str, func: Callable[..., None], *args: Any) -> None:
        """Run one job: skip when stopping; a database error is a store health event;
        any other error is logged and the service goes on."""
        if self._stopping.is_set():
            return
        lost = self.identity.lost() if self.identity is not None else ""
        if lost:  # never write into a database that is not ours any more
            self.jobs_skipped += 1
            self.store_health.lost(
                f"{lost}; the service stopped writing: restart it once the right database is back",
                self.config.routes,
            )
            return
        with self._running_lock:
            self._running[job_id] = time.monotonic()
        try:
            func(*args)
        except StoreError as exc:
            self.store_health.failed(exc.message, self.config.routes)
        except Exception:
            log.exception("job %s failed (a bug; the service goes on)", job_id)
        finally:
            with self._running_lock:
                self._running.pop(job_id, None)

    def _check(self, name: str) -> None:
        settings = next((s for s in self.config.sources if s.name == name), None)
        if settings is None or not settings.enabled:
            return
        result = self.pipeline.check(settings)
        self.store_health.ok(self.config.routes)
        for listener in list(self.listeners):
            try:
                listener(result)
            except Exception:
                log.exception("a check listener failed")
        if result.alerts:
            self.kick_dispatch()

    def kick_dispatch(self) -> None:
        """Run the dispatcher now (or right after its current pass)."""
        self._dispatch_wanted.set()
        if self._dispatch_lock.locked() or self._stopping.is_set():
            return
        try:
            self.scheduler.modify_job("dispatch", next_run_time=self._now())
        except Exception:
            log.debug("could not move the dispatch job forward", exc_info=True)

    def _dispatch(self, *_: str) -> None:
        with self._dispatch_lock:
            while True:
                self._dispatch_wanted.clear()
                result = self.dispatcher.run_once()
                if result.sent or result.failed or result.retrying:
                    self.store_health.ok(self.config.routes)  # only a real write says so
                    log.info(
                        "deliveries: %d sent, %d failed for good, %d to retry",
                        result.sent,
                        result.failed,
                        result.retrying,
                    )
                if not self._dispatch_wanted.is_set() or self._stopping.is_set():
                    return

    def _reminders(self) -> None:
        try:
            from monitor.delivery.reminders import queue_reminders
        except ImportError:
            log.debug("comment-deadline reminders are not available in this build")
            return
        queued = queue_reminders(self.config, self.store, utcnow())
        if queued:
            log.info("%d comment-deadline reminders queued", queued)
            self.kick_dispatch()

    def _retention(self) -> None:
        from monitor.service.retention import prune_snapshots

        prune_snapshots(
            self.store,
            keep_days=self.config.service.keep_days,
            keep_versions=self.config.service.keep_versions,
        )


def _listen(config: Config) -> tuple[str, int] | None:
    try:
        return health_listen(config.service.listen)
    except ValueError as exc:
        raise ConfigError(str(exc), path=config.path, key="[service].listen") from None
