"""What the steps of one check of one source share: its context, and the
change row made from a document and its classification."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime

from monitor.classify import Classification
from monitor.delivery.alerts import join_list
from monitor.store.models import ChangeRow, DocumentRow, RunRow, SourceRow
from sources.registry import Adapter, SourceSettings
from sources.types import Record


@dataclass
class CheckContext:
    """What every step of one check of one source needs."""

    settings: SourceSettings
    adapter: Adapter
    source: SourceRow
    run: RunRow
    now: datetime
    baseline: bool
    hosts: frozenset[str] = frozenset()  # the source's own site (``monitor.pipeline.identity``)


def change_row(
    source: SourceRow,
    run: RunRow,
    doc: DocumentRow,
    kind: str,
    event: str,
    now: datetime,
    cls: Classification | None,
    deadline: date | None = None,
) -> ChangeRow:
    row = ChangeRow(
        source_id=source.id or 0,
        run_id=run.id,
        document_id=doc.id,
        kind=kind,
        event=event,
        detected_at=now,
        title=doc.title,
        url=doc.url,
        jurisdiction=doc.jurisdiction,
        comment_deadline=deadline,
    )
    if cls is not None:
        row.classification = json.dumps(cls.as_dict(), ensure_ascii=False)
        row.relevant = cls.relevant
        row.cn, row.eu, row.us = join_list(cls.cn), join_list(cls.eu), join_list(cls.us)
        row.jp, row.modalities = join_list(cls.jp), join_list(cls.modalities)
        row.doc_type, row.status = cls.doc_type, cls.status
    return row


def deadline_of(record: Record) -> date | None:
    value = record.fields.get("comment_deadline")
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None
