"""record identity, listing digests, per-item errors, mirror links as a column

- ``source.listing_hash``: the last healthy run's normalised listing digest
  (an unchanged listing skips the diff);
- ``source.moved_to``: where a moved list now answers from, said once;
- ``source.hosts``: the host names the source's site has had, so keys and
  URLs stored under an old host keep matching;
- ``run.item_errors``: how many items kept without their detail page;
- ``change.mirror_of``: the document whose change already told people,
  replacing the ``detail = "mirror:<change id>"`` / ``"mirror:document:<id>"``
  text protocol (existing rows are converted).

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01
"""
import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("source", schema=None) as batch_op:
        batch_op.add_column(sa.Column("listing_hash", sa.String(),
                                      nullable=False, server_default=""))
        batch_op.add_column(sa.Column("moved_to", sa.String(),
                                      nullable=False, server_default=""))
        batch_op.add_column(sa.Column("hosts", sa.String(),
                                      nullable=False, server_default=""))
    with op.batch_alter_table("run", schema=None) as batch_op:
        batch_op.add_column(sa.Column("item_errors", sa.Integer(), nullable=False,
                                      server_default="0"))
    with op.batch_alter_table("change", schema=None) as batch_op:
        batch_op.add_column(sa.Column("mirror_of", sa.Integer(), nullable=True))
        batch_op.create_foreign_key("fk_change_mirror_of_document", "document",
                                    ["mirror_of"], ["id"])
    bind = op.get_bind()
    rows = bind.execute(sa.text(
        "SELECT id, detail FROM change WHERE detail LIKE 'mirror:%'")).fetchall()
    for change_id, detail in rows:
        target = detail[len("mirror:"):]
        document: int | None = None
        if target.startswith("document:") and target[len("document:"):].isdigit():
            document = int(target[len("document:"):])
        elif target.isdigit():
            document = bind.execute(sa.text("SELECT document_id FROM change WHERE id = :id"),
                                    {"id": int(target)}).scalar()
        bind.execute(sa.text("UPDATE change SET mirror_of = :doc, detail = '' WHERE id = :id"),
                     {"doc": document, "id": change_id})


def downgrade() -> None:
    bind = op.get_bind()
    bind.execute(sa.text("UPDATE change SET detail = 'mirror:document:' || mirror_of "
                         "WHERE mirror_of IS NOT NULL"))
    with op.batch_alter_table("change", schema=None) as batch_op:
        batch_op.drop_constraint("fk_change_mirror_of_document", type_="foreignkey")
        batch_op.drop_column("mirror_of")
    with op.batch_alter_table("run", schema=None) as batch_op:
        batch_op.drop_column("item_errors")
    with op.batch_alter_table("source", schema=None) as batch_op:
        batch_op.drop_column("hosts")
        batch_op.drop_column("moved_to")
        batch_op.drop_column("listing_hash")
