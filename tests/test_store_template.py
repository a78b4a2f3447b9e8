"""The suite's new SQLite stores (copies of one migrated template, tests/helpers/stores.py)
are what the real migration makes of a new file, each with its own id."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Callable
from contextlib import closing
from pathlib import Path

from monitor.store import Store
from tests.helpers.stores import build_template, copy_template, new_stores_from, sqlite_file


def _clauses(sql: str | None) -> list[str]:
    """A CREATE statement's clauses, sorted: Alembic's table rebuilds write a table's
    foreign keys in an order that varies from one run of the migrations to the next."""
    body = (sql or "").rstrip().removesuffix(")")
    return sorted(part.strip() for part in re.split(r",\s*\n", body))


def _contents(path: Path) -> dict[str, object]:
    with closing(sqlite3.connect(path)) as db:
        schema = [
            (kind, name, table, _clauses(sql))
            for kind, name, table, sql in db.execute(
                "SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY type, name"
            )
        ]
        # FTS5 tables are compared through their shadow tables (``search_short``,
        # contentless with columnsize=0, cannot be scanned at all)
        virtual = {
            n for k, n, _, sql in schema if k == "table" and "VIRTUAL TABLE" in " ".join(sql)
        }
        tables = [
            row[1]
            for row in schema
            if row[0] == "table" and row[1] != "store_identity" and row[1] not in virtual
        ]
        rows = {t: db.execute(f'SELECT * FROM "{t}"').fetchall() for t in tables}
        pragmas = {
            p: db.execute(f"PRAGMA {p}").fetchall()
            for p in ("journal_mode", "user_version", "page_size", "auto_vacuum", "encoding")
        }
    return {"schema": schema, "rows": rows, "pragmas": pragmas}


def _identity(path: Path) -> tuple[str, str]:
    with closing(sqlite3.connect(path)) as db:
        ((ident, created),) = db.execute("SELECT id, created_at FROM store_identity").fetchall()
    return str(ident), str(created)


def _real_migrate() -> Callable[..., None]:
    migrate = Store.migrate
    real: Callable[..., None] = getattr(migrate, "__wrapped__", migrate)
    return real


def test_a_new_store_copied_from_the_template_is_what_the_migrations_make(tmp_path: Path) -> None:
    real = tmp_path / "real.db"
    store = Store(f"sqlite:///{real}", migrate=False)
    _real_migrate()(store, from_schema=False)  # every migration from 0001
    store.close()
    template = build_template(tmp_path / "template")
    with new_stores_from(template):
        copied = tmp_path / "copied.db"
        Store(f"sqlite:///{copied}").close()
        second = tmp_path / "second.db"
        Store(f"sqlite:///{second}").close()
    assert _contents(copied) == _contents(real)
    ids = {_identity(p)[0] for p in (real, template, copied, second)}
    assert len(ids) == 4  # each database its own id, as migration 0004 gives it
    format_ = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6}$")
    assert all(format_.match(_identity(p)[1]) for p in (real, copied))


def test_an_existing_file_is_never_replaced_by_the_template(tmp_path: Path) -> None:
    template = build_template(tmp_path / "template")
    path = tmp_path / "old.db"
    path.write_bytes(b"")
    assert not copy_template(template, path)
    assert path.read_bytes() == b""
    assert copy_template(template, tmp_path / "new.db")


def test_only_plain_sqlite_files_are_copied() -> None:
    assert sqlite_file("sqlite:///a/b.db") == Path("a/b.db")
    assert sqlite_file("sqlite:////tmp/x.db") == Path("/tmp/x.db")
    for url in (
        "sqlite://",
        "sqlite:///:memory:",
        "sqlite:///file:x?mode=ro&uri=true",
        "postgresql+psycopg://u@h/db",
    ):
        assert sqlite_file(url) is None, url
