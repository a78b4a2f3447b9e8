"""Many warm checks at once (``Pipeline.check_all``): one read up front, group commits.

A check of one source (``Pipeline.check``) reads its source row, asks the
store whether anything is due and writes its unchanged run in a transaction
of its own. ``check_all`` checks every configured source, most of them
unchanged, so it does that work once for all of them:

- ``Prefetch`` reads every source row with one SELECT, and with one more the
  sources that have any document missing, waiting for its files or re-read
  before (the only ones for which "is anything due?" can be yes; those still
  ask the exact per-source question, ``warm.anything_due``).
- ``WarmBatch`` keeps the unchanged runs of one host group and writes them
  together (one lookup of the snapshots' blobs, one insert of the run rows,
  one update statement run for every source), every ``size`` runs or
  ``seconds`` after the first one waits, at the latest when the group ends.

Durability: a crash loses at most the unchanged runs not yet written (their
sources then look one healthy run younger). A source that changed, failed
or was blocked writes at once, and the group's waiting runs are written just
before it, so run ids keep the order the checks ran in.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlmodel import Session

from monitor.pipeline import warm
from monitor.store import Store
from sources.registry import SourceSettings

__all__ = ["GROUP_RUNS", "GROUP_SECONDS", "Prefetch", "WarmBatch"]

GROUP_RUNS = 200  # unchanged runs written in one transaction, at most
GROUP_SECONDS = 0.5  # the longest an unchanged run waits to be written


@dataclass
class Prefetch:
    """Every source row by name (as ``warm.source_state`` reads one), and the ids
    of the sources for which something may be due."""

    rows: dict[str, dict[str, Any]]
    maybe_due: set[int]

    @classmethod
    def read(cls, session: Session) -> Prefetch:
        return cls(warm.source_rows(session), warm.maybe_due_sources(session))


@dataclass
class WarmBatch:
    """One host group's checks: the prefetched rows, and the unchanged runs that
    wait to be written."""

    store: Store
    prefetch: Prefetch
    size: int = GROUP_RUNS
    seconds: float = GROUP_SECONDS
    clock: Callable[[], float] = time.monotonic
    runs: list[warm.UnchangedRun] = field(default_factory=list)
    _since: float = 0.0

    def nothing_due(self, settings: SourceSettings, run: warm.UnchangedRun) -> bool:
        """``warm.anything_due``'s answer, asked only where the prefetch left it open."""
        source_id = run.source.id or 0
        if source_id not in self.prefetch.maybe_due:
            return True
        with self.store.session() as session:
            return not warm.anything_due(session, settings, source_id, run.now)

    def add(self, run: warm.UnchangedRun) -> None:
        if not self.runs:
            self._since = self.clock()
        self.runs.append(run)
        if len(self.runs) >= self.size or self.clock() - self._since >= self.seconds:
            self.flush()

    def flush(self) -> None:
        """Write the waiting runs (one transaction); nothing to do when none wait."""
        if not self.runs:
            return
        runs, self.runs = self.runs, []
        with self.store.session(write=True) as session:
            warm.store_unchanged_runs(session, runs)
