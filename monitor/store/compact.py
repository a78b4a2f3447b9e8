"""Document rows stored smaller than they read (migration 0011).

The rows hold less than the ORM shows:

* ``lineage`` is empty when it equals the title (nearly always): read back
  as the title (an empty lineage has no ``lineage_key``);
* ``classification`` is left empty and ``classification_id`` names a row of
  the ``classification`` table (a few distinct values shared by thousands of
  documents): read back as that row's text;
* a version's record leaves out the title and URL equal to its document's
  (``records.pack_version``): before a document's title or URL changes, the
  old ones are written into the versions that left them out;
* a document's first version is not stored while it is its only one
  (``monitor.store.versions``): before a column a version holds changes, it
  is written from the row;
* on SQLite, a document's search entry leaves out the title
  (``search.entry_title``): before the title changes or the document goes,
  the old one is written into the entry.

Mapper events do it for every ``DocumentRow`` the ORM loads, inserts or
updates, so code that reads ``doc.lineage`` or ``doc.classification`` never
knows. A Core insert of document rows packs them with :func:`stored_rows`.
Readers that select the columns themselves (``search.rebuild``) join the
``classification`` table.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Mapper, attributes
from sqlalchemy.orm.attributes import set_committed_value

from monitor.errors import StoreError
from monitor.store.models import ClassificationRow, DocumentRow, VersionRow
from monitor.store.records import (
    classification_key,
    pack_version,
    shown_lineage,
    stored_lineage,
    unpack_record,
)
from monitor.store.search import entries
from monitor.store.versions import VERSION_COLUMNS, keep_first_versions

_CLASSES: Any = ClassificationRow.__table__  # type: ignore[attr-defined]
_VERSIONS: Any = VersionRow.__table__  # type: ignore[attr-defined]
# every classification text ever read or written, by id: the id is the text's
# digest, so one dictionary serves every store this process opens
_TEXTS: dict[int, str] = {}
# connection.info: (transaction, the ids known stored in it)
_WRITTEN = "regwatch_classifications"
# InstanceState.info: what a row showed before its flush stored it small
_RESTORE = "regwatch_restore"


# -- classifications -------------------------------------------------------------


def classification_id(connection: Connection, packed: str) -> int:
    """The id of ``packed`` in the ``classification`` table, its row written
    first when the table does not hold it (in this transaction)."""
    key = classification_key(packed)
    written = _written(connection)
    if key in written:
        return key
    found = connection.execute(sa.select(_CLASSES.c.packed).where(_CLASSES.c.id == key)).first()
    if found is None:
        # another process may write the same row meanwhile: the same text, the same id
        connection.execute(_insert_new(connection.dialect.name, key, packed))
    elif found[0] != packed:
        raise StoreError(f"two classifications share the id {key}: {found[0]!r} and {packed!r}")
    written.add(key)
    _TEXTS[key] = packed
    return key


def _written(connection: Connection) -> set[int]:
    """The ids this transaction (the innermost: a savepoint's rollback forgets
    them too) is known to hold. No engine event: a connection listener would
    slow every statement of every run."""
    transaction = connection.get_nested_transaction() or connection.get_transaction()
    held = connection.info.get(_WRITTEN)
    if held is None or held[0] is not transaction:
        held = connection.info[_WRITTEN] = (transaction, set())
    written: set[int] = held[1]
    return written


def _insert_new(dialect: str, key: int, packed: str) -> Any:
    """``INSERT … ON CONFLICT DO NOTHING`` (dialect modules imported on first use)."""
    if dialect == "postgresql":
        from sqlalchemy.dialects import postgresql

        return postgresql.insert(_CLASSES).values(id=key, packed=packed).on_conflict_do_nothing()
    from sqlalchemy.dialects import sqlite

    return sqlite.insert(_CLASSES).values(id=key, packed=packed).on_conflict_do_nothing()


def classification_texts(connection: Connection, ids: Iterable[int]) -> dict[int, str]:
    """The texts of the classification ``ids`` (all of the table's rows are read
    once when one is unknown: the table holds a few)."""
    if any(i not in _TEXTS for i in ids):
        for row in connection.execute(sa.select(_CLASSES.c.id, _CLASSES.c.packed)):
            _TEXTS[row.id] = row.packed
    return _TEXTS


def stored_rows(connection: Connection, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Document rows (every column, as a Core insert takes them) as stored:
    the lineage empty when it is the title, the classification by id."""
    return [
        {
            **row,
            "lineage": stored_lineage(row["lineage"], row["title"]),
            "classification": "",
            "classification_id": classification_id(connection, row["classification"]),
        }
        for row in rows
    ]


# -- the ORM's rows ----------------------------------------------------------------


def _read_back(target: DocumentRow, context: Any) -> None:
    """Show a row just read (``context``: its query's) as it was written."""
    loaded = attributes.instance_state(target).dict
    if loaded.get("lineage") == "" and "title" in loaded:
        shown = shown_lineage("", loaded["title"], loaded.get("lineage_key"))
        if shown:
            set_committed_value(target, "lineage", shown)
    key = loaded.get("classification_id")
    if key is not None and "classification" in loaded:
        if key not in _TEXTS:  # read once per process and text
            classification_texts(context.session.connection(), [key])
        set_committed_value(target, "classification", _TEXTS[key])


@event.listens_for(DocumentRow, "load")
def _on_load(target: DocumentRow, context: Any) -> None:
    _read_back(target, context)


@event.listens_for(DocumentRow, "refresh")
def _on_refresh(target: DocumentRow, context: Any, _attrs: object) -> None:
    _read_back(target, context)


def _changed(target: DocumentRow, name: str) -> bool:
    return attributes.get_history(target, name).has_changes()


def _store_small(target: DocumentRow, connection: Connection, insert: bool) -> None:
    restore: dict[str, Any] = {}
    if insert or _changed(target, "lineage") or _changed(target, "title"):
        restore["lineage"] = target.lineage
        target.lineage = stored_lineage(target.lineage, target.title)
    if insert or _changed(target, "classification"):
        restore["classification"] = target.classification
        target.classification_id = classification_id(connection, target.classification)
        target.classification = ""
    attributes.instance_state(target).info[_RESTORE] = restore


def _shown_again(target: DocumentRow) -> None:
    for name, value in attributes.instance_state(target).info.pop(_RESTORE, {}).items():
        setattr(target, name, value)


@event.listens_for(DocumentRow, "before_insert")
def _before_insert(_mapper: Mapper[Any], connection: Connection, target: DocumentRow) -> None:
    _store_small(target, connection, insert=True)


@event.listens_for(DocumentRow, "before_update")
def _before_update(_mapper: Mapper[Any], connection: Connection, target: DocumentRow) -> None:
    title = attributes.get_history(target, "title")
    if title.deleted:
        _keep_entry_title(connection, target.id, title.deleted[0])
    if any(_changed(target, name) for name in VERSION_COLUMNS):
        # the first version, implied by the row until now, before the row changes
        keep_first_versions(connection, [target.id or 0])
    _keep_version_columns(target, connection)
    _store_small(target, connection, insert=False)


@event.listens_for(DocumentRow, "before_delete")
def _before_delete(_mapper: Mapper[Any], connection: Connection, target: DocumentRow) -> None:
    _keep_entry_title(connection, target.id, target.title)


def _keep_entry_title(connection: Connection, doc_id: int | None, title: str) -> None:
    """Write the title a document's search entry reads from its row into the
    entry, before the row changes it (SQLite: ``search.entry_title``)."""
    if connection.dialect.name != "sqlite" or doc_id is None:
        return
    connection.execute(
        entries.update()
        .where(entries.c.kind == "document", entries.c.ref_id == doc_id, entries.c.title == "")
        .values(title=title)
    )


@event.listens_for(DocumentRow, "after_insert")
def _after_insert(_mapper: Mapper[Any], _connection: Connection, target: DocumentRow) -> None:
    _shown_again(target)


@event.listens_for(DocumentRow, "after_update")
def _after_update(_mapper: Mapper[Any], _connection: Connection, target: DocumentRow) -> None:
    _shown_again(target)


# -- versions ------------------------------------------------------------------------


def _keep_version_columns(target: DocumentRow, connection: Connection) -> None:
    """Before a document's title or URL changes, its versions that left them out
    (they were the same) take the old ones."""
    title, url = attributes.get_history(target, "title"), attributes.get_history(target, "url")
    if not (title.deleted or url.deleted):
        return
    old_title = title.deleted[0] if title.deleted else target.title
    old_url = url.deleted[0] if url.deleted else target.url
    rows = connection.execute(
        sa.select(_VERSIONS.c.id, _VERSIONS.c.record).where(_VERSIONS.c.document_id == target.id)
    ).all()
    values = []
    for row in rows:
        if row.record in (None, "", "{}"):
            continue
        try:
            data = json.loads(row.record)
        except ValueError:
            continue
        if not isinstance(data, dict) or ("title" in data and "url" in data):
            continue
        full = unpack_record(row.record, key=target.key, title=old_title, url=old_url)
        # still without what the document keeps
        packed = pack_version(full, key=target.key, title=target.title, url=target.url)
        if packed != row.record:
            values.append({"row_id": row.id, "new_record": packed})
    if values:
        connection.execute(
            _VERSIONS.update()
            .where(_VERSIONS.c.id == sa.bindparam("row_id"))
            .values(record=sa.bindparam("new_record")),
            values,
        )
