"""Two columns of the search index stored smaller on SQLite (migration 0012).

Every document has a ``search_entry`` row, so a byte of it is 20 KB of a
bench store, counted again in each index that holds the column:

* ``kind`` (``document`` / ``change``) is stored as 1 / 0: SQLite keeps the
  integers 0 and 1 in a row's header, with no bytes of their own (the text
  took 9 in the row, the unique index and the ``(kind, at)`` index);
* ``at`` is stored as microseconds since 1970 (8 bytes) instead of the
  26-character text SQLAlchemy writes, in the row and in the ``(kind, at)``
  index. Both order alike: the text has a fixed width.

Code reads and writes the strings and aware datetimes as before: these are
SQLAlchemy types. PostgreSQL keeps its text and ``timestamptz`` columns.
Raw SQL on SQLite (the trigram index's triggers) compares ``kind`` with
:data:`DOCUMENT_CODE`.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator, TypeEngine
from sqlmodel.sql.sqltypes import UTCDateTime

DOCUMENT_CODE = 1
_CODES = {"change": 0, "document": DOCUMENT_CODE}
_KINDS = {code: kind for kind, code in _CODES.items()}
_NO_KIND = -1  # a kind never written: matches no row
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


class EntryKind(TypeDecorator[str]):
    """``document`` / ``change``: an integer on SQLite, text elsewhere."""

    impl = sa.String(10)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(sa.Integer())
        return dialect.type_descriptor(sa.String(10))

    def process_bind_param(self, value: str | None, dialect: Dialect) -> Any:
        if value is None or dialect.name != "sqlite":
            return value
        return _CODES.get(value, _NO_KIND)

    def process_result_value(self, value: Any, dialect: Dialect) -> str | None:
        if value is None or dialect.name != "sqlite":
            return value  # type: ignore[no-any-return]
        return _KINDS[int(value)]


class EntryTime(TypeDecorator[datetime]):
    """An aware datetime read back in UTC (as ``UTCDateTime``): microseconds
    since 1970 on SQLite, ``timestamptz`` elsewhere."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True
    _utc = UTCDateTime()

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(sa.BigInteger())
        return dialect.type_descriptor(sa.DateTime(timezone=True))

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> Any:
        utc = self._utc.process_bind_param(value, dialect)  # refuses a naive datetime
        if utc is None or dialect.name != "sqlite":
            return utc
        return (utc - _EPOCH) // _MICROSECOND

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if dialect.name == "sqlite":
            return _EPOCH + timedelta(microseconds=int(value))
        return self._utc.process_result_value(value, dialect)
