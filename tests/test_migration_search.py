"""Migration 0012: a smaller search index per document (a document's entry
names its classification instead of copying its classes; on SQLite kind and
time stored as integers, no FTS5 token-count tables); nothing lost.

A store written by the demo (SQLite) and one written by checks of a changing
list (SQLite and PostgreSQL) go 0012 → 0011 → 0012 → 0011 → 0012. At 0011
every entry holds what the 0011 code wrote (text kind and time, a document's
classes and doc_type copied from its classification) and raw 0011-style
queries find what the search found; at 0012 every search, with every filter,
gives exactly the results it gave before."""

from __future__ import annotations

import io
import json
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console
from sqlalchemy import create_engine, inspect, text

from monitor.demo import run_demo
from monitor.search import SearchFilter, search
from monitor.store import Store
from monitor.store.entry_columns import DOCUMENT_CODE, classes_of, shared_classes
from monitor.store.records import unpack_classification
from tests.helpers.stores import alembic_step
from tests.test_migration_shared import _checked_store

TERMS = ["细胞", "基因治疗", "指导原则", "guidance", "CAR-T", "EU", "效价", "征求意见稿"]
# the terms the raw 0011 queries below look for: three characters or more
RAW_TERMS = ["基因治疗", "指导原则", "guidance", "征求意见稿", "治疗产品"]


def _filters(store: Store) -> list[SearchFilter]:
    """Every term alone, and with each filter over the values the store holds
    (an atmp class in upper case too: SQLite's LIKE ignores ASCII case)."""
    hits = [h for kind in ("document", "change") for h in _all(store, kind)]
    classes = sorted({c for h in hits for c in h["classes"]})
    doc_types = sorted({h["doc_type"] for h in hits if h["doc_type"]})
    statuses = sorted({h["status"] for h in hits if h["status"]})
    assert classes and doc_types and statuses
    since = min(datetime.fromisoformat(h["at"]) for h in hits) + timedelta(microseconds=1)
    found: list[SearchFilter] = []
    for kind in ("document", "change"):
        for term in TERMS:
            found.append(SearchFilter(term, kind=kind, limit=1000))
            found += [SearchFilter(term, kind=kind, atmp=c, limit=1000) for c in classes]
            found.append(SearchFilter(term, kind=kind, atmp=classes[0].upper(), limit=1000))
            found += [SearchFilter(term, kind=kind, doc_type=t, limit=1000) for t in doc_types]
            found += [SearchFilter(term, kind=kind, status=s, limit=1000) for s in statuses]
            found.append(SearchFilter(term, kind=kind, since=since, limit=1000))
            found.append(SearchFilter(term, kind=kind, relevant=True, limit=3))
            found.append(SearchFilter(term, kind=kind, jurisdiction="CN", limit=1000))
    return found


def _all(store: Store, kind: str) -> list[dict[str, Any]]:
    return [h for term in TERMS for h in search(store, SearchFilter(term, kind=kind, limit=1000))]


def _results(store: Store, filters: list[SearchFilter]) -> list[list[dict[str, Any]]]:
    return [search(store, flt) for flt in filters]


def _entries(url: str) -> list[tuple[Any, ...]]:
    """Every entry as stored, without its id, in (kind, ref_id) order."""
    engine = create_engine(url)
    with engine.connect() as connection:
        columns = [c["name"] for c in inspect(connection).get_columns("search_entry")]
        chosen = ", ".join(c for c in columns if c != "id")
        rows = connection.execute(
            text(f"SELECT {chosen} FROM search_entry ORDER BY kind, ref_id")
        ).all()
    engine.dispose()
    return [tuple(r) for r in rows]


def _check_0011(url: str) -> None:
    """What the 0011 code wrote: a text kind, each document's classes and
    doc_type from its classification; no classification_id column."""
    engine = create_engine(url)
    with engine.connect() as connection:
        assert "classification_id" not in {
            c["name"] for c in inspect(connection).get_columns("search_entry")
        }
        rows = connection.execute(
            text(
                "SELECT e.kind, e.classes, e.doc_type, c.packed FROM search_entry e"
                " LEFT JOIN document d ON e.kind = 'document' AND d.id = e.ref_id"
                " LEFT JOIN classification c ON c.id = d.classification_id"
            )
        ).all()
        changes = connection.execute(
            text(
                "SELECT e.classes, e.doc_type, ch.classification, ch.doc_type FROM search_entry e"
                " JOIN change ch ON e.kind = 'change' AND ch.id = e.ref_id"
            )
        ).all()
    engine.dispose()
    assert {r.kind for r in rows} == {"document", "change"}
    for row in rows:
        if row.kind == "document":
            cls = unpack_classification(row.packed)
            assert row.classes == classes_of_packed(row.packed)
            assert row.doc_type == str(cls.get("doc_type") or "")
    for row in changes:
        assert row[0] == classes_of(row[2]) and row[1] == (row[3] or "")


def classes_of_packed(packed: str | None) -> str:
    """The ``,key,`` list of a document's stored classification."""
    return classes_of(json.dumps(unpack_classification(packed)))


def _raw_0011(url: str) -> dict[tuple[str, str, str], list[tuple[str, int]]]:
    """(term, kind, atmp filter) → the (kind, ref_id) of the newest hits, found
    as the 0011 code found them: the trigram index (SQLite) or ILIKE (PostgreSQL)
    and a LIKE on the entry's own classes (every class stored, and none)."""
    engine = create_engine(url)
    sqlite = engine.dialect.name == "sqlite"
    found = {}
    with engine.connect() as connection:
        stored = connection.execute(text("SELECT classes FROM search_entry")).scalars()
        keys = sorted({k for classes in stored for k in classes.split(",") if k})
        # in upper case too: SQLite's LIKE ignores ASCII case, PostgreSQL's does not
        atmps = ["", *keys, keys[0].upper()]
        for term in RAW_TERMS:
            for kind in ("document", "change"):
                for atmp in atmps:
                    matched = (
                        "e.id IN (SELECT rowid FROM search_fts WHERE search_fts MATCH :phrase)"
                        if sqlite
                        else "(e.title || ' ' || e.body) ILIKE :like"
                    )
                    rows = connection.execute(
                        text(
                            f"SELECT e.kind, e.ref_id FROM search_entry e WHERE e.kind = :kind"
                            f" AND {matched} AND e.classes LIKE :classes"
                            " ORDER BY e.at DESC, e.ref_id DESC"
                        ),
                        {
                            "kind": kind,
                            "phrase": f'"{term}"',
                            "like": f"%{term}%",
                            "classes": f"%,{atmp},%" if atmp else "%",
                        },
                    ).all()
                    found[(term, kind, atmp)] = [tuple(r) for r in rows]
    engine.dispose()
    return found


def _searched(store: Store, keys: list[tuple[str, str, str]]) -> dict[Any, list[tuple[str, int]]]:
    return {
        (term, kind, atmp): [
            (h["kind"], h["id"])
            for h in search(store, SearchFilter(term, kind=kind, atmp=atmp or None, limit=10_000))
        ]
        for term, kind, atmp in keys
    }


def _assert_round_trips(url: str, store: Store) -> None:
    filters = _filters(store)
    before, stored = _results(store, filters), _entries(url)
    store.close()
    down: list[tuple[Any, ...]] | None = None
    for _ in range(2):
        alembic_step(url, "0011", down=True)
        _check_0011(url)
        if down is None:
            down = _entries(url)
        assert _entries(url) == down
        raw = _raw_0011(url)
        assert any(raw.values())
        again = Store(url)  # upgrades to head on open
        assert _entries(url) == stored
        assert _results(again, filters) == before
        assert _searched(again, list(raw)) == raw
        again.close()


def test_0012_demo_store_down_to_0011_and_back_twice_loses_nothing(tmp_path: Path) -> None:
    run_demo(keep=str(tmp_path / "kept"), console=Console(file=io.StringIO()))
    (db,) = (tmp_path / "kept").glob("*.db")
    url = f"sqlite:///{db}"
    _assert_round_trips(url, Store(url))


def test_0012_checked_store_down_to_0011_and_back_twice_loses_nothing(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'regwatch.db'}"
    _assert_round_trips(url, _checked_store(tmp_path, url))


@pytest.mark.postgres
def test_0012_on_postgres_down_to_0011_and_back_twice_loses_nothing(
    pg_url: str, tmp_path: Path
) -> None:
    _assert_round_trips(pg_url, _checked_store(tmp_path, pg_url))


def test_a_document_entry_stores_neither_its_classes_nor_text_kinds_and_times(
    tmp_path: Path,
) -> None:
    """What 0012 stores for a document on SQLite: its classification's id, no
    classes or doc_type text, kind and time as integers; no token-count tables.
    Its search hit still shows the classification's classes and doc_type."""
    url = f"sqlite:///{tmp_path / 'regwatch.db'}"
    store = _checked_store(tmp_path, url)
    hit = search(store, SearchFilter("细胞治疗产品"))[0]
    with store.session() as session:
        shared = shared_classes(session.connection())
    store.close()
    db = sqlite3.connect(tmp_path / "regwatch.db")
    rows = db.execute(
        "SELECT typeof(kind), typeof(at), classes, doc_type, classification_id, at"
        " FROM search_entry WHERE kind = ? AND ref_id = ?",
        (DOCUMENT_CODE, hit["id"]),
    ).fetchall()
    tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master")}
    db.close()
    ((kind, at_type, classes, doc_type, key, at),) = rows
    assert (kind, at_type, classes, doc_type) == ("integer", "integer", "", "")
    assert hit["classes"] and ",".join(hit["classes"]) == shared[key][0].strip(",")
    assert hit["doc_type"] == shared[key][1]
    shown = datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=at)
    assert hit["at"] == shown.isoformat()
    assert not {"search_fts_docsize", "search_short_docsize"} & tables
    assert "ix_search_entry_source" not in tables
