"""full-text search index over documents and changes (FTS5 trigram / pg_trgm)

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01

Creates ``search_entry`` with its engine's full-text structures (see
``monitor.store.search``) and indexes every existing document and change,
so an upgraded database is searchable at once.
"""
from alembic import op

from monitor.store import search

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    connection = op.get_bind()
    search.create_schema(connection)
    search.rebuild(connection)


def downgrade() -> None:
    search.drop_schema(op.get_bind())
