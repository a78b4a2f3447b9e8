"""Check one source: fetch → parse → diff → classify → store, in one transaction.

The pipeline is the only place that knows the order. A source that fails,
is blocked, or whose list collapses leaves its documents untouched and is
recorded as a health event; one broken source never stops the others.
"""

from __future__ import annotations

import json
import logging
import time
import weakref
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from sqlmodel import Session, select

from diffing import records as record_diff
from diffing import text as text_diff
from diffing.normalise import normalise_text
from monitor import health
from monitor.alerts import alert_from_change, enqueue, regulator_of
from monitor.attachments import PrefetchedFetcher, attachment_urls
from monitor.classify import classify
from monitor.config import Config
from monitor.documents import DocumentWriter, change_row, classify_record
from monitor.errors import StoreError
from monitor.recording import RecordingFetcher
from monitor.store import Store
from monitor.store.db import utcnow
from monitor.store.models import ChangeRow, DocumentRow, RunRow, SourceRow, VersionRow
from notifiers.types import Alert
from sources.errors import Blocked, LayoutChanged, SourceError
from sources.fetchers import make_fetcher
from sources.http import HostGate, SharedClient
from sources.registry import Adapter, SourceSettings, adapter_for
from sources.types import Fetcher, Listing, Record

log = logging.getLogger("regwatch.check")

PAGE_KEY = "page"
FetcherFactory = Callable[[SourceSettings, dict[str, dict[str, str]]], Fetcher]


@dataclass
class CheckResult:
    """What one check did, for logs, the CLI and tests."""

    source: str
    outcome: str                 # baseline / changed / unchanged / failed / blocked
    records: int | None = None
    changes: int = 0
    alerts: int = 0
    error: str = ""
    seconds: float = 0.0
    cpu_ms: float = 0.0
    events: list[str] = field(default_factory=list)

    def line(self) -> str:
        parts = [f"{self.source}: {self.outcome}"]
        if self.records is not None:
            parts.append(f"{self.records} records")
        if self.changes:
            parts.append(f"{self.changes} changes")
        if self.alerts:
            parts.append(f"{self.alerts} alerts queued")
        if self.error:
            parts.append(self.error)
        parts.append(f"{self.seconds:.1f}s")
        return ", ".join(parts)


class Pipeline:
    """Runs checks for the sources of one configuration against one store."""

    def __init__(self, config: Config, store: Store, *,
                 fetcher_factory: FetcherFactory | None = None,
                 now: Callable[[], datetime] = utcnow) -> None:
        self.config = config
        self.store = store
        self.now = now
        self.gate = HostGate(config.http)
        # one SSL context and connection pool for every check; closed with the pipeline
        self.http_client = SharedClient(config.http)
        weakref.finalize(self, self.http_client.close)
        self.fetcher_factory = fetcher_factory or self._default_fetcher

    def _default_fetcher(self, settings: SourceSettings,
                         validators: dict[str, dict[str, str]]) -> Fetcher:
        return make_fetcher(settings.fetch, self.config.http, self.config.browser,
                            validators=validators, politeness=self.gate,
                            shared=self.http_client)

    # -- many sources ----------------------------------------------------------

    def check_all(self, names: Iterable[str] | None = None) -> list[CheckResult]:
        """Check sources in parallel, one worker per host, ``http.concurrency`` hosts at once."""
        wanted = set(names) if names is not None else None
        sources = [s for s in self.config.sources
                   if s.enabled and (wanted is None or s.name in wanted)]
        by_host: dict[str, list[SourceSettings]] = {}
        for source in sources:
            host = urlsplit(adapter_for(source.kind)(source).base_url).hostname or source.name
            by_host.setdefault(host, []).append(source)
        results: dict[str, CheckResult] = {}

        def run_host(group: list[SourceSettings]) -> None:
            for source in group:
                results[source.name] = self.check(source)

        workers = max(1, min(self.config.http.concurrency, len(by_host)))
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="check") as pool:
            list(pool.map(run_host, by_host.values()))
        return [results[s.name] for s in sources]

    # -- one source ------------------------------------------------------------

    def check(self, settings: SourceSettings) -> CheckResult:
        started, cpu = time.monotonic(), time.process_time()
        result = self._check(settings)
        result.seconds = time.monotonic() - started
        result.cpu_ms = (time.process_time() - cpu) * 1000
        log.info("%s", result.line(), extra={
            "source": result.source, "outcome": result.outcome, "records": result.records,
            "changes": result.changes, "alerts": result.alerts, "seconds": round(result.seconds, 3),
        })
        return result

    def _check(self, settings: SourceSettings) -> CheckResult:
        adapter = adapter_for(settings.kind)(settings)
        started_at = self.now()
        with self.store.session(write=True) as session:
            source = self._source_row(session, settings, adapter)
            validators = json.loads(source.validators or "{}")
            documents = _active_documents(session, source)
        known = {doc.key: Record.from_dict(json.loads(doc.record)) for doc in documents.values()
                 if doc.key != PAGE_KEY}
        fetcher = RecordingFetcher(self.fetcher_factory(settings, validators))
        try:
            listing = adapter.collect(fetcher, known)
            diff: record_diff.RecordDiff | None = None
            files: Fetcher = fetcher
            if listing.page_text is None and not listing.not_modified:
                self._check_collapse(source, settings, listing)
                diff = _diff(settings, documents, known, listing)
                # downloads happen here, before the write lock is taken
                files = PrefetchedFetcher(fetcher, _attachment_plan(
                    settings, adapter, documents, diff, self.now()))
            with self.store.session(write=True) as session:
                return self._store_listing(session, settings, adapter, source, documents,
                                           listing, diff, fetcher, files, started_at)
        except SourceError as exc:
            outcome = "blocked" if isinstance(exc, Blocked) else "failed"
            return self._store_failure(settings, source, outcome, str(exc), fetcher, started_at)
        except StoreError:  # the database, not the source: the caller reports it
            raise
        except Exception as exc:  # an adapter bug must not stop the other sources
            log.exception("internal error checking %s", settings.name)
            return self._store_failure(settings, source, "failed",
                                       f"internal error: {type(exc).__name__}: {exc}",
                                       fetcher, started_at)
        finally:
            close = getattr(fetcher.inner, "close", None)
            if callable(close):
                close()

    def _source_row(self, session: Session, settings: SourceSettings,
                    adapter: Adapter) -> SourceRow:
        row = session.exec(select(SourceRow).where(SourceRow.name == settings.name)).first()
        if row is None:
            row = SourceRow(name=settings.name, kind=settings.kind)
        row.kind = settings.kind
        row.url = settings.url or adapter.base_url
        row.jurisdiction = settings.jurisdiction or adapter.jurisdiction
        row.schedule = settings.cron or settings.every or ""
        session.add(row)
        session.flush()
        return row

    def _check_collapse(self, source: SourceRow, settings: SourceSettings,
                        listing: Listing) -> None:
        count = len({r.key for r in listing.records})
        if source.healthy_runs and record_diff.collapsed(
            source.last_record_count, count, ratio=settings.collapse_ratio
        ):
            raise LayoutChanged(
                f"the list collapsed from {source.last_record_count} to {count} records; "
                "treated as a site problem, not as removals"
            )

    # -- failure ---------------------------------------------------------------

    def _store_failure(self, settings: SourceSettings, source: SourceRow, outcome: str,
                       error: str, fetcher: RecordingFetcher, started_at: datetime) -> CheckResult:
        result = CheckResult(source=settings.name, outcome=outcome, error=error)
        with self.store.session(write=True) as session:
            source = session.get(SourceRow, source.id) or source
            run = RunRow(source_id=source.id or 0, started_at=started_at,
                         finished_at=self.now(), outcome=outcome,
                         http_status=fetcher.last_status, error=error[:2000])
            session.add(run)
            session.flush()
            change = health.record_failure(session, source, run, error, outcome,
                                           alert_after=self.config.health.alert_after,
                                           now=self.now())
            if change is not None:
                result.alerts += self._enqueue(session, change, source, settings)
                result.events.append(change.event)
            session.add(source)
        return result

    # -- success ---------------------------------------------------------------

    def _store_listing(self, session: Session, settings: SourceSettings, adapter: Adapter,
                       source: SourceRow, documents: dict[str, DocumentRow], listing: Listing,
                       outcome: record_diff.RecordDiff | None, fetcher: RecordingFetcher,
                       files: Fetcher, started_at: datetime) -> CheckResult:
        source = session.get(SourceRow, source.id) or source
        now = self.now()
        run = RunRow(source_id=source.id or 0, started_at=started_at, finished_at=now,
                     http_status=fetcher.last_status)
        session.add(run)
        session.flush()
        run.snapshot_hash = _snapshot(session, fetcher)
        baseline = source.healthy_runs == 0
        changes: list[ChangeRow] = []
        if listing.not_modified:
            run.outcome, run.record_count = "unchanged", source.last_record_count
        elif listing.page_text is not None:
            changes = self._page(session, settings, source, run, documents, listing.page_text,
                                 baseline, now)
            run.record_count = 1
        else:
            assert outcome is not None
            changes = self._records(session, settings, adapter, source, run, documents,
                                    outcome, {r.key for r in listing.records}, files,
                                    baseline, now)
            run.record_count = len({r.key for r in listing.records})
            source.last_record_count = run.record_count
        if not listing.not_modified:
            run.outcome = "baseline" if baseline else ("changed" if changes else "unchanged")
        run.changes = len(changes)
        result = CheckResult(source=settings.name, outcome=run.outcome,
                             records=run.record_count, changes=len(changes))
        recovered = health.record_success(session, source, run, now=now)
        if recovered is not None:
            changes.append(recovered)
        for change in changes:
            result.alerts += self._enqueue(session, change, source, settings)
            result.events.append(change.event)
        if baseline:
            result.alerts += self._baseline_summary(session, source, settings, run)
        source.validators = json.dumps(getattr(fetcher.inner, "validators", {}) or {},
                                       sort_keys=True)
        session.add(source)
        return result

    def _baseline_summary(self, session: Session, source: SourceRow, settings: SourceSettings,
                          run: RunRow) -> int:
        """The silent baseline's one summary line, for routes that ask for ``baseline``."""
        relevant = session.exec(
            select(DocumentRow.id).where(DocumentRow.source_id == source.id,
                                         DocumentRow.relevant == True)  # noqa: E712
        ).all()
        alert = Alert(
            id=f"baseline-{source.id}", kind="baseline", source=source.name,
            regulator=regulator_of(source, settings.regulator), jurisdiction=source.jurisdiction,
            title=f"{source.name}: watching {run.record_count or 0} documents",
            url=source.url, detected_at=self.now(),
            detail=f"first check stored {run.record_count or 0} documents as a baseline "
                   f"({len(relevant)} about cell and gene therapy); from now on you hear "
                   "about what changes",
        )
        return len(enqueue(session, alert, self.config.routes, purpose=f"baseline:{source.id}",
                           now=self.now()))

    def _enqueue(self, session: Session, change: ChangeRow, source: SourceRow,
                 settings: SourceSettings) -> int:
        if change.id is None:
            session.add(change)
            session.flush()
        if change.detail.startswith("mirror:"):
            return 0
        # "N days left" counts calendar days where the team is, like the reminders do
        local_now = self.now().astimezone(ZoneInfo(self.config.service.timezone))
        alert = alert_from_change(change, source, regulator=settings.regulator, now=local_now)
        return len(enqueue(session, alert, self.config.routes, purpose=f"change:{change.id}",
                           change_id=change.id, now=self.now()))

    def _page(self, session: Session, settings: SourceSettings, source: SourceRow, run: RunRow,
              documents: dict[str, DocumentRow], page_text: str, baseline: bool,
              now: datetime) -> list[ChangeRow]:
        text = normalise_text(page_text, settings.ignore)
        digest = Store.put_blob(session, text.encode("utf-8"))
        doc = documents.get(PAGE_KEY)
        title = settings.name
        if doc is None:
            doc = DocumentRow(source_id=source.id or 0, key=PAGE_KEY, title=title,
                              url=source.url, jurisdiction=source.jurisdiction,
                              first_seen=now, last_seen=now, text_hash=digest)
            session.add(doc)
            session.flush()
            session.add(VersionRow(document_id=doc.id or 0, seen_at=now, text_hash=digest))
            return []
        doc.last_seen = now
        if doc.text_hash == digest:
            return []
        old = self.store.get_blob(session, doc.text_hash)
        diff = text_diff.diff(old.decode("utf-8") if old else "", text)
        doc.text_hash = digest
        session.add(VersionRow(document_id=doc.id or 0, seen_at=now, text_hash=digest))
        if not diff.changed:
            return []
        cls = classify(title, text=text)
        change = change_row(source, run, doc, "page_changed", "page_changed", now, cls)
        change.diff_hash = Store.put_blob(session, diff.unified().encode("utf-8"))
        change.excerpt = diff.excerpt(300)
        return [change]

    def _records(self, session: Session, settings: SourceSettings, adapter: Adapter,
                 source: SourceRow, run: RunRow, documents: dict[str, DocumentRow],
                 outcome: record_diff.RecordDiff, seen: set[str], files: Fetcher,
                 baseline: bool, now: datetime) -> list[ChangeRow]:
        writer = DocumentWriter(session, self.store, settings, adapter, source, run, files, now)
        changes: list[ChangeRow] = []

        def keep(change: ChangeRow | None) -> None:
            if change is not None:  # flushed now, so the next record can see it (mirrors)
                session.add(change)
                session.flush()
                changes.append(change)

        for record in outcome.added:
            keep(writer.add(record, silent=baseline))
        for item in outcome.changed:
            keep(writer.change(documents[item.new.key], item))
        for record in outcome.removed:
            keep(writer.remove(documents[record.key]))
        touched = {r.key for r in outcome.added} | {c.key for c in outcome.changed}
        for doc in _due_for_recheck(settings, documents, touched, now):
            keep(writer.recheck(doc))
        for key, count in outcome.missing.items():
            documents[key].missing_runs = count
            session.add(documents[key])
        for key in outcome.returned:
            documents[key].missing_runs = 0
            session.add(documents[key])
        for key, doc in documents.items():
            if key in seen:
                doc.last_seen = now
                session.add(doc)
        return changes


def _diff(settings: SourceSettings, documents: dict[str, DocumentRow],
          known: Mapping[str, Record], listing: Listing) -> record_diff.RecordDiff:
    """The record diff of this run against the active documents' records (pure)."""
    current = listing.records   # compared normalised by the diff, stored as published
    previous = dict(known)
    missing = {key: doc.missing_runs for key, doc in documents.items() if doc.missing_runs}
    if not listing.complete:
        # a partial listing (a page cap, a recent window) cannot prove an absence
        seen_keys = {r.key for r in current}
        previous = {key: record for key, record in previous.items() if key in seen_keys}
    return record_diff.diff(previous, current, missing=missing, ignore_fields=(),
                            ignore=settings.ignore)


def _attachment_plan(settings: SourceSettings, adapter: Adapter,
                     documents: dict[str, DocumentRow], outcome: record_diff.RecordDiff,
                     now: datetime) -> list[str]:
    """The attachment URLs this run will read: CGT-relevant new or changed records,
    and documents due for their periodic re-read (the same rules DocumentWriter uses)."""
    if not settings.attachments:
        return []
    base = adapter.base_url
    urls: list[str] = []
    for record in [*outcome.added, *(c.new for c in outcome.changed)]:
        if record.attachments and classify_record(record).relevant:
            urls += attachment_urls(record, base or record.url)
    touched = {r.key for r in outcome.added} | {c.key for c in outcome.changed}
    for doc in _due_for_recheck(settings, documents, touched, now):
        record = Record.from_dict(json.loads(doc.record))
        urls += attachment_urls(record, base or record.url)
    return urls


def _due_for_recheck(settings: SourceSettings, documents: dict[str, DocumentRow],
                     touched: set[str], now: datetime) -> list[DocumentRow]:
    """CGT documents whose attachments were last read ``recheck_days`` ago or
    more, oldest first, at most ``recheck_per_run`` (politeness)."""
    if not (settings.attachments and settings.recheck_days and settings.recheck_per_run):
        return []
    cutoff = now - timedelta(days=settings.recheck_days)
    due = [doc for key, doc in documents.items()
           if key not in touched and key != PAGE_KEY and doc.relevant
           and doc.attachments not in ("", "{}")
           and doc.attachments_checked_at is not None and doc.attachments_checked_at <= cutoff]
    due.sort(key=lambda doc: (doc.attachments_checked_at or now, doc.id or 0))
    return due[: settings.recheck_per_run]


def _active_documents(session: Session, source: SourceRow) -> dict[str, DocumentRow]:
    rows = session.exec(
        select(DocumentRow).where(DocumentRow.source_id == source.id,
                                  DocumentRow.state != "removed")
    ).all()
    return {row.key: row for row in rows}


def _snapshot(session: Session, fetcher: RecordingFetcher) -> str | None:
    """Store each raw body once and the run's manifest of them once."""
    if not fetcher.responses:
        return None
    manifest = [
        {"url": f.url, "status": f.status, "hash": Store.put_blob(session, f.body)}
        for f in fetcher.responses if f.status != 304
    ]
    if not manifest:
        return None
    return Store.put_blob(session, json.dumps(manifest, sort_keys=True).encode("utf-8"))
