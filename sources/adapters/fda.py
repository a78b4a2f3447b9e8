"""US FDA: the guidance-document catalogue and CBER's cell & gene therapy list.

Two adapters:

``fda-guidance``
    FDA's own static JSON file of every guidance document, all centres
    (``/files/api/datatables/static/search-for-guidance.json``, ~2,800
    records). One conditional GET a run: a 304 means nothing changed. Every
    value in the file is an HTML fragment; they are unescaped and stripped.
    ``fields["doc_type"]`` comes from the title and
    ``field_communication_type`` (``qa`` for a Q&A title, else ``guideline``
    for any guidance kind), so a catalogue record is typed like its
    ``fda-cber-cgt`` twin. A ``Final`` entry's ``field_comment_close_date`` is
    the old draft's and is dropped (no ``comment_deadline``). ``topics`` are
    split on commas, as the file writes them (public evidence: a scraper's
    copy of a real entry has ``"topics-product": "Egg/Egg Product, Retail Food
    Protection"`` and ``"field_communication_type": "Small Entity Compliance
    Guide"``). Completeness: a **complete catalogue** (every record in one
    file), so an absent record is a removal.
    The record key is the slug of the landing page
    (``/regulatory-information/search-fda-guidance-documents/<slug>``);
    records without a link are skipped and counted in a log warning.
    Setting ``centers`` keeps only records whose centre or issuing office
    matches (full names or CBER, CDER, CDRH, CFSAN, HFP, CVM, CTP, OCE, OC);
    leave it empty to watch everything: deciding what concerns cell & gene
    therapy is the classifier's job, and the pipeline classifies every
    record, so a CGT guidance led by CDER or CDRH is not lost.

``fda-cber-cgt``
    CBER's curated page
    ``/vaccines-blood-biologics/biologics-guidances/cellular-gene-therapy-guidances``:
    a flat list, newest first, of "Title; Draft Guidance for Industry" links
    followed by a month (``M/YYYY``) and sometimes a note ("This guidance
    finalizes the draft guidance … dated June 2013"). The key is the slug of
    the link, so a record matches its ``fda-guidance`` twin. The page gives
    only a month: ``date`` stays None and ``fields["month"]`` holds
    ``YYYY-MM`` (a made-up first-of-month day would read as a real date).
    Completeness: a **complete catalogue** (CBER's whole curated list).
    The exact markup is unverified: the parser looks for list items inside
    the page's main region whose link text carries a guidance label, or
    which carry a ``M/YYYY`` month, and ignores navigation.

Both raise ``LayoutChanged`` when the file or page parses but holds no
guidance at all: FDA never publishes an empty catalogue, so that is a broken
or changed site, not "every document was removed".
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar
from urllib.parse import urlsplit

from bs4 import BeautifulSoup, Tag
from pydantic import Field

from sources.errors import LayoutChanged, ParseError
from sources.registry import Adapter, SourceSettings, register
from sources.text import selectors
from sources.text.dates import parse_date
from sources.text.selectors import clean_text, fragment_attr
from sources.types import Attachment, Coverage, Fetcher, FromSetting, Listing, Record, Regulator

__all__ = [
    "CBER_CGT_PATH",
    "GUIDANCE_JSON_PATH",
    "FdaCberCgt",
    "FdaGuidance",
    "FdaGuidanceSettings",
    "GuidanceParse",
    "catalogue_doc_type",
    "fragment_href",
    "fragment_list",
    "fragment_text",
    "parse_cber_cgt_page",
    "parse_guidance_json",
]

log = logging.getLogger(__name__)

GUIDANCE_JSON_PATH = "/files/api/datatables/static/search-for-guidance.json"
CBER_CGT_PATH = "/vaccines-blood-biologics/biologics-guidances/cellular-gene-therapy-guidances"

CENTER_ABBREVIATIONS: Mapping[str, str] = {
    "CBER": "Center for Biologics Evaluation and Research",
    "CDER": "Center for Drug Evaluation and Research",
    "CDRH": "Center for Devices and Radiological Health",
    "CFSAN": "Center for Food Safety and Applied Nutrition",
    "HFP": "Human Foods Program",
    "CVM": "Center for Veterinary Medicine",
    "CTP": "Center for Tobacco Products",
    "OCE": "Oncology Center of Excellence",
    "OC": "Office of the Commissioner",
}

# --- HTML fragments ----------------------------------------------------------
# One implementation, in sources.text.selectors (json-list reads the same style).

_DATETIME_ATTR = re.compile(r"""datetime\s*=\s*["']([^"']+)["']""", re.IGNORECASE)


def fragment_text(value: object) -> str:
    """The visible text of an HTML fragment (``sources.text.selectors.fragment_text``):
    ``<br>`` read as a space, screen-reader-only labels dropped."""
    return selectors.fragment_text(value, breaks=" ", drop_hidden=True)


def fragment_list(value: object) -> list[str]:
    """The parts of a fragment separated by ``<br>`` (one or more), ``</p><p>`` or
    ``</li>``, as text."""
    return selectors.fragment_list(value, drop_hidden=True)


def fragment_href(value: object) -> str | None:
    """The first link target in a fragment, unescaped, or None."""
    return fragment_attr(value, "href")


def _absolute(base: str, href: str) -> str:
    if href.startswith(("http://", "https://")):
        return href
    if href.startswith("//"):
        return "https:" + href
    return base.rstrip("/") + "/" + href.lstrip("/")


def slug_of(href: str) -> str | None:
    """The record key for an FDA link: the last path segment of a landing
    page, or ``media/<n>`` for a ``/media/<n>/download`` file link."""
    path = urlsplit(href).path.rstrip("/")
    if not path:
        return None
    parts = [part for part in path.split("/") if part]
    if len(parts) >= 3 and parts[-3] == "media" and parts[-1] == "download":
        return f"media/{parts[-2]}"
    return parts[-1] if parts else None


# --- fda-guidance --------------------------------------------------------------


@dataclass
class GuidanceParse:
    """What ``parse_guidance_json`` found: records, and what it had to skip."""

    records: list[Record] = field(default_factory=list)
    skipped: int = 0  # entries without a landing-page link
    duplicates: int = 0  # entries whose slug was already seen (first one kept)
    total: int = 0  # entries in the file


def _entries(data: Any) -> list[Any]:
    if isinstance(data, list):
        return data
    if isinstance(data, dict) and isinstance(data.get("data"), list):
        return list(data["data"])
    raise LayoutChanged(
        "the FDA guidance file is not a list of guidance records",
        hint='expected a JSON array (or {"data": [...]})',
    )


def _guidance_record(entry: Mapping[str, Any], base: str) -> Record | None:
    href = fragment_href(entry.get("title"))
    key = slug_of(href) if href else None
    title = fragment_text(entry.get("title"))
    if not key or not title or href is None:
        return None
    fields: dict[str, str] = {}

    def put(name: str, value: str | None) -> None:
        if value:
            fields[name] = value

    status = fragment_text(entry.get("field_final_guidance_1")) or None
    put("docket", fragment_text(entry.get("field_docket_number")))
    if (status or "").lower() != "final":  # a final guidance's old close date is history
        put("comment_deadline", parse_date(fragment_text(entry.get("field_comment_close_date"))))
    put("open_comment", fragment_text(entry.get("open-comment")))
    put("office", "; ".join(fragment_list(entry.get("field_issuing_office_taxonomy"))))
    put("center", "; ".join(fragment_list(entry.get("field_center"))))
    put("product", "; ".join(fragment_list(entry.get("field_regulated_product_field"))))
    put("topics", "; ".join(_topics(entry.get("topics-product"))))
    kind = fragment_text(entry.get("field_communication_type"))
    put("communication_type", kind)
    put("doc_type", catalogue_doc_type(title, kind))
    changed = str(entry.get("changed") or "")
    stamp = _DATETIME_ATTR.search(changed)
    put("updated", stamp.group(1) if stamp else fragment_text(changed))

    attachments: tuple[Attachment, ...] = ()
    media = entry.get("field_associated_media_2")
    media_href = fragment_href(media)
    if media_href:
        name = fragment_text(media) or "PDF"
        attachments = (Attachment(url=_absolute(base, media_href), name=name),)
    return Record(
        key=key,
        title=title,
        url=_absolute(base, href),
        date=parse_date(fragment_text(entry.get("field_issue_datetime"))),
        status=status,
        attachments=attachments,
        fields=fields,
    )


_QA_TITLE = re.compile(
    r"\bquestions?\s*(?:and|&)\s*answers?\b|\bQ\s*&\s*As?\b|\bfrequently\s+asked\s+questions\b",
    re.IGNORECASE,
)
_GUIDANCE_KIND = re.compile(r"guidance|compliance\s+guide", re.IGNORECASE)


def catalogue_doc_type(title: str, communication_type: str) -> str:
    """The document type of a catalogue entry, from its title and its
    ``field_communication_type``: ``qa`` for a Q&A title, ``guideline`` for
    every guidance kind (or none: the file is FDA's guidance catalogue), else
    the site's own word, which the classifier reads."""
    if _QA_TITLE.search(title):
        return "qa"
    if not communication_type or _GUIDANCE_KIND.search(communication_type):
        return "guideline"
    return communication_type


def _topics(value: object) -> list[str]:
    """Topics are comma-separated (``"Egg/Egg Product, Retail Food Protection"``);
    ``<br>``-separated ones are read too."""
    return [t.strip() for part in fragment_list(value) for t in part.split(",") if t.strip()]


def parse_guidance_json(body: bytes | str, base: str) -> GuidanceParse:
    """Parse FDA's ``search-for-guidance.json`` into records (links made
    absolute against ``base``). Raises ``ParseError`` for bytes that are not
    JSON and ``LayoutChanged`` when no guidance record can be read."""
    try:
        data = json.loads(body)
    except ValueError as exc:
        raise ParseError(f"the FDA guidance file is not valid JSON: {exc}") from exc
    entries = _entries(data)
    result = GuidanceParse(total=len(entries))
    seen: set[str] = set()
    for entry in entries:
        record = _guidance_record(entry, base) if isinstance(entry, dict) else None
        if record is None:
            result.skipped += 1
        elif record.key in seen:
            result.duplicates += 1
        else:
            seen.add(record.key)
            result.records.append(record)
    if not result.records:
        raise LayoutChanged(
            f"the FDA guidance file lists no readable guidance ({len(entries)} entries)",
            hint="the real file holds ~2,800 records with a title link each",
        )
    return result


def _wanted_centers(centers: Iterable[str]) -> list[str]:
    return [CENTER_ABBREVIATIONS.get(c.strip().upper(), c.strip()).lower() for c in centers]


class FdaGuidanceSettings(SourceSettings):
    centers: list[str] = Field(
        default_factory=list,
        description="keep only these centres/offices (names or CBER, CDER, …); empty = all",
    )


@register
class FdaGuidance(Adapter):
    """FDA guidance documents, every centre, from FDA's own JSON catalogue.

    Settings: ``centers`` (optional) keeps only some centres; by default all
    ~2,800 records are watched and the classifier picks out the CGT ones.
    See the ``sources.adapters.fda`` module docstring for the fields each record has.
    """

    kind: ClassVar[str] = "fda-guidance"
    regulator: ClassVar[Regulator | None] = Regulator(
        short="FDA", en="U.S. Food and Drug Administration", zh="美国食品药品监督管理局"
    )
    jurisdiction: ClassVar[str] = "US"
    coverage: ClassVar[Coverage | FromSetting] = Coverage.COMPLETE
    Settings: ClassVar[type[SourceSettings]] = FdaGuidanceSettings
    default_base_url: ClassVar[str | None] = "https://www.fda.gov"
    settings: FdaGuidanceSettings

    def collect(self, fetcher: Fetcher, known: Mapping[str, Record]) -> Listing:
        url = self.base_url + GUIDANCE_JSON_PATH
        fetched = fetcher.get(url, expect="json", conditional=True)
        if fetched.not_modified:
            return Listing.unchanged()
        result = parse_guidance_json(fetched.body, self.base_url)
        if result.skipped or result.duplicates:
            log.warning(
                "%s: skipped %d of %d entries without a landing-page link, %d duplicate slugs",
                self.settings.name,
                result.skipped,
                result.total,
                result.duplicates,
            )
        records = result.records
        if self.settings.centers:
            wanted = _wanted_centers(self.settings.centers)
            records = [r for r in records if _center_matches(r, wanted)]
        return Listing(records=records, coverage=Coverage.COMPLETE)


def _center_matches(record: Record, wanted: list[str]) -> bool:
    names = [
        part.strip().lower()
        for key in ("center", "office")
        for part in record.fields.get(key, "").split(";")
        if part.strip()
    ]
    return any(w == name or w in name for w in wanted for name in names)


# --- fda-cber-cgt ---------------------------------------------------------------

_LABEL_AFTER = re.compile(
    r"^(?P<title>.+?)\s*;\s*(?P<label>(?:Revised\s+)?(?:Draft\s+)?Guidances?\b[^;]*)$",
    re.IGNORECASE,
)
_LABEL_BEFORE = re.compile(
    r"^(?P<label>(?:Revised\s+)?(?:Draft\s+)?Guidances?\s+for\s+[^:]+?)\s*:\s*(?P<title>.+)$",
    re.IGNORECASE,
)
_MONTH = re.compile(r"(?<![\d/])(?P<m>\d{1,2})/(?P<y>\d{4})(?![\d/])")


def _split_label(text: str) -> tuple[str, str | None]:
    for pattern in (_LABEL_AFTER, _LABEL_BEFORE):
        match = pattern.match(text)
        if match:
            return match.group("title").strip(), match.group("label").strip()
    return text, None


def _main_region(soup: BeautifulSoup) -> Tag:
    for selector in ("main article", "article", "main", "[role=main]", "#main-content", "body"):
        found = soup.select_one(selector)
        if isinstance(found, Tag) and found.find("li"):
            return found
    return soup


def parse_cber_cgt_page(body: bytes | str, base: str) -> list[Record]:
    """Parse CBER's cellular & gene therapy guidance list. Raises
    ``LayoutChanged`` when the page holds no guidance item."""
    soup = BeautifulSoup(body, "lxml")
    records: list[Record] = []
    seen: set[str] = set()
    for item in _main_region(soup).find_all("li"):
        link = item.find("a", href=True)
        if not isinstance(link, Tag):
            continue
        text = clean_text(link.get_text(" "))
        title, label = _split_label(text)
        link.extract()
        rest = clean_text(item.get_text(" "))
        month = _MONTH.search(rest)
        if label is None and month is None:
            continue  # navigation, not a guidance
        href = str(link["href"])
        key = slug_of(href)
        if not key or key in seen:
            continue
        seen.add(key)
        fields: dict[str, str] = {}
        status: str | None = None
        if label:
            fields["doc_type"] = label
            status = "Draft" if re.search(r"\bdraft\b", label, re.IGNORECASE) else "Final"
        note = rest
        if month:
            iso = parse_date(f"{month.group('m')}/{month.group('y')}")
            if iso:
                fields["month"] = iso[:7]
            note = (rest[: month.start()] + " " + rest[month.end() :]).strip()
        note = note.strip(" -–—·|,;")
        if note:
            fields["note"] = note
        records.append(
            Record(key=key, title=title, url=_absolute(base, href), status=status, fields=fields)
        )
    if not records:
        raise LayoutChanged(
            "the CBER cellular & gene therapy page lists no guidance",
            hint="expected list items 'Title; Draft Guidance for Industry' with a M/YYYY month",
        )
    return records


@register
class FdaCberCgt(Adapter):
    """CBER's curated list of cellular & gene therapy guidances (one HTML page).

    No settings of its own. Records carry ``status`` (Draft/Final, from the
    label), ``fields["month"]`` (``YYYY-MM``), ``fields["doc_type"]`` (the
    label, e.g. "Draft Guidance for Industry") and ``fields["note"]``.
    """

    kind: ClassVar[str] = "fda-cber-cgt"
    regulator: ClassVar[Regulator | None] = Regulator(
        short="FDA CBER",
        en="FDA Center for Biologics Evaluation and Research",
        zh="美国FDA生物制品评价与研究中心",
    )
    jurisdiction: ClassVar[str] = "US"
    coverage: ClassVar[Coverage | FromSetting] = Coverage.COMPLETE
    Settings: ClassVar[type[SourceSettings]] = SourceSettings
    default_base_url: ClassVar[str | None] = "https://www.fda.gov"

    def collect(self, fetcher: Fetcher, known: Mapping[str, Record]) -> Listing:
        fetched = fetcher.get(self.base_url + CBER_CGT_PATH, expect="html", conditional=True)
        if fetched.not_modified:
            return Listing.unchanged()
        return Listing(
            records=parse_cber_cgt_page(fetched.text, self.base_url), coverage=Coverage.COMPLETE
        )
