"""A replica of the National Health Commission's 法律法规 list (www.nhc.gov.cn),
for the ``nhc-regulations`` preset in ``monitor/starter.toml``.

Public evidence (other projects' scrapers of nhc.gov.cn list pages, 2020–2024):
items are ``<ul class="zxxx_list">`` (sometimes ``class="zxxx_list mt20"``)
``<li>`` holding ``<a href="/wjw/…/….shtml" title="full title">`` (root-relative
links, the visible text may be cut short, so scrapers read ``@title``) and the
day in ``<span class="ml">2024-03-01</span>``; the pager is drawn by a script
call ``createPageHTML('page_div', <pages>, <current>, 'list', 'shtml', …)`` and
further pages are ``list_2.shtml``…; a robot may get 412 and a Ruishu-style
script (the site is read with ``fetch = "auto"``, like NMPA).

Unverified: the 法律法规 column's exact page size and whether it keeps the
``mt20`` class; the 412 body is modelled on NMPA's.
"""

from __future__ import annotations

from datetime import date, timedelta
from html import escape

from monitor.replica.data_cn import hex_id, ruishu_page
from monitor.replica.presets import Item, PresetReplica
from monitor.replica.server import Request, Response

__all__ = ["NhcReplica"]


class NhcReplica(PresetReplica):
    """NHC's 法律法规 column: one list page of regulations and rules."""

    preset = "nhc-regulations"
    LIST = "/wjw/flfg/list.shtml"

    def seed(self) -> None:
        t = self.today
        self.lists[self.LIST] = [
            Item(
                "/wjw/flfg/202609/a1b2c3d4e5f6.shtml",
                "生物医学新技术临床研究和临床转化应用管理条例",
                t - timedelta(days=40),
            ),
            Item(
                "/wjw/flfg/202605/b2c3d4e5f6a1.shtml",
                "涉及人的生命科学和医学研究伦理审查办法",
                t - timedelta(days=150),
            ),
            Item(
                "/wjw/flfg/202512/c3d4e5f6a1b2.shtml",
                "医疗技术临床应用管理办法（2025年修订）",
                date(2025, 12, 8),
            ),
        ]

    def blocked_response(self, request: Request) -> Response:
        return Response(
            status=412,
            body=ruishu_page("nhc" + request.path, meta=False),
            headers={"Set-Cookie": f"HMF_CI={hex_id('nhc', request.path)[:24]}; path=/; HttpOnly"},
        )

    def render(self, request: Request, items: list[Item] | None) -> Response:
        lis = "".join(
            f'<li><a href="{i.path}" target="_blank" title="{escape(i.title)}">'
            f"{escape(_cut(i.title))}</a>"
            f'<span class="ml">{i.day.isoformat()}</span></li>\n'
            for i in items or []
        )
        body = (
            f'<ul class="zxxx_list mt20">\n{lis}</ul>'
            if items is not None
            else '<div class="list"><p>栏目调整中</p></div>'
        )
        return Response(
            body=(
                '<!DOCTYPE html><html><head><meta charset="utf-8"><title>法律法规</title></head>'
                '<body><div class="index_title"><h3>法律法规</h3></div>'
                f"{body}<div id=\"page_div\"></div><script>createPageHTML('page_div', 1, 1, "
                f"'list', 'shtml', {len(items or [])});</script>"
                f'<div class="footer">访问量：{10000 + self.stamp * 37}</div></body></html>'
            )
        )


def _cut(title: str, size: int = 18) -> str:
    """The list shows long titles cut short (the full one is in ``title=``)."""
    return title if len(title) <= size else title[:size] + "..."
