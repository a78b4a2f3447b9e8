"""The tables of docs/design.md as SQLModel classes.

Lists of classes (cn, eu, us, jp, modalities) are stored twice: as JSON inside
``classification`` and as a ``,a,b,`` string column that SQL can filter with
``LIKE '%,gtmp,%'`` on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, Column, LargeBinary, UniqueConstraint
from sqlmodel import Field, SQLModel

from monitor.store.indexes import MAYBE_DUE as MAYBE_DUE  # said there: no SQLModel import


class SourceRow(SQLModel, table=True):
    __tablename__ = "source"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(index=True, unique=True)
    kind: str
    url: str = ""
    jurisdiction: str = ""
    schedule: str = ""
    consecutive_failures: int = 0
    last_ok_at: datetime | None = None
    last_run_at: datetime | None = None
    last_outcome: str = ""
    last_error: str = ""
    health_alerted: bool = False
    healthy_runs: int = 0
    last_record_count: int = 0
    validators: str = "{}"
    listing_hash: str = ""  # digest of the last healthy run's normalised listing
    moved_to: str = ""  # where the list now answers from, once said
    hosts: str = ""  # host names the source's site has had (space-separated)
    # digest of the first page (with the source's settings) of the last healthy
    # listing: the same bytes again are read as a 304 (see RecordingFetcher)
    page_digest: str = ""


class RunRow(SQLModel, table=True):
    __tablename__ = "run"

    id: int | None = Field(default=None, primary_key=True)
    source_id: int = Field(foreign_key="source.id", index=True)
    started_at: datetime
    finished_at: datetime | None = None
    outcome: str = ""  # baseline / changed / unchanged / failed / blocked
    http_status: int | None = None
    record_count: int | None = None
    changes: int = 0
    error: str = ""
    snapshot_hash: str | None = None
    item_errors: int = 0  # items kept without what their detail page should give


class BlobRow(SQLModel, table=True):
    __tablename__ = "blob"

    hash: str = Field(primary_key=True)
    size: int
    compression: str = "zlib"
    data: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    created_at: datetime | None = None


class DocumentRow(SQLModel, table=True):
    __tablename__ = "document"
    # the unique (source_id, key) index also serves lookups by source_id alone
    __table_args__ = (UniqueConstraint("source_id", "key"),)

    id: int | None = Field(default=None, primary_key=True)
    source_id: int = Field(foreign_key="source.id")
    key: str
    title: str
    url: str = ""
    jurisdiction: str = ""
    first_seen: datetime
    last_seen: datetime
    state: str = "active"  # active / removed / withdrawn
    missing_runs: int = 0
    # the current Record as compact JSON, without key/title/url: read it with
    # monitor.store.records.record_dict (migration 0010)
    record: str = "{}"
    # stored empty when it equals the title, read back as the title: an empty
    # lineage has no lineage_key (migration 0011, monitor.store.compact)
    lineage: str = ""
    # the lineage's 64-bit digest, indexed in its place (records.lineage_key)
    lineage_key: int | None = Field(default=None, sa_type=BigInteger, index=True)
    linked_to: int | None = None  # the draft this final version finalises
    status: str = "unknown"
    comment_deadline: date | None = None
    text_hash: str | None = None
    attachments: str = "{}"  # attachment url -> blob hash
    attachments_checked_at: datetime | None = None
    # compact (records.classification_dict reads it); stored as classification_id,
    # the column itself left empty, read back whole (migration 0011, monitor.store.compact)
    classification: str = "{}"
    classification_id: int | None = Field(default=None, sa_type=BigInteger)
    relevant: bool = False
    # an ambiguous title whose attachments wait to be read (migration 0010)
    read_pending: bool = False


class ClassificationRow(SQLModel, table=True):
    """One distinct stored classification, shared by every document holding its
    id: the first 64 bits of its BLAKE2b (``records.classification_key``)."""

    __tablename__ = "classification"

    id: int = Field(sa_type=BigInteger, primary_key=True, sa_column_kwargs={"autoincrement": False})
    packed: str


class VersionRow(SQLModel, table=True):
    __tablename__ = "version"

    id: int | None = Field(default=None, primary_key=True)
    document_id: int = Field(foreign_key="document.id", index=True)
    seen_at: datetime
    record: str = "{}"
    attachments: str = "{}"
    text_hash: str | None = None


class ChangeRow(SQLModel, table=True):
    __tablename__ = "change"

    id: int | None = Field(default=None, primary_key=True)
    source_id: int = Field(foreign_key="source.id", index=True)
    run_id: int | None = Field(default=None, foreign_key="run.id")
    document_id: int | None = Field(default=None, foreign_key="document.id", index=True)
    kind: str  # added / changed / removed / page_changed / health
    event: str  # what a user reads: added, draft, changed, finalised, withdrawn,
    # removed, page_changed, health, recovered
    detected_at: datetime = Field(index=True)
    title: str = ""
    url: str = ""
    jurisdiction: str = ""
    fields_changed: str = "[]"
    diff_hash: str | None = None
    excerpt: str = ""
    detail: str = ""
    # the document whose change already told people: this one is stored, not alerted
    mirror_of: int | None = Field(default=None, foreign_key="document.id")
    classification: str = "{}"
    relevant: bool = False
    cn: str = ""
    eu: str = ""
    us: str = ""
    jp: str = ""  # Japan's PMD Act class (migration 0008)
    modalities: str = ""
    doc_type: str = ""
    status: str = "unknown"
    comment_deadline: date | None = None


class DeliveryRow(SQLModel, table=True):
    __tablename__ = "delivery"
    __table_args__ = (UniqueConstraint("route", "purpose"),)

    id: int | None = Field(default=None, primary_key=True)
    route: str = Field(index=True)
    # at most once per route: "change:<id>", "reminder:<doc>:<days>:<deadline>", "test:…"
    purpose: str
    change_id: int | None = Field(default=None, foreign_key="change.id")
    alert: str = "{}"  # the Alert as JSON, frozen when the delivery was queued
    mode: str = "immediate"  # immediate / digest
    status: str = Field(default="pending", index=True)  # pending / sending / sent / failed
    attempts: int = 0
    done: str = "[]"  # indexes of the route's urls already delivered
    next_attempt_at: datetime | None = None
    last_error: str = ""
    created_at: datetime
    sent_at: datetime | None = None


class EvidenceRow(SQLModel, table=True):
    """What the site sent on a source's last failed or blocked run (one row per source,
    replaced by the next failure): status, headers, the body zlib-compressed and cut
    at ``monitor.pipeline.evidence.MAX_BODY`` bytes."""

    __tablename__ = "failure_evidence"

    source_id: int = Field(foreign_key="source.id", primary_key=True)
    run_id: int | None = None
    at: datetime
    method: str = "GET"
    url: str = ""
    status: int | None = None
    headers: str = "{}"  # JSON object
    size: int = 0  # the body's length as received
    truncated: bool = False
    body: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
