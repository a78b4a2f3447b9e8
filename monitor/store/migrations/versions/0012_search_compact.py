"""a smaller search index per document: classes by classification id, kind and
time as integers on SQLite, no token-count tables

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02

What ``monitor.store.search`` and ``monitor.store.entry_columns`` describe:

* ``search_entry.classification_id``, new: a document's entry names the
  ``classification`` row its document names and leaves ``classes`` and
  ``doc_type`` empty (the ~55-byte ``,cell_therapy,sctmp,…,`` list was
  copied into every entry); a change's entry keeps its own;
* SQLite: ``kind`` is stored as 1 (document) / 0 (change) and ``at`` as
  microseconds since 1970, in the row and in the indexes holding them;
* SQLite: ``ix_search_entry_source`` goes (no plan used it; PostgreSQL keeps
  it), and both FTS5 tables are made with ``columnsize=0``: their
  ``_docsize`` tables of token counts went unread (nothing ranks results).

The index holds nothing that the documents and changes do not: the upgrade
makes it afresh (``search.rebuild``, as 0006 did). The downgrade writes the
0011 rows back in place, with the same entry ids, so the SQLite FTS5 tables
stay as they are (the 0011 code reads no token counts either).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlmodel.sql.sqltypes import UTCDateTime

from monitor.store import search
from monitor.store.entry_columns import shared_classes

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    connection = op.get_bind()
    search.drop_schema(connection)
    search.create_schema(connection)
    search.rebuild(connection)


# -- downgrade: the 0011 index, as 0006-0011 made it ---------------------------------

_metadata_0011 = sa.MetaData()
_entries_0011 = sa.Table(
    "search_entry",
    _metadata_0011,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("kind", sa.String(10), nullable=False),
    sa.Column("ref_id", sa.Integer, nullable=False),
    sa.Column("document_id", sa.Integer, nullable=True),
    sa.Column("source_id", sa.Integer, nullable=False),
    sa.Column("jurisdiction", sa.String(8), nullable=False, server_default=""),
    sa.Column("classes", sa.Text, nullable=False, server_default=""),
    sa.Column("status", sa.String(20), nullable=False, server_default=""),
    sa.Column("doc_type", sa.String(40), nullable=False, server_default=""),
    sa.Column("event", sa.String(20), nullable=False, server_default=""),
    sa.Column("relevant", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("at", UTCDateTime(), nullable=False),
    sa.Column("title", sa.Text, nullable=False, server_default=""),
    sa.Column("body", sa.Text, nullable=False, server_default=""),
    sa.Column("grams", sa.Text, nullable=False, server_default=""),
    sa.UniqueConstraint("kind", "ref_id", name="uq_search_entry_ref"),
    sa.Index("ix_search_entry_at", "kind", "at"),
    sa.Index("ix_search_entry_source", "source_id"),
)
_COLUMNS = ", ".join(c.name for c in _entries_0011.c)
_TITLE_0011 = (
    "CASE WHEN {row}.title = '' AND {row}.kind = 'document' THEN coalesce("
    "(SELECT d.title FROM document d WHERE d.id = {row}.ref_id), '') ELSE {row}.title END"
)
_SQLITE_TRIGGERS_0011 = [
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
_PG_DDL_0011 = [
    "CREATE INDEX ix_search_entry_trgm ON search_entry USING gin "
    "((title || ' ' || body) gin_trgm_ops)",
    "CREATE INDEX ix_search_entry_grams ON search_entry USING gin (string_to_array(grams, ' '))",
]
# SQLite: the 0011 text of an integer kind and of microseconds since 1970
_SQLITE_KIND = "CASE e.kind WHEN 1 THEN 'document' ELSE 'change' END"
_SQLITE_AT = (
    "strftime('%Y-%m-%d %H:%M:%S', e.at / 1000000, 'unixepoch')"
    " || '.' || printf('%06d', e.at % 1000000)"
)


def downgrade() -> None:
    connection = op.get_bind()
    sqlite = connection.dialect.name == "sqlite"
    op.execute(
        "CREATE TABLE search_classes_0011 (id BIGINT PRIMARY KEY, classes TEXT, doc_type TEXT)"
    )
    shared = shared_classes(connection)
    if shared:
        connection.execute(
            sa.text("INSERT INTO search_classes_0011 VALUES (:id, :classes, :doc_type)"),
            [{"id": k, "classes": c, "doc_type": t} for k, (c, t) in shared.items()],
        )
    columns = {c.name: f"e.{c.name}" for c in _entries_0011.c}
    if sqlite:
        columns |= {"kind": _SQLITE_KIND, "at": _SQLITE_AT}
    for name in ("classes", "doc_type"):
        columns[name] = (
            f"CASE WHEN e.classification_id IS NULL THEN e.{name} ELSE coalesce(c.{name}, '') END"
        )
    selected = ", ".join(f"{value} AS {name}" for name, value in columns.items())
    op.execute(
        f"CREATE TABLE search_entry_0011 AS SELECT {selected} FROM search_entry e"
        " LEFT JOIN search_classes_0011 c ON c.id = e.classification_id"
    )
    if sqlite:  # the FTS5 tables stay: the entries keep their ids
        for name in ("search_entry_ai", "search_entry_ad", "search_entry_au"):
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
    op.execute("DROP TABLE search_entry")
    _entries_0011.create(connection)
    op.execute(f"INSERT INTO search_entry ({_COLUMNS}) SELECT {_COLUMNS} FROM search_entry_0011")
    op.execute("DROP TABLE search_entry_0011")
    op.execute("DROP TABLE search_classes_0011")
    for statement in _SQLITE_TRIGGERS_0011 if sqlite else _PG_DDL_0011:
        op.execute(statement)
    if not sqlite:  # the new table's id sequence starts after the ids copied in
        op.execute(
            "SELECT setval(pg_get_serial_sequence('search_entry', 'id'),"
            " coalesce(max(id), 0) + 1, false) FROM search_entry"
        )
