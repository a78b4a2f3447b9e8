"""A baseline that waits to be written with its host group (``Pipeline.check_all``).

A first run stores every document of its list. ``Pipeline.check`` writes
that in a transaction of its own; in ``check_all`` the baseline, once
fetched, parsed, planned and classified, waits in the group's batch
(``monitor.pipeline.batch``) and is written in the group's transaction,
where the commit, the classification lookups and the search index's
segment are shared by many sources (issue 12: a first run's CPU).

The write is the one ``check`` makes (``Pipeline._store_listing``), from a
fresh copy of the source's row and a fresh run row, so it can be made again
alone when the group's transaction fails (``alone``). The check's result is
filled in when the write is done, and logged then.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import TYPE_CHECKING

from sqlalchemy.orm import make_transient_to_detached
from sqlmodel import Session

from monitor.errors import StoreError
from monitor.pipeline.plan import Plan
from monitor.pipeline.recording import RecordingFetcher
from monitor.pipeline.warm import SourceState
from monitor.store.models import DocumentRow, RunRow
from sources.errors import Blocked, SourceError
from sources.types import Listing

if TYPE_CHECKING:
    from monitor.pipeline.batch import WarmBatch
    from monitor.pipeline.check import CheckResult, Pipeline
    from monitor.pipeline.documents import CheckContext

__all__ = ["WaitingBaseline"]

log = logging.getLogger("regwatch.check")

# what ``Pipeline._store_listing`` writes: documents, listing, plan, listing digest
Planned = tuple[dict[str, DocumentRow], Listing, Plan | None, str]


class WaitingBaseline:
    """One source's baseline, planned, waiting in a ``WarmBatch`` (a ``Deferred``)."""

    def __init__(
        self,
        pipeline: Pipeline,
        ctx: CheckContext,
        state: SourceState,
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
        state: SourceState,
        planned: Planned,
        fetcher: RecordingFetcher,
    ) -> CheckResult:
        """Put the baseline in ``batch``; its result, outcome "waiting" until written."""
        from monitor.pipeline.check import CheckResult

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
        make_transient_to_detached(ctx.source)
        session.add(ctx.source)
        documents, listing, plan, digest = self.planned
        self._stored = self.pipeline._store_listing(
            session, ctx, documents, listing, plan, digest, self.fetcher
        )

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
                self.pipeline._store_failure(
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
        from monitor.pipeline.check import log_result

        seconds, cpu_ms = self.result.seconds, self.result.cpu_ms
        vars(self.result).update(vars(stored))
        self.result.seconds, self.result.cpu_ms = seconds, cpu_ms
        log_result(self.result)
