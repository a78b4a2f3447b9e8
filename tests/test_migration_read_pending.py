"""Migration 0010: a store at the previous head (0008) gains ``document.read_pending``,
false for every existing document, and goes back down cleanly."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from sqlalchemy import create_engine, inspect
from sqlmodel import select

from monitor.store import Store
from monitor.store.models import DocumentRow
from tests.helpers.stores import alembic_step


def test_0009_adds_read_pending_false_and_downgrades(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    alembic_step(url, "0008")
    db = sqlite3.connect(tmp_path / "old.db")
    db.execute(
        "insert into source (name, kind, url, jurisdiction, schedule, consecutive_failures,"
        " last_outcome, last_error, health_alerted, healthy_runs, last_record_count,"
        " validators) values ('cde', 'cde', '', 'CN', '', 0, '', '', 0, 1, 1, '{}')"
    )
    db.execute(
        "insert into document (source_id, key, title, url, jurisdiction, first_seen,"
        " last_seen, state, missing_runs, record, fingerprint, lineage, status,"
        " attachments, classification, relevant) values (1, 'k', '关于发布的通告', '', 'CN',"
        " '2026-01-01 00:00:00.000000', '2026-01-01 00:00:00.000000', 'active', 0,"
        " '{}', '', '', 'final', '{}', '{}', 0)"
    )
    db.commit()
    db.close()
    store = Store(url)  # upgrades to head on open
    with store.session() as session:
        (doc,) = session.exec(select(DocumentRow)).all()
    assert doc.read_pending is False
    alembic_step(url, "0008", down=True)
    columns = {c["name"] for c in inspect(create_engine(url)).get_columns("document")}
    assert "read_pending" not in columns and "relevant" in columns
