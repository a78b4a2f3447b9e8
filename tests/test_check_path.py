"""The check path under real-site behaviour (issue 9), on real local servers,
through the real fetcher, pipeline and SQLite file, for the generic adapters:

1. a removal behind 304 is reported after the second healthy miss (one page,
   and a list of several pages);
2. a record that leaves a window ("newest" feed, "window" JSON query) is
   never "removed", while one inside the window that vanished is;
3. a move of the site (another host name, a 301 to another address, a
   database with keys stored with scheme and host) gives no add/remove;
4. two documents with the same title are two alerts; one document announced
   by two sources is one;
5. an item the adapter could not read fully leaves the run healthy.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

import pytest

from monitor.config import Config, loads
from monitor.history import ChangeFilter, list_changes
from monitor.pipeline.check import Pipeline
from monitor.replica.server import ReplicaServer, Request, Response
from monitor.store import Store
from sources import registry
from sources.registry import Adapter, kinds
from sources.types import Coverage, Fetcher, Listing, Record
from tests.sites import Conditional


@dataclass
class Doc:
    path: str
    title: str
    date: str


@dataclass
class Site:
    """One list in three shapes: ``/list/index.html`` (+ ``index_1.html`` …,
    ``per_page`` a page), ``/feed.xml`` (newest ``feed_size`` items) and ``/api.json``."""

    docs: list[Doc] = field(default_factory=list)
    feed_size: int = 3
    per_page: int = 10

    def __call__(self, request: Request) -> Response:
        docs = sorted(self.docs, key=lambda d: d.date, reverse=True)
        if request.path == "/feed.xml":
            items = "".join(
                f"<item><title>{d.title}</title><link>{request.base}/a/{d.path}.html</link>"
                f"<pubDate>{d.date}T08:00:00Z</pubDate></item>"
                for d in docs[: self.feed_size]
            )
            return Response(
                body=f'<?xml version="1.0"?><rss version="2.0"><channel>'
                f"<title>t</title>{items}</channel></rss>",
                content_type="application/rss+xml",
            )
        if request.path == "/api.json":
            rows = [{"title": d.title, "url": f"/a/{d.path}.html", "date": d.date} for d in docs]
            return Response(body=json.dumps({"rows": rows}), content_type="application/json")
        if request.path.startswith("/list/index"):
            stem = request.path.removeprefix("/list/index").removesuffix(".html")
            number = int(stem.removeprefix("_") or 0)
            page = docs[number * self.per_page : (number + 1) * self.per_page]
            if not page and number:
                return Response(status=404, body="not found")
            lis = "".join(
                f'<li><a href="/a/{d.path}.html">{d.title}</a><span>{d.date}</span></li>'
                for d in page
            )
            return Response(body=f'<html><body><ul class="list">{lis}</ul></body></html>')
        return Response(status=404, body="not found")


SEED = [
    Doc("a1", "细胞治疗产品临床试验技术指导原则", "2026-06-01"),
    Doc("a2", "基因治疗产品长期随访临床研究技术指导原则", "2026-05-01"),
    Doc("a3", "化学药品注射剂仿制药一致性评价技术要求", "2026-04-01"),
    Doc("a4", "药品注册核查要点与判定原则", "2026-03-01"),
    Doc("a5", "药品说明书修订公告", "2026-02-01"),
]

HTML = 'kind = "html-list"\nitem = ".list li"\ntitle = "a"\nlink = "a@href"\ndate = "span"\n'


def config(tmp_path: Path, *sources: str, delivery: str = "") -> Config:
    tables = "".join(f"\n[[source]]\n{s}" for s in sources)
    return loads(f"""
[delivery]
{delivery}
[store]
url = "sqlite:///{tmp_path / "regwatch.db"}"
[http]
delay = 0
retries = 0
timeout = 5
[[notify]]
name = "all"
urls = ["json://127.0.0.1:9/inbox"]
{tables}
""")


def html_source(base: str, name: str = "list", extra: str = "") -> str:
    return f'name = "{name}"\nurl = "{base}/list/index.html"\n{HTML}{extra}'


@pytest.fixture
def site() -> Iterator[tuple[Site, Conditional, ReplicaServer]]:
    app = Site(docs=list(SEED))
    conditional = Conditional(app)
    with ReplicaServer(conditional) as server:
        yield app, conditional, server


def events(store: Store) -> list[str]:
    return sorted(
        c["event"] for c in list_changes(store, ChangeFilter(limit=1000)) if c["kind"] != "health"
    )


def alerted(store: Store) -> list[tuple[str, str]]:
    return sorted(
        (c["event"], c["source"])
        for c in list_changes(store, ChangeFilter(limit=1000))
        if c["kind"] != "health" and c["mirror_of"] is None
    )


# -- 1. absence behind 304 ------------------------------------------------------


def test_a_removal_behind_304_is_reported_after_the_second_healthy_miss(
    site: tuple[Site, Conditional, ReplicaServer], tmp_path: Path
) -> None:
    app, conditional, server = site
    cfg = config(tmp_path, html_source(server.url))
    store = Store(cfg.store.url)
    pipeline = Pipeline(cfg, store)
    assert pipeline.check(cfg.sources[0]).outcome == "baseline"
    del app.docs[1]
    results = [pipeline.check(cfg.sources[0]) for _ in range(4)]
    assert [r.outcome for r in results] == ["unchanged", "changed", "unchanged", "unchanged"]
    assert conditional.not_modified == 3  # runs 2-4 were answered 304
    assert events(store) == ["removed"]
    assert sum(r.alerts for r in results) == 1


def test_a_removal_on_a_later_page_of_a_paged_list_is_reported(
    site: tuple[Site, Conditional, ReplicaServer], tmp_path: Path
) -> None:
    app, _conditional, server = site
    app.per_page = 3
    cfg = config(
        tmp_path,
        html_source(server.url, extra='pages = "index_{n}.html"\nfirst_page = 1\nmax_pages = 5\n'),
    )
    store = Store(cfg.store.url)
    pipeline = Pipeline(cfg, store)
    assert pipeline.check(cfg.sources[0]).records == 5
    app.docs = [d for d in app.docs if d.path != "a4"]  # on page 2
    outcomes = [pipeline.check(cfg.sources[0]).outcome for _ in range(3)]
    assert outcomes == ["unchanged", "changed", "unchanged"]
    assert events(store) == ["removed"]


# -- 2. windows -------------------------------------------------------------------


def test_items_leaving_a_feed_are_never_removed_but_a_vanished_one_is(
    site: tuple[Site, Conditional, ReplicaServer], tmp_path: Path
) -> None:
    app, _conditional, server = site
    cfg = config(tmp_path, f'name = "feed"\nkind = "rss"\nurl = "{server.url}/feed.xml"\n')
    store = Store(cfg.store.url)
    pipeline = Pipeline(cfg, store)
    assert pipeline.check(cfg.sources[0]).records == 3
    for n, day in enumerate(["2026-07-01", "2026-08-01", "2026-09-01"]):  # pushes 3 off
        app.docs.append(Doc(f"n{n}", f"新闻稿第{n}号", day))
        pipeline.check(cfg.sources[0])
        pipeline.check(cfg.sources[0])
    assert events(store) == ["added", "added", "added"]
    app.docs = [d for d in app.docs if d.path != "n1"]  # newer than the oldest listed
    pipeline.check(cfg.sources[0])
    pipeline.check(cfg.sources[0])
    assert events(store) == ["added", "added", "added", "removed"]


def test_a_window_json_list_never_removes_what_left_the_window(
    site: tuple[Site, Conditional, ReplicaServer], tmp_path: Path
) -> None:
    app, _conditional, server = site
    source = (
        f'name = "api"\nkind = "json-list"\nurl = "{server.url}/api.json"\n'
        'records = "rows"\ntitle = "title"\nlink = "url"\ndate = "date"\n'
    )
    for listing, expected in [("window", []), ("complete", ["removed", "removed"])]:
        app.docs = list(SEED)
        cfg = config(tmp_path / listing, source + f'listing = "{listing}"\n')
        store = Store(cfg.store.url)
        pipeline = Pipeline(cfg, store)
        pipeline.check(cfg.sources[0])
        app.docs = app.docs[:3]  # the query's date window moved: the two oldest left it
        for _ in range(3):
            assert pipeline.check(cfg.sources[0]).outcome in ("unchanged", "changed")
        assert events(store) == expected


# -- 3. moves ---------------------------------------------------------------------


def test_a_site_answering_from_a_new_address_is_one_notice_and_no_change(
    site: tuple[Site, Conditional, ReplicaServer], tmp_path: Path
) -> None:
    _app, _conditional, server = site
    cfg = config(tmp_path, html_source(server.url))
    store = Store(cfg.store.url)
    assert Pipeline(cfg, store).check(cfg.sources[0]).outcome == "baseline"

    def redirect(request: Request) -> Response:
        return Response(status=301, headers={"Location": f"{server.url}{request.path}"})

    with ReplicaServer(redirect) as old:
        # the configured address is now an old one that redirects to the site on
        # another host:port; the network policy refuses that until the user says so
        refused = config(tmp_path, html_source(old.url))
        result = Pipeline(refused, store).check(refused.sources[0])
        assert result.outcome == "failed" and "allow_redirects_to" in result.error
        moved = config(
            tmp_path, html_source(old.url, extra=f'allow_redirects_to = ["{server.url}"]\n')
        )
        pipeline = Pipeline(moved, store)
        results = [pipeline.check(moved.sources[0]) for _ in range(3)]
    assert [r.outcome for r in results] == ["unchanged"] * 3
    assert events(store) == []
    health = [
        c["title"] for c in list_changes(store, ChangeFilter(limit=100)) if c["kind"] == "health"
    ]
    assert health == [f"list: the list moved to {server.url}"]


def test_keys_stored_with_scheme_and_host_keep_matching(
    site: tuple[Site, Conditional, ReplicaServer], tmp_path: Path
) -> None:
    app, _conditional, server = site
    cfg = config(tmp_path, html_source(server.url))
    store = Store(cfg.store.url)
    pipeline = Pipeline(cfg, store)
    pipeline.check(cfg.sources[0])
    store.close()
    with sqlite3.connect(tmp_path / "regwatch.db") as db:  # as regwatch ≤ 0.7 stored them
        db.execute("update document set key = ? || key", (server.url,))
        db.execute("update source set hosts = '', listing_hash = ''")
    store = Store(cfg.store.url)
    pipeline = Pipeline(cfg, store)
    del app.docs[0]
    outcomes = [pipeline.check(cfg.sources[0]).outcome for _ in range(2)]
    assert outcomes == ["unchanged", "changed"]
    assert events(store) == ["removed"]
    with sqlite3.connect(tmp_path / "regwatch.db") as db:
        keys = sorted(k for (k,) in db.execute("select key from document"))
    assert keys == ["/a/a1.html", "/a/a2.html", "/a/a3.html", "/a/a4.html", "/a/a5.html"]


# -- 4. mirrors by document identity -------------------------------------------------


def test_two_documents_with_one_title_are_two_alerts(
    site: tuple[Site, Conditional, ReplicaServer], tmp_path: Path
) -> None:
    app, _conditional, server = site
    app.docs = [
        Doc("x1", "关于药品说明书修订的公告", "2026-06-01"),
        Doc("x2", "关于药品说明书修订的公告", "2026-06-02"),
        *SEED[2:],
    ]
    cfg = config(tmp_path, html_source(server.url))
    store = Store(cfg.store.url)
    pipeline = Pipeline(cfg, store)
    pipeline.check(cfg.sources[0])
    app.docs[0].date, app.docs[1].date = "2026-06-11", "2026-06-12"
    result = pipeline.check(cfg.sources[0])
    assert (result.changes, result.alerts) == (2, 2)
    assert alerted(store) == [("changed", "list"), ("changed", "list")]


def test_one_document_announced_by_two_sources_is_one_alert(
    site: tuple[Site, Conditional, ReplicaServer], tmp_path: Path
) -> None:
    app, _conditional, server = site
    cfg = config(
        tmp_path,
        html_source(server.url, "list-a") + 'jurisdiction = "CN"\n',
        html_source(server.url, "list-b") + 'jurisdiction = "CN"\n',
    )
    store = Store(cfg.store.url)
    pipeline = Pipeline(cfg, store)
    pipeline.check_all()
    app.docs.append(Doc("n1", "免疫细胞治疗产品药学研究技术指导原则", "2026-07-01"))
    results = pipeline.check_all()
    assert [r.changes for r in results] == [1, 1]
    assert sum(r.alerts for r in results) == 1
    assert alerted(store) == [("added", "list-a")]


# -- 5. one broken item -------------------------------------------------------------


class HalfBroken(Adapter):
    """Test adapter: the list from ``url``, one item's detail page unreadable."""

    kind: ClassVar[str] = "test-half-broken"

    def collect(self, fetcher: Fetcher, known: Mapping[str, Record]) -> Listing:
        page = fetcher.get(self.settings.url or "", expect="html")
        records = [Record(key=f"k{n}", title=f"文件{n}", url=f"{page.url}#{n}") for n in range(3)]
        return Listing(
            records=records,
            coverage=Coverage.COMPLETE,
            item_errors=[f"{page.url}#2: no detail table"],
        )


def test_one_broken_detail_page_leaves_the_source_healthy(
    site: tuple[Site, Conditional, ReplicaServer], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _app, _conditional, server = site
    kinds()  # the built-ins first, then this test's adapter, for this test only
    monkeypatch.setitem(registry._REGISTRY, HalfBroken.kind, HalfBroken)
    cfg = config(
        tmp_path,
        f'name = "half"\nkind = "test-half-broken"\nurl = "{server.url}/list/index.html"\n',
    )
    store = Store(cfg.store.url)
    result = Pipeline(cfg, store).check(cfg.sources[0])
    assert (result.outcome, result.records, result.item_errors) == ("baseline", 3, 1)
    assert "1 items without details" in result.line()
    with sqlite3.connect(tmp_path / "regwatch.db") as db:
        assert db.execute("select item_errors, outcome from run").fetchall() == [(1, "baseline")]
        assert db.execute("select consecutive_failures from source").fetchall() == [(0,)]


# -- large changes ------------------------------------------------------------------


@pytest.mark.parametrize("summary_over, expected", [(20, 1), (0, 25), (30, 25)])
def test_a_large_change_is_one_summary_alert_per_route(
    site: tuple[Site, Conditional, ReplicaServer], tmp_path: Path, summary_over: int, expected: int
) -> None:
    app, _conditional, server = site
    cfg = config(tmp_path, html_source(server.url), delivery=f"summary_over = {summary_over}")
    store = Store(cfg.store.url)
    pipeline = Pipeline(cfg, store)
    pipeline.check(cfg.sources[0])
    app.per_page = 100
    app.docs += [
        Doc(
            f"b{n}",
            f"细胞治疗产品第{n}号指导原则" if n < 12 else f"公告第{n}号",
            f"2026-08-{n + 1:02d}",
        )
        for n in range(25)
    ]
    result = pipeline.check(cfg.sources[0])
    assert (result.changes, result.alerts) == (25, expected)
    with sqlite3.connect(tmp_path / "regwatch.db") as db:
        alerts = [json.loads(a) for (a,) in db.execute("select alert from delivery")]
    assert len(alerts) == expected
    if expected == 1:
        assert alerts[0]["title"] == "25 new documents at list, 12 about CGT"
        assert "… and 15 more" in alerts[0]["detail"]


TABLES = ("run", "blob", "document", "version", "change", "delivery")


def _counts(db: Path) -> dict[str, int]:
    with sqlite3.connect(db) as connection:
        return {t: connection.execute(f"select count(*) from {t}").fetchone()[0] for t in TABLES}


@pytest.mark.parametrize("conditional", [True, False], ids=["304", "same-listing"])
def test_an_unchanged_run_is_one_small_run_row(tmp_path: Path, conditional: bool) -> None:
    app = Site(docs=list(SEED))
    with ReplicaServer(Conditional(app) if conditional else app) as server:
        cfg = config(tmp_path, html_source(server.url))
        store = Store(cfg.store.url)
        pipeline = Pipeline(cfg, store)
        pipeline.check(cfg.sources[0])
        pipeline.check(cfg.sources[0])
        before = _counts(tmp_path / "regwatch.db")
        assert pipeline.check(cfg.sources[0]).outcome == "unchanged"
    after = _counts(tmp_path / "regwatch.db")
    assert {t: after[t] - before[t] for t in TABLES} == {
        "run": 1,
        "blob": 0,
        "document": 0,
        "version": 0,
        "change": 0,
        "delivery": 0,
    }
    with sqlite3.connect(tmp_path / "regwatch.db") as db:
        row = db.execute("select * from run order by id desc limit 1").fetchone()
    # an SQLite record: a header byte per column, then the values
    size = len(row) + sum(len(str(v).encode()) for v in row if v is not None)
    assert size <= 200, (size, row)
