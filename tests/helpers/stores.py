"""Test stores: a throwaway PostgreSQL database, an Alembic step on a store, and new
SQLite stores copied from one migrated template."""

from __future__ import annotations

import importlib.util
import os
import shutil
import sqlite3
import uuid
from collections.abc import Iterator
from contextlib import closing, contextmanager
from datetime import UTC, datetime
from pathlib import Path

import pytest
from alembic import command
from alembic.config import Config as AlembicConfig
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from monitor.store import Store
from monitor.store.db import MIGRATIONS
from monitor.store.raw import SqliteRaw


def pg_server() -> str:
    """The test PostgreSQL server (``REGWATCH_TEST_PG_URL``); the test is skipped
    without one."""
    server = os.environ.get("REGWATCH_TEST_PG_URL")
    if not server or importlib.util.find_spec("psycopg") is None:
        pytest.skip("REGWATCH_TEST_PG_URL is not set (`source .ci/start-postgres.sh`)")
    return server


@contextmanager
def store_url(tmp_path: Path, backend: str, name: str = "regwatch") -> Iterator[str]:
    """A new store's URL: a SQLite file ``name``.db in ``tmp_path``, or (``backend``
    "postgres") a fresh database on the test server, dropped afterwards."""
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / name}.db"
        return
    with fresh_pg_database(pg_server()) as url:
        yield url


@contextmanager
def fresh_pg_database(server_url: str, prefix: str = "regwatch_t") -> Iterator[str]:
    """The URL of a new, empty database on ``server_url``'s server; dropped afterwards
    (its open connections ended first)."""
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    admin = create_engine(
        make_url(server_url).set(database="postgres"), isolation_level="AUTOCOMMIT"
    )
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(server_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(
                text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n"),
                {"n": name},
            )
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()


def alembic_step(url: str, revision: str, *, down: bool = False) -> None:
    """Upgrade (or downgrade, ``down``) the store at ``url`` to ``revision``."""
    engine = create_engine(url)
    config = AlembicConfig()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        (command.downgrade if down else command.upgrade)(config, revision)
    engine.dispose()


# -- new SQLite stores from a template ---------------------------------------------------------
#
# Opening a Store on a new SQLite file runs every migration from 0001 (0.1–0.3 s, some
# hundreds of times a run). The session migrates one file for real (``build_template``);
# after that a Store opened in-process on a file that does not exist yet starts from a copy
# of it, with its own id as migration 0004 gives every new database, and the real
# ``migrate`` then finds it at the head. Stores that exist (old revisions, the migration
# tests), PostgreSQL and ``regwatch`` subprocesses migrate as before.
# REGWATCH_TEST_REAL_MIGRATIONS=1 turns this off.


def sqlite_file(url: str) -> Path | None:
    """The file of a plain ``sqlite:///path`` URL (None: another database, memory, a URI)."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.query or not parsed.database:
        return None
    if parsed.database == ":memory:" or parsed.database.startswith("file:"):
        return None
    return Path(parsed.database).expanduser()


def build_template(directory: Path) -> Path:
    """A new store migrated to the head by the real Store, closed (its WAL folded in).
    (The Store makes it from ``monitor/store/schema_sqlite.sql``, which
    tests/test_store_fresh.py holds to what the migrations make.)"""
    from monitor.store import Store

    path = directory / "template.db"
    Store(f"sqlite:///{path}").close()
    assert not path.with_name(path.name + "-wal").exists(), "the template's WAL is not folded in"
    return path


def copy_template(template: Path, path: Path) -> bool:
    """Make ``path`` a copy of ``template`` with a new store id (False: left as it was)."""
    try:
        with path.open("xb") as out, template.open("rb") as source:
            shutil.copyfileobj(source, out)
    except FileExistsError:
        return False
    except OSError:
        path.unlink(missing_ok=True)
        return False
    with closing(sqlite3.connect(path)) as db, db:
        now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
        db.execute("UPDATE store_identity SET id = ?, created_at = ?", (uuid.uuid4().hex, now))
    return True


@contextmanager
def new_stores_from(template: Path) -> Iterator[None]:
    """While inside: ``Store.migrate`` on a SQLite file not yet made copies ``template`` first."""
    from monitor.store.db import Store

    migrate = Store.migrate

    def from_template(self: Store, *, from_schema: bool = True) -> None:
        path = sqlite_file(self.url)
        if path is not None and not path.exists() and from_schema:
            copy_template(template, path)
        migrate(self, from_schema=from_schema)

    from_template.__wrapped__ = migrate  # type: ignore[attr-defined]  # the real one, for tests
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(Store, "migrate", from_template)
        yield


def count_raw_commits(store: Store, counted: list[int]) -> None:
    """Append to ``counted`` at each write transaction ``store.raw`` commits on
    sqlite3 itself (SQLAlchemy's ``commit`` event does not see those)."""
    connections = store._raw
    if connections is None:
        return  # PostgreSQL, in-memory SQLite: raw() runs on SQLAlchemy
    real = connections.transaction

    @contextmanager
    def counting(*, write: bool) -> Iterator[SqliteRaw]:
        with real(write=write) as raw:
            yield raw
        if write:
            counted.append(1)

    setattr(connections, "transaction", counting)  # noqa: B010 (mypy: a method)
