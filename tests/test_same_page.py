"""The same page again is read as a 304 (issue 12): no parse, the same run.

A server without ETag / Last-Modified that serves the very bytes the last
healthy listing was read from gets the treatment a 304 gets: the adapter is
not asked to parse it. These tests run real checks on a real local server and
SQLite file twice over — once as shipped, once with the shortcut disabled —
and compare what the two stores hold: the shortcut must change nothing but the
work done.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from itertools import count
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.config import Config as AlembicConfig
from sqlalchemy import create_engine

from monitor.config import Config
from monitor.pipeline import recording
from monitor.pipeline.check import Pipeline
from monitor.replica.server import ReplicaServer
from monitor.store import Store
from monitor.store.db import MIGRATIONS, _head_revision
from sources.adapters import html_list
from tests.helpers.config import list_config
from tests.sites import Item, ListSite

ITEMS = [
    Item("a1", "细胞治疗产品临床试验技术指导原则", "2026-06-01"),
    Item("a2", "基因治疗产品长期随访临床研究技术指导原则", "2026-05-01"),
    Item("a3", "化学药品注射剂仿制药一致性评价技术要求", "2026-04-01"),
    Item("a4", "药品注册核查要点与判定原则", "2026-03-01"),
]


def config(tmp_path: Path, base: str, extra: str = "") -> Config:
    return list_config(tmp_path, base, source=extra)


@pytest.fixture
def parses(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The URL of every list page the html-list adapter parses."""
    seen: list[str] = []
    real = html_list.parse_list

    def counting(text: str, url: str, settings: Any) -> Any:
        seen.append(url)
        return real(text, url, settings)

    monkeypatch.setattr(html_list, "parse_list", counting)
    return seen


@pytest.fixture
def no_shortcut(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[], None]]:
    """Call it to make every page digest unique: the shortcut never applies."""
    fresh = count()

    def disable() -> None:
        monkeypatch.setattr(recording, "page_digest", lambda *_: f"never-{next(fresh)}")

    yield disable


def stored(db: Path, base: str) -> dict[str, list[tuple[Any, ...]]]:
    """What a user can see of the runs, documents and changes (no timestamps;
    the server's address as BASE, snapshots then hashed alike)."""
    queries = {
        "run": "select outcome, http_status, record_count, changes, error,"
        " snapshot_hash is not null, item_errors from run order by id",
        "blob": "select count(*), sum(size) from blob",
        "document": "select key, title, url, state, missing_runs, relevant, record,"
        " attachments from document order by id",
        "change": "select kind, event, title, url, fields_changed, relevant from change"
        " order by id",
        "source": "select listing_hash, last_record_count, healthy_runs, validators, hosts"
        " from source",
    }
    with sqlite3.connect(db) as connection:
        rows = {name: connection.execute(sql).fetchall() for name, sql in queries.items()}
    return {
        name: [tuple(str(v).replace(base, "BASE") for v in row) for row in found]
        for name, found in rows.items()
    }


def scenario(tmp_path: Path, extra: str = "") -> tuple[list[str], dict[str, list[Any]]]:
    """baseline, unchanged, new footer bytes, a removal (two misses), a new item."""
    site = ListSite(items=list(ITEMS))
    outcomes = []
    with ReplicaServer(site) as server:
        cfg = config(tmp_path, server.url, extra)
        pipeline = Pipeline(cfg, Store(cfg.store.url))

        def check() -> None:
            outcomes.append(pipeline.check(cfg.sources[0]).outcome)

        check()
        check()
        check()
        site.visitors += 1  # other bytes, the same listing
        check()
        check()
        del site.items[1]
        for _ in range(4):
            check()
        site.items.insert(0, Item("a9", "细胞治疗产品说明书撰写指导原则", "2026-07-01"))
        check()
        check()
        base = server.url
    return outcomes, stored(tmp_path / "regwatch.db", base)


def test_the_same_page_again_is_not_parsed_and_the_store_is_the_same(
    tmp_path: Path, parses: list[str], no_shortcut: Callable[[], None]
) -> None:
    with_shortcut = scenario(tmp_path / "a")
    parsed_with = len(parses)
    no_shortcut()
    without = scenario(tmp_path / "b")
    assert with_shortcut == without
    assert with_shortcut[0].count("changed") == 2  # the removal, the new item
    # 11 checks, 4 pages parsed: the baseline, the new footer, the removal, the new item
    assert len(parses) - parsed_with == 11
    assert parsed_with == 4, parses


def test_a_source_whose_settings_changed_parses_the_same_page(
    tmp_path: Path, parses: list[str]
) -> None:
    site = ListSite(items=list(ITEMS))
    with ReplicaServer(site) as server:
        cfg = config(tmp_path, server.url)
        store = Store(cfg.store.url)
        Pipeline(cfg, store).check(cfg.sources[0])
        Pipeline(cfg, store).check(cfg.sources[0])
        assert len(parses) == 1
        changed = config(tmp_path, server.url, 'title = "li > a"')  # reads alike
        assert Pipeline(changed, store).check(changed.sources[0]).outcome == "unchanged"
        assert len(parses) == 2
        Pipeline(changed, store).check(changed.sources[0])
        assert len(parses) == 2


def test_a_recheck_due_parses_the_page_after_all(
    tmp_path: Path, parses: list[str], no_shortcut: Callable[[], None]
) -> None:
    def run(folder: Path) -> tuple[list[str], dict[str, list[Any]]]:
        site = ListSite(items=list(ITEMS))
        with ReplicaServer(site) as server:
            cfg = config(folder, server.url)
            pipeline = Pipeline(cfg, Store(cfg.store.url))
            outcomes = [pipeline.check(cfg.sources[0]).outcome]
            with sqlite3.connect(folder / "regwatch.db") as db:  # two documents are due
                db.execute(
                    "update document set relevant = 1, attachments_checked_at ="
                    " '2020-01-01 00:00:00.000000'"
                    " where key in ('/articles/a1.html', '/articles/a2.html')"
                )
            outcomes.append(pipeline.check(cfg.sources[0]).outcome)
            outcomes.append(pipeline.check(cfg.sources[0]).outcome)
        return outcomes, stored(folder / "regwatch.db", server.url)

    with_shortcut = run(tmp_path / "a")
    assert len(parses) == 3  # the due re-reads need the listed records each time
    no_shortcut()
    assert run(tmp_path / "b") == with_shortcut


def test_a_store_from_before_gets_an_empty_page_digest_and_parses_once(
    tmp_path: Path, parses: list[str]
) -> None:
    db = tmp_path / "regwatch.db"
    engine = create_engine(f"sqlite:///{db}")
    alembic = AlembicConfig()
    alembic.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:
        alembic.attributes["connection"] = connection
        command.upgrade(alembic, "0006")
    engine.dispose()
    site = ListSite(items=list(ITEMS))
    with ReplicaServer(site) as server:
        cfg = config(tmp_path, server.url)
        with sqlite3.connect(db) as connection:  # a 0006 store that has checked once
            connection.execute(
                "insert into source (name, kind, url, jurisdiction, schedule,"
                " consecutive_failures, last_outcome, last_error, health_alerted,"
                " healthy_runs, last_record_count, validators, listing_hash, moved_to, hosts)"
                " values ('list', 'html-list', '', '', '', 0, 'baseline', '', 0, 1, 0, '{}',"
                " 'old', '', '')"
            )
        store = Store(cfg.store.url)
        with sqlite3.connect(db) as connection:
            assert connection.execute("select page_digest from source").fetchall() == [("",)]
            version = connection.execute("select version_num from alembic_version").fetchall()
        assert version == [(_head_revision(),)]
        pipeline = Pipeline(cfg, store)
        pipeline.check(cfg.sources[0])
        pipeline.check(cfg.sources[0])
    assert len(parses) == 1
