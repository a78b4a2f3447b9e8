"""Migration 0010: records and classifications stored compactly, nothing lost.

A store written by the demo (SQLite) or by a few checks (PostgreSQL) is taken
down to 0009, where every row must hold exactly the JSON the 0009 code wrote
(``json.dumps(Record.as_dict(), ensure_ascii=False)``); then up again, where
every row must be byte for byte what the new code wrote, and the history, the
change details, the version diffs, the search results and the web pages byte
for byte what they were."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, inspect, text
from sqlmodel import col, select

from monitor.errors import NotFound
from monitor.history import ChangeFilter, diff_versions, get_change, list_changes
from monitor.pipeline.check import Pipeline
from monitor.replica.server import ReplicaServer
from monitor.search import SearchFilter, search
from monitor.store import Store
from monitor.store.models import DocumentRow
from monitor.store.records import (
    classification_dict,
    lineage_key,
    pack_classification,
    pack_new,
    pack_record,
    pack_version,
    record_dict,
    unpack_classification,
    unpack_record,
    version_dict,
)
from monitor.store.versions import versions_of
from monitor.web.views import Views
from tests.helpers.config import list_config
from tests.helpers.demo import DemoRun
from tests.helpers.stores import alembic_step
from tests.sites import Item, ListSite

TERMS = ["基因治疗", "细胞", "guidance", "CAR-T", "EU", "效价", "指导原则"]


def _rows(url: str) -> dict[str, list[tuple[Any, ...]]]:
    engine = create_engine(url)
    with engine.connect() as connection:
        # migration 0011 dropped the fingerprint column (nothing read it)
        columns = {c["name"] for c in inspect(connection).get_columns("document")}
        printed = "fingerprint" if "fingerprint" in columns else "NULL"
        rows = {
            "document": [
                tuple(r)
                for r in connection.execute(
                    text(f"SELECT id, record, classification, {printed} FROM document ORDER BY id")
                )
            ],
            # by document: a first version written back by 0013's downgrade has a new id
            "version": [
                tuple(r)
                for r in connection.execute(
                    text("SELECT id, record FROM version ORDER BY document_id, id")
                )
            ],
        }
    engine.dispose()
    return rows


def _shown(store: Store) -> dict[str, Any]:
    """What the CLI, the web UI and the search show of the whole store."""
    changes = list_changes(store, ChangeFilter(limit=10_000))
    views = Views(store)
    shown: dict[str, Any] = {
        "changes": changes,
        "details": [get_change(store, c["id"]) for c in changes],
        "search": {t: search(store, SearchFilter(t)) for t in TERMS},
        "change_pages": [views.change(c["id"], root="/") for c in changes],
    }
    with store.session() as session:
        docs = session.exec(select(DocumentRow).order_by(col(DocumentRow.id))).all()
        # every version as the readers take them (a first one implied by its row
        # since 0013), by document
        versions = {d.id or 0: versions_of(session, d) for d in docs}
    shown["records"] = [(record_dict(d), classification_dict(d)) for d in docs]
    shown["versions"] = [version_dict(v, d) for d in docs for v in versions[d.id or 0]]
    shown["diffs"], shown["pages"] = [], []
    # the pages of every document with a history, and of a few without
    for doc in [d for d in docs if len(versions[d.id or 0]) > 1] + list(docs[:10]):
        try:
            shown["diffs"].append(diff_versions(store, doc.id or 0).unified())
        except NotFound as exc:
            shown["diffs"].append(exc.message)
        shown["pages"].append(views.document(doc.id or 0, None, None, full=True, root="/"))
    return shown


def _assert_roundtrip(url: str, store: Store) -> None:
    before, rows = _shown(store), _rows(url)
    assert len(rows["document"]) > 5 and len(before["versions"]) > len(rows["document"])
    store.close()
    alembic_step(url, "0009", down=True)
    old = _rows(url)
    for (_id, record, cls, print_), full, (_i, packed, _c, _f) in zip(
        old["document"], before["records"], rows["document"], strict=True
    ):
        assert record == json.dumps(full[0], ensure_ascii=False)  # what 0009 wrote
        assert cls == (json.dumps(full[1], ensure_ascii=False) if full[1] else "{}")
        assert len(print_) == 32 and json.loads(record) != json.loads(packed)
    for (_id, record), full in zip(old["version"], before["versions"], strict=True):
        assert record == json.dumps(full, ensure_ascii=False)
    again = Store(url)  # upgrades to head on open
    assert _rows(url) == rows
    assert _shown(again) == before
    again.close()


def test_0010_demo_store_down_to_0009_and_back_loses_nothing(
    demo_run: DemoRun, tmp_path: Path
) -> None:
    url = f"sqlite:///{demo_run.copy_store(tmp_path)}"
    _assert_roundtrip(url, Store(url))


def test_0010_packs_an_old_store_and_reads_back_its_dictionaries(tmp_path: Path) -> None:
    """Rows written by hand at 0009 (full JSON, and the odd ones: an empty
    record, a classification from before ``scope``, text that is not JSON)."""
    url = f"sqlite:///{tmp_path / 'old.db'}"
    alembic_step(url, "0009")
    record = {
        "key": "k1",
        "title": "细胞治疗产品指导原则",
        "url": "https://x/1",
        "date": "2026-01-02",
        "status": None,
        "attachments": [{"url": "https://x/1.pdf", "name": ""}],
        "fields": {"doc_number": "2026年第1号"},
    }
    cls = {"relevant": True, "modalities": [], "cn": ["cell_therapy"], "doc_type": "guideline"}
    db = sqlite3.connect(tmp_path / "old.db")
    db.execute(
        "insert into source (name, kind, url, jurisdiction, schedule, consecutive_failures,"
        " last_outcome, last_error, health_alerted, healthy_runs, last_record_count,"
        " validators) values ('cde', 'cde', '', 'CN', '', 0, '', '', 0, 1, 1, '{}')"
    )
    for n, (rec, stored) in enumerate(
        [(json.dumps(record, ensure_ascii=False), json.dumps(cls)), ("{}", "{}"), ("x", "y")], 1
    ):
        db.execute(
            "insert into document (source_id, key, title, url, jurisdiction, first_seen,"
            " last_seen, state, missing_runs, record, fingerprint, lineage, status,"
            " attachments, classification, relevant, read_pending) values (1, ?, ?, ?, 'CN',"
            " '2026-01-01 00:00:00.000000', '2026-01-01 00:00:00.000000', 'active', 0,"
            " ?, ?, ?, 'final', '{}', ?, 1, 0)",
            (f"k{n}", record["title"], record["url"], rec, "ab" * 32, f"stem{n % 2}", stored),
        )
        db.execute(
            "insert into version (document_id, seen_at, record, attachments) values"
            " (?, '2026-01-01 00:00:00.000000', ?, '{}')",
            (n, rec),
        )
    db.commit()
    db.close()
    store = Store(url)
    with store.session() as session:
        docs = session.exec(select(DocumentRow).order_by(col(DocumentRow.id))).all()
        # the first document's only version reads as its row: implied since 0013
        versions = [v for d in docs for v in versions_of(session, d)]
    assert versions[0].id is None and [v.id for v in versions[1:]] == [2, 3]
    assert record_dict(docs[0]) == record and version_dict(versions[0], docs[0]) == record
    assert docs[0].record == '{"date":"2026-01-02","attachments":[{"url":"https://x/1.pdf"}],' + (
        '"fields":{"doc_number":"2026年第1号"}}'
    )
    assert (
        docs[0].classification == '{"relevant":true,"cn":["cell_therapy"],"doc_type":"guideline"}'
    )
    restored = classification_dict(docs[0])
    assert {k: restored[k] for k in cls} == cls and restored["scope"] == "cgt"
    assert restored["status"] == "unknown" and restored["jp"] == []
    # the lineage is looked up by its key, through the key's index
    assert docs[0].lineage_key == docs[2].lineage_key == lineage_key("stem1") is not None
    assert docs[1].lineage_key == lineage_key("stem0") != docs[0].lineage_key
    db = sqlite3.connect(tmp_path / "old.db")
    plan = db.execute(
        "EXPLAIN QUERY PLAN SELECT * FROM document WHERE lineage_key IN (?, ?)"
        " AND state != 'removed' ORDER BY id",
        (1, 2),
    ).fetchall()
    indexes = {r[1] for r in db.execute("PRAGMA index_list(document)")}
    db.close()
    assert "ix_document_lineage_key" in str(plan)
    assert {"ix_document_lineage", "ix_document_source_id"}.isdisjoint(indexes)
    assert (docs[1].record, docs[1].classification, version_dict(versions[1], docs[1])) == (
        "{}",
        "{}",
        {},
    )
    assert (docs[2].record, docs[2].classification, versions[2].record) == ("x", "y", "x")


def test_packing_keeps_what_differs_from_the_columns_and_the_defaults() -> None:
    record = {"key": "k", "title": "T", "url": "u", "date": None, "status": "Draft"}
    packed = pack_record(record, key="k", title="other", url="u")
    assert packed == '{"title":"T","status":"Draft"}'
    assert unpack_record(packed, key="k", title="other", url="u") == {
        **record,
        "attachments": [],
        "fields": {},
    }
    # an all-default classification still says it was classified
    empty = {"relevant": False, "scope": "none", "doc_type": "other", "status": "unknown"}
    assert pack_classification(empty) == '{"relevant":false}'
    assert unpack_classification('{"relevant":false}')["scope"] == "none"
    # scope is kept when it is not what its absence reads as
    assert pack_classification({"relevant": True, "scope": "none"}) == (
        '{"relevant":true,"scope":"none"}'
    )


@pytest.mark.postgres
def test_0010_on_postgres_down_to_0009_and_back_loses_nothing(pg_url: str, tmp_path: Path) -> None:
    titles = [
        "细胞治疗产品药学研究技术指导原则（征求意见稿）",
        "基因治疗产品长期随访指导原则",
        "片剂",
    ]
    site = ListSite(items=[Item(f"p{n}", t, "2026-06-01") for n, t in enumerate(titles * 3)])
    with ReplicaServer(site) as server:
        config = list_config(tmp_path, server.url, source="attachments = false")
        store = Store(pg_url)  # the config's SQLite file is never opened
        pipeline = Pipeline(config, store)
        pipeline.check(config.sources[0])
        site.items[0] = Item("p0", "细胞治疗产品药学研究技术指导原则", "2026-07-01")  # finalised
        site.items[4] = Item("p4", site.items[4].title + "（修订）", "2026-07-02")
        site.items.append(Item("p9", "溶瘤病毒产品指导原则（征求意见稿）", "2026-07-03"))
        pipeline.check(config.sources[0])
    _assert_roundtrip(pg_url, store)


def test_the_write_path_packs_as_pack_record_does() -> None:
    from sources.types import Attachment, Record

    records = [
        Record("k", "T", "u"),
        Record(
            "k",
            "细胞治疗",
            "https://x/1",
            date="2026-01-02",
            status="Draft",
            attachments=(Attachment("https://x/a.pdf"), Attachment("https://x/b.pdf", "附件")),
            fields={"z": "1", "doc_number": "2026年第1号"},
        ),
    ]
    for record in records:
        data = record.as_dict()
        assert pack_new(record) == pack_record(data, key="k", title=record.title, url=record.url)
        # a first version leaves out its document's title and URL (migration 0011)
        packed = pack_new(record, version=True)
        assert packed == pack_version(data, key="k", title=record.title, url=record.url)
        assert unpack_record(packed, key="k", title=record.title, url=record.url) == data


def test_the_store_reads_classifications_in_the_classify_field_order() -> None:
    # monitor.store may not import monitor.classify (the layers), so the store keeps
    # its own list; this keeps the two in step when a field is added
    from monitor.classify import classify
    from monitor.store import records
    from tests.helpers.taxonomy import CLASSIFY_FIELDS

    assert list(records._CLASS_ORDER) == [f for f in CLASSIFY_FIELDS if f != "text"]
    full = classify("关于发布嵌合抗原受体T细胞治疗产品药学研究技术指导原则的通告").as_dict()
    assert records.unpack_classification(records.pack_classification(full)) == full
