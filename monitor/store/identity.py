"""One database, one identity: notice a database deleted, replaced or emptied.

Every database carries an id (the ``store_identity`` table, one row, made by
migration 0004). Next to a SQLite database the service keeps a *marker*,
``<database>.id``, holding that id: written on the first start, read on
every later one.

- **At start** (``StoreIdentity.open``): a marker with another id than the
  database's, or a marker next to a database that has just been created
  empty (the old one was deleted), means the history this service built is
  not in this database. The service refuses to start (``StoreError``, exit
  3) instead of making a silent new baseline; the message says how to start
  afresh on purpose (delete the marker).
- **While running** (``StoreIdentity.lost``): the database file must still be
  the same file (device and inode of the path) and carry the same id. When
  it was deleted or replaced, the service stops writing (its jobs stop
  running), ``/healthz`` answers 503 and one direct alert goes out.

PostgreSQL databases carry the id too; the marker check is for SQLite files
(a server database is not deleted from under the service by a file move).
"""

from __future__ import annotations

import os
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from monitor.errors import StoreError
from monitor.store.db import Store

__all__ = ["StoreIdentity", "marker_path"]


def marker_path(database: Path) -> Path:
    real = database.resolve()
    return real.with_name(real.name + ".id")


def database_id(store: Store) -> str | None:
    try:
        with store.engine.connect() as connection:
            row = connection.execute(text("SELECT id FROM store_identity")).first()
    except SQLAlchemyError:
        return None
    return str(row[0]) if row else None


class StoreIdentity:
    """The id and file identity of the database one service writes to."""

    def __init__(self, store: Store, database: Path | None) -> None:
        self.store, self.database = store, database
        self.id = database_id(store)
        self._file: tuple[int, int] | None = None
        if database is not None:
            stat = database.resolve().stat()
            self._file = (stat.st_dev, stat.st_ino)

    @classmethod
    def open(cls, store: Store, database: Path | None) -> StoreIdentity:
        """Check the database against its marker (see the module docstring)."""
        identity = cls(store, database)
        if database is None or identity.id is None:
            return identity
        marker = marker_path(database)
        try:
            expected = marker.read_text(encoding="ascii").strip()
        except FileNotFoundError:
            expected = ""
        except OSError as exc:
            raise StoreError(f"cannot read the database marker {marker}: {exc.strerror}") from None
        if expected and expected != identity.id:
            raise StoreError(
                f"the database {database} is not the one this service kept its history in "
                f"(expected id {expected}, found {identity.id}): it was deleted, replaced or "
                "emptied. Restore the right file; or, to start a new history on purpose "
                f"(the next check is a silent baseline), delete {marker}"
            )
        if not expected:
            tmp = marker.with_name(marker.name + ".tmp")
            tmp.write_text(identity.id + "\n", encoding="ascii")
            os.replace(tmp, marker)
        return identity

    def lost(self) -> str:
        """Why the database is no longer the one opened at start, or ``""``."""
        if self.database is None or self._file is None:
            return ""
        try:
            stat = os.stat(self.database.resolve())
        except FileNotFoundError:
            return f"the database file {self.database} was deleted while the service ran"
        except OSError as exc:
            return f"the database file {self.database} cannot be checked: {exc.strerror}"
        if (stat.st_dev, stat.st_ino) != self._file:
            return f"the database file {self.database} was replaced by another file"
        return ""
