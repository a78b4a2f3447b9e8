"""``rss``: an RSS 2.0, RSS 1.0 (RDF) or Atom feed.

Example (EMA's scientific guidelines feed)::

    [[source]]
    name = "ema-guidelines-feed"
    kind = "rss"
    url = "https://www.ema.europa.eu/en/scientific-guidelines.xml"

Each item becomes a record: key = ``guid`` / Atom ``id`` (else the link),
date = ``pubDate`` / ``dc:date`` / ``published`` / ``updated``, and fields
``category`` (all categories, joined), ``summary`` (the description as plain
text, at most ~500 characters) and ``updated`` (Atom's last-modified stamp).
Enclosures become attachments. A feed with no items is a valid answer; an
HTML page where the feed should be is ``Blocked``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import ClassVar
from urllib.parse import urljoin

from lxml import etree
from pydantic import Field

from sources.adapters.generic import GenericSettings, ListingCoverage, target_url, unique
from sources.errors import Blocked, LayoutChanged, ParseError
from sources.registry import Adapter, SourceSettings, register
from sources.text.dates import parse_date
from sources.text.selectors import absolute_url, canonical_url, clean_text, fragment_text
from sources.types import Attachment, Coverage, Fetcher, FromSetting, Listing, Record, Regulator

__all__ = ["Rss", "RssSettings", "parse_feed"]

SUMMARY_CHARS = 500
_XML_BASE = "{http://www.w3.org/XML/1998/namespace}base"
_DECLARED_ENCODING = re.compile(rb"^\s*<\?xml[^>]*encoding=", re.IGNORECASE)
_PROLOG = re.compile(r"^\s*<\?xml[^>]*\?>", re.IGNORECASE)
_DOCUMENT_SUFFIXES = (".pdf", ".doc", ".docx")


class RssSettings(GenericSettings):
    """Settings of ``rss``: ``url``, and ``listing`` (default ``"newest"``: a feed
    keeps only its newest N items, so an item that drops off the end is "no
    longer listed here", never "removed"; an item newer than the oldest one
    still listed that vanished is). ``listing = "complete"`` for a feed that
    lists every document; ``"window"`` for one limited to recent dates."""

    listing: ListingCoverage = Field(
        default="newest",
        description='how much the feed shows: "newest" (its N items), "window" or "complete"',
    )


def parse_feed(body: bytes, url: str, encoding: str | None = None) -> list[Record]:
    """Records from one feed document (pure). ``encoding`` is the HTTP charset,
    used only when the XML does not declare its own."""
    root = _parse_xml(body, encoding)
    if root is None:
        raise ParseError("the response is not XML", url=url)
    name = _local(root)
    if name == "html":
        raise Blocked("an HTML page came back where a feed was expected", url=url)
    base = urljoin(url, root.get(_XML_BASE) or "")
    if name == "rss":
        channel = _child(root, "channel")
        entries = list(_children(channel, "item")) if channel is not None else []
    elif name == "RDF":
        entries = list(_children(root, "item"))
    elif name == "feed":
        entries = list(_children(root, "entry"))
    else:
        raise LayoutChanged(f"not an RSS or Atom feed (root element <{name}>)", url=url)
    records = (_record(entry, base) for entry in entries)
    return unique(r for r in records if r is not None)


def _parse_xml(body: bytes, encoding: str | None) -> etree._Element | None:
    body = body.lstrip(b"\xef\xbb\xbf").lstrip()
    if (
        encoding
        and not _DECLARED_ENCODING.match(body)
        and encoding.lower() not in ("utf-8", "utf8", "ascii", "us-ascii")
    ):
        text = _PROLOG.sub("", body.decode(encoding, errors="replace"), count=1)
        body = text.encode("utf-8")
    parser = etree.XMLParser(
        recover=True,
        resolve_entities=False,
        no_network=True,
        remove_comments=True,
        remove_pis=True,
    )
    try:
        return etree.fromstring(body, parser) if body else None
    except etree.XMLSyntaxError:
        return None


def _local(element: etree._Element) -> str:
    tag = element.tag
    if not isinstance(tag, str):
        return ""
    try:
        return str(etree.QName(tag).localname)
    except ValueError:  # a tag lxml kept but cannot name ("http:"): not one we read
        return ""


def _children(parent: etree._Element, *names: str) -> Iterator[etree._Element]:
    for child in parent:
        if isinstance(child.tag, str) and _local(child) in names:
            yield child


def _child(parent: etree._Element, *names: str) -> etree._Element | None:
    for name in names:  # in order of preference
        for child in _children(parent, name):
            return child
    return None


def _text(element: etree._Element | None) -> str:
    if element is None:
        return ""
    return fragment_text("".join(element.itertext()))


def _record(entry: etree._Element, base: str) -> Record | None:
    base = urljoin(base, entry.get(_XML_BASE) or "")
    title = _text(_child(entry, "title"))
    link = _link(entry, base)
    guid = clean_text("".join(_child_text(entry, "guid", "id")))
    if not guid and not link and not title:
        return None
    published = _text(_child(entry, "pubDate", "date", "published", "issued"))
    updated = _text(_child(entry, "updated", "modified"))
    return Record(
        key=guid or (canonical_url(link) if link else title),
        title=title or link or guid,
        url=link or base,
        date=parse_date(published) or parse_date(updated),
        attachments=_attachments(entry, base, link, title),
        fields=_entry_fields(entry, updated),
    )


def _entry_fields(entry: etree._Element, updated: str) -> dict[str, str]:
    """An entry's categories, summary (truncated) and update date, when present."""
    fields: dict[str, str] = {}
    categories = [c for c in (_category(el) for el in _children(entry, "category", "subject")) if c]
    if categories:
        fields["category"] = ", ".join(dict.fromkeys(categories))
    summary = _text(_child(entry, "description", "summary", "content", "encoded"))
    if summary:
        fields["summary"] = _truncate(summary)
    if updated:
        fields["updated"] = updated
    return fields


def _child_text(entry: etree._Element, *names: str) -> list[str]:
    found = _child(entry, *names)
    return list(found.itertext()) if found is not None else []


def _link(entry: etree._Element, base: str) -> str | None:
    for link in _children(entry, "link"):
        href = link.get("href")
        if href is not None:  # Atom
            if (link.get("rel") or "alternate") == "alternate":
                return absolute_url(base, href)
            continue
        text = clean_text("".join(link.itertext()))
        if text:
            return absolute_url(base, text)
    guid = _child(entry, "guid")
    if guid is not None and (guid.get("isPermaLink") or "true").lower() != "false":
        text = clean_text("".join(guid.itertext()))
        if text.startswith(("http://", "https://")):
            return text
    return None


def _category(element: etree._Element) -> str:
    return clean_text(element.get("label") or element.get("term") or "".join(element.itertext()))


def _attachments(
    entry: etree._Element, base: str, link: str | None, title: str
) -> tuple[Attachment, ...]:
    found: dict[str, Attachment] = {}
    if link and canonical_url(link).lower().endswith(_DOCUMENT_SUFFIXES):
        found[link] = Attachment(url=link, name=title)
    for element in _children(entry, "enclosure", "link"):
        if _local(element) == "link" and element.get("rel") != "enclosure":
            continue
        url = absolute_url(base, element.get("url") or element.get("href"))
        if url and url not in found:
            found[url] = Attachment(url=url, name=clean_text(element.get("title") or ""))
    return tuple(found.values())


def _truncate(text: str) -> str:
    if len(text) <= SUMMARY_CHARS:
        return text
    cut = (
        text[:SUMMARY_CHARS].rsplit(" ", 1)[0]
        if " " in text[:SUMMARY_CHARS]
        else text[:SUMMARY_CHARS]
    )
    return cut.rstrip(" ,;.") + "…"


@register
class Rss(Adapter):
    """An RSS or Atom feed: one record per item, keyed by guid / id.

    Keys: url, headers.
    """

    kind: ClassVar[str] = "rss"
    regulator: ClassVar[Regulator | None] = None  # the `regulator` setting
    jurisdiction: ClassVar[str] = ""  # the `jurisdiction` setting
    coverage: ClassVar[Coverage | FromSetting] = FromSetting("listing")
    Settings: ClassVar[type[SourceSettings]] = RssSettings
    settings: RssSettings

    def collect(self, fetcher: Fetcher, known: Mapping[str, Record]) -> Listing:
        s = self.settings
        fetched = fetcher.get(
            target_url(s.url, s.base_url), headers=s.headers, expect="xml", conditional=True
        )
        if fetched.not_modified:
            return Listing.unchanged()
        return Listing(
            records=parse_feed(fetched.body, fetched.url, fetched.encoding),
            coverage=Coverage(s.listing),
        )
