"""EU EMA: the documents data file EMA publishes for reuse.

``ema-documents`` reads ``/en/documents/report/documents-output-json-report_en.json``
— every English document on the EMA site (~70,000; ~2,700 of them of type
``scientific-guideline``), refreshed about 06:00 and 18:00 Amsterdam time and
served with ``Last-Modified``. One conditional GET a run: a 304 means
nothing changed. The file is parsed once and only documents of the
configured ``types`` are kept: by default ``scientific-guideline`` (concept
papers and reflection papers are filed there too) and ``medicine-qa``, where
EMA now files questions-and-answers documents. ``types = []`` keeps every
document. Public evidence for ``medicine-qa`` as a type of this file: other
projects that read it group ``"medicine-qa"`` with ``scientific-guideline`` and
``regulatory-procedural-guideline`` as the core regulatory types (find_string
"medicine-qa"); how many CGT Q&As sit there is unverified.

Completeness: a **complete catalogue** (the whole export in one file), so an
absent record is a removal.

Each record: ``key`` = EMA's document id, ``title`` = name, ``url`` and the
one attachment = ``document_url`` (a PDF; drafts have a ``draft-`` slug),
``date`` = first publication (the Amsterdam calendar day of the UTC stamp),
``status`` = EMA's own words ("Adopted", "Draft: consultation open", …),
``fields``: ``reference_number``, ``updated`` (last_updated_date as given),
``consultation`` (consultation_date as given), ``comment_deadline`` (the end
of the consultation when consultation_date states a range — the format is
unverified, so only a clear range or an end/deadline word is read),
``doc_type``.

A file without a ``data`` list, an empty one, or one in which no document
has a wanted type raises ``LayoutChanged``: EMA never publishes an empty
catalogue, so that is a broken export or a renamed field, never "all
documents removed". EMA's RSS feeds (scientific guidelines, public
consultations, CAT agendas and minutes) need no adapter of their own: use
the generic ``rss`` kind.
"""

from __future__ import annotations

import json
import logging
import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from pydantic import Field

from sources.errors import LayoutChanged, ParseError
from sources.registry import Adapter, SourceSettings, register
from sources.text.dates import parse_date
from sources.types import Attachment, Coverage, Fetcher, FromSetting, Listing, Record, Regulator

__all__ = [
    "DOCUMENTS_JSON_PATH",
    "DocumentsParse",
    "EmaDocuments",
    "EmaDocumentsSettings",
    "consultation_end",
    "parse_documents_json",
]

log = logging.getLogger(__name__)

DOCUMENTS_JSON_PATH = "/en/documents/report/documents-output-json-report_en.json"
DEFAULT_TYPES = ("scientific-guideline", "medicine-qa")
_AMSTERDAM = ZoneInfo("Europe/Amsterdam")


@dataclass
class DocumentsParse:
    """What ``parse_documents_json`` found."""

    records: list[Record] = field(default_factory=list)
    total: int = 0  # documents in the file
    skipped: int = 0  # wanted type, but no id / name / document_url
    types_seen: Counter[str] = field(default_factory=Counter)


def ema_day(value: object) -> str | None:
    """``2026-06-30T22:00:00Z`` -> ``2026-07-01``: the Amsterdam calendar day of an
    EMA timestamp (EMA stamps local midnight in UTC). Other forms go through
    ``parse_date`` (day first, as EMA writes ``DD/MM/YYYY``)."""
    text = str(value or "").strip()
    if not text:
        return None
    try:
        stamp = datetime.fromisoformat(text)
    except ValueError:
        return parse_date(text, dayfirst=True)
    if stamp.tzinfo is not None:
        stamp = stamp.astimezone(_AMSTERDAM)
    return parse_date(stamp.date().isoformat())


_DATE_TOKEN = re.compile(
    r"\d{4}-\d{2}-\d{2}(?:T[\d:.]+(?:Z|[+-]\d{2}:?\d{2})?)?"
    r"|\d{1,2}[/.]\d{1,2}[/.]\d{4}"
    r"|\d{1,2}\s+[A-Za-z]{3,9}\.?\s+\d{4}"
    r"|[A-Za-z]{3,9}\.?\s+\d{1,2},\s+\d{4}"
)
_END_WORDS = re.compile(
    r"\b(?:end|ends|until|till|deadline|close[sd]?|by)\b|\bto\b\s*$", re.IGNORECASE
)


def consultation_end(text: str | None) -> str | None:
    """The end of a consultation window stated in ``consultation_date``, as ISO.

    ``"15/01/2026 - 15/04/2026"`` -> ``2026-04-15``; ``"2026-01-15T00:00:00Z to
    2026-04-15T00:00:00Z"`` likewise. A single date counts only after an end
    word ("until 15/04/2026", "deadline: …"); a bare single date may be the
    start, so it gives None.
    """
    if not text:
        return None
    matches = list(_DATE_TOKEN.finditer(text))
    if not matches:
        return None
    last = matches[-1]
    if len(matches) == 1 and not _END_WORDS.search(text[: last.start()]):
        return None
    return ema_day(last.group(0))


def _record(entry: Mapping[str, Any], base: str) -> Record | None:
    key = str(entry.get("id") or "").strip()
    title = " ".join(str(entry.get("name") or "").split())
    url = str(entry.get("document_url") or "").strip()
    if not key or not title or not url:
        return None
    if not url.startswith(("http://", "https://")):
        url = base.rstrip("/") + "/" + url.lstrip("/")
    try:
        file_name = urlsplit(url).path.rsplit("/", 1)[-1] or "document"
    except ValueError:  # a malformed URL ("http://[…"): skip this entry, not the file
        return None
    return Record(
        key=key,
        title=title,
        url=url,
        date=ema_day(entry.get("first_published_date")),
        status=" ".join(str(entry.get("status") or "").split()) or None,
        attachments=(Attachment(url=url, name=file_name),),
        fields=_entry_fields(entry),
    )


def _entry_fields(entry: Mapping[str, Any]) -> dict[str, str]:
    """Reference number, dates, comment deadline and type, when present."""
    fields: dict[str, str] = {}
    for name, value in (
        ("reference_number", entry.get("reference_number")),
        ("updated", entry.get("last_updated_date")),
        ("consultation", entry.get("consultation_date")),
        ("comment_deadline", consultation_end(str(entry.get("consultation_date") or ""))),
        ("doc_type", entry.get("type")),
    ):
        text = " ".join(str(value or "").split())
        if text:
            fields[name] = text
    return fields


def parse_documents_json(
    body: bytes | str, base: str, types: tuple[str, ...] | list[str] = DEFAULT_TYPES
) -> DocumentsParse:
    """Parse EMA's documents file, keeping documents of ``types`` (all when
    empty). Raises ``ParseError`` for bytes that are not JSON and
    ``LayoutChanged`` as the module docstring says."""
    wanted = frozenset(types)
    result = DocumentsParse()

    # Drop unwanted documents while the parser builds them, so ~70,000 dicts
    # never live at once (see bench/bench_ema_parse.py for the numbers).
    def keep(obj: dict[str, Any]) -> Any:
        kind = obj.get("type")
        if isinstance(kind, str) and "id" in obj:
            result.types_seen[kind] += 1
            if wanted and kind not in wanted:
                return None
        return obj

    try:
        data = json.loads(body, object_hook=keep)
    except ValueError as exc:
        raise ParseError(f"the EMA documents file is not valid JSON: {exc}") from exc
    entries = data.get("data") if isinstance(data, dict) else None
    if not isinstance(entries, list):
        raise LayoutChanged(
            "the EMA documents file has no 'data' list",
            hint='expected {"meta": {...}, "data": [...]}',
        )
    result.total = len(entries)
    if not entries:
        raise LayoutChanged(
            "the EMA documents file lists no documents",
            hint="the real file holds ~70,000; the export is probably broken",
        )
    for entry in entries:
        if not isinstance(entry, dict):
            continue
        record = _record(entry, base)
        if record is None:
            result.skipped += 1
        else:
            result.records.append(record)
    if not result.records:
        present = ", ".join(f"{k} ({n})" for k, n in result.types_seen.most_common(8))
        raise LayoutChanged(
            f"none of the {result.total} EMA documents has a wanted type "
            f"({', '.join(sorted(wanted)) or 'any'})",
            hint=f"types present: {present or 'none (the type field is missing)'}",
        )
    return result


class EmaDocumentsSettings(SourceSettings):
    types: list[str] = Field(
        default_factory=lambda: list(DEFAULT_TYPES),
        description="EMA document types to keep; [] keeps all ~70,000",
    )


@register
class EmaDocuments(Adapter):
    """EMA documents (scientific guidelines by default) from EMA's JSON data file.

    Settings: ``types`` (default ``["scientific-guideline", "medicine-qa"]``; add e.g.
    ``"regulatory-procedural-guideline"`` or ``"other"``). See the
    ``sources.adapters.ema`` module docstring for the record fields.
    """

    kind: ClassVar[str] = "ema-documents"
    regulator: ClassVar[Regulator | None] = Regulator(
        short="EMA", en="European Medicines Agency", zh="欧洲药品管理局"
    )
    jurisdiction: ClassVar[str] = "EU"
    coverage: ClassVar[Coverage | FromSetting] = Coverage.COMPLETE
    Settings: ClassVar[type[SourceSettings]] = EmaDocumentsSettings
    default_base_url: ClassVar[str | None] = "https://www.ema.europa.eu"
    settings: EmaDocumentsSettings

    def collect(self, fetcher: Fetcher, known: Mapping[str, Record]) -> Listing:
        fetched = fetcher.get(self.base_url + DOCUMENTS_JSON_PATH, expect="json", conditional=True)
        if fetched.not_modified:
            return Listing.unchanged()
        result = parse_documents_json(fetched.body, self.base_url, self.settings.types)
        if result.skipped:
            log.warning(
                "%s: skipped %d documents without id, name or document_url",
                self.settings.name,
                result.skipped,
            )
        return Listing(records=result.records, coverage=Coverage.COMPLETE)
