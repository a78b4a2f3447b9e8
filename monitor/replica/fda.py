"""A replica of www.fda.gov: the guidance JSON catalogue and CBER's CGT page.

Serves, as docs/sources.md describes them:

- ``/files/api/datatables/static/search-for-guidance.json`` — every guidance
  as a JSON array of HTML-fragment values (escaped titles, ``MM/DD/YYYY``
  dates with the odd ``01/01/1900`` placeholder, ``open-comment`` padded with
  spaces, offices joined by ``<br><br>``, the PDF link often empty,
  ``changed`` as a ``<time datetime=…>``, topics comma-separated in
  ``topics-product`` and ``term_node_tid`` as a public scraper's copy of a real
  entry shows — ``"topics-product": "Egg/Egg Product, Retail Food Protection"``,
  ``"field_communication_type": "Small Entity Compliance Guide"``), with ``ETag`` and
  ``Last-Modified``, answering 304 to a matching conditional GET;
- ``/vaccines-blood-biologics/biologics-guidances/cellular-gene-therapy-guidances``
  — CBER's list, newest first. The markup is modelled on FDA's Drupal pages
  (header nav, breadcrumb, side nav, ``<main>`` holding an ``<article>`` with
  ``<li><a href=…>Title; Draft Guidance for Industry</a><br>M/YYYY<br>note</li>``);
  that exact markup is an assumption (unverified);
- landing pages ``/regulatory-information/search-fda-guidance-documents/<slug>``
  and the PDFs ``/media/<n>/download`` (real, text-extractable PDF bytes).

Blocked mode answers as Akamai does: ``302`` to
``/apology_objects/abuse-detection-apology.html``, which then 404s.

Timeline (each edit moves a clock one hour on): ``add_guidance``,
``finalise`` (FDA usually keeps the landing page and flips Draft to Final —
``keep_slug=True``, and the entry keeps the draft's ``field_comment_close_date``:
the worst case, unverified; sometimes a new page appears and the draft's disappears
— ``keep_slug=False``, modelled with Drupal's ``-0`` suffix when the title is
unchanged), ``revise`` (``changed`` moves, new PDF bytes at the same media
URL), ``withdraw`` (the record leaves the list, as FDA drops withdrawn
guidances), ``touch`` (only ``changed`` moves) and ``noise`` (padding,
whitespace and record order change: the parsed records stay identical).
"""

from __future__ import annotations

import hashlib
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
    CENTERS,
    FDA_CGT,
    FDA_OTHER,
    FDA_PRODUCT,
    fda_filler,
    pdf_bytes,
    slugify,
)
from monitor.replica.server import Request, Response

GUIDANCE_JSON = "/files/api/datatables/static/search-for-guidance.json"
CBER_CGT = "/vaccines-blood-biologics/biologics-guidances/cellular-gene-therapy-guidances"
LANDING = "/regulatory-information/search-fda-guidance-documents/"
APOLOGY = "/apology_objects/abuse-detection-apology.html"
_EASTERN = ZoneInfo("America/New_York")
_CGT_TOPIC = "Cellular & Gene Therapy Products"


def esc(text: str) -> str:
    """Escape as Drupal does (``'`` -> ``&#039;``)."""
    return html.escape(text).replace("&#x27;", "&#039;")


def us_date(value: date) -> str:
    return value.strftime("%m/%d/%Y")


@dataclass
class Guidance:
    """One FDA guidance as the replica holds it."""

    slug: str
    title: str
    status: str
    issued: str  # MM/DD/YYYY as served (may be a placeholder)
    center: str  # abbreviation of the lead centre
    offices: list[str]
    product: str
    topics: list[str]
    changed: datetime
    media_id: int
    docket: str = ""
    comment_close: date | None = None
    pdf_in_list: bool = True
    pdf_kb: float = 250.0
    pdf_version: int = 1
    cgt_label: str | None = None  # listed on CBER's CGT page with this label
    note: str = ""
    padding: int = 2
    body: list[str] = field(default_factory=list)


class FdaReplica(SiteReplica):
    """www.fda.gov's guidance catalogue, CBER CGT page, landing pages and PDFs."""

    kind = "fda-guidance"

    def __init__(self, *, size: int = 400, seed: int = 2026, today: date | None = None) -> None:
        self.today = today or date.today()
        self.clock = datetime.combine(self.today, time(9, 0), _EASTERN)
        self.rng = random.Random(seed)
        self.docs: dict[str, Guidance] = {}
        self.raw_extra: list[dict[str, Any]] = []  # entries served verbatim (tests)
        self._next_media = 60_000 + self.rng.randint(0, 999)
        self._cache: bytes | None = None
        self.modified = self.clock
        self._seed(size)

    # -- building ---------------------------------------------------------------

    def _media(self) -> int:
        self._next_media += self.rng.randint(3, 400)
        return self._next_media

    def _stamp(self, issued: date) -> datetime:
        moment = datetime.combine(issued, time(8, 0), _EASTERN)
        moment += timedelta(days=self.rng.randint(0, 400), minutes=self.rng.randint(0, 600))
        return min(moment, self.clock - timedelta(days=1))

    def _add(self, doc: Guidance) -> str:
        base, n = doc.slug, 0
        while doc.slug in self.docs:
            doc.slug = f"{base}-{n}"
            n += 1
        self.docs[doc.slug] = doc
        return doc.slug

    def _seed(self, size: int) -> None:
        rng = self.rng
        for title, status, issued, docket, label, note in FDA_CGT:
            day = date.fromisoformat(issued)
            self._add(
                Guidance(
                    slug=_slug(title),
                    title=title,
                    status=status,
                    issued=us_date(day),
                    center="CBER",
                    offices=["CBER"],
                    product="Biologics",
                    topics=["Biologics", _CGT_TOPIC],
                    changed=self._stamp(day),
                    media_id=self._media(),
                    docket=docket,
                    pdf_in_list=rng.random() < 0.7,
                    pdf_kb=rng.uniform(150, 900),
                    cgt_label=label,
                    note=note,
                    comment_close=day + timedelta(days=90) if status == "Draft" else None,
                )
            )
        for title, status, issued, center, others, product, topic in FDA_OTHER:
            day = date.fromisoformat(issued)
            self._add(
                Guidance(
                    slug=_slug(title),
                    title=title,
                    status=status,
                    issued=us_date(day),
                    center=center,
                    offices=[center, *others.split()],
                    product=product,
                    topics=[topic],
                    changed=self._stamp(day),
                    media_id=self._media(),
                    docket=f"FDA-{day.year - rng.randint(0, 2)}-D-{rng.randint(100, 5999):04d}",
                    pdf_in_list=rng.random() < 0.7,
                    pdf_kb=rng.uniform(80, 1200),
                    comment_close=day + timedelta(days=60) if status == "Draft" else None,
                )
            )
        filler = fda_filler(rng)
        while len(self.docs) < size:
            title, center, topic = next(filler)
            day = date(1995, 1, 1) + timedelta(days=rng.randint(0, (self.today.year - 1995) * 365))
            status = "Draft" if rng.random() < 0.2 else "Final"
            issued = "01/01/1900" if rng.random() < 0.01 else us_date(day)
            self._add(
                Guidance(
                    slug=_slug(title),
                    title=title,
                    status=status,
                    issued=issued,
                    center=center,
                    offices=[center],
                    product=FDA_PRODUCT[center],
                    topics=[topic],
                    changed=self._stamp(day),
                    media_id=self._media(),
                    docket=(
                        f"FDA-{day.year}-D-{rng.randint(100, 5999):04d}"
                        if rng.random() < 0.7
                        else ""
                    ),
                    pdf_in_list=rng.random() < 0.6,
                    pdf_kb=rng.uniform(60, 2500),
                    comment_close=day + timedelta(days=60) if status == "Draft" else None,
                )
            )

    # -- timeline -----------------------------------------------------------------

    def _edited(self) -> datetime:
        self.clock += timedelta(hours=1)
        self.modified = self.clock
        self._cache = None
        return self.clock

    def add_guidance(
        self,
        title: str,
        *,
        status: str = "Draft",
        center: str = "CBER",
        offices: tuple[str, ...] = (),
        product: str | None = None,
        topics: tuple[str, ...] = (),
        cgt_label: str | None = None,
        docket: str | None = None,
        comment_days: int = 90,
        pdf_in_list: bool = True,
        body: tuple[str, ...] = (),
    ) -> str:
        """Publish a guidance today; returns its slug. ``cgt_label`` lists it on
        CBER's CGT page (e.g. "Draft Guidance for Industry")."""
        stamp = self._edited()
        return self._add(
            Guidance(
                slug=_slug(title),
                title=title,
                status=status,
                issued=us_date(self.today),
                center=center,
                offices=[center, *offices],
                product=product or FDA_PRODUCT[center],
                topics=list(topics) or ([_CGT_TOPIC] if cgt_label else ["Guidance"]),
                changed=stamp,
                media_id=self._media(),
                docket=docket or f"FDA-{self.today.year}-D-{len(self.docs):04d}",
                comment_close=self.today + timedelta(days=comment_days)
                if status == "Draft"
                else None,
                pdf_in_list=pdf_in_list,
                cgt_label=cgt_label,
                body=list(body),
            )
        )

    def finalise(self, slug: str, *, keep_slug: bool = True, title: str | None = None) -> str:
        """Issue the final version of draft ``slug``; returns the final's slug."""
        draft = self.docs[slug]
        stamp = self._edited()
        note = (
            f"This guidance finalizes the draft guidance of the same title dated "
            f"{_month_name(draft.issued)}."
        )
        label = draft.cgt_label.replace("Draft ", "") if draft.cgt_label else None
        final_title = title or draft.title.replace("Draft ", "")
        if keep_slug:
            draft.title, draft.status, draft.issued = final_title, "Final", us_date(self.today)
            draft.changed = stamp  # the draft's comment close date stays (worst case)
            draft.pdf_version += 1
            draft.media_id, draft.cgt_label, draft.note = self._media(), label, note
            return slug
        del self.docs[slug]
        new_slug = _slug(final_title)
        return self._add(
            Guidance(
                slug=new_slug if new_slug != slug else f"{slug}-0",
                title=final_title,
                status="Final",
                issued=us_date(self.today),
                center=draft.center,
                offices=draft.offices,
                product=draft.product,
                topics=draft.topics,
                changed=stamp,
                media_id=self._media(),
                docket=draft.docket,
                cgt_label=label,
                note=note,
                body=draft.body,
            )
        )

    def revise(self, slug: str, *, line: str = "Revised: editorial corrections.") -> None:
        """A new PDF at the same URL and a new ``changed`` stamp."""
        doc = self.docs[slug]
        doc.changed, doc.pdf_version = self._edited(), doc.pdf_version + 1
        doc.body.append(line)

    def withdraw(self, slug: str) -> None:
        del self.docs[slug]
        self._edited()

    def touch(self, slug: str) -> None:
        """Only the record's ``changed`` stamp moves."""
        self.docs[slug].changed = self._edited()

    def noise(self) -> None:
        """Padding, whitespace and order change; nothing a reader would call a change."""
        for doc in self.docs.values():
            doc.padding = (doc.padding + 1) % 4
        items = list(self.docs.items())
        self.rng.shuffle(items)
        self.docs = dict(items)
        self._edited()

    # -- serving ------------------------------------------------------------------------

    def source_settings(self, base_url: str) -> dict[str, Any]:
        return {"name": "fda-guidance", "kind": "fda-guidance", "base_url": base_url}

    def cber_source_settings(self, base_url: str) -> dict[str, Any]:
        return {"name": "fda-cber-cgt", "kind": "fda-cber-cgt", "base_url": base_url}

    def blocked_response(self, request: Request) -> Response:
        if request.path == APOLOGY:
            return _not_found()
        return Response(
            status=302,
            body=b"",
            headers={"Location": request.base + APOLOGY},
            content_type="text/html",
        )

    def serve(self, request: Request) -> Response:
        path = request.path
        if path == GUIDANCE_JSON:
            return self._json(request)
        if path == CBER_CGT:
            return Response(body=self.cber_page())
        if path.startswith(LANDING) and path[len(LANDING) :] in self.docs:
            return Response(body=self._landing(self.docs[path[len(LANDING) :]]))
        if path.startswith("/media/") and path.endswith("/download"):
            for doc in self.docs.values():
                if path == f"/media/{doc.media_id}/download":
                    return self._pdf(doc)
        return _not_found()

    def json_bytes(self) -> bytes:
        """The catalogue file as served (cached until the next edit)."""
        if self.mode == "empty":
            return b"[]"
        if self._cache is None:
            rows = [self.entry(doc) for doc in self.docs.values()] + self.raw_extra
            self._cache = json.dumps(rows, ensure_ascii=False, indent=None).encode("utf-8")
        return self._cache

    def entry(self, doc: Guidance) -> dict[str, Any]:
        pad = " " * doc.padding
        open_comment = (
            "Yes"
            if doc.status == "Draft" and doc.comment_close and doc.comment_close >= self.today
            else "No"
        )
        media = ""
        if doc.pdf_in_list:
            media = (
                f'<a href="/media/{doc.media_id}/download">PDF ({doc.pdf_kb:.2f} KB)'
                f'<span class="sr-only">{esc(doc.title)}</span></a>'
            )
        docket = ""
        if doc.docket:
            docket = f'<a href="https://www.regulations.gov/docket/{doc.docket}">{doc.docket}</a>'
        stamp = doc.changed
        return {
            "title": f'<a href="{LANDING}{doc.slug}">{esc(doc.title)}</a>',
            "field_associated_media_2": media,
            "field_issue_datetime": doc.issued,
            "field_issuing_office_taxonomy": "<br><br>".join(CENTERS[o] for o in doc.offices),
            "field_final_guidance_1": doc.status,
            "open-comment": f"{pad}{open_comment} ",
            "field_comment_close_date": us_date(doc.comment_close) if doc.comment_close else "",
            "field_docket_number": docket,
            "field_communication_type": "Guidance Document",
            "field_center": CENTERS[doc.center],
            "field_regulated_product_field": esc(doc.product),
            "term_node_tid": ", ".join(esc(t) for t in doc.topics),
            "topics-product": ", ".join(esc(t) for t in doc.topics),
            "changed": (
                f'<time datetime="{stamp.isoformat(timespec="seconds")}">'
                f"{stamp.strftime('%Y-%m-%d %H:%M')}</time>\n"
            ),
        }

    def _json(self, request: Request) -> Response:
        body = self.json_bytes()
        etag = '"' + hashlib.sha1(body).hexdigest()[:16] + '"'
        modified = self.modified.replace(microsecond=0)
        headers = {
            "ETag": etag,
            "Last-Modified": format_datetime(modified.astimezone(UTC), usegmt=True),
        }
        if request.header("If-None-Match") == etag or _not_modified_since(request, modified):
            return Response(status=304, headers=headers)
        return Response(body=body, headers=headers, content_type="application/json")

    def cber_page(self) -> str:
        cgt = [d for d in self.docs.values() if d.cgt_label]
        cgt.sort(key=lambda d: (_issued_key(d.issued), d.title), reverse=True)
        items = []
        for doc in cgt:
            month = _month(doc.issued)
            note = f"<br>{esc(doc.note)}" if doc.note else ""
            items.append(
                f'<li><a href="{LANDING}{doc.slug}">{esc(doc.title)}; {doc.cgt_label}'
                f"</a><br>{month}{note}</li>"
            )
        listing = (
            "<ul>\n" + "\n".join(items) + "\n</ul>"
            if self.mode != "empty"
            else ("<p>This page is being updated.</p>")
        )
        return _CBER_PAGE.format(listing=listing, current=us_date(self.modified.date()))

    def _landing(self, doc: Guidance) -> str:
        return (
            f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>'
            f'{esc(doc.title)} | FDA</title></head><body><main role="main"><article>'
            f'<h1 class="content-title">{esc(doc.title)}</h1><dl><dt>Docket Number:</dt>'
            f"<dd>{doc.docket}</dd><dt>Issued by:</dt><dd>"
            f"{'; '.join(CENTERS[o] for o in doc.offices)}</dd></dl><p>{doc.status} guidance, "
            f'issued {doc.issued}</p><a href="/media/{doc.media_id}/download">Download the '
            f"{doc.status} Guidance Document</a></article></main></body></html>"
        )

    def pdf(self, doc: Guidance) -> bytes:
        lines = [
            f"{doc.status} Guidance for Industry",
            f"Issued: {doc.issued}",
            f"{CENTERS[doc.center]}",
            f"Docket: {doc.docket or 'none'}",
            (
                f"This guidance represents the current thinking of the Food and Drug Administration "
                f"on {doc.title}."
            ),
            *doc.body,
            f"Version {doc.pdf_version}",
        ]
        return pdf_bytes(doc.title, lines)

    def _pdf(self, doc: Guidance) -> Response:
        return Response(
            body=self.pdf(doc),
            content_type="application/pdf",
            headers={"Content-Disposition": f'attachment; filename="{doc.slug[:60]}.pdf"'},
        )


def _not_modified_since(request: Request, modified: datetime) -> bool:
    since = request.header("If-Modified-Since")
    if not since or request.header("If-None-Match"):
        return False
    try:
        return modified <= parsedate_to_datetime(since)
    except (TypeError, ValueError):
        return False


def _slug(title: str) -> str:
    return slugify(title, drop_stopwords=True)


def _issued_key(issued: str) -> str:
    month, day, year = issued.split("/")
    return f"{year}{month}{day}"


def _month(issued: str) -> str:
    month, _, year = issued.split("/")
    return f"{int(month)}/{year}"


def _month_name(issued: str) -> str:
    month, _, year = issued.split("/")
    return f"{date(2000, int(month), 1).strftime('%B')} {year}"


def _not_found() -> Response:
    return Response(status=404, body="<html><body><h1>Page Not Found</h1></body></html>")


_CBER_PAGE = """<!DOCTYPE html>
<html lang="en" dir="ltr"><head><meta charset="utf-8">
<title>Cellular &amp; Gene Therapy Guidances | FDA</title></head>
<body class="path-node page-node-type-article">
<a href="#main-content" class="sr-only">Skip to main content</a>
<header class="lcds-header"><nav class="lcds-nav"><ul>
<li><a href="/food">Food</a></li><li><a href="/drugs">Drugs</a></li>
<li><a href="/medical-devices">Medical Devices</a></li>
<li><a href="/vaccines-blood-biologics">Vaccines, Blood &amp; Biologics</a></li>
</ul></nav></header>
<main role="main" id="main-content" class="main-content">
<div class="container">
<nav class="lcds-breadcrumb"><ol><li><a href="/">Home</a></li>
<li><a href="/vaccines-blood-biologics">Vaccines, Blood &amp; Biologics</a></li>
<li><a href="/vaccines-blood-biologics/biologics-guidances">Biologics Guidances</a></li>
<li>Cellular &amp; Gene Therapy Guidances</li></ol></nav>
<div class="row">
<aside class="col-md-3 lcds-sidebar"><ul class="lcds-side-nav">
<li><a href="/vaccines-blood-biologics/biologics-guidances/blood-guidances">Blood Guidances</a></li>
<li><a href="/vaccines-blood-biologics/biologics-guidances/cellular-gene-therapy-guidances">
Cellular &amp; Gene Therapy Guidances</a></li>
<li><a href="/vaccines-blood-biologics/biologics-guidances/vaccine-guidances">
Vaccine Guidances</a></li>
</ul></aside>
<article class="col-md-9 article" role="article">
<header class="row content-header">
<h1 class="content-title text-center">Cellular &amp; Gene Therapy Guidances</h1></header>
<div class="inset-column">
<p>The following list includes guidance documents on cellular and gene therapy products
issued by the Center for Biologics Evaluation and Research (CBER), newest first.</p>
{listing}
<div class="lcds-metadata"><ul><li>Content current as of: <time>{current}</time></li>
<li>Regulated Product(s): <a href="/vaccines-blood-biologics">Biologics</a></li></ul></div>
</div></article></div></div></main>
<footer class="lcds-footer"><ul>
<li><a href="/about-fda/about-website/website-policies">Website Policies</a></li>
<li><a href="/about-fda/about-website/fda-archive">FDA Archive</a></li></ul></footer>
</body></html>
"""
