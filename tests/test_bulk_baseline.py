"""A baseline written in bulk holds exactly what one insert per row writes:
the same document and search-index rows (and no version row: a new
document's row implies its first version) and the same search results,
on SQLite and on PostgreSQL (``REGWATCH_TEST_PG_URL``); and the index entry the
bulk path builds from a record equals the one decoded from its stored row."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import sqlalchemy as sa

import monitor.store.bulk
from monitor.classify import classify
from monitor.config import Config
from monitor.pipeline.check import Pipeline
from monitor.replica.server import ReplicaServer
from monitor.search import SearchFilter, search
from monitor.store import Store
from monitor.store.models import DocumentRow, VersionRow
from monitor.store.records import pack_classification, pack_new
from monitor.store.search import document_entry, entries, new_document_entry
from sources.types import Attachment, Record
from tests.helpers.config import list_config
from tests.helpers.stores import store_url
from tests.sites import Item, ListSite

NOW = datetime(2026, 6, 3, 8, 0, tzinfo=UTC)
TITLES = [
    "细胞治疗产品第{}号临床试验技术指导原则",
    "国家药监局关于修订第{}号注射剂说明书的公告",
    "基因治疗产品第{}号药学研究技术指导原则（征求意见稿）",
    "Guideline {} on CAR-T cell products",
]
QUERIES = ["细胞", "治疗", "征求意见", "CAR-T", "号", "on"]
BACKENDS = ["sqlite", "postgres"]


def site() -> ListSite:
    return ListSite(
        items=[Item(f"a{n:05d}", TITLES[n % 4].format(n), "2026-06-01") for n in range(620)]
    )


def baseline(cfg: Config, url: str, *, bulk: bool = True) -> Store:
    """A baseline of ``cfg``'s source into the store at ``url``; ``bulk=False``:
    one insert per row (``bulk.one_by_one``) for the documents and their index."""
    store = Store(url)
    check = Pipeline(cfg, store, now=lambda: NOW).check
    if bulk:
        assert check(cfg.sources[0]).outcome == "baseline"
        return store
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(monitor.store.bulk, "_sqlite_ids", monitor.store.bulk.one_by_one)
        store.engine.dialect.insert_executemany_returning_sort_by_parameter_order = False
        assert check(cfg.sources[0]).outcome == "baseline"
    return store


def rows(store: Store, *, grams: bool = True) -> dict[str, list[tuple[Any, ...]]]:
    """Every document, version and index row, by id (``grams=False``: what both
    backends hold — without the index's short terms, which SQLite keeps in
    ``search_short``, and a document entry's title, which SQLite reads from the
    document row since migration 0011; ``results`` compares the titles shown)."""
    tables = {
        "document": DocumentRow.__table__,  # type: ignore[attr-defined]
        "version": VersionRow.__table__,  # type: ignore[attr-defined]
        "search_entry": entries,
    }
    found = {}
    with store.engine.connect() as connection:
        for name, table in tables.items():
            columns = [
                c
                for c in table.c
                if grams
                or not (c.name == "grams" or (name == "search_entry" and c.name == "title"))
            ]
            query = sa.select(*columns).order_by(table.c.id)
            found[name] = [tuple(r) for r in connection.execute(query)]
    return found


def results(store: Store) -> dict[str, list[dict[str, Any]]]:
    return {q: search(store, SearchFilter(query=q, limit=1000)) for q in QUERIES}


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_bulk_baseline_writes_the_rows_and_results_of_one_insert_per_row(
    tmp_path: Path, backend: str
) -> None:
    with ReplicaServer(site()) as server:
        cfg = list_config(tmp_path, server.url, source="attachments = false")
        with (
            store_url(tmp_path, backend, "bulk") as bulk_url,
            store_url(tmp_path, backend, "single") as single_url,
        ):
            bulk = baseline(cfg, bulk_url, bulk=True)
            single = baseline(cfg, single_url, bulk=False)
            try:
                written = rows(bulk)
                # no version row: each document's row implies its first (monitor.store.versions)
                assert len(written["document"]) == 620 and written["version"] == []
                assert len(written["search_entry"]) == 620
                assert written == rows(single)
                found = results(bulk)
                assert all(found.values()) and found == results(single)
            finally:
                bulk.close()
                single.close()


def test_sqlite_and_postgresql_baselines_hold_the_same_rows(tmp_path: Path) -> None:
    with ReplicaServer(site()) as server:
        cfg = list_config(tmp_path, server.url, source="attachments = false")
        with (
            store_url(tmp_path, "sqlite", "lite") as lite_url,
            store_url(tmp_path, "postgres", "pg") as pg_url,
        ):
            lite, pg = baseline(cfg, lite_url), baseline(cfg, pg_url)
            try:
                assert rows(lite, grams=False) == rows(pg, grams=False)
                assert results(lite) == results(pg)
            finally:
                lite.close()
                pg.close()


RECORDS = [
    Record(key="k1", title="细胞治疗产品指导原则", url="https://example.org/1.html"),
    Record(
        key="k2",
        title="CAR-T 细胞治疗产品临床试验技术指导原则（征求意见稿）",
        url="https://example.org/2.html",
        date="2026-06-01",
        status="draft",
        attachments=(
            Attachment(url="https://example.org/2.pdf", name="附件1 指导原则"),
            Attachment(url="https://example.org/2.docx", name=""),
        ),
        fields={"docket": "FDA-2026-D-0001", "abstract": "", "doc_number": "2026年第3号"},
    ),
    Record(
        key="k3",
        title="Guideline on gene therapy medicinal products",
        url="https://example.org/3.html",
        fields={"zeta": "last", "alpha": "first"},
    ),
]


@pytest.mark.parametrize("record", RECORDS, ids=[r.key for r in RECORDS])
@pytest.mark.parametrize("text", ["", "附件正文 about AAV vectors"])
def test_the_bulk_index_entry_equals_the_one_read_from_the_stored_row(
    record: Record, text: str
) -> None:
    cls = classify(record.title, text=text or None, status=record.status)
    row = {
        "source_id": 3,
        "key": record.key,
        "title": record.title,
        "url": record.url,
        "jurisdiction": "CN",
        "first_seen": NOW,
        "state": "active",
        "record": pack_new(record),
        "status": cls.status,
        "classification": pack_classification(cls.as_dict()),
        "relevant": cls.relevant,
    }
    stored = document_entry(SimpleNamespace(**row, id=7), text)
    assert new_document_entry(row, 7, record, text) == stored
