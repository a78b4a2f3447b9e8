"""One check as a straight line: plan → read → classify, then the writer writes.

``make_plan`` is pure: from the active documents and this run's listing it
computes the record diff (absence counted per coverage), which records are
out of view, and which attachments to read. ``read_files`` does the network
and text extraction for that plan, before any write transaction opens.
``classify_plan`` is the one classification stage: each new or changed
record (and each re-read document) gets its classification once, with its
attachment text when there is one. ``monitor.pipeline.documents.DocumentWriter``
then only writes what the plan says.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from diffing import records as record_diff
from diffing.normalise import fingerprint
from monitor.classify import Classification, ambiguous, classify
from monitor.pipeline.attachments import AttachmentTexts, attachment_urls, read_attachments
from monitor.pipeline.identity import relative_key
from monitor.store.records import record_dict
from sources.registry import SourceSettings
from sources.types import Attachment, Coverage, Fetcher, Listing, Record

if TYPE_CHECKING:
    from monitor.store.models import DocumentRow

PAGE_KEY = "page"


@dataclass
class Plan:
    """What one healthy run of a record source will write."""

    diff: record_diff.RecordDiff
    out_of_view: list[str] = field(default_factory=list)  # keys no longer listed here
    reads: dict[str, list[str]] = field(default_factory=dict)  # key -> attachment URLs
    rechecks: list[DocumentRow] = field(default_factory=list)
    files: dict[str, AttachmentTexts] = field(default_factory=dict)  # key -> what was read
    classes: dict[str, Classification] = field(default_factory=dict)  # key -> final
    # keys whose title is ambiguous: their first pages decide (``ambiguous_reads``)
    first_pages: set[str] = field(default_factory=set)
    unread: int = 0  # ambiguous titles left to their title: over ``ambiguous_per_run``
    pending: set[str] = field(default_factory=set)  # those keys: read by a later check
    # documents listed earlier whose ambiguous title's files are read now (``add_backlog``)
    backlog: list[DocumentRow] = field(default_factory=list)


def classify_record(record: Record, text: str | None = None) -> Classification:
    return classify(
        record.title,
        text=text or None,
        status=record.status,
        doc_type=record.fields.get("doc_type"),
    )


def canonical_record(record: Record, canonical: Callable[[str], str]) -> Record:
    """``record`` with its URLs relative to the source (for comparison only)."""
    return replace(
        record,
        url=canonical(record.url),
        attachments=tuple(
            Attachment(url=canonical(a.url), name=a.name) for a in record.attachments
        ),
    )


def listing_hash(listing: Listing, canonical: Callable[[str], str], ignore: list[str]) -> str:
    """A digest of the normalised listing: equal digests mean the same records,
    so the run can skip the diff and the document load."""
    lines = [f"{listing.coverage}|{listing.since}"]
    for record in sorted(listing.records, key=lambda r: r.key):
        print_ = fingerprint(canonical_record(record, canonical), ignore=ignore, ignore_fields=())
        lines.append(f"{record.key}\t{print_}\n")
    return hashlib.sha256("".join(lines).encode()).hexdigest()  # one update: the same digest


def in_view(record: Record, listing: Listing, oldest: str | None) -> bool:
    """Whether an absent record is still inside what ``listing`` shows."""
    if listing.coverage in (None, Coverage.COMPLETE):
        return True
    if not record.date:
        return False  # undated: a window cannot say whether it still covers it
    if listing.since:
        return record.date >= listing.since
    return oldest is not None and record.date > oldest


def make_plan(
    settings: SourceSettings,
    base_url: str,
    documents: Mapping[str, DocumentRow],
    known: Mapping[str, Record],
    listing: Listing,
    now: datetime,
    canonical: Callable[[str], str],
) -> Plan:
    """The record diff of this run against the active documents, and what to read (pure)."""
    previous, out_of_view = _in_view(known, listing)
    missing = {
        key: doc.missing_runs
        for key, doc in documents.items()
        if doc.missing_runs and key in previous
    }
    diff = record_diff.diff(
        previous,
        listing.records,
        missing=missing,
        ignore_fields=(),
        ignore=settings.ignore,
        canonical=canonical,
    )
    plan = Plan(diff=diff, out_of_view=sorted(out_of_view))
    open_titles = _plan_reads(plan, settings, base_url)
    ambiguous_reads(plan, settings, base_url, open_titles, documents)
    touched = {r.key for r in diff.added} | {c.key for c in diff.changed}
    add_rechecks(plan, settings, base_url, documents.values(), touched, now)
    gone = {r.key for r in diff.removed} | set(diff.missing)  # not listed: not read late
    add_backlog(plan, settings, base_url, documents.values(), touched | gone)
    return plan


def _in_view(known: Mapping[str, Record], listing: Listing) -> tuple[dict[str, Record], list[str]]:
    """The known records this listing still covers (so their absence means
    removal), and the keys of those it no longer shows."""
    dates = [r.date for r in listing.records if r.date]
    oldest = min(dates) if dates else None
    seen = {r.key for r in listing.records}
    previous: dict[str, Record] = {}
    out_of_view: list[str] = []
    for key, record in known.items():
        if key in seen or in_view(record, listing, oldest):
            previous[key] = record
        else:
            out_of_view.append(key)
    return previous, out_of_view


def _plan_reads(plan: Plan, settings: SourceSettings, base_url: str) -> list[Record]:
    """Classify the added and changed records, plan the attachment reads of
    the relevant ones; the records whose title is ambiguous."""
    open_titles: list[Record] = []
    for record in [*plan.diff.added, *(c.new for c in plan.diff.changed)]:
        cls = classify_record(record)
        plan.classes[record.key] = cls
        if not settings.attachments or not record.attachments:
            continue
        if cls.relevant:
            plan.reads[record.key] = attachment_urls(record, base_url or record.url)
        elif ambiguous(record.title, cls):
            open_titles.append(record)
    return open_titles


def ambiguous_reads(
    plan: Plan,
    settings: SourceSettings,
    base_url: str,
    records: list[Record],
    documents: Mapping[str, DocumentRow],
) -> None:
    """Plan the attachment reads of records whose title is ambiguous
    (``monitor.classify.ambiguous``), at most ``ambiguous_per_run`` a run
    (politeness: each is up to ``MAX_FILES`` downloads): first the changed
    documents their attachment had made relevant (so a retitled one does not
    lose its class), then the newest. The others keep their title's
    classification (``Plan.unread``)."""

    def by_text(record: Record) -> bool:
        doc = documents.get(record.key)
        return doc is not None and doc.relevant and '"evidence_at"' in doc.classification

    records = sorted(records, key=lambda r: (by_text(r), r.date or "", r.key), reverse=True)
    chosen = [r for r in records if attachment_urls(r, base_url or r.url)]
    chosen = chosen[: settings.ambiguous_per_run]
    for record in chosen:
        plan.reads[record.key] = attachment_urls(record, base_url or record.url)
        plan.first_pages.add(record.key)
    plan.unread = len(records) - len(chosen)
    readable = {r.key for r in records if attachment_urls(r, base_url or r.url)}
    plan.pending = readable - {r.key for r in chosen}


def add_backlog(
    plan: Plan,
    settings: SourceSettings,
    base_url: str,
    documents: Iterable[DocumentRow],
    touched: set[str],
) -> None:
    """Plan the reads of documents listed earlier whose ambiguous title's files
    were left unread (``DocumentRow.read_pending``), with what this run's own
    ambiguous titles left of ``ambiguous_per_run``: never tried first, then
    waiting longest, then the newest document. A big baseline is read a few
    files a check until none are left. A document missing from the list is
    not read (``touched`` also holds this run's missing and removed keys)."""
    left = settings.ambiguous_per_run - len(plan.first_pages)
    if left <= 0 or not settings.attachments:
        return
    waiting = [
        doc
        for doc in documents
        if doc.read_pending
        and not doc.missing_runs
        and doc.key not in touched
        and doc.key not in plan.reads
    ]
    waiting.sort(key=lambda doc: str(record_dict(doc).get("date") or ""), reverse=True)
    waiting.sort(key=lambda doc: (doc.attachments_checked_at is not None, _waited(doc)))
    for doc in waiting[:left]:
        record = Record.from_dict(record_dict(doc))
        plan.reads[doc.key] = attachment_urls(record, base_url or record.url)
        plan.first_pages.add(doc.key)
        plan.backlog.append(doc)


def _waited(doc: DocumentRow) -> datetime:
    """Since when ``doc`` waits: its last failed try, or its first listing."""
    return doc.attachments_checked_at or doc.first_seen


def add_rechecks(
    plan: Plan,
    settings: SourceSettings,
    base_url: str,
    documents: Iterable[DocumentRow],
    touched: set[str],
    now: datetime,
) -> None:
    """Plan the periodic re-read of documents due for it (see ``due_for_recheck``)."""
    plan.rechecks = due_for_recheck(settings, documents, touched, now)
    for doc in plan.rechecks:
        record = Record.from_dict(record_dict(doc))
        plan.reads[doc.key] = attachment_urls(record, base_url or record.url)


def read_files(
    plan: Plan,
    fetcher: Fetcher,
    base_url: str,
    records: Mapping[str, Record],
    documents: Mapping[str, DocumentRow],
) -> None:
    """Download and extract the attachments the plan names (network, no database)."""
    for key in plan.reads:
        record = records.get(key)
        doc = documents.get(key)
        if record is None and doc is not None:
            record = Record.from_dict(record_dict(doc))
        if record is None:
            continue
        previous = json.loads(doc.attachments or "{}") if doc is not None else {}
        plan.files[key] = read_attachments(
            fetcher,
            record,
            base_url=base_url or record.url,
            previous=previous,
            first=key in plan.first_pages,
        )


def classify_plan(plan: Plan) -> None:
    """The classification stage: once per record, with its attachment text if
    read (an ambiguous title: its first pages, so the evidence can say where)."""
    changed = {c.key: c.new for c in plan.diff.changed}
    added = {r.key: r for r in plan.diff.added}
    waiting = {doc.key: Record.from_dict(record_dict(doc)) for doc in plan.backlog}
    for key, found in plan.files.items():
        record = added.get(key) or changed.get(key) or waiting.get(key)
        text = found.first if key in plan.first_pages else found.text
        if record is not None and text:
            plan.classes[key] = classify_record(record, text)


def due_for_recheck(
    settings: SourceSettings, documents: Iterable[DocumentRow], touched: set[str], now: datetime
) -> list[DocumentRow]:
    """CGT documents whose attachments were last read ``recheck_days`` ago or
    more, oldest first, at most ``recheck_per_run`` (politeness)."""
    if not (settings.attachments and settings.recheck_days and settings.recheck_per_run):
        return []
    cutoff = now - timedelta(days=settings.recheck_days)
    due = [
        doc
        for doc in documents
        if doc.key not in touched
        and doc.key != PAGE_KEY
        and doc.relevant
        and doc.attachments not in ("", "{}")
        and doc.attachments_checked_at is not None
        and doc.attachments_checked_at <= cutoff
    ]
    due.sort(key=lambda doc: (doc.attachments_checked_at or now, doc.id or 0))
    return due[: settings.recheck_per_run]


class KnownRecords(Mapping[str, Record]):
    """The last healthy run's records by key, for adapters that reuse details.

    Loaded on first use, so a run that needs nothing from the database (a
    304, an unchanged listing) never loads its documents. Lookups take the
    adapter's own key (absolute URLs too) and map it relative to the source.
    """

    def __init__(
        self, load: Callable[[], dict[str, DocumentRow]], hosts: Callable[[], frozenset[str]]
    ) -> None:
        self._load, self._hosts = load, hosts
        self._documents: dict[str, DocumentRow] | None = None
        self._records: dict[str, Record] | None = None

    def documents(self) -> dict[str, DocumentRow]:
        if self._documents is None:
            self._documents = self._load()
        return self._documents

    def records(self) -> dict[str, Record]:
        if self._records is None:
            self._records = {
                key: Record.from_dict(record_dict(doc))
                for key, doc in self.documents().items()
                if key != PAGE_KEY
            }
        return self._records

    def __getitem__(self, key: str) -> Record:
        records = self.records()
        if key in records:
            return records[key]
        return records[relative_key(key, self._hosts())]

    def __iter__(self) -> Iterator[str]:
        return iter(self.records())

    def __len__(self) -> int:
        return len(self.records())
