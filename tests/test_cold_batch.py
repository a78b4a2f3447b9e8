"""``check_all``'s first run: baselines written in the host group's transaction
(monitor/pipeline/baselines.py, batch.py) leave what per-source checks leave.

A first run of six sources (one on a page that is not there: it fails, and
the baselines before it are written before its failed run) with
``check_all`` into one store and with ``check`` source by source into
another must leave the same rows, on SQLite files and on PostgreSQL
(``REGWATCH_TEST_PG_URL``). One source whose write fails in the middle of
the group costs the others nothing: the group is written again one source
at a time, and that source's failure is recorded as ``check`` records it. A
crash in the middle of a group's write keeps nothing of that group: no
document without the run that made it, no source counted healthy without
its documents; the next run takes those baselines again.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from monitor.config import Config, loads
from monitor.errors import StoreError
from monitor.pipeline import warm
from monitor.pipeline.check import Pipeline
from monitor.pipeline.documents import DocumentWriter
from monitor.pipeline.results import CheckResult
from monitor.pipeline.writes import Writes
from monitor.replica.server import ReplicaServer
from monitor.store import Store
from monitor.store.models import SourceRow
from tests.helpers.stores import count_raw_commits, store_url
from tests.sites import Item, ListSite

ITEMS = [
    Item("a1", "细胞治疗产品临床试验技术指导原则", "2026-06-01"),
    Item("a2", "基因治疗产品长期随访临床研究技术指导原则", "2026-05-01"),
    Item("a3", "化学药品注射剂仿制药一致性评价技术要求", "2026-04-01"),
]
TABLES = ("source", "run", "document", "version", "change", "delivery", "search_entry")
BACKENDS = ["sqlite", "postgres"]
AT = datetime(2026, 7, 1, 8, 0, tzinfo=UTC)


def config(url: str, base: str) -> Config:
    """Six sources on the list, the fourth on a page that is not there (it fails)."""
    lines = [f'[store]\nurl = "{url}"\n[http]\ndelay = 0\nretries = 0\n']
    lines.append(
        '[[notify]]\nname = "all"\nurls = ["json://127.0.0.1:9/inbox"]\n'
        'match = { kinds = ["baseline", "health", "added"] }\n'
    )
    for number in range(6):
        path = "gone" if number == 3 else "list"
        lines.append(
            f'[[source]]\nname = "s{number}"\nkind = "html-list"\n'
            f'url = "{base}/{path}/index.html"\nitem = ".list ul li"\ndate = "span"\n'
        )
    return loads("".join(lines))


def pipeline(url: str, base: str) -> Pipeline:
    made = Pipeline(config(url, base), Store(url), now=lambda: AT)
    made.group_seconds = 3600.0  # groups end by count or by a write, never by the clock
    return made


def stored(store: Store) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of ``TABLES`` by id; blobs by hash (their ``created_at`` is the
    wall clock's, not the pipeline's)."""
    metadata = sa.MetaData()
    found: dict[str, list[tuple[Any, ...]]] = {}
    with store.engine.connect() as connection:
        for name in TABLES:
            table = sa.Table(name, metadata, autoload_with=connection)
            query = sa.select(table).order_by(table.c.id)
            found[name] = [tuple(row) for row in connection.execute(query)]
        blob = sa.Table("blob", metadata, autoload_with=connection)
        query = sa.select(blob.c.hash, blob.c.size, blob.c.data).order_by(blob.c.hash)
        found["blob"] = [tuple(row) for row in connection.execute(query)]
    return found


def seen(results: list[CheckResult]) -> list[tuple[str, int | None, int, list[str], str]]:
    return [(r.outcome, r.records, r.alerts, r.events, r.error) for r in results]


def commits(store: Store) -> list[int]:
    """A list that counts the store's commits from now on: SQLAlchemy's, and the
    write transactions ``Store.raw`` runs on sqlite3 itself."""
    counted: list[int] = []
    sa.event.listen(store.engine, "commit", lambda _connection: counted.append(1))
    count_raw_commits(store, counted)
    return counted


def consistent(store: Store) -> None:
    """No document without its source's baseline run; no source counted healthy
    without its documents and that run."""
    with store.engine.connect() as connection:
        sources = connection.execute(
            sa.text(
                "SELECT s.name, s.healthy_runs,"
                " (SELECT count(*) FROM document d WHERE d.source_id = s.id),"
                " (SELECT count(*) FROM run r WHERE r.source_id = s.id AND r.outcome = 'baseline'),"
                " (SELECT count(*) FROM search_entry e WHERE e.source_id = s.id)"
                " FROM source s ORDER BY s.id"
            )
        ).all()
    for name, healthy, documents, baselines, entries in sources:
        assert (documents, baselines, entries) == ((3, 1, 3) if healthy else (0, 0, 0)), name


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_first_check_all_writes_what_single_checks_write(
    tmp_path: Path, backend: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Commits counted; the batched baselines take the lean write (``_lean``: no
    ``Writes.store_listing``), the single checks the full one."""
    site = ListSite(items=list(ITEMS))
    real, full = Writes.store_listing, []

    def counted_listing(self: Writes, *args: Any) -> CheckResult:
        full.append(self.store.url)
        return real(self, *args)

    monkeypatch.setattr(Writes, "store_listing", counted_listing)
    with (
        ReplicaServer(site) as server,
        store_url(tmp_path, backend, "all") as all_url,
        store_url(tmp_path, backend, "one") as one_url,
    ):
        batched, single = pipeline(all_url, server.url), pipeline(one_url, server.url)
        counted = commits(batched.store)
        first = batched.check_all()
        assert seen(first) == seen([single.check(s) for s in single.config.sources])
        # the new sources' rows; s0-s2 (written before s3's failed run); s3; s4-s5
        assert len(counted) == 4
        assert full == [one_url] * 5
        site.items.insert(0, Item("a0", "细胞治疗产品药学变更研究技术指导原则", "2026-07-01"))
        batched.now = single.now = lambda: AT + timedelta(minutes=1)
        second = batched.check_all()
        assert seen(second) == seen([single.check(s) for s in single.config.sources])
        assert stored(batched.store) == stored(single.store)
        for made in (batched, single):
            made.store.close()
    assert [r.outcome for r in first] == ["baseline"] * 3 + ["failed"] + ["baseline"] * 2
    assert [r.alerts for r in first] == [1, 1, 1, 0, 1, 1]  # the baseline's summary
    assert [r.outcome for r in second] == ["changed"] * 3 + ["failed"] + ["changed"] * 2


def test_a_source_whose_write_fails_costs_the_group_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """s1's write raises (an internal error, not the database's): the group is
    written again one source at a time; s1 is a failed run, as ``check`` would
    record it, and its next run is its baseline."""
    site = ListSite(items=list(ITEMS))
    real = DocumentWriter.add_all

    def broken(self: DocumentWriter, records: Any) -> Any:
        if self.ctx.settings.name == "s1" and self.now == AT:
            raise RuntimeError("s1 cannot be written")
        return real(self, records)

    monkeypatch.setattr(DocumentWriter, "add_all", broken)
    with (
        ReplicaServer(site) as server,
        store_url(tmp_path, "sqlite", "all") as all_url,
        store_url(tmp_path, "sqlite", "one") as one_url,
    ):
        batched, single = pipeline(all_url, server.url), pipeline(one_url, server.url)
        counted = commits(batched.store)
        first = batched.check_all()
        assert seen(first) == seen([single.check(s) for s in single.config.sources])
        # the rows; s0-s2 together (rolled back), then s0, s1's failure, s2; s3; s4-s5
        assert len(counted) == 6
        assert stored(batched.store) == stored(single.store)
        consistent(batched.store)
        batched.now = single.now = lambda: AT + timedelta(minutes=1)
        second = batched.check_all()
        assert seen(second) == seen([single.check(s) for s in single.config.sources])
        assert stored(batched.store) == stored(single.store)  # s1's failure count reset
        consistent(batched.store)
    outcomes = ("baseline failed baseline failed baseline baseline", "unchanged baseline unchanged")
    assert [r.outcome for r in first] == outcomes[0].split()
    assert first[1].error == "internal error: RuntimeError: s1 cannot be written"
    assert [r.outcome for r in second] == [*outcomes[1].split(), "failed", *["unchanged"] * 2]


def test_a_database_error_in_a_group_stops_the_run_and_keeps_whole_sources(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """s4's write hits a database error: written alone it fails again, and the
    run stops with it, as a single check's would. s0-s2 (an earlier group) are
    kept; s4 and s5 (its group) are not, and nothing of them is half written."""
    site = ListSite(items=list(ITEMS))
    real = DocumentWriter.add_all

    def broken(self: DocumentWriter, records: Any) -> Any:
        written = real(self, records)
        if self.ctx.settings.name == "s4" and self.now == AT:
            self.session.execute(sa.text("INSERT INTO no_such_table VALUES (1)"))
        return written

    monkeypatch.setattr(DocumentWriter, "add_all", broken)
    with ReplicaServer(site) as server, store_url(tmp_path, "sqlite", "all") as url:
        batched = pipeline(url, server.url)
        with pytest.raises(StoreError, match="no_such_table"):
            batched.check_all()
        consistent(batched.store)
        with batched.store.engine.connect() as connection:
            healthy = connection.execute(
                sa.text("SELECT name FROM source WHERE healthy_runs > 0 ORDER BY name")
            ).scalars()
            assert list(healthy) == ["s0", "s1", "s2"]
        batched.now = lambda: AT + timedelta(minutes=1)
        again = batched.check_all()
        consistent(batched.store)
    assert [r.outcome for r in again] == ["unchanged"] * 3 + ["failed", "baseline", "baseline"]


class Crash(BaseException):
    """Not an ``Exception``: like a kill, nothing catches it on the way out."""


def test_a_crash_in_a_group_keeps_nothing_of_the_group(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The process dies while s1's baseline is written (after s0's, in the same
    transaction): neither is kept, nor half of either; the next run takes both
    baselines again and ends where a run without the crash would have."""
    site = ListSite(items=list(ITEMS))
    real = DocumentWriter.add_all

    def crashing(self: DocumentWriter, records: Any) -> Any:
        written = real(self, records)  # s1's documents are written, not committed
        if self.ctx.settings.name == "s1" and self.now == AT:
            raise Crash
        return written

    monkeypatch.setattr(DocumentWriter, "add_all", crashing)
    with (
        ReplicaServer(site) as server,
        store_url(tmp_path, "sqlite", "all") as all_url,
        store_url(tmp_path, "sqlite", "one") as one_url,
    ):
        batched, single = pipeline(all_url, server.url), pipeline(one_url, server.url)
        with pytest.raises(Crash):
            batched.check_all()
        consistent(batched.store)
        with batched.store.engine.connect() as connection:
            assert connection.execute(sa.text("SELECT count(*) FROM document")).scalar() == 0
            assert connection.execute(sa.text("SELECT count(*) FROM run")).scalar() == 0
        batched.now = single.now = lambda: AT + timedelta(minutes=1)
        again = batched.check_all()
        assert seen(again) == seen([single.check(s) for s in single.config.sources])
        assert stored(batched.store) == stored(single.store)
    assert [r.outcome for r in again] == ["baseline"] * 3 + ["failed"] + ["baseline"] * 2


def test_the_sqlite_bulk_insert_writes_what_sqlalchemy_inserts(tmp_path: Path) -> None:
    """``bulk._sqlite_insert`` (SQL built once, values processed once per distinct
    value) against ``connection.execute(table.insert(), rows)``: the same rows,
    equal instants in two time zones, flags, nulls and a left-out column with a
    constant default (``state``) included."""
    from zoneinfo import ZoneInfo

    from monitor.store import bulk
    from monitor.store.models import DocumentRow

    table = DocumentRow.__table__  # type: ignore[attr-defined]
    shanghai = AT.astimezone(ZoneInfo("Asia/Shanghai"))
    rows = [
        {
            "source_id": 1,
            "key": f"k{n}",
            "title": f"title {n}",
            "first_seen": AT if n % 2 else shanghai,
            "last_seen": AT + timedelta(seconds=n % 3),
            "attachments_checked_at": None if n % 2 else AT,
            "relevant": n % 3 == 0,
            "read_pending": False,
            "comment_deadline": None,
        }
        for n in range(7)
    ]
    found = []
    for name, insert in (
        ("core", lambda c: c.execute(table.insert(), rows)),
        ("bulk", lambda c: bulk._sqlite_insert(c, table, rows)),
    ):
        store = Store(f"sqlite:///{tmp_path / name}.db")
        with store.engine.begin() as connection:
            source = {**warm.NEW_SOURCE, "name": "s", "kind": "html-list"}
            connection.execute(SourceRow.__table__.insert(), source)  # type: ignore[attr-defined]
            insert(connection)
        with store.engine.connect() as connection:
            found.append(connection.exec_driver_sql("SELECT * FROM document ORDER BY id").all())
        store.close()
    assert found[0] == found[1]
    assert len(found[0]) == 7
