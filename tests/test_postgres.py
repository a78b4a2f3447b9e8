"""PostgreSQL as the store: migrations, the pipeline, the dispatcher, the service
lock (an advisory lock), retention and a short fault campaign of the service.

Needs a server: ``source .ci/start-postgres.sh`` installs (Debian) and starts one
and exports ``REGWATCH_TEST_PG_URL``; CI does that in ``.ci/run``. Each test
gets a fresh database of its own on that server.
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from monitor.config import loads
from monitor.errors import ServiceLocked
from monitor.replica.server import ReplicaServer
from monitor.service.run import Service
from tests.helpers.campaign import (
    Campaign,
    assert_report,
    service_config,
    silence_server_errors,
    sink_routes,
)
from tests.helpers.faults import Sink, all_sites, write_templates
from tests.helpers.service import list_source, seed_items
from tests.helpers.stores import fresh_pg_database
from tests.helpers.wait import wait_for
from tests.sites import Item, ListSite

PG_URL = os.environ.get("REGWATCH_TEST_PG_URL")

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(
        not PG_URL,
        reason="REGWATCH_TEST_PG_URL is not set: `source .ci/start-postgres.sh` installs and "
        "starts a local PostgreSQL and sets it (CI does)",
    ),
    pytest.mark.skipif(
        importlib.util.find_spec("psycopg") is None,
        reason="psycopg is not installed: pip install -e '.[postgres]'",
    ),
]


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A fresh, empty database on the test server; dropped afterwards."""
    assert PG_URL
    with fresh_pg_database(PG_URL) as url:
        yield url


@pytest.fixture
def site() -> Iterator[tuple[ListSite, ReplicaServer]]:
    replica = ListSite(items=seed_items())
    with ReplicaServer(replica) as server:
        yield replica, server


def test_pipeline_and_dispatcher_on_postgres(
    pg_url: str, site: tuple[ListSite, ReplicaServer], tmp_path: Path
) -> None:
    from monitor.delivery.dispatch import Dispatcher
    from monitor.history import ChangeFilter, get_change, list_changes
    from monitor.pipeline.check import Pipeline
    from monitor.store import Store

    replica, server = site
    with Sink() as sink:
        config = loads(
            service_config(
                pg_url,
                [list_source(server.url)],
                sink_routes(sink, write_templates(tmp_path / "tpl")),
            )
        )
        store = Store(config.store.url)
        assert {"source", "run", "blob", "document", "version", "change", "delivery"} <= set(
            store.tables()
        )
        pipeline = Pipeline(config, store)
        source = config.sources[0]
        assert pipeline.check(source).outcome == "baseline"
        new = Item(
            "20261101090000009",
            "嵌合抗原受体T细胞治疗产品药学研究技术指导原则（征求意见稿）",
            "2026-11-01",
        )
        replica.items.insert(0, new)
        assert pipeline.check(source).changes == 1
        gone = replica.items.pop()
        pipeline.check(source)
        assert pipeline.check(source).changes == 1  # removed after two healthy runs
        replica.mode = "error"
        outcomes = [pipeline.check(source).outcome for _ in range(2)]
        assert outcomes == ["failed", "failed"]
        replica.mode = "ok"
        recovered = pipeline.check(source)
        assert recovered.outcome == "unchanged"
        # the same page again, nothing due: the warm path (monitor/pipeline/warm.py)
        warm = pipeline.check(source)
        assert (warm.outcome, warm.records, warm.events) == ("unchanged", recovered.records, [])

        result = Dispatcher(config, store).run_once()
        assert result.sent == 4 and result.failed == 0
        got = {(a.kind, a.title) for a in sink.delivered()}
        assert got == {
            ("draft", new.title),
            ("removed", gone.title),
            ("health", "list is failing"),
            ("recovered", "list works again"),
        }
        assert Dispatcher(config, store).run_once().sent == 0  # never twice
        changes = list_changes(store, ChangeFilter(atmp="cell_therapy"))
        assert [c["title"] for c in changes] == [new.title]
        assert get_change(store, changes[0]["id"])["detected_at"].endswith("+00:00")
        store.close()


def test_the_service_lock_on_postgres_says_who_holds_it(
    pg_url: str, site: tuple[ListSite, ReplicaServer], tmp_path: Path
) -> None:
    _, server = site
    path = tmp_path / "regwatch.toml"
    path.write_text(service_config(pg_url, [list_source(server.url)], []), encoding="utf-8")
    first = Service(str(path), grace=5)
    first.start()
    try:
        with pytest.raises(ServiceLocked) as caught:
            Service(str(path), grace=5).start()
        assert f"held by pid {os.getpid()} on host " in caught.value.message
        assert "since 20" in caught.value.message and "postgresql" in caught.value.message
    finally:
        assert first.stop()
    second = Service(str(path), grace=5)
    second.start()
    assert second.stop()


def test_retention_on_postgres(pg_url: str, site: tuple[ListSite, ReplicaServer]) -> None:
    from datetime import UTC, datetime, timedelta

    from monitor.pipeline.check import Pipeline
    from monitor.service.retention import prune_snapshots
    from monitor.store import Store

    replica, server = site
    config = loads(service_config(pg_url, [list_source(server.url)], []))
    store = Store(config.store.url)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    clock = [start]
    pipeline = Pipeline(config, store, now=lambda: clock[0])
    for day in range(6):
        clock[0] = start + timedelta(days=day)
        replica.items.insert(
            0, Item(f"2026010{day}0900000", f"细胞治疗通告 第{day}号", "2026-01-01")
        )
        pipeline.check(config.sources[0])
    blobs = store.blob_count()
    result = prune_snapshots(store, keep_days=2, keep_versions=1, now=start + timedelta(days=6))
    # newest snapshot (day 5) and runs since day 4 kept; days 0-3 go: 4 manifests + 4 pages
    assert result.runs_pruned == 4 and result.blobs_deleted == 8
    assert store.blob_count() == blobs - 8
    store.close()


def test_the_service_survives_faults_on_postgres(
    pg_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The fault campaign, shortened, with the service's store on PostgreSQL."""
    silence_server_errors(monkeypatch)
    sites = [s for s in all_sites() if s.name in ("list-site", "cde-replica", "fda-guidance")]
    report = Campaign(tmp_path, sites, cycles=20, seed=3, store_url=pg_url).run()
    print(report.summary())
    assert_report(report)
    assert sum(report.expected.values()) >= 10


def test_service_waits_for_the_checks_in_flight_on_postgres(
    pg_url: str, site: tuple[ListSite, ReplicaServer], tmp_path: Path
) -> None:
    _, server = site
    path = tmp_path / "regwatch.toml"
    path.write_text(service_config(pg_url, [list_source(server.url)], []), encoding="utf-8")
    service = Service(str(path), grace=5)
    results: list[str] = []
    service.add_listener(lambda r: results.append(r.outcome))
    service.start()
    try:
        wait_for(lambda: len(results) >= 3, 15, "three checks")
    finally:
        assert service.stop()
    assert results[0] == "baseline" and set(results[1:]) == {"unchanged"}
