"""Opening the database, migrating it, and content-addressed blobs.

SQLAlchemy is imported when something first needs it (a session, a
migration): a warm ``regwatch check`` of a SQLite store at the newest
revision reads and writes through ``raw()`` alone (``monitor.store.raw``)."""

from __future__ import annotations

import functools
import hashlib
import re
import sqlite3
import threading
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from monitor.errors import ConfigError, StoreError
from monitor.store.raw import SQLITE_PRAGMAS, AlchemyRaw, Raw, RawConnections, sqlite_file

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine
    from sqlmodel import Session

MIGRATIONS = Path(__file__).with_name("migrations")
URL_KEY = "[store].url"
URL_FIX = "use sqlite:///regwatch.db or postgresql+psycopg://user:pass@host/db"
_SUPPORTED = {("sqlite", "pysqlite"), ("postgresql", "psycopg")}


_REVISION = re.compile(r"""^(down_)?revision\s*=\s*['"]?(\w+)""", re.MULTILINE)


# A SQLite store upgraded across this revision is vacuumed: 0011 frees about a
# third of a store's pages (a 32 MB bench store: 12 MB), 0012 (the search index
# made afresh, smaller) and 0013 (the version rows of documents that never
# changed) a few MB more, which SQLite would otherwise keep inside the file until
# later writes fill them.
VACUUM_AFTER = "0013"


@functools.cache
def _head_revision() -> str | None:
    """The one revision no migration builds on, read from the files (``None`` if
    there is not exactly one: then Alembic decides)."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for path in (MIGRATIONS / "versions").glob("*.py"):
        for down, name in _REVISION.findall(path.read_text(encoding="utf-8")):
            (parents if down else revisions).add(name)
    heads = revisions - parents
    return heads.pop() if len(heads) == 1 else None


def url_problem(url: str) -> tuple[str, str] | None:
    """Why regwatch cannot use the store ``url``, and the fix; ``None`` when it can.

    Only SQLite and PostgreSQL through psycopg are supported (the migrations and
    the service lock are written for those two), and the driver must be
    installed. Checked before anything connects, so a wrong URL is a
    configuration error, not a crash. The URL itself is never echoed: it may
    hold a password. A plain SQLite file's URL is told without SQLAlchemy.
    """
    if sqlite_file(url) is not None:
        return None  # sqlite3 is in the standard library
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError, NoSuchModuleError

    try:
        parsed = make_url(url)
    except ArgumentError:
        return "not a database URL", URL_FIX
    try:
        dialect = parsed.get_dialect()
    except NoSuchModuleError:
        return f"{parsed.drivername}:// is not a database regwatch supports", URL_FIX
    if (dialect.name, dialect.driver) not in _SUPPORTED:
        return f"{parsed.drivername}:// is not a database regwatch supports", URL_FIX
    try:
        dialect.import_dbapi()
    except ImportError as exc:
        return (
            f"PostgreSQL needs the {exc.name or dialect.driver} driver, which is not installed",
            "pip install 'regwatch[postgres]', or use sqlite:///regwatch.db",
        )
    return None


def check_url(url: str) -> None:
    """Raise ``ConfigError`` naming ``[store] url`` when ``url`` cannot be used."""
    problem = url_problem(url)
    if problem is not None:
        raise ConfigError(problem[0], key=URL_KEY, fix=problem[1])


def utcnow() -> datetime:
    """Aware UTC now: every stored time is UTC."""
    return datetime.now(UTC)


def blob_hash(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class Store:
    """One database. ``session()`` is a unit of work; writes are serialised
    in-process so parallel checks never fight over SQLite's single writer."""

    def __init__(self, url: str, *, migrate: bool = True) -> None:
        self.url = url
        self.is_sqlite = url.startswith("sqlite")
        check_url(url)
        self.write_lock = threading.RLock()
        self._engine: Engine | None = None
        self._engine_lock = threading.Lock()
        file = sqlite_file(url)
        self._raw = RawConnections(file) if file is not None else None
        if migrate and self._lean_at_head():
            return  # SQLAlchemy waits until a session needs it
        from sqlalchemy.exc import SQLAlchemyError

        try:
            _ = self.engine
            if migrate:
                self.migrate()
        except SQLAlchemyError as exc:
            raise StoreError(f"cannot open the database {self.safe_url}: {_reason(exc)}") from None

    @property
    def engine(self) -> Engine:
        """The SQLAlchemy engine, made on first use."""
        if self._engine is None:
            with self._engine_lock:
                if self._engine is None:
                    from monitor.store import compact, search

                    _ = compact  # its mapper events store document rows small (migration 0011)
                    search.install_hook()
                    self._engine = _make_engine(self.url)
        return self._engine

    def _lean_at_head(self) -> bool:
        """Whether the SQLite file exists and is at the newest revision, asked
        with sqlite3 (no engine, no Alembic)."""
        if self._raw is None or not self._raw.path.is_file():
            return False
        try:
            with self._raw.transaction(write=False) as raw:
                revisions = raw.scalars("SELECT version_num FROM alembic_version")
        except StoreError:  # no table (not a regwatch store yet), unreadable: the slow path says
            return False
        return revisions == [_head_revision()]

    @contextmanager
    def raw(self, *, write: bool = False) -> Iterator[Raw]:
        """A transaction for plain SQL (``monitor.store.raw``): sqlite3 on a SQLite
        file, else a SQLAlchemy connection; commits on success, rolls back on
        error (a ``StoreError`` says why). ``write`` takes the in-process write
        lock as ``session(write=True)`` does."""
        lock = self.write_lock if write else None
        if lock:
            lock.acquire()
        try:
            if self._raw is not None:
                with self._raw.transaction(write=write) as raw:
                    yield raw
                return
            from sqlalchemy.exc import SQLAlchemyError

            try:
                with self.engine.connect() as connection:  # a read ends in a rollback
                    yield AlchemyRaw(connection)
                    if write:
                        connection.commit()
            except SQLAlchemyError as exc:
                raise StoreError(f"database error: {_reason(exc)}") from exc
        finally:
            if lock:
                lock.release()

    @property
    def safe_url(self) -> str:
        """The URL without a password, for messages."""
        from sqlalchemy.engine import make_url

        return make_url(self.url).render_as_string(hide_password=True)

    def migrate(self, *, from_schema: bool = True) -> None:
        """Bring the schema to the newest revision (safe to run every start).

        A database already at the newest revision is told by one query, without
        importing Alembic (a third of a second of every ``check``'s start-up).
        A new SQLite database is made from the schema the migrations produce
        (``monitor.store.fresh``) unless ``from_schema`` is False."""
        from monitor.store import fresh

        revisions = self._revisions()
        if revisions is not None and revisions == [_head_revision()]:
            return
        if revisions is None and from_schema and self.is_sqlite:
            if fresh.create(self.engine, _head_revision()):
                return
        from alembic import command
        from alembic.config import Config as AlembicConfig

        config = AlembicConfig()
        config.set_main_option("script_location", str(MIGRATIONS))
        config.attributes["engine"] = self.engine
        with self.engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, "head")
        if self.is_sqlite and revisions and min(revisions) < VACUUM_AFTER:
            self._vacuum()

    def _revisions(self) -> list[str] | None:
        """The revisions the database is at; None for a new database."""
        from sqlalchemy.exc import SQLAlchemyError

        try:
            with self.engine.connect() as connection:
                rows = connection.exec_driver_sql("SELECT version_num FROM alembic_version").all()
        except SQLAlchemyError:  # no table yet: a new database
            return None
        return [row[0] for row in rows]

    def _vacuum(self) -> None:
        """Give the pages a migration freed back to the file system (SQLite keeps
        them for later writes otherwise): outside any transaction."""
        with self.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.exec_driver_sql("VACUUM")

    def tables(self) -> list[str]:
        from sqlalchemy import inspect

        return sorted(inspect(self.engine).get_table_names())

    @contextmanager
    def session(self, *, write: bool = False) -> Iterator[Session]:
        """A session that commits on success and rolls back on error."""
        from sqlalchemy.exc import SQLAlchemyError
        from sqlmodel import Session

        lock = self.write_lock if write else None
        if lock:
            lock.acquire()
        try:
            with Session(self.engine, expire_on_commit=False) as session:
                session.info["search_index"] = True  # search.py re-indexes what is written
                try:
                    yield session
                    if write:
                        session.commit()
                except (SQLAlchemyError, sqlite3.Error) as exc:  # sqlite3's: ``raw.over``'s
                    session.rollback()
                    raise StoreError(f"database error: {_reason(exc)}") from exc
                except BaseException:
                    session.rollback()
                    raise
        finally:
            if lock:
                lock.release()

    # -- blobs ---------------------------------------------------------------

    @staticmethod
    def put_blob(session: Session, data: bytes) -> str:
        """Store ``data`` once per distinct content; return its hash."""
        from sqlmodel import select

        from monitor.store.models import BlobRow

        digest = blob_hash(data)
        stored = session.exec(select(BlobRow.hash).where(BlobRow.hash == digest)).first()
        if stored is None:  # (the hash alone: an unchanged page's blob is not read back)
            session.add(
                BlobRow(
                    hash=digest, size=len(data), data=zlib.compress(data, 6), created_at=utcnow()
                )
            )
            session.flush()
        return digest

    @staticmethod
    def get_blob(session: Session, digest: str | None) -> bytes | None:
        from monitor.store.models import BlobRow

        if not digest:
            return None
        row = session.get(BlobRow, digest)
        if row is None:
            return None
        return zlib.decompress(row.data) if row.compression == "zlib" else row.data

    def blob_text(self, digest: str | None) -> str | None:
        with self.session() as session:
            data = self.get_blob(session, digest)
        return data.decode("utf-8") if data is not None else None

    def blob_count(self) -> int:
        from sqlmodel import func, select

        from monitor.store.models import BlobRow

        with self.session() as session:
            return session.exec(select(func.count()).select_from(BlobRow)).one()

    def close(self) -> None:
        if self._raw is not None:
            self._raw.close()
        if self._engine is not None:
            self._engine.dispose()


def _make_engine(url: str) -> Engine:
    from sqlalchemy import event
    from sqlalchemy.exc import ArgumentError, NoSuchModuleError
    from sqlmodel import create_engine

    kwargs: dict[str, Any] = {}
    if url.startswith("sqlite"):
        kwargs["connect_args"] = {"check_same_thread": False, "timeout": 30}
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).expanduser().parent.mkdir(parents=True, exist_ok=True)
    else:
        kwargs["pool_pre_ping"] = True
    try:
        engine = create_engine(url, **kwargs)
    except (ImportError, NoSuchModuleError, ArgumentError) as exc:
        scheme = url.split(":", 1)[0]
        raise ConfigError(
            f"cannot use a {scheme}:// database ({type(exc).__name__}: "
            f"{str(exc).splitlines()[0][:200]})",
            key="[store].url",
            fix='use "sqlite:///regwatch.db" or "postgresql+psycopg://user@host/db" '
            "(pip install 'regwatch[postgres]')",
        ) from None
    if url.startswith("sqlite"):

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            for pragma in SQLITE_PRAGMAS:
                cursor.execute(f"PRAGMA {pragma}")
            cursor.close()

    return engine


def _reason(exc: BaseException) -> str:
    from sqlalchemy.exc import OperationalError

    if isinstance(exc, OperationalError) and exc.orig is not None:
        return " ".join(str(exc.orig).split())[:300]  # one line: psycopg adds a hint line
    text = str(exc).splitlines()[0]
    return text[:300]
