"""A baseline that waits to be written with its host group (``Pipeline.check_all``).

A first run stores every document of its list. ``Pipeline.check`` writes
that in a transaction of its own; in ``check_all`` the baseline, once
fetched, parsed, planned and classified, waits in the group's batch
(``monitor.pipeline.batch``) and is written in the group's transaction,
where the commit, the classification lookups and the search index's
segment are shared by many sources (issue 12: a first run's CPU).

A plain list baseline (new documents only, no "moved" notice, no recovery
owed: nearly all of them) is written by ``_lean``: the documents by the same
``DocumentWriter.add_all``, the run row and the source update with SQL Core,
the values ``Writes.store_listing`` would give them, no ORM object or flush. Any
other takes ``Writes.store_listing``, the write ``check`` makes. Either
way the write can be made again alone when the group's transaction fails
(``alone``: from fresh copies of the source's and the run's rows). The
check's result is filled in when the write is done, and logged then.
Both writes are compared with single checks in tests/test_cold_batch.py.
"""

from __future__ import annotations

import json
import logging
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import make_transient_to_detached
from sqlmodel import Session

from monitor.errors import StoreError
from monitor.pipeline import warm
from monitor.pipeline.identity import MAX_HOSTS, moved_state
from monitor.pipeline.plan import Plan
from monitor.pipeline.recording import RecordingFetcher
from monitor.pipeline.results import CheckResult, log_result
from monitor.store.models import DocumentRow, RunRow
from monitor.store.raw import over
from sources.errors import Blocked, SourceError
from sources.types import Listing

if TYPE_CHECKING:
    from monitor.pipeline.batch import WarmBatch
    from monitor.pipeline.check import Pipeline
    from monitor.pipeline.context import CheckContext

__all__ = ["WaitingBaseline"]

log = logging.getLogger("regwatch.check")

# what ``Writes.store_listing`` writes: documents, listing, plan, listing digest
Planned = tuple[dict[str, DocumentRow], Listing, Plan | None, str]


def _run_values(
    ctx: CheckContext, fetcher: RecordingFetcher, listing: Listing, snapshot: str | None
) -> dict[str, Any]:
    """The baseline's run row, as ``Writes.store_listing`` fills it in."""
    return {
        "source_id": ctx.source.id,
        "started_at": ctx.run.started_at,
        "finished_at": ctx.now,
        "outcome": "baseline",
        "http_status": fetcher.last_status,
        "record_count": ctx.run.record_count,
        "changes": 0,
        "error": "",
        "snapshot_hash": snapshot,
        "item_errors": len(listing.item_errors),
    }


class WaitingBaseline:
    """One source's baseline, planned, waiting in a ``WarmBatch`` (a ``Deferred``)."""

    def __init__(
        self,
        pipeline: Pipeline,
        ctx: CheckContext,
        state: warm.SourceState,
        planned: Planned,
        fetcher: RecordingFetcher,
        result: CheckResult,
    ) -> None:
        self.pipeline, self.ctx, self.state = pipeline, ctx, state
        self.planned, self.fetcher, self.result = planned, fetcher, result
        self._stored: CheckResult | None = None
        self._tries = 0

    @classmethod
    def wait(
        cls,
        pipeline: Pipeline,
        batch: WarmBatch,
        ctx: CheckContext,
        state: warm.SourceState,
        planned: Planned,
        fetcher: RecordingFetcher,
    ) -> CheckResult:
        """Put the baseline in ``batch``; its result, outcome "waiting" until written."""
        result = CheckResult(source=ctx.settings.name, outcome="waiting")
        batch.defer(cls(pipeline, ctx, state, planned, fetcher, result))
        return result

    def write(self, session: Session) -> None:
        """The write ``check`` makes; the source row as read when the check began
        (nothing else writes it meanwhile) taken as the stored one, not read again."""
        ctx, self._tries = self.ctx, self._tries + 1
        if self._tries > 1:  # the first try's rows went with its transaction
            ctx = replace(
                ctx,
                source=self.state.row(),
                run=RunRow(source_id=self.state.id or 0, started_at=ctx.run.started_at),
            )
        self._stored = self._lean(session, ctx)
        if self._stored is not None:
            return
        make_transient_to_detached(ctx.source)
        session.add(ctx.source)
        documents, listing, plan, digest = self.planned
        self._stored = self.pipeline.writes().store_listing(
            session, ctx, documents, listing, plan, digest, self.fetcher
        )

    def _lean(self, session: Session, ctx: CheckContext) -> CheckResult | None:
        """The plain baseline of a list, written as ``Writes.store_listing`` writes it,
        its run row and source update in SQL Core (no ORM object, no flush):
        new documents only, no "moved" notice nor recovery owed. None (nothing
        written) for any other."""
        from monitor.pipeline.documents import DocumentWriter

        documents, listing, plan, digest = self.planned
        source, fetcher = ctx.source, self.fetcher
        if plan is None or plan.diff is None or listing.page_text is not None:
            return None
        diff = plan.diff
        other = (  # anything a plain first listing of new documents does not have
            documents,
            listing.not_modified,
            digest == source.listing_hash,
            source.health_alerted,
            plan.rechecks,
            plan.backlog,
            diff.changed,
            diff.removed,
            diff.refreshed,
            diff.missing,
            diff.returned,
        )
        if any(other):
            return None
        configured = ctx.settings.url or ctx.adapter.base_url
        moved_to, notice = moved_state(configured, source.moved_to, fetcher)
        if notice or plan.out_of_view:
            return None
        raw = over(session.connection())
        snapshot = warm.store_snapshot(raw, fetcher.responses)
        DocumentWriter(session, self.pipeline.store, ctx, plan, documents).add_all(diff.added)
        run = ctx.run
        run.record_count = len({r.key for r in listing.records})
        raw.run(warm.INSERT_RUN, _run_values(ctx, fetcher, listing, snapshot))
        raw.run(
            warm.UPDATE_BASELINE_SOURCE,
            {
                "v_id": source.id,
                "v_last_ok_at": ctx.now,
                "v_last_run_at": ctx.now,
                "v_last_outcome": "baseline",
                "v_last_error": "",
                "v_validators": json.dumps(fetcher.validators or {}, sort_keys=True),
                "v_page_digest": source.page_digest
                if fetcher.page_digest is None
                else fetcher.page_digest,
                "v_hosts": " ".join(sorted(ctx.hosts)[:MAX_HOSTS]),
                "v_moved_to": moved_to,
                "v_listing_hash": digest,
                "v_last_record_count": run.record_count,
            },
        )
        for error in listing.item_errors:
            log.warning("%s: item kept without its details: %s", ctx.settings.name, error)
        result = CheckResult(
            source=ctx.settings.name,
            outcome="baseline",
            records=run.record_count,
            item_errors=len(listing.item_errors),
        )
        result.alerts += self.pipeline.writes().baseline_summary(session, source, ctx.settings, run)
        return result

    def written(self) -> None:
        assert self._stored is not None, "written before its write"
        self._finish(self._stored)

    def alone(self) -> None:
        try:
            with self.pipeline.store.session(write=True) as session:
                self.write(session)
        except StoreError:  # the database, not the source: the caller reports it
            raise
        except Exception as exc:  # as ``Pipeline.check`` records a check that fails
            if isinstance(exc, SourceError):
                outcome, error = ("blocked" if isinstance(exc, Blocked) else "failed"), str(exc)
            else:
                log.exception("internal error checking %s", self.ctx.settings.name)
                outcome, error = "failed", f"internal error: {type(exc).__name__}: {exc}"
            self._finish(
                self.pipeline.writes().store_failure(
                    self.ctx.settings,
                    self.state,
                    outcome,
                    error,
                    self.fetcher,
                    self.ctx.run.started_at,
                    None,
                )
            )
            return
        self.written()

    def _finish(self, stored: CheckResult) -> None:
        """The check's result is what was stored, timed when it was checked."""
        seconds, cpu_ms = self.result.seconds, self.result.cpu_ms
        vars(self.result).update(vars(stored))
        self.result.seconds, self.result.cpu_ms = seconds, cpu_ms
        log_result(self.result)
