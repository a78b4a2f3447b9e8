"""Replicas of the sites behind the issue-15 presets in ``monitor/starter.toml``
(GOV.UK's MHRA feeds, Health Canada and the TGA are in
``monitor.replica.commonwealth``).

Each replica serves the real paths of its preset (the preset's URL with the
host moved onto the replica: ``source_settings`` reads the preset from the
starter file itself, so what is tested is what users get), holds items a test
edits between checks (``add``, ``retitle``, ``remove``, ``touch`` for
noise-only edits), and misbehaves like the others (``mode``).

Public evidence, and what stays unverified:

- **PMDA** RSS 1.0 (RDF) feeds ``/rss_015.xml`` (新着すべて), ``/rss_008.xml``
  (English), ``/rss_017.xml``, ``/rss_021.xml``: other projects read them as
  RSS 1.0 with ``dc:date`` (``{"rss": "http://purl.org/rss/1.0/", "dc":
  …}``, ``2026-10-01T12:00:00+09:00``) and titles that start with a category
  tag such as ``[安全]`` or ``[審査]``. The ``rdf:Seq`` of ``items`` and
  ``rdf:about`` = the link are the RSS 1.0 shape; PMDA's exact channel
  fields are unverified. The regenerative-products notices page
  ``/review-services/drug-reviews/about-reviews/ctp/0007.html`` lists items
  like "…について(2014年(平成26年)8月12日 薬食発0812第30号)[112 KB]" (from the
  issue); its markup (``#contents`` holding ``<li>`` with the PDF link and
  the date in the item's text) is unverified.
- **China's State Council policy library**: ``GET /search-gov/data`` on
  ``sousuo.www.gov.cn`` with ``t=zhengcelibrary_gw_bm_gb``: the answer is
  ``{"code": 200, "msg", "searchVO": {"catMap": {"gongwen": {"listVO": […],
  "totalCount"}, "bumenfile": …, "gongbao": …, "otherfile": …}}}``, items with
  ``title`` (search words highlighted in tags), ``url``, ``pubtimeStr``
  (``2026.04.15``), ``summary``, ``puborg``, ``pcode``, ``childtype`` — as
  several public scrapers read it. A query that matches nothing is answered
  with a non-200 ``code`` and "没有找到相关结果" (from a scraper's error
  handling); the paging parameters ``p``/``n`` are as the issue gives them.
"""

from __future__ import annotations

import json
import tomllib
from dataclasses import dataclass
from datetime import date, timedelta
from html import escape
from typing import Any
from urllib.parse import urlsplit

from monitor.replica.base import SiteReplica
from monitor.replica.server import Request, Response
from monitor.starter import starter_config

__all__ = [
    "GovCnPolicyReplica",
    "Item",
    "PmdaReplica",
    "PresetReplica",
    "starter_at",
    "starter_source",
]

_TODAY = date(2026, 11, 2)


def starter_source(name: str) -> dict[str, Any]:
    """The ``[[source]]`` table called ``name`` in the starter configuration."""
    for table in tomllib.loads(starter_config())["source"]:
        if table["name"] == name:
            return dict(table)
    raise KeyError(f"no [[source]] named {name!r} in monitor/starter.toml")


def starter_at(name: str, base_url: str) -> dict[str, Any]:
    """The starter preset ``name`` with its URL (and a ``Referer`` header) moved onto
    ``base_url``, checked on demand (no ``every``/``cron``) and read over plain HTTP
    (a replica's "blocked" mode stands for the challenge a browser would meet)."""
    table = starter_source(name)
    parts = urlsplit(table["url"])
    table["url"] = base_url + parts.path + (f"?{parts.query}" if parts.query else "")
    headers = table.get("headers")
    if headers and "Referer" in headers:
        table["headers"] = {**headers, "Referer": base_url + "/"}
    for key in ("every", "cron"):
        table.pop(key, None)
    if table.get("fetch") == "auto":
        table["fetch"] = "http"
    return table


@dataclass
class Item:
    """One listed document: ``path`` on the site, a title, a day, a summary."""

    path: str
    title: str
    day: date
    summary: str = ""
    ident: str = ""  # the feed's own id (guid / Atom id), when the site has one


class PresetReplica(SiteReplica):
    """A site with one or more lists (``lists`` maps a served path to its items)."""

    preset = ""  # the starter source this replica serves by default

    def __init__(self, today: date | None = None) -> None:
        self.today = today or _TODAY
        self.lists: dict[str, list[Item]] = {}
        self.stamp = 0  # moves on every noise-only edit
        self.seed()

    def seed(self) -> None:
        raise NotImplementedError

    # -- timeline -----------------------------------------------------------------

    def add(self, list_path: str, title: str, path: str, *, summary: str = "") -> Item:
        """Publish ``title`` today at the top of the list served at ``list_path``."""
        item = Item(path, title, self.today, summary, ident=self._ident(path))
        self.lists[list_path].insert(0, item)
        return item

    def retitle(self, path: str, title: str) -> None:
        for items in self.lists.values():
            for item in items:
                if item.path == path:
                    item.title = title

    def remove(self, path: str) -> None:
        for name, items in self.lists.items():
            self.lists[name] = [i for i in items if i.path != path]

    def touch(self) -> None:
        """A noise-only edit: build stamps and counters move, items do not."""
        self.stamp += 1

    def _ident(self, path: str) -> str:
        return path

    # -- serving ------------------------------------------------------------------

    def source_settings(self, base_url: str, name: str | None = None) -> dict[str, Any]:
        """The starter preset ``name`` (default: this replica's) pointed at ``base_url``."""
        return starter_at(name or self.preset, base_url)

    def blocked_response(self, request: Request) -> Response:
        return Response(status=403, body="<html><body><h1>Access Denied</h1></body></html>")

    def serve(self, request: Request) -> Response:
        items = self.lists.get(request.path)
        if items is None:
            return Response(status=404, body="<html><body>Not Found</body></html>")
        return self.render(request, items if self.mode != "empty" else None)

    def render(self, request: Request, items: list[Item] | None) -> Response:
        raise NotImplementedError


class PmdaReplica(PresetReplica):
    """PMDA's RSS 1.0 feeds and the 再生医療等製品 notices page."""

    preset = "pmda-new"
    NOTICES = "/review-services/drug-reviews/about-reviews/ctp/0007.html"

    def seed(self) -> None:
        t = self.today
        self.lists["/rss_015.xml"] = [
            Item(
                "/review-services/drug-reviews/0001.html",
                "[審査]再生医療等製品の承認品目一覧を更新しました",
                t - timedelta(days=1),
            ),
            Item(
                "/safety/info-services/drugs/0002.html",
                "[安全]使用上の注意の改訂指示通知を掲載しました",
                t - timedelta(days=2),
            ),
            Item(
                "/rs-std-jp/standards-development/0003.html",
                "[基準]遺伝子治療用製品等の品質及び安全性の確保に関する指針について",
                t - timedelta(days=5),
            ),
        ]
        self.lists["/rss_008.xml"] = [
            Item(
                "/english/review-services/reviews/0003.html",
                "Related Guidelines and Notifications for Regenerative Medical Products "
                "have been updated",
                t - timedelta(days=3),
            ),
            Item(
                "/english/about-pmda/0004.html",
                "PMDA Updates (November, 2026)",
                t - timedelta(days=6),
            ),
        ]
        self.lists["/rss_017.xml"] = [
            Item(
                "/rs-std-jp/outline/0005.html",
                "[RS]ゲノム編集技術を用いた遺伝子治療用製品に関する科学委員会報告書を掲載しました",
                t - timedelta(days=9),
            ),
        ]
        self.lists["/rss_021.xml"] = [
            Item(
                "/review-services/drug-reviews/review-information/ctp/0006.html",
                "[審査]再生医療等製品 審査報告書を掲載しました",
                t - timedelta(days=4),
            ),
        ]
        self.lists[self.NOTICES] = [
            Item(
                "/files/000201234.pdf",
                "再生医療等製品の製造販売承認申請に際し留意すべき事項について",
                date(2014, 8, 12),
                "薬食発0812第30号",
            ),
            Item(
                "/files/000267890.pdf",
                "ヒト（自己）体性幹細胞加工製品の品質及び安全性の確保に関する指針について",
                date(2024, 3, 29),
                "医薬機審発0329第12号",
            ),
        ]

    def render(self, request: Request, items: list[Item] | None) -> Response:
        if request.path == self.NOTICES:
            return self._notices(items)
        base = request.base
        items = items or []
        seq = "".join(f'<rdf:li rdf:resource="{base}{i.path}"/>' for i in items)
        entries = "".join(
            f'<item rdf:about="{base}{i.path}"><title>{escape(i.title)}</title>'
            f"<link>{base}{i.path}</link><dc:date>{i.day.isoformat()}T09:00:00+09:00</dc:date>"
            "</item>"
            for i in items
        )
        channel = (
            f'<channel rdf:about="{base}{request.path}"><title>PMDA</title><link>{base}/</link>'
            f"<description>更新 {self.stamp}</description>"
            + (f"<items><rdf:Seq>{seq}</rdf:Seq></items>" if items else "")
            + "</channel>"
        )
        if self.mode == "empty":  # the feed moved: an HTML page where the feed was
            return Response(body="<html><body><p>ページが見つかりません</p></body></html>")
        body = (
            '<?xml version="1.0" encoding="UTF-8"?>'
            '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" '
            'xmlns="http://purl.org/rss/1.0/" xmlns:dc="http://purl.org/dc/elements/1.1/">'
            f"{channel}{entries}</rdf:RDF>"
        )
        return Response(body=body, content_type="application/xml; charset=utf-8")

    def _notices(self, items: list[Item] | None) -> Response:
        lis = "".join(
            f'<li><a href="{i.path}">{escape(i.title)}</a>'
            f"({i.day.year}年({_heisei_or_reiwa(i.day)}){i.day.month}月{i.day.day}日 "
            f"{i.summary})[112 KB]</li>"
            for i in items or []
        )
        main = f"<ul>{lis}</ul>" if items is not None else "<p>このページは移動しました。</p>"
        return Response(
            body=(
                '<!DOCTYPE html><html lang="ja"><head><meta charset="utf-8">'
                "<title>再生医療等製品関連通知 | 独立行政法人 医薬品医療機器総合機構</title>"
                "</head><body>"
                '<div id="header"><ul><li><a href="/">ホーム</a></li></ul></div>'
                f'<div id="contents"><h1>再生医療等製品関連通知</h1>{main}</div>'
                f'<div id="footer">更新 {self.stamp}</div></body></html>'
            )
        )


def _heisei_or_reiwa(day: date) -> str:
    if day >= date(2019, 5, 1):
        n = day.year - 2018
        return f"令和{'元' if n == 1 else n}年"
    return f"平成{day.year - 1988}年"


class GovCnPolicyReplica(PresetReplica):
    """The State Council policy library's search API (``/search-gov/data``)."""

    preset = "gov-cn-policy"
    API = "/search-gov/data"
    CATEGORIES = ("gongwen", "bumenfile", "gongbao", "otherfile")

    def seed(self) -> None:
        for name in self.CATEGORIES:
            self.lists[f"{self.API}#{name}"] = []
        self.lists[f"{self.API}#gongwen"] = [
            Item(
                "https://www.gov.cn/zhengce/content/202601/content_7012345.htm",
                "国务院办公厅关于全面深化<em>药品</em>医疗器械监管改革促进医药产业高质量发展的意见",
                date(2025, 1, 3),
                "国办发〔2024〕53号",
            ),
            Item(
                "https://www.gov.cn/zhengce/content/202509/content_7040001.htm",
                "国务院关于修改《<em>药品</em>管理法实施条例》的决定",
                date(2025, 9, 20),
                "国令第800号",
            ),
        ]
        self.lists[f"{self.API}#bumenfile"] = [
            Item(
                "https://www.gov.cn/zhengce/zhengceku/202604/content_7064729.htm",
                "国家药监局关于发布《<em>药品</em>注册管理办法》配套文件的公告",
                date(2026, 4, 15),
                "国家药监局公告2026年第30号",
            ),
        ]

    def serve(self, request: Request) -> Response:
        if request.path != self.API:
            return Response(status=404, body="<html><body>404</body></html>")
        if request.query.get("t") != "zhengcelibrary_gw_bm_gb":
            return Response(
                body=json.dumps({"code": 1001, "msg": "参数错误"}, ensure_ascii=False),
                content_type="application/json;charset=UTF-8",
            )
        if self.mode == "empty":  # the API moved: 200 with no searchVO
            body: dict[str, Any] = {"code": 200, "msg": "操作成功"}
        else:
            words = request.query.get("q", "")
            size = int(request.query.get("n") or 10)
            cat_map = {}
            for name in self.CATEGORIES:
                items = [
                    i
                    for i in self.lists[f"{self.API}#{name}"]
                    if not words or words in i.title.replace("<em>", "").replace("</em>", "")
                ]
                items.sort(key=lambda i: i.day, reverse=True)
                cat_map[name] = {
                    "listVO": [self._row(i) for i in items[:size]],
                    "totalCount": len(items),
                }
            body = {
                "code": 200,
                "msg": "操作成功",
                "searchVO": {
                    "catMap": cat_map,
                    "totalCount": sum(c["totalCount"] for c in cat_map.values()),
                    "took": self.stamp,
                },
            }
        return Response(
            body=json.dumps(body, ensure_ascii=False), content_type="application/json;charset=UTF-8"
        )

    @staticmethod
    def _row(item: Item) -> dict[str, Any]:
        return {
            "title": item.title,
            "url": item.path,
            "pubtimeStr": item.day.strftime("%Y.%m.%d"),
            "summary": item.title.replace("<em>", "").replace("</em>", "")[:60],
            "puborg": "国务院办公厅" if "国务院" in item.title else "国家药监局",
            "pcode": item.summary,
            "childtype": "",
        }

    def add(self, list_path: str, title: str, path: str, *, summary: str = "") -> Item:
        """``list_path`` is a category name (``gongwen``, ``bumenfile``…)."""
        return super().add(f"{self.API}#{list_path}", title, path, summary=summary)

    def render(self, request: Request, items: list[Item] | None) -> Response:
        raise NotImplementedError  # serve() answers everything
