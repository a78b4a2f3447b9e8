"""What the no-code adapters (``html-list``, ``json-list``, ``rss``, ``page``) share.

- ``ListSettings``: the settings keys every list-like generic adapter accepts;
- ``target_url``: the configured ``url``, moved onto ``base_url`` when one is
  given (a mirror, a proxy, a local replica), so a config written for the
  real site can be pointed elsewhere without editing every URL;
- ``KeyRule``: how a record's stable key is chosen (``key = "link"`` etc.);
- ``unique``: records with the same key collapsed or told apart.

The adapters themselves live in ``sources/adapters/html_list.py``,
``sources/adapters/json_list.py``, ``sources/adapters/rss.py`` and ``sources/adapters/page.py``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Literal
from urllib.parse import urlsplit, urlunsplit

from pydantic import Field, field_validator, model_validator

from sources.registry import SourceSettings
from sources.text.dates import format_pattern
from sources.text.selectors import canonical_url
from sources.types import Coverage, Record

__all__ = [
    "GenericSettings",
    "KeyRule",
    "ListSettings",
    "ListingCoverage",
    "coverage",
    "target_url",
    "unique",
]

# How much of the source one check shows (``sources.types.Coverage``).
ListingCoverage = Literal["complete", "window", "newest"]


class GenericSettings(SourceSettings):
    """Keys shared by every generic adapter: ``url`` is required."""

    url: str = Field(
        min_length=1, description="the page, feed or API to read (a path needs `base_url`)"
    )
    headers: dict[str, str] = Field(
        default_factory=dict, description='extra request headers, e.g. { Referer = "…" }'
    )

    @field_validator("url", "base_url")
    @classmethod
    def _url_is_http(cls, value: str | None) -> str | None:
        if value is None or value.startswith("/"):
            return value
        if urlsplit(value).scheme.lower() not in ("http", "https") or not urlsplit(value).netloc:
            raise ValueError(f"{value!r} is not an http:// or https:// URL")
        return value

    @model_validator(mode="after")
    def _relative_url_needs_base(self) -> GenericSettings:
        if self.url.startswith("/") and not self.base_url:
            raise ValueError("url is a path (starts with /): set base_url too, or give a full URL")
        if self.base_url and self.base_url.startswith("/"):
            raise ValueError("base_url must be a full http:// or https:// URL")
        return self


class ListSettings(GenericSettings):
    """Keys shared by the list adapters (``html-list``, ``json-list``)."""

    key: str = Field(
        default="link",
        description='record key: "link", "title", "re:REGEX" searched in the link, or a spec/path',
    )
    date_format: list[str] = Field(
        default_factory=list,
        description='date formats to try first, e.g. "YYYY年M月D日" or "%d/%m/%Y"',
    )
    allow_empty: bool = Field(
        default=False, description="an empty list is normal (else: a layout change)"
    )
    max_pages: int = Field(default=10, ge=1, le=1000, description="pages read at most")
    # "complete": the whole list (a page cap that cuts it makes it "newest");
    # "window": a date-limited query; "newest": the newest N items or pages.
    # Outside "complete", a record older than the oldest one listed that is no
    # longer listed is out of view, never "removed".
    listing: ListingCoverage = Field(
        default="complete",
        description='how much one check shows: "complete", "window" or "newest"',
    )

    @field_validator("key")
    @classmethod
    def _key_regex_compiles(cls, value: str) -> str:
        KeyRule.parse(value)
        return value

    @field_validator("date_format", mode="before")
    @classmethod
    def _one_or_many_formats(cls, value: object) -> object:
        return [value] if isinstance(value, str) else value

    @field_validator("date_format")
    @classmethod
    def _formats_valid(cls, value: list[str]) -> list[str]:
        for fmt in value:
            if "%" not in fmt:
                format_pattern(fmt)
        return value


def target_url(url: str, base_url: str | None) -> str:
    """``url`` on ``base_url``'s host: ``https://site/a/b.html`` + ``http://127.0.0.1:9/x``
    gives ``http://127.0.0.1:9/x/a/b.html``. A relative ``url`` is joined to ``base_url``."""
    if not base_url:
        return url
    base = urlsplit(base_url.rstrip("/"))
    parts = urlsplit(url)
    path = base.path.rstrip("/") + "/" + parts.path.lstrip("/")
    return urlunsplit((base.scheme, base.netloc, path, parts.query, parts.fragment))


@dataclass(frozen=True)
class KeyRule:
    """How a record's key is chosen, from the ``key`` setting.

    ``"link"`` (default): the absolute link without fragment or session tokens;
    ``"title"``: the title; ``"re:<regex>"``: the regex's ``key`` group (else
    group 1, else the whole match) searched in the absolute link; anything
    else: a selector spec (``html-list``) or a field path (``json-list``).
    When the chosen value is empty the link is used, then the title.
    """

    mode: str  # "link" | "title" | "regex" | "lookup"
    lookup: str = ""
    pattern: re.Pattern[str] | None = None

    @classmethod
    def parse(cls, value: str) -> KeyRule:
        value = value.strip()
        if value in ("link", "title"):
            return cls(value)
        if value.startswith("re:"):
            try:
                return cls("regex", pattern=re.compile(value[3:]))
            except re.error as exc:
                raise ValueError(f"invalid key regex {value[3:]!r}: {exc}") from None
        if not value:
            raise ValueError("key must not be empty")
        return cls("lookup", lookup=value)

    def key(self, *, link: str | None, title: str, looked_up: str | None = None) -> str:
        """The key for one record; ``looked_up`` is the value of a ``lookup`` rule."""
        canonical = canonical_url(link) if link else None
        chosen: str | None = None
        if self.mode == "title":
            chosen = title
        elif self.mode == "lookup":
            chosen = looked_up
        elif self.mode == "regex" and link and self.pattern is not None:
            match = self.pattern.search(link)
            if match:
                groups = match.groupdict()
                chosen = groups.get("key") or (match.group(1) if match.re.groups else match[0])
        return (chosen or "").strip() or canonical or title


def coverage(setting: ListingCoverage, *, cut: bool) -> Coverage:
    """The listing's coverage: the configured one, "newest" when a page cap cut
    a list configured as complete."""
    if setting == "complete" and cut:
        return Coverage.NEWEST
    return Coverage(setting)


def unique(records: Iterable[Record]) -> list[Record]:
    """Records with distinct keys, in order.

    A repeated key gets `` | <title>`` appended when the titles differ (two
    entries pointing at one page); an exact repeat is dropped.
    """
    seen: set[str] = set()
    out: list[Record] = []
    for record in records:
        key = record.key
        if key in seen:
            key = f"{record.key} | {record.title}"
            if key in seen:
                continue
            record = replace(record, key=key)
        seen.add(key)
        out.append(record)
    return out
