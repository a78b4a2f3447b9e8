"""Plain SQL on the store (monitor/store/raw.py): a warm ``regwatch check`` of a
SQLite store imports no SQLAlchemy, and what sqlite3 writes is what SQLAlchemy
writes (``tests/test_warm_check.py`` compares whole stores written both ways)."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import threading
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlmodel import select

from monitor.delivery.waiting import anything_waiting
from monitor.errors import StoreError
from monitor.pipeline import warm
from monitor.replica.server import ReplicaServer
from monitor.store import Store
from monitor.store.models import DeliveryRow, RunRow, SourceRow
from monitor.store.raw import AlchemyRaw, SqliteRaw, as_datetime, over, sqlite_file, sqlite_time
from tests.helpers.stores import store_url
from tests.sites import Item, ListSite

ITEMS = [
    Item("a1", "细胞治疗产品临床试验技术指导原则", "2026-06-01"),
    Item("a2", "化学药品注射剂仿制药一致性评价技术要求", "2026-04-01"),
]
ORM = ("sqlalchemy", "sqlmodel", "alembic")


def test_a_new_sources_row_has_the_models_defaults() -> None:
    defaults = {
        name: info.default
        for name, info in SourceRow.model_fields.items()
        if not info.is_required() and name != "id"
    }
    assert warm.NEW_SOURCE == defaults
    times = {
        name
        for name, info in SourceRow.model_fields.items()
        if info.annotation in (datetime, datetime | None)
    }
    assert set(warm._SOURCE_TIMES) == times


def test_a_time_is_stored_as_sqlalchemy_stores_it(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'regwatch.db'}")
    moments = [
        datetime(2026, 12, 3, 6, 11, 4, 433099, tzinfo=UTC),
        datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),  # no microseconds: still six digits
    ]
    with store.session(write=True) as session:
        session.add(SourceRow(name="s", kind="html-list"))
        session.flush()
        for moment in moments:
            session.add(RunRow(source_id=1, started_at=moment))
    store.close()
    with closing(sqlite3.connect(tmp_path / "regwatch.db")) as db:
        stored = [row[0] for row in db.execute("SELECT started_at FROM run ORDER BY id")]
    assert stored == [sqlite_time(m) for m in moments]
    assert [as_datetime(s) for s in stored] == [m.replace(tzinfo=None) for m in moments]


@pytest.mark.parametrize(
    ("url", "path"),
    [
        ("sqlite:///regwatch.db", "regwatch.db"),
        ("sqlite:////srv/rw/regwatch.db", "/srv/rw/regwatch.db"),
        ("sqlite+pysqlite:///data/rw.db", "data/rw.db"),
        ("sqlite:///a%20b.db", "a b.db"),
        ("sqlite://", None),  # in memory
        ("sqlite:///:memory:", None),
        ("sqlite:///rw.db?mode=ro", None),  # options: SQLAlchemy reads them
        ("sqlite:///file:rw.db?uri=true", None),
        ("sqlite+aiosqlite:///rw.db", None),
        ("postgresql+psycopg://u:secret@db/rw", None),
    ],
)
def test_only_a_plain_sqlite_file_is_opened_with_sqlite3(url: str, path: str | None) -> None:
    found = sqlite_file(url)
    assert (str(found) if found is not None else None) == path


def test_a_failed_raw_write_keeps_nothing_and_says_why(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'regwatch.db'}")
    with pytest.raises(RuntimeError), store.raw(write=True) as raw:
        warm.add_sources(raw, {"s": {"kind": "html-list", "url": "http://x/"}})
        raise RuntimeError("interrupted")
    with pytest.raises(StoreError, match=r"database error: .*no such table: nowhere"):
        with store.raw() as raw:
            raw.rows("SELECT * FROM nowhere")
    with store.raw() as raw:
        assert warm.source_rows(raw) == {}
    store.close()


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_plain_sql_in_a_session_is_in_its_transaction(tmp_path: Path, backend: str) -> None:
    """``over(session.connection())``: on SQLite the sqlite3 connection under the
    session (no SQLAlchemy statement), elsewhere SQLAlchemy's; either way what
    it writes commits and rolls back with the session's own writes."""
    with store_url(tmp_path, backend) as url:
        store = Store(url)
        with pytest.raises(RuntimeError), store.session(write=True) as session:
            session.add(SourceRow(name="orm", kind="html-list"))
            session.flush()
            raw = over(session.connection())
            assert isinstance(raw, SqliteRaw if backend == "sqlite" else AlchemyRaw)
            warm.add_sources(raw, {"plain": {"kind": "html-list", "url": "http://x/"}})
            # the plain row is visible to the ORM in the same transaction
            assert session.exec(select(SourceRow.name).order_by(SourceRow.name)).all() == [
                "orm",
                "plain",
            ]
            raise RuntimeError("interrupted")
        with store.raw() as check:
            assert warm.source_rows(check) == {}  # both rolled back
        with store.session(write=True) as session:
            session.add(SourceRow(name="orm", kind="html-list"))
            session.flush()
            warm.add_sources(over(session.connection()), {"plain": {"kind": "html-list"}})
        with store.raw() as check:
            assert sorted(warm.source_rows(check)) == ["orm", "plain"]
        store.close()


def test_a_sqlite_error_in_a_session_is_a_store_error(tmp_path: Path) -> None:
    """A statement run straight on the session's sqlite3 connection that fails is
    said as the session's other database errors are, and nothing is kept."""
    store = Store(f"sqlite:///{tmp_path / 'regwatch.db'}")
    with pytest.raises(StoreError, match=r"database error: .*UNIQUE constraint failed"):
        with store.session(write=True) as session:
            raw = over(session.connection())
            warm.add_sources(raw, {"s": {"kind": "html-list"}})
            warm.add_sources(raw, {"s": {"kind": "html-list"}})  # the same name again
    with store.raw() as check:
        assert warm.source_rows(check) == {}
    store.close()


def test_new_threads_reuse_the_connections_of_finished_ones(tmp_path: Path) -> None:
    """A service's checks run on new threads every cycle: the connections stay as
    many as ever ran at once, not one per thread that ever asked."""
    store = Store(f"sqlite:///{tmp_path / 'regwatch.db'}")
    assert store._raw is not None

    def read() -> None:
        with store.raw() as raw:
            warm.source_rows(raw)

    for _ in range(20):
        thread = threading.Thread(target=read)
        thread.start()
        thread.join()
    assert store._raw.opened == 1
    inside, release = threading.Barrier(4), threading.Event()

    def hold() -> None:
        with store.raw() as raw:
            warm.source_rows(raw)
            inside.wait(timeout=30)
            release.wait(timeout=30)

    threads = [threading.Thread(target=hold) for _ in range(3)]
    for thread in threads:
        thread.start()
    inside.wait(timeout=30)  # three transactions open at once
    release.set()
    for thread in threads:
        thread.join()
    assert store._raw.opened == 3
    store.close()
    assert store._raw.opened == 0


def test_anything_waiting_sees_pending_and_sending_deliveries(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'regwatch.db'}")
    assert not anything_waiting(store)
    now = datetime(2026, 12, 3, tzinfo=UTC)
    with store.session(write=True) as session:
        row = DeliveryRow(route="r", purpose="p", alert="{}", created_at=now, status="sent")
        session.add(row)
    assert not anything_waiting(store)
    for status in ("sending", "pending"):
        with store.session(write=True) as session:
            found = session.exec(select(DeliveryRow)).one()
            found.status = status
            session.add(found)
        assert anything_waiting(store), status
    store.close()


_CHECK = (
    "import atexit, json, runpy, sys\n"
    "atexit.register(lambda: open('modules.json', 'w').write(json.dumps(sorted(sys.modules))))\n"
    "sys.argv = ['regwatch', 'check', '--json']\n"
    "try:\n"
    "    runpy.run_module('monitor.cli', run_name='__main__')\n"
    "except SystemExit as exc:\n"
    "    print(exc.code)\n"
)


def _check(cwd: Path) -> tuple[list[str], list[str]]:
    """``regwatch check --json`` (delivering) in a new interpreter: the outcomes,
    and the top-level packages of the ORM it imported."""
    done = subprocess.run(
        [sys.executable, "-c", _CHECK], cwd=cwd, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    modules = json.loads((cwd / "modules.json").read_text(encoding="utf-8"))
    outcomes = [
        json.loads(line)["outcome"] for line in done.stdout.splitlines() if line.startswith("{")
    ]
    return outcomes, sorted({m.split(".")[0] for m in modules if m.split(".")[0] in ORM})


def test_a_warm_check_of_a_sqlite_store_imports_no_sqlalchemy(tmp_path: Path) -> None:
    site = ListSite(items=list(ITEMS))
    with ReplicaServer(site) as server:
        (tmp_path / "regwatch.toml").write_text(
            '[store]\nurl = "sqlite:///regwatch.db"\n[http]\ndelay = 0\nretries = 0\n'
            + "".join(
                f'[[source]]\nname = "s{n}"\nkind = "html-list"\n'
                f'url = "{server.url}/list/index.html"\nitem = ".list ul li"\ndate = "span"\n'
                for n in range(3)
            ),
            encoding="utf-8",
        )
        assert _check(tmp_path) == (["baseline"] * 3, ["sqlalchemy", "sqlmodel"])
        assert _check(tmp_path) == (["unchanged"] * 3, [])
        site.items.insert(0, Item("a0", "基因治疗产品长期随访临床研究技术指导原则", "2026-07-01"))
        outcomes, orm = _check(tmp_path)  # a change takes the full path, ORM and all
        assert outcomes == ["changed"] * 3 and "sqlalchemy" in orm
        assert _check(tmp_path) == (["unchanged"] * 3, [])
    store = Store(f"sqlite:///{tmp_path / 'regwatch.db'}")
    with store.session() as session:  # what sqlite3 wrote reads back through the ORM
        runs = session.exec(select(RunRow).order_by(RunRow.id)).all()  # type: ignore[arg-type]
        sources = session.exec(select(SourceRow)).all()
    store.close()
    assert [r.outcome for r in runs if r.source_id == 1] == [
        "baseline",
        "unchanged",
        "changed",
        "unchanged",
    ]
    assert all(isinstance(r.started_at, datetime) and r.finished_at for r in runs)
    assert all(r.started_at <= (r.finished_at or r.started_at) for r in runs)
    assert [(s.healthy_runs, s.last_outcome, s.consecutive_failures) for s in sources] == [
        (4, "unchanged", 0)
    ] * 3
    assert all(isinstance(s.last_ok_at, datetime) for s in sources)
