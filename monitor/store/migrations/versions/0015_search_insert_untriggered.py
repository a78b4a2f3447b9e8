"""new search entries are indexed by the writer, not by an insert trigger (SQLite)

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-02

On SQLite, ``search_entry_ai`` copied each new entry into the trigram table
``search_fts``. A trigger that writes an FTS5 table opens a savepoint for every
row, and FTS5 flushes its pending terms into a new segment at each savepoint:
a baseline's 20,000 entries cost ~1.2 s of CPU that way, ~0.3 s when the
writer indexes the batch itself with one ``INSERT … SELECT``
(``monitor.store.search.write_entries``; ``bench/bench_search_write.py``).
The update and delete triggers stay. The index itself is unchanged.
PostgreSQL has no such trigger: nothing to do there.
"""

from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

# as migration 0012 made it (a migration keeps its own words)
_INSERT_TRIGGER_0014 = (
    "CREATE TRIGGER search_entry_ai AFTER INSERT ON search_entry BEGIN "
    "INSERT INTO search_fts(rowid, title, body) VALUES "
    "(new.id, CASE WHEN new.title = '' AND new.kind = 1 THEN coalesce("
    "(SELECT d.title FROM document d WHERE d.id = new.ref_id), '') ELSE new.title END, "
    "new.body); END"
)


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS search_entry_ai")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute(_INSERT_TRIGGER_0014)
