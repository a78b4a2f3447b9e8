"""One service per database: a lock held for the life of ``regwatch run``.

Two services writing the same database would check every source twice and
send every alert twice, so ``regwatch run`` takes a lock before it opens the
store, and a second start fails with ``ServiceLocked``: "held by pid N on
host H since T".

- **SQLite**: ``<database>.lock`` next to the database file, locked with
  ``fcntl.flock`` and holding the holder's pid, host and start time as JSON.
  The kernel drops the lock when the process dies (even by ``kill -9``), so
  a stale file never blocks a restart.
- **PostgreSQL**: a session-level advisory lock (``pg_try_advisory_lock``)
  on a connection kept open for the life of the service; the connection's
  ``application_name`` carries the holder's pid, host and start time, so a
  second start can say who holds it. The server drops the lock when that
  connection ends.
- An in-memory SQLite database needs no lock.
"""

from __future__ import annotations

import fcntl
import json
import os
import socket
import zlib
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from monitor.errors import ServiceLocked, StoreError
from monitor.store.raw import sqlite_file

__all__ = ["ServiceLock", "service_lock", "sqlite_path"]

# The advisory lock key: a fixed 63-bit number derived from a name.
PG_LOCK_KEY = zlib.crc32(b"regwatch-service") << 16 | 0x5257
PG_APP_PREFIX = "regwatch-service"


class ServiceLock(Protocol):
    """What the service needs from a lock."""

    def acquire(self) -> None: ...
    def release(self) -> None: ...
    @property
    def where(self) -> str: ...


def _holder() -> dict[str, Any]:
    return {
        "pid": os.getpid(),
        "host": socket.gethostname(),
        "since": datetime.now(UTC).replace(microsecond=0).isoformat(),
    }


def _held_by(info: dict[str, Any], where: str) -> ServiceLocked:
    pid = info.get("pid", "?")
    host = info.get("host", "?")
    since = info.get("since", "?")
    return ServiceLocked(
        f"another regwatch service is using {where}: held by pid {pid} on host {host} "
        f"since {since}; stop it first (one service per database)"
    )


def sqlite_path(url: str) -> Path | None:
    """The database file of a SQLite URL, or None for an in-memory database."""
    plain = sqlite_file(url)  # told without importing SQLAlchemy
    if plain is not None:
        return plain
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    database = parsed.database or ""
    database = database.removeprefix("file:")
    if not database or database == ":memory:" or parsed.query.get("mode") == "memory":
        return None
    return Path(database).expanduser()


class FileLock:
    """``flock`` on ``<database>.lock`` (the file says who holds it) and on the
    database file itself.

    The lock file sits next to the *canonical* path (symlinks resolved), and
    the database file's own lock is held on its inode, so a symlink or a hard
    link to the same database cannot start a second service. (``flock`` and
    SQLite's POSIX record locks are independent on Linux: SQLite is not
    disturbed.)
    """

    def __init__(self, database: Path) -> None:
        real = database.expanduser().resolve()
        self.database = real
        self.path = real.with_name(real.name + ".lock")
        self._fd: int | None = None
        self._db_fd: int | None = None

    @property
    def where(self) -> str:
        return str(self.path.with_suffix(""))

    def acquire(self) -> None:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise StoreError(
                f"cannot create the service lock {self.path}: {exc.strerror}; "
                "is the directory writable by the service user?"
            ) from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            info = _read_json(fd)
            os.close(fd)
            raise _held_by(info, self.where) from None
        except OSError as exc:
            os.close(fd)
            raise StoreError(f"cannot lock {self.path}: {exc.strerror}") from None
        try:
            db_fd = os.open(self.database, os.O_RDWR | os.O_CREAT, 0o644)
            fcntl.flock(db_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(db_fd)
            info = _read_json(fd)
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)
            raise _held_by(info or {"pid": "?"}, self.where) from None
        except OSError as exc:
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)
            raise StoreError(f"cannot lock {self.database}: {exc.strerror}") from None
        os.ftruncate(fd, 0)
        os.write(fd, json.dumps(_holder()).encode("utf-8"))
        os.fsync(fd)
        self._fd, self._db_fd = fd, db_fd

    def release(self) -> None:
        if self._fd is None:
            return
        try:
            os.ftruncate(self._fd, 0)
        except OSError:
            pass  # a read-only or full disk: the lock itself goes with the descriptor
        fcntl.flock(self._fd, fcntl.LOCK_UN)
        os.close(self._fd)
        self._fd = None
        if self._db_fd is not None:
            os.close(self._db_fd)
            self._db_fd = None


def _read_json(fd: int) -> dict[str, Any]:
    try:
        data = os.pread(fd, 4096, 0)
        value = json.loads(data.decode("utf-8"))
        return value if isinstance(value, dict) else {}
    except (OSError, ValueError):
        return {}


class PostgresLock:
    """A session advisory lock on a dedicated connection."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._connection: Any = None

    @property
    def where(self) -> str:
        from sqlalchemy.engine import make_url

        return make_url(self.url).render_as_string(hide_password=True)

    def acquire(self) -> None:
        from sqlalchemy import create_engine, text
        from sqlalchemy.exc import SQLAlchemyError

        info = _holder()
        host = str(info["host"])[:20]
        name = f"{PG_APP_PREFIX} pid={info['pid']} host={host} since={info['since']}"[:63]
        try:
            engine = create_engine(
                self.url, poolclass=_null_pool(), connect_args={"application_name": name}
            )
            connection = engine.connect()
            got = connection.execute(
                text("SELECT pg_try_advisory_lock(:key)"), {"key": PG_LOCK_KEY}
            ).scalar()
            connection.commit()
        except SQLAlchemyError as exc:
            raise StoreError(
                f"cannot take the service lock on {self.where}: {str(exc).splitlines()[0][:300]}"
            ) from None
        if not got:
            holder = _pg_holder(connection)
            connection.close()
            engine.dispose()
            raise _held_by(holder, self.where)
        self._connection = connection
        self._engine = engine

    def release(self) -> None:
        if self._connection is None:
            return
        from sqlalchemy import text
        from sqlalchemy.exc import SQLAlchemyError

        try:
            self._connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": PG_LOCK_KEY})
            self._connection.commit()
        except SQLAlchemyError:
            pass  # the server drops the lock with the connection anyway
        finally:
            self._connection.close()
            self._engine.dispose()
            self._connection = None


def _null_pool() -> Any:
    from sqlalchemy.pool import NullPool

    return NullPool


def _pg_holder(connection: Any) -> dict[str, Any]:
    """Who holds the advisory lock, read from pg_locks and pg_stat_activity."""
    from sqlalchemy import text

    row = connection.execute(
        text(
            "SELECT a.application_name, a.client_addr, a.backend_start FROM pg_locks l "
            "JOIN pg_stat_activity a ON a.pid = l.pid "
            "WHERE l.locktype = 'advisory' AND l.granted AND l.database = "
            "(SELECT oid FROM pg_database WHERE datname = current_database()) "
            "AND l.objid = (:key & 4294967295) AND l.classid = (:key >> 32)"
        ),
        {"key": PG_LOCK_KEY},
    ).first()
    if row is None:
        return {}
    name, addr, started = row
    info: dict[str, Any] = {
        "host": str(addr or "local socket"),
        "since": started.isoformat() if started else "?",
    }
    for part in str(name or "").split():
        key, _, value = part.partition("=")
        if key in ("pid", "host", "since") and value:
            info[key] = value
    return info


class NoLock:
    """For in-memory databases: nothing to share, nothing to lock."""

    where = "an in-memory database"

    def acquire(self) -> None:
        return None

    def release(self) -> None:
        return None


def service_lock(url: str) -> ServiceLock:
    """The right lock for a store URL."""
    if url.startswith("sqlite"):
        path = sqlite_path(url)
        return FileLock(path) if path is not None else NoLock()
    return PostgresLock(url)
