"""CDE (药品审评中心) guideline lists: 国内指导原则, 发布通告 and 征求意见.

What it reads (``base_url`` defaults to https://www.cde.org.cn):

- ``POST /zdyz/getDomesticGuideList`` for 国内指导原则 (``lists = ["domestic"]``)
  and, with ``isFbtg=1`` and the 发布通告 ``classid``, for 发布通告 (``"notices"``);
  ``POST /zdyz/getOpinionList`` with ``fclass=征求意见`` (``"opinions"``). Forms
  are sent as the site's own page sends them, with the list page as
  ``Referer``; every page is read (``pages`` from the envelope), up to
  ``max_pages`` per list.
- For new records, and for records whose list entry changed (title, date,
  ``nowstate``, ``fclass``), the detail page ``/zdyz/domesticinfopage`` (文号,
  版本状态, 适用范围, 专业分类, attachments ``/zdyz/downloadAtt?idCODE=…``);
  for consultations, 发布通告 and guidelines listed by a news page, the news
  page ``/main/news/viewInfoCommon/<id>`` (text in ``div.news_detail_box`` or
  ``.new_detail_content``, attachments there or in ``.relatedNews`` beside it;
  the comment deadline for consultations). Unchanged records reuse what the
  last healthy run found (``known``), so a quiet run costs only the list
  requests; a record whose last detail read found nothing (no file, 文号 or
  适用范围) is read again. A detail page that fails (HTTP 404, 5xx) or is odd
  (no table, no news box) keeps the list entry (and the last known details)
  instead of failing the run, and is counted in ``Listing.item_errors``; a
  block or a network error (no HTTP answer) fails it, and so does every
  detail page of a run failing (more than one read): that is the site, not
  one page. Consultations linked to another site are listed, not crawled.
  ``details = false`` skips detail pages altogether.

Public evidence (RSSHub, ``lib/routes/cde/zdyz.ts``): 发布通告 is read with
the same form as here (``isFbtg: 1``, ``classid: 2853510d…``), each row's link
is ``item.externalLinks`` (not ``zdyzIdCODE``) and the page's content is
``$('.new_detail_content').html() + $('.relatedNews').html()``;
``lib/routes/cde/index.ts`` reads news pages whose ``div.news_detail_box``
holds ``div.news_detail_title`` and ``div.news_detail_date``. Other scrapers
(find_string "zdyzIdCODE") key 国内指导原则 by ``zdyzIdCODE`` and link
``/zdyz/domesticinfopage?zdyzIdCODE=…`` with ``/zdyz/downloadAtt?idCODE=…``
files, as here.

Records: a guideline's key is its ``zdyzIdCODE`` (from the row, else from a
``domesticinfopage`` link in ``externalLinks``); a 发布通告 row known only by
its news page is ``notice:<32 hex>``; a row with neither is still kept, as
``row:<date>:<title>`` linking to its list page (a row is never dropped, so a
list cannot come back empty because the rows changed shape). When a row has
both an id and a news-page link, the news page is the record's page.
国内指导原则 and 发布通告 share one id space, so a record listed in both is one
record (``fields["list"] = "domestic,notices"``) and its key does not change if it moves between
lists. A consultation's key is ``opinion:<32 hex>`` from its ``externalLinks``
(news ids are another id space). ``status`` is 版本状态 from the detail page,
else the list's ``nowstate``; consultations say ``征求意见``. Fields:
``list``, ``nowstate`` and ``fclass`` (as listed), ``category`` (专业分类, else
``fclass``), ``scope`` (适用范围), ``doc_number`` (文号), ``comment_deadline``.

``page_size`` defaults to 50: the site's own pages ask for 10-15 rows, so 50
reads the ~650 records in about 14 requests instead of 65, while staying a
modest size that a server is unlikely to cap or flag. If the server caps it
anyway, nothing is lost: the adapter follows the envelope's ``pages``.

Completeness: a **complete catalogue** — every page of every list is read,
so an absent record is a removal; only when ``max_pages`` stops a list early
is the listing marked incomplete, so the records not reached are not
reported as removed.

Errors: an envelope ``code`` other than 200 is a ``ParseError`` (``Blocked``
for 401/403 or refusal words); no ``data.records`` list, or no records at all
in an unfiltered check, is ``LayoutChanged``.

Bot protection: a plain client gets Ruishu's HTTP 202 JavaScript challenge,
reported as ``Blocked`` (set ``fetch = "auto"`` or ``"browser"``). Read
through the browser, the lists are page-driven (``sources.fetch.pages``): the list
page is opened, its own jQuery XHR (signed by Ruishu's hook) requests the
list, the adapter reads that answer and clicks the page's pager
(``a.layui-laypage-next``) for the next one, so it makes no request the page
would not make. The page asks for its own page size (10-15 rows), and
``search_title`` / ``zyfl1`` are then applied to the rows read. Evidence:
docs/sources.md "Evidence checked 2026-12" (headless Playwright blocked at CDE,
page-driven XHR worked; RSSHub ``lib/routes/cde``). Unverified: the pager's
markup on the live site (layui's ``laypage`` default is assumed).

Unverified (coded defensively): what ``nowstate`` says for drafts and
withdrawn documents (``废止`` is assumed; ``征求意见`` in a title or state means
a draft); whether 发布通告 rows also carry ``zdyzIdCODE`` (both shapes are
read; the replica serves the news-only shape by default, the worst case);
that 发布通告 文号 is the ``（YYYY年第N号）`` at the end of the title; the format
of the notice page's attachment links (any link to ``/att/download``,
``downloadAtt`` or a PDF/DOC(X)/XLS(X)/ZIP file counts); ``externalLinks``
being absolute or root-relative (both accepted; other hosts kept as they are).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping
from contextlib import closing
from dataclasses import dataclass, replace
from datetime import date
from typing import Any, ClassVar, Literal
from urllib.parse import urljoin, urlsplit

from pydantic import Field

from sources.adapters.details import enrich
from sources.adapters.generic import target_url
from sources.errors import Blocked, LayoutChanged, ParseError
from sources.fetch.pages import PageDriver, page_driver, plain_part
from sources.registry import Adapter, SourceSettings, register
from sources.text.dates import parse_date
from sources.text.deadlines import extract_deadline
from sources.text.selectors import clean_text, make_soup, node_text
from sources.types import (
    Attachment,
    Coverage,
    Fetched,
    Fetcher,
    FromSetting,
    Listing,
    Record,
    Regulator,
)

__all__ = [
    "CdeGuidelines",
    "CdeSettings",
    "ListPage",
    "list_records",
    "parse_detail",
    "parse_list_page",
    "parse_notice",
]

log = logging.getLogger(__name__)

ListName = Literal["domestic", "notices", "opinions"]
ALL_LISTS: tuple[ListName, ...] = ("domestic", "notices", "opinions")
LIST_PAGES: dict[str, str] = {
    "domestic": "/zdyz/listpage/9cd8db3b7530c6fa0c86485e563f93c7",
    "notices": "/zdyz/listpage/2853510d929253719601db17b8a9fd81",
    "opinions": "/zdyz/listpage/3c49fad55caad7a034c263cfc2b6eb9c",
}
NOTICES_CLASSID = "2853510d929253719601db17b8a9fd81"
DEFAULT_BASE = "https://www.cde.org.cn"
NEXT_PAGE = "a.layui-laypage-next:not(.layui-disabled)"  # the list page's own pager
_NEWS_ID = re.compile(r"viewInfoCommon/([0-9a-fA-F]{32})")
_ZDYZ_LINK = re.compile(r"domesticinfopage\?(?:[^#]*&)?zdyzIdCODE=([0-9a-zA-Z]+)")
_DOC_NUMBER = re.compile(r"[（(]\s*(\d{4}\s*年\s*第\s*\d+\s*号)\s*[）)]")
_FILE_LINK = re.compile(
    r"downloadAtt|/att/download|\.(?:pdf|docx?|xlsx?|zip|rar|wps)(?:$|\?)", re.IGNORECASE
)
_LIST_FIELDS = ("list", "nowstate", "fclass")
_DETAIL_FIELDS = ("doc_number", "scope", "category", "comment_deadline")
_DETAIL_ONLY = ("doc_number", "scope", "comment_deadline")  # never filled from the list


class CdeSettings(SourceSettings):
    """Settings of ``kind = "cde"``."""

    lists: list[ListName] = Field(
        default_factory=lambda: list(ALL_LISTS),
        min_length=1,
        description='lists read: "domestic" 国内指导原则, "notices" 发布通告, "opinions" 征求意见',
    )
    page_size: int = Field(default=50, ge=1, le=500, description="rows asked per API page")
    max_pages: int = Field(
        default=100, ge=1, description="pages read per list at most (a cut listing is `newest`)"
    )
    details: bool = Field(
        default=True,
        description="read detail pages of new or changed entries (文号, 适用范围, attachments)",
    )
    search_title: str = Field(default="", description="keep only titles containing this text")
    zyfl1: str = Field(
        default="", description="the API's 专业分类 filter, e.g. 生物制品 (empty: every class)"
    )


@dataclass(frozen=True)
class ListPage:
    """One page of the JSON API: its rows and the envelope's paging numbers."""

    rows: list[dict[str, Any]]
    pages: int
    total: int | None


@dataclass(frozen=True)
class Detail:
    """What a detail or notice page adds to a record."""

    status: str | None
    fields: dict[str, str]
    attachments: tuple[Attachment, ...]


# --- parsing (pure) ----------------------------------------------------------


def parse_list_page(payload: Any, url: str) -> ListPage:
    """Check the envelope ``{"code": 200, "data": {"records": [...], "pages": P}}``."""
    if not isinstance(payload, dict):
        raise LayoutChanged("the CDE API did not answer with a JSON object", url=url)
    _check_code(payload, url)
    data = payload.get("data")
    rows = data.get("records") if isinstance(data, dict) else None
    if not isinstance(data, dict) or not isinstance(rows, list):
        raise LayoutChanged("the CDE API answer has no data.records list", url=url)
    total = _int(data.get("total"))
    pages = _int(data.get("pages"))
    if pages is None:
        size = _int(data.get("size")) or len(rows) or 1
        pages = -(-total // size) if total is not None else 1
    return ListPage([r for r in rows if isinstance(r, dict)], pages, total)


def _check_code(payload: dict[str, Any], url: str) -> None:
    """Raise for an envelope whose code is not 200: Blocked for a refusal
    (401, 403, or a message saying 非法 / 拒绝 / 禁止), else ParseError."""
    code, message = payload.get("code"), str(payload.get("msg") or "")
    if str(code) == "200":
        return
    if str(code) in ("401", "403") or any(w in message for w in ("非法", "拒绝", "禁止")):
        raise Blocked(f"the CDE API refused the request (code {code}: {message})", url=url)
    raise ParseError(f"the CDE API answered code {code}: {message}", url=url)


def list_records(rows: Iterable[dict[str, Any]], listing: str, base_url: str) -> list[Record]:
    """Records for the rows of one list (no detail-page fields yet). A row is
    never dropped for lack of an id: see ``_guideline_record``."""
    records = []
    for row in rows:
        title = clean_text(str(row.get("title") or ""))
        if not title:
            continue
        day = parse_date(str(row.get("issueDate") or ""))
        state = clean_text(str(row.get("nowstate") or ""))
        if listing == "opinions":
            records.append(_opinion_record(row, title, day, state, base_url))
        else:
            records.append(_guideline_record(row, listing, title, day, state, base_url))
    return records


def _guideline_record(
    row: dict[str, Any], listing: str, title: str, day: str | None, state: str, base_url: str
) -> Record:
    """The key is ``zdyzIdCODE`` (from the row, else from a ``domesticinfopage``
    link); a row known only by a news page (``externalLinks`` to
    ``viewInfoCommon/<id>``, as 发布通告 rows are read by public scrapers) is
    ``notice:<id>``; a row with neither is ``row:<date>:<title>`` and links to
    its list page, so it is still watched."""
    fclass = clean_text(str(row.get("fclass") or ""))
    link = str(row.get("externalLinks") or "").strip()
    news, coded = _NEWS_ID.search(link), _ZDYZ_LINK.search(link)
    key = clean_text(str(row.get("zdyzIdCODE") or "")) or (coded.group(1) if coded else "")
    news_url = f"{base_url}/main/news/viewInfoCommon/{news.group(1).lower()}" if news else ""
    if key:
        url = news_url or f"{base_url}/zdyz/domesticinfopage?zdyzIdCODE={key}"
    elif news:
        key, url = f"notice:{news.group(1).lower()}", news_url
    elif link:
        url = _site_url(base_url, base_url + "/", link)
        key = f"notice:{url}"
    else:
        key, url = f"row:{day or ''}:{title}", base_url + LIST_PAGES[listing]
    fields = {"list": listing}
    fields.update(
        {k: v for k, v in (("nowstate", state), ("fclass", fclass), ("category", fclass)) if v}
    )
    return Record(key, title, url, day, state or None, (), fields)


def _opinion_record(
    row: dict[str, Any], title: str, day: str | None, state: str, base_url: str
) -> Record:
    link = str(row.get("externalLinks") or "").strip()
    match = _NEWS_ID.search(link)
    if match:
        news_id = match.group(1).lower()
        key, url = f"opinion:{news_id}", f"{base_url}/main/news/viewInfoCommon/{news_id}"
    elif link:
        url = _site_url(base_url, base_url + "/", link)
        key = f"opinion:{url}"
    else:  # no link at all: still listed, never dropped
        key, url = f"row:{day or ''}:{title}", base_url + LIST_PAGES["opinions"]
    fields = {"list": "opinions"}
    if state:
        fields["nowstate"] = state
    fclass = clean_text(str(row.get("fclass") or ""))
    if fclass and fclass != "征求意见":
        fields["category"] = fclass
    return Record(key, title, url, day, state or "征求意见", (), fields)


def parse_detail(html: str, page_url: str, base_url: str) -> Detail:
    """The table 名称/文号/版本状态/发布时间/适用范围/专业分类/附件 of a guideline page."""
    soup = make_soup(html)
    cells: dict[str, str] = {}
    for row in soup.find_all("tr"):
        tds = row.find_all(["td", "th"], recursive=False)
        if len(tds) >= 2:
            label = re.sub(r"[\s:：]", "", node_text(tds[0]))
            cells.setdefault(label, node_text(tds[1]))
    if "名称" not in cells and "附件" not in cells:
        raise LayoutChanged("the CDE detail page has no 名称/附件 table", url=page_url)
    fields = {
        name: cells[label]
        for label, name in (("文号", "doc_number"), ("适用范围", "scope"), ("专业分类", "category"))
        if cells.get(label)
    }
    links = _file_links(soup.find_all("a", href=True), page_url, base_url)
    return Detail(cells.get("版本状态") or None, fields, links)


def parse_notice(
    html: str, page_url: str, base_url: str, published: str | None, *, deadline: bool = True
) -> Detail:
    """A news page (``/main/news/viewInfoCommon/<id>``): a 征求意见 notice, a
    发布通告 or a guideline published as news. The text sits in
    ``div.news_detail_box`` or ``.new_detail_content`` (both are seen on the
    real site); attachments in either, or in ``.relatedNews`` beside them.
    ``deadline`` reads the comment deadline (for consultations)."""
    soup = make_soup(html)
    boxes = [
        b
        for b in (soup.select_one("div.news_detail_box"), soup.select_one(".new_detail_content"))
        if b is not None
    ]
    if not boxes:
        raise LayoutChanged(
            "the CDE news page has neither div.news_detail_box nor .new_detail_content",
            url=page_url,
        )
    stamp = soup.select_one("div.news_detail_date")
    day = published or (parse_date(node_text(stamp)) if stamp else None)
    fields: dict[str, str] = {}
    text = "\n".join(box.get_text("\n") for box in boxes)
    found = extract_deadline(text, date.fromisoformat(day) if day else None) if deadline else None
    if found:
        fields["comment_deadline"] = found.isoformat()
    holders = [*boxes, *soup.select(".relatedNews")]
    anchors = [a for holder in holders for a in holder.find_all("a", href=True)]
    return Detail(None, fields, _file_links(anchors, page_url, base_url))


def _file_links(anchors: Iterable[Any], page_url: str, base_url: str) -> tuple[Attachment, ...]:
    found: dict[str, Attachment] = {}
    for anchor in anchors:
        href = str(anchor.get("href") or "").strip()
        if not href or not _FILE_LINK.search(href):
            continue
        label = anchor.select_one("span.fileLink")
        name = node_text(label) if label else node_text(anchor)
        url = _site_url(base_url, page_url, href)
        found.setdefault(url, Attachment(url=url, name=name))
    return tuple(found.values())


def _site_url(base_url: str, page_url: str, href: str) -> str:
    """Root-relative links and links to www.cde.org.cn are moved onto ``base_url``
    (a mirror or replica), page-relative ones are joined, other hosts kept."""
    if href.startswith("//"):
        href = "https:" + href
    if href.startswith("/") or urlsplit(href).netloc in ("www.cde.org.cn", "cde.org.cn"):
        return target_url(href, base_url)
    return urljoin(page_url, href)


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


# --- the adapter -------------------------------------------------------------


@register
class CdeGuidelines(Adapter):
    """CDE 指导原则: 国内指导原则, 发布通告 and 征求意见 (JSON API + detail pages)."""

    kind: ClassVar[str] = "cde"
    regulator: ClassVar[Regulator | None] = Regulator(
        short="CDE",
        en="Center for Drug Evaluation, NMPA",
        zh="国家药监局药品审评中心",
        label="CDE 国家药监局药品审评中心",
    )
    jurisdiction: ClassVar[str] = "CN"
    # every page read; a ``max_pages`` cut makes one check's listing NEWEST
    coverage: ClassVar[Coverage | FromSetting] = Coverage.COMPLETE
    Settings: ClassVar[type[SourceSettings]] = CdeSettings
    default_base_url: ClassVar[str | None] = DEFAULT_BASE
    detail_name: ClassVar[str] = "detail page"
    settings: CdeSettings

    def collect(self, fetcher: Fetcher, known: Mapping[str, Record]) -> Listing:
        s = self.settings
        found: dict[str, Record] = {}
        complete = True
        for listing in s.lists:
            rows, whole = self._read_list(fetcher, listing)
            complete = complete and whole
            for record in list_records(rows, listing, self.base_url):
                found[record.key] = _merge_lists(found.get(record.key), record)
        if not found and not (s.search_title or s.zyfl1):
            raise LayoutChanged("the CDE lists returned no records at all", url=self.base_url)
        failed: list[str] = []
        if s.details:
            enriched = enrich(fetcher, found, known, self)
            found, failed = enriched.records, enriched.item_errors
            if failed and len(failed) == enriched.tried > 1:
                raise LayoutChanged(
                    f"none of the {len(failed)} CDE detail pages read could be parsed or fetched",
                    url=self.base_url,
                )
        return Listing(
            records=list(found.values()),
            coverage=Coverage.COMPLETE if complete else Coverage.NEWEST,
            item_errors=failed,
        )

    def _read_list(self, fetcher: Fetcher, listing: str) -> tuple[list[dict[str, Any]], bool]:
        endpoint = "/zdyz/getOpinionList" if listing == "opinions" else "/zdyz/getDomesticGuideList"
        url = self.base_url + endpoint
        driver = page_driver(fetcher, url)
        if driver is None:
            try:
                return self._read_api(plain_part(fetcher), listing, url)
            except Blocked as exc:
                driver = page_driver(fetcher, url, exc)  # "auto": on to the browser, or raise
        assert driver is not None
        return self._read_in_page(driver, listing, endpoint, url)

    def _read_in_page(
        self, driver: PageDriver, listing: str, endpoint: str, url: str
    ) -> tuple[list[dict[str, Any]], bool]:
        """The list as the list page's own script requested it, page by page via its pager."""
        answers = driver.pages(
            self.base_url + LIST_PAGES[listing], match=endpoint, next_page=NEXT_PAGE
        )
        with closing(answers):
            return self._rows_in_page(answers, listing, url)

    def _rows_in_page(
        self, answers: Iterable[Fetched], listing: str, url: str
    ) -> tuple[list[dict[str, Any]], bool]:
        s = self.settings
        rows: list[dict[str, Any]] = []
        for number, fetched in enumerate(answers, 1):
            try:
                payload = fetched.json()
            except ValueError as exc:
                raise ParseError(f"the CDE API answer is not JSON: {exc}", url=url) from exc
            page = parse_list_page(payload, url)
            rows.extend(page.rows)
            if not page.rows or number >= page.pages:
                break
            if number >= s.max_pages:
                log.warning("%s: stopped at max_pages=%d of %d pages", url, s.max_pages, page.pages)
                return _wanted(rows, s, listing), False
        return _wanted(rows, s, listing), True

    def _read_api(
        self, fetcher: Fetcher, listing: str, url: str
    ) -> tuple[list[dict[str, Any]], bool]:
        s = self.settings
        headers = {
            "Referer": self.base_url + LIST_PAGES[listing],
            "Content-Type": "application/x-www-form-urlencoded; charset=UTF-8",
            "X-Requested-With": "XMLHttpRequest",
        }
        rows: list[dict[str, Any]] = []
        number, pages = 1, 1
        while number <= pages:
            if number > s.max_pages:
                log.warning("%s: stopped at max_pages=%d of %d pages", url, s.max_pages, pages)
                return rows, False
            form = self._form(listing, number)
            fetched = fetcher.post(url, data=form, headers=headers, expect="json")
            try:
                payload = fetched.json()
            except ValueError as exc:
                raise ParseError(f"the CDE API answer is not JSON: {exc}", url=url) from exc
            page = parse_list_page(payload, url)
            rows.extend(page.rows)
            if not page.rows:
                break
            pages, number = page.pages, number + 1
        return rows, True

    def _form(self, listing: str, number: int) -> dict[str, str]:
        s = self.settings
        form = {"pageNum": str(number), "pageSize": str(s.page_size), "searchTitle": s.search_title}
        if listing == "opinions":
            form.update({"issueDate1": "", "issueDate2": "", "fclass": "征求意见"})
            return form
        form.update({"zyfl1": s.zyfl1, "zyfl2": "", "issueDate1": "", "issueDate2": ""})
        if listing == "notices":
            form.update({"isFbtg": "1", "classid": NOTICES_CLASSID})
        return form

    # -- detail pages (sources.adapters.details) ------------------------------------------

    def reuse_detail(self, record: Record, old: Record | None) -> Record | None:
        """The last run's details, for an entry whose list fields did not change."""
        if old is not None and _same_listing(record, old) and _has_detail(old):
            return _reuse(record, old)
        return None

    def skip_detail(self, record: Record) -> Record | None:
        if not record.url.startswith(self.base_url + "/") or record.key.startswith("row:"):
            return record  # hosted elsewhere (e.g. NMPA), or no page of its own
        return None

    def keep_on_error(self, record: Record, old: Record | None) -> Record:
        """The list entry and the last known details."""
        return _reuse(record, old) if old is not None and _has_detail(old) else record

    def read_detail(self, fetcher: Fetcher, record: Record) -> Record:
        """The record with its detail page's fields (a 通告 page or a guideline page)."""
        first_list = record.fields["list"].split(",")[0]
        referer = self.base_url + LIST_PAGES[first_list]
        fetched = fetcher.get(record.url, headers={"Referer": referer}, expect="html")
        if _NEWS_ID.search(record.url):
            opinion = record.key.startswith("opinion:")
            detail = parse_notice(
                fetched.text, fetched.url, self.base_url, record.date, deadline=opinion
            )
            number = _DOC_NUMBER.search(record.title)
            if number and not opinion:
                detail.fields.setdefault("doc_number", re.sub(r"\s", "", number.group(1)))
        else:
            detail = parse_detail(fetched.text, fetched.url, self.base_url)
        return _apply(record, detail)


def _wanted(rows: list[dict[str, Any]], s: CdeSettings, listing: str) -> list[dict[str, Any]]:
    """``search_title`` / ``zyfl1`` applied to rows the page requested unfiltered."""
    return [
        r
        for r in rows
        if s.search_title in str(r.get("title") or "")
        and (listing == "opinions" or s.zyfl1 in str(r.get("fclass") or ""))
    ]


def _merge_lists(first: Record | None, second: Record) -> Record:
    if first is None:
        return second
    lists = [*first.fields["list"].split(","), second.fields["list"]]
    return replace(first, fields={**first.fields, "list": ",".join(dict.fromkeys(lists))})


def _same_listing(new: Record, old: Record) -> bool:
    return (new.title, new.date) == (old.title, old.date) and all(
        new.fields.get(k) == old.fields.get(k) for k in _LIST_FIELDS
    )


def _has_detail(record: Record) -> bool:
    return bool(record.attachments) or any(k in record.fields for k in _DETAIL_ONLY)


def _reuse(record: Record, old: Record) -> Record:
    return _apply(record, Detail(old.status, dict(old.fields), old.attachments))


def _apply(record: Record, detail: Detail) -> Record:
    fields = dict(record.fields)
    fields.update({k: v for k, v in detail.fields.items() if k in _DETAIL_FIELDS})
    status = detail.status or record.status
    return replace(record, status=status, attachments=detail.attachments, fields=fields)
