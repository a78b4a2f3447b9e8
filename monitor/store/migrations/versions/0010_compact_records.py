"""documents and versions store their records and classifications compactly

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02

Rewrites, in place, what ``monitor.store.records`` describes:

* ``document.record``: the Record's JSON without ``key``/``title``/``url``
  when they equal the row's columns, without empty values, without spaces;
* ``version.record``: the same, keeping ``title`` and ``url`` (what the
  version said then) and leaving out only its document's ``key``;
* ``document.classification``: ``relevant`` and the fields that are not
  their default, without spaces;
* ``document.fingerprint``: its first 32 hex digits (128 bits; the column is
  compared for equality only);
* ``document.lineage_key``, new: the lineage's 64-bit digest, indexed instead
  of the lineage text (``ix_document_lineage`` copied every title's stem);
  ``ix_document_source_id`` goes too: the unique (source_id, key) index
  answers every lookup by source.

Nothing is lost: ``record_dict``/``version_dict``/``classification_dict``
read back the dictionaries the old columns held (missing defaults filled
in). A value that is not a JSON object is left as it was. The downgrade
writes the full JSON back (the fingerprints stay 32 digits: no release
reads them back, each write recomputes them).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import sqlalchemy as sa
from alembic import op

from monitor.store.records import (
    lineage_key,
    pack_classification,
    pack_record,
    unpack_classification,
    unpack_record,
)

revision = "0010"
down_revision = "0009"
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


def _object(text: str | None) -> dict[str, Any] | None:
    try:
        data = json.loads(text or "{}")
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


def _rewrite(text: str | None, convert: Callable[[dict[str, Any]], str]) -> str | None:
    """``text`` converted, or unchanged when it holds no JSON object."""
    data = _object(text)
    return text if data is None else convert(data)


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


def _documents(
    record: Callable[[Any, dict[str, Any]], str],
    classification: Callable[[dict[str, Any]], str],
    fingerprint: Callable[[str], str],
) -> None:
    d = _document.c
    select = sa.select(d.id, d.key, d.title, d.url, d.record, d.classification, d.fingerprint)
    for rows in _batches(select, d.id):
        values = [
            {
                "row_id": row.id,
                "new_record": _rewrite(row.record, lambda data, row=row: record(row, data)),
                "new_classification": _rewrite(row.classification, classification),
                "new_fingerprint": fingerprint(row.fingerprint or ""),
            }
            for row in rows
        ]
        _update(_document, ("record", "classification", "fingerprint"), values)


def _versions(record: Callable[[str, dict[str, Any]], str]) -> None:
    v, d = _version.c, _document.c
    select = sa.select(v.id, v.record, d.key).join_from(_version, _document, v.document_id == d.id)
    for rows in _batches(select, v.id):
        values = [
            {
                "row_id": row.id,
                "new_record": _rewrite(row.record, lambda data, row=row: record(row.key, data)),
            }
            for row in rows
            if row.record not in (None, "", "{}")
        ]
        _update(_version, ("record",), values)


def _full(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False)


def _packed_classification(data: dict[str, Any]) -> str:
    return pack_classification(data) if data else "{}"


def _lineage_keys() -> None:
    d = _document.c
    for rows in _batches(sa.select(d.id, d.lineage), d.id):
        values = [
            {"row_id": row.id, "new_lineage_key": lineage_key(row.lineage or "")}
            for row in rows
            if row.lineage
        ]
        _update(_document, ("lineage_key",), values)


def upgrade() -> None:
    op.add_column("document", sa.Column("lineage_key", sa.BigInteger(), nullable=True))
    _lineage_keys()
    op.create_index("ix_document_lineage_key", "document", ["lineage_key"])
    op.drop_index("ix_document_lineage", table_name="document")
    op.drop_index("ix_document_source_id", table_name="document")
    _documents(
        lambda row, data: pack_record(data, key=row.key, title=row.title, url=row.url),
        _packed_classification,
        lambda value: value[:FINGERPRINT_HEX],
    )
    _versions(lambda key, data: pack_record(data, key=key))


def downgrade() -> None:
    _documents(
        lambda row, data: _full(
            unpack_record(json.dumps(data), key=row.key, title=row.title, url=row.url)
        ),
        lambda data: _full(unpack_classification(json.dumps(data))) if data else "{}",
        lambda value: value,
    )
    _versions(lambda key, data: _full(unpack_record(json.dumps(data), key=key)))
    op.create_index("ix_document_source_id", "document", ["source_id"])
    op.create_index("ix_document_lineage", "document", ["lineage"])
    op.drop_index("ix_document_lineage_key", table_name="document")
    with op.batch_alter_table("document", schema=None) as batch_op:
        batch_op.drop_column("lineage_key")
