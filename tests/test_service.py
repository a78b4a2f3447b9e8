"""`regwatch run`: jobs and triggers, the lock, signals, /healthz, logs, retention.

In-process tests use ``monitor.service.run.Service``; the signal, lock and log tests
run the real ``regwatch run`` command in a subprocess against local sites.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from monitor.config import loads
from monitor.errors import ServiceLocked
from monitor.replica.server import ReplicaServer, Request, Response
from monitor.service.run import Service
from monitor.service.scheduler import (
    DigestTrigger,
    build_jobs,
    first_run,
    source_trigger,
    sync_jobs,
)
from tests.helpers.campaign import integrity, service_config, sink_routes
from tests.helpers.faults import Sink, write_templates
from tests.helpers.service import (
    REGWATCH,
    ServiceProcess,
    get_json,
    list_source,
    seed_items,
)
from tests.helpers.wait import wait_for
from tests.receivers import free_port
from tests.sites import Item, ListSite

pytestmark = pytest.mark.usefixtures("quiet_servers")  # conftest: no tracebacks from servers


@pytest.fixture
def site() -> Iterator[tuple[ListSite, ReplicaServer]]:
    replica = ListSite(items=seed_items())
    with ReplicaServer(replica) as server:
        yield replica, server


# -- triggers and jobs -----------------------------------------------------------------------------

CONFIG = """
[service]
timezone = "Asia/Shanghai"
jitter = 0.2
[[source]]
name = "every"
kind = "html-list"
url = "http://127.0.0.1:9/list"
item = "li"
title = "a"
every = "6h"
[[source]]
name = "cron"
kind = "html-list"
url = "http://127.0.0.1:9/list"
item = "li"
title = "a"
cron = "0 8,20 * * *"
[[source]]
name = "off"
kind = "html-list"
url = "http://127.0.0.1:9/list"
item = "li"
title = "a"
enabled = false
[[notify]]
name = "morning"
urls = ["json://127.0.0.1:9/x"]
mode = "digest"
digest = "daily 09:00 Europe/Amsterdam"
"""


def test_interval_trigger_waits_the_interval_plus_up_to_jitter() -> None:
    config = loads(CONFIG)
    trigger = source_trigger(config.sources[0], config)
    assert isinstance(trigger, IntervalTrigger)
    start = datetime(2026, 11, 25, 0, 0, tzinfo=UTC)
    delays = [
        (trigger.get_next_fire_time(start, start) - start).total_seconds() for _ in range(300)
    ]
    assert min(delays) >= 6 * 3600
    assert max(delays) <= 6 * 3600 * 1.2
    assert max(delays) - min(delays) > 3600  # really spread, not a constant


def test_cron_fires_at_the_configured_time_zone() -> None:
    config = loads(CONFIG)
    trigger = source_trigger(config.sources[1], config)
    assert isinstance(trigger, CronTrigger)
    now = datetime(2026, 11, 25, 1, 0, tzinfo=UTC)  # 09:00 in Shanghai
    fire = trigger.get_next_fire_time(None, now)
    assert fire.astimezone(ZoneInfo("Asia/Shanghai")).hour == 20
    assert fire.astimezone(UTC) == datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


def test_after_downtime_an_overdue_source_runs_once_at_start() -> None:
    config = loads(CONFIG)
    every, cron = config.sources[0], config.sources[1]
    now = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
    assert first_run(every, config, None, now) == now  # never checked
    assert first_run(every, config, now - timedelta(days=3), now) == now  # 12 runs missed: one
    resumed = first_run(every, config, now - timedelta(hours=1), now)
    assert resumed is not None
    assert timedelta(hours=5) <= resumed - now <= timedelta(hours=5 + 1.2)
    # cron 08:00/20:00 Shanghai = 00:00/12:00 UTC
    assert first_run(cron, config, datetime(2026, 11, 24, 23, 0, tzinfo=UTC), now) == now
    assert first_run(cron, config, datetime(2026, 11, 25, 9, 0, tzinfo=UTC), now) is None


def test_jobs_are_one_instance_at_a_time_and_coalesced() -> None:
    config = loads(CONFIG)
    specs = build_jobs(config, now=datetime(2026, 11, 25, tzinfo=UTC))
    assert [s.id for s in specs] == [
        "source:every",
        "source:cron",
        "dispatch",
        "digest:morning",
        "reminders",
        "retention",
    ]
    scheduler = BackgroundScheduler(timezone=UTC)
    scheduler.start(paused=True)
    calls: dict[str, Any] = {
        k: (lambda *a: None) for k in ("source", "dispatch", "digest", "reminders", "retention")
    }
    sync_jobs(scheduler, {}, specs, calls)
    jobs = {job.id: job for job in scheduler.get_jobs()}
    assert set(jobs) == {s.id for s in specs}
    assert all(job.max_instances == 1 and job.coalesce for job in jobs.values())
    assert jobs["source:every"].executor == "checks" and jobs["dispatch"].executor == "default"
    assert jobs["source:every"].misfire_grace_time == 6 * 3600

    # a reload that changes one source and drops another
    changed = loads(
        CONFIG.replace('every = "6h"', 'every = "1h"').replace(
            'cron = "0 8,20 * * *"', 'cron = "0 8,20 * * *"\nenabled = false'
        )
    )
    new = build_jobs(changed, now=datetime(2026, 11, 25, tzinfo=UTC))
    before = {s.id: s for s in specs}
    added, removed, rescheduled = sync_jobs(scheduler, before, new, calls)
    assert (added, removed, rescheduled) == ([], ["source:cron"], ["source:every"])
    assert scheduler.get_job("source:cron") is None
    assert "1:00:00" in str(scheduler.get_job("source:every").trigger)
    scheduler.shutdown(wait=False)


def test_digest_job_fires_at_digest_times_across_dst() -> None:
    config = loads(CONFIG)
    trigger = DigestTrigger(config.routes[0])
    before_dst = datetime(2026, 3, 27, 12, 0, tzinfo=UTC)  # DST starts 29 March
    first = trigger.get_next_fire_time(None, before_dst)
    assert first is not None
    second = trigger.get_next_fire_time(first, first)
    assert second is not None
    local = ZoneInfo("Europe/Amsterdam")
    assert first.astimezone(local).hour == 9 and second.astimezone(local).hour == 9
    assert second.astimezone(UTC) - first.astimezone(UTC) == timedelta(hours=23)


# -- the service in-process ----------------------------------------------------------------------------


def make_service(
    tmp_path: Path, sources: list[dict[str, Any]], sink: Sink | None = None, **options: Any
) -> Service:
    routes = sink_routes(sink, write_templates(tmp_path / "tpl")) if sink else []
    path = tmp_path / "regwatch.toml"
    path.write_text(
        service_config(f"sqlite:///{tmp_path / 'regwatch.db'}", sources, routes, **options),
        encoding="utf-8",
    )
    return Service(str(path), grace=5)


class Concurrency:
    """A site app that counts requests in flight and answers slowly: after ``delay``
    seconds, or (``hang=True``) only once the test sets ``release``."""

    def __init__(self, app: Any, delay: float = 0, *, hang: bool = False) -> None:
        self.app, self.delay, self.hang = app, delay, hang
        self.now = self.peak = self.total = 0
        self.lock = threading.Lock()
        self.release = threading.Event()

    def __call__(self, request: Request) -> Response:
        with self.lock:
            self.now += 1
            self.total += 1
            self.peak = max(self.peak, self.now)
        if self.hang and not self.release.is_set():
            self.release.wait(120)
        else:
            time.sleep(self.delay)
        try:
            answer: Response = self.app(request)
            return answer
        finally:
            with self.lock:
                self.now -= 1


def test_a_slow_check_never_overlaps_and_missed_runs_are_coalesced(tmp_path: Path) -> None:
    slow = Concurrency(ListSite(items=seed_items()), delay=0.5)
    with ReplicaServer(slow) as server:
        service = make_service(tmp_path, [list_source(server.url)], every="0.1s")
        checks: list[str] = []
        service.add_listener(lambda result: checks.append(result.outcome))
        service.start()
        try:
            # ticks every 0.1 s, checks of 0.5 s: five ticks fall due during each check
            wait_for(lambda: len(checks) >= 4, 60, "four checks")
        finally:
            service.stop()
    assert slow.peak == 1  # one at a time
    assert checks[0] == "baseline" and set(checks[1:]) == {"unchanged"}


def test_alerts_go_out_right_after_the_check_that_found_them(
    tmp_path: Path, site: tuple[ListSite, ReplicaServer], sink: Sink
) -> None:
    replica, server = site
    service = make_service(tmp_path, [list_source(server.url)], sink, delivery_every="1h")
    results: list[Any] = []
    service.add_listener(results.append)
    service.start()
    try:
        wait_for(lambda: len(results) >= 1, 10, "the baseline")
        new = Item(
            "20261101090000009",
            "嵌合抗原受体T细胞治疗产品药学研究技术指导原则（征求意见稿）",
            "2026-11-01",
        )
        replica.items.insert(0, new)
        # the dispatcher's own schedule is hourly: an alert now means the check kicked it
        wait_for(lambda: sink.delivered("/changes"), 60, "the alert")
        assert sink.delivered("/changes")[0].title == new.title
    finally:
        service.stop()


def test_a_second_service_on_the_same_database_is_refused(
    tmp_path: Path, site: tuple[ListSite, ReplicaServer]
) -> None:
    _, server = site
    first = make_service(tmp_path, [list_source(server.url)])
    first.start()
    try:
        second = make_service(tmp_path, [list_source(server.url)])
        with pytest.raises(ServiceLocked) as caught:
            second.start()
        message = caught.value.message
        assert f"held by pid {os.getpid()} on host " in message and " since 20" in message
        assert str(tmp_path / "regwatch.db") in message
    finally:
        assert first.stop()
    third = make_service(tmp_path, [list_source(server.url)])
    third.start()  # released on stop
    assert third.stop()


def test_the_lock_of_a_killed_service_does_not_block_a_restart(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'regwatch.db'}"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time; from monitor.service.lock import service_lock; "
            f"service_lock({url!r}).acquire(); print('locked', flush=True); time.sleep(60)",
        ],
        stdout=subprocess.PIPE,
        cwd=Path(__file__).parent.parent,
    )
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == b"locked"
        from monitor.service.lock import service_lock

        with pytest.raises(ServiceLocked, match=f"held by pid {holder.pid} "):
            service_lock(url).acquire()
        holder.kill()
        holder.wait(10)
        lock = service_lock(url)
        lock.acquire()
        lock.release()
    finally:
        holder.kill()
        holder.wait(10)
        if holder.stdout is not None:
            holder.stdout.close()


def test_healthz_shows_jobs_and_sources_and_503_when_the_scheduler_is_dead(
    tmp_path: Path, site: tuple[ListSite, ReplicaServer]
) -> None:
    replica, server = site
    service = make_service(tmp_path, [list_source(server.url)])
    results: list[Any] = []
    service.add_listener(results.append)
    service.start()
    try:
        assert service.health_url and service.health_url.startswith("http://127.0.0.1:")
        wait_for(lambda: len(results) >= 1, 10, "a check")
        status, body = get_json(service.health_url)
        assert status == 200 and body["status"] == "ok"
        assert body["scheduler"]["running"] is True
        ids = {job["id"] for job in body["scheduler"]["jobs"]}
        assert {"source:list", "dispatch", "reminders", "retention"} <= ids
        assert all(job["next_run"] for job in body["scheduler"]["jobs"])
        [source] = body["sources"]
        assert source["name"] == "list" and source["last_outcome"] in ("baseline", "unchanged")
        assert source["records"] == 5 and source["consecutive_failures"] == 0
        replica.mode = "error"
        wait_for(
            lambda: (
                get_json(service.health_url or "")[1]["sources"][0]["consecutive_failures"] >= 2
            ),
            10,
            "failures to show",
        )
        status, body = get_json(service.health_url)
        assert status == 200 and "503" in body["sources"][0]["last_error"]
        service.scheduler.shutdown(wait=False)  # the scheduler dies
        status, body = get_json(service.health_url)
        assert status == 503 and body["status"] == "failing"
        assert "the scheduler is not running" in body["problems"]
    finally:
        service.stop()


def test_reminders_job_queues_through_the_reminders_module(
    tmp_path: Path, site: tuple[ListSite, ReplicaServer], monkeypatch: pytest.MonkeyPatch
) -> None:
    import types

    _, server = site
    calls: list[tuple[Any, Any, datetime]] = []
    fake = types.ModuleType("monitor.delivery.reminders")

    def queue_reminders(config: Any, store: Any, now: datetime) -> int:
        calls.append((config, store, now))
        return 0

    fake.queue_reminders = queue_reminders  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "monitor.delivery.reminders", fake)
    service = make_service(tmp_path, [list_source(server.url)])
    service.start()
    try:
        service.scheduler.modify_job("reminders", next_run_time=datetime.now(UTC))
        wait_for(lambda: calls, 5, "the reminders job")
    finally:
        service.stop()
    config, store, now = calls[0]
    assert config is service.config and store is service.store and now.tzinfo is not None


def test_stop_abandons_a_hung_check_after_the_grace_period(tmp_path: Path) -> None:
    slow = Concurrency(ListSite(items=seed_items()), hang=True)
    with ReplicaServer(slow) as server:
        service = make_service(tmp_path, [list_source(server.url)], timeout=300)
        service.start()
        wait_for(lambda: slow.now == 1, 30, "a check in flight")
        assert service.stop(grace=0.2) is False  # returned while the check still hangs
        assert slow.now == 1
        slow.release.set()
        wait_for(lambda: slow.now == 0, 30, "the abandoned check to end")


# -- the real command in a subprocess ----------------------------------------------------------------------


def write_config(
    tmp_path: Path,
    sources: list[dict[str, Any]],
    port: int,
    *,
    sink: Sink | None = None,
    every: str = "0.3s",
    **options: Any,
) -> Path:
    routes = sink_routes(sink, write_templates(tmp_path / "tpl")) if sink else []
    path = tmp_path / "regwatch.toml"
    path.write_text(
        service_config(
            f"sqlite:///{tmp_path / 'regwatch.db'}",
            sources,
            routes,
            listen=f"127.0.0.1:{port}",
            every=every,
            **options,
        ),
        encoding="utf-8",
    )
    return path


@pytest.fixture
def process(tmp_path: Path) -> Iterator[list[ServiceProcess]]:
    started: list[ServiceProcess] = []
    yield started
    for proc in started:
        proc.kill()


def test_regwatch_run_refuses_a_second_start_and_says_who_holds_the_lock(
    tmp_path: Path, site: tuple[ListSite, ReplicaServer], process: list[ServiceProcess]
) -> None:
    _, server = site
    port = free_port()
    config = write_config(tmp_path, [list_source(server.url)], port)
    first = ServiceProcess(config, tmp_path / "first.log").start()
    process.append(first)
    first.wait_healthy(f"http://127.0.0.1:{port}/healthz")
    second = subprocess.run(
        [REGWATCH, "run", "-c", str(config)], capture_output=True, timeout=30, cwd=tmp_path
    )
    assert second.returncode == 3
    assert first.proc is not None
    assert f"held by pid {first.proc.pid} on host".encode() in second.stderr
    first.send(signal.SIGTERM)
    assert first.wait() == 0


def test_sighup_reloads_and_a_broken_file_keeps_the_running_config(
    tmp_path: Path, site: tuple[ListSite, ReplicaServer], process: list[ServiceProcess]
) -> None:
    _, server = site
    port = free_port()
    url = f"http://127.0.0.1:{port}/healthz"
    config = write_config(tmp_path, [list_source(server.url)], port)
    service = ServiceProcess(config, tmp_path / "service.log").start()
    process.append(service)
    body = service.wait_healthy(url)
    assert "source:list" in {job["id"] for job in body["scheduler"]["jobs"]}

    config = write_config(tmp_path, [list_source(server.url, "other", every="1h")], port)
    service.send(signal.SIGHUP)
    wait_for(
        lambda: "source:other" in {j["id"] for j in get_json(url)[1]["scheduler"]["jobs"]},
        10,
        "the reload",
    )
    jobs = {j["id"] for j in get_json(url)[1]["scheduler"]["jobs"]}
    assert "source:list" not in jobs

    config.write_text(
        config.read_text(encoding="utf-8") + "\n[[source]]\nname = 'x'\n", encoding="utf-8"
    )
    service.send(signal.SIGHUP)
    wait_for(lambda: "configuration not reloaded" in service.text(), 10, "the error line")
    line = next(x for x in service.text().splitlines() if "configuration not reloaded" in x)
    assert "regwatch.toml" in line and "kind" in line  # file and what is wrong
    assert "source:other" in {j["id"] for j in get_json(url)[1]["scheduler"]["jobs"]}
    service.send(signal.SIGTERM)
    assert service.wait() == 0


def test_sigterm_lets_the_running_check_finish_and_exits_0(
    tmp_path: Path, process: list[ServiceProcess]
) -> None:
    slow = Concurrency(ListSite(items=seed_items()), delay=1.0)
    with ReplicaServer(slow) as server:
        port = free_port()
        config = write_config(tmp_path, [list_source(server.url)], port, timeout=10)
        service = ServiceProcess(config, tmp_path / "service.log").start()
        process.append(service)
        service.wait_healthy(f"http://127.0.0.1:{port}/healthz")
        wait_for(lambda: slow.now == 1, 10, "a check in flight")
        service.send(signal.SIGTERM)
        assert service.wait(15) == 0
    log = service.text()
    assert "regwatch service stopped" in log and "abandoned" not in log
    assert "list: baseline, 5 records" in log or "list: unchanged, 5 records" in log
    assert integrity(tmp_path / "regwatch.db") == "ok"


def test_sigterm_abandons_a_hung_check_after_the_grace_period_and_it_is_redone(
    tmp_path: Path, process: list[ServiceProcess]
) -> None:
    slow = Concurrency(ListSite(items=seed_items()), hang=True)
    with ReplicaServer(slow) as server:
        port = free_port()
        config = write_config(tmp_path, [list_source(server.url)], port, timeout=60)
        service = ServiceProcess(
            config, tmp_path / "service.log", env={"REGWATCH_STOP_GRACE": "0.5"}
        ).start()
        process.append(service)
        service.wait_healthy(f"http://127.0.0.1:{port}/healthz")
        wait_for(lambda: slow.now == 1, 10, "a check in flight")
        service.send(signal.SIGTERM)
        assert service.wait(60) == 0  # exited while the check still hangs
        assert slow.now == 1 and "abandoned" in service.text()
        assert integrity(tmp_path / "regwatch.db") == "ok"
        slow.release.set()
        again = ServiceProcess(config, tmp_path / "again.log").start()
        process.append(again)
        wait_for(lambda: "list: baseline, 5 records" in again.text(), 30, "the redone check")
        again.send(signal.SIGTERM)
        assert again.wait(15) == 0


def test_json_logs_give_one_object_per_line_and_one_per_check(
    tmp_path: Path, site: tuple[ListSite, ReplicaServer], process: list[ServiceProcess]
) -> None:
    _, server = site
    port = free_port()
    config = write_config(tmp_path, [list_source(server.url)], port, extra='log_format = "json"')
    service = ServiceProcess(config, tmp_path / "service.log").start()
    process.append(service)
    service.wait_healthy(f"http://127.0.0.1:{port}/healthz")
    wait_for(lambda: service.text().count('"outcome"') >= 2, 15, "two checks")
    service.send(signal.SIGTERM)
    assert service.wait() == 0
    lines = [json.loads(line) for line in service.text().splitlines() if line.strip()]
    checks = [line for line in lines if line.get("outcome")]
    assert checks[0]["source"] == "list" and checks[0]["outcome"] == "baseline"
    assert checks[0]["records"] == 5 and checks[0]["changes"] == 0
    assert isinstance(checks[0]["seconds"], float) and checks[0]["level"] == "info"
    assert checks[0]["message"].startswith("list: baseline, 5 records")
    assert any("service started" in line["message"] for line in lines)


# -- retention ---------------------------------------------------------------------------------------


def test_retention_drops_old_snapshots_and_never_the_history(
    tmp_path: Path, site: tuple[ListSite, ReplicaServer]
) -> None:
    import sqlite3

    from monitor.pipeline.check import Pipeline
    from monitor.service.retention import prune_snapshots
    from monitor.store import Store

    replica, server = site
    db = tmp_path / "regwatch.db"
    config = loads(service_config(f"sqlite:///{db}", [list_source(server.url)], []))
    store = Store(config.store.url)
    start = datetime(2026, 1, 1, 9, 0, tzinfo=UTC)
    clock = [start]
    pipeline = Pipeline(config, store, now=lambda: clock[0])
    first_state = list(replica.items)
    for day in range(10):
        clock[0] = start + timedelta(days=day)
        if day in (1, 2, 3, 9):
            replica.items.insert(
                0,
                Item(
                    f"202601{day:02d}090000000", f"细胞治疗通告 第{day}号", f"2026-01-{day + 1:02d}"
                ),
            )
        elif day == 8:
            replica.items = list(first_state)  # the page looks as on day 0 again
        assert pipeline.check(config.sources[0]).outcome != "failed"
    sql = sqlite3.connect(db)

    def counts() -> dict[str, int]:
        return {
            t: sql.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
            for t in ("run", "change", "version", "document", "delivery", "blob")
        }

    before = counts()
    snapshots = [d for (d,) in sql.execute("SELECT snapshot_hash FROM run ORDER BY id")]
    # days 3-7 look alike, and day 8 looks like day 0
    assert snapshots[3:8] == [snapshots[3]] * 5 and snapshots[8] == snapshots[0]
    result = prune_snapshots(store, keep_days=3, keep_versions=2, now=start + timedelta(days=10))
    after = counts()
    assert {t: after[t] for t in after if t != "blob"} == {
        t: before[t] for t in before if t != "blob"
    }
    # kept: the 2 newest snapshots (days 9 and 8 = day 0) and runs of the last 3 days
    # (day 7); dropped: the snapshots of days 1-6; deleted: those of days 1 and 2 only,
    # as days 3-6 share theirs with day 7
    left = [d for (d,) in sql.execute("SELECT snapshot_hash FROM run ORDER BY id")]
    assert [d is None for d in left] == [False] + [True] * 6 + [False] * 3
    assert result.runs_pruned == 6
    assert result.blobs_deleted == 4 and after["blob"] == before["blob"] - 4
    assert result.bytes_freed > 0
    # everything still referenced resolves
    with store.session() as session:
        for digest in {d for d in left if d}:
            manifest = json.loads(store.get_blob(session, digest) or b"[]")
            assert manifest and all(store.get_blob(session, e["hash"]) for e in manifest)
        assert store.get_blob(session, snapshots[1]) is None
        for (digest,) in sql.execute("SELECT text_hash FROM version WHERE text_hash IS NOT NULL"):
            assert store.get_blob(session, digest) is not None
    again = prune_snapshots(store, keep_days=3, keep_versions=2, now=start + timedelta(days=10))
    assert (again.runs_pruned, again.blobs_deleted) == (0, 0)
    sql.close()
    store.close()


def test_the_service_serves_the_read_only_web_ui_when_asked(
    tmp_path: Path, site: tuple[ListSite, ReplicaServer]
) -> None:
    from monitor.web.server import server_url

    _, server = site
    service = make_service(tmp_path, [list_source(server.url)], extra='web = "127.0.0.1:0"')
    results: list[Any] = []
    service.add_listener(results.append)
    service.start()
    try:
        wait_for(lambda: len(results) >= 1, 10, "a check")
        assert service.web_server is not None
        base = server_url(service.web_server)
        page = httpx.get(f"{base}/sources", timeout=5)
        assert page.status_code == 200 and "list" in page.text
        assert httpx.get(f"{base}/changes.json", timeout=5).json() == []
    finally:
        service.stop()
    assert service.web_server is None


def test_healthz_reports_a_job_stuck_past_its_deadline(
    tmp_path: Path, site: tuple[ListSite, ReplicaServer]
) -> None:
    _, server = site
    service = make_service(tmp_path, [list_source(server.url)], every="1h")
    service.job_deadline = 0.2
    entered, release = threading.Event(), threading.Event()

    def stuck(result: Any) -> None:  # holds the check job, as a hung extraction would
        entered.set()
        release.wait(30)

    service.add_listener(stuck)
    service.start()
    try:
        assert entered.wait(10)
        assert service.health_url
        wait_for(lambda: get_json(service.health_url or "")[0] == 503, 10, "a 503")
        status, body = get_json(service.health_url)
        assert status == 503
        assert any("source:list" in p and "past its deadline" in p for p in body["problems"])
        release.set()
        wait_for(lambda: get_json(service.health_url or "")[0] == 200, 10, "ok again")
    finally:
        release.set()
        service.stop()
