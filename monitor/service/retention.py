"""Retention: drop old raw snapshots, never the change history.

Each run keeps a snapshot: a manifest blob listing the raw bodies it
fetched (each a blob). Raw bodies are what lets you re-parse the past, but
they are most of the database's size. ``prune_snapshots`` forgets the
snapshot of a run when both hold:

- the run is older than ``keep_days`` days, and
- it is not among the newest ``keep_versions`` distinct snapshots of its
  source (so a source that rarely changes keeps its last few states however
  old they are).

The run row stays (with ``snapshot_hash`` cleared). A blob is deleted only
when nothing refers to it any more: no remaining run snapshot (or body in
one), no version or document (texts, attachments), no change (diffs). Rows of
``change``, ``version``, ``document`` and ``delivery`` are never deleted.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, update
from sqlmodel import Session, col, select

from monitor.store import Store
from monitor.store.db import utcnow
from monitor.store.models import BlobRow, ChangeRow, DocumentRow, RunRow, SourceRow, VersionRow

log = logging.getLogger("regwatch.retention")
BATCH = 500


@dataclass
class RetentionResult:
    runs_pruned: int = 0
    blobs_deleted: int = 0
    bytes_freed: int = 0

    def line(self) -> str:
        return (
            f"retention: {self.runs_pruned} old snapshots dropped, "
            f"{self.blobs_deleted} blobs deleted ({self.bytes_freed / 1e6:.1f} MB)"
        )


def _manifest_hashes(store: Store, session: Session, digest: str) -> set[str]:
    """The body hashes a manifest lists (empty when it is not a manifest)."""
    data = store.get_blob(session, digest)
    if data is None:
        return set()
    try:
        entries = json.loads(data.decode("utf-8"))
    except ValueError:
        return set()
    if not isinstance(entries, list):
        return set()
    return {e["hash"] for e in entries if isinstance(e, dict) and isinstance(e.get("hash"), str)}


def _json_hashes(text: str) -> set[str]:
    try:
        value = json.loads(text or "{}")
    except ValueError:
        return set()
    return {v for v in value.values() if isinstance(v, str)} if isinstance(value, dict) else set()


def _history_references(session: Session) -> set[str]:
    """Every blob the change history needs: versions, documents, diffs (a first
    version its document implies, ``monitor.store.versions``, holds the
    document's own, counted with the documents')."""
    refs: set[str] = set()
    for text_hash, attachments in session.exec(
        select(VersionRow.text_hash, VersionRow.attachments)
    ).all():
        if text_hash:
            refs.add(text_hash)
        refs |= _json_hashes(attachments)
    for text_hash, attachments in session.exec(
        select(DocumentRow.text_hash, DocumentRow.attachments)
    ).all():
        if text_hash:
            refs.add(text_hash)
        refs |= _json_hashes(attachments)
    refs |= {h for h in session.exec(select(ChangeRow.diff_hash)).all() if h}
    return refs


def _expired_runs(
    session: Session, source_id: int, cutoff: datetime, keep_versions: int
) -> list[tuple[int, str]]:
    """(run id, snapshot) of runs whose snapshot may go."""
    rows = session.exec(
        select(RunRow.id, RunRow.snapshot_hash, RunRow.started_at)
        .where(RunRow.source_id == source_id, col(RunRow.snapshot_hash).is_not(None))
        .order_by(col(RunRow.started_at).desc(), col(RunRow.id).desc())
    ).all()
    kept: set[str] = set()
    expired: list[tuple[int, str]] = []
    for run_id, digest, started in rows:
        assert run_id is not None and digest is not None
        if digest in kept:
            continue
        if len(kept) < keep_versions:
            kept.add(digest)
            continue
        if _aware(started) < cutoff:
            expired.append((run_id, digest))
    return expired


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def prune_snapshots(
    store: Store, *, keep_days: int, keep_versions: int, now: datetime | None = None
) -> RetentionResult:
    """Drop raw snapshots past retention; see the module docstring for the rules."""
    cutoff = (now or utcnow()) - timedelta(days=keep_days)
    result = RetentionResult()
    with store.session(write=True) as session:
        source_ids = [s for s in session.exec(select(SourceRow.id)).all() if s is not None]
        expired: list[tuple[int, str]] = []
        for source_id in source_ids:
            expired += _expired_runs(session, source_id, cutoff, keep_versions)
        if not expired:
            return result
        candidates: set[str] = set()
        for digest in {d for _, d in expired}:
            candidates.add(digest)
            candidates |= _manifest_hashes(store, session, digest)
        run_ids = [run_id for run_id, _ in expired]
        for start in range(0, len(run_ids), BATCH):
            session.execute(
                update(RunRow)
                .where(col(RunRow.id).in_(run_ids[start : start + BATCH]))
                .values(snapshot_hash=None)
            )
        result.runs_pruned = len(run_ids)
        session.flush()
        # What still refers to blobs after the update: remaining snapshots and history.
        refs = _history_references(session)
        for kept in session.exec(
            select(RunRow.snapshot_hash).distinct().where(col(RunRow.snapshot_hash).is_not(None))
        ).all():
            if kept:
                refs.add(kept)
                refs |= _manifest_hashes(store, session, kept)
        doomed = sorted(candidates - refs)
        for start in range(0, len(doomed), BATCH):
            chunk = doomed[start : start + BATCH]
            sizes = session.exec(select(BlobRow.size).where(col(BlobRow.hash).in_(chunk))).all()
            result.bytes_freed += sum(sizes)
            result.blobs_deleted += len(sizes)
            session.execute(delete(BlobRow).where(col(BlobRow.hash).in_(chunk)))
    log.info("%s", result.line())
    return result
