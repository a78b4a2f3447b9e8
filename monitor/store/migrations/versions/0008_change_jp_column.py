"""changes carry Japan's PMD Act class as a column, like cn / eu / us

Revision ID: 0008
Revises: 0006
Create Date: 2026-12-02

Adds ``change.jp`` (``,human_cell_processed,gene_therapy,``, the form of the
cn / eu / us columns) and fills it from each change's stored classification
JSON, so ``--atmp human_cell_processed`` filters on a column instead of a
LIKE over the JSON. The search index's ``classes`` gain the jp keys too.
"""

import json

import sqlalchemy as sa
from alembic import op
from sqlmodel.sql.sqltypes import AutoString

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

BATCH = 500


def _jp(classification: str | None) -> str:
    """``,a,b,`` from a stored classification's ``jp`` list ("" when none or unreadable)."""
    try:
        data = json.loads(classification or "{}")
    except ValueError:
        return ""
    raw = data.get("jp") if isinstance(data, dict) else None
    keys = [k for k in raw or [] if isinstance(k, str)] if isinstance(raw, list) else []
    return "," + ",".join(keys) + "," if keys else ""


def upgrade() -> None:
    with op.batch_alter_table("change", schema=None) as batch_op:
        batch_op.add_column(sa.Column("jp", AutoString(), nullable=False, server_default=""))
    connection = op.get_bind()
    change = sa.table(
        "change", sa.column("id", sa.Integer), sa.column("classification"), sa.column("jp")
    )
    last = 0
    while True:
        rows = connection.execute(
            sa.select(change.c.id, change.c.classification)
            .where(change.c.id > last)
            .order_by(change.c.id)
            .limit(BATCH)
        ).fetchall()
        if not rows:
            break
        last = rows[-1][0]
        updates = [{"row_id": row[0], "value": _jp(row[1])} for row in rows if _jp(row[1])]
        if updates:
            connection.execute(
                change.update()
                .where(change.c.id == sa.bindparam("row_id"))
                .values(jp=sa.bindparam("value")),
                updates,
            )
    _reindex_classes(connection)


def _reindex_classes(connection: sa.engine.Connection) -> None:
    """The search index's ``classes`` of rows with a jp class, recomputed."""
    from monitor.store import search

    entries = search.entries
    for table in ("document", "change"):
        source = sa.table(table, sa.column("id", sa.Integer), sa.column("classification"))
        rows = connection.execute(
            sa.select(source.c.id, source.c.classification).where(
                source.c.classification.like('%"jp": ["%')
            )
        ).fetchall()
        for ref_id, classification in rows:
            connection.execute(
                entries.update()
                .where(entries.c.kind == table, entries.c.ref_id == ref_id)
                .values(classes=search.classes_of(classification))
            )


def downgrade() -> None:
    with op.batch_alter_table("change", schema=None) as batch_op:
        batch_op.drop_column("jp")
