"""New documents are written in bulk (Core executemany; ids by ``RETURNING``
on PostgreSQL, by the rowid range on SQLite): each row gets its own record's
id, first version (implied by the row: ``monitor.store.versions``) and search
entry, exactly what one insert per row and a full
index rebuild give. Real checks on a real local list site and a real SQLite
file; more records than one 500-row chunk."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlmodel import col, select

import monitor.store.bulk
from monitor.config import Config
from monitor.pipeline.check import Pipeline
from monitor.replica.server import ReplicaServer
from monitor.search import SearchFilter, search
from monitor.store import Store
from monitor.store.models import ChangeRow, DocumentRow, VersionRow
from monitor.store.records import record_dict, version_dict
from monitor.store.search import entries, rebuild
from monitor.store.versions import versions_of
from tests.helpers.config import list_config
from tests.sites import Item, ListSite

TITLES = [
    "细胞治疗产品第{}号临床试验技术指导原则",
    "国家药监局关于修订第{}号注射剂说明书的公告",
    "基因治疗产品第{}号药学研究技术指导原则",
]


def items(prefix: str, count: int, day: str) -> list[Item]:
    return [
        Item(f"{prefix}{n:05d}", TITLES[n % 3].format(prefix + str(n)), day) for n in range(count)
    ]


def config(tmp_path: Path, base: str) -> Config:
    return list_config(
        tmp_path,
        base,
        source="attachments = false\ncollapse_ratio = 0",
        http="timeout = 30\nmax_bytes = 50_000_000",
    )


def open_store(cfg: Config, returning: bool, monkeypatch: pytest.MonkeyPatch) -> Store:
    """The store; ``returning=False``: one insert per row (``bulk.one_by_one``,
    the path of a database without sorted ``RETURNING``), the same rows and ids."""
    store = Store(cfg.store.url)
    if not returning:
        monkeypatch.setattr(monitor.store.bulk, "_sqlite_ids", monitor.store.bulk.one_by_one)
        store.engine.dialect.insert_executemany_returning_sort_by_parameter_order = False
    return store


def index_rows(store: Store) -> set[tuple[Any, ...]]:
    columns = [c for c in entries.c if c.name != "id"]
    with store.engine.connect() as connection:
        return {tuple(row) for row in connection.execute(sa.select(*columns))}


@pytest.mark.parametrize("returning", [True, False], ids=["bulk", "one-by-one"])
def test_bulk_written_documents_hold_their_own_records_versions_and_changes(
    tmp_path: Path, returning: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    site = ListSite(items=items("a", 1100, "2026-06-01"))
    with ReplicaServer(site) as server:
        cfg = config(tmp_path, server.url)
        store = open_store(cfg, returning, monkeypatch)
        pipeline = Pipeline(cfg, store)
        source = cfg.sources[0]
        outcomes = [pipeline.check(source).outcome]  # baseline: 1,100 rows in bulk
        gone = site.items.pop(7)
        outcomes += [pipeline.check(source).outcome for _ in range(2)]  # removed
        site.items += [gone, *items("b", 600, "2026-07-01")]  # one listed again, 600 new
        outcomes += [pipeline.check(source).outcome, pipeline.check(source).outcome]
    assert outcomes == ["baseline", "unchanged", "changed", "changed", "unchanged"]

    with store.session() as session:
        docs = session.exec(select(DocumentRow).order_by(col(DocumentRow.id))).all()
        rows = session.exec(select(VersionRow).order_by(col(VersionRow.id))).all()
        shown = {d.id or 0: versions_of(session, d) for d in docs}
        added = session.exec(select(ChangeRow).where(ChangeRow.kind == "added")).all()
    assert len(docs) == 1700 and all(d.state == "active" for d in docs)
    for doc in docs:
        assert record_dict(doc)["key"] == doc.key
        assert doc.lineage and doc.classification != "{}"
    docs_by_id = {d.id or 0: d for d in docs}
    # only the document listed again holds version rows: its first (implied until
    # it came back) and the one it came back with; every other one's row implies it
    relisted = next(d for d in docs if d.title == gone.title)
    assert {v.document_id for v in rows} == {relisted.id} and len(rows) == 2
    assert shown[relisted.id or 0][0].seen_at == relisted.first_seen
    for doc in docs:  # each id's first version holds its record: RETURNING came back in order
        first = shown[doc.id or 0][0]
        assert version_dict(first, doc)["title"] == doc.title
        assert version_dict(first, doc) == record_dict(doc)
        assert len(shown[doc.id or 0]) == (2 if doc is relisted else 1)
    fresh = {d.id for d in docs if "第b" in d.title or d.title == gone.title}
    assert len(added) == 601 and {c.document_id for c in added} == fresh
    assert all(c.title == docs_by_id[c.document_id or 0].title for c in added)


@pytest.mark.parametrize("returning", [True, False], ids=["bulk", "one-by-one"])
def test_bulk_written_index_equals_a_full_rebuild_and_finds_the_new_titles(
    tmp_path: Path, returning: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    site = ListSite(items=items("a", 700, "2026-06-01"))
    with ReplicaServer(site) as server:
        cfg = config(tmp_path, server.url)
        store = open_store(cfg, returning, monkeypatch)
        pipeline = Pipeline(cfg, store)
        source = cfg.sources[0]
        pipeline.check(source)
        site.items += items("b", 520, "2026-07-01")
        assert pipeline.check(source).outcome == "changed"

    written = index_rows(store)
    assert len(written) == 700 + 520 + 520  # documents, and the added changes
    hits = search(store, SearchFilter(query="b519号", kind="document"))
    assert [h["title"] for h in hits] == [TITLES[519 % 3].format("b519")]
    short = {h["title"] for h in search(store, SearchFilter(query="修订", limit=2000))}
    assert len(short) == len([n for n in range(700) if n % 3 == 1]) + len(
        [n for n in range(520) if n % 3 == 1]
    )  # a two-character term: found through the short-gram table
    with store.engine.begin() as connection:
        rebuild(connection)
    assert index_rows(store) == written
    assert [h["title"] for h in search(store, SearchFilter(query="b519号"))] == [
        TITLES[519 % 3].format("b519")
    ]
    assert {h["title"] for h in search(store, SearchFilter(query="修订", limit=2000))} == short
    store.close()
