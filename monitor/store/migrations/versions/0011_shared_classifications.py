"""documents share their classifications, keep their lineage only when it is not
the title, drop the unread fingerprint; versions leave out the document's title

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02

What ``monitor.store.records`` and ``monitor.store.compact`` describe:

* ``classification``, new: one row per distinct classification text, keyed
  by its 64-bit digest (``records.classification_key``); ``document.
  classification_id`` names it and ``document.classification`` is left empty
  (a bench store of 20,000 documents holds 4 distinct texts of ~190 bytes);
* ``document.lineage`` is empty when it equals the title (an empty lineage,
  which has no ``lineage_key``, stays empty);
* ``document.fingerprint`` goes: no code reads it (each write recomputed it);
* ``version.record`` leaves out its title and URL when they equal its
  document's (kept when nothing else would be left);
* SQLite: a document's ``search_entry.title`` is left empty when it is the
  document's title; the trigram index's triggers read it from the document
  (``search.entry_title``). The index itself is not rewritten: it holds the
  same titles.

Nothing is lost: the ORM reads back the classification's text and the title
as lineage (``monitor.store.compact``), ``records.version_dict`` fills a
version's title and URL from its document. The downgrade writes everything
back as 0010 had it, the fingerprints recomputed from the records as the
writer computed them.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from typing import Any

import sqlalchemy as sa
from alembic import op

from diffing.normalise import fingerprint
from monitor.store.records import (
    classification_key,
    pack_record,
    pack_version,
    unpack_record,
)
from sources.types import Attachment, Record

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

BATCH = 1000
FINGERPRINT_HEX = 32

_document = sa.table(
    "document",
    sa.column("id", sa.Integer),
    sa.column("key", sa.String),
    sa.column("title", sa.String),
    sa.column("url", sa.String),
    sa.column("record", sa.String),
    sa.column("classification", sa.String),
    sa.column("classification_id", sa.BigInteger),
    sa.column("fingerprint", sa.String),
    sa.column("lineage", sa.String),
    sa.column("lineage_key", sa.BigInteger),
)
_version = sa.table(
    "version",
    sa.column("id", sa.Integer),
    sa.column("document_id", sa.Integer),
    sa.column("record", sa.String),
)
_classes = sa.table("classification", sa.column("id", sa.BigInteger), sa.column("packed", sa.Text))


def _drop_column(name: str) -> None:
    """``ALTER TABLE document DROP COLUMN``: SQLite 3.35 and PostgreSQL drop it in
    place; an older SQLite copies the table (Alembic's batch mode)."""
    if op.get_bind().dialect.name == "sqlite" and sqlite3.sqlite_version_info < (3, 35):
        with op.batch_alter_table("document", schema=None) as batch_op:
            batch_op.drop_column(name)
    else:
        op.drop_column("document", name)


def _batches(select: sa.Select[Any], id_column: sa.ColumnClause[Any]) -> Iterator[list[Any]]:
    connection = op.get_bind()
    last = 0
    while True:
        rows = connection.execute(
            select.where(id_column > last).order_by(id_column).limit(BATCH)
        ).all()
        if not rows:
            return
        yield rows
        last = rows[-1].id


def _update(table: sa.TableClause, columns: tuple[str, ...], values: list[dict[str, Any]]) -> None:
    if not values:
        return
    statement = (
        table.update()
        .where(table.c.id == sa.bindparam("row_id"))
        .values({name: sa.bindparam(f"new_{name}") for name in columns})
    )
    op.get_bind().execute(statement, values)


def _is_object(text: str | None) -> bool:
    try:
        return isinstance(json.loads(text or ""), dict)
    except ValueError:
        return False


def _versions(convert: Any, *, packed: bool) -> None:
    """Every version holding a JSON object (not ``{}``), rewritten by
    ``convert(full record, document row)``; ``packed``: its title and URL may
    be its document's (0011), else it holds them (0010)."""
    v, d = _version.c, _document.c
    select = sa.select(v.id, v.record, d.key, d.title, d.url).join_from(
        _version, _document, v.document_id == d.id
    )
    for rows in _batches(select, v.id):
        values = []
        for row in rows:
            if row.record in (None, "", "{}") or not _is_object(row.record):
                continue
            full = (
                unpack_record(row.record, key=row.key, title=row.title or "", url=row.url or "")
                if packed
                else unpack_record(row.record, key=row.key)
            )
            packed = convert(full, row)
            if packed != row.record:
                values.append({"row_id": row.id, "new_record": packed})
        _update(_version, ("record",), values)


# -- the search index's titles (SQLite) ---------------------------------------------

# the triggers as 0006-0010 made them
_TRIGGERS_0010 = [
    "CREATE TRIGGER search_entry_ai AFTER INSERT ON search_entry BEGIN "
    "INSERT INTO search_fts(rowid, title, body) VALUES (new.id, new.title, new.body); END",
    "CREATE TRIGGER search_entry_ad AFTER DELETE ON search_entry BEGIN "
    "INSERT INTO search_fts(search_fts, rowid, title, body) "
    "VALUES ('delete', old.id, old.title, old.body); END",
    "CREATE TRIGGER search_entry_au AFTER UPDATE ON search_entry BEGIN "
    "INSERT INTO search_fts(search_fts, rowid, title, body) "
    "VALUES ('delete', old.id, old.title, old.body); "
    "INSERT INTO search_fts(rowid, title, body) VALUES (new.id, new.title, new.body); END",
]
_DOC_TITLE = "(SELECT d.title FROM document d WHERE d.id = search_entry.ref_id)"
# the triggers this revision makes: a document's empty title read from its row
# (as migration 0012 also writes them, for its downgrade)
_TITLE_0011 = (
    "CASE WHEN {row}.title = '' AND {row}.kind = 'document' THEN coalesce("
    "(SELECT d.title FROM document d WHERE d.id = {row}.ref_id), '') ELSE {row}.title END"
)
_TRIGGERS_0011 = [
    "CREATE TRIGGER search_entry_ai AFTER INSERT ON search_entry BEGIN "
    "INSERT INTO search_fts(rowid, title, body) VALUES "
    f"(new.id, {_TITLE_0011.format(row='new')}, new.body); END",
    "CREATE TRIGGER search_entry_ad AFTER DELETE ON search_entry BEGIN "
    "INSERT INTO search_fts(search_fts, rowid, title, body) "
    f"VALUES ('delete', old.id, {_TITLE_0011.format(row='old')}, old.body); END",
    "CREATE TRIGGER search_entry_au AFTER UPDATE ON search_entry BEGIN "
    "INSERT INTO search_fts(search_fts, rowid, title, body) "
    f"VALUES ('delete', old.id, {_TITLE_0011.format(row='old')}, old.body); "
    "INSERT INTO search_fts(rowid, title, body) VALUES "
    f"(new.id, {_TITLE_0011.format(row='new')}, new.body); END",
]


def _entry_titles(triggers: list[str], statement: str) -> None:
    """Run ``statement`` on ``search_entry`` with no trigger (the trigram index
    keeps what it holds: the same titles), then create ``triggers``."""
    if op.get_bind().dialect.name != "sqlite":
        return
    for name in ("search_entry_ai", "search_entry_ad", "search_entry_au"):
        op.execute(f"DROP TRIGGER IF EXISTS {name}")
    op.execute(statement)
    for trigger in triggers:
        op.execute(trigger)


# -- upgrade -------------------------------------------------------------------------


def _share_classifications() -> None:
    d = _document.c
    known: set[int] = set()
    for rows in _batches(sa.select(d.id, d.classification), d.id):
        values = []
        for row in rows:
            text = row.classification if row.classification is not None else "{}"
            key = classification_key(text)
            if key not in known:
                op.get_bind().execute(_classes.insert().values(id=key, packed=text))
                known.add(key)
            values.append({"row_id": row.id, "new_classification_id": key})
        _update(_document, ("classification_id",), values)
    op.get_bind().execute(_document.update().values(classification=""))


def upgrade() -> None:
    op.create_table(
        "classification",
        sa.Column("id", sa.BigInteger(), primary_key=True, autoincrement=False),
        sa.Column("packed", sa.Text(), nullable=False),
    )
    op.add_column("document", sa.Column("classification_id", sa.BigInteger(), nullable=True))
    _drop_column("fingerprint")
    _share_classifications()
    d = _document.c
    op.get_bind().execute(
        _document.update()
        .where(d.lineage == d.title, d.lineage != "", d.lineage_key.is_not(None))
        .values(lineage="")
    )
    _versions(
        lambda full, row: pack_version(full, key=row.key, title=row.title, url=row.url),
        packed=False,
    )
    _entry_titles(
        _TRIGGERS_0011,
        "UPDATE search_entry SET title = '' WHERE kind = 'document' AND title != ''"
        f" AND title = {_DOC_TITLE}",
    )


# -- downgrade -----------------------------------------------------------------------


def _fingerprint(row: Any) -> str:
    """As the writer computed it: the first 32 hex digits of the record's."""
    data = unpack_record(row.record, key=row.key, title=row.title or "", url=row.url or "")
    record = Record(
        key=data["key"],
        title=data["title"],
        url=data["url"],
        date=data["date"],
        status=data["status"],
        attachments=tuple(
            Attachment(url=str(a.get("url") or ""), name=str(a.get("name") or ""))
            for a in data["attachments"]
            if isinstance(a, dict)
        ),
        fields=dict(data["fields"]),
    )
    return fingerprint(record)[:FINGERPRINT_HEX]


def _documents_back() -> None:
    d = _document.c
    texts = {row.id: row.packed for row in op.get_bind().execute(sa.select(_classes))}
    select = sa.select(d.id, d.key, d.title, d.url, d.record, d.classification, d.classification_id)
    for rows in _batches(select, d.id):
        values = [
            {
                "row_id": row.id,
                "new_classification": (
                    texts[row.classification_id]
                    if row.classification_id is not None
                    else row.classification
                ),
                "new_fingerprint": _fingerprint(row) if _is_object(row.record) else "",
            }
            for row in rows
        ]
        _update(_document, ("classification", "fingerprint"), values)


def downgrade() -> None:
    _entry_titles(
        _TRIGGERS_0010,
        f"UPDATE search_entry SET title = coalesce({_DOC_TITLE}, '')"
        " WHERE kind = 'document' AND title = ''",
    )
    _versions(lambda full, row: pack_record(full, key=row.key), packed=True)
    op.add_column(
        "document", sa.Column("fingerprint", sa.String(), nullable=False, server_default="")
    )
    _documents_back()
    d = _document.c
    op.get_bind().execute(
        _document.update()
        .where(d.lineage == "", d.lineage_key.is_not(None))
        .values(lineage=d.title)
    )
    _drop_column("classification_id")
    op.drop_table("classification")
