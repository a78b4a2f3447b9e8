"""A replica of www.ema.europa.eu: the documents data file, RSS feeds, PDFs.

Serves, as docs/sources.md describes them:

- ``/en/documents/report/documents-output-json-report_en.json`` —
  ``{"meta": {"total_records", "timestamp"}, "data": [...]}`` with the real
  field names (``id, name, type, status, consultation_date,
  first_published_date, last_updated_date, reference_number,
  document_url``), ISO-8601 UTC stamps (mostly local midnight, so
  ``22:00:00Z``/``23:00:00Z`` of the day before, some ``01:00:00Z`` as in
  the saved sample), ``Last-Modified`` and a 304 to ``If-Modified-Since``.
  ``size`` documents (default 5,000, of which ~300 scientific guidelines;
  ``size=70_000`` gives the real file's scale, ~2,900 guidelines).
  Draft PDFs have a ``draft-`` slug. The ``consultation_date`` form
  ``"DD/MM/YYYY - DD/MM/YYYY"`` is an assumption (unverified).
- RSS 2.0 feeds ``/en/scientific-guidelines.xml``,
  ``/en/public-consultations.xml``, ``/en/agendas-and-minutes.xml`` (CAT
  agendas and minutes) and ``/en/whats-new.xml``, in Drupal's shape
  (``<guid isPermaLink="false">N at https://…</guid>``; unverified details).
- guideline landing pages ``/en/<slug>-scientific-guideline`` and the PDFs.

Blocked mode: 403 "Access Denied". Empty mode: the file's ``data`` is ``[]``
and the feeds have no items.

Timeline: ``add_document`` (a draft out for consultation by default),
``close_consultation``, ``adopt`` (a new document, status Adopted, no
``draft-`` slug; the draft stays listed as "Draft: consultation closed" —
unverified), ``revise`` (last_updated moves, new PDF bytes), ``withdraw``
(status "Withdrawn"), ``refresh`` (the twice-daily regeneration:
``Last-Modified`` and ``meta.timestamp`` move, nothing else).
"""

from __future__ import annotations

import html
import json
import random
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from email.utils import format_datetime, parsedate_to_datetime
from typing import Any
from zoneinfo import ZoneInfo

from monitor.replica.base import SiteReplica
from monitor.replica.data_west import (
    EMA_CGT,
    EMA_OTHER,
    ema_guideline_filler,
    ema_other_filler,
    pdf_bytes,
    slugify,
)
from monitor.replica.server import Request, Response

DOCUMENTS_JSON = "/en/documents/report/documents-output-json-report_en.json"
FEEDS = {
    "/en/scientific-guidelines.xml": "Scientific guidelines",
    "/en/public-consultations.xml": "Public consultations",
    "/en/agendas-and-minutes.xml": "Agendas and minutes",
    "/en/whats-new.xml": "What's new",
}
_AMSTERDAM = ZoneInfo("Europe/Amsterdam")
SCI = "scientific-guideline"
QA = "medicine-qa"  # where EMA files questions-and-answers documents
# Q&A documents of type medicine-qa, modelled on EMA's (titles and dates unverified)
EMA_QA: list[tuple[str, str, str]] = [
    (
        "Questions and answers on the use of out-of-specification batches of authorised "
        "cell/tissue-based advanced therapy medicinal products",
        "2019-05-20",
        "EMA/CAT/224390/2019",
    ),
    (
        "Questions and answers: comparability considerations for advanced therapy medicinal "
        "products (ATMP)",
        "2024-03-28",
        "EMA/CAT/499821/2019",
    ),
    (
        "Questions and answers on biosimilar medicines (similar biological medicinal products)",
        "2012-09-27",
        "EMA/837805/2011",
    ),
]


@dataclass
class EmaDocument:
    id: str
    name: str
    type: str
    status: str
    first_published: datetime
    last_updated: datetime
    reference_number: str = ""
    consultation_date: str = ""
    pdf_version: int = 1
    body: list[str] = field(default_factory=list)

    @property
    def slug(self) -> str:
        slug = slugify(self.name, drop_stopwords=True)
        if self.status.startswith("Draft") and not slug.startswith(("draft-", "concept-paper")):
            slug = "draft-" + slug
        return slug


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(0, 0), _AMSTERDAM)


def _dmy(day: date) -> str:
    return day.strftime("%d/%m/%Y")


class EmaReplica(SiteReplica):
    """EMA's documents JSON file, its RSS feeds, landing pages and PDFs."""

    kind = "ema-documents"

    def __init__(self, *, size: int = 5000, seed: int = 1995, today: date | None = None) -> None:
        self.today = today or date.today()
        self.clock = datetime.combine(self.today, time(5, 45), UTC)
        self.rng = random.Random(seed)
        self.docs: dict[str, EmaDocument] = {}
        self._next_id = 1000
        self._names: dict[tuple[str, str], int] = {}
        self._cache: tuple[str, str, bytes] | None = None
        self._seed(size)

    # -- data ---------------------------------------------------------------------

    def _id(self) -> str:
        self._next_id += self.rng.randint(1, 25)
        return str(self._next_id)

    def _published(self, day: date) -> datetime:
        if self.rng.random() < 0.2:  # the saved sample's 01:00Z form
            return datetime.combine(day, time(1, 0), UTC)
        return _midnight(day)

    def _put(
        self,
        name: str,
        kind: str,
        status: str,
        day: date,
        reference: str = "",
        consultation: str = "",
    ) -> str:
        seen = self._names.get((kind, name), 0)
        self._names[(kind, name)] = seen + 1
        if seen:  # keep names (and so PDF URLs) unique
            name = f"{name} - Rev. {seen + 1}"
        first = self._published(day)
        updated = (
            first if self.rng.random() < 0.7 else first + timedelta(days=self.rng.randint(1, 900))
        )
        updated = min(updated, self.clock - timedelta(hours=6))
        doc = EmaDocument(self._id(), name, kind, status, first, updated, reference, consultation)
        self.docs[doc.id] = doc
        return doc.id

    def _seed(self, size: int) -> None:
        rng = self.rng
        for name, status, issued, ref in EMA_CGT + EMA_OTHER:
            first = date.fromisoformat(issued)
            consultation = ""
            if status.startswith("Draft"):
                consultation = f"{_dmy(first)} - {_dmy(first + timedelta(days=92))}"
            self._put(name, SCI, status, first, ref, consultation)
        n_sci = max(len(self.docs), 100 + int(size * 0.04))
        guidelines, others = ema_guideline_filler(rng), ema_other_filler(rng)
        while len(self.docs) < size:
            day = date(1995, 1, 1) + timedelta(days=rng.randint(0, (self.today.year - 1995) * 365))
            day = min(day, self.today - timedelta(days=1))
            committee = rng.choice(["CHMP", "CAT", "CVMP", "PRAC"])
            number = rng.randint(10000, 999999)
            if len(self.docs) < n_sci:
                status = rng.choices(
                    ["Adopted", "Draft: consultation closed", "Draft: consultation open"],
                    [0.9, 0.08, 0.02],
                )[0]
                consultation = ""
                if status.startswith("Draft"):
                    if status.endswith("open"):
                        day = self.today - timedelta(days=rng.randint(1, 60))
                    consultation = f"{_dmy(day)} - {_dmy(day + timedelta(days=92))}"
                ref = f"EMA/{committee}/{number}/{day.year}"
                self._put(next(guidelines), SCI, status, day, ref, consultation)
            else:
                kind, name = next(others)
                ref = f"EMA/{committee}/{number}/{day.year}" if rng.random() < 0.5 else ""
                self._put(name, kind, "", day, ref)
        for name, issued, ref in EMA_QA:  # after the filler: the seeded stream stays the same
            self._put(name, QA, "", date.fromisoformat(issued), ref)

    # -- timeline ---------------------------------------------------------------------

    def _edited(self) -> datetime:
        self.clock += timedelta(hours=1)
        self._cache = None
        return self.clock

    def add_document(
        self,
        name: str,
        *,
        type: str = SCI,
        status: str = "Draft: consultation open",
        consultation_days: int = 92,
        reference: str = "",
        body: tuple[str, ...] = (),
    ) -> str:
        """Publish a document today (a draft out for consultation by default)."""
        stamp = self._edited()
        consultation = ""
        if status.startswith("Draft"):
            consultation = f"{_dmy(self.today)} - {_dmy(self.today + timedelta(consultation_days))}"
        reference = reference or f"EMA/CAT/{self.rng.randint(10000, 99999)}/{self.today.year}"
        doc = EmaDocument(
            self._id(),
            name,
            type,
            status,
            _midnight(self.today),
            stamp,
            reference,
            consultation,
            body=list(body),
        )
        self.docs[doc.id] = doc
        return doc.id

    def close_consultation(self, doc_id: str) -> None:
        self.docs[doc_id].status = "Draft: consultation closed"
        self.docs[doc_id].last_updated = self._edited()

    def adopt(self, doc_id: str, *, name: str | None = None) -> str:
        """The adopted guideline: a new document; the draft stays, consultation closed."""
        draft = self.docs[doc_id]
        draft.status = "Draft: consultation closed"
        stamp = self._edited()
        final = EmaDocument(
            self._id(),
            name or draft.name,
            draft.type,
            "Adopted",
            _midnight(self.today),
            stamp,
            f"{draft.reference_number} Rev. 1",
            body=list(draft.body),
        )
        self.docs[final.id] = final
        return final.id

    def revise(self, doc_id: str, *, line: str = "Revision: corrected references.") -> None:
        doc = self.docs[doc_id]
        doc.last_updated, doc.pdf_version = self._edited(), doc.pdf_version + 1
        doc.body.append(line)

    def withdraw(self, doc_id: str) -> None:
        self.docs[doc_id].status = "Withdrawn"
        self.docs[doc_id].last_updated = self._edited()

    def refresh(self) -> None:
        """EMA's twice-daily export: new Last-Modified and meta timestamp, same data."""
        self._edited()

    # -- serving ------------------------------------------------------------------------

    def source_settings(self, base_url: str) -> dict[str, Any]:
        return {"name": "ema-documents", "kind": "ema-documents", "base_url": base_url}

    def blocked_response(self, request: Request) -> Response:
        return Response(
            status=403,
            body="<html><head><title>Access Denied</title></head><body>"
            "<h1>Access Denied</h1>You don't have permission to access "
            f'"{html.escape(request.path)}" on this server.<p>Reference '
            "#18.8f2e1402.1764090000.1d2c3b4a</p></body></html>",
        )

    def serve(self, request: Request) -> Response:
        path = request.path
        if path == DOCUMENTS_JSON:
            return self._documents(request)
        if path in FEEDS:
            return Response(
                body=self.feed(path, request.base),
                content_type="application/rss+xml; charset=utf-8",
            )
        if path.startswith("/en/documents/") and path.endswith("_en.pdf"):
            for doc in self.docs.values():
                if path == f"/en/documents/{doc.type}/{doc.slug}_en.pdf":
                    return Response(body=self.pdf(doc), content_type="application/pdf")
        if path.endswith("-scientific-guideline"):
            slug = path[len("/en/") : -len("-scientific-guideline")]
            for doc in self.docs.values():
                if doc.type == SCI and doc.slug == slug:
                    return Response(body=self._landing(doc, request.base))
        return Response(status=404, body="<html><body><h1>Page not found</h1></body></html>")

    def document_url(self, doc: EmaDocument, base: str) -> str:
        return f"{base}/en/documents/{doc.type}/{doc.slug}_en.pdf"

    def json_bytes(self, base: str) -> bytes:
        if self._cache is None or self._cache[:2] != (base, self.mode):
            data = (
                []
                if self.mode == "empty"
                else [
                    {
                        "id": doc.id,
                        "name": doc.name,
                        "type": doc.type,
                        "status": doc.status,
                        "consultation_date": doc.consultation_date,
                        "first_published_date": _stamp(doc.first_published),
                        "last_updated_date": _stamp(doc.last_updated),
                        "reference_number": doc.reference_number,
                        "document_url": self.document_url(doc, base),
                    }
                    for doc in self.docs.values()
                ]
            )
            meta = {"total_records": len(data), "timestamp": _stamp(self.clock)}
            body = json.dumps({"meta": meta, "data": data}, ensure_ascii=False).encode("utf-8")
            self._cache = (base, self.mode, body)
        return self._cache[2]

    def _documents(self, request: Request) -> Response:
        modified = self.clock.replace(microsecond=0)
        headers = {"Last-Modified": format_datetime(modified, usegmt=True)}
        since = request.header("If-Modified-Since")
        if since:
            try:
                if modified <= parsedate_to_datetime(since):
                    return Response(status=304, headers=headers)
            except (TypeError, ValueError):
                pass
        return Response(
            body=self.json_bytes(request.base), headers=headers, content_type="application/json"
        )

    def feed(self, path: str, base: str) -> str:
        docs = list(self.docs.values())
        if path == "/en/scientific-guidelines.xml":
            docs = [d for d in docs if d.type == SCI]
        elif path == "/en/public-consultations.xml":
            docs = [d for d in docs if d.status == "Draft: consultation open"]
        elif path == "/en/agendas-and-minutes.xml":
            docs = [d for d in docs if d.type in ("agenda", "minutes") and "CAT" in d.name]
        docs.sort(key=lambda d: (d.last_updated, int(d.id)), reverse=True)
        items = [] if self.mode == "empty" else [self._item(d, base) for d in docs[:30]]
        return (
            '<?xml version="1.0" encoding="utf-8"?>\n'
            '<rss version="2.0" xml:base="' + base + '/en" '
            'xmlns:dc="http://purl.org/dc/elements/1.1/">\n<channel>\n'
            f"<title>{html.escape(FEEDS[path])} | European Medicines Agency (EMA)</title>\n"
            f"<link>{base}/en</link>\n<description>{html.escape(FEEDS[path])}</description>\n"
            f"<language>en</language>\n" + "".join(items) + "</channel>\n</rss>\n"
        )

    def _item(self, doc: EmaDocument, base: str) -> str:
        link = (
            f"{base}/en/{doc.slug}-scientific-guideline"
            if doc.type == SCI
            else self.document_url(doc, base)
        )
        parts = [
            p
            for p in (
                doc.status,
                doc.reference_number,
                doc.consultation_date and f"Consultation: {doc.consultation_date}",
            )
            if p
        ]
        description = html.escape(f"<p>{' · '.join(parts)}</p>")
        pub = format_datetime(doc.last_updated.astimezone(_AMSTERDAM))
        return (
            f"<item>\n<title>{html.escape(doc.name)}</title>\n<link>{link}</link>\n"
            f"<description>{description}</description>\n<pubDate>{pub}</pubDate>\n"
            f"<dc:creator>European Medicines Agency</dc:creator>\n"
            f'<guid isPermaLink="false">{doc.id} at {base}</guid>\n</item>\n'
        )

    def _landing(self, doc: EmaDocument, base: str) -> str:
        first = doc.first_published.astimezone(_AMSTERDAM).strftime("%d/%m/%Y")
        updated = doc.last_updated.astimezone(_AMSTERDAM).strftime("%d/%m/%Y")
        return (
            f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>'
            f"{html.escape(doc.name)} | European Medicines Agency (EMA)</title></head><body>"
            f"<main><h1>{html.escape(doc.name)} - Scientific guideline</h1><ul><li>"
            f'<a href="{self.document_url(doc, base)}">{html.escape(doc.name)}</a> '
            f"(PDF/{len(self.pdf(doc)) / 1024:.2f} KB) · {doc.status} · First published: "
            f"{first} · Last updated: {updated} · {doc.reference_number}</li></ul></main>"
            f"</body></html>"
        )

    def pdf(self, doc: EmaDocument) -> bytes:
        lines = [
            doc.reference_number,
            doc.status,
            f"This document concerns {doc.name.lower()}.",
            *doc.body,
            f"Version {doc.pdf_version}",
        ]
        return pdf_bytes(doc.name, lines)
