"""The store: migrations keep history across upgrades, blobs are stored once,
SQLite runs in WAL mode, and a bad URL is a clear StoreError."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from alembic import command
from alembic.config import Config as AlembicConfig
from sqlalchemy import create_engine

from monitor.errors import StoreError
from monitor.store import Store
from monitor.store.db import MIGRATIONS


def test_an_old_database_is_upgraded_without_losing_history(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    engine = create_engine(url)
    config = AlembicConfig()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0001")
    db = sqlite3.connect(tmp_path / "old.db")
    db.execute("insert into source (name, kind, url, jurisdiction, schedule, consecutive_failures,"
               " last_outcome, last_error, health_alerted, healthy_runs, last_record_count,"
               " validators) values ('cde', 'cde', '', 'CN', '', 0, '', '', 0, 1, 5, '{}')")
    db.execute("insert into document (source_id, key, title, url, jurisdiction, first_seen,"
               " last_seen, state, missing_runs, record, fingerprint, lineage, status,"
               " attachments, classification, relevant) values (1, 'k1', '细胞治疗', '', 'CN',"
               " '2026-01-01 00:00:00', '2026-01-01 00:00:00', 'active', 0, '{}', '', '',"
               " 'final', '{}', '{}', 1)")
    db.commit()
    db.close()
    engine.dispose()

    store = Store(url)                              # upgrades to head on open
    db = sqlite3.connect(tmp_path / "old.db")
    assert db.execute("select version_num from alembic_version").fetchone()[0] == "0003"
    columns = {row[1] for row in db.execute("pragma table_info(document)")}
    assert "attachments_checked_at" in columns
    assert db.execute("select title from document").fetchall() == [("细胞治疗",)]
    assert db.execute("pragma journal_mode").fetchone()[0] == "wal"
    Store(url)                                      # opening again is a no-op
    assert store.tables() == ["alembic_version", "blob", "change", "delivery", "document",
                              "run", "source", "version"]


def test_blobs_are_stored_once_and_compressed(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'b.db'}")
    body = ("国家药监局关于发布细胞治疗产品指导原则的通告 " * 500).encode("utf-8")
    with store.session(write=True) as session:
        first = store.put_blob(session, body)
        second = store.put_blob(session, body)
    assert first == second and store.blob_count() == 1
    with store.session() as session:
        assert store.get_blob(session, first) == body
    db = sqlite3.connect(tmp_path / "b.db")
    stored = db.execute("select length(data), size from blob").fetchone()
    assert stored[0] < stored[1] / 10


def test_a_database_that_cannot_be_opened_is_a_store_error(tmp_path: Path) -> None:
    (tmp_path / "dir.db").mkdir()
    with pytest.raises(StoreError, match="cannot open the database"):
        Store(f"sqlite:///{tmp_path / 'dir.db'}")
    with pytest.raises(StoreError) as error:
        Store("postgresql+psycopg://regwatch:s3cret@127.0.0.1:1/none")
    assert "s3cret" not in str(error.value)


def test_0003_turns_mirror_details_into_the_mirror_of_column(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    engine = create_engine(url)
    config = AlembicConfig()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0002")
    db = sqlite3.connect(tmp_path / "old.db")
    db.execute("insert into source (name, kind, url, jurisdiction, schedule, consecutive_failures,"
               " last_outcome, last_error, health_alerted, healthy_runs, last_record_count,"
               " validators) values ('cde', 'cde', '', 'CN', '', 0, '', '', 0, 1, 5, '{}')")
    for key in ("k1", "k2", "k3"):
        db.execute("insert into document (source_id, key, title, url, jurisdiction, first_seen,"
                   " last_seen, state, missing_runs, record, fingerprint, lineage, status,"
                   " attachments, classification, relevant) values (1, ?, 't', '', 'CN',"
                   " '2026-01-01 00:00:00', '2026-01-01 00:00:00', 'active', 0, '{}', '', '',"
                   " 'final', '{}', '{}', 1)", (key,))
    for document, detail in [(1, ""), (2, "mirror:1"), (3, "mirror:document:1"), (3, "kept")]:
        db.execute("insert into change (source_id, document_id, kind, event, detected_at, title,"
                   " url, jurisdiction, fields_changed, excerpt, detail, classification,"
                   " relevant, cn, eu, us, modalities, doc_type, status) values (1, ?, 'added',"
                   " 'added', '2026-01-01 00:00:00', 't', '', 'CN', '[]', '', ?, '{}', 1, '', '',"
                   " '', '', '', 'final')", (document, detail))
    db.commit()
    db.close()
    engine.dispose()
    Store(url)
    db = sqlite3.connect(tmp_path / "old.db")
    rows = db.execute("select document_id, detail, mirror_of from change order by id").fetchall()
    assert rows == [(1, "", None), (2, "", 1), (3, "", 1), (3, "kept", None)]
