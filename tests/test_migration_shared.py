"""Migration 0011: classifications shared by id, lineages and versions without
what their document already holds, the unread fingerprint dropped; nothing
lost.

A store written by the demo (SQLite) and one written by checks of a changing
list (SQLite and PostgreSQL: drafts finalised, titles revised, items removed
and listed again) go 0011 → 0010 → 0011 → 0010 → 0011. At 0010 every row
holds what the 0010 code wrote; at 0011 every row is byte for byte what it was,
and the history, the change details, the version diffs, the search results
and the web pages are identical at every step."""

from __future__ import annotations

import io
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console
from sqlalchemy import create_engine, inspect, text
from sqlmodel import col, select

from diffing.normalise import fingerprint
from monitor.demo import run_demo
from monitor.errors import StoreError
from monitor.history import diff_versions
from monitor.pipeline.check import Pipeline
from monitor.pipeline.lineage import stem
from monitor.replica.server import ReplicaServer
from monitor.store import Store
from monitor.store.compact import classification_id
from monitor.store.entry_columns import DOCUMENT_CODE
from monitor.store.models import ClassificationRow, DocumentRow, VersionRow
from monitor.store.records import (
    classification_dict,
    classification_key,
    pack_classification,
    pack_record,
    version_dict,
)
from sources.types import Attachment, Record
from tests.helpers.config import list_config
from tests.helpers.stores import alembic_step
from tests.sites import Item, ListSite
from tests.test_migration_compact import _shown


def _raw(url: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every stored column of documents and versions, and the classifications."""
    engine = create_engine(url)
    with engine.connect() as connection:
        tables = set(inspect(connection).get_table_names())
        shared = "classification" in tables
        rows = {
            "document": [
                tuple(r) for r in connection.execute(text("SELECT * FROM document ORDER BY id"))
            ],
            "version": [
                tuple(r)
                for r in connection.execute(text("SELECT * FROM version ORDER BY document_id, id"))
            ],
            # the texts documents hold (one no document holds any more is no fact)
            "classification": [
                tuple(r)
                for r in connection.execute(
                    text(
                        "SELECT id, packed FROM classification WHERE id IN"
                        " (SELECT classification_id FROM document) ORDER BY id"
                    )
                )
            ]
            if shared
            else [],
        }
    engine.dispose()
    return rows


def _at_0010(url: str) -> list[Any]:
    engine = create_engine(url)
    with engine.connect() as connection:
        rows = connection.execute(
            text(
                "SELECT d.id, d.key, d.title, d.url, d.record, d.classification, d.fingerprint,"
                " d.lineage FROM document d ORDER BY d.id"
            )
        ).all()
        versions = connection.execute(
            text("SELECT v.record FROM version v ORDER BY v.document_id, v.id")
        ).all()
    engine.dispose()
    return [*rows, *versions]


def _record(data: dict[str, Any]) -> Record:
    return Record(
        key=data["key"],
        title=data["title"],
        url=data["url"],
        date=data["date"],
        status=data["status"],
        attachments=tuple(Attachment(a["url"], a.get("name") or "") for a in data["attachments"]),
        fields=data["fields"],
    )


def _check_0010(url: str, before: dict[str, Any]) -> None:
    """What the 0010 code wrote: full classification JSON packed, the lineage
    itself, the fingerprint of the record, a version's own title and URL."""
    rows = _at_0010(url)
    docs = rows[: len(before["records"])]
    versions = rows[len(before["records"]) :]
    for row, (record, cls) in zip(docs, before["records"], strict=True):
        assert row.classification == (pack_classification(cls) if cls else "{}")
        assert row.lineage == stem(row.title)
        assert row.fingerprint == fingerprint(_record(record))[:32]
    for (packed,), full in zip(versions, before["versions"], strict=True):
        assert packed == (pack_record(full, key=full["key"]) if full else "{}")


def _assert_round_trips(url: str, store: Store) -> None:
    before, stored = _shown(store), _raw(url)
    store.close()
    assert stored["classification"] and len(stored["classification"]) < len(stored["document"])
    assert all(row_cls == "" for row_cls in _column(url, "classification"))
    down: dict[str, list[tuple[Any, ...]]] | None = None
    for _ in range(2):
        alembic_step(url, "0010", down=True)
        _check_0010(url, before)
        if down is None:
            down = _raw(url)
        assert _without_version_ids(_raw(url)) == _without_version_ids(down)
        again = Store(url)  # upgrades to head on open
        assert _raw(url) == stored
        assert _shown(again) == before
        again.close()


def _without_version_ids(raw: dict[str, list[tuple[Any, ...]]]) -> dict[str, Any]:
    """``raw`` but the versions' ids: a first version that 0013's downgrade writes
    back takes a new one each time (on PostgreSQL, the sequence's next)."""
    return {**raw, "version": [row[1:] for row in raw["version"]]}


def _column(url: str, name: str) -> list[Any]:
    engine = create_engine(url)
    with engine.connect() as connection:
        values = [r[0] for r in connection.execute(text(f"SELECT {name} FROM document"))]
    engine.dispose()
    return values


def test_0011_demo_store_down_to_0010_and_back_twice_loses_nothing(tmp_path: Path) -> None:
    run_demo(keep=str(tmp_path / "kept"), console=Console(file=io.StringIO()))
    (db,) = (tmp_path / "kept").glob("*.db")
    url = f"sqlite:///{db}"
    _assert_round_trips(url, Store(url))


TITLES = [
    "细胞治疗产品药学研究技术指导原则（征求意见稿）",
    "基因治疗产品长期随访指导原则",
    "国家药监局关于发布化学药品第2号药品注册技术指导原则的通告",
    "片剂",
]


def _checked_store(tmp_path: Path, url: str) -> Store:
    """A store written by five checks of a list that changes between them:
    a draft finalised, titles revised (twice for one), an item removed and
    listed again, items added."""
    site = ListSite(items=[Item(f"p{n}", t, "2026-06-01") for n, t in enumerate(TITLES * 3)])
    with ReplicaServer(site) as server:
        config = list_config(tmp_path, server.url, source="attachments = false")
        store = Store(url)
        pipeline = Pipeline(config, store)
        pipeline.check(config.sources[0])
        site.items[0] = Item("p0", "细胞治疗产品药学研究技术指导原则", "2026-07-01")  # finalised
        site.items[5] = Item("p5", site.items[5].title + "（修订）", "2026-07-02")
        removed = site.items.pop(3)
        site.items.append(Item("p12", "溶瘤病毒产品指导原则（征求意见稿）", "2026-07-03"))
        pipeline.check(config.sources[0])
        site.items[4] = Item("p5", site.items[4].title + "（第二次修订）", "2026-07-04")
        pipeline.check(config.sources[0])
        site.items.append(removed)  # listed again
        pipeline.check(config.sources[0])
        site.items[1] = Item("p1", site.items[1].title, "2026-08-01")  # only the date
        pipeline.check(config.sources[0])
    return store


def test_0011_checked_store_down_to_0010_and_back_twice_loses_nothing(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'regwatch.db'}"
    store = _checked_store(tmp_path, url)
    with store.session() as session:
        docs = {d.url.rsplit("/", 1)[-1]: d for d in session.exec(select(DocumentRow))}
        versions = session.exec(select(VersionRow).order_by(col(VersionRow.id))).all()
    # a retitled document's versions keep the titles they had
    titles = [
        version_dict(v, docs["p5.html"])["title"]
        for v in versions
        if v.document_id == docs["p5.html"].id
    ]
    assert titles == [TITLES[1], TITLES[1] + "（修订）", TITLES[1] + "（修订）（第二次修订）"]
    assert "（第二次修订）" in diff_versions(store, docs["p5.html"].id or 0).unified()
    # the lineage reads as it was written: the title, or its stem where they differ
    assert all(d.lineage == stem(d.title) for d in docs.values())
    assert {d.lineage == d.title for d in docs.values()} == {True, False}
    _assert_round_trips(url, store)


def test_a_classification_is_stored_once_and_read_back_whole(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'regwatch.db'}"
    store = _checked_store(tmp_path, url)
    with store.session() as session:
        docs = session.exec(select(DocumentRow)).all()
        shared = session.exec(select(ClassificationRow)).all()
    stored = _raw(url)["document"]
    assert len(shared) < len(docs) / 2
    assert {row.id for row in shared} == {classification_key(row.packed) for row in shared}
    for doc in docs:
        assert doc.classification == next(
            row.packed for row in shared if row.id == doc.classification_id
        )
        assert classification_dict(doc)["status"] in {"draft", "final", "unknown"}
    # the columns themselves hold no copy
    assert _column(url, "classification") == [""] * len(stored)
    assert sum(1 for v in _column(url, "lineage") if v) < len(stored)
    store.close()


def test_a_classification_id_taken_by_another_text_is_refused(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'regwatch.db'}")
    text_a = '{"relevant":false}'
    with store.session(write=True) as session:
        session.add(ClassificationRow(id=classification_key(text_a), packed='{"relevant":true}'))
    with pytest.raises(StoreError, match="share the id"), store.session() as session:
        classification_id(session.connection(), text_a)
    store.close()


def test_a_rolled_back_classification_is_written_again(tmp_path: Path) -> None:
    """The ids known written are forgotten with the transaction that wrote them."""
    store = Store(f"sqlite:///{tmp_path / 'regwatch.db'}")
    packed = '{"relevant":true,"cn":["gene_therapy"]}'
    with pytest.raises(RuntimeError), store.session(write=True) as session:
        classification_id(session.connection(), packed)
        raise RuntimeError("abandoned")
    with store.session(write=True) as session:
        key = classification_id(session.connection(), packed)
    with store.session() as session:
        assert session.get(ClassificationRow, key) is not None
    store.close()


@pytest.mark.postgres
def test_0011_on_postgres_down_to_0010_and_back_twice_loses_nothing(
    pg_url: str, tmp_path: Path
) -> None:
    store = _checked_store(tmp_path, pg_url)  # the config's SQLite file is never opened
    _assert_round_trips(pg_url, store)


def test_a_store_upgraded_to_0011_gives_the_freed_pages_back(tmp_path: Path) -> None:
    """SQLite keeps the pages the upgrade emptied in the file: opening a store
    written before 0011 vacuums it once after the upgrade."""
    url = f"sqlite:///{tmp_path / 'regwatch.db'}"
    titles = [f"国家药监局关于发布细胞治疗产品第{n}号技术指导原则的通告" for n in range(400)]
    site = ListSite(items=[Item(f"p{n}", t, "2026-06-01") for n, t in enumerate(titles)])
    with ReplicaServer(site) as server:
        config = list_config(tmp_path, server.url, source="attachments = false")
        store = Store(url)
        Pipeline(config, store).check(config.sources[0])
        store.close()
    alembic_step(url, "0010", down=True)
    db = sqlite3.connect(tmp_path / "regwatch.db")
    db.execute("VACUUM")
    pages = db.execute("PRAGMA page_count").fetchone()[0]
    db.close()
    alembic_step(url, "0011")  # without the store: the file keeps its pages, half empty
    db = sqlite3.connect(tmp_path / "regwatch.db")
    assert db.execute("PRAGMA page_count").fetchone()[0] >= pages
    db.close()
    alembic_step(url, "0010", down=True)
    Store(url).close()
    db = sqlite3.connect(tmp_path / "regwatch.db")
    assert db.execute("PRAGMA freelist_count").fetchone()[0] == 0
    assert db.execute("PRAGMA page_count").fetchone()[0] < pages * 0.8
    db.close()


def _index_terms(path: Path) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """(every token the trigram index holds, every token of an index built
    afresh from what the entries read as): equal when no update or delete ever
    handed the index a title it did not hold."""
    db = sqlite3.connect(path)
    db.execute("CREATE VIRTUAL TABLE temp.held USING fts5vocab(main, search_fts, 'instance')")
    db.execute("CREATE VIRTUAL TABLE temp.fresh USING fts5(title, body, tokenize='trigram')")
    db.execute(
        "INSERT INTO temp.fresh(rowid, title, body) SELECT e.id, CASE WHEN e.title = ''"
        f" AND e.kind IN ({DOCUMENT_CODE}, 'document') THEN (SELECT d.title FROM document d WHERE d.id = e.ref_id)"
        " ELSE e.title END, e.body FROM search_entry e"
    )
    db.execute("CREATE VIRTUAL TABLE temp.built USING fts5vocab(temp, fresh, 'instance')")
    held = db.execute("SELECT * FROM temp.held ORDER BY 1, 2, 3, 4").fetchall()
    built = db.execute("SELECT * FROM temp.built ORDER BY 1, 2, 3, 4").fetchall()
    db.close()
    return held, built


def test_the_search_index_holds_what_its_entries_read_as(tmp_path: Path) -> None:
    """A document's entry on SQLite leaves its title to the document row; after
    titles revised, documents removed and listed again, and the migration both
    ways, the trigram index holds exactly the tokens of what the entries read as."""
    url = f"sqlite:///{tmp_path / 'regwatch.db'}"
    _checked_store(tmp_path, url).close()
    db = sqlite3.connect(tmp_path / "regwatch.db")
    blank = db.execute(
        f"SELECT count(*) FROM search_entry WHERE kind = {DOCUMENT_CODE} AND title = ''"
    ).fetchone()[0]
    documents = db.execute("SELECT count(*) FROM document").fetchone()[0]
    db.close()
    assert blank == documents
    held, built = _index_terms(tmp_path / "regwatch.db")
    assert held == built and any("第二次" in row[0] for row in held)
    alembic_step(url, "0010", down=True)
    assert _index_terms(tmp_path / "regwatch.db") == (held, held)
    Store(url).close()
    # 0012 makes the index afresh: the same tokens, of entries numbered anew
    again, built = _index_terms(tmp_path / "regwatch.db")
    assert again == built and _tokens(again) == _tokens(held)


def _tokens(instances: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    """(term, column, offset) of every token an fts5vocab 'instance' table lists,
    whichever entry holds it."""
    return sorted((term, column, offset) for term, _entry, column, offset in instances)
