"""Which documents are one document, for the writer (``monitor.pipeline.documents``).

A run's new and changed records are looked up by lineage (a title's stem,
``monitor.pipeline.lineage``) among the documents and the last week's
changes that share it (:class:`LineageIndex`, two queries per run). From
those come a draft's final version, the same document held by another source
(a twin) and the change that already told people about this one (a mirror).
Identity fields (document number, docket) decide against two records being
one document; within one source, positive evidence is needed for them to be
one.
"""

from __future__ import annotations

import json
import unicodedata
from datetime import datetime, timedelta

from sqlmodel import Session, col, select

from monitor.store.models import ChangeRow, DocumentRow
from monitor.store.records import lineage_key, record_dict

# Fields that name one document: two records agreeing on one are the same
# document; two disagreeing are two documents, whatever their titles say.
IDENTITY_FIELDS = ("doc_number", "reference_number", "docket")


class LineageIndex:
    """The documents and recent changes that share a lineage with this run's
    records, read in two queries when the writer starts, then kept up to date
    in memory: finalisation links and mirrors cost no query per record."""

    def __init__(self, session: Session, lineages: set[str], now: datetime) -> None:
        self.docs: dict[str, list[DocumentRow]] = {}
        self.changes: dict[str, list[tuple[ChangeRow, DocumentRow]]] = {}
        self.since = now - timedelta(days=7)
        self._session = session
        wanted = {x for x in lineages if x}
        keys = sorted({key for x in wanted if (key := lineage_key(x)) is not None})
        for start in range(0, len(keys), 500):  # SQLite's bound-variable limit
            chunk = keys[start : start + 500]
            for doc in session.exec(
                select(DocumentRow)
                .where(col(DocumentRow.lineage_key).in_(chunk), DocumentRow.state != "removed")
                .order_by(col(DocumentRow.id))  # as the lineage index gave them
            ):
                if doc.lineage in wanted:
                    self.docs.setdefault(doc.lineage, []).append(doc)
            for change, doc in session.exec(
                select(ChangeRow, DocumentRow)
                .join(DocumentRow, col(ChangeRow.document_id) == DocumentRow.id)
                .where(
                    col(DocumentRow.lineage_key).in_(chunk),
                    col(ChangeRow.detected_at) >= self.since,
                )
                .order_by(col(ChangeRow.id))
            ):
                if doc.lineage in wanted:
                    self.changes.setdefault(doc.lineage, []).append((change, doc))

    def add_document(self, doc: DocumentRow) -> None:
        if doc.lineage:
            self.docs.setdefault(doc.lineage, []).append(doc)

    def add_change(self, change: ChangeRow, doc: DocumentRow) -> None:
        if doc.lineage:
            self.changes.setdefault(doc.lineage, []).append((change, doc))

    def kin(self, doc: DocumentRow) -> list[DocumentRow]:
        """The other live documents of the same lineage and jurisdiction."""
        return [
            k
            for k in self.docs.get(doc.lineage, [])
            if k.jurisdiction == doc.jurisdiction
            and k is not doc
            and k.id != doc.id
            and k.state != "removed"
        ]

    def added_event(self, doc: DocumentRow, status: str) -> tuple[str, str, int | None]:
        """(event, detail, twin document) of a new document with this ``status``:
        finalised (a draft's final version appeared), a mirror of a document
        another source already holds, or plain added / draft / withdrawn. The
        document joins the index."""
        if doc.lineage:
            kin = self.kin(doc)
            self.add_document(doc)
            drafts = [k for k in kin if k.status == "draft"]
            if status == "final" and drafts:
                doc.linked_to = drafts[-1].id
                seen = f"{drafts[-1].first_seen:%Y-%m-%d}"
                return "finalised", f"finalises the draft first seen {seen}", None
            twin = self._twin(doc, kin, status)
            if twin is not None:
                return ("draft" if status == "draft" else "added"), "", twin.id
        if status == "draft":
            return "draft", "", None
        if status == "withdrawn":
            return "withdrawn", "", None
        return "added", "", None

    def _twin(self, doc: DocumentRow, kin: list[DocumentRow], status: str) -> DocumentRow | None:
        """The first of `kin` that another source holds with the same status and
        that may be this document; it takes this one's comment deadline if it
        had none."""
        same = [
            k
            for k in kin
            if k.status == status and k.source_id != doc.source_id and may_be_same(doc, k)
        ]
        if not same:
            return None
        twin = same[0]
        if doc.comment_deadline and not twin.comment_deadline:
            twin.comment_deadline = doc.comment_deadline
            self._session.add(twin)
        return twin

    def mirror_of(self, doc: DocumentRow, event: str) -> int | None:
        """The document whose change already told people about this one, or None.

        Another record (another source, or another list of the same site, like
        CDE's 发布通告 beside 国内指导原则) announced the same event in the last
        week for the same document: same lineage and jurisdiction, and, within
        one source, positive evidence that it is one document (the same page or
        file, or the same document number). Two documents of one source with
        the same title are two alerts; a change is the original of at most one
        mirror per source.
        """
        if not doc.lineage:
            return None
        recent = [
            (c, d)
            for c, d in self.changes.get(doc.lineage, [])
            if d.jurisdiction == doc.jurisdiction and d.id != doc.id
        ]
        for change, twin in recent:
            if change.event != event or change.mirror_of is not None:
                continue
            if twin.source_id == doc.source_id and not same_document(doc, twin):
                continue
            if not may_be_same(doc, twin):
                continue
            taken = any(
                c.mirror_of == twin.id and c.source_id == doc.source_id and c.event == event
                for c, _ in recent
            )
            if not taken:
                return twin.id
        return None


def identity(doc: DocumentRow) -> tuple[dict[str, str], set[str]]:
    """A document's identity fields, and the files (scheme-less URLs, text hashes) it lists."""
    record = record_dict(doc)
    fields = {
        k: str(v).strip()
        for k, v in (record.get("fields") or {}).items()
        if k in IDENTITY_FIELDS and str(v).strip()
    }
    files = {str(a.get("url", "")).split("://", 1)[-1] for a in record.get("attachments", [])}
    files |= set(json.loads(doc.attachments or "{}").values())
    return fields, {f for f in files if f}


def may_be_same(doc: DocumentRow, twin: DocumentRow) -> bool:
    """False when an identity field (document number, docket) disagrees."""
    mine, _ = identity(doc)
    theirs, _ = identity(twin)
    return all(theirs[k] == v for k, v in mine.items() if k in theirs)


def same_document(doc: DocumentRow, twin: DocumentRow) -> bool:
    """Positive evidence that two records of one source are one document: the
    same page, file or document number, or one record announcing the other
    (``关于发布《X》的通告`` beside ``X``: equal stems, different titles). Two
    records with the same title are two documents."""
    if _bare(doc.title) != _bare(twin.title):
        return True
    if doc.url and doc.url.split("://", 1)[-1] == twin.url.split("://", 1)[-1]:
        return True
    mine, my_files = identity(doc)
    theirs, their_files = identity(twin)
    if any(theirs.get(k) == v for k, v in mine.items()):
        return True
    return bool(my_files & their_files)


def _bare(title: str) -> str:
    return "".join(unicodedata.normalize("NFKC", title).split()).lower()
