"""``check_all``'s group commit (monitor/pipeline/batch.py) writes what single checks write.

``check_all`` reads every source row up front and writes unchanged runs in
batches; ``check`` (what the service runs) reads and writes one source at a
time. The same steps on one real local server, into two SQLite files (one
checked with ``check_all``, one source by source with ``check``), must leave
the same rows behind — run ids, timestamps, snapshots and health included —
with changed and failing sources among the unchanged ones. A batch that
cannot be written loses its unchanged runs and nothing else: no change, no
alert, and the next run is unchanged again.
"""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from monitor.config import Config, loads
from monitor.errors import StoreError
from monitor.pipeline import warm
from monitor.pipeline.check import Pipeline
from monitor.pipeline.results import CheckResult
from monitor.replica.server import ReplicaServer
from monitor.store import Store
from sources.text.selectors import check_css
from tests.sites import Item, ListSite

ITEMS = [
    Item("a1", "细胞治疗产品临床试验技术指导原则", "2026-06-01"),
    Item("a2", "基因治疗产品长期随访临床研究技术指导原则", "2026-05-01"),
    Item("a3", "化学药品注射剂仿制药一致性评价技术要求", "2026-04-01"),
]
TABLES = ("run", "blob", "document", "version", "change", "delivery", "source")


def config(tmp_path: Path, base: str) -> Config:
    """Five sources on the list, one on a page that is not there (it fails)."""
    lines = [
        f'[store]\nurl = "sqlite:///{tmp_path / "regwatch.db"}"\n[http]\ndelay = 0\nretries = 0\n'
    ]
    lines.append('[[notify]]\nname = "all"\nurls = ["json://127.0.0.1:9/inbox"]\n')
    for number in range(6):
        path = "gone" if number == 3 else "list"
        lines.append(
            f'[[source]]\nname = "s{number}"\nkind = "html-list"\n'
            f'url = "{base}/{path}/index.html"\nitem = ".list ul li"\ndate = "span"\n'
        )
    tmp_path.mkdir(parents=True, exist_ok=True)
    return loads("".join(lines))


def stored(db: Path) -> dict[str, list[tuple[Any, ...]]]:
    with sqlite3.connect(db) as connection:
        found = {
            table: connection.execute(f"select * from {table} order by 1").fetchall()
            for table in TABLES
        }
        # a blob's created_at is the wall clock's, not the pipeline's
        found["blob"] = connection.execute(
            "select hash, size, compression, data from blob order by hash"
        ).fetchall()
    return found


class Twins:
    """One server, two stores: ``check_all`` into one, ``check`` per source into the other."""

    def __init__(self, tmp_path: Path, base: str, group_runs: int) -> None:
        self.at = datetime(2026, 7, 1, 8, 0, tzinfo=UTC)
        self.batched = Pipeline(config(tmp_path / "all", base), self._store(tmp_path / "all"))
        self.single = Pipeline(config(tmp_path / "one", base), self._store(tmp_path / "one"))
        self.batched.now = self.single.now = lambda: self.at
        self.batched.group_runs = group_runs
        self.paths = tmp_path / "all" / "regwatch.db", tmp_path / "one" / "regwatch.db"

    @staticmethod
    def _store(folder: Path) -> Store:
        return Store(f"sqlite:///{folder / 'regwatch.db'}")

    def step(self) -> list[tuple[str, int, list[str]]]:
        self.at += timedelta(minutes=1)
        batched = self.batched.check_all()
        single = [self.single.check(s) for s in self.single.config.sources]
        assert [_seen(r) for r in batched] == [_seen(r) for r in single]
        return [_seen(r) for r in batched]


def _seen(result: CheckResult) -> tuple[str, int, list[str]]:
    return result.outcome, result.changes, result.events


@pytest.mark.parametrize("group_runs", [1, 2, 200])
def test_check_all_writes_what_single_checks_write(tmp_path: Path, group_runs: int) -> None:
    site = ListSite(items=list(ITEMS))
    with ReplicaServer(site) as server:
        twins = Twins(tmp_path, server.url, group_runs)
        seen = [twins.step() for _ in range(4)]  # baseline, then unchanged; s3 fails
        del site.items[1]
        seen += [twins.step() for _ in range(3)]  # missing, removed, unchanged
        site.mode = "error"
        seen += [twins.step() for _ in range(3)]  # failing: the third one alerts
        site.mode = "ok"
        seen += [twins.step() for _ in range(2)]  # recovered, unchanged
    assert stored(twins.paths[0]) == stored(twins.paths[1])
    listed = [0, 1, 2, 4, 5]  # s3 fails all along
    assert seen[1] == [("unchanged", 0, [])] * 3 + [("failed", 0, [])] + [("unchanged", 0, [])] * 2
    assert seen[2][3] == ("failed", 0, ["health"])
    assert [seen[5][i] for i in listed] == [("changed", 1, ["removed"])] * 5
    assert [seen[9][i] for i in listed] == [("failed", 0, ["health"])] * 5
    assert [seen[10][i] for i in listed] == [("unchanged", 0, ["recovered"])] * 5
    assert [seen[11][i] for i in listed] == [("unchanged", 0, [])] * 5


def test_a_batch_that_cannot_be_written_loses_only_unchanged_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    site = ListSite(items=list(ITEMS))
    with ReplicaServer(site) as server:
        cfg = config(tmp_path, server.url)
        store = Store(cfg.store.url)
        pipeline = Pipeline(cfg, store)
        pipeline.group_runs = 2
        pipeline.check_all()
        pipeline.check_all()
        before = stored(tmp_path / "regwatch.db")
        real = warm.store_unchanged_runs
        calls: list[int] = []

        def failing(session: Any, runs: Any) -> None:
            calls.append(len(runs))
            if len(calls) == 2:
                raise StoreError("database error: disk I/O error")
            real(session, runs)

        monkeypatch.setattr(warm, "store_unchanged_runs", failing)
        with pytest.raises(StoreError):
            pipeline.check_all()
        monkeypatch.setattr(warm, "store_unchanged_runs", real)
        after = stored(tmp_path / "regwatch.db")
        # s0 and s1 written; s2's batch, written before s3's failure, fails (and with
        # it the check_all: the rest are not checked): no change, no delivery, no
        # document touched
        assert len(after["run"]) == len(before["run"]) + 2
        for table in ("blob", "document", "version", "change", "delivery"):
            assert after[table] == before[table], table
        results = pipeline.check_all()
    listed = [results[i] for i in (0, 1, 2, 4, 5)]
    assert [(r.outcome, r.changes, r.alerts, r.events) for r in listed] == [
        ("unchanged", 0, 0, [])
    ] * 5


def test_a_source_with_something_due_takes_the_full_path_in_check_all_too(
    tmp_path: Path,
) -> None:
    """A document missing (marked by hand): the prefetch names the source as one
    that may have something due, the per-source question says it has, and the
    full path writes the run, as a single check does."""
    site = ListSite(items=list(ITEMS))
    with ReplicaServer(site) as server:
        twins = Twins(tmp_path, server.url, 200)
        twins.step()
        twins.step()
        for path in twins.paths:
            with sqlite3.connect(path) as connection:
                s0 = "(select id from source where name = 's0')"
                connection.execute(
                    f"update document set missing_runs = 1 where source_id = {s0} and key = "
                    f"(select min(key) from document where source_id = {s0})"
                )
        seen = twins.step()
    assert seen[0][0] == "changed"  # the full path: the "missing" record is gone for good
    assert seen[1] == ("unchanged", 0, [])
    assert stored(twins.paths[0]) == stored(twins.paths[1])


@pytest.mark.parametrize(
    "selector",
    [".list ul li", "span", "a", "div#main>a", "*.x", " li ", "h1 > a.b", ".-a", "a--b c"],
)
def test_simple_selectors_pass_without_soupsieve(selector: str) -> None:
    import soupsieve

    soupsieve.compile(selector)  # valid for soupsieve too
    assert check_css(selector) == selector


@pytest.mark.parametrize("selector", ["a..b", "#1a", "", "a >", "> a", "a>>b", "a[", "li:nope"])
def test_invalid_selectors_still_name_the_problem(selector: str) -> None:
    with pytest.raises(ValueError, match="invalid CSS selector"):
        check_css(selector)
