"""A replica of NMPA's static columns (www.nmpa.gov.cn), as docs/sources.md describes them.

Columns 公告通告 ``/xxgk/ggtg/``, 药品公告通告 ``/yaopin/ypggtg/``, 药品法规文件
``/yaopin/ypfgwj/``, 征求意见 ``/xxgk/zhqyj/`` and 政策解读 ``/yaopin/ypzhcjd/``,
each paged as ``index.html``, ``index_1.html``, ``index_2.html`` … (20 items a
page; a page past the end is a 404). An item is ``.list ul li`` holding
``<a href="../../xxgk/…/20260608103856150.html">title</a><span>(2026-06-08)</span>``
— links relative to the column page. Article pages carry
``<meta name="PubDate">``, the body in ``.text`` and attachments as
page-relative ``./P0….pdf`` / ``.docx`` links (the attachment naming is
unverified). Pages end with a visitor counter that moves on every request.

``move_column(column, to="/")`` makes a column answer its list pages with
``302`` to ``to`` (the site root by default, as the 2025–26 redesign is
reported to do for old list paths; unverified), and ``/`` serves a home page
that has ``.list ul`` lists of its own (the newest articles of every column),
so a robot that follows the redirect and parses what it finds gets plausible,
wrong records: the worst case.

``gbk`` names columns served GBK-encoded (``<meta charset=gb2312>``, no charset
in the HTTP header), with their articles, as older Chinese government pages
are. ``mode = "blocked"`` answers everything with Ruishu's HTTP 412 page.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from monitor.replica.base import SiteReplica
from monitor.replica.data_cn import cn_date, hex_id, make_file, ruishu_page, seed
from monitor.replica.listpage import nmpa_pager_script
from monitor.replica.server import Request, Response

COLUMNS: dict[str, str] = {
    "ggtg": "/xxgk/ggtg/",
    "ypggtg": "/yaopin/ypggtg/",
    "ypfgwj": "/yaopin/ypfgwj/",
    "zhqyj": "/xxgk/zhqyj/",
    "ypzhcjd": "/yaopin/ypzhcjd/",
}
_PAGE = re.compile(r"(?P<column>/.+/)index(?:_(?P<n>\d+))?\.html")
_NOT_FOUND = "<html><head><title>404</title></head><body>您访问的页面不存在</body></html>"


@dataclass
class File:
    name: str
    path: str
    lines: list[str]
    revision: int = 0

    def content(self) -> tuple[bytes, str]:
        return make_file(
            self.name, self.lines + ([f"修订{self.revision}"] if self.revision else [])
        )


@dataclass
class Article:
    path: str  # "/xxgk/ggtg/qtggtg/20261120093012345.html"
    title: str
    date: str  # ISO
    stamp: str  # PubDate, "2026-11-20 09:30:12"
    columns: list[str]
    body: list[str]
    files: list[File] = field(default_factory=list)


class NmpaReplica(SiteReplica):
    """The NMPA columns in memory; edit them between checks with the timeline methods."""

    kind = "nmpa"

    def __init__(self, *, seeded: bool = True, gbk: Iterable[str] = (), per_page: int = 20) -> None:
        self.articles: dict[str, Article] = {}
        self.gbk = {COLUMNS.get(c, c) for c in gbk}
        self.per_page = per_page
        self.moved: dict[str, str] = {}  # column -> where its list pages redirect
        self.visits = 52_000
        if seeded:
            self._seed()

    # -- timeline -----------------------------------------------------------------

    def _seed(self) -> None:
        data = seed()["nmpa"]
        newest = date.fromisoformat(data["newest"])
        drugs, docs = data["drugs"], data["docs"]
        for c, (column, spec) in enumerate(data["columns"].items()):
            day = newest - timedelta(days=c)
            for i in range(data["items_per_column"]):
                template = spec["templates"][i % len(spec["templates"])]
                number = 90 - i
                title = template.format(
                    drug=drugs[(i * 7 + c) % len(drugs)],
                    doc=docs[(i * 5 + c * 3) % len(docs)],
                    year=day.year,
                    no=number,
                    n=(i % 9) + 2,
                )
                self.add_article(column, title, day.isoformat(), directory=spec["article_dir"])
                day -= timedelta(days=1 + (i * 7 + c) % 4)

    def add_article(
        self,
        column: str,
        title: str,
        day: str,
        *,
        also: Iterable[str] = (),
        directory: str | None = None,
        body: list[str] | None = None,
        attachments: tuple[str, ...] | None = None,
    ) -> Article:
        """Publish an article in ``column`` (and the columns in ``also``)."""
        column = COLUMNS.get(column, column)
        directory = directory or column.strip("/") + "/art"
        serial = hex_id(title, day)
        clock = int(serial[:6], 16)
        stamp = f"{day} {clock % 10 + 8:02d}:{clock // 10 % 60:02d}:{clock // 600 % 60:02d}"
        name = (
            f"{day.replace('-', '')}{stamp[11:].replace(':', '')}{int(serial[6:9], 16) % 1000:03d}"
        )
        path = f"/{directory}/{name}.html"
        consultation = "征求意见" in title
        if attachments is None:
            attachments = (
                (f"{_subject(title)}（征求意见稿）.docx", "反馈意见表.docx")
                if consultation
                else ((f"{_subject(title)}.pdf",) if "发布" in title or "印发" in title else ())
            )
        files = [
            File(
                n,
                f"/{directory}/P0{name[:8]}{int(serial[9:17], 16) % 10**9:09d}{i}"
                f"{n[n.rfind('.') :]}",
                [_subject(title), n],
            )
            for i, n in enumerate(attachments)
        ]
        if body is None:
            body = _body(title, day, files, consultation)
        article = Article(
            path, title, day, stamp, [column, *(COLUMNS.get(a, a) for a in also)], body, files
        )
        self.articles[path] = article
        return article

    def edit_title(self, path: str, title: str) -> None:
        self.articles[path].title = title

    def revise_attachment(self, path: str, index: int = 0) -> File:
        self.articles[path].files[index].revision += 1
        return self.articles[path].files[index]

    def remove(self, path: str) -> None:
        self.articles.pop(path, None)

    def move_column(self, column: str, to: str = "/") -> None:
        """The column's list pages answer ``302 → to`` from now on."""
        self.moved[COLUMNS.get(column, column)] = to

    def touch(self) -> None:
        """A noise-only edit: the visitor counters move, nothing else."""
        self.visits += 911

    def in_column(self, column: str) -> list[Article]:
        column = COLUMNS.get(column, column)
        chosen = [a for a in self.articles.values() if column in a.columns]
        return sorted(chosen, key=lambda a: (a.stamp, a.path), reverse=True)

    # -- serving ------------------------------------------------------------------

    def source_settings(self, base_url: str) -> dict[str, Any]:
        return {"name": "nmpa-replica", "kind": "nmpa", "base_url": base_url}

    def blocked_response(self, request: Request) -> Response:
        token = hex_id("acw", request.path)
        return Response(
            status=412,
            body=ruishu_page("nmpa" + request.path, meta=False),
            # two Set-Cookie headers: the server sends each key of the dict
            headers={
                "Set-Cookie": f"acw_tc={token}; path=/; HttpOnly; Max-Age=1800",
                "set-cookie": f"NfBCSins2OywSO={token[:20]}; Path=/; HttpOnly",
            },
        )

    def serve(self, request: Request) -> Response:
        self.visits += 1
        path = request.path
        if path.endswith("/") and path in COLUMNS.values():
            path += "index.html"
        if path in ("/", "/index.html"):
            return self._home()
        match = _PAGE.fullmatch(path)
        if match and match.group("column") in self.moved:
            target = self.moved[match.group("column")]
            return Response(status=302, body="", headers={"Location": request.base + target})
        if match and match.group("column") in COLUMNS.values():
            return self._column(match.group("column"), int(match.group("n") or 0))
        if path in self.articles:
            article = self.articles[path]
            head = (
                f'<meta name="ArticleTitle" content="{article.title}">'
                f'<meta name="PubDate" content="{article.stamp}">'
            )
            return self._page(article.title, _article_html(article), article.columns[0], head)
        for article in self.articles.values():
            for f in article.files:
                if f.path == path:
                    body, mime = f.content()
                    return Response(body=body, content_type=mime)
        return Response(status=404, body=_NOT_FOUND)

    def _column(self, column: str, number: int) -> Response:
        items = self.in_column(column)
        pages = max(1, -(-len(items) // self.per_page))
        if number >= pages:
            return Response(status=404, body=_NOT_FOUND)
        depth = "../" * column.strip("/").count("/") + "../"
        lis = "".join(
            f'<li><a href="{depth}{a.path.lstrip("/")}" target="_blank" title="{a.title}">'
            f"{a.title}</a><span>({a.date})</span></li>\n"
            for a in items[number * self.per_page : (number + 1) * self.per_page]
        )
        body = (
            f'<div class="list"><ul>\n{lis}</ul></div><div class="page">'
            f'<script>createPageHTML({pages}, {number}, "index", "html");</script></div>'
        )
        if self.mode == "empty":
            body = '<div class="lmlist"><p>栏目改版中，敬请期待。</p></div>'
        return self._page(_column_name(column), body, column)

    def _home(self) -> Response:
        """The home page: a list of the newest articles of every column."""
        newest = sorted(self.articles.values(), key=lambda a: (a.stamp, a.path), reverse=True)
        lis = "".join(
            f'<li><a href="{a.path.lstrip("/")}" target="_blank">{a.title}</a>'
            f"<span>({a.date})</span></li>\n"
            for a in newest[:10]
        )
        body = f'<div class="list"><ul>\n{lis}</ul></div>'
        return self._page("国家药品监督管理局", body, "/")

    def _page(self, title: str, body: str, column: str, head: str = "") -> Response:
        charset = "gb2312" if column in self.gbk else "utf-8"
        html = (
            f'<!DOCTYPE html><html><head><meta http-equiv="Content-Type" '
            f'content="text/html; charset={charset}"><title>{title}</title>{head}</head><body>'
            f'{nmpa_pager_script()}<div class="header"><a href="/">国家药品监督管理局</a></div>'
            f'<div class="container">{body}</div>'
            f'<div class="footer">访问量：{self.visits}  版权所有：国家药品监督管理局</div>'
            "</body></html>"
        )
        if column in self.gbk:
            return Response(body=html.encode("gbk"), content_type="text/html")
        return Response(body=html)


def _column_name(column: str) -> str:
    spec = seed()["nmpa"]["columns"].get(column)
    return str(spec["name"]) if spec else "栏目"


def _subject(title: str) -> str:
    found = re.search(r"《(.+?)(?:（征求意见稿）)?》", title)
    return found.group(1) if found else re.sub(r"（\d{4}年第\d+号）$", "", title)


def _body(title: str, day: str, files: list[File], consultation: bool) -> list[str]:
    subject = _subject(title)
    if consultation:
        return [
            f"为贯彻落实药品监管改革要求，国家药监局组织起草了《{subject}（征求意见稿）》，现向社会公开征求意见。",
            "请于"
            + cn_date((date.fromisoformat(day) + timedelta(days=30)).isoformat())
            + "前将意见通过电子邮件反馈至yhzcszc@nmpa.gov.cn，邮件标题请注明“意见反馈”。",
        ]
    attached = [f"附件：{f.name}" for f in files]
    return [f"{title.split('（')[0]}。", "特此公告。", *attached, "国家药监局", cn_date(day)]


def _article_html(article: Article) -> str:
    links = "".join(
        f'<p><a href=".{f.path[f.path.rfind("/") :]}">{f.name}</a></p>' for f in article.files
    )
    paragraphs = "".join(f"<p>{line}</p>" for line in article.body)
    return f'<div class="title">{article.title}</div><div class="text">{paragraphs}{links}</div>'
