"""The generic adapters (html-list, json-list, rss, page) on replica pages.

Parsers are checked as pure functions of the replica bytes; ``collect()`` runs
through the real ``HttpFetcher`` against ``ReplicaServer`` on 127.0.0.1.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from monitor.replica.base import SiteReplica
from monitor.replica.server import ReplicaServer, Request, Response
from sources.adapters.html_list import HtmlList, HtmlListSettings, parse_list
from sources.adapters.json_list import JsonList, JsonListSettings, parse_records
from sources.adapters.page import Page, PageSettings, page_text
from sources.adapters.rss import Rss, RssSettings, parse_feed
from sources.errors import Blocked, LayoutChanged, ParseError
from sources.fetch.http import HttpFetcher, HttpSettings
from sources.registry import Adapter, SourceSettings, adapter_for
from sources.types import Listing

# -- replica content ------------------------------------------------------------

NMPA_TITLES = [
    "国家药监局关于发布《人源干细胞产品药学研究与评价技术指导原则（试行）》的通告（2026年第{n}号）",
    "国家药监局关于修订肌苷注射剂说明书的公告（2026年第{n}号）",
    "国家药监局关于公开征求《基因治疗产品非临床研究技术指导原则（征求意见稿）》意见的通知（{n}）",
]
# (article stamp, title, date) — 25 documents, newest first, 20 a page like NMPA.
NMPA_DOCS = [
    (
        f"202606{28 - i // 2:02d}10{i:02d}56150",
        NMPA_TITLES[i % 3].format(n=90 - i),
        f"2026-06-{28 - i // 2:02d}",
    )
    for i in range(25)
]
NMPA_PER_PAGE = 20


def nmpa_page(
    docs: list[tuple[str, str, str]], number: int, pages: int, charset: str, session: str = ""
) -> str:
    token = f";jsessionid={session}" if session else ""
    items = "\n".join(
        f'<li><a href="../../xxgk/ggtg/{stamp}.html{token}" target="_blank">{title}</a>'
        f"<span>({day})</span></li>"
        for stamp, title, day in docs
    )
    nxt = f'<a href="index_{number + 1}.html">下一页</a>' if number + 1 < pages else ""
    return f"""<!DOCTYPE html>
<html><head><meta http-equiv="Content-Type" content="text/html; charset={charset}">
<title>公告通告 - 国家药品监督管理局</title><script>var _hmt = [];</script></head>
<body><div class="header"><ul class="nav"><li><a href="/">首页</a></li></ul></div>
<div class="list"><ul>
{items}
</ul></div>
<div class="page">共{pages}页 {nxt}</div>
<div class="footer">版权所有：国家药品监督管理局 访问量：{1000 + number}</div>
</body></html>"""


class NmpaLike(SiteReplica):
    """``/xxgk/ggtg/index.html``, ``index_1.html``…; 404 past the last page.

    ``charset="gbk"`` serves GBK bytes declared only in a ``<meta>``; ``etag``
    makes it answer conditional GETs; ``session`` appends a jsessionid to links.
    """

    kind = "nmpa-like"

    def __init__(self, charset: str = "utf-8") -> None:
        self.docs = list(NMPA_DOCS)
        self.charset = charset
        self.etag: str | None = None
        self.session = ""

    def serve(self, request: Request) -> Response:
        match = re.fullmatch(r"/xxgk/ggtg/index(?:_(\d+))?\.html", request.path)
        if not match:
            return Response(status=404, body="<html><body>404</body></html>")
        number = int(match.group(1) or 0)
        pages = max(1, -(-len(self.docs) // NMPA_PER_PAGE))
        if number >= pages:
            return Response(status=404, body="<html><body>404 Not Found</body></html>")
        if self.etag and request.header("If-None-Match") == self.etag:
            return Response(status=304, headers={"ETag": self.etag})
        chunk = self.docs[number * NMPA_PER_PAGE : (number + 1) * NMPA_PER_PAGE]
        if self.mode == "empty":
            chunk = []
        html = nmpa_page(chunk, number, pages, self.charset, self.session)
        headers = {"ETag": self.etag} if self.etag else {}
        return Response(body=html.encode(self.charset), headers=headers, content_type="text/html")

    def blocked_response(self, request: Request) -> Response:
        return Response(status=412, body="<html><script>$_ts=window['$_ts'];$_ts.nsd=1</script>")


NHC_HTML = """<html><head><meta charset="utf-8"></head><body>
<ul class="zxxx_list">
  <li><a href="/yzygj/s7659/202605/0a1b2c3d.shtml" target="_blank"
         title="关于印发生物医学新技术临床研究和临床转化应用管理条例实施细则的通知">关于印发生物医学新技术临床研究和临床转化应...</a>
      <span class="ml">2026-05-06</span></li>
  <li><a href="/yzygj/s7659/202604/9f8e7d6c.shtml" title="体细胞临床研究工作指引（试行）">体细胞临床研究工作指引（试行）</a>
      <span class="ml">2026-04-18</span></li>
</ul></body></html>"""


@pytest.fixture
def fetcher() -> Iterator[HttpFetcher]:
    # robots.txt off: these tests list the requests made (robots.txt: tests/test_robots.py)
    with HttpFetcher(HttpSettings(delay=0, retries=0, robots=False)) as http:
        yield http


NMPA_URL = "https://www.nmpa.gov.cn/xxgk/ggtg/index.html"


def nmpa_settings(base_url: str = "", **extra: Any) -> HtmlListSettings:
    table: dict[str, Any] = {
        "name": "nmpa-ggtg",
        "kind": "html-list",
        "url": NMPA_URL,
        "item": ".list ul li",
        "title": "a",
        "link": "a@href",
        "date": "span",
        "pages": "index_{n}.html",
    }
    if base_url:
        table["base_url"] = base_url
    return HtmlListSettings(**(table | extra))


# -- html-list ------------------------------------------------------------------


def test_nmpa_list_parses_titles_dates_and_absolute_links() -> None:
    page = nmpa_page(NMPA_DOCS[:20], 0, 2, "utf-8")
    parsed = parse_list(page, NMPA_URL, nmpa_settings())
    assert parsed.items == 20
    by_key = {r.key: r for r in parsed.records}
    for stamp, title, day in NMPA_DOCS[:20]:
        url = f"https://www.nmpa.gov.cn/xxgk/ggtg/{stamp}.html"
        assert by_key[url].title == title
        assert by_key[url].url == url
        assert by_key[url].date == day


def test_nmpa_pages_through_index_n_until_404(fetcher: HttpFetcher) -> None:
    site = NmpaLike()
    with ReplicaServer(site) as server:
        listing = HtmlList(nmpa_settings(server.url)).collect(fetcher, {})
        paths = [r.path for r in server.requests]
    assert paths == ["/xxgk/ggtg/index.html", "/xxgk/ggtg/index_1.html", "/xxgk/ggtg/index_2.html"]
    assert sorted(r.title for r in listing.records) == sorted(t for _, t, _ in NMPA_DOCS)
    assert {r.url for r in listing.records} == {
        f"{server.url}/xxgk/ggtg/{stamp}.html" for stamp, _, _ in NMPA_DOCS
    }


def test_max_pages_caps_the_walk(fetcher: HttpFetcher) -> None:
    with ReplicaServer(NmpaLike()) as server:
        listing = HtmlList(nmpa_settings(server.url, max_pages=1)).collect(fetcher, {})
        assert len(server.requests) == 1
    assert len(listing.records) == NMPA_PER_PAGE


def test_gbk_page_declared_in_meta(fetcher: HttpFetcher) -> None:
    with ReplicaServer(NmpaLike(charset="gbk")) as server:
        listing = HtmlList(nmpa_settings(server.url)).collect(fetcher, {})
    assert {r.title for r in listing.records} == {t for _, t, _ in NMPA_DOCS}


def test_nhc_list_takes_the_full_title_attribute() -> None:
    s = HtmlListSettings(
        name="nhc",
        kind="html-list",
        url="https://www.nhc.gov.cn/wjw/flfg/list.shtml",
        item="ul.zxxx_list li",
        title="a@title",
        date="span.ml",
    )
    records = parse_list(NHC_HTML, s.url, s).records
    assert [(r.title, r.date, r.url) for r in records] == [
        (
            "关于印发生物医学新技术临床研究和临床转化应用管理条例实施细则的通知",
            "2026-05-06",
            "https://www.nhc.gov.cn/yzygj/s7659/202605/0a1b2c3d.shtml",
        ),
        (
            "体细胞临床研究工作指引（试行）",
            "2026-04-18",
            "https://www.nhc.gov.cn/yzygj/s7659/202604/9f8e7d6c.shtml",
        ),
    ]


def test_keys_stable_across_runs_with_reordered_items_and_session_tokens(
    fetcher: HttpFetcher,
) -> None:
    site = NmpaLike()
    with ReplicaServer(site) as server:
        adapter = HtmlList(nmpa_settings(server.url))
        first = {r.key: r for r in adapter.collect(fetcher, {}).records}
        site.docs = list(reversed(NMPA_DOCS))
        site.session = "A1B2C3D4E5"
        second = {r.key: r for r in adapter.collect(fetcher, {}).records}
    assert len(first) == len(NMPA_DOCS)
    assert first == second


def test_key_from_a_regex_over_the_link() -> None:
    s = nmpa_settings(key=r"re:/(\d{17})\.html")
    records = parse_list(nmpa_page(NMPA_DOCS[:3], 0, 1, "utf-8"), NMPA_URL, s).records
    assert [r.key for r in records] == [stamp for stamp, _, _ in NMPA_DOCS[:3]]


def test_next_link_pagination_stops_on_a_cycle(fetcher: HttpFetcher) -> None:
    def app(request: Request) -> Response:
        n = int(request.query.get("p", "1"))
        nxt = n % 3 + 1  # page 3 links back to page 1
        body = (
            f'<table class="docs"><tr><td><a href="/doc/{n}-a">Doc {n}a</a></td></tr>'
            f'<tr><td><a href="/doc/{n}-b#top">Doc {n}b</a></td></tr></table>'
            f'<a class="next" href="?p={nxt}">Next</a>'
        )
        return Response(body=body)

    with ReplicaServer(app) as server:
        s = HtmlListSettings(
            name="x",
            kind="html-list",
            url=server.url + "/list?p=1",
            item="table.docs tr",
            next="a.next",
        )
        listing = HtmlList(s).collect(fetcher, {})
        assert len(server.requests) == 3
    assert sorted(r.title for r in listing.records) == [
        f"Doc {n}{c}" for n in (1, 2, 3) for c in "ab"
    ]
    assert all("#" not in r.key for r in listing.records)


def test_fields_status_and_files() -> None:
    html = """<div class="docs">
      <div class="doc" data-id="G-17"><h3><a href="/g/17">Potency Assurance for CGT Products</a></h3>
        <em class="st">Draft</em><span class="no">FDA-2023-D-4408</span>
        <a class="pdf" href="/media/17/download">PDF</a><time datetime="2023-12-27">Dec 2023</time>
      </div>
      <div class="doc" data-id="G-18"><h3><a href="files/ltfu.pdf">LTFU after Gene Therapy</a></h3>
        <time datetime="2020-01-28">Jan 2020</time></div>
    </div>"""
    s = HtmlListSettings(
        name="x",
        kind="html-list",
        url="https://www.fda.gov/vbb/cgt/index.html",
        item="div.doc",
        title="h3",
        date="time@datetime",
        status="em.st",
        key="@data-id",
        fields={"docket": "span.no"},
        files=["a.pdf"],
    )
    first, second = parse_list(html, s.url, s).records
    assert (first.key, first.status, first.date, dict(first.fields)) == (
        "G-17",
        "Draft",
        "2023-12-27",
        {"docket": "FDA-2023-D-4408"},
    )
    assert [a.url for a in first.attachments] == ["https://www.fda.gov/media/17/download"]
    assert (second.key, second.status, second.fields) == ("G-18", None, {})
    # a link straight to a PDF is the document itself
    assert [a.url for a in second.attachments] == ["https://www.fda.gov/vbb/cgt/files/ltfu.pdf"]


MALFORMED = [
    (
        "<div class=list><ul><li><a href=a.html>未闭合<span>(2026-06-25)</li><li><a href='b.html'>二"
        "</ul></div></table></td>\x00\x01 <p <b>"
    ),
    (
        "<?xml version='1.0' encoding='gbk'?><html><div class='list'><ul><li><a href=c.html>三</a>"
        "<span>2026年6月1日</span></li></ul></div>"
    ),
    "<div class=list><ul>" + "<div>" * 3000 + "<li><a href=d.html>四</a></li>" + "</ul>",
    "\ufeff<!-- <div class=list> --><div class=list><ul><li><a href=&#x65;.html>&bogus; 五&#0;</a>",
]


@pytest.mark.parametrize("html", MALFORMED)
def test_malformed_html_still_yields_items(html: str) -> None:
    records = parse_list(html, NMPA_URL, nmpa_settings()).records
    assert records, "the list items should survive the broken markup"
    assert all(r.url.startswith("https://www.nmpa.gov.cn/xxgk/ggtg/") for r in records)


@settings(max_examples=150, deadline=None)
@given(
    st.lists(
        st.sampled_from(
            [
                *"<>/=\"' ab&;#lisu\x00\n",
                "<li>",
                "<a href=x>",
                "<?xml ?>",
                "<rss>",
                "<![CDATA[",
                "<item>",
                "<feed>",
                "<entry>",
                "<link>",
                "</",
                "<!--",
                "&#x0;",
                "<body>",
                "<td>",
            ]
        )
    ).map("".join)
)
def test_arbitrary_markup_never_crashes_the_parsers(markup: str) -> None:
    # Only the documented errors may come out: never an lxml / bs4 exception or warning.
    parse_list(markup, NMPA_URL, nmpa_settings())
    try:
        page_text(markup, PageSettings(name="p", kind="page", url=NMPA_URL))
    except LayoutChanged:
        pass
    try:
        parse_feed(markup.encode("utf-8", "replace"), NMPA_URL)
    except (ParseError, Blocked):
        pass


def test_list_vanished_is_a_layout_change(fetcher: HttpFetcher) -> None:
    site = NmpaLike()
    site.mode = "empty"
    with ReplicaServer(site) as server:
        with pytest.raises(LayoutChanged, match="item selector"):
            HtmlList(nmpa_settings(server.url)).collect(fetcher, {})
        allowed = HtmlList(nmpa_settings(server.url, allow_empty=True)).collect(fetcher, {})
    assert allowed.records == [] and not allowed.not_modified


def test_blocked_site_raises_blocked_not_empty(fetcher: HttpFetcher) -> None:
    site = NmpaLike()
    site.mode = "blocked"
    with ReplicaServer(site) as server, pytest.raises(Blocked):
        HtmlList(nmpa_settings(server.url)).collect(fetcher, {})


def test_conditional_get_only_for_a_single_page(fetcher: HttpFetcher) -> None:
    site = NmpaLike()
    site.etag = '"v1"'
    with ReplicaServer(site) as server:
        single = HtmlList(nmpa_settings(server.url, pages=None))
        assert len(single.collect(fetcher, {}).records) == NMPA_PER_PAGE
        assert single.collect(fetcher, {}) == Listing.unchanged()
        assert server.requests[-1].header("If-None-Match") == '"v1"'
        before = len(server.requests)
        again = HtmlList(nmpa_settings(server.url)).collect(fetcher, {})
        first_page = server.requests[before]
        assert first_page.path == "/xxgk/ggtg/index.html"
        assert first_page.header("If-None-Match") is None
    assert len(again.records) == len(NMPA_DOCS) and not again.not_modified


# -- json-list ------------------------------------------------------------------

CDE_RECORDS = [
    {
        "issueDate": f"202606{d:02d}",
        "nowstate": "征求意见",
        "fclass": "生物制品",
        "title": f"关于公开征求《CAR-T细胞治疗产品临床试验技术指导原则（征求意见稿{d}）》意见的通知",
        "zdyzIdCODE": f"{d:032x}",
    }
    for d in range(1, 26)
]


class CdeLikeApi:
    """POST ``/zdyz/getOpinionList`` with ``pageNum``/``pageSize``; CDE's envelope."""

    def __init__(self) -> None:
        self.forms: list[dict[str, str]] = []

    def __call__(self, request: Request) -> Response:
        if request.method != "POST" or request.path != "/zdyz/getOpinionList":
            return Response(status=404)
        form = request.form
        self.forms.append(form)
        num, size = int(form["pageNum"]), int(form["pageSize"])
        chunk = CDE_RECORDS[(num - 1) * size : num * size]
        pages = -(-len(CDE_RECORDS) // size)
        envelope = {
            "code": 200,
            "msg": "成功",
            "data": {"records": chunk, "total": len(CDE_RECORDS), "pages": pages, "current": num},
        }
        return Response(
            body=json.dumps(envelope, ensure_ascii=False),
            content_type="application/json;charset=UTF-8",
        )


def cde_settings(base_url: str, **extra: Any) -> JsonListSettings:
    table: dict[str, Any] = {
        "name": "cde-opinions",
        "kind": "json-list",
        "url": "https://www.cde.org.cn/zdyz/getOpinionList",
        "base_url": base_url,
        "method": "post",
        "form": {"pageSize": 10, "fclass": "征求意见"},
        "records": "data.records",
        "key": "zdyzIdCODE",
        "title": "title",
        "date": "issueDate",
        "status": "nowstate",
        "fields": {"category": "fclass"},
        "link_template": "https://www.cde.org.cn/zdyz/domesticinfopage?zdyzIdCODE={zdyzIdCODE}",
        "page_param": "pageNum",
        "pages_path": "data.pages",
    }
    return JsonListSettings(**(table | extra))


def test_json_list_posts_pages_until_the_announced_total(fetcher: HttpFetcher) -> None:
    api = CdeLikeApi()
    with ReplicaServer(api) as server:
        listing = JsonList(cde_settings(server.url)).collect(fetcher, {})
    assert [f["pageNum"] for f in api.forms] == ["1", "2", "3"]
    assert all(f["pageSize"] == "10" and f["fclass"] == "征求意见" for f in api.forms)
    by_key = {r.key: r for r in listing.records}
    assert set(by_key) == {r["zdyzIdCODE"] for r in CDE_RECORDS}
    one = CDE_RECORDS[6]
    record = by_key[one["zdyzIdCODE"]]
    assert record.title == one["title"]
    assert record.date == f"{one['issueDate'][:4]}-{one['issueDate'][4:6]}-{one['issueDate'][6:]}"
    assert record.status == "征求意见" and record.fields == {"category": "生物制品"}
    assert record.url == f"{server.url}/zdyz/domesticinfopage?zdyzIdCODE={one['zdyzIdCODE']}"


def test_json_list_get_pages_until_an_empty_page(fetcher: HttpFetcher) -> None:
    rows = [
        {
            "document_number": f"2026-{n:05d}",
            "title": f"Notice {n}",
            "html_url": f"/documents/2026/{n}",
            "publication_date": f"2026-06-0{n % 9 + 1}",
        }
        for n in range(7)
    ]

    def app(request: Request) -> Response:
        page = int(request.query["page"])
        per = int(request.query["per_page"])
        body = {"count": len(rows), "results": rows[(page - 1) * per : page * per]}
        return Response(body=json.dumps(body), content_type="application/json")

    with ReplicaServer(app) as server:
        s = JsonListSettings(
            name="fr",
            kind="json-list",
            url=server.url + "/api/v1/documents.json",
            params={"per_page": 3, "conditions[agencies][]": "food-and-drug-administration"},
            records="results",
            key="document_number",
            link="html_url",
            date="publication_date",
            page_param="page",
        )
        listing = JsonList(s).collect(fetcher, {})
        assert [r.query["page"] for r in server.requests] == ["1", "2", "3", "4"]
        assert server.requests[0].query["conditions[agencies][]"] == "food-and-drug-administration"
    assert sorted(r.key for r in listing.records) == [row["document_number"] for row in rows]
    assert {r.url for r in listing.records} == {server.url + row["html_url"] for row in rows}


FDA_RECORD = {
    "title": '<a href="/regulatory-information/search-fda-guidance-documents/potency-assurance'
    '-cellular-and-gene-therapy-products">Potency Assurance for Cellular and Gene '
    "Therapy Products</a>",
    "field_associated_media_2": '<a href="/media/175132/download">PDF (409.2 KB)'
    '<span class="sr-only">of Potency Assurance</span></a>',
    "field_issue_datetime": "12/27/2023",
    "field_issuing_office_taxonomy": "Center for Biologics Evaluation and Research<br><br>"
    "Center for Drug Evaluation and Research",
    "field_final_guidance_1": "Draft",
    "open-comment": "  Yes ",
    "field_comment_close_date": "03/27/2024",
}
FDA_PLACEHOLDER = FDA_RECORD | {
    "title": '<a href="/regulatory-information/search-fda-guidance-documents/old-one">Old &amp; '
    "Gone</a>",
    "field_issue_datetime": "01/01/1900",
    "field_associated_media_2": "",
}


def fda_settings(
    url: str = "https://www.fda.gov/files/api/datatables/static/search-for-guidance.json",
    **extra: Any,
) -> JsonListSettings:
    table: dict[str, Any] = {
        "name": "fda-guidance",
        "kind": "json-list",
        "url": url,
        "records": "[]",
        "title": "title",
        "link": "title@href",
        "key": r"re:/([^/]+)$",
        "date": "field_issue_datetime",
        "status": "field_final_guidance_1",
        "fields": {
            "office": "field_issuing_office_taxonomy",
            "open_comment": "open-comment",
            "comment_deadline": "field_comment_close_date",
        },
        "files": ["field_associated_media_2@href"],
    }
    return JsonListSettings(**(table | extra))


def test_fda_style_html_fragments_are_unescaped_and_stripped() -> None:
    s = fda_settings()
    current, old = parse_records([FDA_RECORD, FDA_PLACEHOLDER], s.url, s)
    assert current.key == "potency-assurance-cellular-and-gene-therapy-products"
    assert current.title == "Potency Assurance for Cellular and Gene Therapy Products"
    assert current.url == (
        "https://www.fda.gov/regulatory-information/search-fda-guidance-"
        "documents/potency-assurance-cellular-and-gene-therapy-products"
    )
    assert current.date == "2023-12-27" and current.status == "Draft"
    assert current.fields["office"] == (
        "Center for Biologics Evaluation and Research; Center for Drug Evaluation and Research"
    )
    assert current.fields["open_comment"] == "Yes"
    assert [(a.url, a.name) for a in current.attachments] == [
        ("https://www.fda.gov/media/175132/download", "PDF (409.2 KB) of Potency Assurance")
    ]
    assert (old.key, old.title, old.date, old.attachments) == ("old-one", "Old & Gone", None, ())


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(alphabet='<>a&;/"= br\n'),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(
            st.sampled_from(["title", "data", "records", "id", "href", "date"]), inner, max_size=4
        )
    ),
    max_leaves=20,
)


@settings(max_examples=200, deadline=None)
@given(json_values)
def test_arbitrary_json_gives_records_or_layout_changed(payload: Any) -> None:
    s = fda_settings(records="data.records", link="href", key="id", date="date")
    try:
        records = parse_records(payload, s.url, s)
    except LayoutChanged:
        return
    assert all(r.key and r.url.startswith("https://") for r in records)
    assert len({r.key for r in records}) == len(records)


def test_json_missing_path_and_empty_list(fetcher: HttpFetcher) -> None:
    with pytest.raises(LayoutChanged, match=r"data\.records"):
        parse_records({"code": 200, "data": {"list": []}}, "https://x", cde_settings("http://x"))
    bodies = {"/empty.json": "[]", "/html.json": "<!DOCTYPE html><html><body>Sorry</body></html>"}

    def app(request: Request) -> Response:
        return Response(body=bodies[request.path], content_type="application/json")

    with ReplicaServer(app) as server:
        with pytest.raises(LayoutChanged, match="empty"):
            JsonList(fda_settings(server.url + "/empty.json")).collect(fetcher, {})
        ok = JsonList(fda_settings(server.url + "/empty.json", allow_empty=True))
        assert ok.collect(fetcher, {}).records == []
        with pytest.raises(Blocked, match="HTML where JSON"):
            JsonList(fda_settings(server.url + "/html.json")).collect(fetcher, {})


# -- rss ------------------------------------------------------------------------

RSS = """<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/"><channel>
<title>Scientific guidelines</title><link>https://www.ema.europa.eu/en</link>
<item><title>Guideline on quality, non-clinical and clinical requirements for investigational
 advanced therapy medicinal products in clinical trials</title>
 <link>https://www.ema.europa.eu/en/documents/scientific-guideline/guideline-atmp-clinical-trials_en.pdf</link>
 <description>&lt;p&gt;This guideline &lt;b&gt;replaces&lt;/b&gt; the 2019 version.&lt;/p&gt;{long}</description>
 <category>Advanced therapies</category><category>Quality</category>
 <pubDate>Wed, 25 Jun 2026 08:00:00 +0200</pubDate>
 <guid isPermaLink="false">ema-doc-19911</guid></item>
<item><title>Questions and answers on comparability for ATMPs</title>
 <link>https://www.ema.europa.eu/en/qa-comparability-atmps</link>
 <dc:date>2026-06-20T10:00:00Z</dc:date>
 <enclosure url="https://www.ema.europa.eu/en/documents/qa-comparability_en.pdf" type="application/pdf" length="1"/>
</item></channel></rss>"""

ATOM = """<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xml:base="https://example.org/news/">
<title>Agency news</title><updated>2026-06-25T00:00:00Z</updated>
<entry><title type="html">Gene therapy &lt;em&gt;draft&lt;/em&gt; guidance</title>
 <id>tag:example.org,2026:gt-draft</id><link rel="alternate" href="gt-draft.html"/>
 <link rel="enclosure" href="/files/gt-draft.pdf"/>
 <published>2026-06-24T09:00:00Z</published><updated>2026-06-25T11:00:00Z</updated>
 <category term="gene-therapy" label="Gene therapy"/><summary>Comment by 24 August.</summary>
</entry></feed>"""


def test_rss_items_become_records() -> None:
    long = " More text." * 80
    first, second = parse_feed(RSS.format(long=long).encode(), "https://www.ema.europa.eu/x.xml")
    assert first.key == "ema-doc-19911"
    assert first.title.startswith("Guideline on quality, non-clinical and clinical requirements")
    assert "investigational advanced therapy medicinal products" in first.title  # one line
    assert first.date == "2026-06-25"
    assert first.fields["category"] == "Advanced therapies, Quality"
    summary = first.fields["summary"]
    assert summary.startswith("This guideline replaces the 2019 version.")
    assert "<" not in summary and len(summary) <= 501 and summary.endswith("…")
    assert [a.url for a in first.attachments] == [first.url]  # the link is the PDF
    assert second.key == "https://www.ema.europa.eu/en/qa-comparability-atmps"  # no guid
    assert second.date == "2026-06-20"
    assert [a.url for a in second.attachments] == [
        "https://www.ema.europa.eu/en/documents/qa-comparability_en.pdf"
    ]


def test_atom_entries_resolve_against_xml_base() -> None:
    (entry,) = parse_feed(ATOM.encode(), "https://example.org/feed.atom")
    assert entry.key == "tag:example.org,2026:gt-draft"
    assert entry.title == "Gene therapy draft guidance"
    assert entry.url == "https://example.org/news/gt-draft.html"
    assert entry.date == "2026-06-24"
    assert entry.fields == {
        "category": "Gene therapy",
        "summary": "Comment by 24 August.",
        "updated": "2026-06-25T11:00:00Z",
    }
    assert [a.url for a in entry.attachments] == ["https://example.org/files/gt-draft.pdf"]


def test_feed_shapes() -> None:
    empty = b'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title></channel></rss>'
    assert parse_feed(empty, "https://x/feed") == []
    with pytest.raises(Blocked):
        parse_feed(b"<!DOCTYPE html><html><body><h1>Access denied</h1></body></html>", "https://x")
    with pytest.raises(LayoutChanged, match="error"):
        parse_feed(b"<?xml version='1.0'?><error>maintenance</error>", "https://x")
    with pytest.raises(ParseError):
        parse_feed(b"", "https://x")


def test_rss_through_the_fetcher_with_304_and_html_block(fetcher: HttpFetcher) -> None:
    def app(request: Request) -> Response:
        if request.path == "/blocked.xml":
            return Response(body="<html><head><title>Maintenance</title></head><body>x</body>")
        if request.header("If-None-Match") == '"feed-1"':
            return Response(status=304, headers={"ETag": '"feed-1"'})
        return Response(
            body=ATOM, content_type="application/atom+xml", headers={"ETag": '"feed-1"'}
        )

    with ReplicaServer(app) as server:
        s = RssSettings(
            name="feed", kind="rss", url="https://example.org/feed.atom", base_url=server.url
        )
        first = Rss(s).collect(fetcher, {})
        assert [r.key for r in first.records] == ["tag:example.org,2026:gt-draft"]
        assert Rss(s).collect(fetcher, {}).not_modified
        with pytest.raises(Blocked):
            Rss(RssSettings(name="f", kind="rss", url=server.url + "/blocked.xml")).collect(
                fetcher, {}
            )


# -- page -----------------------------------------------------------------------

CBER_PAGE = """<!DOCTYPE html><html><head><title>Cellular &amp; Gene Therapy Guidances</title>
<style>.x{color:red}</style><script>window.dataLayer=[];</script></head><body>
<nav><a href="/">Home</a> <a href="/vaccines-blood-biologics">Vaccines, Blood &amp; Biologics</a></nav>
<main><article>
<h1>Cellular &amp; Gene Therapy Guidances</h1>
<p>The following guidances are available.<script>track()</script></p>
<ul>
<li><a href="/media/175132/download">Potency Assurance for Cellular and Gene Therapy Products</a>;
    Draft Guidance for Industry 12/2023</li>
<li><a href="/media/113760/download">Human Gene Therapy for Hemophilia</a>; Guidance for Industry 1/2020<br>
    This guidance finalizes the draft guidance dated July 2018.</li>
</ul>
<table><tr><th>Topic</th><th>Date</th></tr><tr><td>CAR T</td><td>1/2024</td></tr></table>
<div class="share-buttons">Share Tweet Email</div>
</article></main>
<footer>Content current as of: {stamp}</footer></body></html>"""


def cber_settings(**extra: Any) -> PageSettings:
    table: dict[str, Any] = {
        "name": "cber-cgt",
        "kind": "page",
        "url": "https://www.fda.gov/vaccines-blood-biologics/biologics-guidances/"
        "cellular-gene-therapy-guidances",
        "region": "main article",
        "exclude": ["nav", "footer", ".share-buttons"],
    }
    return PageSettings(**(table | extra))


def test_page_region_as_readable_text() -> None:
    text = page_text(CBER_PAGE.replace("{stamp}", "06/25/2026"), cber_settings())
    assert text.splitlines() == [
        "Cellular & Gene Therapy Guidances",
        "The following guidances are available.",
        (
            "Potency Assurance for Cellular and Gene Therapy Products; Draft Guidance for Industry "
            "12/2023"
        ),
        "Human Gene Therapy for Hemophilia; Guidance for Industry 1/2020",
        "This guidance finalizes the draft guidance dated July 2018.",
        "Topic | Date",
        "CAR T | 1/2024",
    ]
    whole = page_text(CBER_PAGE, cber_settings(region=None, exclude=[]))
    assert "Home" in whole and "Share Tweet Email" in whole and "track()" not in whole


def test_cber_flat_list_reads_the_date_from_the_item_text() -> None:
    s = HtmlListSettings(
        name="cber", kind="html-list", url=cber_settings().url, item="main article li", date="."
    )
    records = parse_list(CBER_PAGE, s.url, s).records
    assert [(r.title, r.date, r.url) for r in records] == [
        (
            "Potency Assurance for Cellular and Gene Therapy Products",
            "2023-12-01",
            "https://www.fda.gov/media/175132/download",
        ),
        (
            "Human Gene Therapy for Hemophilia",
            "2020-01-01",
            "https://www.fda.gov/media/113760/download",
        ),
    ]


def test_page_region_missing_is_a_layout_change() -> None:
    with pytest.raises(LayoutChanged, match="main article"):
        page_text("<html><body><div id=app></div></body></html>", cber_settings())
    with pytest.raises(LayoutChanged, match="no text"):
        page_text("<html><body><script>x()</script></body></html>", cber_settings(region=None))


def test_page_through_the_fetcher_with_last_modified(fetcher: HttpFetcher) -> None:
    stamp = "Wed, 25 Jun 2026 08:00:00 GMT"

    def app(request: Request) -> Response:
        if request.header("If-Modified-Since") == stamp:
            return Response(status=304)
        return Response(
            body=CBER_PAGE.replace("{stamp}", "06/25/2026"), headers={"Last-Modified": stamp}
        )

    with ReplicaServer(app) as server:
        adapter = Page(cber_settings(base_url=server.url))
        listing = adapter.collect(fetcher, {})
        assert listing.page_text and "Human Gene Therapy for Hemophilia" in listing.page_text
        assert listing.records == []
        assert server.requests[0].path.endswith("/cellular-gene-therapy-guidances")
        assert adapter.collect(fetcher, {}) == Listing.unchanged()


# -- settings -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "table", "message"),
    [
        ("html-list", {"url": NMPA_URL, "item": "li", "itme": "li"}, "itme"),
        ("html-list", {"url": NMPA_URL}, "item"),
        ("html-list", {"url": NMPA_URL, "item": "ul > > li"}, "invalid CSS"),
        ("html-list", {"url": NMPA_URL, "item": "li", "pages": "index_.html"}, "{n}"),
        ("html-list", {"url": NMPA_URL, "item": "li", "key": "re:(unclosed"}, "key regex"),
        ("html-list", {"url": "/xxgk/index.html", "item": "li"}, "base_url"),
        ("html-list", {"url": "ftp://x/y", "item": "li"}, "http"),
        ("html-list", {"url": NMPA_URL, "item": "li", "date_format": "DD/MM"}, "YYYY"),
        ("json-list", {"url": NMPA_URL, "form": {"a": "b"}}, "POST"),
        ("json-list", {"url": NMPA_URL, "method": "PUT"}, "method"),
        ("json-list", {"url": NMPA_URL, "pages_path": "data.pages"}, "page_param"),
        ("rss", {"url": NMPA_URL, "item": "li"}, "item"),
        ("page", {"url": NMPA_URL, "region": "div["}, "invalid CSS"),
        ("page", {}, "url"),
    ],
)
def test_bad_settings_name_the_key(kind: str, table: dict[str, Any], message: str) -> None:
    cls = adapter_for(kind)
    with pytest.raises(ValidationError) as info:
        cls.Settings(name="s", kind=kind, **table)
    assert message in str(info.value)


def test_registry_lists_the_generic_kinds() -> None:
    expected: dict[str, tuple[type[Adapter], type[SourceSettings]]] = {
        "html-list": (HtmlList, HtmlListSettings),
        "json-list": (JsonList, JsonListSettings),
        "rss": (Rss, RssSettings),
        "page": (Page, PageSettings),
    }
    for kind, (cls, settings_cls) in expected.items():
        assert adapter_for(kind) is cls and cls.Settings is settings_cls
        assert cls.__doc__ and cls.summary() != kind
    # one [[source]] table round-trips through the registry's settings model
    table: dict[str, Any] = {"url": NMPA_URL, "item": "ul.list li", "date_format": "DD/MM/YYYY"}
    s = adapter_for("html-list").Settings(name="pmda", kind="html-list", **table)
    assert isinstance(s, HtmlListSettings) and s.date_format == ["DD/MM/YYYY"]
