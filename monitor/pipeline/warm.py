"""The warm check: the same page as the last healthy listing, nothing due (issue 12).

Most checks of a watched list find it unchanged. When the first page's bytes
are the last healthy listing's (``RecordingFetcher.stood_in``), no document
is missing, due for a re-read or waiting for one, the site has no new host
name and no "moved" notice or recovery is owed, the run is what the full
path would write with an empty plan: one run row, the source's health and
validators updated, the snapshot's blobs (stored already, as a rule). This
module writes exactly that with a few plain SQL statements in one
transaction, run through ``monitor.store.raw`` — no ORM objects, no document
loaded, and on a SQLite file sqlite3 itself: a warm run of a SQLite store
never imports SQLAlchemy. ``store_unchanged`` answers False when the store
says otherwise (something is due after all); the caller then takes the full
path, which writes the same facts the slow way.

``source_state`` reads the source's row the same way, before the fetch;
``due_rows`` and ``pending_rows`` read the documents the same-listing plan
acts on (what ``anything_due`` asks about) when it is due after all.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from monitor.store.db import blob_hash, utcnow
from monitor.store.indexes import MAYBE_DUE
from monitor.store.raw import Raw, as_datetime
from sources.registry import SourceSettings
from sources.types import Fetched

if TYPE_CHECKING:
    from sqlmodel import Session

    from monitor.store.models import DocumentRow, SourceRow

__all__ = [
    "INSERT_RUN",
    "NEW_SOURCE",
    "UPDATE_BASELINE_SOURCE",
    "SourceState",
    "UnchangedRun",
    "add_sources",
    "anything_due",
    "due_rows",
    "maybe_due_sources",
    "pending_rows",
    "source_rows",
    "source_state",
    "sources_without_documents",
    "store_snapshot",
    "store_unchanged",
    "store_unchanged_runs",
]

# a new source's row: ``SourceRow``'s defaults, name and kind set for each (said
# here, not read off the model, which imports SQLModel; a test holds them equal)
NEW_SOURCE: dict[str, Any] = {
    "url": "",
    "jurisdiction": "",
    "schedule": "",
    "consecutive_failures": 0,
    "last_ok_at": None,
    "last_run_at": None,
    "last_outcome": "",
    "last_error": "",
    "health_alerted": False,
    "healthy_runs": 0,
    "last_record_count": 0,
    "validators": "{}",
    "listing_hash": "",
    "moved_to": "",
    "hosts": "",
    "page_digest": "",
}
_SOURCE_TIMES = ("last_ok_at", "last_run_at")  # the source's DateTime columns


class SourceState:
    """A source's row as read, without an ORM object (building a ``SourceRow``
    costs more than the warm check's SQL): the fields the check reads before it
    knows which path it takes, and ``row()`` for the full path."""

    __slots__ = (
        "values",
        *("id", "name", "healthy_runs", "listing_hash", "page_digest", "validators"),
        *("hosts", "moved_to", "health_alerted", "last_record_count"),
    )

    def __init__(self, values: dict[str, Any]) -> None:
        self.values = values
        self.id: int | None = values["id"]
        self.name: str = values["name"]
        self.healthy_runs: int = values["healthy_runs"]
        self.listing_hash: str = values["listing_hash"]
        self.page_digest: str = values["page_digest"]
        self.validators: str = values["validators"]
        self.hosts: str = values["hosts"]
        self.moved_to: str = values["moved_to"]
        self.health_alerted: bool = bool(values["health_alerted"])
        self.last_record_count: int = values["last_record_count"]

    def row(self) -> SourceRow:
        """The source as a (detached) ORM row, its values as the model holds them."""
        from monitor.store.models import SourceRow

        values = dict(self.values)
        for name in _SOURCE_TIMES:
            values[name] = as_datetime(values.get(name))
        values["health_alerted"] = bool(values["health_alerted"])
        return SourceRow(**values)


def source_state(raw: Raw, name: str, wanted: dict[str, str]) -> tuple[SourceState, str] | None:
    """The source's row with its configured fields set to ``wanted`` (written only
    when they differ), and the URL it had; None if the source has no row yet."""
    rows = raw.rows("SELECT * FROM source WHERE name = :name", {"name": name})
    if not rows:
        return None
    values = rows[0]
    previous_url = str(values["url"])
    stale = {key: value for key, value in wanted.items() if values[key] != value}
    if stale:
        assignments = ", ".join(f"{key} = :{key}" for key in stale)  # column names: ours
        raw.run(f"UPDATE source SET {assignments} WHERE id = :id", {**stale, "id": values["id"]})
        values.update(stale)
    return SourceState(values), previous_url


def add_sources(raw: Raw, wanted: dict[str, dict[str, str]]) -> None:
    """Rows for new sources (name: configured fields), as ``Pipeline`` makes one."""
    rows = [{**NEW_SOURCE, **fields, "name": name} for name, fields in wanted.items()]
    if not rows:
        return
    columns = list(rows[0])  # every row: the defaults and the same configured fields
    names, values = ", ".join(columns), ", ".join(f":{c}" for c in columns)
    raw.run(f"INSERT INTO source ({names}) VALUES ({values})", rows)


def source_rows(raw: Raw) -> dict[str, dict[str, Any]]:
    """Every source's row, by name, as ``source_state`` reads one (one SELECT)."""
    return {str(row["name"]): row for row in raw.rows("SELECT * FROM source")}


# the words of the partial index over these documents (indexes.MAYBE_DUE): a scan of
# that index, not of every document (85 ms at 200,000 documents)
MAYBE_DUE_QUERY = f"SELECT DISTINCT source_id FROM document WHERE {MAYBE_DUE}"
_EMPTY = (
    "SELECT id FROM source WHERE healthy_runs = 0"
    " AND NOT EXISTS (SELECT 1 FROM document WHERE document.source_id = source.id)"
)


def maybe_due_sources(raw: Raw) -> set[int]:
    """The sources for which ``anything_due`` can be true: those with an active
    document missing, waiting for its files, or re-read before (a superset of
    ``_due_query``'s, whatever the settings and the clock; one SELECT)."""
    return set(raw.scalars(MAYBE_DUE_QUERY))


def sources_without_documents(raw: Raw) -> set[int]:
    """The sources that have never had a healthy run and hold no document (a
    baseline's: nothing to load before it is diffed; one SELECT)."""
    return set(raw.scalars(_EMPTY))


def _due_query(recheck: bool, pending: bool) -> str:
    """Does any active document of ``:source_id`` need the same-listing plan?"""
    wanted = ["missing_runs > 0"]
    if recheck:
        wanted.append("(relevant = true AND attachments_checked_at <= :cutoff)")
    if pending:
        wanted.append("read_pending = true")
    return (
        "SELECT EXISTS (SELECT 1 FROM document WHERE source_id = :source_id"
        f" AND state != 'removed' AND ({' OR '.join(wanted)}))"
    )


_DUE = {(r, p): _due_query(r, p) for r in (False, True) for p in (False, True)}
_RUN_COLUMNS = (
    *("source_id", "started_at", "finished_at", "outcome", "http_status"),
    *("record_count", "changes", "error", "snapshot_hash", "item_errors"),
)
INSERT_RUN = (
    f"INSERT INTO run ({', '.join(_RUN_COLUMNS)})"
    f" VALUES ({', '.join(':' + c for c in _RUN_COLUMNS)})"
)
_BLOB_COLUMNS = ("hash", "size", "compression", "data", "created_at")
_INSERT_BLOB = (
    f"INSERT INTO blob ({', '.join(_BLOB_COLUMNS)})"
    f" VALUES ({', '.join(':' + c for c in _BLOB_COLUMNS)})"
)
_LOOKUP = 500  # blob hashes asked about in one SELECT
_SET = (
    *("last_ok_at", "last_run_at", "last_outcome", "last_error"),
    *("validators", "hosts", "moved_to"),
)


def _update_source(names: tuple[str, ...]) -> str:
    """The healthy run's source update (``health.record_success`` and the rest),
    setting ``names`` from ``:v_<name>``."""
    assignments = ", ".join(f"{name} = :v_{name}" for name in names)
    return (
        "UPDATE source SET consecutive_failures = 0, health_alerted = false,"
        f" healthy_runs = healthy_runs + 1, {assignments} WHERE id = :v_id"
    )


_UPDATE_SOURCE = {False: _update_source(_SET), True: _update_source((*_SET, "page_digest"))}
# a baseline's (``Writes.store_listing``'s values): the listing's digest and size too
UPDATE_BASELINE_SOURCE = _update_source((*_SET, "page_digest", "listing_hash", "last_record_count"))


def anything_due(raw: Raw, settings: SourceSettings, source_id: int, now: datetime) -> bool:
    """Is any document missing, due for a re-read or waiting for one? (what the
    same-listing plan would act on; see ``Pipeline._same_listing_plan``)"""
    recheck = bool(settings.attachments and settings.recheck_days and settings.recheck_per_run)
    pending = bool(settings.attachments and settings.ambiguous_per_run)
    params: dict[str, Any] = {"source_id": source_id}
    if recheck:
        params["cutoff"] = now - timedelta(days=settings.recheck_days)
    return bool(raw.scalars(_DUE[recheck, pending], params)[0])


def due_rows(
    session: Session, settings: SourceSettings, source: SourceRow, now: datetime
) -> list[DocumentRow]:
    """Documents that may be due for a re-read, by SQL (``due_for_recheck`` picks)."""
    from sqlmodel import col
    from sqlmodel import select as select_rows

    from monitor.store.models import DocumentRow

    if not (settings.attachments and settings.recheck_days and settings.recheck_per_run):
        return []
    cutoff = now - timedelta(days=settings.recheck_days)
    return list(
        session.exec(
            select_rows(DocumentRow)
            .where(
                DocumentRow.source_id == source.id,
                DocumentRow.state != "removed",
                DocumentRow.relevant == True,  # noqa: E712
                col(DocumentRow.attachments_checked_at) <= cutoff,
            )
            .order_by(col(DocumentRow.attachments_checked_at), col(DocumentRow.id))
            .limit(settings.recheck_per_run * 4)
        ).all()
    )


def pending_rows(
    session: Session, settings: SourceSettings, source: SourceRow
) -> list[DocumentRow]:
    """Documents whose ambiguous title's files wait to be read (``add_backlog`` picks)."""
    from sqlmodel import col
    from sqlmodel import select as select_rows

    from monitor.store.models import DocumentRow

    if not (settings.attachments and settings.ambiguous_per_run):
        return []
    return list(
        session.exec(
            select_rows(DocumentRow)
            .where(
                DocumentRow.source_id == source.id,
                DocumentRow.state != "removed",
                DocumentRow.read_pending == True,  # noqa: E712
            )
            .order_by(
                col(DocumentRow.attachments_checked_at).asc().nulls_first(),
                col(DocumentRow.first_seen),
            )
            .limit(settings.ambiguous_per_run * 4)
        ).all()
    )


class UnchangedRun:
    """What an unchanged run writes: its run row's and its source's new values."""

    def __init__(
        self,
        source: SourceState,
        *,
        started_at: datetime,
        now: datetime,
        responses: Sequence[Fetched],
        validators: dict[str, dict[str, str]],
        page_digest: str | None,
        hosts: str,
        moved_to: str,
    ) -> None:
        self.source, self.started_at, self.now = source, started_at, now
        self.responses = responses
        self.validators, self.page_digest = validators, page_digest
        self.hosts, self.moved_to = hosts, moved_to

    def run_values(self, snapshot: str | None) -> dict[str, Any]:
        return {
            "source_id": self.source.id,
            "started_at": self.started_at,
            "finished_at": self.now,
            "outcome": "unchanged",
            "http_status": self.responses[-1].status if self.responses else None,
            "record_count": self.source.last_record_count,
            "changes": 0,
            "error": "",
            "snapshot_hash": snapshot,
            "item_errors": 0,
        }

    def source_values(self) -> dict[str, Any]:
        return {
            "last_ok_at": self.now,
            "last_run_at": self.now,
            "last_outcome": "unchanged",
            "last_error": "",
            "validators": json.dumps(self.validators or {}, sort_keys=True),
            "hosts": self.hosts,
            "moved_to": self.moved_to,
            "page_digest": self.page_digest,
        }


def store_unchanged(raw: Raw, settings: SourceSettings, run: UnchangedRun) -> bool:
    """Write the unchanged run; False (nothing written) if the store has something
    due for this source after all."""
    source_id = run.source.id or 0
    if anything_due(raw, settings, source_id, run.now):
        return False
    store_unchanged_runs(raw, [run])
    return True


def store_unchanged_runs(raw: Raw, runs: Sequence[UnchangedRun]) -> None:
    """Write many unchanged runs whose sources have nothing due (checked by the
    caller): one blob lookup, one insert of the run rows, one update per kind."""
    snapshots = store_snapshots(raw, [run.responses for run in runs])
    rows = [run.run_values(snapshot) for run, snapshot in zip(runs, snapshots, strict=True)]
    raw.run(INSERT_RUN, rows)
    updates: dict[bool, list[dict[str, Any]]] = {False: [], True: []}
    for run in runs:
        values = {f"v_{k}": v for k, v in run.source_values().items() if v is not None}
        updates["v_page_digest" in values].append({"v_id": run.source.id, **values})
    for digest, rows in updates.items():
        if rows:
            raw.run(_UPDATE_SOURCE[digest], rows)


def store_snapshot(raw: Raw, responses: Sequence[Fetched]) -> str | None:
    """Store each raw body (not a 304's) once and the run's manifest of them once;
    the manifest's hash, or None when there is nothing to keep. One query for the
    blobs already there, one insert for the others (every run, warm or not)."""
    return store_snapshots(raw, [responses])[0]


def store_snapshots(raw: Raw, runs: Sequence[Sequence[Fetched]]) -> list[str | None]:
    """``store_snapshot`` for the responses of many runs at once."""
    blobs: dict[str, bytes] = {}
    snapshots: list[str | None] = []
    for responses in runs:
        manifest = []
        for fetched in responses:
            if fetched.status == 304:
                continue
            digest = blob_hash(fetched.body)
            blobs[digest] = fetched.body
            manifest.append({"url": fetched.url, "status": fetched.status, "hash": digest})
        if not manifest:
            snapshots.append(None)
            continue
        data = json.dumps(manifest, sort_keys=True).encode("utf-8")
        snapshot = blob_hash(data)
        blobs[snapshot] = data
        snapshots.append(snapshot)
    if not blobs:
        return snapshots
    hashes = list(blobs)
    stored: set[str] = set()
    for start in range(0, len(hashes), _LOOKUP):  # SQLite binds 32,766 values at most
        part = hashes[start : start + _LOOKUP]
        marks = ", ".join(f":h{n}" for n in range(len(part)))
        query = f"SELECT hash FROM blob WHERE hash IN ({marks})"
        stored.update(raw.scalars(query, {f"h{n}": digest for n, digest in enumerate(part)}))
    now = utcnow()
    rows = [
        {
            "hash": digest,
            "size": len(body),
            "compression": "zlib",
            "data": zlib.compress(body, 6),
            "created_at": now,
        }
        for digest, body in blobs.items()
        if digest not in stored
    ]
    if rows:
        raw.run(_INSERT_BLOB, rows)
    return snapshots
