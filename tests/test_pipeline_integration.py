"""The pipeline end to end against a real local site whose page changes
between runs: exactly the changes a user should see, none for noise, blocks
or failures."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from monitor.config import Config, loads
from monitor.history import ChangeFilter, list_changes
from monitor.pipeline.check import Pipeline
from monitor.replica.server import ReplicaServer
from monitor.store import Store
from tests.sites import Item, ListSite


def make_config(tmp_path: Path, base: str, **health: int) -> Config:
    return loads(make_config_text(tmp_path, base, **health))


def make_config_text(tmp_path: Path, base: str, **health: int) -> str:
    alert_after = health.get("alert_after", 3)
    return f"""
[store]
url = "sqlite:///{tmp_path / "regwatch.db"}"

[http]
user_agent = "regwatch-test/0.1 (+mailto:test@example.com)"
timeout = 1.5
delay = 0
retries = 1
backoff = 0.01

[health]
alert_after = {alert_after}

[[source]]
name = "nmpa-like"
kind = "html-list"
url = "{base}/list/index.html"
jurisdiction = "CN"
item = ".list ul li"
title = "a"
link = "a@href"
date = "span"
every = "6h"
"""


SEED = [
    Item(
        "20260608103856150",
        "国家药监局关于修订肌苷注射剂说明书的公告（2026年第87号）",
        "2026-06-25",
    ),
    Item("20260601090000001", "免疫细胞治疗产品临床试验技术指导原则（试行）", "2026-06-01"),
    Item(
        "20260520090000002",
        "关于发布化学药品注射剂仿制药质量和疗效一致性评价技术要求的通告",
        "2026-05-20",
    ),
    Item("20260510090000003", "国家药监局关于发布药品注册核查要点与判定原则的通告", "2026-05-10"),
    Item(
        "20260501090000004", "基因治疗产品长期随访临床研究技术指导原则（征求意见稿）", "2026-05-01"
    ),
]


@pytest.fixture
def site() -> Iterator[tuple[ListSite, ReplicaServer]]:
    replica = ListSite(items=list(SEED))
    with ReplicaServer(replica) as server:
        yield replica, server


def events(store: Store) -> list[tuple[str, str]]:
    rows = list_changes(store, ChangeFilter(limit=1000))
    return sorted((row["event"], row["title"]) for row in rows)


def test_a_site_changing_over_time_gives_exactly_the_real_changes(
    site: tuple[ListSite, ReplicaServer], tmp_path: Path
) -> None:
    replica, server = site
    config = make_config(tmp_path, server.url)
    store = Store(config.store.url)
    pipeline = Pipeline(config, store)
    source = config.sources[0]

    first = pipeline.check(source)
    assert (first.outcome, first.records, first.changes) == ("baseline", 5, 0)
    assert events(store) == []

    # noise only: visitor counter, footer date, order of items, whitespace
    replica.visitors += 17
    replica.items.reverse()
    assert pipeline.check(source).outcome == "unchanged"

    # a new CGT draft
    new = Item(
        "20261101090000009",
        "嵌合抗原受体T细胞(CAR-T)治疗产品药学研究技术指导原则（征求意见稿）",
        "2026-11-01",
    )
    replica.items.insert(0, new)
    result = pipeline.check(source)
    assert (result.outcome, result.changes) == ("changed", 1)
    assert events(store) == [("draft", new.title)]
    change = list_changes(store, ChangeFilter(limit=1))[0]
    assert change["relevant"] is True and change["cn"] == ["cell_therapy"]
    assert change["url"] == f"{server.url}/articles/{new.path}.html"

    # an edited title
    where = next(n for n, item in enumerate(replica.items) if item.path == SEED[1].path)
    replica.items[where] = Item(
        SEED[1].path, "免疫细胞治疗产品临床试验技术指导原则（修订版）", SEED[1].date
    )
    result = pipeline.check(source)
    assert result.changes == 1
    edited = list_changes(store, ChangeFilter(limit=1))[0]
    assert edited["event"] == "changed" and edited["fields_changed"] == ["title"]

    # a removal only counts after two healthy runs without the item
    gone = replica.items.pop()
    assert pipeline.check(source).changes == 0
    result = pipeline.check(source)
    assert result.changes == 1
    assert list_changes(store, ChangeFilter(limit=1))[0]["event"] == "removed"
    assert list_changes(store, ChangeFilter(limit=1))[0]["title"] == gone.title


@pytest.mark.parametrize(
    "mode, outcome",
    [
        ("challenge", "blocked"),
        ("error", "failed"),
        ("hang", "failed"),
        ("truncate", "failed"),
        ("reset", "failed"),
        ("empty", "failed"),
    ],
)
def test_a_misbehaving_site_is_a_health_event_never_removals(
    site: tuple[ListSite, ReplicaServer], tmp_path: Path, mode: str, outcome: str
) -> None:
    replica, server = site
    config = make_config(tmp_path, server.url, alert_after=2)
    store = Store(config.store.url)
    pipeline = Pipeline(config, store)
    source = config.sources[0]
    pipeline.check(source)

    replica.mode = mode
    results = [pipeline.check(source) for _ in range(3)]
    assert [r.outcome for r in results] == [outcome] * 3
    assert all(r.error for r in results)
    # one health alert after alert_after=2 failures, not one per failure
    assert events(store) == [
        ("health", "nmpa-like is " + ("blocked" if mode == "challenge" else "failing"))
    ]
    replica.mode = "ok"
    assert pipeline.check(source).outcome == "unchanged"
    assert [e for e, _ in events(store)] == ["health", "recovered"]
    with store.session() as session:
        from sqlmodel import select

        from monitor.store.models import DocumentRow

        docs = session.exec(select(DocumentRow)).all()
    assert len(docs) == 5 and all(d.state == "active" and d.missing_runs == 0 for d in docs)


def test_a_collapsed_list_is_not_five_removals(
    site: tuple[ListSite, ReplicaServer], tmp_path: Path
) -> None:
    replica, server = site
    config = make_config(tmp_path, server.url)
    store = Store(config.store.url)
    pipeline = Pipeline(config, store)
    source = config.sources[0]
    pipeline.check(source)
    replica.items = replica.items[:1]
    for _ in range(3):
        assert pipeline.check(source).outcome == "failed"
    assert [e for e, _ in events(store)] == ["health"]


def test_gbk_and_malformed_pages_parse_to_the_same_records(
    site: tuple[ListSite, ReplicaServer], tmp_path: Path
) -> None:
    replica, server = site
    config = make_config(tmp_path, server.url)
    store = Store(config.store.url)
    pipeline = Pipeline(config, store)
    source = config.sources[0]
    pipeline.check(source)
    replica.encoding = "gbk"
    assert pipeline.check(source).outcome == "unchanged"
    replica.mode = "malformed"
    assert pipeline.check(source).outcome == "unchanged"
    assert events(store) == []


def test_an_unchanged_run_adds_one_run_row_and_no_blob(
    site: tuple[ListSite, ReplicaServer], tmp_path: Path
) -> None:
    _, server = site
    config = make_config(tmp_path, server.url)
    store = Store(config.store.url)
    pipeline = Pipeline(config, store)
    source = config.sources[0]
    pipeline.check(source)
    pipeline.check(source)
    db = sqlite3.connect(tmp_path / "regwatch.db")
    before = {
        t: db.execute(f"select count(*) from {t}").fetchone()[0]
        for t in ("run", "blob", "version", "change", "document")
    }
    pipeline.check(source)
    after = {t: db.execute(f"select count(*) from {t}").fetchone()[0] for t in before}
    assert after["run"] == before["run"] + 1
    assert {t: after[t] - before[t] for t in before if t != "run"} == {
        "blob": 0,
        "version": 0,
        "change": 0,
        "document": 0,
    }
    manifest = db.execute("select snapshot_hash from run order by id desc limit 2").fetchall()
    assert manifest[0] == manifest[1] and manifest[0][0]
    assert json.loads(store.blob_text(manifest[0][0]) or "[]")[0]["status"] == 200


def test_one_broken_source_never_stops_the_others(tmp_path: Path) -> None:
    good, bad = ListSite(items=list(SEED)), ListSite(items=list(SEED), mode="challenge")
    from monitor.replica.server import Router

    with ReplicaServer(Router({"/good": good, "/bad": bad})) as server:
        text = f"""
[store]
url = "sqlite:///{tmp_path / "two.db"}"
[http]
delay = 0
retries = 0
[[source]]
name = "bad"
kind = "html-list"
url = "{server.url}/bad/list/index.html"
item = ".list ul li"
[[source]]
name = "broken-selector"
kind = "html-list"
url = "{server.url}/good/list/index.html"
item = "table.nothing tr"
[[source]]
name = "good"
kind = "html-list"
url = "{server.url}/good/list/index.html"
item = ".list ul li"
"""
        config = loads(text)
        results = Pipeline(config, Store(config.store.url)).check_all()
    assert [(r.source, r.outcome) for r in results] == [
        ("bad", "blocked"),
        ("broken-selector", "failed"),
        ("good", "baseline"),
    ]
    assert results[2].records == 5


def test_the_baseline_sends_one_summary_line_only_to_routes_that_ask(
    site: tuple[ListSite, ReplicaServer], tmp_path: Path
) -> None:
    from monitor.delivery.dispatch import Dispatcher
    from tests.receivers import WebhookReceiver

    _, server = site
    with WebhookReceiver() as hook:
        config = loads(
            make_config_text(tmp_path, server.url)
            + f"""
[[notify]]
name = "everything"
urls = ["{hook.json_url("/all")}"]

[[notify]]
name = "summaries"
urls = ["{hook.json_url("/baseline")}"]
match = {{ kinds = ["baseline"] }}
"""
        )
        store = Store(config.store.url)
        assert Pipeline(config, store).check(config.sources[0]).alerts == 1
        Dispatcher(config, store).run_once()
        hook.wait_for(1)
        posts = [(p.path, p.json) for p in hook.posts]
    assert [path for path, _ in posts] == ["/baseline"]
    text = posts[0][1]["title"] + "\n" + posts[0][1]["message"]
    assert "nmpa-like" in text and "stored 5 documents" in text
    assert "2 about cell and gene therapy" in text
