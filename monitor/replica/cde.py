"""A replica of CDE's 指导原则专栏 (www.cde.org.cn), as docs/sources.md describes it.

Served paths (the real site's):

- ``GET /zdyz/index`` and ``GET /zdyz/listpage/<id>``: HTML shells whose script
  POSTs to the JSON API (国内指导原则, 发布通告, 征求意见 list ids below);
- ``POST /zdyz/getDomesticGuideList`` (form ``pageNum, pageSize, searchTitle,
  zyfl1, zyfl2, issueDate1, issueDate2``; 发布通告 adds ``isFbtg=1, classid``)
  and ``POST /zdyz/getOpinionList`` (``fclass=征求意见``): the MyBatis-Plus
  envelope ``{"code": 200, "msg", "data": {"records", "total", "size",
  "current", "pages"}}``, records with ``issueDate`` as ``YYYYMMDD``;
- ``GET /zdyz/domesticinfopage?zdyzIdCODE=<id>``: the two-column table
  名称/文号/版本状态/发布时间/适用范围/专业分类/附件, files as
  ``<a href="/zdyz/downloadAtt?idCODE=…"><span class="fileLink">name</span></a>``;
- ``GET /zdyz/downloadAtt?idCODE=<hex>``: the PDF / DOCX bytes;
- ``GET /main/news/viewInfoCommon/<id>``: a 征求意见 notice (``div.news_detail_title``,
  ``div.news_detail_date``, ``div.news_detail_box``) with its comment window and
  attachments at ``/main/att/download/<hex>`` (that path is unverified); with
  ``Opinion.related`` the attachments sit in ``.relatedNews`` beside the box.
  发布通告 and guidelines published as news (``Guideline.news_id``) are news
  pages too, their text in ``.new_detail_content`` and their files in
  ``.relatedNews``: that is what RSSHub's ``lib/routes/cde/zdyz.ts`` reads
  (``link: item.externalLinks``, ``$('.new_detail_content').html() +
  $('.relatedNews').html()``), and ``lib/routes/cde/index.ts`` shows news pages
  whose ``div.news_detail_box`` holds the title and date.

发布通告 rows come in the shape ``notice_rows`` names: ``"news"`` (default, the
worst case and what public scrapers see: ``externalLinks`` to the news page, no
``zdyzIdCODE``), ``"both"`` (both fields) or ``"zdyz"`` (``zdyzIdCODE`` only).
Whether real 发布通告 rows also carry ``zdyzIdCODE`` is unverified.
A guideline with ``page = "bare"`` answers its ``domesticinfopage`` with the
site's frame but no table (an odd page); ``news_id`` lists the guideline with
an ``externalLinks`` to its news page and leaves ``domesticinfopage`` bare.

Replica strictness that is not documented for the real site: the API answers
405 to GET, 415 to a body that is not a form, and the 403 block page
("请不要使用非法的URL地址访问") when the ``Referer`` is not a CDE list page.
``mode = "blocked"`` answers every path with the Ruishu 202 challenge.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from monitor.replica.base import SiteReplica
from monitor.replica.data_cn import cn_date, hex_id, iso, make_file, ruishu_page, seed
from monitor.replica.listpage import cde_list_script
from monitor.replica.server import Request, Response

LIST_IDS = {
    "domestic": "9cd8db3b7530c6fa0c86485e563f93c7",
    "notices": "2853510d929253719601db17b8a9fd81",
    "opinions": "3c49fad55caad7a034c263cfc2b6eb9c",
}
_LIST_NAMES = {"domestic": "国内指导原则", "notices": "发布通告", "opinions": "征求意见"}
_JSON = "application/json;charset=UTF-8"
_FORBIDDEN = "<html><body><h3>请不要使用非法的URL地址访问</h3></body></html>"


def _page_form(name: str) -> dict[str, str]:
    """The form the list page's own script posts (10 rows a page, as the site's pages)."""
    form = {"pageNum": "1", "pageSize": "10", "searchTitle": ""}
    if name == "opinions":
        return {**form, "issueDate1": "", "issueDate2": "", "fclass": "征求意见"}
    form.update({"zyfl1": "", "zyfl2": "", "issueDate1": "", "issueDate2": ""})
    if name == "notices":
        form.update({"isFbtg": "1", "classid": LIST_IDS["notices"]})
    return form


@dataclass
class File:
    """An attachment: its bytes are made from ``lines`` (and the revision)."""

    id: str
    name: str
    lines: list[str]
    revision: int = 0

    def content(self) -> tuple[bytes, str]:
        extra = [f"第{self.revision}次修订"] if self.revision else []
        return make_file(self.name, self.lines + extra)


@dataclass
class Guideline:
    """One record of getDomesticGuideList (a guideline, or a 通告 in 发布通告)."""

    id: str
    title: str
    issue_date: str  # YYYYMMDD
    fclass: str
    zyfl: str
    nowstate: str = "颁布"
    listing: str = "domestic"  # or "notices"
    doc_number: str = ""
    version_state: str = "现行"
    files: list[File] = field(default_factory=list)
    news_id: str = ""  # published as a news page: externalLinks to viewInfoCommon/<news_id>
    page: str = "table"  # or "bare": domesticinfopage has no table

    def as_json(self, base: str, shape: str = "zdyz") -> dict[str, Any]:
        row: dict[str, Any] = {
            "issueDate": self.issue_date,
            "nowstate": self.nowstate,
            "fclass": self.fclass,
            "title": self.title,
        }
        if self.news_id and shape != "zdyz":
            row["externalLinks"] = f"{base}/main/news/viewInfoCommon/{self.news_id}"
        if not self.news_id or shape != "news":
            row["zdyzIdCODE"] = self.id
        return row


@dataclass
class Opinion:
    """One 征求意见 notice: a news page with a comment window and attachments."""

    id: str
    name: str
    issue_date: str  # YYYYMMDD
    window: str
    files: list[File] = field(default_factory=list)
    link: str = ""  # an externalLinks elsewhere (another site) instead of the news page
    related: bool = False  # attachments in .relatedNews beside the box, not inside it

    @property
    def title(self) -> str:
        return f"关于公开征求《{self.name}（征求意见稿）》意见的通知"


def _guideline_files(title: str, gid: str, index: int) -> list[File]:
    ext = ".docx" if index % 5 == 4 else ".pdf"
    lines = [
        title,
        "国家药品监督管理局药品审评中心",
        "一、概述",
        f"本指导原则适用于{title[:12]}相关研究。",
    ]
    return [File(hex_id("att", gid, 0), title + ext, lines)]


def _opinion_files(name: str, oid: str) -> list[File]:
    draft = f"{name}（征求意见稿）"
    return [
        File(hex_id("att", oid, 1), f"附件1：{draft}.pdf", [draft, "一、前言", "二、适用范围"]),
        File(hex_id("att", oid, 2), f"附件2：《{draft}》起草说明.pdf", [f"《{draft}》起草说明"]),
        File(
            hex_id("att", oid, 3),
            "附件3：征求意见反馈表.docx",
            ["征求意见反馈表", "序号 原文 修改建议 理由"],
        ),
    ]


class CdeReplica(SiteReplica):
    """The CDE site in memory; edit it between checks with the timeline methods."""

    kind = "cde"

    def __init__(
        self, *, seeded: bool = True, max_page_size: int | None = None, notice_rows: str = "news"
    ) -> None:
        self.guidelines: dict[str, Guideline] = {}
        self.notice_rows = notice_rows  # "news", "both" or "zdyz" (see the module docstring)
        self.opinions: dict[str, Opinion] = {}
        self.max_page_size = max_page_size  # a server-side cap on pageSize, if set
        self.visits = 10_000
        self.noise = 0
        if seeded:
            self._seed()

    # -- timeline -----------------------------------------------------------------

    def _seed(self) -> None:
        data = seed()["cde"]
        for index, row in enumerate(data["guidelines"]):
            gid = hex_id("zdyz", row["title"])
            active = row["nowstate"] == "颁布"
            files = _guideline_files(row["title"], gid, index) if active else []
            self.guidelines[gid] = Guideline(
                id=gid,
                title=row["title"],
                issue_date=row["issueDate"],
                fclass=row["fclass"],
                zyfl=row["zyfl"],
                nowstate=row["nowstate"],
                doc_number=f"{row['issueDate'][:4]}年第{index % 40 + 1}号",
                version_state="现行" if active else "废止",
                files=files,
            )
        by_title = {g.title: g for g in self.guidelines.values()}
        for title, number in data["notices"]:
            source = by_title[title]
            self.add_guideline(
                f"国家药监局药审中心关于发布《{title}》的通告（{number}）",
                source.issue_date,
                fclass=source.fclass,
                category=source.zyfl,
                listing="notices",
                doc_number=number,
            )
        for name, issue_date, window in data["opinions"]:
            self.add_opinion(name, issue_date, window=window)

    def add_guideline(
        self,
        title: str,
        issue_date: str,
        *,
        fclass: str = "生物制品",
        category: str = "药学",
        listing: str = "domestic",
        nowstate: str = "颁布",
        doc_number: str = "",
        attachments: tuple[str, ...] | None = None,
    ) -> Guideline:
        """Publish a record in 国内指导原则 (``listing="domestic"``) or 发布通告."""
        gid = hex_id("zdyz", listing, title)
        names = attachments if attachments is not None else (title + ".pdf",)
        files = [File(hex_id("att", gid, i), n, [title, n]) for i, n in enumerate(names)]
        record = Guideline(
            gid,
            title,
            issue_date,
            fclass,
            category,
            nowstate,
            listing,
            doc_number or f"{issue_date[:4]}年第1号",
            "现行",
            files,
            news_id=hex_id("news", gid) if listing == "notices" else "",
        )
        self.guidelines[gid] = record
        return record

    def add_opinion(
        self,
        name: str,
        issue_date: str,
        *,
        window: str = "征求意见时限为自发布之日起1个月。",
        attachments: tuple[str, ...] | None = None,
        link: str = "",
    ) -> Opinion:
        """Open a consultation on the draft ``name``: by default with CDE's usual three
        attachments (征求意见稿, 起草说明, 反馈表), else files named ``attachments``;
        ``link`` lists it with an ``externalLinks`` to another site instead."""
        oid = hex_id("news", name, issue_date)
        files = _opinion_files(name, oid)
        if attachments is not None:
            files = [File(hex_id("att", oid, n), a, [name, a]) for n, a in enumerate(attachments)]
        opinion = Opinion(oid, name, issue_date, window, files, link)
        self.opinions[oid] = opinion
        return opinion

    def break_detail(self, record_id: str) -> None:
        """Make a guideline's detail page odd: the frame answers, the table is gone."""
        self.guidelines[record_id].page = "bare"

    def publish_as_news(self, record_id: str) -> str:
        """List a guideline by a news page (``externalLinks``), as some real rows
        are; its ``domesticinfopage`` has no table. Returns the news id."""
        record = self.guidelines[record_id]
        record.news_id, record.page = hex_id("news", record_id), "bare"
        return record.news_id

    def revise_attachment(self, record_id: str, index: int = 0) -> File:
        """Replace the bytes of one attachment (same URL, new content)."""
        record = self.guidelines.get(record_id) or self.opinions[record_id]
        record.files[index].revision += 1
        return record.files[index]

    def edit_title(self, record_id: str, title: str) -> None:
        """Retitle a guideline (its list entry and detail page change)."""
        self.guidelines[record_id].title = title

    def withdraw(self, record_id: str) -> None:
        """Mark a guideline 废止 (list ``nowstate`` and detail 版本状态)."""
        self.guidelines[record_id].nowstate = "废止"
        self.guidelines[record_id].version_state = "废止"

    def remove(self, record_id: str) -> None:
        self.guidelines.pop(record_id, None)
        self.opinions.pop(record_id, None)

    def touch(self) -> None:
        """A noise-only edit: counters and whitespace change, records do not."""
        self.noise += 1
        self.visits += 137

    # -- serving ------------------------------------------------------------------

    def source_settings(self, base_url: str) -> dict[str, Any]:
        return {"name": "cde-replica", "kind": "cde", "base_url": base_url}

    def blocked_response(self, request: Request) -> Response:
        token = hex_id("cookie", request.path)[:22]
        return Response(
            status=202,
            body=ruishu_page("cde" + request.path, meta=True),
            headers={"Set-Cookie": f"FSSBBIl1UgzbN7N80S={token}; Path=/; HttpOnly"},
        )

    def serve(self, request: Request) -> Response:
        path = request.path
        if path in ("/zdyz/getDomesticGuideList", "/zdyz/getOpinionList"):
            return self._api(request)
        if request.method not in ("GET", "HEAD"):
            return Response(status=405, body="Method Not Allowed")
        self.visits += 1
        if path == "/zdyz/index":
            return self._html("指导原则专栏", self._shell("domestic"))
        match = re.fullmatch(r"/zdyz/listpage/([0-9a-f]{32})", path)
        if match and match.group(1) in LIST_IDS.values():
            name = next(k for k, v in LIST_IDS.items() if v == match.group(1))
            return self._html(_LIST_NAMES[name], self._shell(name))
        if path == "/zdyz/domesticinfopage":
            record = self.guidelines.get(request.query.get("zdyzIdCODE", ""))
            return self._detail(record) if record else self._not_found()
        match = re.fullmatch(r"/main/news/viewInfoCommon/([0-9a-f]{32})", path)
        if match:
            return self._news_page(match.group(1))
        if path == "/zdyz/downloadAtt":
            return self._download(request.query.get("idCODE", ""), self.guidelines.values())
        match = re.fullmatch(r"/main/att/download/([0-9a-f]{32})", path)
        if match:
            return self._download(match.group(1), self.opinions.values())
        return self._not_found()

    def _news_page(self, news_id: str) -> Response:
        """A news page: a consultation's, or the announcement of a guideline."""
        if news_id in self.opinions:
            return self._news(self.opinions[news_id])
        news = {g.news_id: g for g in self.guidelines.values() if g.news_id}
        if news_id in news:
            return self._guideline_news(news[news_id])
        return self._not_found()

    def _api(self, request: Request) -> Response:
        refused = self._api_refusal(request)
        if refused is not None:
            return refused
        form = request.form
        if self.mode == "empty":  # the list moved: 200, but no records key
            return Response(
                body=json.dumps({"code": 200, "msg": "操作成功", "data": {}}), content_type=_JSON
            )
        if request.path == "/zdyz/getOpinionList":
            return self._opinion_list(request)
        wanted = "notices" if form.get("isFbtg") == "1" else "domestic"
        if wanted == "notices" and form.get("classid") != LIST_IDS["notices"]:
            return Response(
                body=json.dumps({"code": 500, "msg": "参数错误", "data": None}), content_type=_JSON
            )
        chosen = [g for g in self.guidelines.values() if g.listing == wanted]
        chosen = [g for g in chosen if form.get("zyfl1", "") in g.fclass]
        chosen = [g for g in chosen if form.get("zyfl2", "") in g.zyfl]
        shape = self.notice_rows if wanted == "notices" else "both"
        rows = [g.as_json(request.base, shape) for g in self._filtered(chosen, form)]
        return self._envelope(rows, form)

    @staticmethod
    def _api_refusal(request: Request) -> Response | None:
        """The site's answer to an API call that is not a form POST from a list
        page (405, 415, 403), or None."""
        if request.method != "POST":
            body = {"status": 405, "error": "Method Not Allowed", "path": request.path}
            return Response(405, json.dumps(body), {"Allow": "POST"}, _JSON)
        content_type = request.header("Content-Type") or ""
        if not content_type.startswith("application/x-www-form-urlencoded"):
            return Response(
                415,
                json.dumps({"status": 415, "error": "Unsupported Media Type"}),
                content_type=_JSON,
            )
        if "/zdyz/listpage/" not in (request.header("Referer") or ""):
            return Response(403, _FORBIDDEN)
        return None

    def _opinion_list(self, request: Request) -> Response:
        """getOpinionList: the consultations (征求意见) as rows."""
        form = request.form
        if form.get("fclass") != "征求意见":
            return self._envelope([], form)
        base = request.base
        rows = [
            {
                "title": o.title,
                "issueDate": o.issue_date,
                "externalLinks": o.link or f"{base}/main/news/viewInfoCommon/{o.id}",
            }
            for o in self._filtered(list(self.opinions.values()), form)
        ]
        return self._envelope(rows, form)

    @staticmethod
    def _filtered(records: list[Any], form: dict[str, str]) -> list[Any]:
        low = form.get("issueDate1", "").replace("-", "")
        high = form.get("issueDate2", "").replace("-", "")
        kept = [
            r
            for r in records
            if form.get("searchTitle", "") in r.title
            and (not low or r.issue_date >= low)
            and (not high or r.issue_date <= high)
        ]
        return sorted(kept, key=lambda r: (r.issue_date, r.id), reverse=True)

    def _envelope(self, rows: list[dict[str, Any]], form: dict[str, str]) -> Response:
        try:
            page, size = int(form.get("pageNum") or 1), int(form.get("pageSize") or 10)
        except ValueError:
            return Response(
                400, json.dumps({"code": 400, "msg": "参数格式错误"}), content_type=_JSON
            )
        if self.max_page_size:
            size = min(size, self.max_page_size)
        size = max(size, 1)
        pages = math.ceil(len(rows) / size)
        data = {
            "records": rows[(page - 1) * size : page * size],
            "total": len(rows),
            "size": size,
            "current": page,
            "orders": [],
            "optimizeCountSql": True,
            "searchCount": True,
            "countId": None,
            "maxLimit": None,
            "pages": pages,
        }
        return Response(
            body=json.dumps({"code": 200, "msg": "操作成功", "data": data}, ensure_ascii=False),
            content_type=_JSON,
        )

    # -- pages --------------------------------------------------------------------

    def _html(self, title: str, body: str) -> Response:
        pad = " " * (self.noise % 3)
        page = (
            f'<!DOCTYPE html><html lang="zh-CN"><head><meta charset="UTF-8">{pad}'
            f"<title>{title}-国家药品监督管理局药品审评中心</title></head><body>"
            f'<div class="header"><a href="/main/index">首页</a></div>{body}'
            f'<div class="footer">版权所有：国家药品监督管理局药品审评中心 '
            f"京ICP备09013725号 访问量：{self.visits}</div></body></html>"
        )
        return Response(body=page)

    def _shell(self, name: str) -> str:
        if self.mode == "empty":
            return '<div class="newsWrapper"><p>栏目调整中</p></div>'
        api = "getOpinionList" if name == "opinions" else "getDomesticGuideList"
        return (
            f'<div class="listWrapper" id="{LIST_IDS[name]}"><div class="list_title">'
            f'{_LIST_NAMES[name]}</div><table class="layui-table" id="guideTable"></table>'
            f'<div id="pageDiv"></div></div>{cde_list_script(api, _page_form(name))}'
        )

    def _detail(self, g: Guideline) -> Response:
        if g.page == "bare":
            return self._html(g.title, '<div class="detailWrapper"><p>暂无数据</p></div>')
        links = "".join(
            f'<p><a href="/zdyz/downloadAtt?idCODE={f.id}" target="_blank">'
            f'<span class="fileLink">{f.name}</span></a></p>'
            for f in g.files
        )
        rows = [
            ("名称", g.title, "title"),
            ("文号", g.doc_number, "wh"),
            ("版本状态", g.version_state, "nowstate"),
            ("发布时间", iso(g.issue_date), "issueDate"),
            ("适用范围", g.fclass, "fclass"),
            ("专业分类", g.zyfl, "zyfl"),
            ("附件", links, "att"),
        ]
        cells = "".join(
            f'<tr><td class="td_title">{k}</td><td id="{i}">{v}</td></tr>' for k, v, i in rows
        )
        return self._html(
            g.title,
            f'<div class="detailWrapper"><table class="layui-table">'
            f"<tbody>{cells}</tbody></table></div>",
        )

    def _news(self, o: Opinion) -> Response:
        date = iso(o.issue_date)
        links = "".join(f'<p><a href="/main/att/download/{f.id}">{f.name}</a></p>' for f in o.files)
        related = ""
        if o.related:
            related, links = f'<div class="relatedNews"><p>相关附件</p>{links}</div>', ""
        box = (
            f"<p>为进一步规范相关产品的研发与评价，我中心组织起草了《{o.name}（征求意见稿）》。"
            "我们诚挚地欢迎社会各界对征求意见稿提出宝贵意见和建议，并请及时反馈给我们，谢谢。</p>"
            f"<p>{o.window}</p><p>您的反馈意见请发到以下联系人的邮箱：</p>"
            "<p>联系人：王老师、李老师</p><p>联系方式：zhqyj@cde.org.cn</p>"
            f"<p>感谢您的参与和大力支持。</p>{links}"
            f"<p>国家药品监督管理局药品审评中心</p><p>{cn_date(date)}</p>"
        )
        return self._html(
            o.title,
            (
                f'<div class="news_detail"><div class="news_detail_title">{o.title}</div>'
                f'<div class="news_detail_date">发布日期：{date}</div>'
                f'<div class="news_detail_box">{box}</div>{related}</div>'
            ),
        )

    def _guideline_news(self, g: Guideline) -> Response:
        """A guideline or 发布通告 published as a news page (RSSHub's selectors)."""
        date = iso(g.issue_date)
        links = "".join(
            f'<p><a href="/zdyz/downloadAtt?idCODE={f.id}">{f.name}</a></p>' for f in g.files
        )
        text = (
            f"<p>为{g.title.split('《')[-1].split('》')[0]}相关工作提供技术指导，"
            "经国家药品监督管理局审查同意，现予发布，自发布之日起施行。</p>"
            f"<p>特此通告。</p><p>国家药品监督管理局药品审评中心</p><p>{cn_date(date)}</p>"
        )
        return self._html(
            g.title,
            (
                f'<div class="news_detail"><div class="news_detail_title">{g.title}</div>'
                f'<div class="news_detail_date">发布日期：{date}</div>'
                f'<div class="new_detail_content">{text}</div>'
                f'<div class="relatedNews"><p>附件：</p>{links}</div></div>'
            ),
        )

    def _download(self, file_id: str, records: Any) -> Response:
        for record in records:
            for f in record.files:
                if f.id == file_id:
                    body, mime = f.content()
                    disposition = f"attachment;filename={quote(f.name)}"
                    return Response(
                        body=body, content_type=mime, headers={"Content-Disposition": disposition}
                    )
        return self._not_found()

    @staticmethod
    def _not_found() -> Response:
        return Response(status=404, body="<html><body><h1>404 Not Found</h1></body></html>")
