"""The full-text index over documents and changes, kept in step by the store.

One ordinary table, ``search_entry``, holds what is searched for every
document (title, the record's fields, the attachment or page text) and every
change (title, excerpt, detail), with the columns the filters need. Writing
it is the store's job: an ``after_flush`` hook on every session that
:meth:`monitor.store.Store.session` opens re-indexes the documents and
changes whose searchable columns were written, so the pipeline never calls
the index itself. (Writes that bypass the ORM, such as a hand-made SQL
``UPDATE``, are caught up by :func:`rebuild`, which migrations 0006 and
0012 run.) A document's entry names its classification instead of copying
its classes and doc_type, and on SQLite stores its kind and time as
integers (``monitor.store.entry_columns``): every document has an entry.

The engines do the searching:

* SQLite: two FTS5 tables. ``search_fts`` (external content over
  ``search_entry``, written by :func:`write_entries` for new entries and kept
  in step by SQLite triggers on update and delete) uses the ``trigram``
  tokenizer and finds any substring of three or more characters, Chinese
  included (``可比性``, ``long-term follow-up``). ``search_short``
  (contentless, no positions) holds the Chinese characters and character
  pairs and the short Latin words of each entry (:func:`grams`), so one- and
  two-character terms (``效价``, ``EU``) are found through an index too.
* PostgreSQL: a ``pg_trgm`` GIN index on title and body (``ILIKE``) and a
  GIN index on the ``grams`` array for short terms.

A query is split into terms (whitespace; ``"a quoted phrase"`` is one term);
every term must occur. ``%`` and ``_`` are plain characters.
"""

from __future__ import annotations

import json
import re
import zlib
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session as OrmSession
from sqlalchemy.orm import attributes

from monitor.store.bulk import execute_many, insert_ids
from monitor.store.entry_columns import (
    DOCUMENT_CODE,
    EntryKind,
    EntryTime,
    classes_of,
    classification_of,
)
from monitor.store.models import ChangeRow, ClassificationRow, DocumentRow
from monitor.store.records import unpack_record

metadata = sa.MetaData()
entries = sa.Table(
    "search_entry",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("kind", EntryKind(), nullable=False),  # document / change
    sa.Column("ref_id", sa.Integer, nullable=False),
    sa.Column("document_id", sa.Integer, nullable=True),
    sa.Column("source_id", sa.Integer, nullable=False),
    sa.Column("jurisdiction", sa.String(8), nullable=False, server_default=""),
    # a change's ,car_t,gtmp, and doc_type; a document's are its classification's
    sa.Column("classes", sa.Text, nullable=False, server_default=""),
    sa.Column("status", sa.String(20), nullable=False, server_default=""),
    sa.Column("doc_type", sa.String(40), nullable=False, server_default=""),
    sa.Column("event", sa.String(20), nullable=False, server_default=""),
    sa.Column("relevant", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("at", EntryTime(), nullable=False),
    sa.Column("title", sa.Text, nullable=False, server_default=""),
    sa.Column("body", sa.Text, nullable=False, server_default=""),
    sa.Column("grams", sa.Text, nullable=False, server_default=""),
    # a document's: the ``classification`` row its classes and doc_type come from
    sa.Column("classification_id", sa.BigInteger, nullable=True),
    sa.UniqueConstraint("kind", "ref_id", name="uq_search_entry_ref"),
    sa.Index("ix_search_entry_at", "kind", "at"),
)

_DOCUMENT: Any = DocumentRow.__table__  # type: ignore[attr-defined]
# what an entry's title reads as (on SQLite a document's is its row's)
entry_title: sa.ColumnElement[str] = sa.case(
    (
        sa.and_(entries.c.title == "", entries.c.kind == "document"),
        sa.func.coalesce(
            sa.select(_DOCUMENT.c.title)
            .where(_DOCUMENT.c.id == entries.c.ref_id)
            .scalar_subquery(),
            "",
        ),
    ),
    else_=entries.c.title,
)

MAX_BODY = 200_000  # characters of attachment text indexed per document
CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")
_WORD = re.compile(r"[^\W_]+")
_SHORT_WORD = 2

# On SQLite a document's entry leaves its title empty (migration 0011): the
# trigram index reads it from the document row (``entry_title``). Before a
# document's title changes or the document goes, ``monitor.store.compact``
# writes the old title into its entry, so that the index deletes what it holds.
_SQL_TITLE = (
    f"CASE WHEN {{row}}.title = '' AND {{row}}.kind = {DOCUMENT_CODE} THEN coalesce("
    "(SELECT d.title FROM document d WHERE d.id = {row}.ref_id), '') ELSE {row}.title END"
)
# Inserts are indexed by ``write_entries`` itself, one ``INSERT … SELECT`` per
# batch (migration 0015): an AFTER INSERT trigger that writes the FTS5 table
# opens a savepoint for every row, and FTS5 flushes its pending terms to a new
# segment at each one, so a baseline's 20,000 entries cost ~4× the CPU through
# the trigger (1.16 s against 0.30 s, ``bench/bench_search_write.py``).
# Deletes and updates, few and one at a time, stay with the triggers.
SQLITE_TRIGGERS = [
    "CREATE TRIGGER search_entry_ad AFTER DELETE ON search_entry BEGIN "
    "INSERT INTO search_fts(search_fts, rowid, title, body) "
    f"VALUES ('delete', old.id, {_SQL_TITLE.format(row='old')}, old.body); END",
    "CREATE TRIGGER search_entry_au AFTER UPDATE ON search_entry BEGIN "
    "INSERT INTO search_fts(search_fts, rowid, title, body) "
    f"VALUES ('delete', old.id, {_SQL_TITLE.format(row='old')}, old.body); "
    "INSERT INTO search_fts(rowid, title, body) VALUES "
    f"(new.id, {_SQL_TITLE.format(row='new')}, new.body); END",
]
_INDEX_NEW = (
    "INSERT INTO search_fts(rowid, title, body) "
    f"SELECT e.id, {_SQL_TITLE.format(row='e')}, e.body FROM search_entry e "
    "WHERE e.id BETWEEN ? AND ?"
)
SQLITE_DDL = [
    # columnsize=0: no table of each entry's token counts (nothing ranks by them)
    "CREATE VIRTUAL TABLE search_fts USING fts5(title, body, content='search_entry', "
    "content_rowid='id', tokenize='trigram', columnsize=0)",
    # contentless and without positions (single-token queries only): small
    "CREATE VIRTUAL TABLE search_short USING fts5(grams, content='', detail=none, "
    "columnsize=0, tokenize='unicode61')",
    *SQLITE_TRIGGERS,
]
SQLITE_DROP = [
    "DROP TRIGGER IF EXISTS search_entry_au",
    "DROP TRIGGER IF EXISTS search_entry_ad",
    "DROP TRIGGER IF EXISTS search_entry_ai",
    "DROP TABLE IF EXISTS search_short",
    "DROP TABLE IF EXISTS search_fts",
]
PG_DDL = [
    "CREATE INDEX ix_search_entry_trgm ON search_entry USING gin "
    "((title || ' ' || body) gin_trgm_ops)",
    "CREATE INDEX ix_search_entry_grams ON search_entry USING gin (string_to_array(grams, ' '))",
    # (SQLite's plans never took it: its `--source` searches walk ix_search_entry_at)
    "CREATE INDEX ix_search_entry_source ON search_entry (source_id)",
]


# -- what is indexed ---------------------------------------------------------------


def grams(*texts: str) -> str:
    """The short-term tokens of ``texts``: every Chinese character and pair of
    adjacent characters, and the Latin/digit words of one or two characters
    (lower case), space separated and each once."""
    seen: dict[str, None] = {}
    for text in texts:
        for run in CJK.findall(text):
            for i, char in enumerate(run):
                seen[char] = None
                if i + 1 < len(run):
                    seen[run[i : i + 2]] = None
        for word in _WORD.findall(CJK.sub(" ", text)):
            if len(word) <= _SHORT_WORD:
                seen[word.lower()] = None
    return " ".join(seen)


def _fields_text(record: str) -> str:
    try:
        data = unpack_record(record, key="")
    except ValueError:
        return ""
    names = [a.get("name") for a in data.get("attachments") or [] if isinstance(a, dict)]
    return _searched_fields(data.get("fields") or {}, names)


def _searched_fields(fields: Mapping[str, Any], names: Iterable[Any]) -> str:
    """A record's field values, then its attachments' names, one a line."""
    values = [str(v) for v in fields.values() if v not in (None, "")]
    values += [str(name or "") for name in names]
    return "\n".join(v for v in values if v)


def blob_text(connection: Connection, digest: str | None) -> str:
    """The text of a stored blob, read on ``connection`` ('' when absent)."""
    if not digest:
        return ""
    row = connection.execute(
        sa.text("SELECT data, compression FROM blob WHERE hash = :h"), {"h": digest}
    ).first()
    if row is None:
        return ""
    data = zlib.decompress(row[0]) if row[1] == "zlib" else bytes(row[0])
    return data.decode("utf-8", "replace")


_ENTRY_COLUMNS = ("source_id", "jurisdiction", "status", "state", "relevant", "first_seen", "title")


def document_entry(doc: Any, text: str) -> dict[str, Any]:
    """The index row of a document (a ``DocumentRow`` or a row with its columns)."""
    columns = {name: getattr(doc, name) for name in _ENTRY_COLUMNS}
    return _document_entry(doc.id, columns, doc.classification, _fields_text(doc.record), text)


def new_document_entry(
    row: Mapping[str, Any], doc_id: int, record: Any, text: str
) -> dict[str, Any]:
    """``document_entry`` of a document about to be inserted in bulk, built from
    its row's columns and its record (a ``sources.types.Record``) rather than by
    decoding the JSON just encoded into the row (the same entry)."""
    fields = dict(sorted(record.fields.items()))  # in the order the stored record keeps
    searched = _searched_fields(fields, (a.name for a in record.attachments))
    return _document_entry(doc_id, row, row["classification"], searched, text)


def _document_entry(
    doc_id: int | None,
    columns: Mapping[str, Any],
    classification: str | None,
    searched: str,
    text: str,
) -> dict[str, Any]:
    """The index row of a document from its columns (``_ENTRY_COLUMNS``), its
    stored classification text and its searched field text. Its classes and
    doc_type are left to the ``classification`` row the document names (the
    id is the text's digest, ``records.classification_key``): a few rows
    hold them for every document (``shared_classes``)."""
    body = "\n".join(part for part in (text[:MAX_BODY], searched) if part)
    title = columns["title"] or ""
    return {
        "kind": "document",
        "ref_id": doc_id,
        "document_id": doc_id,
        "source_id": columns["source_id"],
        "jurisdiction": columns["jurisdiction"] or "",
        "classes": "",
        "status": columns["status"] or "",
        "doc_type": "",
        "event": columns["state"] or "",
        "relevant": bool(columns["relevant"]),
        "at": columns["first_seen"],
        "title": title,
        "body": body,
        "grams": grams(title, body),
        "classification_id": classification_of(classification),
    }


def change_entry(change: Any) -> dict[str, Any]:
    """The index row of a change."""
    try:
        changed = ", ".join(json.loads(change.fields_changed or "[]"))
    except ValueError:
        changed = ""
    body = "\n".join(p for p in (change.excerpt or "", change.detail or "", changed) if p)
    return {
        "kind": "change",
        "ref_id": change.id,
        "document_id": change.document_id,
        "source_id": change.source_id,
        "jurisdiction": change.jurisdiction or "",
        "classes": classes_of(change.classification),
        "status": change.status or "",
        "doc_type": change.doc_type or "",
        "event": change.event or "",
        "relevant": bool(change.relevant),
        "at": change.detected_at,
        "title": change.title or "",
        "body": body,
        "grams": grams(change.title or "", body),
        "classification_id": None,
    }


def write_entries(
    connection: Connection, rows: Iterable[dict[str, Any]], *, fresh: bool = False
) -> int:
    """Replace the index rows of these documents/changes. On SQLite the
    trigram table is written here for the new rows (one ``INSERT … SELECT``;
    triggers delete what a replaced row held), so is the contentless
    ``search_short`` (its grams are not stored twice), and a document's entry
    leaves out its title (``entry_title``).
    ``fresh``: rows just inserted in this transaction, with nothing to replace."""
    batch = list(rows)
    sqlite = connection.dialect.name == "sqlite"
    for _kind, chosen in _chunks(batch) if not fresh else ():
        if sqlite:
            old = connection.execute(
                sa.select(entries.c.id, entry_title.label("title"), entries.c.body).where(chosen)
            ).all()
            _short(connection, [(r.id, grams(r.title, r.body)) for r in old], delete=True)
        connection.execute(entries.delete().where(chosen))
    if not batch:
        return 0
    if not sqlite:
        connection.execute(entries.insert(), batch)
        return len(batch)
    short = [r["grams"] for r in batch]
    stored = [dict(r, grams="", title="" if r["kind"] == "document" else r["title"]) for r in batch]
    ids = insert_ids(connection, entries, stored)
    execute_many(connection, _INDEX_NEW, [(ids[0], ids[-1])])  # ids are consecutive
    _short(connection, list(zip(ids, short, strict=True)))
    return len(batch)


def _chunks(batch: list[dict[str, Any]]) -> Iterator[tuple[str, sa.ColumnElement[bool]]]:
    """(kind, condition) choosing the index rows of `batch`, 500 refs at a time."""
    for kind in ("document", "change"):
        ids = [r["ref_id"] for r in batch if r["kind"] == kind]
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            yield kind, sa.and_(entries.c.kind == kind, entries.c.ref_id.in_(chunk))


def _short(connection: Connection, rows: list[tuple[int, str]], *, delete: bool = False) -> None:
    if not rows:
        return
    if delete:
        execute_many(
            connection,
            "INSERT INTO search_short(search_short, rowid, grams) VALUES ('delete', ?, ?)",
            rows,
        )
    else:
        execute_many(connection, "INSERT INTO search_short(rowid, grams) VALUES (?, ?)", rows)


# -- the store-level hook ------------------------------------------------------------

_DOC_COLUMNS = (
    "title",
    "record",
    "text_hash",
    "classification",
    "status",
    "state",
    "relevant",
    "jurisdiction",
)
_CHANGE_COLUMNS = (
    "title",
    "excerpt",
    "detail",
    "classification",
    "status",
    "event",
    "fields_changed",
    "relevant",
)


def _touched(obj: object, columns: tuple[str, ...]) -> bool:
    return any(attributes.get_history(obj, name).has_changes() for name in columns)


def _after_flush(session: OrmSession, _context: object) -> None:
    if not session.info.get("search_index"):
        return
    docs, changes, gone = _flushed(session)
    if not (docs or changes or gone):
        return
    connection = session.connection()
    for obj in gone:
        kind = "document" if isinstance(obj, DocumentRow) else "change"
        connection.execute(
            entries.delete().where(entries.c.kind == kind, entries.c.ref_id == obj.id)
        )
    rows = [document_entry(d, blob_text(connection, d.text_hash)) for d in docs if d.id]
    rows += [change_entry(c) for c in changes if c.id]
    write_entries(connection, rows)


def _flushed(
    session: OrmSession,
) -> tuple[list[DocumentRow], list[ChangeRow], list[DocumentRow | ChangeRow]]:
    """The documents and changes this flush added or changed in an indexed
    column, and those it deleted."""
    docs = [o for o in session.new if isinstance(o, DocumentRow)]
    docs += [o for o in session.dirty if isinstance(o, DocumentRow) and _touched(o, _DOC_COLUMNS)]
    changes = [o for o in session.new if isinstance(o, ChangeRow)]
    changes += [
        o for o in session.dirty if isinstance(o, ChangeRow) and _touched(o, _CHANGE_COLUMNS)
    ]
    gone = [o for o in session.deleted if isinstance(o, DocumentRow | ChangeRow)]
    return docs, changes, gone


def install_hook() -> None:
    """Listen on every ORM session (idempotent); sessions opt in through
    ``session.info["search_index"]``, which ``Store.session`` sets."""
    if not event.contains(OrmSession, "after_flush", _after_flush):
        event.listen(OrmSession, "after_flush", _after_flush)


# -- schema and rebuild (migration 0006) -------------------------------------------------


def create_schema(connection: Connection) -> None:
    """The table, its indexes and the engine's full-text structures."""
    entries.create(connection)  # with its filter indexes
    if connection.dialect.name == "sqlite":
        for statement in SQLITE_DDL:
            connection.exec_driver_sql(statement)
    else:
        connection.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        for statement in PG_DDL:
            connection.exec_driver_sql(statement)


def drop_schema(connection: Connection) -> None:
    if connection.dialect.name == "sqlite":
        for statement in SQLITE_DROP:
            connection.exec_driver_sql(statement)
    entries.drop(connection, checkfirst=True)


def rebuild(connection: Connection, batch: int = 500) -> int:
    """Index every document and change from scratch; the number of entries."""
    connection.execute(entries.delete())
    total = 0
    for rows in _batches(connection, "document", batch):
        total += write_entries(
            connection, [document_entry(r, blob_text(connection, r.text_hash)) for r in rows]
        )
    for rows in _batches(connection, "change", batch):
        total += write_entries(connection, [change_entry(r) for r in rows])
    return total


_COLUMNS = {
    "document": (
        "id",
        "source_id",
        "title",
        "jurisdiction",
        "record",
        "classification",
        "status",
        "state",
        "relevant",
        "first_seen",
        "text_hash",
    ),
    "change": (
        "id",
        "source_id",
        "document_id",
        "title",
        "jurisdiction",
        "excerpt",
        "detail",
        "fields_changed",
        "classification",
        "status",
        "doc_type",
        "event",
        "relevant",
        "detected_at",
    ),
}


def _batches(connection: Connection, table: str, size: int) -> Iterator[list[Any]]:
    model: Any = DocumentRow if table == "document" else ChangeRow
    columns = model.__table__.c
    chosen = [columns[name] for name in _COLUMNS[table]]
    select = sa.select(*chosen)
    shared = table == "document" and "classification_id" in {
        c["name"] for c in sa.inspect(connection).get_columns("document")
    }
    if shared:  # migration 0011: the text is the classification table's
        classes = ClassificationRow.__table__  # type: ignore[attr-defined]
        text = sa.func.coalesce(classes.c.packed, columns.classification).label("classification")
        select = sa.select(*(text if c.name == "classification" else c for c in chosen))
        select = select.outerjoin_from(
            DocumentRow, classes, classes.c.id == columns.classification_id
        )
    last = 0
    while True:
        rows = list(
            connection.execute(select.where(columns.id > last).order_by(columns.id).limit(size))
        )
        if not rows:
            return
        yield rows
        last = rows[-1].id
