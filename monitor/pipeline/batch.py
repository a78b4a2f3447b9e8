"""Many checks at once (``Pipeline.check_all``): one read up front, group commits.

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
- A baseline (a source's first healthy run: every document new) waits in the
  same batch, as a ``Deferred`` write made ready before the write lock is
  taken (fetched, parsed, planned, classified), and is written in the group's
  transaction, in its place among the unchanged runs.

Durability: a crash loses at most the runs not yet written (their sources
then look one healthy run younger; a lost baseline is taken again by the next
run). A baseline's documents, run row, search entries and source update are
in one transaction, so a crash never leaves documents without their run nor
a source counted healthy without its documents. When the group's transaction
fails and it held a baseline, nothing of it is kept and each write is made
again alone, in order (``Deferred.alone``: as ``Pipeline.check`` writes one
source, a failure recorded as that source's failed run), so one source's
broken write costs no other source its baseline. A source that changed,
failed or was blocked writes at once, and the group's waiting runs are
written just before it, so run ids keep the order the checks ran in.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from monitor.pipeline import warm
from monitor.store import Store
from monitor.store.raw import Raw, over
from sources.registry import SourceSettings

if TYPE_CHECKING:
    from sqlmodel import Session

__all__ = ["GROUP_RUNS", "GROUP_SECONDS", "Deferred", "Prefetch", "WarmBatch"]

log = logging.getLogger("regwatch.check")

GROUP_RUNS = 200  # runs written in one transaction, at most
GROUP_SECONDS = 0.5  # the longest a run waits to be written


class Deferred(Protocol):
    """A run that waits in the batch to be written (a baseline)."""

    def write(self, session: Session) -> None:
        """Write the run in the group's transaction (raises if it cannot)."""

    def written(self) -> None:
        """The group's transaction committed: the run is stored."""

    def alone(self) -> None:
        """Write the run in a transaction of its own, a failure recorded as
        ``Pipeline.check`` records it (a ``StoreError`` raises)."""


@dataclass
class Prefetch:
    """Every source row by name (as ``warm.source_state`` reads one), the ids of
    the sources for which something may be due, and of those without documents
    (whose first run has none to load)."""

    rows: dict[str, dict[str, Any]]
    maybe_due: set[int]
    empty: set[int] = field(default_factory=set)

    @classmethod
    def read(cls, raw: Raw) -> Prefetch:
        return cls(
            warm.source_rows(raw),
            warm.maybe_due_sources(raw),
            warm.sources_without_documents(raw),
        )

    @classmethod
    def load(cls, store: Store, wanted: dict[str, dict[str, str]]) -> Prefetch:
        """``read``, the rows of the sources in ``wanted`` (name: configured
        fields) that have none written first, in one insert (a first run's
        sources would each write their own, a transaction apiece)."""
        with store.raw() as raw:
            prefetch = cls.read(raw)
        new = {name: fields for name, fields in wanted.items() if name not in prefetch.rows}
        if not new:
            return prefetch
        with store.raw(write=True) as raw:
            warm.add_sources(raw, new)
            return cls.read(raw)


@dataclass
class WarmBatch:
    """One host group's checks: the prefetched rows, and the unchanged runs that
    wait to be written."""

    store: Store
    prefetch: Prefetch
    size: int = GROUP_RUNS
    seconds: float = GROUP_SECONDS
    clock: Callable[[], float] = time.monotonic
    runs: list[warm.UnchangedRun | Deferred] = field(default_factory=list)
    _since: float = 0.0

    def nothing_due(self, settings: SourceSettings, run: warm.UnchangedRun) -> bool:
        """``warm.anything_due``'s answer, asked only where the prefetch left it open."""
        source_id = run.source.id or 0
        if source_id not in self.prefetch.maybe_due:
            return True
        with self.store.raw() as raw:
            return not warm.anything_due(raw, settings, source_id, run.now)

    def add(self, run: warm.UnchangedRun) -> None:
        self.defer(run)
        self.tick()

    def defer(self, run: warm.UnchangedRun | Deferred) -> None:
        """Keep ``run`` to be written with the others (``tick`` or ``flush`` writes)."""
        if not self.runs:
            self._since = self.clock()
        self.runs.append(run)

    def tick(self) -> None:
        """Write the waiting runs if there are ``size`` of them, or the first has
        waited ``seconds``."""
        if self.runs and (
            len(self.runs) >= self.size or self.clock() - self._since >= self.seconds
        ):
            self.flush()

    def flush(self) -> None:
        """Write the waiting runs (one transaction); nothing to do when none wait."""
        if not self.runs:
            return
        runs, self.runs = self.runs, []
        unchanged = [run for run in runs if isinstance(run, warm.UnchangedRun)]
        try:
            if len(unchanged) == len(runs):
                with self.store.raw(write=True) as raw:  # no ORM: no SQLAlchemy on SQLite
                    warm.store_unchanged_runs(raw, unchanged)
            else:
                with self.store.session(write=True) as session:
                    for part in _parts(runs):
                        if isinstance(part, list):
                            warm.store_unchanged_runs(over(session.connection()), part)
                        else:
                            part.write(session)
        except Exception:
            if len(unchanged) == len(runs):
                raise  # unchanged runs only: lost, and said (as before baselines waited)
            log.warning("%d runs could not be written together: writing them one by one", len(runs))
            self._one_by_one(runs)
            return
        for run in runs:
            if not isinstance(run, warm.UnchangedRun):
                run.written()

    def _one_by_one(self, runs: list[warm.UnchangedRun | Deferred]) -> None:
        """Each waiting baseline in a transaction of its own, the unchanged runs
        between them together, in order."""
        for part in _parts(runs):
            if isinstance(part, list):
                with self.store.raw(write=True) as raw:
                    warm.store_unchanged_runs(raw, part)
            else:
                part.alone()


def _parts(
    runs: list[warm.UnchangedRun | Deferred],
) -> Iterator[list[warm.UnchangedRun] | Deferred]:
    """``runs`` in order, consecutive unchanged runs as one list."""
    unchanged: list[warm.UnchangedRun] = []
    for run in runs:
        if isinstance(run, warm.UnchangedRun):
            unchanged.append(run)
            continue
        if unchanged:
            yield unchanged
            unchanged = []
        yield run
    if unchanged:
        yield unchanged
