"""The ``nmpa`` adapter: parsers on replica bytes, then collect() through a real
HttpFetcher against the NMPA replica on 127.0.0.1."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import docx
import pytest
from pydantic import ValidationError

from monitor.config import loads
from monitor.history import ChangeFilter, list_changes
from monitor.pipeline.check import Pipeline
from monitor.replica.nmpa import COLUMNS, NmpaReplica
from monitor.replica.server import App, ReplicaServer, Request, Response
from monitor.store import Store
from sources.adapters.nmpa import NmpaColumns, NmpaSettings, parse_article, parse_column_page
from sources.errors import Blocked, FetchError, LayoutChanged
from sources.fetch.http import HttpFetcher, HttpSettings
from sources.registry import adapter_for
from sources.types import Listing, Record

ISO = re.compile(r"^\d{4}-\d{2}-\d{2}$")
DEFAULT = ["/xxgk/ggtg/", "/yaopin/ypfgwj/", "/xxgk/zhqyj/"]


class Mount:
    """The app the module's one server serves (stopping a server takes 0.5 s)."""

    def __init__(self) -> None:
        self.app: App = NmpaReplica()

    def __call__(self, request: Request) -> Response:
        return self.app(request)


@dataclass
class Site:
    replica: NmpaReplica
    server: ReplicaServer
    fetcher: HttpFetcher
    mount: Mount
    mark: int

    @property
    def requests(self) -> list[Request]:
        return self.server.requests[self.mark :]

    def collect(self, known: dict[str, Record] | None = None, **settings: object) -> Listing:
        values = {**self.replica.source_settings(self.server.url), **settings}
        return NmpaColumns(NmpaColumns.Settings(**values)).collect(self.fetcher, known or {})

    def use(self, replica: NmpaReplica) -> None:
        self.replica = replica
        self.mount.app = replica


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[ReplicaServer, Mount]]:
    mount = Mount()
    with ReplicaServer(mount) as server:
        yield server, mount


@pytest.fixture
def site(served: tuple[ReplicaServer, Mount]) -> Iterator[Site]:
    server, mount = served
    replica = NmpaReplica()
    mount.app = replica
    # robots.txt off: these tests list the requests made (robots.txt: tests/test_robots.py)
    with HttpFetcher(HttpSettings(delay=0, retries=0, robots=False)) as fetcher:
        yield Site(replica, server, fetcher, mount, len(server.requests))


def _page(replica: NmpaReplica, path: str) -> str:
    response = replica(Request("GET", path, {}, {}, b"", base="http://x"))
    assert response.status == 200
    return response.payload().decode("utf-8")


# --- parsers on replica bytes --------------------------------------------------


def test_parse_column_page_resolves_relative_links() -> None:
    replica = NmpaReplica()
    html = _page(replica, "/xxgk/ggtg/index_1.html")
    assert 'href="../../' in html
    base = "https://www.nmpa.gov.cn"
    page = parse_column_page(html, base + "/xxgk/ggtg/index_1.html", base, "/xxgk/ggtg/")
    expected = replica.in_column("ggtg")[20:40]
    assert [r.key for r in page.records] == [a.path for a in expected]
    assert [r.url for r in page.records] == [base + a.path for a in expected]
    assert [r.title for r in page.records] == [a.title for a in expected]
    assert all(ISO.match(r.date or "") for r in page.records)
    assert page.pages == 3


def test_parse_column_page_without_a_list_is_a_layout_change() -> None:
    with pytest.raises(LayoutChanged):
        parse_column_page("<div class='lmlist'>改版</div>", "u", "https://x", "/xxgk/ggtg/")


def test_parse_article_reads_stamp_files_and_deadline() -> None:
    replica = NmpaReplica(seeded=False)
    article = replica.add_article(
        "zhqyj", "关于公开征求《干细胞临床研究管理办法（征求意见稿）》意见的通知", "2026-10-15"
    )
    html = _page(replica, article.path)
    url = "https://www.nmpa.gov.cn" + article.path
    fields, files = parse_article(html, url, article.date)
    assert fields["published"] == article.stamp
    assert fields["comment_deadline"] == "2026-11-14"  # 30 days, stated as 2026年11月14日前
    directory = url.rsplit("/", 1)[0]
    assert [(a.url, a.name) for a in files] == [
        (directory + f.path[f.path.rfind("/") :], f.name) for f in article.files
    ]


# --- collect() against the replica ------------------------------------------------


def test_collect_reads_the_default_columns(site: Site) -> None:
    listing = site.collect()
    expected = {a.path for c in DEFAULT for a in site.replica.in_column(c)}
    assert {r.key for r in listing.records} == expected
    assert len(listing.records) == len(expected) == 135
    pages = sorted(
        r.path
        for r in site.requests
        if r.path.endswith(("index.html", "_1.html", "_2.html", "_3.html"))
    )
    assert pages == sorted(
        f"{c}{n}" for c in DEFAULT for n in ("index.html", "index_1.html", "index_2.html")
    )
    for record in listing.records:
        assert ISO.match(record.date or "")
        assert record.url == site.server.url + record.key
        assert record.fields["published"].startswith(record.date or "-")
        assert all(a.url.startswith(site.server.url + "/") for a in record.attachments)
    consultations = [r for r in listing.records if r.fields["column"] == "/xxgk/zhqyj/"]
    assert all(r.status == "征求意见" for r in consultations)
    assert all(ISO.match(r.fields.get("comment_deadline", "")) for r in consultations)
    assert all(len(r.attachments) == 2 for r in consultations)


def test_attachments_are_real_files(site: Site) -> None:
    listing = site.collect(columns=["zhqyj"])
    record = next(r for r in listing.records if "细胞" in r.title)
    body = site.fetcher.get(record.attachments[0].url, expect="bytes").body
    text = "\n".join(p.text for p in docx.Document(io.BytesIO(body)).paragraphs)
    assert text.splitlines()[0] in record.title


def test_a_404_past_the_last_page_ends_the_column(site: Site) -> None:
    replica = site.replica

    def no_pager(request: Request) -> Response:  # a page without createPageHTML(...)
        response = replica(request)
        response.body = response.payload().replace(b"createPageHTML", b"pager")
        return response

    site.mount.app = no_pager
    listing = site.collect(columns=["ggtg"], max_pages=10, details=False)
    assert len(listing.records) == 45
    assert [r.path for r in site.requests][-1] == "/xxgk/ggtg/index_3.html"


def test_a_404_for_the_first_page_is_an_error(site: Site) -> None:
    with pytest.raises(FetchError) as caught:
        site.collect(columns=["/xxgk/nosuchcolumn/"])
    assert caught.value.status == 404


def test_gbk_column_decodes(site: Site) -> None:
    site.use(NmpaReplica(gbk=["ypfgwj"]))
    raw = site.fetcher.get(site.server.url + "/yaopin/ypfgwj/index.html")
    assert "charset" not in raw.headers.get("content-type", "")
    assert "国家药监局".encode("gbk") in raw.body
    listing = site.collect(columns=["ypfgwj"])
    titles = {a.path: a.title for a in site.replica.in_column("ypfgwj")}
    assert {r.key: r.title for r in listing.records} == titles
    assert all(r.fields.get("published") for r in listing.records)


def test_column_names_and_paths(site: Site) -> None:
    settings = NmpaSettings(
        name="n", kind="nmpa", columns=["ggtg", "ypzhcjd", "/xxgk/zhqyj/index.html", "ggtg"]
    )
    assert settings.columns == ["/xxgk/ggtg/", "/yaopin/ypzhcjd/", "/xxgk/zhqyj/"]
    with pytest.raises(ValidationError):
        NmpaSettings(name="n", kind="nmpa", columns=["notices"])
    listing = site.collect(columns=["ypggtg", "ypzhcjd"], details=False)
    assert {r.fields["column"] for r in listing.records} == {COLUMNS["ypggtg"], COLUMNS["ypzhcjd"]}


def test_known_records_spare_the_article_pages(site: Site) -> None:
    first = site.collect()
    known = {r.key: r for r in first.records}
    mark = len(site.server.requests)
    assert site.collect(known).records == first.records
    assert all(r.path.endswith(".html") and "/index" in r.path for r in site.server.requests[mark:])

    new = site.replica.add_article(
        "zhqyj",
        "关于公开征求《CAR-T细胞治疗产品生产质量管理指南（征求意见稿）》意见的通知",
        "2026-11-25",
    )
    renamed = site.replica.in_column("ggtg")[3]
    site.replica.edit_title(renamed.path, renamed.title + "（更正）")
    mark = len(site.server.requests)
    by_key = {r.key: r for r in site.collect(known).records}
    articles = sorted(r.path for r in site.server.requests[mark:] if "/index" not in r.path)
    assert articles == sorted([new.path, renamed.path])
    assert by_key[new.path].fields["comment_deadline"] == "2026-12-25"
    assert by_key[renamed.path].title.endswith("（更正）")


def test_items_that_scroll_off_are_kept_not_removed(site: Site) -> None:
    first = site.collect(columns=["ggtg"], max_pages=1)
    assert len(first.records) == 20
    known = {r.key: r for r in first.records}
    for n in range(5):
        site.replica.add_article(
            "ggtg",
            f"国家药监局关于修订第{n}批药品说明书的公告（2026年第{91 + n}号）",
            f"2026-11-2{n + 1}",
        )
    gone = site.replica.in_column("ggtg")[7]  # among the newest page: really withdrawn
    site.replica.remove(gone.path)
    second = site.collect(known, columns=["ggtg"], max_pages=1)
    keys = {r.key for r in second.records}
    assert gone.path not in keys
    assert set(known) - {gone.path} <= keys
    assert len(keys) == 20 + 5 - 1


def test_an_article_in_two_columns_is_one_record(site: Site) -> None:
    article = site.replica.add_article(
        "ggtg",
        "国家药监局关于发布《细胞治疗产品生产质量管理指南》的公告（2026年第95号）",
        "2026-11-28",
        also=["ypfgwj"],
    )
    listing = site.collect()
    matching = [r for r in listing.records if r.key == article.path]
    assert len(matching) == 1
    assert matching[0].fields["column"] == "/xxgk/ggtg/,/yaopin/ypfgwj/"
    assert matching[0].attachments


def test_noise_changes_pages_but_not_records(site: Site) -> None:
    first = site.collect(columns=["zhqyj"])
    before = site.fetcher.get(first.records[0].url).body
    site.replica.touch()
    assert site.fetcher.get(first.records[0].url).body != before
    assert site.collect(columns=["zhqyj"]).records == first.records


def test_blocked_site_raises_blocked(site: Site) -> None:
    site.replica.mode = "blocked"
    with pytest.raises(Blocked) as caught:
        site.collect()
    assert caught.value.status == 412
    raw = site.replica(Request("GET", "/xxgk/ggtg/index.html", {}, {}, b""))
    assert raw.status == 412 and b"$_ts.cd" in raw.payload() and b"$_ts.nsd" in raw.payload()
    assert raw.headers["Set-Cookie"].startswith("acw_tc=")
    assert raw.headers["set-cookie"].startswith("NfBCSins2OywS")


def test_empty_site_is_a_layout_change(site: Site) -> None:
    site.replica.mode = "empty"
    with pytest.raises(LayoutChanged):
        site.collect()


def test_server_error_is_a_fetch_error(site: Site) -> None:
    site.replica.mode = "error"
    with pytest.raises(FetchError) as caught:
        site.collect()
    assert not isinstance(caught.value, Blocked) and caught.value.status == 503


def test_details_off_reads_only_the_lists(site: Site) -> None:
    listing = site.collect(details=False)
    assert len(listing.records) == 135
    assert all("/index" in r.path for r in site.requests)
    assert all("published" not in r.fields and not r.attachments for r in listing.records)


def test_registered_as_a_chinese_source() -> None:
    cls = adapter_for("nmpa")
    assert cls is NmpaColumns
    assert cls.jurisdiction == "CN" and cls.default_base_url == "https://www.nmpa.gov.cn"


# --- issue 9, item 7: a column that moved is a health event, never parsed ---------


@pytest.mark.parametrize("to", ["/", "/index.html", "/yaopin/ypzhcjd/index.html"])
def test_a_column_that_redirects_away_is_a_layout_change(site: Site, to: str) -> None:
    site.replica.move_column("/xxgk/ggtg/", to)
    home = _page(site.replica, "/")
    assert 'class="list"' in home and "<li>" in home  # the home page has lists too
    with pytest.raises(LayoutChanged, match="moved") as caught:
        site.collect(columns=["/xxgk/ggtg/"])
    expected = "the site home page" if to != "/yaopin/ypzhcjd/index.html" else to
    assert expected in str(caught.value)
    articles = [r for r in site.requests if r.path.endswith(".html") and "index" not in r.path]
    assert articles == []  # nothing parsed from where it landed


def test_a_later_page_that_redirects_away_is_a_layout_change(site: Site) -> None:
    replica = site.replica
    real = replica.__call__

    def app(request: Request) -> Response:
        if request.path == "/xxgk/ggtg/index_1.html":
            return Response(status=302, headers={"Location": request.base + "/"})
        return real(request)

    site.mount.app = app
    with pytest.raises(LayoutChanged, match="home page"):
        site.collect(columns=["/xxgk/ggtg/"], details=False)


def test_a_redirect_within_the_column_is_followed(site: Site) -> None:
    replica = site.replica
    real = replica.__call__

    def app(request: Request) -> Response:
        if request.path == "/xxgk/ggtg/index.html" and "moved" not in request.query:
            return Response(status=301, headers={"Location": request.base + "/xxgk/ggtg/"})
        return real(request)

    site.mount.app = app
    listing = site.collect(columns=["/xxgk/ggtg/"], details=False)
    assert len(listing.records) == min(len(replica.in_column("/xxgk/ggtg/")), 60)


def test_a_broken_article_is_counted_and_kept(site: Site) -> None:
    replica = site.replica
    broken = replica.in_column("/xxgk/ggtg/")[0].path
    real = replica.__call__

    def app(request: Request) -> Response:
        if request.path == broken:
            return Response(status=500, body="error")
        return real(request)

    site.mount.app = app
    listing = site.collect(columns=["/xxgk/ggtg/"])
    assert len(listing.item_errors) == 1
    assert {r.key: r for r in listing.records}[broken].attachments == ()


def test_a_moved_column_through_the_pipeline_is_health_not_changes(tmp_path: Path) -> None:
    """Baseline, then the column redirects home: every run fails with "moved" and
    no document is added or removed (before: the home page's list was parsed as
    the column and gave 7 false alerts — 5 "added", 2 "draft")."""
    replica = NmpaReplica()
    with ReplicaServer(replica) as server:
        config = loads(f"""
[store]
url = "sqlite:///{tmp_path / "n.db"}"
[http]
delay = 0
retries = 0
[[source]]
name = "nmpa"
kind = "nmpa"
base_url = "{server.url}"
columns = ["ggtg"]
attachments = false
""")
        store = Store(config.store.url)
        pipeline = Pipeline(config, store)
        assert pipeline.check(config.sources[0]).outcome == "baseline"
        replica.move_column("ggtg")
        results = [pipeline.check(config.sources[0]) for _ in range(3)]
    assert [r.outcome for r in results] == ["failed"] * 3
    assert all("moved" in r.error and "home page" in r.error for r in results)
    events = [c["event"] for c in list_changes(store, ChangeFilter(limit=200))]
    assert set(events) <= {"health"}
