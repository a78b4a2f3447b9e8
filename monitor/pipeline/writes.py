"""The full path's writes: a changed listing, a page's new text, a failed run.

``Pipeline`` (monitor/pipeline/check.py) decides which path a check takes and
imports this module when a check takes the full one: it writes through the ORM
(SQLModel sessions, document rows, changes and their alerts), so a warm check
of a SQLite store, which writes with plain SQL (``monitor.pipeline.warm``),
never imports SQLAlchemy. ``Writes`` reads the pipeline's configuration, store
and clock through it (a test that sets ``pipeline.now`` is seen here).
"""

from __future__ import annotations

import json
import logging
from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from sqlmodel import Session, select

from diffing import text as text_diff
from diffing.normalise import normalise_text
from monitor.classify import classify
from monitor.config import Config
from monitor.delivery.alerts import alert_from_change, enqueue, regulator_of
from monitor.delivery.run_alerts import queue_run_alerts
from monitor.pipeline import evidence, health, warm
from monitor.pipeline.batch import WarmBatch
from monitor.pipeline.context import CheckContext, change_row
from monitor.pipeline.documents import DocumentWriter
from monitor.pipeline.identity import MAX_HOSTS, moved_state, origin
from monitor.pipeline.plan import PAGE_KEY, Plan
from monitor.pipeline.recording import RecordingFetcher
from monitor.pipeline.results import CheckResult
from monitor.store import Store, versions
from monitor.store.models import ChangeRow, DocumentRow, RunRow, SourceRow, VersionRow
from monitor.store.raw import over
from notifiers.routes import routes_for
from notifiers.types import Alert
from sources.registry import SourceSettings
from sources.types import Listing

if TYPE_CHECKING:
    from monitor.pipeline.check import Pipeline

__all__ = ["Writes"]

log = logging.getLogger("regwatch.check")


class Writes:
    """What the full path writes, for one ``Pipeline``."""

    def __init__(self, pipeline: Pipeline) -> None:
        self.pipeline = pipeline

    @property
    def config(self) -> Config:
        return self.pipeline.config

    @property
    def store(self) -> Store:
        return self.pipeline.store

    def now(self) -> datetime:
        return self.pipeline.now()

    # -- failure ---------------------------------------------------------------

    def store_failure(
        self,
        settings: SourceSettings,
        state: warm.SourceState,
        outcome: str,
        error: str,
        fetcher: RecordingFetcher,
        started_at: datetime,
        batch: WarmBatch | None,
    ) -> CheckResult:
        """The failed (or blocked) run, written at once after the runs ``batch`` holds."""
        if batch is not None:
            batch.flush()  # the runs before this one get the lower ids
        result = CheckResult(source=settings.name, outcome=outcome, error=error)
        with self.store.session(write=True) as session:
            source = session.get(SourceRow, state.id) or state.row()
            run = RunRow(
                source_id=source.id or 0,
                started_at=started_at,
                finished_at=self.now(),
                outcome=outcome,
                http_status=fetcher.last_status,
                error=error[:2000],
            )
            session.add(run)
            session.flush()
            evidence.keep(session, source.id, run.id, fetcher, self.now())
            change = health.record_failure(
                session,
                source,
                run,
                error,
                outcome,
                alert_after=self.config.health.alert_after,
                now=self.now(),
            )
            if change is not None:
                result.alerts += self.enqueue(session, change, source, settings)
                result.events.append(change.event)
            session.add(source)
        return result

    # -- success ---------------------------------------------------------------

    def store_listing(
        self,
        session: Session,
        ctx: CheckContext,
        documents: dict[str, DocumentRow],
        listing: Listing,
        plan: Plan | None,
        digest: str,
        fetcher: RecordingFetcher,
    ) -> CheckResult:
        settings = ctx.settings
        source = ctx.source = session.get(SourceRow, ctx.source.id) or ctx.source
        now = ctx.now
        run = ctx.run
        run.finished_at, run.http_status = now, fetcher.last_status
        run.item_errors = len(listing.item_errors)
        raw = over(session.connection())
        run.snapshot_hash = warm.store_snapshot(raw, fetcher.responses)  # before the insert
        session.add(run)
        session.flush()
        changes = self.write(session, ctx, documents, listing, plan, digest)
        moved = self.moved(ctx, fetcher)
        if moved is not None:
            changes.append(moved)
        run.outcome = (
            "baseline"
            if ctx.baseline
            else ("changed" if any(c.kind != "health" for c in changes) else "unchanged")
        )
        run.changes = len(changes)
        result = CheckResult(
            source=settings.name,
            outcome=run.outcome,
            records=run.record_count,
            changes=len(changes),
            item_errors=run.item_errors,
        )
        for error in listing.item_errors:
            log.warning("%s: item kept without its details: %s", settings.name, error)
        recovered = health.record_success(session, source, run, now=now)
        if recovered is not None:
            changes.append(recovered)
        result.alerts += self.enqueue_all(session, changes, source, settings)
        result.events += [change.event for change in changes]
        if ctx.baseline:
            result.alerts += self.baseline_summary(session, source, settings, run)
        source.validators = json.dumps(fetcher.validators or {}, sort_keys=True)
        if listing.page_text is None and fetcher.page_digest is not None:
            source.page_digest = fetcher.page_digest
        source.hosts = " ".join(sorted(ctx.hosts)[:MAX_HOSTS])
        session.add(source)
        return result

    def write(
        self,
        session: Session,
        ctx: CheckContext,
        documents: dict[str, DocumentRow],
        listing: Listing,
        plan: Plan | None,
        digest: str,
    ) -> list[ChangeRow]:
        """The run's document changes, and how many records it saw."""
        run, source = ctx.run, ctx.source
        if listing.page_text is not None:
            run.record_count = 1
            return self.page(session, ctx, documents, listing.page_text)
        assert plan is not None
        changes = self.records(session, ctx, documents, plan, {r.key for r in listing.records})
        if listing.not_modified or digest == source.listing_hash:
            run.record_count = source.last_record_count
        else:
            run.record_count = len({r.key for r in listing.records})
            source.last_record_count = run.record_count
            source.listing_hash = digest
        return changes

    def moved(self, ctx: CheckContext, fetcher: RecordingFetcher) -> ChangeRow | None:
        """One notice when the list answers from another scheme or host than
        configured ("the list moved to …"); said again only if it moves again."""
        source = ctx.source
        configured = ctx.settings.url or ctx.adapter.base_url
        source.moved_to, answered = moved_state(configured, source.moved_to, fetcher)
        if not answered:
            return None
        asked = origin(ctx.settings.url or ctx.adapter.base_url)
        return ChangeRow(
            source_id=source.id or 0,
            run_id=ctx.run.id,
            kind="health",
            event="health",
            detected_at=ctx.now,
            title=f"{source.name}: the list moved to {answered}",
            url=fetcher.responses[0].url,
            jurisdiction=source.jurisdiction,
            detail=f"{asked} now answers from {answered}; documents keep their identity "
            f"(set url to {fetcher.responses[0].url} to silence this)",
        )

    def baseline_summary(
        self, session: Session, source: SourceRow, settings: SourceSettings, run: RunRow
    ) -> int:
        """The silent baseline's one summary line, for routes that ask for ``baseline``."""
        if not self.config.routes:
            return 0  # nobody to tell: no count, no alert built
        alert = Alert(
            id=f"baseline-{source.id}",
            kind="baseline",
            source=source.name,
            regulator=regulator_of(source, settings.regulator),
            jurisdiction=source.jurisdiction,
            title=f"{source.name}: watching {run.record_count or 0} documents",
            url=source.url,
            detected_at=self.now(),
        )
        # "baseline" is a kind a route opts in to (most do not): which routes take
        # it is known before the documents are counted (a query per new source)
        routes = routes_for(alert, self.config.routes)
        if not routes:
            return 0
        # the documents are in (written with Core, or flushed by the writer); what is
        # pending is the run's and the source's state, written once at the commit
        with session.no_autoflush:
            relevant = session.exec(
                select(DocumentRow.id).where(
                    DocumentRow.source_id == source.id,
                    DocumentRow.relevant == True,  # noqa: E712
                )
            ).all()
        alert = replace(
            alert,
            detail=f"first check stored {run.record_count or 0} documents as a baseline "
            f"({len(relevant)} about cell and gene therapy); from now on you hear "
            "about what changes",
        )
        return len(enqueue(session, alert, routes, purpose=f"baseline:{source.id}", now=self.now()))

    def enqueue_all(
        self,
        session: Session,
        changes: list[ChangeRow],
        source: SourceRow,
        settings: SourceSettings,
    ) -> int:
        return queue_run_alerts(session, self.config, changes, source, settings, self.now())

    def enqueue(
        self, session: Session, change: ChangeRow, source: SourceRow, settings: SourceSettings
    ) -> int:
        if change.id is None:
            session.add(change)
            session.flush()
        if change.mirror_of is not None:
            return 0
        # "N days left" counts calendar days where the team is, like the reminders do
        local_now = self.now().astimezone(ZoneInfo(self.config.service.timezone))
        alert = alert_from_change(change, source, regulator=settings.regulator, now=local_now)
        return len(
            enqueue(
                session,
                alert,
                self.config.routes,
                purpose=f"change:{change.id}",
                change_id=change.id,
                now=self.now(),
            )
        )

    def page(
        self, session: Session, ctx: CheckContext, documents: dict[str, DocumentRow], page_text: str
    ) -> list[ChangeRow]:
        settings, source, run, now = ctx.settings, ctx.source, ctx.run, ctx.now
        text = normalise_text(page_text, settings.ignore)
        digest = Store.put_blob(session, text.encode("utf-8"))
        doc = documents.get(PAGE_KEY)
        title = settings.name
        if doc is None:
            doc = DocumentRow(
                source_id=source.id or 0,
                key=PAGE_KEY,
                title=title,
                url=source.url,
                jurisdiction=source.jurisdiction,
                first_seen=now,
                last_seen=now,
                text_hash=digest,
            )
            session.add(doc)
            session.flush()
            versions.write_page_version(session.connection(), doc.id or 0, now, digest)
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

    def records(
        self,
        session: Session,
        ctx: CheckContext,
        documents: dict[str, DocumentRow],
        plan: Plan,
        seen: set[str],
    ) -> list[ChangeRow]:
        for doc in documents.values():
            session.add(doc)  # keys renamed on load are written with the run
        writer = DocumentWriter(session, self.store, ctx, plan, documents)
        outcome = plan.diff
        changes: list[ChangeRow] = writer.add_all(outcome.added)

        def keep(change: ChangeRow | None) -> None:
            if change is not None:
                changes.append(change)

        for item in outcome.changed:
            keep(writer.change(documents[item.new.key], item))
        for record in outcome.refreshed:
            writer.refresh(documents[record.key], record)
        for record in outcome.removed:
            keep(writer.remove(documents[record.key]))
        for doc in plan.rechecks:
            keep(writer.recheck(doc))
        for doc in plan.backlog:
            keep(writer.late_read(doc))
        for key, count in outcome.missing.items():
            documents[key].missing_runs = count
        for key in [*outcome.returned, *plan.out_of_view]:
            documents[key].missing_runs = 0  # back, or no longer listed here: not missing
        for key, doc in documents.items():
            if key in seen:
                doc.last_seen = ctx.now
        session.add_all(changes)
        session.flush()  # one insert for the run's changes
        return changes
