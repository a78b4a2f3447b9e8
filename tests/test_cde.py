"""The ``cde`` adapter: parsers on replica bytes, then collect() through a real
HttpFetcher against the CDE replica on 127.0.0.1."""

from __future__ import annotations

import hashlib
import io
import json
import math
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from urllib.parse import parse_qs

import pypdf
import pytest
from pydantic import ValidationError

from monitor.config import loads
from monitor.history import ChangeFilter, list_changes
from monitor.pipeline.check import Pipeline
from monitor.replica.cde import LIST_IDS, CdeReplica, Guideline
from monitor.replica.server import App, ReplicaServer, Request, Response, Router
from monitor.store import Store
from sources.adapters.cde import (
    CdeGuidelines,
    list_records,
    parse_detail,
    parse_list_page,
    parse_notice,
)
from sources.errors import Blocked, FetchError, LayoutChanged, ParseError
from sources.fetch.http import HttpFetcher, HttpSettings
from sources.registry import adapter_for
from sources.text.deadlines import add_months
from sources.types import Listing, Record

ISO = re.compile(r"^\d{4}-\d{2}-\d{2}$")
API = ("/zdyz/getDomesticGuideList", "/zdyz/getOpinionList")


class Mount:
    """The app the module's one server serves: each test puts its own replica here
    (one server for the file, because stopping a server takes half a second)."""

    def __init__(self) -> None:
        self.app: App = CdeReplica()

    def __call__(self, request: Request) -> Response:
        return self.app(request)


@dataclass
class Site:
    replica: CdeReplica
    server: ReplicaServer
    fetcher: HttpFetcher
    mount: Mount
    mark: int

    @property
    def requests(self) -> list[Request]:
        return self.server.requests[self.mark :]

    def adapter(self, **settings: object) -> CdeGuidelines:
        values = {**self.replica.source_settings(self.server.url), **settings}
        return CdeGuidelines(CdeGuidelines.Settings(**values))

    def collect(self, known: dict[str, Record] | None = None, **settings: object) -> Listing:
        return self.adapter(**settings).collect(self.fetcher, known or {})

    def serve(self, app: App) -> None:
        """Serve ``app`` (a wrapper around the replica) from now on."""
        self.mount.app = app


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[ReplicaServer, Mount]]:
    mount = Mount()
    with ReplicaServer(mount) as server:
        yield server, mount


@pytest.fixture
def site(served: tuple[ReplicaServer, Mount]) -> Iterator[Site]:
    server, mount = served
    replica = CdeReplica()
    mount.app = replica
    # robots.txt off: these tests list the requests made (robots.txt: tests/test_robots.py)
    with HttpFetcher(HttpSettings(delay=0, retries=0, robots=False)) as fetcher:
        yield Site(replica, server, fetcher, mount, len(server.requests))


def _post(replica: CdeReplica, path: str, form: dict[str, str], listing: str) -> Response:
    body = "&".join(f"{k}={v}" for k, v in form.items()).encode()
    headers = {
        "Content-Type": "application/x-www-form-urlencoded; charset=UTF-8",
        "Referer": f"http://x/zdyz/listpage/{LIST_IDS[listing]}",
    }
    return replica(Request("POST", path, {}, headers, body, base="http://x"))


def _get(replica: CdeReplica, path: str, query: dict[str, str] | None = None) -> str:
    response = replica(Request("GET", path, query or {}, {}, b"", base="http://x"))
    assert response.status == 200
    return response.payload().decode("utf-8")


def _key_of(guideline: Guideline) -> str:
    """The record key of a replica guideline (发布通告 rows are news pages)."""
    return f"notice:{guideline.news_id}" if guideline.news_id else guideline.id


def _by_list(replica: CdeReplica, listing: str) -> int:
    return sum(1 for g in replica.guidelines.values() if g.listing == listing)


# --- parsers on replica bytes --------------------------------------------------


def test_parse_list_page_reads_the_envelope() -> None:
    replica = CdeReplica()
    response = _post(replica, API[0], {"pageNum": "2", "pageSize": "7"}, "domestic")
    page = parse_list_page(json.loads(response.payload()), "u")
    total = _by_list(replica, "domestic")
    assert page.total == total
    assert page.pages == math.ceil(total / 7)
    assert len(page.rows) == 7
    records = list_records(page.rows, "domestic", "https://www.cde.org.cn")
    assert {r.key for r in records} <= set(replica.guidelines)
    for record in records:
        assert ISO.match(record.date or "")
        assert record.url == (
            f"https://www.cde.org.cn/zdyz/domesticinfopage?zdyzIdCODE={record.key}"
        )
        assert record.fields["list"] == "domestic"


def test_opinion_rows_are_keyed_by_their_news_id() -> None:
    replica = CdeReplica()
    response = _post(
        replica, API[1], {"pageNum": "1", "pageSize": "50", "fclass": "征求意见"}, "opinions"
    )
    page = parse_list_page(json.loads(response.payload()), "u")
    records = list_records(page.rows, "opinions", "https://mirror.example/cde")
    assert {r.key for r in records} == {f"opinion:{oid}" for oid in replica.opinions}
    for record in records:
        news_id = record.key.split(":", 1)[1]
        assert record.url == f"https://mirror.example/cde/main/news/viewInfoCommon/{news_id}"
        assert record.status == "征求意见"


@pytest.mark.parametrize(
    ("payload", "error"),
    [
        ({"code": 500, "msg": "系统繁忙", "data": None}, ParseError),
        ({"code": 403, "msg": "forbidden"}, Blocked),
        ({"code": 200, "msg": "操作成功", "data": {}}, LayoutChanged),
        ({"code": 200, "msg": "操作成功", "data": {"list": []}}, LayoutChanged),
        ([1, 2], LayoutChanged),
    ],
)
def test_parse_list_page_rejects_bad_envelopes(payload: object, error: type[Exception]) -> None:
    with pytest.raises(error):
        parse_list_page(payload, "u")


def test_parse_detail_reads_the_table_and_files() -> None:
    replica = CdeReplica()
    guideline = next(g for g in replica.guidelines.values() if "CAR-T" in g.title)
    html = _get(replica, "/zdyz/domesticinfopage", {"zdyzIdCODE": guideline.id})
    base = "http://127.0.0.1:9/cde"
    detail = parse_detail(html, base + "/zdyz/domesticinfopage", base)
    assert detail.status == guideline.version_state
    assert detail.fields == {
        "doc_number": guideline.doc_number,
        "scope": guideline.fclass,
        "category": guideline.zyfl,
    }
    assert [(a.url, a.name) for a in detail.attachments] == [
        (f"{base}/zdyz/downloadAtt?idCODE={f.id}", f.name) for f in guideline.files
    ]


def test_parse_detail_without_the_table_is_a_layout_change() -> None:
    with pytest.raises(LayoutChanged):
        parse_detail("<html><body><p>维护中</p></body></html>", "u", "https://www.cde.org.cn")


def test_parse_notice_finds_the_window_and_three_attachments() -> None:
    replica = CdeReplica()
    opinion = replica.add_opinion("间充质干细胞外泌体药学研究技术指导原则", "20260131")
    html = _get(replica, f"/main/news/viewInfoCommon/{opinion.id}")
    detail = parse_notice(html, "https://www.cde.org.cn/x", "https://www.cde.org.cn", "2026-01-31")
    assert detail.fields["comment_deadline"] == "2026-02-28"
    names = [a.name for a in detail.attachments]
    assert len(names) == 3 and "起草说明" in names[1] and "反馈表" in names[2]
    assert all(
        a.url.startswith("https://www.cde.org.cn/main/att/download/") for a in detail.attachments
    )
    with pytest.raises(LayoutChanged):
        parse_notice("<div class='news'></div>", "u", "https://www.cde.org.cn", None)


# --- collect() against the replica ------------------------------------------------


def test_collect_reads_every_page_of_every_list(site: Site) -> None:
    listing = site.collect(page_size=10)
    replica = site.replica
    assert len(listing.records) == len(replica.guidelines) + len(replica.opinions)
    api_calls = [r for r in site.requests if r.path in API]
    by_list: dict[str, list[int]] = {}
    for request in api_calls:
        form = request.form
        name = (
            "opinions"
            if request.path == API[1]
            else "notices"
            if form.get("isFbtg") == "1"
            else "domestic"
        )
        by_list.setdefault(name, []).append(int(form["pageNum"]))
        assert form["pageSize"] == "10"
    for name in ("domestic", "notices"):
        assert by_list[name] == list(range(1, math.ceil(_by_list(replica, name) / 10) + 1))
    assert by_list["opinions"] == list(range(1, math.ceil(len(replica.opinions) / 10) + 1))


def test_collect_sends_the_form_the_site_expects(site: Site) -> None:
    site.collect()
    api_calls = [r for r in site.requests if r.path in API]
    assert api_calls
    for request in api_calls:
        assert request.method == "POST"
        assert (request.header("Content-Type") or "").startswith(
            "application/x-www-form-urlencoded; charset=UTF-8"
        )
        form = parse_qs(request.body.decode(), keep_blank_values=True)
        if request.path == API[1]:
            assert form["fclass"] == ["征求意见"]
            expected = LIST_IDS["opinions"]
        elif form.get("isFbtg") == ["1"]:
            assert form["classid"] == [LIST_IDS["notices"]]
            expected = LIST_IDS["notices"]
        else:
            assert {"zyfl1", "zyfl2", "issueDate1", "issueDate2", "searchTitle"} <= set(form)
            expected = LIST_IDS["domestic"]
        assert request.header("Referer") == f"{site.server.url}/zdyz/listpage/{expected}"


def test_records_are_complete_and_stable(site: Site) -> None:
    first = site.collect()
    site.serve(CdeReplica())  # a second, identical site
    second = site.collect()
    assert sorted(r.key for r in first.records) == sorted(r.key for r in second.records)
    assert len({r.key for r in first.records}) == len(first.records)
    by_key = {r.key: r for r in first.records}
    for guideline in site.replica.guidelines.values():
        record = by_key[_key_of(guideline)]
        assert record.title == guideline.title
        assert (
            record.date == f"{guideline.issue_date[:4]}-{guideline.issue_date[4:6]}-"
            f"{guideline.issue_date[6:]}"
        )
        if guideline.news_id:  # a 发布通告 row: a news page, status as listed
            assert record.url == f"{site.server.url}/main/news/viewInfoCommon/{guideline.news_id}"
            assert record.status == guideline.nowstate
        else:
            assert record.url.startswith(site.server.url + "/zdyz/domesticinfopage?")
            assert record.status == guideline.version_state
        assert record.fields["doc_number"] == guideline.doc_number
        assert len(record.attachments) == len(guideline.files)
        assert all(
            a.url.startswith(site.server.url + "/zdyz/downloadAtt?idCODE=")
            for a in record.attachments
        )
    for opinion in site.replica.opinions.values():
        record = by_key[f"opinion:{opinion.id}"]
        assert len(record.attachments) == 3
        assert ISO.match(record.fields["comment_deadline"])
    cgt = [r for r in first.records if re.search("CAR-T|干细胞|基因|溶瘤|细胞治疗", r.title)]
    assert len(cgt) >= 12


def test_comment_deadline_follows_the_notice(site: Site) -> None:
    window = site.replica.add_opinion("慢病毒载体药学研究技术指导原则", "20261130")
    explicit = site.replica.add_opinion(
        "CAR-NK细胞治疗产品临床试验技术指导原则",
        "20261201",
        window="请于2027年1月15日前将意见反馈至联系人邮箱。",
    )
    by_key = {r.key: r for r in site.collect(lists=["opinions"]).records}
    published = date(2026, 11, 30)
    assert (
        by_key[f"opinion:{window.id}"].fields["comment_deadline"]
        == add_months(published, 1).isoformat()
    )
    assert by_key[f"opinion:{explicit.id}"].fields["comment_deadline"] == "2027-01-15"


def test_consultations_hosted_elsewhere_are_listed_not_crawled(site: Site) -> None:
    port = site.server.url.rsplit(":", 1)[1]  # another host name, the same test server
    link = f"http://localhost:{port}/xxgk/zhqyj/zhqyjyp/20261127093000123.html"
    site.replica.add_opinion("细胞治疗产品生产质量管理指南", "20261127", link=link)
    by_key = {r.key: r for r in site.collect(lists=["opinions"]).records}
    assert by_key[f"opinion:{link}"].url == link
    assert not any("zhqyj" in r.path for r in site.requests)
    assert len(by_key) == len(site.replica.opinions)


def test_known_records_spare_the_detail_pages(site: Site) -> None:
    first = site.collect()
    known = {r.key: r for r in first.records}
    mark = len(site.server.requests)
    second = site.collect(known)
    assert second.records == first.records
    assert all(r.path in API for r in site.server.requests[mark:])

    withdrawn = next(g for g in site.replica.guidelines.values() if "溶瘤" in g.title)
    site.replica.withdraw(withdrawn.id)
    added = site.replica.add_guideline(
        "CAR-T细胞治疗产品质量控制检测研究及非临床研究考虑要点", "20261125", category="药学"
    )
    opinion = site.replica.add_opinion(
        "异种移植产品非临床研究技术指导原则", "20261126", attachments=("征求意见稿.pdf",)
    )
    retitled = next(g for g in site.replica.guidelines.values() if "血友病" in g.title)
    site.replica.edit_title(retitled.id, retitled.title + "（修订版）")
    mark = len(site.server.requests)
    third = site.collect(known)
    pages = sorted(
        r.path + "?" + r.query.get("zdyzIdCODE", "")
        for r in site.server.requests[mark:]
        if r.path not in API
    )
    assert pages == sorted(
        [
            f"/main/news/viewInfoCommon/{opinion.id}?",
            f"/zdyz/domesticinfopage?{added.id}",
            f"/zdyz/domesticinfopage?{withdrawn.id}",
            f"/zdyz/domesticinfopage?{retitled.id}",
        ]
    )
    by_key = {r.key: r for r in third.records}
    assert by_key[withdrawn.id].status == "废止"
    assert by_key[withdrawn.id].fields["nowstate"] == "废止"
    assert by_key[added.id].attachments
    assert [a.name for a in by_key[f"opinion:{opinion.id}"].attachments] == ["征求意见稿.pdf"]
    assert by_key[retitled.id].title.endswith("（修订版）")


def test_revised_attachment_keeps_its_url_and_changes_bytes(site: Site) -> None:
    records = site.collect(lists=["domestic"]).records
    record = next(r for r in records if r.attachments and r.attachments[0].name.endswith(".pdf"))
    url = record.attachments[0].url
    before = site.fetcher.get(url, expect="bytes").body
    site.replica.revise_attachment(record.key)
    after = site.fetcher.get(url, expect="bytes").body
    assert hashlib.sha256(before).digest() != hashlib.sha256(after).digest()
    again = {r.key: r for r in site.collect(lists=["domestic"]).records}
    assert again[record.key].attachments == record.attachments
    text = pypdf.PdfReader(io.BytesIO(after)).pages[0].extract_text()  # a real PDF
    assert record.title[:10] in text


def test_noise_changes_pages_but_not_records(site: Site) -> None:
    first = site.collect()
    detail_url = first.records[0].url
    page_before = site.fetcher.get(detail_url).body
    site.replica.touch()
    assert site.fetcher.get(detail_url).body != page_before
    assert site.collect().records == first.records


def test_a_server_side_page_size_cap_loses_nothing(site: Site) -> None:
    site.replica.max_page_size = 15
    listing = site.collect()
    assert len(listing.records) == len(site.replica.guidelines) + len(site.replica.opinions)
    assert all(r.form["pageSize"] == "50" for r in site.requests if r.path in API)


def test_max_pages_marks_the_listing_incomplete(site: Site) -> None:
    full = site.collect(lists=["domestic"], details=False)
    assert full.complete
    capped = site.collect(lists=["domestic"], details=False, page_size=10, max_pages=2)
    assert not capped.complete
    assert [r.key for r in capped.records] == [r.key for r in full.records][:20]
    assert (
        sum(1 for r in site.requests if r.path in API)
        == math.ceil(_by_list(site.replica, "domestic") / 50) + 2
    )


def test_a_broken_detail_page_keeps_the_list_entry(site: Site) -> None:
    replica = site.replica
    broken = next(iter(replica.guidelines))

    def app(request: Request) -> Response:
        if request.query.get("zdyzIdCODE") == broken:
            return Response(status=404, body="not found")
        return replica(request)

    site.serve(app)
    by_key = {r.key: r for r in site.collect().records}
    assert by_key[broken].title == replica.guidelines[broken].title
    assert by_key[broken].attachments == ()
    assert sum(1 for r in by_key.values() if r.attachments) == len(by_key) - 1 - sum(
        1 for g in replica.guidelines.values() if not g.files
    )
    site.serve(replica)  # the page is back: the next run reads it, once
    mark = len(site.server.requests)
    healed = {r.key: r for r in site.collect(by_key).records}
    assert healed[broken].attachments and "doc_number" in healed[broken].fields
    details = [r for r in site.server.requests[mark:] if r.path not in API]
    assert [r.query.get("zdyzIdCODE") for r in details] == [broken]


def test_blocked_site_raises_blocked(site: Site) -> None:
    site.replica.mode = "blocked"
    with pytest.raises(Blocked) as caught:
        site.collect()
    assert caught.value.status == 202
    raw = site.replica(Request("GET", "/zdyz/index", {}, {}, b""))
    body = raw.payload()
    assert raw.status == 202 and 20_000 < len(body) < 30_000
    assert b"$_ts" in body and b'<meta id="9DhefwqGPrzGxEp9hPaoag" content="' in body
    assert raw.headers["Set-Cookie"].startswith("FSSBBIl1UgzbN7N80S=")


def test_empty_site_is_a_layout_change(site: Site) -> None:
    site.replica.mode = "empty"
    with pytest.raises(LayoutChanged):
        site.collect()


def test_server_error_is_a_fetch_error(site: Site) -> None:
    site.replica.mode = "error"
    with pytest.raises(FetchError) as caught:
        site.collect()
    assert not isinstance(caught.value, Blocked)
    assert caught.value.status == 503


def test_the_api_refuses_get_and_requests_without_referer(site: Site) -> None:
    with pytest.raises(FetchError) as caught:
        site.fetcher.get(site.server.url + API[0], expect="json")
    assert caught.value.status == 405
    with pytest.raises(Blocked):
        site.fetcher.post(site.server.url + API[0], data={"pageNum": "1"})


def test_settings_choose_lists_and_skip_details(site: Site) -> None:
    listing = site.collect(lists=["notices"], details=False)
    assert {r.fields["list"] for r in listing.records} == {"notices"}
    assert len(listing.records) == _by_list(site.replica, "notices")
    assert all(r.path in API for r in site.requests)
    assert all(r.form.get("isFbtg") == "1" for r in site.requests)
    with pytest.raises(ValidationError):
        site.adapter(lists=["drafts"])
    with pytest.raises(ValidationError):
        site.adapter(page_sizes=10)


def test_search_filters_are_sent_and_honoured(site: Site) -> None:
    listing = site.collect(lists=["domestic"], search_title="细胞", zyfl1="生物制品", details=False)
    assert listing.records and all("细胞" in r.title for r in listing.records)
    assert all(
        r.form["searchTitle"] == "细胞" and r.form["zyfl1"] == "生物制品" for r in site.requests
    )


def test_works_behind_a_path_prefix(site: Site) -> None:
    site.serve(Router({"/mirror/cde": site.replica}))
    base = site.server.url + "/mirror/cde"
    listing = site.collect(base_url=base)
    record = next(r for r in listing.records if r.attachments)
    assert record.url.startswith(base + "/zdyz/")
    body = site.fetcher.get(record.attachments[0].url, expect="bytes").body
    assert body[:4] in (b"%PDF", b"PK\x03\x04")


def test_registered_as_a_chinese_source() -> None:
    cls = adapter_for("cde")
    assert cls is CdeGuidelines
    assert cls.jurisdiction == "CN" and cls.default_base_url == "https://www.cde.org.cn"
    assert CdeGuidelines(cls.Settings(name="c", kind="cde")).base_url == "https://www.cde.org.cn"


# --- issue 9, items 5 and 6: odd pages degrade one record; 发布通告 as news pages -----


def _notices(replica: CdeReplica) -> list[Guideline]:
    return [g for g in replica.guidelines.values() if g.listing == "notices"]


@pytest.mark.parametrize("shape", ["news", "both", "zdyz"])
def test_notice_rows_of_every_shape_are_all_read(site: Site, shape: str) -> None:
    replica = CdeReplica(notice_rows=shape)
    site.replica = replica
    site.serve(replica)
    listing = site.collect(lists=["notices"])
    notices = _notices(replica)
    assert len(listing.records) == len(notices) > 0
    by_title = {r.title: r for r in listing.records}
    for notice in notices:
        record = by_title[notice.title]
        expected_key = f"notice:{notice.news_id}" if shape == "news" else notice.id
        assert record.key == expected_key
        assert len(record.attachments) == len(notice.files)
        assert record.fields["doc_number"] == notice.doc_number
        if shape == "zdyz":
            assert "/zdyz/domesticinfopage?" in record.url
        else:
            assert "/main/news/viewInfoCommon/" in record.url
    assert len(listing.item_errors) == 0


def test_rows_without_id_or_link_are_kept(site: Site) -> None:
    rows = [
        {"title": "关于发布《某指导原则》的通告（2026年第1号）", "issueDate": "20260105"},
        {"title": "没有标题以外任何字段的行"},
    ]
    records = list_records(rows, "notices", "http://x")
    assert [r.title for r in records] == [row["title"] for row in rows]
    assert records[0].key == "row:2026-01-05:关于发布《某指导原则》的通告（2026年第1号）"
    assert records[0].url == f"http://x/zdyz/listpage/{LIST_IDS['notices']}"
    assert len({r.key for r in records}) == 2
    (opinion,) = list_records(
        [{"title": "关于公开征求意见的通知", "issueDate": "20260301"}], "opinions", "http://x"
    )
    assert opinion.key == "row:2026-03-01:关于公开征求意见的通知"
    assert opinion.status == "征求意见"


def test_an_odd_detail_page_degrades_only_its_record(site: Site) -> None:
    replica = site.replica
    domestic = [g for g in replica.guidelines.values() if g.listing == "domestic" and g.files]
    odd = domestic[0]
    replica.break_detail(odd.id)
    listing = site.collect()
    by_key = {r.key: r for r in listing.records}
    assert len(listing.item_errors) == 1
    assert len(listing.records) == len(replica.guidelines) + len(replica.opinions)
    kept = by_key[odd.id]
    assert kept.title == odd.title and kept.attachments == ()
    assert kept.status == odd.nowstate and kept.fields["fclass"] == odd.fclass
    assert all(by_key[g.id].attachments for g in domestic[1:])
    # the next run reads the odd page again (it found nothing), and only that one
    replica.guidelines[odd.id].page = "table"
    mark = len(site.server.requests)
    healed = site.collect({r.key: r for r in listing.records})
    assert len(healed.item_errors) == 0
    assert {r.key: r for r in healed.records}[odd.id].attachments
    details = [r for r in site.server.requests[mark:] if r.path not in API]
    assert [r.query.get("zdyzIdCODE") for r in details] == [odd.id]


def test_an_odd_page_keeps_what_the_last_run_knew(site: Site) -> None:
    replica = site.replica
    target = next(g for g in replica.guidelines.values() if g.listing == "domestic" and g.files)
    first = {r.key: r for r in site.collect().records}
    replica.edit_title(target.id, target.title + "（修订版）")
    replica.break_detail(target.id)
    listing = site.collect(first)
    record = {r.key: r for r in listing.records}[target.id]
    assert len(listing.item_errors) == 1
    assert record.title.endswith("（修订版）")
    assert record.attachments == first[target.id].attachments
    assert record.fields["doc_number"] == first[target.id].fields["doc_number"]


def test_a_guideline_published_as_a_news_page_is_read(site: Site) -> None:
    replica = site.replica
    target = next(g for g in replica.guidelines.values() if g.listing == "domestic" and g.files)
    news_id = replica.publish_as_news(target.id)
    listing = site.collect(lists=["domestic"])
    record = {r.key: r for r in listing.records}[target.id]
    assert record.url == f"{site.server.url}/main/news/viewInfoCommon/{news_id}"
    assert [a.name for a in record.attachments] == [f.name for f in target.files]
    assert len(listing.item_errors) == 0
    page = _get(replica, f"/main/news/viewInfoCommon/{news_id}")
    assert 'class="new_detail_content"' in page and 'class="relatedNews"' in page
    assert "<table" not in _get(replica, "/zdyz/domesticinfopage", {"zdyzIdCODE": target.id})


def test_notice_attachments_beside_the_box_are_found(site: Site) -> None:
    opinion = site.replica.add_opinion("溶瘤病毒产品药学研究技术指导原则", "20261120")
    opinion.related = True
    page = _get(site.replica, f"/main/news/viewInfoCommon/{opinion.id}")
    assert "relatedNews" in page
    detail = parse_notice(page, "http://x/main/news/viewInfoCommon/x", "http://x", "2026-11-20")
    assert len(detail.attachments) == 3 and "comment_deadline" in detail.fields
    record = {r.key: r for r in site.collect(lists=["opinions"]).records}[f"opinion:{opinion.id}"]
    assert len(record.attachments) == 3


def test_a_network_error_on_a_detail_page_fails_the_run(site: Site) -> None:
    replica = site.replica
    broken = next(iter(replica.guidelines))

    def app(request: Request) -> Response:
        if request.query.get("zdyzIdCODE") == broken:
            return Response(fault="reset")
        return replica(request)

    site.serve(app)
    with pytest.raises(FetchError) as caught:
        site.collect(lists=["domestic"])
    assert caught.value.status is None and not isinstance(caught.value, Blocked)


def test_every_detail_page_failing_is_a_layout_change(site: Site) -> None:
    replica = site.replica
    for guideline in replica.guidelines.values():
        replica.break_detail(guideline.id)
    with pytest.raises(LayoutChanged, match="none of the"):
        site.collect(lists=["domestic"])


def test_an_odd_page_through_the_pipeline_keeps_the_source_healthy(tmp_path: Path) -> None:
    """Before: the whole CDE check failed (LayoutChanged) while one detail page
    lacked its table, so no change of any CDE document was seen. After: the run is
    healthy and a new guideline published meanwhile is alerted."""
    replica = CdeReplica()
    with ReplicaServer(replica) as server:
        config = loads(f"""
[store]
url = "sqlite:///{tmp_path / "c.db"}"
[http]
delay = 0
retries = 0
[[source]]
name = "cde"
kind = "cde"
base_url = "{server.url}"
lists = ["domestic"]
attachments = false
""")
        store = Store(config.store.url)
        pipeline = Pipeline(config, store)
        assert pipeline.check(config.sources[0]).outcome == "baseline"
        odd = replica.add_guideline("基因治疗产品长期随访临床研究技术指导原则", "20261125")
        replica.break_detail(odd.id)
        fresh = replica.add_guideline("CAR-T细胞治疗产品药学变更研究技术指导原则", "20261126")
        result = pipeline.check(config.sources[0])
    assert result.outcome == "changed", result.error
    added = {
        c["title"]
        for c in list_changes(store, ChangeFilter(limit=50))
        if c["event"] in ("added", "draft")
    }
    assert added == {odd.title, fresh.title}
