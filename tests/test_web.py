"""The read-only web UI and feeds, served on 127.0.0.1 over a real SQLite store
that the real pipeline filled from a local replica site that changed between
checks."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from wsgiref.util import setup_testing_defaults
from wsgiref.validate import validator

import httpx
import lxml.etree
import pytest
from bs4 import BeautifulSoup
from sqlmodel import select
from typer.testing import CliRunner

from monitor.cli.main import app as cli_app
from monitor.config import loads
from monitor.errors import StoreError
from monitor.history import ChangeFilter, diff_versions, get_change, list_changes
from monitor.pipeline.check import Pipeline
from monitor.replica.server import ReplicaServer, Request, Response
from monitor.store import Store
from monitor.store.models import SourceRow
from monitor.web.server import (
    WebSettings,
    make_app,
    open_readonly_store,
    serve_web,
    server_url,
)
from monitor.web.views import days_left, today_in

ATOM = "{http://www.w3.org/2005/Atom}"
# the web UI counts "N days left" from this fixed moment, not from the wall
# clock: a run that crosses midnight must not turn 10 days into 9
NOW = datetime.now(UTC).replace(hour=12, minute=0, second=0, microsecond=0)
DEADLINE = (NOW + timedelta(days=10)).date().isoformat()
INOSINE = "国家药监局关于修订肌苷注射剂说明书的公告（2026年第87号）"
GENERIC = "关于发布化学药品注射剂仿制药质量和疗效一致性评价技术要求的通告"
GENE = "基因治疗产品长期随访临床研究技术指导原则（征求意见稿）"
CAR_T = "嵌合抗原受体T细胞(CAR-T)治疗产品药学研究技术指导原则（征求意见稿）"
SCRIPT = "<script>alert(1)</script>药品注册受理公告"


@dataclass
class Doc:
    path: str
    title: str
    date: str
    deadline: str = ""


@dataclass
class Site:
    """An NMPA-like list (with a comment deadline per item) and a plain page."""

    docs: list[Doc] = field(default_factory=list)
    hours: str = "周一至周五 9:00-16:00"
    down: bool = False

    def __call__(self, request: Request) -> Response:
        if request.path == "/list/index.html":
            items = "".join(
                f'<li><a href="../articles/{d.path}.html">'
                f"{d.title.replace('<', '&lt;').replace('>', '&gt;')}</a>"
                f"<span>({d.date})</span><em>{d.deadline}</em></li>"
                for d in self.docs
            )
            return Response(
                body=f'<html><head><meta charset="utf-8"></head><body>'
                f'<div class="list"><ul>{items}</ul></div></body></html>'
            )
        if request.path == "/policy.html":
            if self.down:
                return Response(status=503, body="<html>busy</html>")
            return Response(
                body=f"<html><body><main><h1>药品审评中心受理服务</h1>"
                f"<p>受理时间：{self.hours}</p><p>咨询电话：010-68585566</p>"
                "</main></body></html>"
            )
        return Response(status=404, body="not found")


@dataclass
class World:
    base: str  # the web UI
    store: Store  # a read-write handle, for the expected values
    url: str  # the store's URL


def config_text(db: Path, site: str) -> str:
    return f"""
[store]
url = "sqlite:///{db}"

[http]
user_agent = "regwatch-test/0.1 (+mailto:test@example.com)"
timeout = 2
delay = 0
retries = 1
backoff = 0.01

[[source]]
name = "nmpa-like"
kind = "html-list"
url = "{site}/list/index.html"
jurisdiction = "CN"
item = ".list ul li"
title = "a"
link = "a@href"
date = "span"
fields = {{ comment_deadline = "em" }}
every = "6h"

[[source]]
name = "cde-page"
kind = "page"
url = "{site}/policy.html"
jurisdiction = "CN"
region = "main"
every = "6h"
"""


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    tmp = tmp_path_factory.mktemp("web")
    site = Site(
        docs=[
            Doc("1001", INOSINE, "2026-06-25"),
            Doc("1002", GENERIC, "2026-05-20"),
            Doc("1003", GENE, "2026-05-01"),
        ]
    )
    with ReplicaServer(site) as replica:
        config = loads(config_text(tmp / "regwatch.db", replica.url))
        (tmp / "regwatch.toml").write_text(
            config_text(tmp / "regwatch.db", replica.url), encoding="utf-8"
        )
        store = Store(config.store.url)
        pipeline = Pipeline(config, store)
        listing, page = config.sources
        assert pipeline.check(listing).outcome == "baseline"
        pipeline.check(page)
        site.docs.insert(0, Doc("1009", CAR_T, "2026-11-01", DEADLINE))
        site.docs.insert(1, Doc("1010", SCRIPT, "2026-11-02"))
        site.docs[3] = Doc("1002", GENERIC + "（第二版）", "2026-05-20")
        site.hours = "周一至周四 9:00-15:00"
        assert pipeline.check(listing).changes == 3
        assert pipeline.check(page).changes == 1
        site.docs.pop()  # a removal counts after two healthy runs
        pipeline.check(listing)
        assert pipeline.check(listing).changes == 1
        site.down = True
        assert pipeline.check(page).outcome == "failed"
    readonly = open_readonly_store(config.store.url)
    settings = WebSettings(title="RA watch", clock=lambda: NOW)
    server, thread = serve_web(readonly, "127.0.0.1:0", settings=settings)
    try:
        yield World(server_url(server), store, config.store.url)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
        readonly.close()


def get(world: World, path: str, **params: str) -> httpx.Response:
    return httpx.get(world.base + path, params=params, timeout=10)


def html(text: str | bytes) -> BeautifulSoup:
    return BeautifulSoup(text, "html.parser")


def rows(response: httpx.Response) -> list[tuple[int, str]]:
    """(change id, title) of each row of the changes table."""
    assert response.status_code == 200, response.text
    page = html(response.text)
    return [
        (int(str(tr["id"]).removeprefix("change-")), tr.select("td.title > a")[0].get_text())
        for tr in page.select("tr[id^=change-]")
    ]


def by_title(world: World, title: str) -> dict[str, Any]:
    return next(
        c for c in list_changes(world.store, ChangeFilter(limit=100)) if c["title"] == title
    )


# -- pages ------------------------------------------------------------------------


def test_the_index_lists_every_change_newest_first(world: World) -> None:
    response = get(world, "/")
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert '<meta charset="utf-8">' in response.text
    expected = [(c["id"], c["title"]) for c in list_changes(world.store, ChangeFilter())]
    assert rows(response) == expected
    assert {title for _, title in expected} >= {CAR_T, SCRIPT, GENE, GENERIC + "（第二版）"}
    assert (
        "Cell therapy 细胞治疗药品" in response.text
        and "Gene therapy 基因治疗药品" in response.text
    )
    assert "10 days left" in response.text and DEADLINE in response.text
    page = html(response.text)
    links = {a.get_text(): a.get("href") for a in page.select("td.title > a")}
    assert links[CAR_T] == by_title(world, CAR_T)["url"]


@pytest.mark.parametrize(
    "params, titles",
    [
        ({"atmp": "cell_therapy"}, {CAR_T}),
        ({"atmp": "gene_therapy"}, {GENE}),
        ({"kind": "removed"}, {GENE}),
        ({"kind": "draft"}, {CAR_T}),
        ({"relevant": "true"}, {CAR_T, GENE}),
        ({"source": "cde-page"}, {"cde-page"}),
        ({"search": "基因治疗"}, {GENE}),
        ({"search": "嵌合抗原受体"}, {CAR_T}),
        ({"search": "CAR-T", "jurisdiction": "cn", "since": "1d"}, {CAR_T}),
        ({"jurisdiction": "US"}, set()),
        ({"since": "2099-01-01"}, set()),
    ],
)
def test_filters_and_search_match_the_cli(
    world: World, params: dict[str, str], titles: set[str]
) -> None:
    assert {title for _, title in rows(get(world, "/", **params))} == titles


def test_pages_follow_each_other_without_gaps(world: World) -> None:
    everything = [c["id"] for c in list_changes(world.store, ChangeFilter())]
    seen: list[int] = []
    url = world.base + "/?limit=2"
    for _ in range(10):  # 5 changes, 2 a page: 3 pages; more means "older" never ends
        if not url:
            break
        response = httpx.get(url, timeout=10)
        page_rows = rows(response)
        assert 0 < len(page_rows) <= 2
        seen += [change_id for change_id, _ in page_rows]
        older = html(response.text).select("a[rel=next]")
        url = world.base + str(older[0]["href"]) if older else ""
    assert seen == everything and len(everything) == 5


def test_a_change_page_shows_evidence_links_and_deadline(world: World) -> None:
    change = get_change(world.store, by_title(world, CAR_T)["id"])
    response = get(world, f"/changes/{change['id']}")
    page = html(response.text)
    evidence = [m.get_text() for m in page.select(".evidence mark")]
    assert evidence == change["classification"]["evidence"] and evidence
    assert "嵌合抗原受体T细胞" in evidence
    hrefs = [a.get("href") for a in page.select("a")]
    assert change["url"] in hrefs and f"/documents/{change['document_id']}" in hrefs
    assert "CAR-T 嵌合抗原受体T细胞" in response.text and "10 days left" in response.text


def test_days_left_count_where_the_team_is() -> None:
    late_evening_utc = datetime(2026, 11, 30, 23, 30, tzinfo=UTC)  # 07:30 on 1 Dec in Beijing
    assert today_in("UTC", lambda: late_evening_utc).isoformat() == "2026-11-30"
    assert today_in("Asia/Shanghai", lambda: late_evening_utc).isoformat() == "2026-12-01"
    assert days_left("2026-12-11", today_in("Asia/Shanghai", lambda: late_evening_utc)) == 10
    assert days_left("2026-12-11", today_in("UTC", lambda: late_evening_utc)) == 11
    assert days_left("2026-11-30", today_in("Asia/Shanghai", lambda: late_evening_utc)) == -1


def test_the_pages_count_days_in_the_configured_zone(world: World) -> None:
    change = by_title(world, CAR_T)
    beijing = WebSettings(
        timezone="Asia/Shanghai", clock=lambda: NOW.replace(hour=23, minute=30)
    )  # 07:30 the next morning in Beijing: one day fewer than in UTC
    readonly = open_readonly_store(world.url)
    try:
        for settings, expected in ((WebSettings(clock=lambda: NOW), 10), (beijing, 9)):
            server, thread = serve_web(readonly, "127.0.0.1:0", settings=settings)
            try:
                page = httpx.get(f"{server_url(server)}/changes/{change['id']}", timeout=10)
            finally:
                server.shutdown()
                server.server_close()
                thread.join(5)
            assert f"{expected} days left · 剩{expected}天" in page.text
    finally:
        readonly.close()


def test_a_change_page_shows_the_stored_diff_marked(world: World) -> None:
    change = get_change(world.store, by_title(world, "cde-page")["id"])
    assert change["diff"] and "[-" in change["diff"] and "{+" in change["diff"]
    page = html(get(world, f"/changes/{change['id']}").text)
    pre = page.select("pre.diff")[0]
    deleted = re.findall(r"\[-(.*?)-\]", change["diff"])
    inserted = re.findall(r"\{\+(.*?)\+\}", change["diff"])
    assert [d.get_text() for d in pre.select("del")] == deleted
    assert [i.get_text() for i in pre.select("ins")] == inserted
    plain = re.sub(r"\[-|-\]|\{\+|\+\}", "", change["diff"])
    assert pre.get_text() == plain


def test_a_document_page_lists_versions_and_diffs_two(world: World) -> None:
    doc_id = by_title(world, GENERIC + "（第二版）")["document_id"]
    response = get(world, f"/documents/{doc_id}")
    page = html(response.text)
    versions = [int(str(i["value"])) for i in page.select("input[name=v1]")]
    assert len(versions) >= 2
    chosen = get(world, f"/documents/{doc_id}", v1=str(versions[0]), v2=str(versions[-1]))
    expected = diff_versions(world.store, doc_id, versions[0], versions[-1])
    shown = html(chosen.text).select(".regwatch-diff")[0]
    assert [i.get_text() for i in shown.select("ins")] == [
        i.get_text() for i in html(expected.html(context=3)).select("ins")
    ]
    assert "（第二版）" in "".join(i.get_text() for i in shown.select("ins"))
    assert get(world, f"/documents/{doc_id}", v1="999999", v2=str(versions[0])).status_code == 404
    assert get(world, f"/documents/{doc_id}", v1=str(versions[0])).status_code == 400


def test_the_sources_page_shows_health_from_the_store(world: World) -> None:
    page = html(get(world, "/sources").text)
    with world.store.session() as session:
        stored = {s.name: s for s in session.exec(select(SourceRow)).all()}
    assert stored["cde-page"].consecutive_failures == 1 and stored["cde-page"].last_error
    assert stored["cde-page"].last_outcome == "failed"
    assert [str(tr["id"]) for tr in page.select("tbody tr")] == [
        "source-cde-page",
        "source-nmpa-like",
    ]
    for name, source in stored.items():
        row = page.select(f"tr#source-{name}")[0]
        assert row.select("td.failures")[0].get_text() == str(source.consecutive_failures)
        assert row.select("td.error-text")[0].get_text() == source.last_error
        assert row.select(".badge")[0].get_text() == source.last_outcome


# -- feeds --------------------------------------------------------------------------


def test_the_atom_feed_parses_and_has_the_right_entries(world: World) -> None:
    response = get(world, "/feed.atom")
    assert response.headers["content-type"].startswith("application/atom+xml")
    feed = lxml.etree.fromstring(response.content)
    assert feed.tag == f"{ATOM}feed" and feed.findtext(f"{ATOM}id").startswith("tag:")
    expected = list_changes(world.store, ChangeFilter(limit=50))
    entries = feed.findall(f"{ATOM}entry")
    assert [e.findtext(f"{ATOM}title") for e in entries] == [
        f"[{c['event']}] {c['title']}" for c in expected
    ]
    ids = [e.findtext(f"{ATOM}id") for e in entries]
    assert len(set(ids)) == len(ids) and all(
        re.fullmatch(r"tag:[^,]+,\d{4}:change/\d+", i) for i in ids
    )
    for entry in entries:
        datetime.fromisoformat(entry.findtext(f"{ATOM}updated")).utcoffset()
    only = lxml.etree.fromstring(get(world, "/feed.atom", atmp="cell_therapy").content)
    [entry] = only.findall(f"{ATOM}entry")
    car_t = by_title(world, CAR_T)
    assert entry.findtext(f"{ATOM}title") == f"[draft] {CAR_T}"
    assert entry.find(f"{ATOM}link[@rel='alternate']").get("href") == car_t["url"]
    content = entry.findtext(f"{ATOM}content")
    assert "Cell therapy 细胞治疗药品" in content and DEADLINE in content


def test_the_json_endpoints_equal_the_cli_json(world: World) -> None:
    assert get(world, "/changes.json").json() == list_changes(world.store, ChangeFilter())
    assert get(world, "/changes.json", atmp="gtmp", limit="1").json() == list_changes(
        world.store, ChangeFilter(atmp="gtmp", limit=1)
    )
    change_id = by_title(world, "cde-page")["id"]
    assert get(world, f"/changes/{change_id}.json").json() == get_change(world.store, change_id)


# -- errors, escaping, HTTP ---------------------------------------------------------


@pytest.mark.parametrize(
    "path, status, words",
    [
        ("/changes/999999", 404, "no change with id 999999"),
        ("/documents/999999", 404, "no document with id 999999"),
        ("/changes/abc", 404, "no page"),
        ("/nowhere", 404, "no page"),
        ("/?since=last+tuesday", 400, "since='last tuesday': use a date"),
        ("/feed.atom?limit=0", 400, "limit='0'"),
        ("/?atmp=cars", 400, "atmp='cars'"),
        ("/?kind=drafts", 400, "kind='drafts'"),
        ("/?relevant=maybe", 400, "relevant='maybe'"),
        ("/?before=x", 400, "before='x'"),
    ],
)
def test_bad_requests_get_a_clear_page_never_a_traceback(
    world: World, path: str, status: int, words: str
) -> None:
    response = httpx.get(world.base + path, timeout=10)
    assert response.status_code == status
    assert words in html(response.text).select("p.error")[0].get_text()
    assert "Traceback" not in response.text


def test_json_errors_are_json(world: World) -> None:
    response = get(world, "/changes.json", since="soon")
    assert response.status_code == 400 and "since='soon'" in response.json()["error"]
    assert get(world, "/changes/424242.json").json()["status"] == 404


def test_only_get_and_head_are_allowed(world: World) -> None:
    for method in ("POST", "PUT", "DELETE"):
        response = httpx.request(method, world.base + "/", timeout=10)
        assert response.status_code == 405 and response.headers["allow"] == "GET, HEAD"
    head = httpx.head(world.base + "/", timeout=10)
    full = get(world, "/")
    assert head.status_code == 200 and head.content == b""
    assert int(head.headers["content-length"]) == len(full.content)
    again = httpx.get(world.base + "/", headers={"If-None-Match": full.headers["etag"]}, timeout=10)
    assert again.status_code == 304 and again.content == b""


def test_titles_are_escaped_everywhere(world: World) -> None:
    change = by_title(world, SCRIPT)
    for path in ("/", f"/changes/{change['id']}", f"/documents/{change['document_id']}"):
        body = get(world, path).text
        assert "<script>" not in body and "&lt;script&gt;alert(1)&lt;/script&gt;" in body
    feed = lxml.etree.fromstring(get(world, "/feed.atom", search="alert(1)").content)
    assert [e.findtext(f"{ATOM}title") for e in feed.findall(f"{ATOM}entry")] == [
        f"[added] {SCRIPT}"
    ]
    assert "script-src" not in get(world, "/").headers["content-security-policy"]


def test_the_store_it_reads_refuses_writes(world: World, tmp_path: Path) -> None:
    readonly = open_readonly_store(world.url)
    try:
        with pytest.raises(StoreError, match="readonly"), readonly.session(write=True) as s:
            s.add(SourceRow(name="intruder", kind="page"))
    finally:
        readonly.close()
    with pytest.raises(StoreError, match="no database"):
        open_readonly_store(f"sqlite:///{tmp_path / 'missing.db'}")


def test_the_app_is_valid_wsgi_and_honours_its_mount_point(world: World) -> None:
    readonly = open_readonly_store(world.url)
    app = validator(make_app(readonly))
    try:
        for method, path, status in [
            ("GET", "/", "200"),
            ("HEAD", "/sources", "200"),
            ("POST", "/", "405"),
            ("GET", "/changes.json", "200"),
            ("GET", "/feed.atom", "200"),
            ("GET", "/x", "404"),
        ]:
            environ: dict[str, Any] = {
                "REQUEST_METHOD": method,
                "PATH_INFO": path,
                "SCRIPT_NAME": "/regwatch",
                "QUERY_STRING": "",
            }
            setup_testing_defaults(environ)
            seen: list[str] = []

            def start_response(
                state: str,
                headers: list[tuple[str, str]],
                exc_info: Any = None,
                seen: list[str] = seen,
            ) -> Any:
                seen.append(state)
                return lambda data: None

            result = app(environ, start_response)
            body = b"".join(result)
            result.close()  # type: ignore[attr-defined]
            assert seen[0].startswith(status)
            if path == "/" and method == "GET":
                hrefs = [str(a["href"]) for a in html(body).select("a[href]")]
                assert "/regwatch/sources" in hrefs
                assert not [
                    h for h in hrefs if h.startswith("/") and not h.startswith("/regwatch/")
                ]
    finally:
        readonly.close()


# -- the command ------------------------------------------------------------------


def test_regwatch_web_serves_until_sigterm(world: World, tmp_path: Path) -> None:
    config = tmp_path / "web.toml"
    config.write_text(f'[store]\nurl = "{world.url}"\n', encoding="utf-8")
    with subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from monitor.cli.main import app; app()",
            "web",
            "-c",
            str(config),
            "--listen",
            "127.0.0.1:0",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).resolve().parents[1],
        env={**os.environ, "COLUMNS": "200"},
    ) as process:
        try:
            assert process.stdout is not None and process.stderr is not None
            line = process.stdout.readline()
            url = re.search(r"http://127\.0\.0\.1:\d+", line)
            assert url, line + (process.stderr.read() if process.poll() is not None else "")
            assert CAR_T in httpx.get(url.group(0) + "/", timeout=10).text
            process.send_signal(signal.SIGTERM)
            assert process.wait(timeout=10) == 0
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()


def test_regwatch_web_without_a_database_is_one_line(tmp_path: Path) -> None:
    config = tmp_path / "web.toml"
    config.write_text(f'[store]\nurl = "sqlite:///{tmp_path / "none.db"}"\n', encoding="utf-8")
    result = CliRunner().invoke(cli_app, ["web", "-c", str(config)])
    assert result.exit_code == 3 and "no database" in result.output
    assert not (tmp_path / "none.db").exists() and "Traceback" not in result.output
