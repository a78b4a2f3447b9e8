"""Migration 0014: ``warm.maybe_due_sources`` reads the partial index over the
documents a check may owe something (``models.MAYBE_DUE``), not every document,
and finds exactly the sources it found by the plain question."""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path

import pytest
from alembic import command
from alembic.config import Config as AlembicConfig
from sqlalchemy import create_engine

from monitor.pipeline import warm
from monitor.store import Store
from monitor.store.db import MIGRATIONS
from monitor.store.models import DocumentRow, SourceRow
from tests.helpers.stores import store_url

PG_URL = os.environ.get("REGWATCH_TEST_PG_URL")
NOW = datetime(2026, 12, 1, tzinfo=UTC)
# (state, missing_runs, read_pending, attachments_checked_at) of each source's one document
DOCUMENTS = [
    ("active", 0, False, None),  # nothing owed: not found
    ("active", 2, False, None),  # missing
    ("active", 0, True, None),  # files waiting
    ("active", 0, False, NOW),  # read before: may be re-read
    ("removed", 3, True, NOW),  # gone: owes nothing
    ("withdrawn", 1, False, None),  # not removed: counts
]


@pytest.fixture(params=["sqlite", "postgres"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    with store_url(tmp_path, request.param) as url:
        yield (store := Store(url))
        store.close()  # before a PostgreSQL database is dropped


def _fill(store: Store) -> dict[int, tuple[str, int, bool, datetime | None]]:
    """One source per row of DOCUMENTS; each source's id with its document's state."""
    made = {}
    with store.session(write=True) as session:
        for n, (state, missing, pending, checked) in enumerate(DOCUMENTS):
            source = SourceRow(name=f"s{n}", kind="html-list", url=f"http://127.0.0.1:9/{n}")
            session.add(source)
            session.flush()
            assert source.id is not None
            session.add(
                DocumentRow(
                    source_id=source.id,
                    key=f"k{n}",
                    title=f"t{n}",
                    first_seen=NOW,
                    last_seen=NOW,
                    state=state,
                    missing_runs=missing,
                    read_pending=pending,
                    attachments_checked_at=checked,
                )
            )
            made[source.id] = (state, missing, pending, checked)
    return made


def test_the_maybe_due_sources_are_those_with_a_document_owed_something(store: Store) -> None:
    made = _fill(store)
    wanted = {
        source_id
        for source_id, (state, missing, pending, checked) in made.items()
        if state != "removed" and (missing > 0 or pending or checked is not None)
    }
    assert len(wanted) == 4  # the table above, read by hand
    with store.raw() as raw:  # sqlite3 itself on SQLite, SQLAlchemy on PostgreSQL
        assert warm.maybe_due_sources(raw) == wanted


def test_sqlite_answers_from_the_partial_index(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'regwatch.db'}")
    _fill(store)
    sql = warm.MAYBE_DUE_QUERY
    store.close()
    with closing(sqlite3.connect(tmp_path / "regwatch.db")) as db:
        # many documents owed nothing, as on a real store: the planner weighs the
        # indexes by size, and only the query's exact words make this one usable
        db.executemany(
            "INSERT INTO document (source_id, key, title, url, jurisdiction, first_seen,"
            " last_seen, state, missing_runs, record, lineage, status, attachments,"
            " classification, relevant, read_pending) VALUES (1, ?, 't', '', '',"
            " '2026-12-01', '2026-12-01', 'active', 0, '{}', '', 'final', '{}', '{}', 0, 0)",
            [(f"more{n}",) for n in range(5000)],
        )
        db.commit()
        plan = " ".join(row[-1] for row in db.execute(f"EXPLAIN QUERY PLAN {sql}"))
        (indexed,) = db.execute(
            "SELECT count(*) FROM document INDEXED BY ix_document_maybe_due WHERE "
            "state <> 'removed' AND (missing_runs > 0 OR read_pending = true"
            " OR attachments_checked_at IS NOT NULL)"
        ).fetchone()
    assert "USING INDEX ix_document_maybe_due" in plan, plan  # not SCAN document
    assert indexed == 4  # the index holds the owed documents only


def test_0014_adds_the_index_and_takes_it_back(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'regwatch.db'}"
    Store(url).close()  # at head

    def indexes() -> set[str]:
        with closing(sqlite3.connect(tmp_path / "regwatch.db")) as db:
            return {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='index'")}

    assert "ix_document_maybe_due" in indexes()
    engine = create_engine(url)
    config = AlembicConfig()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0013")
    assert "ix_document_maybe_due" not in indexes()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
    engine.dispose()
    assert "ix_document_maybe_due" in indexes()
