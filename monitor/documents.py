"""Writing documents, versions and changes for one healthy run of a source."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta

from sqlmodel import Session, col, select

from diffing import text as text_diff
from diffing.normalise import fingerprint
from diffing.records import RecordChange
from monitor.alerts import join_list
from monitor.attachments import collect_attachments
from monitor.classify import Classification, classify
from monitor.lineage import stem
from monitor.store import Store
from monitor.store.models import ChangeRow, DocumentRow, RunRow, SourceRow, VersionRow
from sources.registry import Adapter, SourceSettings
from sources.types import Fetcher, Record

# Fields whose change alone is not worth an alert, but is worth re-reading the
# attachments for: the site says it edited the record (FDA `changed`, EMA
# `last_updated_date`); an alert follows only if the text really changed.
TOUCH_FIELDS = {"fields.updated"}


def change_row(source: SourceRow, run: RunRow, doc: DocumentRow, kind: str, event: str,
               now: datetime, cls: Classification | None,
               deadline: date | None = None) -> ChangeRow:
    row = ChangeRow(source_id=source.id or 0, run_id=run.id, document_id=doc.id, kind=kind,
                    event=event, detected_at=now, title=doc.title, url=doc.url,
                    jurisdiction=doc.jurisdiction, comment_deadline=deadline)
    if cls is not None:
        row.classification = json.dumps(cls.as_dict(), ensure_ascii=False)
        row.relevant = cls.relevant
        row.cn, row.eu, row.us = join_list(cls.cn), join_list(cls.eu), join_list(cls.us)
        row.modalities = join_list(cls.modalities)
        row.doc_type, row.status = cls.doc_type, cls.status
    return row


def deadline_of(record: Record) -> date | None:
    value = record.fields.get("comment_deadline")
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


def classify_record(record: Record, text: str | None = None) -> Classification:
    return classify(record.title, text=text or None, status=record.status,
                    doc_type=record.fields.get("doc_type"))


class DocumentWriter:
    """Turns the record diff of one run into rows. Every method runs inside the
    run's transaction."""

    def __init__(self, session: Session, store: Store, settings: SourceSettings,
                 adapter: Adapter, source: SourceRow, run: RunRow,
                 fetcher: Fetcher, now: datetime) -> None:
        self.session, self.store, self.settings = session, store, settings
        self.adapter, self.source, self.run = adapter, source, run
        self.fetcher, self.now = fetcher, now

    # -- attachments -----------------------------------------------------------

    def _texts(self, record: Record, cls: Classification,
               previous: dict[str, str]) -> tuple[dict[str, str], str | None] | None:
        """Read the attachments of a CGT-relevant record: (hashes, text hash), or
        None when this record's attachments are not read at all."""
        if not (self.settings.attachments and cls.relevant and record.attachments):
            return None
        found = collect_attachments(self.session, self.fetcher, record,
                                    base_url=self.adapter.base_url or record.url,
                                    previous=previous)
        text_hash = (Store.put_blob(self.session, found.text.encode("utf-8"))
                     if found.text else None)
        return found.hashes, text_hash

    def _text(self, digest: str | None) -> str:
        data = self.store.get_blob(self.session, digest)
        return data.decode("utf-8") if data else ""

    # -- added -----------------------------------------------------------------

    def add(self, record: Record, *, silent: bool) -> ChangeRow | None:
        cls = classify_record(record)
        read = self._texts(record, cls, {})
        hashes, text_hash = read or ({}, None)
        if text_hash:
            cls = classify_record(record, self._text(text_hash))
        deadline = deadline_of(record)
        doc = DocumentRow(
            source_id=self.source.id or 0, key=record.key, title=record.title, url=record.url,
            jurisdiction=self.source.jurisdiction, first_seen=self.now, last_seen=self.now,
            record=json.dumps(record.as_dict(), ensure_ascii=False),
            fingerprint=fingerprint(record),
            lineage=stem(record.title), status=cls.status, comment_deadline=deadline,
            text_hash=text_hash, attachments=json.dumps(hashes, sort_keys=True),
            classification=json.dumps(cls.as_dict(), ensure_ascii=False), relevant=cls.relevant,
            attachments_checked_at=self.now if read else None,
        )
        self.session.add(doc)
        self.session.flush()
        self._version(doc)
        if silent:
            return None
        event, detail = self._added_event(doc, cls)
        change = change_row(self.source, self.run, doc, "added", event, self.now, cls, deadline)
        change.detail = self._mirror(doc, event) or detail
        if text_hash:
            change.excerpt = self._text(text_hash)[:300]
        return change

    def _added_event(self, doc: DocumentRow, cls: Classification) -> tuple[str, str]:
        """finalised (a draft's final version appeared), a mirror of a document
        another source already announced, or plain added / draft / withdrawn."""
        if doc.lineage:
            kin = self.session.exec(
                select(DocumentRow).where(DocumentRow.lineage == doc.lineage,
                                          DocumentRow.jurisdiction == doc.jurisdiction,
                                          DocumentRow.id != doc.id,
                                          DocumentRow.state != "removed")
            ).all()
            drafts = [k for k in kin if k.status == "draft"]
            if cls.status == "final" and drafts:
                doc.linked_to = drafts[-1].id
                seen = f"{drafts[-1].first_seen:%Y-%m-%d}"
                return "finalised", f"finalises the draft first seen {seen}"
            same = [k for k in kin if k.status == cls.status and k.source_id != doc.source_id]
            if same:
                twin = same[0]
                if doc.comment_deadline and not twin.comment_deadline:
                    twin.comment_deadline = doc.comment_deadline
                    self.session.add(twin)
                return "draft" if cls.status == "draft" else "added", f"mirror:document:{twin.id}"
        if cls.status == "draft":
            return "draft", ""
        if cls.status == "withdrawn":
            return "withdrawn", ""
        return "added", ""

    # -- changed ---------------------------------------------------------------

    def change(self, doc: DocumentRow, item: RecordChange) -> ChangeRow | None:
        record = item.new
        names = [f.name for f in item.fields]
        old_status = doc.status
        cls = classify_record(record)
        previous = json.loads(doc.attachments or "{}")
        read = self._texts(record, cls, previous)
        hashes, text_hash = read or (previous, None)
        if read:
            doc.attachments_checked_at = self.now
        text_changed = bool(text_hash) and text_hash != doc.text_hash and bool(doc.text_hash)
        old_text_hash = doc.text_hash
        if text_hash:
            cls = classify_record(record, self._text(text_hash))
            doc.text_hash = text_hash
        doc.title, doc.url, doc.status = record.title, record.url, cls.status
        doc.record = json.dumps(record.as_dict(), ensure_ascii=False)
        doc.fingerprint, doc.lineage = fingerprint(record), stem(record.title)
        doc.attachments = json.dumps(hashes, sort_keys=True)
        doc.comment_deadline = deadline_of(record) or doc.comment_deadline
        doc.classification = json.dumps(cls.as_dict(), ensure_ascii=False)
        doc.relevant, doc.last_seen = cls.relevant, self.now
        self.session.add(doc)
        self._version(doc)
        if set(names) <= TOUCH_FIELDS and not text_changed:
            return None
        if text_changed:
            names.append("attachment text")
        if cls.status == "withdrawn" and old_status != "withdrawn":
            event = "withdrawn"
        elif old_status == "draft" and cls.status == "final":
            event = "finalised"
        else:
            event = "changed"
        change = change_row(self.source, self.run, doc, "changed", event, self.now, cls,
                            doc.comment_deadline)
        change.detail = self._mirror(doc, event)
        change.fields_changed = json.dumps([n for n in names if n not in TOUCH_FIELDS])
        if text_changed:
            self._text_diff(change, old_text_hash, text_hash)
        else:
            change.excerpt = "; ".join(
                f"{f.name}: {f.old or '∅'} → {f.new or '∅'}" for f in item.fields
                if f.name not in TOUCH_FIELDS
            )[:300]
        return change

    def _text_diff(self, change: ChangeRow, old_hash: str | None, new_hash: str | None) -> None:
        diff = text_diff.diff(self._text(old_hash), self._text(new_hash))
        change.diff_hash = Store.put_blob(self.session, diff.unified().encode("utf-8"))
        change.excerpt = diff.excerpt(300)

    # -- re-reading attachments ------------------------------------------------

    def recheck(self, doc: DocumentRow) -> ChangeRow | None:
        """Re-read an unchanged CGT document's attachments: a file revised at the
        same URL (the list entry unchanged) is a revision too."""
        record = Record.from_dict(json.loads(doc.record))
        cls = Classification.from_dict(json.loads(doc.classification))
        previous = json.loads(doc.attachments or "{}")
        hashes, text_hash = self._texts(record, cls, previous) or (previous, None)
        doc.attachments_checked_at = self.now
        self.session.add(doc)
        if not text_hash or text_hash == doc.text_hash:
            return None
        old_hash, doc.text_hash = doc.text_hash, text_hash
        doc.attachments = json.dumps(hashes, sort_keys=True)
        self._version(doc)
        if not old_hash:
            return None
        change = change_row(self.source, self.run, doc, "changed", "changed", self.now, cls,
                            doc.comment_deadline)
        change.fields_changed = json.dumps(["attachment text"])
        self._text_diff(change, old_hash, text_hash)
        change.detail = self._mirror(doc, "changed")
        return change

    # -- removed ---------------------------------------------------------------

    def remove(self, doc: DocumentRow) -> ChangeRow:
        doc.state, doc.missing_runs = "removed", 0
        self.session.add(doc)
        cls = Classification.from_dict(json.loads(doc.classification)) \
            if doc.classification not in ("", "{}") else None
        change = change_row(self.source, self.run, doc, "removed", "removed", self.now, cls,
                            doc.comment_deadline)
        change.detail = self._mirror(doc, "removed")
        return change

    def _mirror(self, doc: DocumentRow, event: str) -> str:
        """``mirror:<change id>`` when another record (another source, or another
        list of the same site, like CDE's 发布通告 beside 国内指导原则) announced
        the same event for the same document (same lineage and jurisdiction) in
        the last week: the change is stored, but people are not told twice."""
        if not doc.lineage:
            return ""
        since = self.now - timedelta(days=7)
        twin = self.session.exec(
            select(ChangeRow.id)
            .join(DocumentRow, col(ChangeRow.document_id) == DocumentRow.id)
            .where(DocumentRow.lineage == doc.lineage,
                   DocumentRow.jurisdiction == doc.jurisdiction,
                   DocumentRow.id != doc.id,
                   ChangeRow.event == event,
                   col(ChangeRow.detected_at) >= since)
        ).first()
        return f"mirror:{twin}" if twin is not None else ""

    def _version(self, doc: DocumentRow) -> None:
        self.session.add(VersionRow(document_id=doc.id or 0, seen_at=self.now, record=doc.record,
                                    attachments=doc.attachments, text_hash=doc.text_hash))
