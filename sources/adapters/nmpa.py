"""NMPA (国家药品监督管理局) columns: 公告通告, 药品法规文件, 征求意见 and others.

What it reads (``base_url`` defaults to https://www.nmpa.gov.cn): each column
in ``columns`` — a path such as ``"/xxgk/ggtg/"`` or one of the names
``ggtg`` (公告通告), ``ypggtg`` (药品公告通告), ``ypfgwj`` (药品法规文件),
``zhqyj`` (征求意见), ``ypzhcjd`` (政策解读) — page by page: ``index.html``,
``index_1.html``, … up to ``max_pages``. Paging stops early at the last page
(the page's own ``createPageHTML(total, current)`` call) or at a 404 for
``index_N.html``; a 404 for ``index.html`` is an error.

Items are ``.list ul li`` with a relative link and a ``(YYYY-MM-DD)`` date.
The key is the article's path on the site (``/xxgk/ggtg/qtggtg/2026….html``),
stable across mirrors; an article listed in two columns is one record
(``fields["column"]`` lists both). For new records and records whose title or
date changed, the article page is read (``details = true``): the
``<meta name="PubDate">`` stamp (``fields["published"]``), attachments linked
from ``.text`` (PDF, DOC(X), XLS(X), ZIP, WPS) and the comment deadline
(``fields["comment_deadline"]``); other records reuse the last healthy run's.
``status`` is ``征求意见`` for the 征求意见 column or a title saying so, else
None.

``max_pages`` defaults to 3: a column holds thousands of items, newest first,
20 a page, and a check every few hours only needs the newest ~60. Records of
the last healthy run that scrolled past the pages read (dated on or before
the oldest item read) are carried over unchanged, so they are never reported
as removed, while a newer record that vanished still is. (Marking the listing
incomplete instead would hide every removal, since this window always cuts.)

A list page that leads elsewhere — a redirect to the site root (the 2025–26
redesign is reported to answer old list paths with ``302 → /``) or to a page
of another column — is a ``LayoutChanged`` health event ("the column moved"),
never parsed as the column: the home page has lists too. A redirect that
keeps the path (http→https, another host name) is not a move.

Completeness: a **window of the newest pages** (``max_pages``) — records of
the last healthy run older than the oldest item read are carried over (see
above), so the listing is reported complete for the records it can see.

Public evidence: RSSHub's ``/gov/nmpa/:path+`` route (PRs DIYgod/RSSHub#10108,
#10146, #12801) reads the same column paths (``xxgk/ggtg``, ``yaopin/ypfgwj``…)
and waits for the ``.list`` selector; issues #10822, #11262, #13898 show the
site's anti-bot layer (a browser is needed). Scrapers of article pages
(find_string on nmpa.gov.cn pages) show ``<meta name="PubDate">`` and
``ColumnName`` metas as read here.

Pages may be GBK or UTF-8: the fetcher decodes by header and ``<meta charset>``.
Bot protection: a plain client gets Ruishu's HTTP 412 page (``$_ts.cd``),
reported as ``Blocked`` (set ``fetch = "auto"`` or ``"browser"``). Read
through the browser, a column is page-driven (``sources.fetch.pages``): its first
page is opened and the next ones are reached by clicking the pager's
"下一页" link that the page's ``createPageHTML`` wrote, as a person does
(docs/sources.md "Evidence checked 2026-12"; RSSHub ``lib/routes/gov/nmpa``).
Unverified: the live pager's link text (下一页 assumed).

Unverified (coded defensively): the ``302 → /`` of a moved column (from the
issue report, not from public evidence); that page 2 is ``index_1.html`` (the pattern
of the sister sites); the attachment link format; list titles being cut short
(the ``title`` attribute is preferred when longer than the link text).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping
from contextlib import closing
from dataclasses import dataclass, replace
from datetime import date
from typing import ClassVar
from urllib.parse import urlsplit

from pydantic import Field, field_validator

from sources.adapters.details import enrich
from sources.errors import Blocked, FetchError, LayoutChanged
from sources.fetch.pages import PageDriver, page_driver, plain_part
from sources.registry import Adapter, SourceSettings, register
from sources.text.dates import parse_date
from sources.text.deadlines import extract_deadline
from sources.text.selectors import absolute_url, clean_text, make_soup, node_text
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
    "COLUMN_PATHS",
    "ColumnPage",
    "NmpaColumns",
    "NmpaSettings",
    "parse_article",
    "parse_column_page",
]

log = logging.getLogger(__name__)

COLUMN_PATHS: dict[str, str] = {
    "ggtg": "/xxgk/ggtg/",
    "ypggtg": "/yaopin/ypggtg/",
    "ypfgwj": "/yaopin/ypfgwj/",
    "zhqyj": "/xxgk/zhqyj/",
    "ypzhcjd": "/yaopin/ypzhcjd/",
}
_CONSULTATION_COLUMN = "/xxgk/zhqyj/"
_NMPA_HOSTS = ("www.nmpa.gov.cn", "nmpa.gov.cn")
_FILE = re.compile(r"\.(?:pdf|docx?|xlsx?|zip|rar|wps|ofd)(?:$|[?#])", re.IGNORECASE)
NEXT_PAGE = 'a:text-is("下一页")'  # the pager link createPageHTML writes
_PAGER = re.compile(r"createPageHTML\(\s*[\"']?(\d+)[\"']?\s*,\s*[\"']?(\d+)")


class NmpaSettings(SourceSettings):
    """Settings of ``kind = "nmpa"``."""

    columns: list[str] = Field(
        default_factory=lambda: ["/xxgk/ggtg/", "/yaopin/ypfgwj/", "/xxgk/zhqyj/"],
        min_length=1,
        description="column paths (/xxgk/ggtg/) or names: ggtg, ypggtg, ypfgwj, zhqyj, ypzhcjd",
    )
    max_pages: int = Field(
        default=3, ge=1, le=500, description="newest pages read per column (20 items a page)"
    )
    details: bool = Field(
        default=True,
        description="read article pages of new or changed items (attachments, deadlines)",
    )

    @field_validator("columns")
    @classmethod
    def _column_paths(cls, value: list[str]) -> list[str]:
        paths = []
        for item in value:
            path = COLUMN_PATHS.get(item.strip(), item.strip())
            if not path.startswith("/"):
                names = ", ".join(COLUMN_PATHS)
                raise ValueError(f"column {item!r} is neither a path (/…/) nor one of: {names}")
            path = re.sub(r"index(?:_\d+)?\.html$", "", path)
            paths.append(path if path.endswith("/") else path + "/")
        return list(dict.fromkeys(paths))


@dataclass(frozen=True)
class ColumnPage:
    """One column page: its records and, when the page says, the page count."""

    records: list[Record]
    pages: int | None


# --- parsing (pure) ----------------------------------------------------------


def parse_column_page(html: str, page_url: str, base_url: str, column: str) -> ColumnPage:
    """The ``.list ul li`` items of a column page; ``LayoutChanged`` when no list."""
    soup = make_soup(html)
    if not soup.select(".list ul"):
        raise LayoutChanged("the NMPA column page has no .list ul", url=page_url)
    records = []
    for item in soup.select(".list ul li"):
        anchor = item.find("a", href=True)
        if anchor is None:
            continue
        url = absolute_url(page_url, str(anchor.get("href")))
        text, full = node_text(anchor), clean_text(str(anchor.get("title") or ""))
        title = full if len(full) > len(text) else text
        if not url or not title:
            continue
        stamp = item.find("span")
        day = parse_date(node_text(stamp)) if stamp else None
        status = "征求意见" if column == _CONSULTATION_COLUMN or "征求意见" in title else None
        records.append(Record(_key(url, base_url), title, url, day, status, (), {"column": column}))
    pager = _PAGER.search(html)
    return ColumnPage(records, int(pager.group(1)) if pager else None)


def parse_article(
    html: str, page_url: str, published: str | None
) -> tuple[dict[str, str], tuple[Attachment, ...]]:
    """PubDate, comment deadline and attachments of an article page."""
    soup = make_soup(html)
    fields: dict[str, str] = {}
    meta = soup.find("meta", attrs={"name": "PubDate"})
    stamp = clean_text(str(meta.get("content") or "")) if meta else ""
    fields["published"] = stamp or published or ""
    body = soup.select_one(".text") or soup.body or soup
    day = published or parse_date(stamp)
    deadline = extract_deadline(body.get_text("\n"), date.fromisoformat(day) if day else None)
    if deadline:
        fields["comment_deadline"] = deadline.isoformat()
    found: dict[str, Attachment] = {}
    for anchor in body.find_all("a", href=True):
        url = absolute_url(page_url, str(anchor.get("href")))
        if url and _FILE.search(urlsplit(url).path + "?"):
            found.setdefault(url, Attachment(url=url, name=node_text(anchor)))
    return {k: v for k, v in fields.items() if v}, tuple(found.values())


def _key(url: str, base_url: str) -> str:
    """The article's path on the site: the same whichever mirror served it."""
    if url.startswith(base_url + "/"):
        return url[len(base_url) :]
    parts = urlsplit(url)
    if parts.netloc in _NMPA_HOSTS:
        return parts.path + (f"?{parts.query}" if parts.query else "")
    return url


# --- the adapter -------------------------------------------------------------


@register
class NmpaColumns(Adapter):
    """NMPA columns (公告通告, 药品法规文件, 征求意见 …): static HTML lists + articles."""

    kind: ClassVar[str] = "nmpa"
    regulator: ClassVar[Regulator | None] = Regulator(
        short="NMPA",
        en="National Medical Products Administration",
        zh="国家药品监督管理局",
        label="NMPA 国家药品监督管理局",
    )
    jurisdiction: ClassVar[str] = "CN"
    # the newest pages, with older records carried over (see the module docstring)
    coverage: ClassVar[Coverage | FromSetting] = Coverage.COMPLETE
    Settings: ClassVar[type[SourceSettings]] = NmpaSettings
    default_base_url: ClassVar[str | None] = "https://www.nmpa.gov.cn"
    detail_name: ClassVar[str] = "article"
    settings: NmpaSettings

    def collect(self, fetcher: Fetcher, known: Mapping[str, Record]) -> Listing:
        found: dict[str, Record] = {}
        for column in self.settings.columns:
            records, complete = self._read_column(fetcher, column)
            for record in records:
                old = found.get(record.key)
                if old is None:
                    found[record.key] = record
                elif column not in old.fields["column"].split(","):
                    merged = f"{old.fields['column']},{column}"
                    found[record.key] = replace(old, fields={**old.fields, "column": merged})
            if not complete:
                _carry_over(found, known, column, records)
        failed: list[str] = []
        if self.settings.details:
            enriched = enrich(fetcher, found, known, self)
            found, failed = enriched.records, enriched.item_errors
        # complete: records that scrolled past the pages read are carried over (above)
        return Listing(records=list(found.values()), coverage=Coverage.COMPLETE, item_errors=failed)

    def _read_column(self, fetcher: Fetcher, column: str) -> tuple[list[Record], bool]:
        first = f"{self.base_url}{column}index.html"
        driver = page_driver(fetcher, first)
        if driver is None:
            try:
                return self._read_plain(plain_part(fetcher), column)
            except Blocked as exc:
                driver = page_driver(fetcher, first, exc)  # "auto": on to the browser, or raise
        assert driver is not None
        return self._read_in_page(driver, column, first)

    def _read_in_page(
        self, driver: PageDriver, column: str, first: str
    ) -> tuple[list[Record], bool]:
        """The column's pages as reached from its first page by the pager's 下一页 link."""
        with closing(driver.pages(first, next_page=NEXT_PAGE, expect="html")) as pages:
            return self._column_in_page(pages, column, first)

    def _column_in_page(
        self, pages: Iterable[Fetched], column: str, first: str
    ) -> tuple[list[Record], bool]:
        records: list[Record] = []
        for number, fetched in enumerate(pages):
            page = parse_column_page(fetched.text, fetched.url, self.base_url, column)
            if number == 0 and not page.records:
                raise LayoutChanged("the NMPA column lists no items", url=first)
            records.extend(page.records)
            if not page.records or (page.pages is not None and number + 1 >= page.pages):
                return records, True
            if number + 1 >= self.settings.max_pages:
                return records, False
        return records, True

    def _read_plain(self, fetcher: Fetcher, column: str) -> tuple[list[Record], bool]:
        records: list[Record] = []
        for number in range(self.settings.max_pages):
            name = "index.html" if number == 0 else f"index_{number}.html"
            url = f"{self.base_url}{column}{name}"
            try:
                fetched = fetcher.get(url, expect="html")
            except FetchError as exc:
                if number > 0 and exc.status == 404 and not isinstance(exc, Blocked):
                    return records, True  # the normal end of a column
                raise
            _check_landing(url, fetched.url, self.base_url, column)
            page = parse_column_page(fetched.text, fetched.url, self.base_url, column)
            if number == 0 and not page.records:
                raise LayoutChanged("the NMPA column lists no items", url=url)
            records.extend(page.records)
            if not page.records or (page.pages is not None and number + 1 >= page.pages):
                return records, True
        return records, False

    # -- articles (sources.adapters.details) ----------------------------------------------

    def reuse_detail(self, record: Record, old: Record | None) -> Record | None:
        """The last run's article fields, for an item whose title and date did not change."""
        if (
            old is not None
            and (old.title, old.date) == (record.title, record.date)
            and "published" in old.fields
        ):
            return _apply(record, dict(old.fields), old.attachments)
        return None

    def skip_detail(self, record: Record) -> Record | None:
        if _FILE.search(urlsplit(record.url).path + "?"):  # the item is the file itself
            return replace(record, attachments=(Attachment(record.url, record.title),))
        if urlsplit(record.url).netloc != urlsplit(self.base_url).netloc:
            return record  # another site (e.g. www.gov.cn): not ours to crawl
        return None

    def keep_on_error(self, record: Record, old: Record | None) -> Record:
        """The list entry and the last known fields."""
        return _apply(record, dict(old.fields), old.attachments) if old else record

    def read_detail(self, fetcher: Fetcher, record: Record) -> Record:
        """The record with its article's publication stamp, attachments and deadline."""
        fetched = fetcher.get(record.url, expect="html")
        fields, attachments = parse_article(fetched.text, fetched.url, record.date)
        return _apply(record, fields, attachments)


def _check_landing(asked: str, landed: str, base_url: str, column: str) -> None:
    """A list page that led elsewhere (a redirect to the site root or to another
    column) is the list having moved: ``LayoutChanged``, never parsed as the
    column. Only the path counts, so an http→https or host move is not a move."""
    if landed == asked:
        return
    prefix = urlsplit(base_url).path.rstrip("/")
    path = urlsplit(landed).path
    if path.startswith(prefix + column):
        return
    where = path[len(prefix) :] if path.startswith(prefix + "/") else path
    where = where or "/"
    home = where in ("/", "/index.html", "/index.htm")
    raise LayoutChanged(
        f"the NMPA column {column} moved: its list page now leads to "
        f"{'the site home page' if home else where}",
        url=asked,
        hint=f"find the column's new address on the site and update `columns` (led to {landed})",
    )


def _apply(record: Record, fields: dict[str, str], attachments: tuple[Attachment, ...]) -> Record:
    merged = dict(record.fields)
    merged.update({k: fields[k] for k in ("published", "comment_deadline") if k in fields})
    return replace(record, fields=merged, attachments=attachments)


def _carry_over(
    found: dict[str, Record], known: Mapping[str, Record], column: str, read: list[Record]
) -> None:
    """Keep last run's records that scrolled past the pages read (see the docstring)."""
    dates = [r.date for r in read if r.date]
    if not dates:
        return
    oldest = min(dates)
    for key, old in known.items():
        if key in found or column not in old.fields.get("column", "").split(","):
            continue
        if old.date is None or old.date <= oldest:
            found[key] = old
