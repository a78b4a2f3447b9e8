"""Plain SQL on the store without SQLAlchemy: the warm check's reads and writes (issue 12).

Most runs of ``regwatch check`` find every page unchanged. Such a run reads
the source rows, asks whether anything is due, and writes one run row and
one source update per source: a handful of statements. SQLAlchemy and
SQLModel cost a third of a second of CPU and 25 MB of memory to import
before the first of them, more than the statements themselves for a few
hundred sources (``bench/bench_peers.py``). So those statements are plain
SQL text with ``:name`` parameters, run through a ``Raw``:

- ``SqliteRaw``: the standard library's ``sqlite3`` on the store's file
  (``RawConnections``: a connection per transaction running at once, kept for
  the next; the engine's ``SQLITE_PRAGMAS``), nothing else imported;
- ``AlchemyRaw``: the same text on a SQLAlchemy connection (PostgreSQL, or
  a SQLite driver other than the standard library's).

Inside a session's transaction (a group that also writes documents), ``over``
gives the ``Raw`` of the session's connection: on SQLite the ``sqlite3``
connection under it (the same transaction; SQLAlchemy's statement machinery
costs more CPU than a baseline's SQL, issue 12), else an ``AlchemyRaw``.

The two store exactly the same values: a time is bound as SQLAlchemy's
SQLite dialect writes one (``2026-12-03 06:11:04.433099``, the UTC wall
time, no offset: string comparisons in SQL order them), as the Python value
elsewhere. Rows come back as dicts of what the driver returns: on SQLite a
time is that text (``as_datetime`` reads it; ``warm.SourceState.row`` uses it).

This module imports nothing from SQLAlchemy at import time, nor anything that
does (``tests/test_store_raw.py`` checks it in a fresh interpreter).
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import parse_qs, unquote

from monitor.errors import StoreError

__all__ = [
    "SQLITE_PRAGMAS",
    "AlchemyRaw",
    "Raw",
    "RawConnections",
    "SqliteRaw",
    "as_datetime",
    "over",
    "sqlite_connection",
    "sqlite_file",
    "sqlite_time",
]

Params = Mapping[str, Any]

# SQLAlchemy's SQLite DATETIME storage format (sqlalchemy.dialects.sqlite.DATETIME)
_TIME = "{:04d}-{:02d}-{:02d} {:02d}:{:02d}:{:02d}.{:06d}"
# the URL schemes whose database is a file sqlite3 opens as SQLAlchemy's pysqlite does
_SQLITE_SCHEMES = ("sqlite", "sqlite+pysqlite")
# set on every connection to a store file, sqlite3's here and SQLAlchemy's (db._make_engine)
SQLITE_PRAGMAS = ("journal_mode=WAL", "synchronous=NORMAL", "foreign_keys=ON", "busy_timeout=30000")


def sqlite_time(value: datetime) -> str:
    """``value`` as SQLAlchemy's SQLite dialect stores a ``DateTime``: its wall
    time, microseconds always, no offset (every stored time is UTC)."""
    v = value
    return _TIME.format(v.year, v.month, v.day, v.hour, v.minute, v.second, v.microsecond)


def as_datetime(value: object) -> object:
    """A stored time as the model holds it: SQLite's text parsed (naive, UTC),
    anything else as it is."""
    return datetime.fromisoformat(value) if isinstance(value, str) and value else value


def sqlite_file(url: str) -> Path | None:
    """The database file of a plain SQLite URL (``sqlite:///regwatch.db``,
    ``sqlite:////abs/path.db``); None for anything else — an in-memory
    database, a URL with options, another driver, PostgreSQL — which then goes
    through SQLAlchemy as before."""
    scheme, sep, rest = url.partition("://")
    if not sep or scheme not in _SQLITE_SCHEMES or not rest.startswith("/"):
        return None
    path, _, query = rest[1:].partition("?")
    if query and parse_qs(query):
        return None  # options (mode=ro, uri=true, …): SQLAlchemy's reading of them
    path = unquote(path)
    if not path or path == ":memory:" or path.startswith("file:"):
        return None
    return Path(path).expanduser()


class Raw(Protocol):
    """SQL text with ``:name`` parameters on one connection, in its transaction."""

    sqlite: bool  # the store is SQLite (times are bound as text)

    def rows(self, sql: str, params: Params | None = None) -> list[dict[str, Any]]:
        """The result's rows as dicts."""
        ...

    def scalars(self, sql: str, params: Params | None = None) -> list[Any]:
        """The result's first column."""
        ...

    def run(self, sql: str, params: Params | Sequence[Params] | None = None) -> None:
        """Run a statement (once per mapping when given a sequence of them)."""
        ...


def _bind(params: Params | None, sqlite: bool) -> dict[str, Any]:
    if not params:
        return {}
    if not sqlite:
        return dict(params)
    return {k: sqlite_time(v) if isinstance(v, datetime) else v for k, v in params.items()}


class SqliteRaw:
    """``Raw`` over a ``sqlite3`` connection."""

    sqlite = True

    def __init__(self, connection: sqlite3.Connection) -> None:
        self.connection = connection

    def rows(self, sql: str, params: Params | None = None) -> list[dict[str, Any]]:
        cursor = self.connection.execute(sql, _bind(params, True))
        names = [d[0] for d in cursor.description or ()]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

    def scalars(self, sql: str, params: Params | None = None) -> list[Any]:
        return [row[0] for row in self.connection.execute(sql, _bind(params, True)).fetchall()]

    def run(self, sql: str, params: Params | Sequence[Params] | None = None) -> None:
        if not isinstance(params, Sequence):
            self.connection.execute(sql, _bind(params, True))
        elif params:
            self.connection.executemany(sql, [_bind(p, True) for p in params])


class AlchemyRaw:
    """``Raw`` over a SQLAlchemy connection (the caller owns its transaction)."""

    def __init__(self, connection: Any) -> None:
        self.connection = connection
        self.sqlite = connection.dialect.name == "sqlite"

    def _text(self, sql: str) -> Any:
        from sqlalchemy import text

        return text(sql)

    def rows(self, sql: str, params: Params | None = None) -> list[dict[str, Any]]:
        result = self.connection.execute(self._text(sql), _bind(params, self.sqlite))
        return [dict(row) for row in result.mappings()]

    def scalars(self, sql: str, params: Params | None = None) -> list[Any]:
        result = self.connection.execute(self._text(sql), _bind(params, self.sqlite))
        return list(result.scalars())

    def run(self, sql: str, params: Params | Sequence[Params] | None = None) -> None:
        if not isinstance(params, Sequence):
            self.connection.execute(self._text(sql), _bind(params, self.sqlite))
        elif params:
            self.connection.execute(self._text(sql), [_bind(p, self.sqlite) for p in params])


def over(connection: Any) -> Raw:
    """Plain SQL in the transaction of a SQLAlchemy ``connection``: straight on
    its ``sqlite3`` connection when it has one, else through SQLAlchemy. Like
    ``connection.execute``, it does not flush a session's pending objects;
    a ``sqlite3.Error`` is not wrapped (``Store.session`` says it as a
    ``StoreError``)."""
    dbapi = sqlite_connection(connection)
    return AlchemyRaw(connection) if dbapi is None else SqliteRaw(dbapi)


def sqlite_connection(connection: Any) -> sqlite3.Connection | None:
    """The ``sqlite3`` connection under a SQLAlchemy ``connection`` (None for
    another database or driver)."""
    if connection.dialect.name != "sqlite":
        return None
    dbapi = connection.connection.dbapi_connection
    return dbapi if isinstance(dbapi, sqlite3.Connection) else None


class RawConnections:
    """``sqlite3`` connections to one store file: one per transaction running at
    the moment, kept for the next (as SQLAlchemy's pool keeps its own), so a
    service that checks from new threads every cycle opens no more of them than
    it ever ran at once; closed together."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._idle: list[sqlite3.Connection] = []
        self._all: list[sqlite3.Connection] = []
        self._lock = threading.Lock()

    def _take(self) -> sqlite3.Connection:
        with self._lock:
            if self._idle:
                return self._idle.pop()
        # autocommit mode: ``transaction`` says where a transaction begins and ends
        connection = sqlite3.connect(
            self.path, timeout=30, check_same_thread=False, isolation_level=None
        )
        try:
            for pragma in SQLITE_PRAGMAS:
                connection.execute(f"PRAGMA {pragma}")
        except sqlite3.Error:
            connection.close()
            raise
        with self._lock:
            self._all.append(connection)
        return connection

    def _give_back(self, connection: sqlite3.Connection) -> None:
        with self._lock:
            if connection in self._all:  # not closed meanwhile
                self._idle.append(connection)

    @contextmanager
    def transaction(self, *, write: bool) -> Iterator[SqliteRaw]:
        """A transaction that commits on success and rolls back on error; a write
        takes SQLite's write lock at its start (no deadlock upgrading a read)."""
        try:
            connection = self._take()
        except sqlite3.Error as exc:
            raise StoreError(f"database error: {_reason(exc)}") from exc
        try:
            connection.execute("BEGIN IMMEDIATE" if write else "BEGIN")
        except sqlite3.Error as exc:
            self._give_back(connection)
            raise StoreError(f"database error: {_reason(exc)}") from exc
        try:
            yield SqliteRaw(connection)
            connection.execute("COMMIT")
        except sqlite3.Error as exc:
            _rollback(connection)
            raise StoreError(f"database error: {_reason(exc)}") from exc
        except BaseException:
            _rollback(connection)
            raise
        finally:
            self._give_back(connection)

    @property
    def opened(self) -> int:
        """How many connections are open (idle or in a transaction)."""
        with self._lock:
            return len(self._all)

    def close(self) -> None:
        with self._lock:
            connections, self._all, self._idle = self._all, [], []
        for connection in connections:
            connection.close()


def _rollback(connection: sqlite3.Connection) -> None:
    if connection.in_transaction:
        connection.execute("ROLLBACK")


def _reason(exc: BaseException) -> str:
    return " ".join(str(exc).split())[:300]
