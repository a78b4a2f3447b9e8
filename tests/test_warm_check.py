"""The warm check (monitor/pipeline/warm.py) writes what the full path writes.

An unchanged check whose page is the last healthy listing's, with nothing
due, is written by three SQL Core statements instead of the ORM path. These
tests run the same scenarios on a real local server and SQLite file twice —
the warm path on, and off — and compare what the stores hold, including the
runs' timestamps and the sources' health, since the warm path writes those
itself. Health events (failing, blocked, recovered) must come out the same.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from monitor.pipeline import warm
from monitor.pipeline.check import Pipeline
from monitor.pipeline.results import CheckResult
from monitor.replica.server import ReplicaServer
from monitor.store import Store
from tests.helpers.config import list_config
from tests.sites import Item, ListSite

ITEMS = [
    Item("a1", "细胞治疗产品临床试验技术指导原则", "2026-06-01"),
    Item("a2", "基因治疗产品长期随访临床研究技术指导原则", "2026-05-01"),
    Item("a3", "化学药品注射剂仿制药一致性评价技术要求", "2026-04-01"),
]

TABLES = {
    "run": "select source_id, started_at, finished_at, outcome, http_status, record_count,"
    " changes, error, snapshot_hash, item_errors from run order by id",
    "blob": "select hash, size, compression from blob order by hash",
    "document": "select key, title, url, state, missing_runs, last_seen, record from document"
    " order by id",
    "change": "select kind, event, title, detail from change order by id",
    "delivery": "select count(*) from delivery",
    "source": "select * from source",
}


class Clock:
    """A clock that stands still until the test moves it (one minute per check)."""

    def __init__(self) -> None:
        self.at = datetime(2026, 7, 1, 8, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.at


def stored(db: Path, base: str) -> dict[str, list[tuple[Any, ...]]]:
    rows: dict[str, list[tuple[Any, ...]]] = {}
    with sqlite3.connect(db) as connection:
        for name, sql in TABLES.items():
            cursor = connection.execute(sql)
            # the page digest covers the settings, whose URL names the server's port
            shown = [i for i, d in enumerate(cursor.description) if d[0] != "page_digest"]
            rows[name] = [tuple(row[i] for i in shown) for row in cursor.fetchall()]
    return {
        name: [tuple(str(v).replace(base, "BASE") for v in row) for row in found]
        for name, found in rows.items()
    }


def run_scenario(
    tmp_path: Path, steps: Callable[[ListSite, Callable[[], CheckResult]], None]
) -> tuple[list[tuple[str, list[str]]], dict[str, list[Any]]]:
    site = ListSite(items=list(ITEMS))
    results: list[tuple[str, list[str]]] = []
    with ReplicaServer(site) as server:
        cfg = list_config(tmp_path, server.url)
        clock = Clock()
        pipeline = Pipeline(cfg, Store(cfg.store.url), now=clock)

        def check() -> CheckResult:
            clock.at += timedelta(minutes=1)
            result = pipeline.check(cfg.sources[0])
            results.append((result.outcome, result.events))
            return result

        steps(site, check)
        base = server.url
    # the server's port differs between the two runs, and with it the snapshots' hashes
    return results, stored(tmp_path / "regwatch.db", base)


def both_ways(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    steps: Callable[[ListSite, Callable[[], CheckResult]], None],
) -> tuple[list[tuple[str, list[str]]], int]:
    """Run ``steps`` with the warm path and without; assert equal stores; the
    outcomes, and how many runs the warm path wrote."""
    written: list[bool] = []
    real = warm.store_unchanged

    def counting(*args: Any) -> bool:
        written.append(real(*args))
        return written[-1]

    monkeypatch.setattr(warm, "store_unchanged", counting)
    with_warm = run_scenario(tmp_path / "warm", steps)
    monkeypatch.setattr(warm, "store_unchanged", lambda *_: False)
    without = run_scenario(tmp_path / "full", steps)
    assert with_warm[0] == without[0]
    for table in TABLES:
        if table in ("run", "blob"):  # snapshots name the URL, whose port differs
            assert len(with_warm[1][table]) == len(without[1][table]), table
            continue
        assert with_warm[1][table] == without[1][table], table
    runs = [row[:8] + row[9:] for row in with_warm[1]["run"]]
    assert runs == [row[:8] + row[9:] for row in without[1]["run"]]
    return with_warm[0], sum(written)


def test_unchanged_checks_write_the_same_runs_and_source(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def steps(site: ListSite, check: Callable[[], CheckResult]) -> None:
        for _ in range(4):
            check()

    outcomes, warm_runs = both_ways(tmp_path, monkeypatch, steps)
    assert [outcome for outcome, _ in outcomes] == ["baseline"] + ["unchanged"] * 3
    assert warm_runs == 3


def test_a_missing_record_takes_the_full_path_until_it_is_removed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def steps(site: ListSite, check: Callable[[], CheckResult]) -> None:
        check()
        check()
        del site.items[1]
        for _ in range(4):  # missing once, then removed; then the same page, nothing due
            check()

    outcomes, warm_runs = both_ways(tmp_path, monkeypatch, steps)
    assert [outcome for outcome, _ in outcomes] == [
        "baseline",
        "unchanged",
        "unchanged",
        "changed",
        "unchanged",
        "unchanged",
    ]
    assert warm_runs == 3  # the 2nd check, and the last two


def test_health_events_fire_around_warm_checks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Failing (after alert_after = 3), blocked, recovered: the same events and the
    same source row either way; the recovery itself takes the full path."""

    def steps(site: ListSite, check: Callable[[], CheckResult]) -> None:
        check()
        check()
        site.mode = "error"
        for _ in range(3):
            check()
        site.mode = "ok"
        check()  # recovered
        check()
        site.mode = "challenge"
        for _ in range(3):
            check()
        site.mode = "ok"
        check()
        check()

    outcomes, warm_runs = both_ways(tmp_path, monkeypatch, steps)
    events = [event for _, found in outcomes for event in found]
    assert events == ["health", "recovered", "health", "recovered"]
    assert [outcome for outcome, _ in outcomes][2:5] == ["failed"] * 3
    assert [outcome for outcome, _ in outcomes][7:10] == ["blocked"] * 3
    assert warm_runs == 3  # the 2nd check and the one after each recovery


def test_an_unchanged_run_adds_little_to_the_store(tmp_path: Path) -> None:
    site = ListSite(items=list(ITEMS))
    with ReplicaServer(site) as server:
        cfg = list_config(tmp_path, server.url)
        pipeline = Pipeline(cfg, Store(cfg.store.url))
        pipeline.check(cfg.sources[0])
        db = tmp_path / "regwatch.db"

        def counts() -> tuple[int, ...]:
            with sqlite3.connect(db) as connection:
                return tuple(
                    connection.execute(f"select count(*) from {table}").fetchone()[0]
                    for table in ("run", "blob", "document", "version", "change")
                )

        before = counts()
        assert pipeline.check(cfg.sources[0]).outcome == "unchanged"
        after = counts()
    assert after[0] == before[0] + 1  # one run row
    assert after[1:] == before[1:]  # the page's blob and manifest were stored already
