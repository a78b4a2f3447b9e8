"""A document's versions, its first one implied by its row (migration 0013).

A document first seen has one version: what its row holds (record, attachments,
text hash), seen when the document was first seen. No ``version`` row is
written for it: while it is the document's only version, the row implies it
(on a store of 20,000 documents that never changed, 20,000 rows fewer).

The first time the document gets a second version, its first one is written
first, from the document's row as stored before the change, seen at
``first_seen``:

* before a version row of a document that has none is inserted (the ORM's
  ``before_insert``; the writer's Core insert calls :func:`keep_first_versions`);
* before an update changes a column a version holds (:data:`VERSION_COLUMNS`:
  the title and URL that ``records.pack_version`` leaves out too), called by
  ``monitor.store.compact`` ahead of the title and URL it writes into versions.
  A Core update of those columns would have to call :func:`keep_first_versions`
  itself (none does: documents are updated through the ORM).

So a document has version rows, all of its versions, or none and one version,
its row's. Readers take the list from :func:`versions_of`: the implied version
is a ``VersionRow`` with ``id`` None, never added to a session (``regwatch
show --json`` gives it ``"id": null``; its number, ``v1``, is how ``diff`` and
the web pages name it). Its blobs are the document's own, so retention counts
them with the document's.

Page documents (a source watched as one page) keep their first version row
(:func:`write_page_version`): it holds no record, which their row cannot tell
apart from an empty record.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Mapper
from sqlmodel import Session, col, select

from monitor.store.models import DocumentRow, VersionRow
from monitor.store.records import pack_version, record_dict

# the document's columns a version holds (title and URL: left out of a version's
# record while they equal its document's)
VERSION_COLUMNS = ("title", "url", "record", "attachments", "text_hash")
BATCH = 500
# connection.info: (transaction, the documents known to hold a version row in it)
_HELD = "regwatch_versions_held"

_VERSIONS: Any = VersionRow.__table__  # type: ignore[attr-defined]
_DOCUMENTS: Any = DocumentRow.__table__  # type: ignore[attr-defined]


def version_values(doc: Any) -> dict[str, Any]:
    """A version of ``doc`` as it is now (a ``DocumentRow`` or a row with its
    columns): record, attachments and text hash, as a version row stores them."""
    return {
        "record": pack_version(record_dict(doc), key=doc.key, title=doc.title, url=doc.url),
        "attachments": doc.attachments,
        "text_hash": doc.text_hash,
    }


def implied_version(doc: DocumentRow) -> VersionRow:
    """The first version that ``doc``'s row implies (no id: it is not stored)."""
    return VersionRow(
        id=None, document_id=doc.id or 0, seen_at=doc.first_seen, **version_values(doc)
    )


def versions_of(session: Session, doc: DocumentRow) -> list[VersionRow]:
    """Every version of ``doc``, oldest first: its version rows, or the one its
    row implies when it has none."""
    rows = session.exec(
        select(VersionRow).where(VersionRow.document_id == doc.id).order_by(col(VersionRow.id))
    ).all()
    return list(rows) or [implied_version(doc)]


def keep_first_versions(connection: Connection, doc_ids: Iterable[int]) -> None:
    """Write the implied first version of each of ``doc_ids`` that has no version
    row, from its document's row as stored now (before the change that calls)."""
    held_now = _held(connection)
    ids = [i for i in dict.fromkeys(doc_ids) if i not in held_now]
    held_now.update(ids)  # each has a version row once this returns
    for start in range(0, len(ids), BATCH):
        chunk = ids[start : start + BATCH]
        held = set(
            connection.execute(
                sa.select(_VERSIONS.c.document_id)
                .where(_VERSIONS.c.document_id.in_(chunk))
                .distinct()
            ).scalars()
        )
        missing = [i for i in chunk if i not in held]
        if not missing:
            continue
        docs = connection.execute(
            sa.select(
                _DOCUMENTS.c.id,
                _DOCUMENTS.c.key,
                _DOCUMENTS.c.title,
                _DOCUMENTS.c.url,
                _DOCUMENTS.c.record,
                _DOCUMENTS.c.attachments,
                _DOCUMENTS.c.text_hash,
                _DOCUMENTS.c.first_seen,
            )
            .where(_DOCUMENTS.c.id.in_(missing))
            .order_by(_DOCUMENTS.c.id)
        ).all()
        if docs:
            connection.execute(
                _VERSIONS.insert(),
                [{"document_id": d.id, "seen_at": d.first_seen, **version_values(d)} for d in docs],
            )


def write_page_version(connection: Connection, doc_id: int, seen_at: datetime, text: str) -> None:
    """The first version of a new page document (its text hash ``text``, no
    record), with Core: the ORM's insert would first write the version its row
    implies, which reads its empty record as a record."""
    connection.execute(
        _VERSIONS.insert().values(
            document_id=doc_id, seen_at=seen_at, record="{}", attachments="{}", text_hash=text
        )
    )


def _held(connection: Connection) -> set[int]:
    """The documents this transaction (the innermost: a savepoint's rollback
    forgets them too) knows hold a version row: a document's second version
    and its update ask once (as ``compact._written``: no engine event)."""
    transaction = connection.get_nested_transaction() or connection.get_transaction()
    known = connection.info.get(_HELD)
    if known is None or known[0] is not transaction:
        known = connection.info[_HELD] = (transaction, set())
    held: set[int] = known[1]
    return held


@event.listens_for(VersionRow, "before_insert")
def _before_insert(_mapper: Mapper[Any], connection: Connection, target: VersionRow) -> None:
    """A second version of a document: its first, implied until now, goes first."""
    keep_first_versions(connection, [target.document_id])
