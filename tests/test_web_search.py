"""The web UI's search, side-by-side diff, CSV export, labels, time zone and
feed links, over a real SQLite store the real pipeline filled from a local
site; then the same pages in real Chromium at 1280 px and 400 px wide.

Screenshots go to ``$REGWATCH_SCREENSHOTS`` when it is set (to look at them).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from bs4 import BeautifulSoup

from monitor.config import loads
from monitor.history import ChangeFilter, list_changes
from monitor.pipeline.check import Pipeline
from monitor.replica.server import ReplicaServer, Request, Response
from monitor.store import Store
from monitor.web.server import WebSettings, open_readonly_store, serve_web, server_url
from sources.fetch.chromium import browser_available, launch_args

GENE = "基因治疗产品长期随访临床研究技术指导原则（征求意见稿）"
POTENCY = "细胞治疗产品效价测定研究技术指导原则"
LONG_ERROR_SITE = "a-very-long-host-name-of-a-regional-regulator.example.gov.cn"


@dataclass
class Page:
    hours: str = "受理时间：周一至周五 9:00-16:00。效价复核资料请于受理后提交。"
    titles: tuple[str, ...] = (GENE, POTENCY)

    def __call__(self, request: Request) -> Response:
        if request.path == "/list/index.html":
            items = "".join(
                f'<li><a href="../a/{i}.html">{t}</a><span>(2026-11-0{i + 1})</span></li>'
                for i, t in enumerate(self.titles)
            )
            return Response(
                body=f'<html><head><meta charset="utf-8"></head><body>'
                f'<div class="list"><ul>{items}</ul></div></body></html>'
            )
        if request.path == "/policy.html":
            return Response(
                body=f"<html><body><main><h1>受理服务</h1><p>{self.hours}</p></main></body></html>"
            )
        return Response(status=404, body="not found")


@dataclass
class World:
    base: str
    store: Store


def config_text(db: Path, site: str) -> str:
    return f"""
[store]
url = "sqlite:///{db}"

[service]
timezone = "Asia/Shanghai"

[http]
timeout = 2
delay = 0
retries = 0

[[source]]
name = "shanghai-list"
kind = "html-list"
regulator = "Shanghai MPA 上海药监局"
url = "{site}/list/index.html"
jurisdiction = "CN"
item = ".list ul li"
date = "span"

[[source]]
name = "cde-page"
kind = "page"
url = "{site}/policy.html"
jurisdiction = "CN"
region = "main"

[[source]]
name = "unreachable-regional-site"
kind = "page"
url = "http://127.0.0.1:9/{LONG_ERROR_SITE}/notices/index.html"
jurisdiction = "CN"
"""


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    tmp = tmp_path_factory.mktemp("websearch")
    site = Page()
    with ReplicaServer(site) as replica:
        text = config_text(tmp / "regwatch.db", replica.url)
        config = loads(text)
        store = Store(config.store.url)
        pipeline = Pipeline(config, store)
        listing, page, broken = config.sources
        pipeline.check(listing)
        pipeline.check(page)
        pipeline.check(broken)
        site.titles = (GENE.replace("（征求意见稿）", ""), POTENCY, "干细胞产品可比性研究指导原则")
        site.hours = "受理时间：周一至周四 9:00-15:00。效价复核资料请于受理后提交。"
        pipeline.check(listing)
        pipeline.check(page)
    readonly = open_readonly_store(config.store.url)
    server, thread = serve_web(readonly, "127.0.0.1:0", settings=WebSettings.of(config))
    try:
        yield World(server_url(server), store)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
        readonly.close()
        store.close()


def get(world: World, path: str, **params: str) -> httpx.Response:
    return httpx.get(world.base + path, params=params, timeout=10)


def soup(response: httpx.Response) -> BeautifulSoup:
    assert response.status_code == 200, response.text
    return BeautifulSoup(response.text, "html.parser")


def test_search_finds_document_text_the_pipeline_stored(world: World) -> None:
    page = soup(get(world, "/search", q="效价"))
    titles = [row.select("td.title > a")[0].get_text() for row in page.select("tr.hit-row")]
    assert titles == ["cde-page", POTENCY]  # the page's text, then a title
    marks = {m.get_text() for m in page.select("mark")}
    assert marks == {"效价"}
    assert "效价复核资料" in page.select("p.hit")[0].get_text()
    assert page.select("#hit-count")[0].get_text().startswith("2 documents match")
    assert "CST" in page.select("td.when")[0].get_text()


def test_search_over_changes_and_filters(world: World) -> None:
    page = soup(get(world, "/search", q="可比性", **{"in": "changes"}))
    assert [r.select("td.title > a")[0].get_text() for r in page.select("tr.hit-row")] == [
        "干细胞产品可比性研究指导原则"
    ]
    none = soup(get(world, "/search", q="效价", source="unreachable-regional-site"))
    assert none.select("tr.hit-row") == []
    assert get(world, "/search", q="x", status="banana").status_code == 400
    assert get(world, "/search", q="%").status_code == 200
    assert soup(get(world, "/search")).select("tr.hit-row") == []


def test_side_by_side_beside_inline(world: World) -> None:
    doc = next(
        c
        for c in list_changes(world.store, ChangeFilter())
        if c["source"] == "cde-page" and c["event"] == "page_changed"
    )["document_id"]
    inline = soup(get(world, f"/documents/{doc}"))
    assert inline.select(".regwatch-diff") and inline.select("#side-by-side")
    assert [i["value"] for i in inline.select("input[name=v1]")] == ["1", "2"]
    sbs = soup(get(world, f"/documents/{doc}", view="sbs"))
    table = sbs.select("table.regwatch-sbs")[0]
    assert "五" in "".join(d.get_text() for d in table.select("td.old del"))
    assert "四" in "".join(i.get_text() for i in table.select("td.new ins"))
    assert not table.select("td.old ins") and not table.select("td.new del")
    chosen = soup(get(world, f"/documents/{doc}", v1="1", v2="2", view="sbs"))
    assert chosen.select("table.regwatch-sbs")
    assert get(world, f"/documents/{doc}", view="3d").status_code == 400


def test_csv_export_labels_zone_and_feed_links(world: World) -> None:
    index = soup(get(world, "/", since="999999d"))  # not a 500
    link = index.select("#export-csv")[0]["href"]
    csv = httpx.get(world.base + str(link), timeout=10)
    assert csv.content.startswith("\ufeffid,detected_at,".encode())
    assert "attachment" in csv.headers["content-disposition"]
    assert "Shanghai MPA 上海药监局" in index.get_text()
    assert "times in Asia/Shanghai" in index.get_text()
    feed = httpx.get(world.base + "/feed.atom", headers={"Host": "evil.example"}, timeout=10)
    assert feed.status_code == 200 and b"evil.example" not in feed.content
    assert b'href="/changes/' in feed.content


# -- real Chromium ----------------------------------------------------------------------------

CHROMIUM = browser_available()


@pytest.mark.browser
@pytest.mark.skipif(
    CHROMIUM is None, reason="Chromium or playwright is not installed (.ci/install-chromium.sh)"
)
@pytest.mark.parametrize("width", [1280, 400])
def test_search_diff_and_sources_in_chromium(world: World, width: int, tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    shots = Path(os.environ.get("REGWATCH_SCREENSHOTS") or tmp_path)
    shots.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as play:
        browser = play.chromium.launch(executable_path=CHROMIUM, headless=True, args=launch_args())
        page = browser.new_page(viewport={"width": width, "height": 900})
        page.goto(world.base + "/search")
        page.fill("input[name=q]", "效价")
        page.click("button[type=submit]")
        page.wait_for_selector("tr.hit-row")
        assert page.locator("tr.hit-row").count() == 2
        assert page.locator("mark").first.inner_text() == "效价"
        assert page.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 0
        page.screenshot(path=str(shots / f"search-{width}.png"), full_page=True)

        doc = next(
            c for c in list_changes(world.store, ChangeFilter()) if c["event"] == "page_changed"
        )["document_id"]
        page.goto(f"{world.base}/documents/{doc}")
        page.click("#side-by-side")
        page.wait_for_selector("table.regwatch-sbs")
        old = page.locator("table.regwatch-sbs td.old del").first.bounding_box()
        new = page.locator("table.regwatch-sbs td.new ins").first.bounding_box()
        assert old is not None and new is not None and old["x"] < new["x"]  # side by side
        assert page.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 0
        page.screenshot(path=str(shots / f"diff-sbs-{width}.png"), full_page=True)

        page.goto(world.base + "/sources")
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"the sources page is {overflow}px wider than {width}px"
        error = page.locator("td.error-text", has_text="127.0.0.1").first
        box = error.bounding_box()
        assert box is not None and box["x"] + box["width"] <= width
        assert error.is_visible()
        page.screenshot(path=str(shots / f"sources-{width}.png"), full_page=True)
        browser.close()
