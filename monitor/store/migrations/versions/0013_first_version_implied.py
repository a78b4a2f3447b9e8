"""a document's only version is implied by its row: no version row for it

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-02

What ``monitor.store.versions`` describes: while a document has one version,
its row (record, attachments, text hash, first seen) implies it, and no
``version`` row is written; the first change of the document writes it first.
A store of 20,000 documents that never changed held 20,000 version rows (1.3 MB
and 0.2 MB of ``ix_version_document_id``) repeating their documents.

The upgrade deletes the version rows that are their document's only one and
read exactly as the version its row implies: seen at ``first_seen``, the same
attachments and text hash, a record that reads as the document's
(``records.version_dict``). Any other is kept: a page's versions (no record),
a document's only version that differs from its row. So every version read
is the one read before. In batches of documents (a store may hold millions).

The downgrade writes the implied version of every document that has none, as
the writer wrote a first version (``pack_version`` of the document's record).
A document with no version at all before the upgrade (none written by regwatch)
gets one: the version the code at 0013 shows for it.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import sqlalchemy as sa
from alembic import op

from monitor.store.records import pack_version, unpack_record

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

BATCH = 1000

_document = sa.table(
    "document",
    sa.column("id", sa.Integer),
    sa.column("key", sa.String),
    sa.column("title", sa.String),
    sa.column("url", sa.String),
    sa.column("record", sa.String),
    sa.column("attachments", sa.String),
    sa.column("text_hash", sa.String),
    sa.column("first_seen", sa.DateTime),
)
_version = sa.table(
    "version",
    sa.column("id", sa.Integer),
    sa.column("document_id", sa.Integer),
    sa.column("seen_at", sa.DateTime),
    sa.column("record", sa.String),
    sa.column("attachments", sa.String),
    sa.column("text_hash", sa.String),
)


def _documents() -> Iterator[dict[int, Any]]:
    """Every document row, by id, in batches."""
    d = _document.c
    columns = sa.select(
        d.id, d.key, d.title, d.url, d.record, d.attachments, d.text_hash, d.first_seen
    )
    last = 0
    while True:
        rows = op.get_bind().execute(columns.where(d.id > last).order_by(d.id).limit(BATCH)).all()
        if not rows:
            return
        yield {row.id: row for row in rows}
        last = rows[-1].id


def _full(record: str | None, doc: Any) -> dict[str, Any]:
    """A version's record as ``records.version_dict`` reads it."""
    if record in (None, "", "{}"):
        return {}
    return unpack_record(record, key=doc.key, title=doc.title or "", url=doc.url or "")


def _implied_record(doc: Any) -> str:
    full = unpack_record(doc.record, key=doc.key, title=doc.title or "", url=doc.url or "")
    return pack_version(full, key=doc.key, title=doc.title or "", url=doc.url or "")


def _is_implied(version: Any, doc: Any) -> bool:
    """Whether ``version`` reads as the version ``doc``'s row implies (a record
    that is not JSON never does: it stays as it is)."""
    if not (
        version.seen_at == doc.first_seen
        and version.attachments == doc.attachments
        and version.text_hash == doc.text_hash
    ):
        return False
    try:
        return _full(version.record, doc) == _full(_implied_record(doc), doc)
    except ValueError:
        return False


def _version_counts(ids: list[int]) -> dict[int, int]:
    v = _version.c
    rows = op.get_bind().execute(
        sa.select(v.document_id, sa.func.count())
        .where(v.document_id.in_(ids))
        .group_by(v.document_id)
    )
    return {document_id: count for document_id, count in rows}


def upgrade() -> None:
    v = _version.c
    for docs in _documents():
        counts = _version_counts(list(docs))
        only = [i for i in docs if counts.get(i) == 1]
        if not only:
            continue
        versions = op.get_bind().execute(
            sa.select(v.id, v.document_id, v.seen_at, v.record, v.attachments, v.text_hash).where(
                v.document_id.in_(only)
            )
        )
        implied = [row.id for row in versions if _is_implied(row, docs[row.document_id])]
        if implied:
            op.get_bind().execute(_version.delete().where(v.id.in_(implied)))


def downgrade() -> None:
    for docs in _documents():
        counts = _version_counts(list(docs))
        values = []
        for doc in docs.values():
            if counts.get(doc.id):
                continue
            try:
                record = _implied_record(doc)
            except ValueError:  # a record that is not JSON implies none (no upgrade removed it)
                continue
            values.append(
                {
                    "document_id": doc.id,
                    "seen_at": doc.first_seen,
                    "record": record,
                    "attachments": doc.attachments,
                    "text_hash": doc.text_hash,
                }
            )
        if values:
            op.get_bind().execute(_version.insert(), values)
