"""Migration 0008: a store made by the previous head (0006) gets ``change.jp``
filled from each change's stored classification, and ``--atmp`` on a Japanese
class filters on that column (history) and on the search index's classes."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from alembic import command
from alembic.config import Config as AlembicConfig
from sqlalchemy import create_engine, text

from monitor.history import ChangeFilter, list_changes
from monitor.search import SearchFilter, search
from monitor.store import Store
from monitor.store.db import MIGRATIONS
from monitor.store.search import rebuild

CAR_T = {
    "relevant": True,
    "modalities": ["car_t"],
    "cn": ["cell_therapy"],
    "eu": ["gtmp"],
    "us": ["cellular_gene_therapy"],
    "jp": ["human_cell_processed"],
    "scope": "cgt",
}
AAV = {**CAR_T, "modalities": ["aav"], "jp": ["gene_therapy"]}
NONE = {"relevant": False, "scope": "none"}


def old_store(tmp_path: Path) -> str:
    """A database at revision 0006 holding three changes (and their documents)."""
    url = f"sqlite:///{tmp_path / 'old.db'}"
    engine = create_engine(url)
    config = AlembicConfig()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0006")
    engine.dispose()
    db = sqlite3.connect(tmp_path / "old.db")
    db.execute(
        "insert into source (name, kind, url, jurisdiction, schedule, consecutive_failures,"
        " last_outcome, last_error, health_alerted, healthy_runs, last_record_count,"
        " validators) values ('pmda', 'rss', '', 'JP', '', 0, '', '', 0, 1, 3, '{}')"
    )
    titles = ["CAR-T細胞の品質に関する通知", "AAVベクター製品の指針", "医薬品の添付文書"]
    for n, (title, cls) in enumerate(zip(titles, [CAR_T, AAV, NONE], strict=True), start=1):
        stored = json.dumps(cls, ensure_ascii=False)
        db.execute(
            "insert into document (source_id, key, title, url, jurisdiction, first_seen,"
            " last_seen, state, missing_runs, record, fingerprint, lineage, status,"
            " attachments, classification, relevant) values (1, ?, ?, '', 'JP',"
            " '2026-01-01 00:00:00.000000', '2026-01-01 00:00:00.000000', 'active', 0,"
            " '{}', '', '', 'final', '{}', ?, ?)",
            (f"k{n}", title, stored, cls["relevant"]),
        )
        db.execute(
            "insert into change (source_id, document_id, kind, event, detected_at, title,"
            " url, jurisdiction, fields_changed, excerpt, detail, classification,"
            " relevant, cn, eu, us, modalities, doc_type, status) values (1, ?, 'added',"
            " 'added', '2026-01-01 00:00:00.000000', ?, '', 'JP', '[]', '', '', ?, ?, '',"
            " '', '', '', '', 'final')",
            (n, title, stored, cls["relevant"]),
        )
    db.commit()
    db.close()
    engine = create_engine(url)
    with engine.begin() as connection:  # the 0006 index, whose classes had no jp keys
        rebuild(connection)
        connection.execute(text("update search_entry set classes = ''"))
    engine.dispose()
    return url


def test_0008_fills_the_jp_column_from_the_stored_classification(tmp_path: Path) -> None:
    url = old_store(tmp_path)
    store = Store(url)  # upgrades to head
    db = sqlite3.connect(tmp_path / "old.db")
    rows = db.execute("select title, jp from change order by id").fetchall()
    db.close()
    assert rows == [
        ("CAR-T細胞の品質に関する通知", ",human_cell_processed,"),
        ("AAVベクター製品の指針", ",gene_therapy,"),
        ("医薬品の添付文書", ""),
    ]
    hcp = list_changes(store, ChangeFilter(atmp="human_cell_processed"))
    assert [c["title"] for c in hcp] == ["CAR-T細胞の品質に関する通知"]
    assert hcp[0]["jp"] == ["human_cell_processed"]
    # the old rows' cn / us columns are empty here: the jp column alone matches
    assert [c["title"] for c in list_changes(store, ChangeFilter(atmp="gene_therapy"))] == [
        "AAVベクター製品の指針"
    ]
    found = search(store, SearchFilter("CAR", atmp="human_cell_processed"))
    assert [hit["title"] for hit in found] == ["CAR-T細胞の品質に関する通知"]
