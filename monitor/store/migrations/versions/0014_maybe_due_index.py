"""the documents a check may owe something found through a partial index

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-02

Before each ``check_all``, ``warm.maybe_due_sources`` asks which sources hold an
active document that is missing, waits for its files or was re-read before: the
only sources whose unchanged check may still have work. Without an index that is
a scan of every document, growing with the history rather than the sources (85 ms
at 200,000 documents, on every run). ``ix_document_maybe_due`` indexes the
``source_id`` of exactly those documents (``models.MAYBE_DUE``; a store where
nothing is missing holds none), so the question reads only them (0.03 ms).
"""

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

# as in monitor.store.models.MAYBE_DUE at this revision (a migration keeps its own words)
MAYBE_DUE = (
    "state <> 'removed' AND (missing_runs > 0 OR read_pending = true"
    " OR attachments_checked_at IS NOT NULL)"
)


def upgrade() -> None:
    op.create_index(
        "ix_document_maybe_due",
        "document",
        ["source_id"],
        sqlite_where=sa.text(MAYBE_DUE),
        postgresql_where=sa.text(MAYBE_DUE),
    )


def downgrade() -> None:
    op.drop_index("ix_document_maybe_due", table_name="document")
