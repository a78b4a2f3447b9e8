"""A brand-new SQLite store made from ``monitor/store/schema_sqlite.sql``
(``monitor.store.fresh``) is what the real migrations make of an empty file, and the
checked-in script is what its generator writes from them today."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Callable
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace

import pytest

from monitor.store import Store, fresh, search
from monitor.store.db import _head_revision
from tests.test_store_template import _clauses, _contents, _identity


def _real_migrate() -> Callable[..., None]:
    """``Store.migrate`` itself (the suite wraps it to copy a template)."""
    migrate = Store.migrate
    real: Callable[..., None] = getattr(migrate, "__wrapped__", migrate)
    return real


def _migrated(path: Path, *, from_schema: bool) -> Path:
    store = Store(f"sqlite:///{path}", migrate=False)
    _real_migrate()(store, from_schema=from_schema)
    store.close()
    return path


def _normalised(script: str) -> list[object]:
    """The script's statements, a CREATE TABLE's clauses sorted (Alembic's table
    rebuilds write foreign keys in an order that varies between runs)."""
    return [
        (s.split("(")[0], _clauses(s)) if s.startswith("CREATE TABLE") else s
        for s in fresh._statements(script)
    ] + [fresh.schema_revision(script)]


def test_the_checked_in_schema_is_what_the_migrations_make_today() -> None:
    written = fresh.SCHEMA.read_text(encoding="utf-8")
    assert fresh.schema_revision(written) == _head_revision(), (
        "run python -m monitor.store.make_schema after adding a migration"
    )
    assert _normalised(written) == _normalised(fresh.generate()), (
        "schema_sqlite.sql is stale: run python -m monitor.store.make_schema"
    )


def test_a_store_made_from_the_schema_is_what_the_migrations_make(tmp_path: Path) -> None:
    real = _migrated(tmp_path / "real.db", from_schema=False)
    made = _migrated(tmp_path / "made.db", from_schema=True)
    other = _migrated(tmp_path / "other.db", from_schema=True)
    assert _contents(made) == _contents(real)
    with closing(sqlite3.connect(made)) as db:
        assert db.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert db.execute("SELECT version_num FROM alembic_version").fetchall() == [
            (_head_revision(),)
        ]
    # each its own id, in the format migration 0004 writes
    assert len({_identity(p)[0] for p in (real, made, other)}) == 3
    stamp = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6}$")
    assert stamp.match(_identity(made)[1])


def test_a_store_made_from_the_schema_searches_and_writes(tmp_path: Path) -> None:
    """The FTS tables and triggers the script makes work: an entry the writer
    adds is found, an update re-indexes it, a delete takes it out."""
    path = _migrated(tmp_path / "made.db", from_schema=True)
    store = Store(f"sqlite:///{path}", migrate=False)
    try:
        with store.engine.begin() as connection:
            change = SimpleNamespace(
                id=1, document_id=None, source_id=1, jurisdiction="", classification="{}",
                status="", doc_type="", event="", relevant=False, excerpt="", detail="",
                fields_changed="[]", detected_at=datetime(2026, 1, 1, tzinfo=UTC), title="long-term follow-up",
            )  # fmt: skip
            assert search.write_entries(connection, [search.change_entry(change)]) == 1
    finally:
        store.close()

    def found(term: str) -> list[tuple[int]]:
        with closing(sqlite3.connect(path)) as db:
            query = "SELECT rowid FROM search_fts WHERE search_fts MATCH ?"
            return db.execute(query, (term,)).fetchall()

    assert found("follow") == [(1,)]
    with closing(sqlite3.connect(path)) as db, db:
        db.execute("UPDATE search_entry SET title = 'potency assay' WHERE id = 1")
    assert (found("follow"), found("potency")) == ([], [(1,)])
    with closing(sqlite3.connect(path)) as db, db:
        db.execute("DELETE FROM search_entry WHERE id = 1")
        assert (
            db.execute(
                "INSERT INTO search_fts(search_fts, rank) VALUES ('integrity-check', 1)"
            ).fetchall()
            == []
        )
    assert found("potency") == []


def test_only_an_empty_database_at_the_scripts_revision_is_made_from_it(
    tmp_path: Path,
) -> None:
    path = tmp_path / "x.db"
    with closing(sqlite3.connect(path)) as db, db:
        db.execute("CREATE TABLE mine (a)")
    store = Store(f"sqlite:///{path}", migrate=False)
    try:
        assert not fresh.create(store.engine, _head_revision())  # a table: left alone
        with closing(sqlite3.connect(path)) as db:
            names = [r[0] for r in db.execute("SELECT name FROM sqlite_master")]
        assert names == ["mine"]
    finally:
        store.close()
    empty = Store(f"sqlite:///{tmp_path / 'y.db'}", migrate=False)
    try:
        assert not fresh.create(empty.engine, "0001")  # another revision than the script's
        assert not fresh.create(empty.engine, None)
        assert empty.tables() == []
        assert fresh.create(empty.engine, _head_revision())
        assert "search_entry" in empty.tables()
    finally:
        empty.close()


def test_a_missing_script_leaves_the_migrations_to_make_the_store(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(fresh, "SCHEMA", tmp_path / "absent.sql")
    store = Store(f"sqlite:///{tmp_path / 'z.db'}", migrate=False)
    try:
        assert not fresh.create(store.engine, _head_revision())
        _real_migrate()(store)  # Alembic makes it instead
        assert "search_entry" in store.tables()
    finally:
        store.close()
