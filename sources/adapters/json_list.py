"""``json-list``: a JSON API (or static JSON file) that lists documents.

Values are picked with *paths*: dotted field names (``data.records``,
``meta.total``, ``items.0.id``), ``"[]"`` for a top-level list. A path may
end in ``@attr`` when the value is an HTML fragment: ``"title@href"`` is the
``href`` of the link inside the ``title`` field (FDA's JSON style). Every
text value is unescaped and stripped of tags.

Example (CDE-style POST API with paging)::

    [[source]]
    name = "cde-opinions"
    kind = "json-list"
    url = "https://www.cde.org.cn/zdyz/getOpinionList"
    method = "POST"
    form = { pageSize = "20", fclass = "征求意见" }
    headers = { Referer = "https://www.cde.org.cn/zdyz/listpage/3c49fad55caad7a034c263cfc2b6eb9c" }
    records = "data.records"
    key = "zdyzIdCODE"
    title = "title"
    date = "issueDate"
    link_template = "https://www.cde.org.cn/zdyz/domesticinfopage?zdyzIdCODE={zdyzIdCODE}"
    page_param = "pageNum"
    pages_path = "data.pages"

A missing ``records`` path is a layout change; an empty first page is one
too unless ``allow_empty = true``. HTML where JSON was expected is
``Blocked`` (the fetcher is asked for ``expect="json"``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any, ClassVar, Literal
from urllib.parse import quote, urlencode, urljoin

from pydantic import Field, field_validator, model_validator

from sources.adapters.generic import KeyRule, ListSettings, coverage, target_url, unique
from sources.errors import FetchError, LayoutChanged, ParseError
from sources.registry import Adapter, SourceSettings, register
from sources.text.dates import parse_date
from sources.text.selectors import (
    absolute_url,
    canonical_url,
    fragment_attr,
    fragment_text,
    parse_spec,
)
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

__all__ = ["MISSING", "JsonList", "JsonListSettings", "lookup", "parse_records", "total_pages"]

Scalar = str | int | float | bool
MISSING: Any = object()
_PLACEHOLDER = re.compile(r"\{([^{}]+)\}")


class JsonListSettings(ListSettings):
    """Settings of ``json-list``. Paths are dotted; ``@attr`` reads an HTML fragment."""

    method: Literal["GET", "POST"] = Field(default="GET", description='"GET" or "POST"')
    params: dict[str, Scalar] = Field(default_factory=dict, description="query parameters")
    form: dict[str, Scalar] = Field(
        default_factory=dict, description='form fields sent with method = "POST"'
    )
    records: str = Field(default="[]", description='path of the record list, e.g. "data.records"')
    title: str = Field(default="title", description="path of the title")
    link: str | None = Field(
        default=None, description='path of the link (or "field@href" in an HTML fragment)'
    )
    link_template: str | None = Field(
        default=None, description='a link built from fields, e.g. "https://…?id={id}"'
    )
    date: str | None = Field(default=None, description="path of the date")
    status: str | None = Field(default=None, description="path of the site's status words")
    fields: dict[str, str] = Field(
        default_factory=dict, description="more metadata: field name = path"
    )
    files: list[str] = Field(default_factory=list, description="paths of attachment links")
    page_param: str | None = Field(
        default=None, description="the parameter that selects the page (enables paging)"
    )
    first_page: int = Field(default=1, ge=0, description="the page_param value of page one")
    pages_path: str | None = Field(default=None, description="path of the page count in the answer")

    @field_validator("method", mode="before")
    @classmethod
    def _upper(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value

    @model_validator(mode="after")
    def _consistent(self) -> JsonListSettings:
        if self.form and self.method != "POST":
            raise ValueError('form is sent only with method = "POST"; use params for GET')
        if self.pages_path and not self.page_param:
            raise ValueError("pages_path needs page_param (the parameter that selects the page)")
        return self

    @property
    def paginated(self) -> bool:
        return self.page_param is not None and self.max_pages > 1


def lookup(data: Any, path: str) -> Any:
    """The value at a dotted ``path`` in ``data``; a sentinel (``is MISSING``) when absent."""
    path = path.strip()
    if path.endswith("[]"):
        path = path[:-2].rstrip(".")
    if path in ("", "."):
        return data
    current = data
    for part in path.split("."):
        if isinstance(current, Mapping) and part in current:
            current = current[part]
        elif (
            isinstance(current, list)
            and part.lstrip("-").isdigit()
            and -len(current) <= int(part) < len(current)
        ):
            current = current[int(part)]
        else:
            return MISSING
    return current


def _text(value: Any) -> str | None:
    """A JSON value as display text: fragments stripped, lists joined with ", "."""
    if value is None or value is MISSING:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        parts = [t for t in (_text(v) for v in value) if t]
        return ", ".join(parts) or None
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    return fragment_text(str(value)) or None


def _pick(record: Any, spec: str) -> str | None:
    """The text (or, with ``@attr``, the attribute inside the HTML) at ``spec``."""
    parsed = parse_spec(spec)
    value = lookup(record, parsed.css)
    if parsed.attr is None:
        return _text(value)
    first = value[0] if isinstance(value, list) and value else value
    return fragment_attr(first, parsed.attr) if isinstance(first, str) else None


def parse_records(payload: Any, page_url: str, settings: JsonListSettings) -> list[Record]:
    """Records from one decoded JSON page (pure). Missing list path → ``LayoutChanged``."""
    items = lookup(payload, settings.records)
    if items is None:
        return []
    if items is MISSING or not isinstance(items, list):
        found = "nothing" if items is MISSING else type(items).__name__
        raise LayoutChanged(
            f"records path {settings.records!r} does not lead to a list (found {found})",
            url=page_url,
        )
    records = [_record(item, page_url, settings) for item in items if isinstance(item, Mapping)]
    return unique(r for r in records if r is not None)


def total_pages(payload: Any, settings: JsonListSettings) -> int | None:
    """The page count the envelope announces at ``pages_path``, if any."""
    if not settings.pages_path:
        return None
    value = lookup(payload, settings.pages_path)
    try:
        return int(value) if value is not MISSING and value is not None else None
    except (TypeError, ValueError):
        return None


def _record(item: Mapping[str, Any], page_url: str, s: JsonListSettings) -> Record | None:
    link = absolute_url(page_url, _pick(item, s.link)) if s.link else None
    if link is None and s.link_template:
        link = _fill_template(s.link_template, item, page_url, s.base_url)
    title = _pick(item, s.title) or ""
    if not title and not link:
        return None
    rule = KeyRule.parse(s.key)
    looked_up = _pick(item, rule.lookup) if rule.mode == "lookup" else None
    fields = {name: value for name, path in s.fields.items() if (value := _pick(item, path))}
    return Record(
        key=rule.key(link=link, title=title, looked_up=looked_up),
        title=title or (link or ""),
        url=canonical_url(link, keep_fragment=True) if link else page_url,
        date=parse_date(_pick(item, s.date), s.date_format) if s.date else None,
        status=_pick(item, s.status) if s.status else None,
        attachments=_attachments(item, page_url, s.files),
        fields=fields,
    )


def _fill_template(
    template: str, item: Mapping[str, Any], page_url: str, base_url: str | None
) -> str | None:
    missing = False

    def fill(match: re.Match[str]) -> str:
        nonlocal missing
        value = _text(lookup(item, match.group(1)))
        if value is None:
            missing = True
            return ""
        return quote(value, safe="")

    filled = _PLACEHOLDER.sub(fill, template)
    if missing:
        return None
    return target_url(filled, base_url) if "://" in filled else urljoin(page_url, filled)


def _attachments(
    item: Mapping[str, Any], page_url: str, specs: list[str]
) -> tuple[Attachment, ...]:
    found: dict[str, Attachment] = {}
    for spec in specs:
        parsed = parse_spec(spec)
        value = lookup(item, parsed.css)
        for raw in value if isinstance(value, list) else [value]:
            if not isinstance(raw, str):
                continue
            href = fragment_attr(raw, parsed.attr) if parsed.attr else raw
            url = absolute_url(page_url, href)
            if url and url not in found:
                found[url] = Attachment(url=url, name=fragment_text(raw) if parsed.attr else "")
    return tuple(found.values())


def _scalars(values: Mapping[str, Scalar]) -> dict[str, str]:
    return {
        k: ("true" if v else "false") if isinstance(v, bool) else str(v) for k, v in values.items()
    }


@register
class JsonList(Adapter):
    """Any JSON list of documents (API or static file), configured with field paths.

    Keys: url, method, params, form, headers, records, key, title, link,
    link_template, date, date_format, status, fields, files, page_param,
    first_page, pages_path, max_pages, allow_empty, listing ("complete",
    "window" or "newest": see ListSettings).
    """

    kind: ClassVar[str] = "json-list"
    regulator: ClassVar[Regulator | None] = None  # the `regulator` setting
    jurisdiction: ClassVar[str] = ""  # the `jurisdiction` setting
    coverage: ClassVar[Coverage | FromSetting] = FromSetting("listing")
    Settings: ClassVar[type[SourceSettings]] = JsonListSettings
    settings: JsonListSettings

    def collect(self, fetcher: Fetcher, known: Mapping[str, Record]) -> Listing:
        s = self.settings
        records: list[Record] = []
        complete = True
        for index in range(s.max_pages if s.paginated else 1):
            fetched = self._fetch_page(fetcher, index)
            if fetched is None:
                break
            if fetched.not_modified:
                return Listing.unchanged()
            payload = _decode(fetched)
            page = self._parse_page(payload, fetched, index)
            known_keys = {r.key for r in records}
            fresh = [r for r in page if r.key not in known_keys]
            records.extend(fresh)
            total = total_pages(payload, s)
            if not fresh or (total is not None and index + 1 >= total):
                break
        else:
            # max_pages read and the list did not end: the rest is out of view, not removed
            complete = not s.paginated
        return Listing(records=unique(records), coverage=coverage(s.listing, cut=not complete))

    def _fetch_page(self, fetcher: Fetcher, index: int) -> Fetched | None:
        """Page `index` (0 = the first), or None when a later page is gone (404, 410)."""
        s = self.settings
        number = s.first_page + index
        try:
            return self._fetch(fetcher, number if s.page_param else None)
        except FetchError as exc:
            if index > 0 and exc.status in (404, 410):
                return None
            raise

    def _parse_page(self, payload: Any, fetched: Fetched, index: int) -> list[Record]:
        """The records of one page; an empty first page is a layout change
        unless ``allow_empty``."""
        page = parse_records(payload, fetched.url, self.settings)
        if index == 0 and not page and not self.settings.allow_empty:
            raise LayoutChanged(
                "the list is empty",
                url=fetched.url,
                hint="set allow_empty = true if this list can really be empty",
            )
        return page

    def _fetch(self, fetcher: Fetcher, number: int | None) -> Fetched:
        s = self.settings
        url = target_url(s.url, s.base_url)
        params = _scalars(s.params)
        page = {s.page_param: str(number)} if s.page_param and number is not None else {}
        if s.method == "POST":
            if params:
                url = f"{url}{'&' if '?' in url else '?'}{urlencode(params)}"
            return fetcher.post(
                url, data={**_scalars(s.form), **page}, headers=s.headers, expect="json"
            )
        return fetcher.get(
            url,
            params={**params, **page},
            headers=s.headers,
            expect="json",
            conditional=not s.paginated,
        )


def _decode(fetched: Fetched) -> Any:
    try:
        return fetched.json()
    except ValueError as exc:
        raise ParseError(f"the response is not valid JSON: {exc}", url=fetched.url) from None
