"""Writing documents, versions and changes for one healthy run of a source.

The writer only writes: what to read, which classification and which event
come from the run's plan (``monitor.pipeline.plan``), made before the write
transaction opened. Nothing here fetches or classifies; which documents are
one document (a draft's final version, twins, mirrors) is ``monitor.pipeline.kin``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from functools import cached_property, lru_cache
from types import MappingProxyType
from typing import Any

from sqlalchemy import Table
from sqlmodel import Session, col, select

from diffing import text as text_diff
from diffing.records import RecordChange
from monitor.classify import Classification
from monitor.pipeline.attachments import AttachmentTexts
from monitor.pipeline.context import CheckContext, change_row, deadline_of
from monitor.pipeline.kin import LineageIndex
from monitor.pipeline.lineage import stem
from monitor.pipeline.plan import Plan
from monitor.store import Store
from monitor.store.bulk import insert_ids
from monitor.store.compact import stored_rows
from monitor.store.models import ChangeRow, DocumentRow, VersionRow
from monitor.store.records import (
    classification_dict,
    lineage_key,
    pack_classification,
    pack_new,
)
from monitor.store.search import new_document_entry, write_entries
from monitor.store.versions import keep_first_versions, version_values
from sources.types import Record

# Fields whose change alone is not worth an alert, but is worth re-reading the
# attachments for: the site says it edited the record (FDA `changed`, EMA
# `last_updated_date`); an alert follows only if the text really changed.
TOUCH_FIELDS = {"fields.updated"}


# What a document listed again takes from its new record (the rest is its history).
_RELISTED_COLUMNS = (
    "title",
    "url",
    "jurisdiction",
    "last_seen",
    "record",
    "lineage",
    "lineage_key",
    "status",
    "comment_deadline",
    "text_hash",
    "attachments",
    "classification",
    "relevant",
    "attachments_checked_at",
    "read_pending",
)


@lru_cache(maxsize=1024)
def _class_columns(cls: Classification) -> tuple[Mapping[str, Any], str]:
    """(``as_dict()``, stored form) of a classification, each made once: the
    records of a list share a few (a title alone decides most). The dict is
    shared, hence read-only."""
    data = cls.as_dict()
    return MappingProxyType(data), pack_classification(data)


class DocumentWriter:
    """Writes the plan of one run as rows. Every method runs inside the run's
    transaction; none fetches or classifies."""

    def __init__(
        self,
        session: Session,
        store: Store,
        ctx: CheckContext,
        plan: Plan,
        documents: Mapping[str, DocumentRow],
    ) -> None:
        self.session, self.store, self.ctx, self.plan = session, store, ctx, plan
        self.source, self.run, self.now = ctx.source, ctx.run, ctx.now
        self._documents = documents
        if not ctx.baseline:
            _ = self.index  # read before this run writes any row, as it always was
        self._returned: dict[str, datetime] = {}  # key -> last seen, of documents listed again

    @cached_property
    def index(self) -> LineageIndex:
        """Read when the writer starts; a baseline, which writes no change, does
        not read it (nor take its records' lineages) at all."""
        diff, plan, documents = self.plan.diff, self.plan, self._documents
        lineages = {stem(r.title) for r in diff.added}
        lineages |= {stem(c.new.title) for c in diff.changed}
        lineages |= {documents[c.key].lineage for c in diff.changed if c.key in documents}
        lineages |= {documents[r.key].lineage for r in diff.removed if r.key in documents}
        lineages |= {doc.lineage for doc in plan.rechecks}
        return LineageIndex(self.session, lineages, self.now)

    # -- attachments -----------------------------------------------------------

    def _stored(self, key: str) -> tuple[AttachmentTexts, str | None] | None:
        """Store what the plan read for ``key``: (what was read, text hash), or
        None when this record's attachments were not read at all."""
        found = self.plan.files.get(key)
        if found is None:
            return None
        for body in found.bodies.values():
            Store.put_blob(self.session, body)
        text_hash = Store.put_blob(self.session, found.text.encode("utf-8")) if found.text else None
        return found, text_hash

    def _text(self, digest: str | None) -> str:
        data = self.store.get_blob(self.session, digest)
        return data.decode("utf-8") if data else ""

    def _classification(self, key: str, doc: DocumentRow | None = None) -> Classification:
        cls = self.plan.classes.get(key)
        if cls is not None:
            return cls
        assert doc is not None, f"no classification planned for {key!r}"
        return Classification.from_dict(classification_dict(doc))

    # -- added -----------------------------------------------------------------

    def add_all(self, records: list[Record]) -> list[ChangeRow]:
        """New documents, in bulk: one Core insert of the documents (their ids
        back by ``RETURNING``), one of their search entries; no version (a new
        document's row implies its first, ``monitor.store.versions``) and no
        ORM object for a baseline. A removed document listed again takes the
        ORM path (its row is updated, a version written). The changes (none on
        a baseline) are returned unflushed."""
        # a baseline has nothing to list again: documents are written only by
        # healthy runs, which count themselves (``healthy_runs``) as they write
        returning = {} if self.ctx.baseline else self._removed_documents([r.key for r in records])
        fresh = [record for record in records if record.key not in returning]
        values = [self._new_values(record) for record in fresh]
        relisted = [self._relisted(returning[r.key], r) for r in records if r.key in returning]
        self.session.flush()  # the blobs, and the relisted rows (re-indexed by the hook)
        ids = self._insert_documents(values, fresh)
        self._insert_versions([(doc.id or 0, version_values(doc)) for doc in relisted])
        if self.ctx.baseline or not records:
            return []
        by_key = {doc.key: doc for doc in [*self._load(ids), *relisted]}
        return [self._added(record, by_key[record.key]) for record in records]

    def _insert_versions(self, versions: list[tuple[int, dict[str, Any]]]) -> None:
        """The new version of each listed-again document, one executemany, after
        the first versions their rows implied (the ORM's hook does not see a
        Core insert)."""
        if not versions:
            return
        table: Table = VersionRow.__table__  # type: ignore[attr-defined]
        keep_first_versions(self.session.connection(), [doc_id for doc_id, _ in versions])
        # the table's insert on the session's connection: an ORM insert(VersionRow)
        # walks each row through the mapper (ten times the SQL's own CPU)
        self.session.connection().execute(
            table.insert(),
            [
                {
                    "document_id": doc_id,
                    "seen_at": self.now,
                    "record": row["record"],
                    "attachments": row["attachments"],
                    "text_hash": row["text_hash"],
                }
                for doc_id, row in versions
            ],
        )

    def _added(self, record: Record, doc: DocumentRow) -> ChangeRow:
        """The "added" change of a new document (finalised, mirror, listed again…)."""
        cls = self._classification(record.key)
        event, detail, twin = self.index.added_event(doc, cls.status)
        change = change_row(
            self.source, self.run, doc, "added", event, self.now, cls, doc.comment_deadline
        )
        last = self._returned.get(record.key)
        relisted = f"listed again (last listed {last:%Y-%m-%d})" if last else ""
        change.detail = detail or relisted
        change.mirror_of = self.index.mirror_of(doc, event) or twin
        read = self.plan.files.get(record.key)
        if read is not None and read.text:
            change.excerpt = read.text[:300]
        self.index.add_change(change, doc)
        return change

    def _insert_documents(self, values: list[dict[str, Any]], records: list[Record]) -> list[int]:
        """Insert new documents with Core (executemany, ids in parameter order)
        and their search entries (the ORM hook does not see a Core insert)."""
        if not values:
            return []
        table: Table = DocumentRow.__table__  # type: ignore[attr-defined]
        connection = self.session.connection()
        ids = insert_ids(connection, table, stored_rows(connection, values))
        if self.session.info.get("search_index"):
            entries = []
            for doc_id, row, record in zip(ids, values, records, strict=True):
                read = self.plan.files.get(record.key)
                text = read.text if read is not None and row["text_hash"] else ""
                entries.append(new_document_entry(row, doc_id, record, text))
            write_entries(self.session.connection(), entries, fresh=True)
        return ids

    def _load(self, ids: list[int]) -> list[DocumentRow]:
        """The documents just inserted, as ORM rows (for the changes that name them)."""
        found: list[DocumentRow] = []
        for start in range(0, len(ids), 500):
            found += self.session.exec(
                select(DocumentRow).where(col(DocumentRow.id).in_(ids[start : start + 500]))
            ).all()
        return found

    def _removed_documents(self, keys: list[str]) -> dict[str, DocumentRow]:
        """This source's removed documents among ``keys``: a document listed again
        is the same row made active, not a second row under the same key."""
        found: dict[str, DocumentRow] = {}
        for start in range(0, len(keys), 500):
            rows = self.session.exec(
                select(DocumentRow).where(
                    DocumentRow.source_id == self.source.id,
                    DocumentRow.state == "removed",
                    col(DocumentRow.key).in_(keys[start : start + 500]),
                )
            )
            found.update((row.key, row) for row in rows)
        return found

    def _relisted(self, doc: DocumentRow, record: Record) -> DocumentRow:
        """A removed document listed again: its row takes the new record; its
        history (first seen, earlier versions and changes) stays."""
        self._returned[record.key] = doc.last_seen
        fresh = self._new_values(record)
        for name in _RELISTED_COLUMNS:
            setattr(doc, name, fresh[name])
        doc.state, doc.missing_runs, doc.linked_to = "active", 0, None
        return doc

    def _new_values(self, record: Record) -> dict[str, Any]:
        """Every column of a new document's row (its attachments stored first)."""
        cls = self._classification(record.key)
        read = self._stored(record.key)
        hashes = read[0].hashes if read else {}
        text_hash = read[1] if read else None
        lineage = stem(record.title)
        return {
            "source_id": self.source.id or 0,
            "key": record.key,
            "title": record.title,
            "url": record.url,
            "jurisdiction": self.source.jurisdiction,
            "first_seen": self.now,
            "last_seen": self.now,
            "state": "active",
            "missing_runs": 0,
            "record": pack_new(record),
            "lineage": lineage,
            "lineage_key": lineage_key(lineage),
            "linked_to": None,
            "status": cls.status,
            "comment_deadline": deadline_of(record),
            "text_hash": text_hash,
            "attachments": json.dumps(hashes, sort_keys=True),
            "classification": _class_columns(cls)[1],
            "relevant": cls.relevant,
            "attachments_checked_at": self.now if read else None,
            "read_pending": record.key in self.plan.pending,
        }

    # -- changed ---------------------------------------------------------------

    def change(self, doc: DocumentRow, item: RecordChange) -> ChangeRow | None:
        record = item.new
        names = [f.name for f in item.fields]
        old_status = doc.status
        cls = self._classification(record.key, doc)
        old_text_hash = doc.text_hash
        text_hash = self._update(doc, record, cls)
        text_changed = bool(text_hash) and text_hash != old_text_hash and bool(old_text_hash)
        if set(names) <= TOUCH_FIELDS and not text_changed:
            return None
        if text_changed:
            names.append("attachment text")
        event = _changed_event(old_status, cls.status)
        change = change_row(
            self.source, self.run, doc, "changed", event, self.now, cls, doc.comment_deadline
        )
        change.mirror_of = self.index.mirror_of(doc, event)
        self.index.add_change(change, doc)
        change.fields_changed = json.dumps([n for n in names if n not in TOUCH_FIELDS])
        if text_changed:
            self._text_diff(change, old_text_hash, text_hash)
        else:
            change.excerpt = "; ".join(
                f"{f.name}: {f.old or '∅'} → {f.new or '∅'}"
                for f in item.fields
                if f.name not in TOUCH_FIELDS
            )[:300]
        return change

    def _update(self, doc: DocumentRow, record: Record, cls: Classification) -> str | None:
        """Store a changed record, its classification and its attachments'
        re-read (if any) on `doc`, with a new version; the text hash read."""
        previous = json.loads(doc.attachments or "{}")
        read = self._stored(record.key)
        hashes = read[0].hashes if read else previous
        text_hash = read[1] if read else None
        if read:
            doc.attachments_checked_at = self.now
        if text_hash:
            doc.text_hash = text_hash
        self._store_record(doc, record)
        doc.status = cls.status
        doc.attachments = json.dumps(hashes, sort_keys=True)
        doc.comment_deadline = deadline_of(record) or doc.comment_deadline
        doc.classification = _class_columns(cls)[1]
        doc.relevant = cls.relevant
        doc.read_pending = record.key in self.plan.pending
        self.session.add(doc)
        self._version(doc)
        return text_hash

    def refresh(self, doc: DocumentRow, record: Record) -> None:
        """Store a record that changed only by noise or by its site's new
        scheme/host: no version, no change."""
        self._store_record(doc, record)
        self.session.add(doc)

    def _store_record(self, doc: DocumentRow, record: Record) -> None:
        doc.title, doc.url = record.title, record.url
        doc.record = pack_new(record)
        doc.lineage = stem(record.title)
        doc.lineage_key = lineage_key(doc.lineage)
        doc.last_seen = self.now

    def _text_diff(self, change: ChangeRow, old_hash: str | None, new_hash: str | None) -> None:
        diff = text_diff.diff(self._text(old_hash), self._text(new_hash))
        change.diff_hash = Store.put_blob(self.session, diff.unified().encode("utf-8"))
        change.excerpt = diff.excerpt(300)

    # -- re-reading attachments ------------------------------------------------

    def recheck(self, doc: DocumentRow) -> ChangeRow | None:
        """Store the re-read of an unchanged CGT document's attachments: a file
        revised at the same URL (the list entry unchanged) is a revision too."""
        cls = Classification.from_dict(classification_dict(doc))
        previous = json.loads(doc.attachments or "{}")
        read = self._stored(doc.key)
        hashes = read[0].hashes if read else previous
        text_hash = read[1] if read else None
        doc.attachments_checked_at = self.now
        self.session.add(doc)
        if not text_hash or text_hash == doc.text_hash:
            return None
        old_hash, doc.text_hash = doc.text_hash, text_hash
        doc.attachments = json.dumps(hashes, sort_keys=True)
        self._version(doc)
        if not old_hash:
            return None
        change = change_row(
            self.source, self.run, doc, "changed", "changed", self.now, cls, doc.comment_deadline
        )
        change.fields_changed = json.dumps(["attachment text"])
        self._text_diff(change, old_hash, text_hash)
        change.mirror_of = self.index.mirror_of(doc, "changed")
        self.index.add_change(change, doc)
        return change

    def late_read(self, doc: DocumentRow) -> ChangeRow | None:
        """Store the late read of a document whose ambiguous title's files waited
        (``Plan.backlog``). Its class is now its files' class. A document listed
        after the baseline that turns out to be about CGT is news nobody heard:
        one "added" change, saying why now; one from the silent baseline is
        classified and stays silent, like the baseline. A read whose downloads
        failed waits again, behind those never tried; files that downloaded
        but hold no text (scans) are done: the title's class stays."""
        read = self._stored(doc.key)
        doc.attachments_checked_at = self.now
        self.session.add(doc)
        if read is None or (not read[0].text and read[0].errors):
            return None
        found, text_hash = read
        doc.read_pending = False
        doc.attachments = json.dumps(found.hashes, sort_keys=True)
        doc.text_hash = text_hash or doc.text_hash
        was_relevant = doc.relevant
        cls = self._classification(doc.key, doc)
        doc.classification = _class_columns(cls)[1]
        doc.relevant = cls.relevant
        self._version(doc)
        if not cls.relevant or was_relevant or not self._listed_after_baseline(doc):
            return None
        change = change_row(
            self.source, self.run, doc, "added", "added", self.now, cls, doc.comment_deadline
        )
        where = next((at for at in cls.evidence_at if at), "its attachments")
        change.detail = (
            f"listed since {doc.first_seen:%Y-%m-%d}; the title did not say, "
            f"{where} is about cell and gene therapy"
        )
        change.excerpt = found.text[:300]
        self.index.add_change(change, doc)
        return change

    def _listed_after_baseline(self, doc: DocumentRow) -> bool:
        """Whether ``doc`` was listed after its source's baseline (it has an
        "added" change of its own)."""
        return (
            self.session.exec(
                select(ChangeRow.id).where(
                    ChangeRow.document_id == doc.id, ChangeRow.kind == "added"
                )
            ).first()
            is not None
        )

    # -- removed ---------------------------------------------------------------

    def remove(self, doc: DocumentRow) -> ChangeRow:
        doc.state, doc.missing_runs = "removed", 0
        self.session.add(doc)
        cls = (
            Classification.from_dict(classification_dict(doc))
            if doc.classification not in ("", "{}")
            else None
        )
        change = change_row(
            self.source, self.run, doc, "removed", "removed", self.now, cls, doc.comment_deadline
        )
        change.mirror_of = self.index.mirror_of(doc, "removed")
        self.index.add_change(change, doc)
        return change

    # -- mirrors ---------------------------------------------------------------

    def _version(self, doc: DocumentRow) -> None:
        self.session.add(
            VersionRow(document_id=doc.id or 0, seen_at=self.now, **version_values(doc))
        )


def _changed_event(old_status: str | None, new_status: str) -> str:
    """The event of a changed record: withdrawn, finalised (draft → final) or changed."""
    if new_status == "withdrawn" and old_status != "withdrawn":
        return "withdrawn"
    if old_status == "draft" and new_status == "final":
        return "finalised"
    return "changed"
