"""kill -9 of the service at random moments, mid-check and mid-delivery.

The real ``regwatch run`` runs in a subprocess against two sites that change
step by step (the hand-scripted list site and the CDE replica); the test
kills it with SIGKILL again and again — at random moments, while a check is
reading the site, while an alert is being posted — and restarts it. After
every kill the database must pass ``PRAGMA integrity_check``. At the end:

- every change of the script arrived, each once (compared by alert id, and
  by kind + title with the script and with a control run);
- the only alerts that arrive twice are those the kill caught in the
  "sending" state after the receiver had already taken them: the outbox is
  at-least-once by design (the only alternative is at-most-once, which can
  lose alerts), and the test counts those.
"""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from monitor.replica.server import ReplicaServer, Request, Response
from tests.helpers.campaign import (
    integrity,
    outbox_empty,
    queued_alerts,
    service_config,
    silence_server_errors,
    sink_routes,
)
from tests.helpers.faults import HEALTHY, Sink, all_sites, write_templates
from tests.helpers.service import ServiceProcess, get_json
from tests.helpers.wait import wait_for
from tests.receivers import free_port


class Guarded:
    """A site app that takes a lock (shared with the script) and answers a little slowly,
    so that checks last long enough to be killed in the middle."""

    def __init__(self, app: Any, delay: float) -> None:
        self.app, self.delay = app, delay
        self.lock = threading.Lock()
        self.in_flight = 0

    def __call__(self, request: Request) -> Response:
        self.in_flight += 1
        try:
            time.sleep(self.delay)
            with self.lock:
                answer: Response = self.app(request)
                return answer
        finally:
            self.in_flight -= 1


class SlowSink(Sink):
    """A webhook that takes its time, so kills can land while an alert is being posted."""

    def __init__(self, delay: float) -> None:
        super().__init__()
        self.delay = delay
        self.in_flight = 0

    def _app(self, request: Request) -> Response:
        self.in_flight += 1
        try:
            response = super()._app(request)
            time.sleep(self.delay)
            return response
        finally:
            self.in_flight -= 1


def healthy_runs(db: Path, source: str) -> int:
    try:
        connection = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)
    except sqlite3.Error:
        return 0
    try:
        row = connection.execute(
            "SELECT count(*) FROM run JOIN source ON source.id = run.source_id "
            "WHERE source.name = ? AND run.outcome IN (?, ?, ?)",
            (source, *HEALTHY),
        ).fetchone()
        return int(row[0])
    except sqlite3.Error:
        return 0
    finally:
        connection.close()


def sending_ids(db: Path) -> set[str]:
    """Alert ids of deliveries a kill left in "sending"."""
    import json

    connection = sqlite3.connect(db)
    try:
        rows = connection.execute("SELECT alert FROM delivery WHERE status = 'sending'").fetchall()
    except sqlite3.Error:  # killed before its first migration finished: nothing sent yet
        return set()
    finally:
        connection.close()
    return {json.loads(text)["id"] for (text,) in rows}


@dataclass
class Script:
    """Moves one site through its steps; a step is applied only once the service has
    finished a healthy check that started after the previous step."""

    name: str
    replica: Any
    guard: Guarded
    actions: list[Callable[[Any, dict[str, Any]], None]]
    steps: int
    applied: int = 0
    ids: dict[str, Any] = field(default_factory=dict)
    runs_at_step: int = -1  # the first step waits for the baseline

    def advance(self, db: Path) -> None:
        runs = healthy_runs(db, self.name)
        if self.applied >= self.steps or runs < self.runs_at_step + 2:
            return
        with self.guard.lock:
            self.actions[self.applied](self.replica, self.ids)
        self.applied += 1
        self.runs_at_step = runs

    def settled(self, db: Path) -> bool:
        return self.applied >= self.steps and healthy_runs(db, self.name) >= self.runs_at_step + 3


@dataclass
class KillReport:
    kills: Counter[str] = field(default_factory=Counter)
    integrity: list[str] = field(default_factory=list)
    expected: Counter[tuple[str, str, str]] = field(default_factory=Counter)
    received: Counter[tuple[str, str, str]] = field(default_factory=Counter)
    duplicates: Counter[str] = field(default_factory=Counter)
    allowed: Counter[str] = field(default_factory=Counter)  # id -> kills that caught it
    scripted: Counter[tuple[str, str, str]] = field(default_factory=Counter)
    restarts: int = 0
    seconds: float = 0.0

    def summary(self) -> str:
        kills = ", ".join(f"{k} {v}" for k, v in sorted(self.kills.items()))
        return (
            f"{sum(self.kills.values())} kill -9 ({kills}), {self.restarts} restarts, "
            f"integrity_check ok {self.integrity.count('ok')}/{len(self.integrity)}; "
            f"alerts expected {sum(self.expected.values())}, received "
            f"{sum(self.received.values())} distinct; sent twice: "
            f"{sum(n - 1 for n in self.duplicates.values())} (kills that caught an alert "
            f"already received but not yet marked sent: {sum(self.allowed.values())}); "
            f"{self.seconds:.0f}s"
        )


MODES = ("random", "mid-check", "mid-delivery")


def run_kills(
    tmp_path: Path,
    kills: int,
    steps: int,
    seed: int,
    *,
    sink_delay: float = 0.15,
    modes: tuple[str, ...] = MODES,
) -> KillReport:
    """``kills`` kill -9 in turn of each of ``modes``; the sink takes ``sink_delay`` s
    per alert (a slow receiver widens the window in which a kill causes a resend)."""
    tmp_path.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    report = KillReport()
    started = time.monotonic()
    sites = {s.name: s for s in all_sites() if s.name in ("list-site", "cde-replica")}
    sink = SlowSink(delay=sink_delay).start()
    servers: list[ReplicaServer] = []
    scripts: list[Script] = []
    sources = []
    for site in sites.values():
        replica = site.make()
        guard = Guarded(replica, delay=0.05)
        server = ReplicaServer(guard).start()
        servers.append(server)
        scripts.append(Script(site.name, replica, guard, site.actions, steps))
        sources.append(site.settings(replica, server.url))
    db = tmp_path / "regwatch.db"
    port = free_port()
    config = tmp_path / "regwatch.toml"
    config.write_text(
        service_config(
            f"sqlite:///{db}",
            sources,
            sink_routes(sink, write_templates(tmp_path / "tpl")),
            every="0.3s",
            listen=f"127.0.0.1:{port}",
            timeout=5,
        ),
        encoding="utf-8",
    )
    stop = threading.Event()

    def drive() -> None:
        while not stop.wait(0.1):
            for script in scripts:
                script.advance(db)

    driver = threading.Thread(target=drive, daemon=True)
    driver.start()
    guards = [s.guard for s in scripts]
    current: ServiceProcess | None = None
    try:
        for number in range(kills):
            current = ServiceProcess(config, tmp_path / "service.log").start()
            # /healthz answers once the database is open and migrated: a kill before that
            # would leave nothing for the checks below to read (on a busy machine the
            # schema can take seconds to appear)
            current.wait_healthy(f"http://127.0.0.1:{port}/healthz", timeout=60)
            report.restarts += 1
            mode = modes[number % len(modes)]
            time.sleep(rng.uniform(0.3, 1.5))
            if mode == "mid-check":
                _until(lambda: any(g.in_flight for g in guards), 10)
            elif mode == "mid-delivery":
                if not _until(lambda: sink.in_flight > 0, 6):
                    mode = "random (no delivery in flight)"
            else:
                time.sleep(rng.uniform(0, 1.5))
            time.sleep(rng.uniform(0, 0.08))
            current.kill()  # SIGKILL
            report.kills[mode] += 1
            report.integrity.append(integrity(db))
            delivered = {got.id for got in sink.delivered()}
            report.allowed.update(sending_ids(db) & delivered)
        # the last start: let the scripts finish and the outbox drain, then stop cleanly
        current = ServiceProcess(config, tmp_path / "service.log").start()
        report.restarts += 1
        wait_for(lambda: all(s.settled(db) for s in scripts), 60 + steps * 3, "the scripts")
        wait_for(lambda: outbox_empty(db), 60, "the outbox to drain")
        current.send(signal.SIGTERM)
        assert current.wait(30) == 0
        report.integrity.append(integrity(db))
    finally:
        stop.set()
        if current is not None:
            current.kill()
    by_id: dict[str, tuple[str, str, str]] = {}
    for got in sink.delivered("/changes"):
        by_id[got.id] = (got.source, got.kind, got.title)
    report.received = Counter(by_id.values())
    report.duplicates = Counter(got.id for got in sink.delivered())
    report.duplicates = Counter({k: v for k, v in report.duplicates.items() if v > 1})
    for script in scripts:
        report.scripted += Counter(
            (script.name, kind, title) for kind, title in script.ids.get("log", [])
        )
    report.expected = control(tmp_path, sites, {s.name: s.applied for s in scripts})
    sink.stop()
    for server in servers:
        server.stop()
    report.seconds = time.monotonic() - started
    return report


def _until(predicate: Callable[[], bool], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.005)
    return True


def control(
    tmp_path: Path, sites: dict[str, Any], steps: dict[str, int]
) -> Counter[tuple[str, str, str]]:
    """The alerts one uninterrupted check per step gives."""
    from monitor.config import load
    from monitor.pipeline.check import Pipeline
    from monitor.store import Store

    expected: Counter[tuple[str, str, str]] = Counter()
    for name, site in sites.items():
        replica = site.make()
        with ReplicaServer(replica) as server:
            db = tmp_path / f"control-{name}.db"
            path = tmp_path / f"control-{name}.toml"
            path.write_text(
                service_config(
                    f"sqlite:///{db}",
                    [site.settings(replica, server.url)],
                    sink_routes(Sink(), str(tmp_path / "tpl")),
                    timeout=5,
                ),
                encoding="utf-8",
            )
            config = load(str(path))
            store = Store(config.store.url)
            pipeline = Pipeline(config, store)
            ids: dict[str, Any] = {}
            pipeline.check(config.sources[0])
            for step in range(steps[name]):
                site.actions[step](replica, ids)
                pipeline.check(config.sources[0])
            for _ in range(3):
                pipeline.check(config.sources[0])
            store.close()
            expected += queued_alerts(db, "changes")
    return expected


def assert_kill_report(report: KillReport) -> None:
    assert report.integrity and set(report.integrity) == {"ok"}
    missing = report.expected - report.received
    extra = report.received - report.expected
    assert not missing and not extra, f"missing: {dict(missing)}\nextra: {dict(extra)}"
    scripted = {k: v for k, v in report.scripted.items()}
    received_list = {k: v for k, v in report.received.items() if k[0] == "list-site"}
    assert received_list == scripted
    # sent twice only when the kill caught the delivery after the receiver took it
    for alert_id, count in report.duplicates.items():
        assert count - 1 <= report.allowed[alert_id], report.summary()


@pytest.fixture
def quiet(monkeypatch: pytest.MonkeyPatch) -> None:
    """No tracebacks from local servers whose client gave up."""
    silence_server_errors(monkeypatch)


@pytest.mark.timeout(900)  # seven starts of `regwatch run`: minutes on a busy machine
def test_kill_9_loses_nothing_and_keeps_the_database_sound(tmp_path: Path, quiet: None) -> None:
    """Six kills (two of each mode) over ten script steps per site. Its waits are on
    conditions, each with its own limit, so the test's timeout is only a backstop."""
    report = run_kills(tmp_path, kills=6, steps=10, seed=9)
    print(report.summary())
    assert_kill_report(report)
    assert sum(report.expected.values()) >= 12
    assert report.kills["mid-check"] >= 1


@pytest.mark.slow
@pytest.mark.timeout(3600)
def test_kill_9_campaign(tmp_path: Path, quiet: None) -> None:
    """The figures the README quotes: ``REGWATCH_KILLS`` kills (60)."""
    kills = int(os.environ.get("REGWATCH_KILLS", "60"))
    report = run_kills(tmp_path, kills=kills, steps=max(10, kills // 2), seed=1)
    print(report.summary())
    assert_kill_report(report)
    # the everyday case: a receiver that answers at once, kills at any moment
    quick = run_kills(
        tmp_path / "quick",
        kills=kills // 2,
        steps=max(10, kills // 4),
        seed=2,
        sink_delay=0.0,
        modes=("random", "mid-check"),
    )
    print("fast receiver:", quick.summary())
    assert_kill_report(quick)


def test_health_endpoint_is_back_after_a_kill(tmp_path: Path, quiet: None) -> None:
    site = all_sites()[0]
    replica = site.make()
    with ReplicaServer(replica) as server:
        port = free_port()
        config = tmp_path / "regwatch.toml"
        config.write_text(
            service_config(
                f"sqlite:///{tmp_path / 'regwatch.db'}",
                [site.settings(replica, server.url)],
                [],
                listen=f"127.0.0.1:{port}",
            ),
            encoding="utf-8",
        )
        first = ServiceProcess(config, tmp_path / "service.log").start()
        first.wait_healthy(f"http://127.0.0.1:{port}/healthz")
        first.kill()
        second = ServiceProcess(config, tmp_path / "service.log").start()
        try:
            body = second.wait_healthy(f"http://127.0.0.1:{port}/healthz")
            assert body["status"] == "ok" and body["pid"] == (
                second.proc.pid if second.proc else None
            )
            wait_for(
                lambda: (
                    get_json(f"http://127.0.0.1:{port}/healthz")[1]["sources"][0]["last_outcome"]
                    in HEALTHY
                ),
                15,
                "a check after the restart",
            )
        finally:
            second.send(signal.SIGTERM)
            assert second.wait(30) == 0
