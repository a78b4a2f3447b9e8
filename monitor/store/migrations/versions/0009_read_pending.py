"""documents remember that their ambiguous title's attachments are still unread

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02

Adds ``document.read_pending``: true for a document whose title is ambiguous
(``monitor.classify.ambiguous``) and whose attachments were not read when it
was listed (over ``ambiguous_per_run``). Later checks read these, waiting
longest first, within the same budget, until none are left. Existing
documents start false: a store from before this revision does not go back
over the documents it already classified by title.
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "document",
        sa.Column("read_pending", sa.Boolean(), nullable=False, server_default=sa.false()),
    )


def downgrade() -> None:
    with op.batch_alter_table("document", schema=None) as batch_op:
        batch_op.drop_column("read_pending")
