"""The fault suite's campaign: one source's timeline, the test configuration, and
a campaign (the service, the sites, the sink) with its control run and report."""

from __future__ import annotations

import json
import random
import sqlite3
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from monitor.pipeline.results import CheckResult
from monitor.replica.server import ReplicaServer
from tests.helpers.faults import (
    ALERT_AFTER,
    HEALTHY,
    MAX_BYTES,
    TIMEOUT,
    Fault,
    FaultySite,
    Sink,
    Site,
    expected_health,
    expected_outcome,
    plan_faults,
    write_templates,
)
from tests.helpers.wait import wait_for as _wait
from tests.receivers import WebhookReceiver

# -- one source's timeline ------------------------------------------------------------------


@dataclass
class Timeline:
    """Moves one site through its script, one step per check."""

    site: Site
    replica: Any
    faulty: FaultySite
    plan: dict[int, Fault]
    cycles: int
    clean_tail: int = 4
    cycle: int = 0
    steps: int = 0
    ids: dict[str, Any] = field(default_factory=dict)
    outcomes: list[str] = field(default_factory=list)
    mismatches: list[str] = field(default_factory=list)
    done: threading.Event = field(default_factory=threading.Event)

    def begin(self) -> None:
        self.faulty.set(self.plan.get(0))

    def on_result(self, result: CheckResult) -> None:
        if self.done.is_set():
            return
        fault = self.plan.get(self.cycle)
        want = expected_outcome(self.site, fault)
        got = "healthy" if result.outcome in HEALTHY else result.outcome
        self.outcomes.append(got)
        if got != want:
            self.mismatches.append(
                f"cycle {self.cycle} {fault.label if fault else 'no fault'}: "
                f"expected {want}, got {result.outcome} ({result.error})"
            )
        if (
            got == "healthy"
            and self.steps < len(self.site.actions)
            and self.cycle < self.cycles - self.clean_tail
        ):
            self.site.actions[self.steps](self.replica, self.ids)
            self.steps += 1
        self.cycle += 1
        if self.cycle >= self.cycles:
            self.faulty.set(None)
            self.done.set()
            return
        self.faulty.set(self.plan.get(self.cycle))


# -- configuration ----------------------------------------------------------------------------


def toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    return json.dumps(str(value), ensure_ascii=False)


def service_config(
    db_url: str,
    sources: list[dict[str, Any]],
    routes: list[dict[str, Any]],
    *,
    every: str = "0.2s",
    listen: str = "127.0.0.1:0",
    extra: str = "",
    timeout: float = TIMEOUT,
    delivery_every: str = "0.5s",
) -> str:
    """A regwatch.toml for tests; ``extra`` lines go into the [service] table."""
    lines = [
        "[store]",
        f"url = {toml_value(db_url)}",
        "[http]",
        'user_agent = "regwatch-test/0.1 (+mailto:test@example.com)"',
        f"timeout = {timeout}",
        "delay = 0",
        "retries = 2",
        "backoff = 0.05",
        "max_wait = 5",
        f"max_bytes = {MAX_BYTES}",
        "[health]",
        f"alert_after = {ALERT_AFTER}",
        "[delivery]",
        f"every = {toml_value(delivery_every)}",
        "backoff = 0.2",
        "max_backoff = 1.0",
        "max_attempts = 50",
        "[service]",
        f"listen = {toml_value(listen)}",
        "jitter = 0.1",
        extra,
    ]
    for source in sources:
        lines.append("[[source]]")
        lines += [f"{k} = {toml_value(v)}" for k, v in source.items()]
        if "every" not in source and "cron" not in source:
            lines.append(f"every = {toml_value(every)}")
    for route in routes:
        lines.append("[[notify]]")
        for key, value in route.items():
            if key == "match":
                inner = ", ".join(f"{k} = {toml_value(v)}" for k, v in value.items())
                lines.append(f"match = {{ {inner} }}")
            else:
                lines.append(f"{key} = {toml_value(value)}")
    return "\n".join(lines) + "\n"


def sink_routes(sink: WebhookReceiver, templates: str) -> list[dict[str, Any]]:
    return [
        {
            "name": "changes",
            "urls": [sink.json_url("/changes")],
            "match": {},
            "templates": templates,
            "max_attempts": 50,
        },
        {
            "name": "health",
            "urls": [sink.json_url("/health")],
            "match": {"kinds": ["health", "recovered"]},
            "templates": templates,
            "max_attempts": 50,
        },
    ]


def integrity(db: Path) -> str:
    connection = sqlite3.connect(db)
    try:
        return str(connection.execute("PRAGMA integrity_check").fetchone()[0])
    finally:
        connection.close()


# -- a campaign: the service, the sites, the sink ------------------------------------------------


@dataclass
class Report:
    cycles: int = 0
    checks: int = 0
    faults: Counter[str] = field(default_factory=Counter)  # faulty checks by fault
    requests_faulted: Counter[str] = field(default_factory=Counter)
    expected: Counter[tuple[str, str, str]] = field(default_factory=Counter)
    received: Counter[tuple[str, str, str]] = field(default_factory=Counter)
    expected_health: Counter[tuple[str, str, str]] = field(default_factory=Counter)
    received_health: Counter[tuple[str, str, str]] = field(default_factory=Counter)
    scripted: Counter[tuple[str, str, str]] = field(default_factory=Counter)
    duplicate_ids: list[str] = field(default_factory=list)
    mismatches: list[str] = field(default_factory=list)
    sink_failures: int = 0
    seconds: float = 0.0

    def summary(self) -> str:
        faults = ", ".join(f"{k} {v}" for k, v in sorted(self.faults.items()))
        return (
            f"{self.checks} checks ({self.cycles} cycles per source) in {self.seconds:.0f}s; "
            f"faulty checks: {sum(self.faults.values())} ({faults}); requests faulted: "
            f"{sum(self.requests_faulted.values())}; sink answered 500 {self.sink_failures} "
            f"times; document alerts expected {sum(self.expected.values())}, received "
            f"{sum(self.received.values())}; health alerts expected "
            f"{sum(self.expected_health.values())}, received "
            f"{sum(self.received_health.values())}"
        )


def seed_of(name: str, seed: int) -> int:
    """A site's own seed for its fault plan."""
    import zlib

    return zlib.crc32(name.encode()) ^ seed


def outbox_empty(db: Path | str) -> bool:
    """No delivery pending or sending (``db``: a SQLite file or any store URL)."""
    if isinstance(db, str):
        from sqlalchemy import create_engine, text

        engine = create_engine(db)
        try:
            with engine.connect() as connection:
                count = connection.execute(
                    text("SELECT count(*) FROM delivery WHERE status IN ('pending', 'sending')")
                ).scalar()
        finally:
            engine.dispose()
        return count == 0
    sql = sqlite3.connect(db, timeout=10)
    try:
        row = sql.execute(
            "SELECT count(*) FROM delivery WHERE status IN ('pending', 'sending')"
        ).fetchone()
        return int(row[0]) == 0
    finally:
        sql.close()


def queued_alerts(db: Path, route: str) -> Counter[tuple[str, str, str]]:
    connection = sqlite3.connect(db)
    try:
        rows = connection.execute("SELECT alert FROM delivery WHERE route = ?", (route,)).fetchall()
    finally:
        connection.close()
    out: Counter[tuple[str, str, str]] = Counter()
    for (text,) in rows:
        alert = json.loads(text)
        out[(alert["source"], alert["kind"], " ".join(alert["title"].split()))] += 1
    return out


@dataclass
class Campaign:
    """The faulty run and its control, for some sites."""

    tmp: Path
    sites: list[Site]
    cycles: int
    seed: int = 2026
    sink_outages: bool = True
    clean_tail: int = 4
    store_url: str | None = None  # default: a SQLite file in tmp

    def run(self) -> Report:
        from monitor.service.run import Service

        report = Report(cycles=self.cycles)
        started = time.monotonic()
        templates = write_templates(self.tmp / "templates")
        sink = Sink().start()
        servers: list[ReplicaServer] = []
        timelines: dict[str, Timeline] = {}
        sources = []
        try:
            for site in self.sites:
                replica = site.make()
                faulty = FaultySite(replica)
                server = ReplicaServer(faulty).start()
                servers.append(server)
                plan = plan_faults(
                    random.Random(seed_of(site.name, self.seed)),
                    self.cycles,
                    clean_tail=self.clean_tail,
                )
                timelines[site.name] = Timeline(
                    site, replica, faulty, plan, self.cycles, self.clean_tail
                )
                sources.append(site.settings(replica, server.url))
            db = self.tmp / "faulty.db"
            url = self.store_url or f"sqlite:///{db}"
            path = self.tmp / "faulty.toml"
            path.write_text(
                service_config(url, sources, sink_routes(sink, templates)), encoding="utf-8"
            )
            for timeline in timelines.values():
                timeline.begin()
            service = Service(str(path), grace=10)
            service.add_listener(lambda result: timelines[result.source].on_result(result))
            outage_stop = threading.Event()
            outage = threading.Thread(target=self._outages, args=(sink, outage_stop), daemon=True)
            service.start()
            if self.sink_outages:
                outage.start()
            try:
                for timeline in timelines.values():
                    _wait(
                        timeline.done.is_set,
                        30 + self.cycles * 4.0,
                        f"{timeline.site.name} to finish {self.cycles} cycles "
                        f"(at {timeline.cycle})",
                    )
                outage_stop.set()
                sink.mode = "ok"
                _wait(lambda: outbox_empty(self.store_url or db), 60, "the outbox to drain")
            finally:
                outage_stop.set()
                service.stop()
            if self.store_url is None:
                assert integrity(db) == "ok"
            for timeline in timelines.values():
                report.mismatches += [f"{timeline.site.name}: {m}" for m in timeline.mismatches]
                report.checks += timeline.cycle
                for fault in timeline.plan.values():
                    report.faults[fault.label] += 1
                report.requests_faulted += timeline.faulty.injected
                report.scripted += Counter(
                    (timeline.site.name, kind, title) for kind, title in timeline.ids.get("log", [])
                )
                report.expected_health += Counter(
                    (timeline.site.name, kind, title)
                    for kind, title in expected_health(timeline.site.name, timeline.outcomes)
                )
            for got in sink.delivered("/changes"):
                report.received[(got.source, got.kind, got.title)] += 1
            for got in sink.delivered("/health"):
                report.received_health[(got.source, got.kind, got.title)] += 1
            ids = Counter(got.id for got in sink.delivered())
            report.duplicate_ids = sorted(i for i, n in ids.items() if n > 1)
            report.sink_failures = sum(1 for s in sink.statuses if s != 200)
            report.expected = self.control(timelines, templates, sink)
        finally:
            sink.stop()
            for server in servers:
                server.stop()
        report.seconds = time.monotonic() - started
        return report

    def _outages(self, sink: Sink, stop: threading.Event) -> None:
        """Now and then the alert sink answers 500 for a while."""
        rng = random.Random(self.seed)
        sink.mode = "fail"  # the first post is always refused, so every run retries
        while not stop.wait(0.05):
            with sink.lock:
                if any(status != 200 for status in sink.statuses):
                    break
        sink.mode = "ok"
        while not stop.wait(rng.uniform(2.0, 4.0)):
            sink.mode = "fail"
            stop.wait(rng.uniform(0.5, 1.5))
            sink.mode = "ok"

    def control(
        self, timelines: dict[str, Timeline], templates: str, sink: WebhookReceiver
    ) -> Counter[tuple[str, str, str]]:
        """The same scripts without faults, one step per check: the alerts a user should get."""
        from monitor.config import load
        from monitor.pipeline.check import Pipeline
        from monitor.store import Store

        expected: Counter[tuple[str, str, str]] = Counter()
        for name, timeline in timelines.items():
            site = timeline.site
            replica = site.make()
            with ReplicaServer(replica) as server:
                db = self.tmp / f"control-{name}.db"
                path = self.tmp / f"control-{name}.toml"
                path.write_text(
                    service_config(
                        f"sqlite:///{db}",
                        [site.settings(replica, server.url)],
                        sink_routes(sink, templates),
                    ),
                    encoding="utf-8",
                )
                config = load(str(path))
                store = Store(config.store.url)
                pipeline = Pipeline(config, store)
                source = config.sources[0]
                ids: dict[str, Any] = {}
                results = [pipeline.check(source)]
                for step in range(timeline.steps):
                    site.actions[step](replica, ids)
                    results.append(pipeline.check(source))
                results += [pipeline.check(source) for _ in range(3)]
                store.close()
                bad = [r.line() for r in results if r.outcome not in HEALTHY]
                assert not bad, f"the control run of {name} failed: {bad}"
                expected += queued_alerts(db, "changes")
        return expected


def assert_report(report: Report) -> None:
    assert report.mismatches == [], "\n".join(report.mismatches)
    missing = report.expected - report.received
    extra = report.received - report.expected
    assert not missing and not extra, (
        f"missing alerts: {dict(missing)}\nextra alerts: {dict(extra)}"
    )
    assert report.received_health == report.expected_health, (
        f"health alerts: expected {dict(report.expected_health)}, "
        f"received {dict(report.received_health)}"
    )
    assert report.duplicate_ids == []


def silence_server_errors(monkeypatch: pytest.MonkeyPatch) -> None:
    """A client that gives up (timeouts, oversize) makes http.server print a traceback."""
    from socketserver import BaseServer

    monkeypatch.setattr(BaseServer, "handle_error", lambda self, request, address: None)
