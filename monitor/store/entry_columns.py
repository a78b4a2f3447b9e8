"""The search index's columns stored small (migration 0012).

Every document has a ``search_entry`` row, so a byte of it is 20 KB of a
bench store, counted again in each index that holds the column.

A document's entry names the ``classification`` row its document names
(``classification_id``) instead of copying its ``,car_t,gtmp,`` classes and
doc_type; ``shared_classes`` reads them back, once per process. A change's
entry keeps its own (a change holds its own classification text).

On SQLite two columns are integers:

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

import json
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.types import TypeDecorator, TypeEngine
from sqlmodel.sql.sqltypes import UTCDateTime

from monitor.store.models import ClassificationRow
from monitor.store.records import classification_key, unpack_classification

DOCUMENT_CODE = 1
_CODES = {"change": 0, "document": DOCUMENT_CODE}
_KINDS = {code: kind for kind, code in _CODES.items()}
_NO_KIND = -1  # a kind never written: matches no row
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)
_CLASSES: Any = ClassificationRow.__table__  # type: ignore[attr-defined]
_SHARED: dict[int, tuple[str, str]] = {}  # shared_classes, by classification id
_KEYS: dict[str, int] = {}  # classification text -> id (records.classification_key)


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


# -- classes ---------------------------------------------------------------------


def classes_of(classification: str) -> str:
    """The ``,key,key,`` list the ``atmp`` filter matches: the cn / eu / us / jp
    classes and the modalities of a stored classification."""
    try:
        cls = json.loads(classification or "{}")
    except ValueError:
        return ""
    return _classes(cls)


def shared_classes(
    connection: Connection, ids: Iterable[int] | None = None
) -> dict[int, tuple[str, str]]:
    """(classes, doc_type) of the stored classifications ``ids`` (every one the
    store holds when None), by id: what the entries of the documents naming
    one match and show. An id is its text's digest, the same in every store:
    each is read and decoded once per process."""
    if ids is None:
        ids = connection.execute(sa.select(_CLASSES.c.id)).scalars().all()
    wanted = set(ids)
    if missing := wanted - _SHARED.keys():
        query = sa.select(_CLASSES.c.id, _CLASSES.c.packed).where(_CLASSES.c.id.in_(missing))
        for key, packed in connection.execute(query):
            cls = unpack_classification(packed) if packed else {}
            _SHARED[int(key)] = (_classes(cls), str(cls.get("doc_type") or ""))
    return {key: _SHARED[key] for key in wanted if key in _SHARED}


def _classes(cls: Mapping[str, Any]) -> str:
    keys: list[str] = []
    for scope in ("cn", "eu", "us", "jp", "modalities"):
        keys += [k for k in cls.get(scope) or [] if isinstance(k, str)]
    return "," + ",".join(dict.fromkeys(keys)) + "," if keys else ""


def classification_of(classification: str | None) -> int | None:
    """The id of a document's classification (its text's digest: the id the
    document names), kept per text: a store holds a few."""
    if not classification:
        return None
    key = _KEYS.get(classification)
    if key is None:
        key = _KEYS[classification] = classification_key(classification)
    return key
