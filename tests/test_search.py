"""Full-text search: the index follows every write of the store (SQLite file
and PostgreSQL), finds Chinese substrings of any length and English phrases,
treats % and _ as characters, filters, and is rebuilt for an old database."""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from alembic import command
from alembic.config import Config as AlembicConfig
from sqlalchemy import create_engine

from monitor.errors import UsageError
from monitor.search import SearchFilter, search, snippet, terms
from monitor.store import Store
from monitor.store.db import MIGRATIONS
from monitor.store.models import ChangeRow, DocumentRow, SourceRow
from monitor.store.search import grams
from tests.helpers.stores import fresh_pg_database

PG_URL = os.environ.get("REGWATCH_TEST_PG_URL")
NOW = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)
POTENCY = (
    "本指导原则适用于CAR-T细胞治疗产品。效价测定应反映作用机制；变更前后应开展可比性研究。"
    "Long-term follow-up (LTFU) of 15 years is expected; 100% of lots tested."
)


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    if request.param == "sqlite":
        opened = Store(f"sqlite:///{tmp_path / 'search.db'}")
        yield opened
        opened.close()
        return
    if not PG_URL:
        pytest.skip("REGWATCH_TEST_PG_URL is not set (`source .ci/start-postgres.sh`; CI does)")
    with fresh_pg_database(PG_URL, prefix="regwatch_s") as url:
        opened = Store(url)
        try:
            yield opened
        finally:
            opened.close()


def seed(store: Store) -> dict[str, int]:
    """Two sources, three documents (one with attachment text), two changes."""
    with store.session(write=True) as session:
        cde = SourceRow(name="cde", kind="cde", jurisdiction="CN")
        fda = SourceRow(name="fda-guidance", kind="fda-guidance", jurisdiction="US")
        session.add_all([cde, fda])
        session.flush()
        text_hash = Store.put_blob(session, POTENCY.encode("utf-8"))
        car_t = DocumentRow(
            source_id=cde.id or 0,
            key="a",
            title="嵌合抗原受体T细胞治疗产品药学研究指导原则（征求意见稿）",
            jurisdiction="CN",
            first_seen=NOW,
            last_seen=NOW,
            text_hash=text_hash,
            status="draft",
            relevant=True,
            record=json.dumps(
                {"fields": {"nowstate": "征求意见", "dept": "药学部"}}, ensure_ascii=False
            ),
            classification=json.dumps(
                {"cn": ["cell_therapy"], "modalities": ["car_t"], "doc_type": "guideline"}
            ),
        )
        ltfu = DocumentRow(
            source_id=fda.id or 0,
            key="b",
            title="Long Term Follow-Up After Administration of Human Gene Therapy Products",
            jurisdiction="US",
            first_seen=NOW - timedelta(days=400),
            last_seen=NOW,
            status="final",
            relevant=True,
            classification=json.dumps({"us": ["gene_therapy"], "doc_type": "guideline"}),
        )
        other = DocumentRow(
            source_id=fda.id or 0,
            key="c",
            title="Q&A on 5_percent_rule and 20% overfill",
            jurisdiction="US",
            first_seen=NOW,
            last_seen=NOW,
            status="final",
        )
        session.add_all([car_t, ltfu, other])
        session.flush()
        added = ChangeRow(
            source_id=cde.id or 0,
            document_id=car_t.id,
            kind="added",
            event="draft",
            detected_at=NOW,
            title=car_t.title,
            jurisdiction="CN",
            excerpt="效价测定",
            relevant=True,
            cn=",cell_therapy,",
            classification=car_t.classification,
            status="draft",
        )
        changed = ChangeRow(
            source_id=fda.id or 0,
            document_id=ltfu.id,
            kind="changed",
            event="changed",
            detected_at=NOW,
            title=ltfu.title,
            jurisdiction="US",
            excerpt="[-15-]{+5+} years of follow-up",
        )
        session.add_all([added, changed])
        session.flush()
        return {
            "car_t": car_t.id or 0,
            "ltfu": ltfu.id or 0,
            "other": other.id or 0,
            "added": added.id or 0,
            "changed": changed.id or 0,
        }


def ids(store: Store, query: str, **filters: object) -> list[int]:
    return [hit["id"] for hit in search(store, SearchFilter(query, **filters))]  # type: ignore[arg-type]


def test_chinese_substrings_of_any_length_and_english_phrases(store: Store) -> None:
    doc = seed(store)
    assert ids(store, "效价") == [doc["car_t"]]  # two characters: the gram index
    assert ids(store, "效") == [doc["car_t"]]  # one character
    assert ids(store, "可比性") == [doc["car_t"]]  # three: trigram, attachment text
    assert ids(store, "药学部") == [doc["car_t"]]  # a record field
    assert ids(store, "long-term follow-up") == [doc["car_t"]]  # a phrase in the PDF text
    assert ids(store, "long term follow") == [doc["car_t"], doc["ltfu"]]  # three terms, AND
    assert ids(store, '"long term follow"') == [doc["ltfu"]]  # the quoted phrase only
    assert ids(store, "LTFU") == [doc["car_t"]]  # any case
    assert ids(store, "T细胞 征求意见稿") == [doc["car_t"]]
    assert ids(store, "细胞 gene") == []  # every term must occur
    assert ids(store, "15") == [doc["car_t"]]  # a short word
    assert ids(store, "mechanism") == []


def test_percent_and_underscore_are_plain_characters(store: Store) -> None:
    doc = seed(store)
    assert ids(store, "%") == [doc["other"]]  # only the title with a %
    assert ids(store, "20%") == [doc["other"]]
    assert ids(store, "100%") == [doc["car_t"]]
    assert ids(store, "5_percent") == [doc["other"]]
    assert ids(store, "_") == [doc["other"]]
    assert ids(store, "a_c") == []  # _ is not "any character"


def test_filters_and_the_snippet(store: Store) -> None:
    doc = seed(store)
    assert ids(store, "follow", jurisdiction="US") == [doc["ltfu"]]
    assert ids(store, "follow", jurisdiction="CN") == [doc["car_t"]]
    assert ids(store, "follow", atmp="car_t") == [doc["car_t"]]
    assert ids(store, "follow", atmp="gene_therapy") == [doc["ltfu"]]
    assert ids(store, "follow", status="final") == [doc["ltfu"]]
    assert ids(store, "follow", doc_type="guideline") == [doc["car_t"], doc["ltfu"]]
    assert ids(store, "follow", source="fda-guidance") == [doc["ltfu"]]
    assert ids(store, "follow", since=NOW - timedelta(days=30)) == [doc["car_t"]]
    assert ids(store, "follow", relevant=False) == []
    hit = search(store, SearchFilter("可比性"))[0]
    assert hit["snippet"].startswith("本指导原则") and "可比性研究" in hit["snippet"]
    assert hit["source"] == "cde" and hit["classes"] == ["cell_therapy", "car_t"]
    assert hit["at"] == NOW.isoformat()


def test_changes_are_searched_and_changes_search_uses_the_index(store: Store) -> None:
    from monitor.history import ChangeFilter, list_changes

    doc = seed(store)
    assert ids(store, "效价", kind="change") == [doc["added"]]
    assert ids(store, "years of", kind="change") == [doc["changed"]]
    found = list_changes(store, ChangeFilter(search="效价"))
    assert [row["id"] for row in found] == [doc["added"]]
    assert [row["id"] for row in list_changes(store, ChangeFilter(search="%"))] == []
    assert [row["id"] for row in list_changes(store, ChangeFilter(search="follow-up"))] == [
        doc["changed"]
    ]


def test_the_index_follows_updates_and_deletes(store: Store) -> None:
    doc = seed(store)
    with store.session(write=True) as session:
        row = session.get(DocumentRow, doc["ltfu"])
        assert row is not None
        row.title = "Potency Assurance for Cellular and Gene Therapy Products 效力保证"
        session.add(row)
    assert ids(store, "Potency Assurance") == [doc["ltfu"]]
    assert ids(store, "效力") == [doc["ltfu"]]
    assert ids(store, "Long Term Follow-Up After") == []
    with store.session(write=True) as session:
        row = session.get(DocumentRow, doc["other"])
        session.delete(row)
    assert ids(store, "overfill") == []
    with store.session(write=True) as session:  # last_seen alone is not a reindex
        row = session.get(DocumentRow, doc["car_t"])
        assert row is not None
        row.last_seen = NOW + timedelta(days=1)
        session.add(row)
    assert ids(store, "效价") == [doc["car_t"]]


def test_query_terms_and_limits() -> None:
    assert terms('potency "long-term follow-up"  效价') == [
        "potency",
        "long-term follow-up",
        "效价",
    ]
    assert terms('unbalanced "quote') == ["unbalanced", "quote"]
    with pytest.raises(UsageError, match="at least one word"):
        terms('  "" ')
    with pytest.raises(UsageError, match="at most 8 terms"):
        terms("a b c d e f g h i")
    assert grams("效价测定 EU and IL-2") == "效 效价 价 价测 测 测定 定 eu il 2"
    assert snippet("t", "x" * 200 + "HIT" + "y" * 200, ["hit"]).startswith("…x")
    assert snippet("hit in title", "body", ["hit"]) == ""


def test_an_old_database_gets_its_index_on_upgrade(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    engine = create_engine(url)
    config = AlembicConfig()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0002")
    engine.dispose()
    db = sqlite3.connect(tmp_path / "old.db")
    db.execute(
        "insert into source (name, kind, url, jurisdiction, schedule, consecutive_failures,"
        " last_outcome, last_error, health_alerted, healthy_runs, last_record_count,"
        " validators) values ('cde', 'cde', '', 'CN', '', 0, '', '', 0, 1, 5, '{}')"
    )
    db.execute(
        "insert into document (source_id, key, title, url, jurisdiction, first_seen,"
        " last_seen, state, missing_runs, record, fingerprint, lineage, status,"
        " attachments, classification, relevant) values (1, 'k1', '细胞治疗产品效价研究', '',"
        " 'CN', '2026-01-01 00:00:00.000000', '2026-01-01 00:00:00.000000', 'active', 0,"
        " '{}', '', '', 'final', '{}', '{}', 1)"
    )
    db.commit()
    db.close()
    store = Store(url)  # upgrades to head: builds the index
    assert ids(store, "效价") == [1]
    assert ids(store, "产品效价研究") == [1]
    assert ids(store, "效价", since=datetime(2025, 12, 31, tzinfo=UTC)) == [1]
