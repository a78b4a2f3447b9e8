"""The warm check: the same page as the last healthy listing, nothing due (issue 12).

Most checks of a watched list find it unchanged. When the first page's bytes
are the last healthy listing's (``RecordingFetcher.stood_in``), no document
is missing, due for a re-read or waiting for one, the site has no new host
name and no "moved" notice or recovery is owed, the run is what the full
path would write with an empty plan: one run row, the source's health and
validators updated, the snapshot's blobs (stored already, as a rule). This
module writes exactly that with three SQL Core statements in one
transaction — no ORM objects, no document loaded. ``store_unchanged`` answers
None when the store says otherwise (something is due after all); the caller
then takes the full path, which writes the same facts the slow way.

``source_state`` reads the source's row the same way, before the fetch;
``due_rows`` and ``pending_rows`` read the documents the same-listing plan
acts on (what ``anything_due`` asks about) when it is due after all.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import CursorResult, and_, bindparam, exists, insert, or_, select, text, update
from sqlmodel import Session, col
from sqlmodel import select as select_rows  # ORM rows (``select`` here is Core's)

from monitor.store.db import blob_hash, utcnow
from monitor.store.models import MAYBE_DUE, BlobRow, DocumentRow, RunRow, SourceRow
from sources.registry import SourceSettings
from sources.types import Fetched

__all__ = [
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

_SOURCE = SourceRow.__table__  # type: ignore[attr-defined]
_RUN = RunRow.__table__  # type: ignore[attr-defined]
_BLOB = BlobRow.__table__  # type: ignore[attr-defined]
_DOC = DocumentRow.__table__  # type: ignore[attr-defined]


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
        """The source as a (detached) ORM row."""
        return SourceRow(**self.values)


def source_state(
    session: Session, name: str, wanted: dict[str, str]
) -> tuple[SourceState, str] | None:
    """The source's row with its configured fields set to ``wanted`` (written only
    when they differ), and the URL it had; None if the source has no row yet."""
    row = session.execute(select(_SOURCE).where(_SOURCE.c.name == name)).mappings().first()
    if row is None:
        return None
    values: dict[str, Any] = dict(row)
    previous_url = str(values["url"])
    stale = {key: value for key, value in wanted.items() if values[key] != value}
    if stale:
        session.execute(update(_SOURCE).where(_SOURCE.c.id == values["id"]).values(**stale))
        values.update(stale)
    return SourceState(values), previous_url


def add_sources(session: Session, wanted: dict[str, dict[str, str]]) -> None:
    """Rows for new sources (name: configured fields), as ``Pipeline`` makes one."""
    rows = [{**_NEW_SOURCE, **fields, "name": name} for name, fields in wanted.items()]
    session.execute(insert(_SOURCE), rows)


def source_rows(session: Session) -> dict[str, dict[str, Any]]:
    """Every source's row, by name, as ``source_state`` reads one (one SELECT)."""
    rows = session.execute(select(_SOURCE)).mappings().all()
    return {str(row["name"]): dict(row) for row in rows}


def maybe_due_sources(session: Session) -> set[int]:
    """The sources for which ``anything_due`` can be true: those with an active
    document missing, waiting for its files, or re-read before (a superset of
    ``_due_query``'s, whatever the settings and the clock; one SELECT)."""
    return set(session.execute(_MAYBE_DUE).scalars())


def sources_without_documents(session: Session) -> set[int]:
    """The sources that have never had a healthy run and hold no document (a
    baseline's: nothing to load before it is diffed; one SELECT)."""
    return set(session.execute(_EMPTY).scalars())


def _due_query(recheck: bool, pending: bool) -> Any:
    """Does any active document of ``:source_id`` need the same-listing plan?"""
    wanted = [_DOC.c.missing_runs > 0]
    if recheck:
        wanted.append(
            and_(
                _DOC.c.relevant == True,  # noqa: E712
                _DOC.c.attachments_checked_at <= bindparam("cutoff"),
            )
        )
    if pending:
        wanted.append(_DOC.c.read_pending == True)  # noqa: E712
    active = and_(_DOC.c.source_id == bindparam("source_id"), _DOC.c.state != "removed")
    return select(exists().where(active, or_(*wanted)))


# built once: a statement built per check costs more CPU than running it
_DUE = {(r, p): _due_query(r, p) for r in (False, True) for p in (False, True)}
# the words of the partial index over these documents (models.MAYBE_DUE): a scan of
# that index, not of every document (85 ms at 200,000 documents)
_MAYBE_DUE = select(_DOC.c.source_id).where(text(MAYBE_DUE)).distinct()
# a new source's row: the model's defaults (name and kind are set for each)
_NEW_SOURCE = {
    name: info.default for name, info in SourceRow.model_fields.items() if not info.is_required()
}
del _NEW_SOURCE["id"]
_EMPTY = select(_SOURCE.c.id).where(
    _SOURCE.c.healthy_runs == 0, ~exists().where(_DOC.c.source_id == _SOURCE.c.id)
)
_INSERT_RUN = insert(_RUN)
_STORED_BLOBS = select(_BLOB.c.hash).where(_BLOB.c.hash.in_(bindparam("hashes", expanding=True)))
_INSERT_BLOBS = insert(_BLOB)
_SET = (
    *("last_ok_at", "last_run_at", "last_outcome", "last_error"),
    *("validators", "hosts", "moved_to"),
)


def _update_source(page_digest: bool) -> Any:
    """The healthy run's source update (``health.record_success`` and the rest)."""
    names = (*_SET, "page_digest") if page_digest else _SET
    return (
        update(_SOURCE)
        .where(_SOURCE.c.id == bindparam("v_id"))
        .values(
            consecutive_failures=0,
            health_alerted=False,
            healthy_runs=_SOURCE.c.healthy_runs + 1,
            **{name: bindparam(f"v_{name}") for name in names},
        )
    )


_UPDATE_SOURCE = {digest: _update_source(digest) for digest in (False, True)}


def anything_due(session: Session, settings: SourceSettings, source_id: int, now: datetime) -> bool:
    """Is any document missing, due for a re-read or waiting for one? (what the
    same-listing plan would act on; see ``Pipeline._same_listing_plan``)"""
    recheck = bool(settings.attachments and settings.recheck_days and settings.recheck_per_run)
    pending = bool(settings.attachments and settings.ambiguous_per_run)
    params: dict[str, Any] = {"source_id": source_id}
    if recheck:
        params["cutoff"] = now - timedelta(days=settings.recheck_days)
    return bool(session.execute(_DUE[recheck, pending], params).scalar())


def due_rows(
    session: Session, settings: SourceSettings, source: SourceRow, now: datetime
) -> list[DocumentRow]:
    """Documents that may be due for a re-read, by SQL (``due_for_recheck`` picks)."""
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


def store_unchanged(session: Session, settings: SourceSettings, run: UnchangedRun) -> int | None:
    """Write the unchanged run; its id, or None (nothing written) if the store has
    something due for this source after all."""
    source_id = run.source.id or 0
    if anything_due(session, settings, source_id, run.now):
        return None
    snapshot = store_snapshot(session, run.responses)
    inserted: CursorResult[Any] = session.connection().execute(
        _INSERT_RUN, run.run_values(snapshot)
    )
    values = {f"v_{k}": v for k, v in run.source_values().items() if v is not None}
    session.execute(_UPDATE_SOURCE["v_page_digest" in values], {"v_id": source_id, **values})
    key = inserted.inserted_primary_key
    return int(key[0]) if key else None


def store_unchanged_runs(session: Session, runs: Sequence[UnchangedRun]) -> None:
    """Write many unchanged runs whose sources have nothing due (checked by the
    caller): one blob lookup, one insert of the run rows, one update per kind."""
    snapshots = store_snapshots(session, [run.responses for run in runs])
    rows = [run.run_values(snapshot) for run, snapshot in zip(runs, snapshots, strict=True)]
    session.connection().execute(_INSERT_RUN, rows)
    updates: dict[bool, list[dict[str, Any]]] = {False: [], True: []}
    for run in runs:
        values = {f"v_{k}": v for k, v in run.source_values().items() if v is not None}
        updates["v_page_digest" in values].append({"v_id": run.source.id, **values})
    for digest, rows in updates.items():
        if rows:
            session.execute(_UPDATE_SOURCE[digest], rows)


def store_snapshot(session: Session, responses: Sequence[Fetched]) -> str | None:
    """Store each raw body (not a 304's) once and the run's manifest of them once;
    the manifest's hash, or None when there is nothing to keep. One query for the
    blobs already there, one insert for the others (every run, warm or not)."""
    return store_snapshots(session, [responses])[0]


def store_snapshots(session: Session, runs: Sequence[Sequence[Fetched]]) -> list[str | None]:
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
    # on the session's connection: no autoflush (nothing pending is a blob) nor ORM step
    connection = session.connection()
    stored = set(connection.execute(_STORED_BLOBS, {"hashes": list(blobs)}).scalars())
    rows = [
        {
            "hash": digest,
            "size": len(body),
            "compression": "zlib",
            "data": zlib.compress(body, 6),
            "created_at": utcnow(),
        }
        for digest, body in blobs.items()
        if digest not in stored
    ]
    if rows:
        connection.execute(_INSERT_BLOBS, rows)
    return snapshots
