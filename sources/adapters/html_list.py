"""``html-list``: any HTML page that lists documents, configured with CSS selectors.

Example (NMPA's 公告通告 column)::

    [[source]]
    name = "nmpa-announcements"
    kind = "html-list"
    url = "https://www.nmpa.gov.cn/xxgk/ggtg/index.html"
    item = ".list ul li"          # one element per document
    title = "a"                   # text of the first <a>
    link = "a@href"               # "@attr" takes an attribute; made absolute
    date = "span"                 # "(2026-06-25)", 2026年6月25日, 06/25/2026, …
    pages = "index_{n}.html"      # page 2 is index_1.html, page 3 index_2.html, …
    max_pages = 5

A page on which ``item`` matches nothing is a *layout change* (or a block
page), never "every document was removed"; set ``allow_empty = true`` for a
list that can really be empty. Later pages that 404 or hold no items simply
end the pagination.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import urljoin

from lxml import etree
from pydantic import Field, field_validator, model_validator

from sources.adapters.generic import KeyRule, ListSettings, coverage, target_url, unique
from sources.errors import FetchError, LayoutChanged
from sources.registry import Adapter, SourceSettings, register
from sources.text.dates import parse_date
from sources.text.selectors import (
    Spec,
    absolute_url,
    canonical_url,
    check_css,
    check_spec,
    clean_text,
    containers_empty,
    css_xpath,
    lxml_safe,
    make_soup,
    node_text,
    parse_spec,
    parse_tree,
    select_nodes,
    select_value,
    tree_text,
)
from sources.types import Attachment, Coverage, Fetcher, FromSetting, Listing, Record, Regulator

if TYPE_CHECKING:  # imported where a page is read with it (see sources.text.selectors)
    from bs4 import BeautifulSoup

__all__ = ["HtmlList", "HtmlListSettings", "ListPage", "parse_list"]

_DOCUMENT_SUFFIXES = (".pdf", ".doc", ".docx")
_END_OF_PAGES = (404, 410)
_SELF = frozenset({"", ".", ":scope"})  # the element itself (as in sources.text.selectors)
_TAG_NAME = re.compile(r"[a-z][a-z0-9]*")


@lru_cache(maxsize=256)
def _tag_name(css: str) -> bool:
    """A lower-case tag name alone: css_xpath reads it as every element of that tag."""
    return _TAG_NAME.fullmatch(css) is not None


class HtmlListSettings(ListSettings):
    """Settings of ``html-list``. Selector specs are CSS, ``@attr`` for an attribute."""

    item: str = Field(description="CSS selector of one element per document (required)")
    title: str = Field(default="a", description="spec of the title inside an item")
    link: str = Field(default="a@href", description="spec of the link (made absolute)")
    date: str | None = Field(default=None, description="spec of the date text")
    status: str | None = Field(default=None, description="spec of the site's status words")
    fields: dict[str, str] = Field(
        default_factory=dict, description="more metadata: field name = spec"
    )
    files: list[str] = Field(
        default_factory=list, description='specs of attachment links, e.g. "a.pdf@href"'
    )
    next: str | None = Field(
        default=None, description='spec of the next-page link, e.g. "a.next@href"'
    )
    pages: str | None = Field(
        default=None, description='page URL template with {n}, e.g. "index_{n}.html"'
    )
    first_page: int = Field(default=1, ge=0, description="the {n} of the second page")

    @field_validator("item")
    @classmethod
    def _item_css(cls, value: str) -> str:
        return check_css(value)

    @field_validator("title", "link", "date", "status", "next")
    @classmethod
    def _spec(cls, value: str | None) -> str | None:
        return None if value is None else check_spec(value)

    @field_validator("fields")
    @classmethod
    def _field_specs(cls, value: dict[str, str]) -> dict[str, str]:
        for name, spec in value.items():
            try:
                check_spec(spec)
            except ValueError as exc:
                raise ValueError(f"fields.{name}: {exc}") from None
        return value

    @field_validator("files")
    @classmethod
    def _file_specs(cls, value: list[str]) -> list[str]:
        return [check_spec(spec) for spec in value]

    @field_validator("pages")
    @classmethod
    def _template(cls, value: str | None) -> str | None:
        if value is not None and "{n}" not in value:
            raise ValueError('pages must contain "{n}", e.g. "index_{n}.html"')
        return value

    @model_validator(mode="after")
    def _key_spec(self) -> HtmlListSettings:
        rule = KeyRule.parse(self.key)
        if rule.mode == "lookup":
            check_spec(rule.lookup)
        return self

    @property
    def paginated(self) -> bool:
        return bool(self.next or self.pages) and self.max_pages > 1


@dataclass
class ListPage:
    """One parsed list page: its records, how many elements matched ``item``,
    and the next page's URL when a ``next`` selector found one."""

    records: list[Record] = field(default_factory=list)
    items: int = 0
    next_url: str | None = None


def parse_list(text: str, page_url: str, settings: HtmlListSettings) -> ListPage:
    """Parse one list page (pure: text in, records out). Never raises on bad HTML.

    Read with lxml and XPath when every selector of ``settings`` means the same
    there (``css_xpath``), else with Beautiful Soup and soupsieve: one parse,
    the same records either way.
    """
    if lxml_safe(text) and all(css_xpath(css) is not None for css in _selectors(settings)):
        root = parse_tree(text)
        if root is not None:
            return _parse(_TreeReader(root), page_url, settings)
    return _parse(_SoupReader(make_soup(text)), page_url, settings)


def _selectors(settings: HtmlListSettings) -> list[str]:
    specs = [
        settings.title,
        settings.link,
        settings.date,
        settings.status,
        settings.next,
        *settings.fields.values(),
        *settings.files,
    ]
    rule = KeyRule.parse(settings.key)
    if rule.mode == "lookup":
        specs.append(rule.lookup)
    parts = [parse_spec(spec).css for spec in specs if spec is not None]
    return [settings.item, *(css for css in parts if css not in _SELF)]


class _SoupReader:
    """Reads a Beautiful Soup tree (any CSS soupsieve knows)."""

    def __init__(self, soup: BeautifulSoup) -> None:
        self.document = soup

    def base(self) -> str | None:
        from bs4 import Tag

        tag = self.document.find("base", href=True)
        href = tag.get("href") if isinstance(tag, Tag) else None
        return href if isinstance(href, str) else None

    def items(self, css: str) -> list[Any]:
        from bs4 import Tag

        return [node for node in self.document.select(css) if isinstance(node, Tag)]

    def nodes(self, node: Any, spec: Spec) -> list[Any]:
        return select_nodes(node, spec)

    def value(self, node: Any, spec: Spec) -> str | None:
        return select_value(node, spec)

    def text(self, node: Any) -> str:
        return node_text(node)


class _TreeReader:
    """Reads an lxml tree with the XPath of ``css_xpath``: the same answers as
    ``_SoupReader`` for the selectors ``css_xpath`` accepts, at a tenth of the CPU."""

    def __init__(self, root: etree._Element) -> None:
        self.document = root
        self._matches: dict[str, set[etree._Element]] = {}
        self._empty = containers_empty(root)  # (nearly always): tree_text skips the ancestors

    def base(self) -> str | None:
        for tag in self.document.iter("base"):
            href = tag.get("href")
            if href is not None:
                return str(href)
        return None

    def items(self, css: str) -> list[Any]:
        xpath = css_xpath(css)
        assert xpath is not None  # parse_list checked
        found = xpath(self.document)
        return list(found) if isinstance(found, list) else []

    def nodes(self, node: Any, spec: Spec) -> list[Any]:
        css = spec.css
        if css in _SELF:
            return [node]
        if node is self.document:
            return self.items(css)
        if _tag_name(css):  # "a", "span": every such element matches
            return list(node.iterdescendants(css))
        # soupsieve matches a selector against the whole document, then keeps
        # what lies under ``node`` (".list a" may find .list above the item)
        matches = self._matches.get(css)
        if matches is None:
            matches = self._matches[css] = set(self.items(css))
        return [found for found in node.iterdescendants() if found in matches]

    def value(self, node: Any, spec: Spec) -> str | None:
        if node is self.document and spec.css in _SELF:
            return None  # Beautiful Soup's document object has no text or attributes here
        for match in self.nodes(node, spec):
            if spec.attr is None:
                found = tree_text(match, containers_empty=self._empty)
            else:
                raw = match.get(spec.attr)
                found = clean_text(raw) if raw is not None else ""
            if found:
                return found
        return None

    def text(self, node: Any) -> str:
        return tree_text(node, containers_empty=self._empty)


_Reader = _SoupReader | _TreeReader


@dataclass(frozen=True)
class _Specs:
    """The selector specs of the settings (and the date formats), read once per page."""

    link: Spec
    title: Spec
    date: Spec | None
    status: Spec | None
    fields: tuple[tuple[str, Spec], ...]
    files: tuple[Spec, ...]  # "href" when a file spec names no attribute
    rule: KeyRule
    lookup: Spec | None
    date_format: list[str]

    @classmethod
    def of(cls, settings: HtmlListSettings) -> _Specs:
        rule = KeyRule.parse(settings.key)
        files = [parse_spec(raw) for raw in settings.files]

        def optional(spec: str | None) -> Spec | None:
            return parse_spec(spec) if spec else None

        return cls(
            link=parse_spec(settings.link),
            title=parse_spec(settings.title),
            date=optional(settings.date),
            status=optional(settings.status),
            fields=tuple((name, parse_spec(spec)) for name, spec in settings.fields.items()),
            files=tuple(spec if spec.attr else Spec(spec.css, "href") for spec in files),
            rule=rule,
            lookup=parse_spec(rule.lookup) if rule.mode == "lookup" else None,
            date_format=settings.date_format,
        )


def _parse(reader: _Reader, page_url: str, settings: HtmlListSettings) -> ListPage:
    href = reader.base()
    base = urljoin(page_url, href.strip()) if href and href.strip() else page_url
    items = reader.items(settings.item)
    specs = _Specs.of(settings)
    records = [r for r in (_record(reader, item, base, specs) for item in items) if r is not None]
    next_url = None
    if settings.next:
        spec = parse_spec(settings.next)
        spec = spec if spec.attr else Spec(spec.css, "href")
        next_url = absolute_url(base, reader.value(reader.document, spec))
    return ListPage(records=unique(records), items=len(items), next_url=next_url)


def _record(reader: _Reader, item: Any, base: str, specs: _Specs) -> Record | None:
    value = reader.value
    link = absolute_url(base, value(item, specs.link))
    title = value(item, specs.title) or (reader.text(item)[:300] if link else "")
    if not title and not link:
        return None
    looked_up = value(item, specs.lookup) if specs.lookup is not None else None
    date_text = value(item, specs.date) if specs.date is not None else None
    fields = {name: found for name, spec in specs.fields if (found := value(item, spec))}
    return Record(
        key=specs.rule.key(link=link, title=title, looked_up=looked_up),
        title=title,
        url=canonical_url(link, keep_fragment=True) if link else base,
        date=parse_date(date_text, specs.date_format),
        status=value(item, specs.status) if specs.status is not None else None,
        attachments=_attachments(reader, item, base, link, title, specs.files),
        fields=fields,
    )


def _attachments(
    reader: _Reader, item: Any, base: str, link: str | None, title: str, specs: tuple[Spec, ...]
) -> tuple[Attachment, ...]:
    found: dict[str, Attachment] = {}
    if link and canonical_url(link).lower().endswith(_DOCUMENT_SUFFIXES):
        found[link] = Attachment(url=link, name=title)
    for spec in specs:
        for node in reader.nodes(item, spec):
            url = absolute_url(base, reader.value(node, Spec("", spec.attr)))
            if url and url not in found:
                found[url] = Attachment(url=url, name=reader.text(node))
    return tuple(found.values())


@register
class HtmlList(Adapter):
    """Any HTML list of documents, configured with CSS selectors (no code).

    Keys: url, item (required), title, link, date, date_format, status,
    fields, files, key, next, pages, first_page, max_pages, allow_empty,
    listing ("complete", "window" or "newest": see ListSettings).
    """

    kind: ClassVar[str] = "html-list"
    regulator: ClassVar[Regulator | None] = None  # the `regulator` setting
    jurisdiction: ClassVar[str] = ""  # the `jurisdiction` setting
    coverage: ClassVar[Coverage | FromSetting] = FromSetting("listing")
    Settings: ClassVar[type[SourceSettings]] = HtmlListSettings
    settings: HtmlListSettings

    def collect(self, fetcher: Fetcher, known: Mapping[str, Record]) -> Listing:
        s = self.settings
        first = target_url(s.url, s.base_url)
        # A 304 on page 1 says nothing about later pages: only trust it for one page.
        fetched = fetcher.get(first, headers=s.headers, expect="html", conditional=not s.paginated)
        if fetched.not_modified:
            return Listing.unchanged()
        page = parse_list(fetched.text, fetched.url, s)
        _check_first_page(page, s, fetched.url)
        records = list(page.records)
        seen_urls = {first, fetched.url}
        complete = True
        for number in range(2, s.max_pages + 1):
            url = self._next_url(page, number, first)
            if url is None or url in seen_urls:
                break
            seen_urls.add(url)
            try:
                fetched = fetcher.get(url, headers=s.headers, expect="html")
            except FetchError as exc:
                if exc.status in _END_OF_PAGES:
                    break
                raise
            page = parse_list(fetched.text, fetched.url, s)
            known_keys = {r.key for r in records}
            fresh = [r for r in page.records if r.key not in known_keys]
            if not fresh:
                break
            records.extend(fresh)
        else:
            # max_pages read and no end seen: older documents are out of view, not removed
            complete = not s.paginated or self._next_url(page, s.max_pages + 1, first) is None
        return Listing(records=unique(records), coverage=coverage(s.listing, cut=not complete))

    def _next_url(self, page: ListPage, number: int, first: str) -> str | None:
        s = self.settings
        if s.next and page.next_url:
            return page.next_url
        if s.pages:
            n = str(s.first_page + number - 2)
            filled = s.pages.replace("{n}", n)
            if "://" in filled:
                return target_url(filled, s.base_url)
            return urljoin(first, filled)
        return None


def _check_first_page(page: ListPage, s: HtmlListSettings, url: str) -> None:
    if s.allow_empty:
        return
    if page.items == 0:
        raise LayoutChanged(
            f"no element matches item selector {s.item!r}",
            url=url,
            hint="the site changed its layout or served a block page; set allow_empty = true "
            "if this list can really be empty",
        )
    if not page.records:
        raise LayoutChanged(
            f"{page.items} elements match {s.item!r} but none has a title or a link",
            url=url,
        )
