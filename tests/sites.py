"""A changeable list site for pipeline tests: an NMPA-like column page that a
test edits between checks, and that can misbehave on demand."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field

from monitor.replica.server import Request, Response

CHALLENGE = (
    '<html><head><meta id="9DhefwqGPrzGxEp9hPaoag" content="x7Hk2"><script>'
    "$_ts=window['$_ts'];if(!$_ts)$_ts={};$_ts.nsd=11803;$_ts.cd='qEcrrpAlq';"
    + "var _$x="
    + "'%s'" % ("a9" * 4000)
    + ";</script></head><body></body></html>"
)


@dataclass
class Item:
    path: str
    title: str
    date: str


@dataclass
class ListSite:
    """``/list/index.html`` shows the items as ``.list ul li`` like NMPA."""

    items: list[Item] = field(default_factory=list)
    visitors: int = 1000
    encoding: str = "utf-8"
    mode: str = "ok"  # ok, challenge, error, hang, truncate, reset, empty, malformed
    hits: int = 0

    def page(self) -> str:
        lis = "".join(
            f'<li>\n  <a href="../articles/{i.path}.html" target="_blank">{i.title}</a>'
            f"   <span>({i.date})</span></li>\n"
            for i in self.items
        )
        charset = "gbk" if self.encoding == "gbk" else "utf-8"
        body = f'<div class="list"><ul>{lis}</ul></div>'
        if self.mode == "empty":
            body = '<div class="newlist"><p>栏目改版中</p></div>'
        if self.mode == "malformed":
            body = body.replace("</li>", "", 3).replace("</ul>", "")
        return (
            f'<html><head><meta charset="{charset}"><title>公告通告</title></head><body>'
            f"<div class='nav'>首页 &gt; 公告通告</div>{body}"
            f"<div class='footer'>访问次数：{self.visitors}  最后更新：2026-11-{self.visitors % 28 + 1:02d}"
            "</div></body></html>"
        )

    def __call__(self, request: Request) -> Response:
        self.hits += 1
        if request.path != "/list/index.html":
            return Response(status=404, body="not found")
        if self.mode == "challenge":
            return Response(
                status=202, body=CHALLENGE, headers={"Set-Cookie": "FSSBBIl1UgzbN7N80S=abc; path=/"}
            )
        if self.mode == "error":
            return Response(status=503, body="<html>busy</html>")
        if self.mode == "hang":
            return Response(body=self.page(), delay=3.0)
        if self.mode in ("truncate", "reset"):
            return Response(body=self.page(), fault=self.mode)  # type: ignore[arg-type]
        codec = "gbk" if self.encoding == "gbk" else "utf-8"
        return Response(
            body=self.page().encode(codec),
            content_type="text/html" if codec == "gbk" else "text/html; charset=utf-8",
        )


class Conditional:
    """Wraps an app: every 200 answer to a GET gets an ``ETag`` (a digest of the
    body) and a matching ``If-None-Match`` gets ``304``, as static regulator
    pages behind a CDN do. Counts the 304s it sent."""

    def __init__(self, app: Callable[[Request], Response]) -> None:
        self.app = app
        self.not_modified = 0

    def __call__(self, request: Request) -> Response:
        response = self.app(request)
        if request.method != "GET" or response.status != 200:
            return response
        etag = '"' + hashlib.sha1(response.payload()).hexdigest() + '"'
        if request.header("If-None-Match") == etag:
            self.not_modified += 1
            return Response(status=304, headers={"ETag": etag})
        response.headers = {**response.headers, "ETag": etag}
        return response
