"""US Federal Register: FDA's "guidance; availability" notices.

``federal-register`` asks the Federal Register API
(``/api/v1/documents.json``) for FDA notices mentioning ``term`` (default
"guidance") published in the last ``days`` days (default 120), newest first,
``per_page`` at a time (default 100, at most 1000), and follows the pages
while the envelope (``{count, total_pages, next_page_url, results}``) says
there are more. Page URLs are built against this source's ``base_url``
rather than taken from ``next_page_url``, so a mirror or proxy keeps working.

With ``availability_only`` (the default) only notices titled like
"<Title>; Draft Guidance for Industry; Availability" or
"<Title>; Guidance for Industry and Food and Drug Administration Staff;
Availability" are kept: FDA announces every new guidance that way, with the
comment deadline — the best source of FDA comment deadlines.

Each record: ``key`` = document_number, ``title`` = the notice title,
``url`` = html_url, ``date`` = publication_date, ``status`` = Draft/Final
(from the label; None for other notices), attachment = the notice PDF;
``fields``: ``docket`` (docket ids, "Docket No." dropped, comma-joined),
``comment_deadline`` (comments_close_on), ``guidance_title`` (the title
without its "; … Guidance …; Availability" tail, to link the notice to the
FDA guidance record), ``doc_type`` (the label, e.g. "Draft Guidance for
Industry"), ``abstract`` (first 500 characters), ``agencies``.

Comment-period extensions: FDA publishes "<Title>; <label>; Availability;
Extension of Comment Period" (and "…; Reopening of the Comment Period")
notices with the new ``comments_close_on`` on the same docket (public
evidence: 83 FR 3739, 83 FR 50109, 81 FR 65653 on thefederalregister.org /
regulations.justia.com; 83 FR 54113 "…; Reopening of Comment Period"). Such a
notice moves the deadline of the notice it extends (matched by docket, else
by guidance title) and is folded into it; see ``_fold_extensions``. Whether
the API's ``comments_close_on`` of the extension carries the new date is
unverified (assumed; it does on the notice pages).

Completeness: a **date window** (the last ``days`` days): a notice that
leaves the window is out of view, not withdrawn.

An answer without ``results`` while ``count`` says there are some raises
``LayoutChanged``; zero notices in the window is a legitimate empty answer.
The API allows about 5 requests a second.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from typing import Any, ClassVar
from urllib.parse import urlencode

from pydantic import Field

from sources.errors import LayoutChanged, ParseError
from sources.registry import Adapter, SourceSettings, register
from sources.text.dates import parse_date
from sources.types import Attachment, Coverage, Fetcher, FromSetting, Listing, Record, Regulator

__all__ = [
    "API_PATH",
    "FIELDS",
    "FederalRegister",
    "FederalRegisterSettings",
    "NoticePage",
    "parse_notice_page",
    "query_params",
    "split_availability",
]

log = logging.getLogger(__name__)

API_PATH = "/api/v1/documents.json"
FIELDS = (
    "title",
    "type",
    "abstract",
    "document_number",
    "html_url",
    "pdf_url",
    "publication_date",
    "agencies",
    "docket_ids",
    "comments_close_on",
    "dates",
)
MAX_PAGES = 50
ABSTRACT_CHARS = 500

_AVAILABILITY = re.compile(
    r"^(?P<title>.+?)\s*;\s*(?P<label>(?:[\w-]+\s+){0,4}?Guidances?\b[^;]*?)\s*;\s*"
    r"(?:Notice\s+of\s+)?Availability\.?"
    r"(?:\s*;\s*(?P<extension>(?:Extension|Reopening)\s+of\s+(?:the\s+)?Comment\s+Period)\.?)?"
    r"\s*$",
    re.IGNORECASE,
)
_DOCKET_PREFIX = re.compile(r"^\s*(?:Docket\s+(?:No\.?|Number)\s*)", re.IGNORECASE)


def split_availability(title: str) -> tuple[str, str] | None:
    """``("Potency Assurance …", "Draft Guidance for Industry")`` for a title
    "Potency Assurance …; Draft Guidance for Industry; Availability", else None."""
    match = _AVAILABILITY.match(" ".join(title.split()))
    if not match:
        return None
    return match.group("title").strip(), match.group("label").strip()


def query_params(
    *, agency: str, term: str, since: date, per_page: int, page: int
) -> list[tuple[str, str]]:
    """The query the API expects, as pairs (``fields[]`` repeats)."""
    params = [
        ("conditions[agencies][]", agency),
        ("conditions[type][]", "NOTICE"),
        ("conditions[publication_date][gte]", since.isoformat()),
    ]
    if term:
        params.append(("conditions[term]", term))
    params += [("fields[]", name) for name in FIELDS]
    params += [("order", "newest"), ("per_page", str(per_page)), ("page", str(page))]
    return params


@dataclass
class NoticePage:
    """One page of the API's answer."""

    records: list[Record] = field(default_factory=list)
    count: int = 0
    total_pages: int = 0
    next_page_url: str | None = None
    seen: int = 0  # results on this page before filtering


def _text(entry: Mapping[str, Any], name: str) -> str:
    """Field `name` of `entry` as one line of text ("" when absent)."""
    return " ".join(str(entry.get(name) or "").split())


def _availability_fields(title: str) -> tuple[dict[str, str], str | None]:
    """The guidance title, document type and extension of an "…; Availability"
    title, with its status (Draft or Final); ({}, None) for any other title."""
    split = split_availability(title)
    if split is None:
        return {}, None
    fields = {"guidance_title": split[0], "doc_type": split[1]}
    extension = _AVAILABILITY.match(" ".join(title.split()))
    if extension and extension.group("extension"):
        fields["extension"] = extension.group("extension")
    status = "Draft" if re.search(r"\bdraft\b", split[1], re.IGNORECASE) else "Final"
    return fields, status


def _detail_fields(entry: Mapping[str, Any]) -> dict[str, str]:
    """Docket, comment deadline, abstract and agencies of a notice, when present."""
    fields: dict[str, str] = {}
    dockets = [_DOCKET_PREFIX.sub("", str(d)).strip() for d in entry.get("docket_ids") or [] if d]
    if dockets:
        fields["docket"] = ", ".join(dockets)
    deadline = parse_date(str(entry.get("comments_close_on") or ""))
    if deadline:
        fields["comment_deadline"] = deadline
    abstract = _text(entry, "abstract")
    if abstract:
        cut = abstract[:ABSTRACT_CHARS]
        fields["abstract"] = cut if cut == abstract else cut.rsplit(" ", 1)[0] + " …"
    agencies = [_agency_name(a) for a in entry.get("agencies") or [] if isinstance(a, dict)]
    if any(agencies):
        fields["agencies"] = "; ".join(a for a in agencies if a)
    return fields


def _agency_name(agency: Mapping[str, Any]) -> str:
    return str(agency.get("name") or agency.get("raw_name") or "")


def _notice(entry: Mapping[str, Any], availability_only: bool) -> Record | None:
    key = str(entry.get("document_number") or "").strip()
    title = _text(entry, "title")
    url = str(entry.get("html_url") or "").strip()
    if not key or not title or not url:
        return None
    if availability_only and split_availability(title) is None:
        return None
    fields, status = _availability_fields(title)
    fields.update(_detail_fields(entry))
    pdf = str(entry.get("pdf_url") or "").strip()
    return Record(
        key=key,
        title=title,
        url=url,
        date=parse_date(str(entry.get("publication_date") or "")),
        status=status,
        attachments=(Attachment(url=pdf, name=f"{key}.pdf"),) if pdf else (),
        fields=fields,
    )


def parse_notice_page(body: bytes | str, *, availability_only: bool = True) -> NoticePage:
    """Parse one page of ``documents.json``."""
    try:
        data = json.loads(body)
    except ValueError as exc:
        raise ParseError(f"the Federal Register answer is not valid JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise LayoutChanged("the Federal Register answer is not a JSON object")
    if data.get("errors"):
        raise ParseError(f"the Federal Register API refused the query: {data['errors']}")
    count = int(data.get("count") or 0)
    results = data.get("results")
    if results is None and count == 0:
        results = []
    if not isinstance(results, list):
        raise LayoutChanged(
            f"the Federal Register answer has no 'results' list (count {count})",
            hint="expected {count, total_pages, next_page_url, results}",
        )
    page = NoticePage(
        count=count,
        total_pages=int(data.get("total_pages") or 0),
        next_page_url=data.get("next_page_url") or None,
        seen=len(results),
    )
    for entry in results:
        if isinstance(entry, dict):
            record = _notice(entry, availability_only)
            if record is not None:
                page.records.append(record)
    return page


class FederalRegisterSettings(SourceSettings):
    agency: str = Field(
        default="food-and-drug-administration",
        min_length=1,
        description="the Federal Register agency slug",
    )
    term: str = Field(default="guidance", description="full-text search term (empty: none)")
    days: int = Field(
        default=120, ge=1, le=3650, description="the window: notices of the last N days"
    )
    per_page: int = Field(default=100, ge=1, le=1000, description="notices per API page")
    availability_only: bool = Field(
        default=True, description='keep only "…; Availability" notices of guidance documents'
    )


@register
class FederalRegister(Adapter):
    """FDA guidance availability notices (with comment deadlines) from the Federal Register API.

    Settings: ``term`` ("guidance"), ``days`` (120), ``per_page`` (100, ≤1000),
    ``availability_only`` (true), ``agency`` ("food-and-drug-administration").
    """

    kind: ClassVar[str] = "federal-register"
    regulator: ClassVar[Regulator | None] = Regulator(
        short="FDA",
        en="U.S. Food and Drug Administration (Federal Register notices)",
        zh="美国食品药品监督管理局（联邦公报）",
        label="FDA (Federal Register)",
    )
    jurisdiction: ClassVar[str] = "US"
    coverage: ClassVar[Coverage | FromSetting] = Coverage.WINDOW
    Settings: ClassVar[type[SourceSettings]] = FederalRegisterSettings
    default_base_url: ClassVar[str | None] = "https://www.federalregister.gov"
    settings: FederalRegisterSettings

    def collect(self, fetcher: Fetcher, known: Mapping[str, Record]) -> Listing:
        settings = self.settings
        assert isinstance(settings, FederalRegisterSettings)
        since = date.today() - timedelta(days=settings.days)
        records: dict[str, Record] = {}
        page_no = 1
        while True:
            params = query_params(
                agency=settings.agency,
                term=settings.term,
                since=since,
                per_page=settings.per_page,
                page=page_no,
            )
            url = f"{self.base_url}{API_PATH}?{urlencode(params)}"
            page = parse_notice_page(
                fetcher.get(url, expect="json").body,
                availability_only=settings.availability_only,
            )
            for record in page.records:
                records.setdefault(record.key, record)  # newest first: a shift repeats one
            if page.seen == 0 or not page.next_page_url or page_no >= page.total_pages:
                break
            if page_no >= MAX_PAGES:
                log.warning(
                    "%s: stopped after %d pages of %d; narrow `days` or `term`",
                    settings.name,
                    page_no,
                    page.total_pages,
                )
                break
            page_no += 1
        # a rolling window: notices dated before `since` leave it, they are not removed
        return Listing(
            records=_fold_extensions(list(records.values())),
            coverage=Coverage.WINDOW,
            since=since.isoformat(),
        )


def _fold_extensions(records: list[Record]) -> list[Record]:
    """An "…; Availability; Extension of Comment Period" (or "Reopening of the
    Comment Period") notice moves the deadline of the availability notice it
    extends — matched by docket, else by guidance title — and is folded into
    it (``fields["deadline_extended_by"]`` = its document number), so the
    user sees one document whose deadline changed, not a second document.
    An extension whose original is not in the window stays a record of its own,
    carrying the new deadline."""
    originals = [r for r in records if "extension" not in r.fields]
    kept: list[Record] = []
    for notice in sorted(records, key=lambda r: r.date or ""):  # oldest first: last word wins
        if "extension" not in notice.fields:
            continue
        target = next((o for o in originals if _same_guidance(o, notice)), None)
        if target is None:
            kept.append(notice)
            continue
        fields = dict(target.fields)
        if "comment_deadline" in notice.fields:
            fields["comment_deadline"] = notice.fields["comment_deadline"]
        fields["deadline_extended_by"] = notice.key
        moved = replace(target, fields=fields)
        originals = [moved if o.key == target.key else o for o in originals]
    return [*originals, *kept]


def _same_guidance(original: Record, extension: Record) -> bool:
    docket = original.fields.get("docket")
    if docket and extension.fields.get("docket"):
        return docket == extension.fields["docket"]
    title = original.fields.get("guidance_title")
    return bool(title) and title == extension.fields.get("guidance_title")
