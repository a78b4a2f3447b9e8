"""``page``: one web page (or one region of it) watched as readable text.

For pages that are not lists: a policy page, a consultation notice, a CAT
classification table. The page becomes plain text — one line per paragraph,
heading, list item or table row (cells joined with ``" | "``), links keep
their text — and the text diff shows what changed.

Example::

    [[source]]
    name = "cber-cgt-guidances"
    kind = "page"
    url = "https://www.fda.gov/vaccines-blood-biologics/biologics-guidances/cellular-gene-therapy-guidances"
    region = "main article"              # CSS; omit for the whole page
    exclude = ["nav", "footer", ".share-buttons"]

``exclude`` selectors are removed before the region is taken. A region that
matches nothing, or a page without any text, is a layout change.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import ClassVar

from bs4 import BeautifulSoup, Tag
from bs4.element import CData, Comment, Declaration, Doctype, NavigableString, ProcessingInstruction
from pydantic import Field, field_validator

from sources.adapters.generic import GenericSettings, target_url
from sources.errors import LayoutChanged
from sources.registry import Adapter, SourceSettings, register
from sources.text.selectors import check_css, clean_text, make_soup
from sources.types import Coverage, Fetcher, FromSetting, Listing, Record, Regulator

__all__ = ["Page", "PageSettings", "page_text", "readable_text"]

_SKIP = frozenset(
    {
        "script",
        "style",
        "noscript",
        "template",
        "svg",
        "head",
        "iframe",
        "object",
        "canvas",
        "select",
        "button",
    }
)
_BLOCK = frozenset(
    {
        "address",
        "article",
        "aside",
        "blockquote",
        "body",
        "caption",
        "dd",
        "details",
        "dialog",
        "div",
        "dl",
        "dt",
        "fieldset",
        "figcaption",
        "figure",
        "footer",
        "form",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "header",
        "hr",
        "li",
        "main",
        "nav",
        "ol",
        "p",
        "pre",
        "section",
        "summary",
        "table",
        "tbody",
        "tfoot",
        "thead",
        "tr",
        "ul",
        "center",
        "html",
    }
)
_CELLS = frozenset({"td", "th"})
_CELL = "\x1f"  # marks a table-cell boundary until lines are assembled
_SPACE = re.compile(r"\s+")
_NOT_TEXT = (Comment, CData, Declaration, Doctype, ProcessingInstruction)


class PageSettings(GenericSettings):
    """Settings of ``page``: ``region`` (CSS, optional) and ``exclude`` (CSS list)."""

    region: str | None = Field(
        default=None, description="CSS selector of the part to watch (default: the whole page)"
    )
    exclude: list[str] = Field(
        default_factory=list, description="CSS selectors of parts to leave out (menus, counters)"
    )

    @field_validator("region")
    @classmethod
    def _region_css(cls, value: str | None) -> str | None:
        return None if value is None else check_css(value)

    @field_validator("exclude", mode="before")
    @classmethod
    def _one_or_many(cls, value: object) -> object:
        return [value] if isinstance(value, str) else value

    @field_validator("exclude")
    @classmethod
    def _exclude_css(cls, value: list[str]) -> list[str]:
        return [check_css(selector) for selector in value]


def page_text(html: str, settings: PageSettings, url: str = "") -> str:
    """The readable text of the page or its region (pure). ``LayoutChanged`` when
    the region is missing or there is no text at all."""
    soup = make_soup(html)
    for selector in settings.exclude:
        for node in soup.select(selector):
            node.decompose()
    if settings.region:
        regions = [node for node in soup.select(settings.region) if isinstance(node, Tag)]
        if not regions:
            raise LayoutChanged(f"no element matches region {settings.region!r}", url=url or None)
    else:
        body = soup.find("body")
        regions = [body if isinstance(body, Tag) else soup]
    text = "\n".join(part for part in (readable_text(node) for node in regions) if part)
    if not text:
        raise LayoutChanged("the page has no text", url=url or None)
    return text


def readable_text(root: Tag | BeautifulSoup) -> str:
    """Plain text of an element: blocks and ``<br>`` end lines, table cells are
    joined with ``" | "``, scripts and hidden elements are dropped."""
    out: list[str] = []
    # Iterative walk (malformed pages can nest deeper than Python's recursion limit).
    stack: list[object] = [root]
    while stack:
        node = stack.pop()
        if isinstance(node, str) and not isinstance(node, NavigableString):
            out.append(node)  # a marker pushed below
        elif isinstance(node, NavigableString):
            if not isinstance(node, _NOT_TEXT):
                out.append(_SPACE.sub(" ", str(node)))  # source newlines are not line breaks
        elif isinstance(node, Tag):
            _open_element(node, out, stack)
    return _joined_lines("".join(out))


def _open_element(node: Tag, out: list[str], stack: list[object]) -> None:
    """Write what starts an element (a line break, a cell separator) and push
    its children, then the marker that ends it; skipped and hidden elements
    write nothing."""
    name = (node.name or "").lower()
    if name in _SKIP or node.has_attr("hidden"):
        return
    if name == "br":
        out.append("\n")
        return
    before = _CELL if name in _CELLS else "\n" if name in _BLOCK else ""
    after = "\n" if name in _BLOCK else ""
    out.append(before)
    stack.append(after)
    stack.extend(reversed(list(node.children)))


def _joined_lines(raw: str) -> str:
    """The non-empty lines of `raw`, their cells cleaned and joined with " | "."""
    lines = []
    for line in raw.split("\n"):
        cells = [clean_text(cell) for cell in line.split(_CELL)]
        joined = " | ".join(cell for cell in cells if cell)
        if joined:
            lines.append(joined)
    return "\n".join(lines)


@register
class Page(Adapter):
    """One web page, or a region of it, watched as text (diffed line by line).

    Keys: url, region, exclude, headers.
    """

    kind: ClassVar[str] = "page"
    regulator: ClassVar[Regulator | None] = None  # the `regulator` setting
    jurisdiction: ClassVar[str] = ""  # the `jurisdiction` setting
    # one page's text: a page_changed diff, never records that go missing
    coverage: ClassVar[Coverage | FromSetting] = Coverage.COMPLETE
    Settings: ClassVar[type[SourceSettings]] = PageSettings
    settings: PageSettings

    def collect(self, fetcher: Fetcher, known: Mapping[str, Record]) -> Listing:
        s = self.settings
        fetched = fetcher.get(
            target_url(s.url, s.base_url), headers=s.headers, expect="html", conditional=True
        )
        if fetched.not_modified:
            return Listing.unchanged()
        return Listing(page_text=page_text(fetched.text, s, fetched.url))
