"""Replicas of the issue-15 presets on GOV.UK (the MHRA), Health Canada and
the TGA (base classes and the other presets: ``monitor.replica.presets``).

Public evidence, and what stays unverified:

- **MHRA** on GOV.UK: the organisation Atom feed and a search (finder) feed.
  GOV.UK's publishing code (alphagov/whitehall ``FeedHelper``) gives the
  organisation feed's entries a stable id (``tag:www.gov.uk,2005:…``),
  ``published`` / ``updated`` and a ``category`` (the display type). The
  ``/search/<finder>.atom`` feeds are built by alphagov/finder-frontend
  (``app/views/finders/show.atom.builder`` and ``EntryPresenter#tag``): an
  entry's id is ``tag:www.gov.uk,2005:<base path>`` (the Rails ``atom_feed``
  default schema date 2005), so it depends on the document's path only and
  stays the same across re-sorts and updates; the entry has ``updated`` (the
  document's ``public_timestamp``) and no ``published``, so with
  ``order=updated-newest`` an updated document jumps to the top with a new
  date under the same id (modelled: ``MhraReplica.update``), and old ones
  fall off the end of the window. GOV.UK's robots.txt (``User-agent: *`` /
  ``Disallow: /search/all*``, as quoted live by several public projects)
  forbids ``/search/all.atom``, so the preset reads the
  ``/search/guidance-and-regulation.atom`` finder, which robots.txt allows.
  The replica serves that robots.txt (``GOVUK_ROBOTS``: the text public site
  audits quote as fetched live, its ``*`` group and two others), so the
  fetcher's robots.txt handling runs against it in every MHRA test.
  The finder's page size in the feed is unverified (20 here).
- **Health Canada**: the "Guidance documents" page under
  ``…/biologics-radiopharmaceuticals-genetic-therapies/``, items
  "Title [2024-04-29]" (from the issue); the WET markup (``<main>`` with
  ``<ul><li><a>``) is unverified.
- **TGA**: Drupal RSS 2.0 feeds ``/feeds/article.xml``, ``/feeds/alert.xml``,
  ``/feeds/publication/publications.xml`` (public configs list these URLs);
  the ``guid`` form ("<nid> at https://www.tga.gov.au") is Drupal's default,
  unverified for TGA.
"""

from __future__ import annotations

import zlib
from dataclasses import replace
from datetime import date, timedelta
from html import escape

from monitor.replica.presets import Item, PresetReplica
from monitor.replica.server import Request, Response

__all__ = ["GOVUK_ROBOTS", "HealthCanadaReplica", "MhraReplica", "TgaReplica"]


def _rfc822(day: date) -> str:
    return day.strftime("%a, %d %b %Y 09:00:00 +1000")


GOVUK_ROBOTS = """User-agent: *
Disallow: /*/print$
# Don't allow indexing of site search
Disallow: /search/all*
Sitemap: https://www.gov.uk/sitemap.xml

User-agent: meta-externalagent
Disallow: /search/all*

User-agent: AhrefsBot
Crawl-delay: 10

User-agent: deepcrawl
Disallow: /
"""


class MhraReplica(PresetReplica):
    """GOV.UK's Atom feeds for the MHRA (organisation feed and a search feed)
    and GOV.UK's robots.txt."""

    preset = "mhra"
    ORG = "/government/organisations/medicines-and-healthcare-products-regulatory-agency.atom"
    SEARCH = "/search/guidance-and-regulation.atom"
    WINDOW = 20  # entries a finder feed shows (unverified)

    def seed(self) -> None:
        t = self.today
        items = [
            Item(
                "/government/publications/guidance-on-the-regulation-of-advanced-therapy-"
                "medicinal-products",
                "Advanced therapy medicinal products: regulation and licensing",
                t - timedelta(days=2),
                "Guidance",
                self._ident("atmp"),
            ),
            Item(
                "/government/consultations/point-of-care-manufacturing",
                "Consultation on point of care manufacturing",
                t - timedelta(days=8),
                "Consultation outcome",
                self._ident("poc"),
            ),
            Item(
                "/drug-safety-update/november-2026",
                "Drug Safety Update: November 2026",
                t - timedelta(days=12),
                "Drug Safety Update",
                self._ident("dsu"),
            ),
        ]
        self.lists[self.ORG] = list(items)
        self.lists[self.SEARCH] = [replace(i) for i in items]  # updated on their own

    def serve(self, request: Request) -> Response:
        if request.path == "/robots.txt":
            return Response(body=GOVUK_ROBOTS, content_type="text/plain; charset=utf-8")
        return super().serve(request)

    def _ident(self, path: str) -> str:
        return f"tag:www.gov.uk,2005:Document/{zlib.crc32(path.encode()) % 900_000 + 100_000}"

    def render(self, request: Request, items: list[Item] | None) -> Response:
        if items is None:  # GOV.UK's "no results" feed has no entries; a page moved: HTML
            return Response(body="<!DOCTYPE html><html><body><h1>Page not found</h1></body></html>")
        base = request.base
        if request.path == self.SEARCH:
            return self._finder_feed(request, items)
        entries = "".join(
            f"<entry><id>{i.ident}</id><published>{i.day.isoformat()}T09:30:00+00:00</published>"
            f"<updated>{i.day.isoformat()}T09:30:00+00:00</updated>"
            f'<link rel="alternate" type="text/html" href="{base}{i.path}"/>'
            f'<title>{escape(i.title)}</title><category term="{escape(i.summary)}"/>'
            f'<summary type="html">{escape(i.title)}</summary></entry>'
            for i in items
        )
        stamp = (self.today + timedelta(minutes=self.stamp)).isoformat()
        body = (
            '<?xml version="1.0" encoding="UTF-8"?><feed xmlns="http://www.w3.org/2005/Atom" '
            'xml:lang="en-GB"><id>tag:www.gov.uk,2005:/mhra</id>'
            f'<link rel="self" type="application/atom+xml" href="{base}{request.path}"/>'
            "<title>Medicines and Healthcare products Regulatory Agency - Activity on GOV.UK"
            f"</title><updated>{stamp}T00:00:00+00:00</updated>"
            f"<author><name>HM Government</name></author>{entries}</feed>"
        )
        return Response(body=body, content_type="application/atom+xml; charset=utf-8")

    def update(self, path: str) -> None:
        """A public update of the document at ``path`` today: the finder feed
        re-sorts it to the top with a new ``updated``, under the same id."""
        for items in self.lists.values():
            for item in items:
                if item.path == path:
                    item.day = self.today

    def _finder_feed(self, request: Request, items: list[Item]) -> Response:
        """finder-frontend's Atom: id from the path, ``updated`` only, newest updated first."""
        base = request.base
        ordered = sorted(items, key=lambda i: i.day, reverse=True)[: self.WINDOW]
        entries = "".join(
            f"<entry><id>tag:www.gov.uk,2005:{escape(i.path)}</id>"
            f"<updated>{i.day.isoformat()}T09:30:00+00:00</updated>"
            f'<link rel="alternate" type="text/html" href="{base}{i.path}"/>'
            f'<title>{escape(i.title)}</title><summary type="html">{escape(i.title)}</summary>'
            "</entry>"
            for i in ordered
        )
        stamp = (self.today + timedelta(minutes=self.stamp)).isoformat()
        body = (
            '<?xml version="1.0" encoding="UTF-8"?><feed xmlns="http://www.w3.org/2005/Atom" '
            'xml:lang="en">'
            f"<id>tag:www.gov.uk,2005:{self.SEARCH.removesuffix('.atom')}</id>"
            f'<link rel="self" type="application/atom+xml" href="{base}{request.path}"/>'
            "<title>Guidance and regulation from Medicines and Healthcare products Regulatory "
            f"Agency</title><updated>{stamp}T00:00:00+00:00</updated>"
            f"<author><name>HM Government</name></author>{entries}</feed>"
        )
        return Response(body=body, content_type="application/atom+xml; charset=utf-8")


class HealthCanadaReplica(PresetReplica):
    """canada.ca's guidance-documents page for biologics and cell & gene therapies."""

    preset = "health-canada-cgt-guidance"
    PAGE = (
        "/en/health-canada/services/drugs-health-products/biologics-radiopharmaceuticals-"
        "genetic-therapies/applications-submissions/guidance-documents.html"
    )

    def seed(self) -> None:
        root = self.PAGE.rsplit("/", 1)[0]
        self.lists[self.PAGE] = [
            Item(
                f"{root}/guidance-documents/cell-gene-therapy-quality.html",
                "Guidance document: Quality (chemistry and manufacturing) requirements for "
                "cell and gene therapy products",
                date(2024, 4, 29),
            ),
            Item(
                f"{root}/guidance-documents/clinical-trial-applications-biologics.html",
                "Guidance document: Preparation of clinical trial applications for biologics",
                date(2023, 11, 14),
            ),
            Item(
                f"{root}/guidance-documents/radiopharmaceuticals.html",
                "Guidance document: Radiopharmaceuticals",
                date(2022, 6, 1),
            ),
        ]

    def render(self, request: Request, items: list[Item] | None) -> Response:
        lis = "".join(
            f'<li><a href="{i.path}">{escape(i.title)}</a> [{i.day.isoformat()}]</li>'
            for i in items or []
        )
        main = f"<ul>{lis}</ul>" if items is not None else "<p>This page has moved.</p>"
        return Response(
            body=(
                '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Guidance '
                "documents: Biologics, radiopharmaceuticals and genetic therapies - Canada.ca"
                '</title></head><body><nav><ul><li><a href="/en.html">Canada.ca</a></li></ul></nav>'
                '<main property="mainContentOfPage"><h1>Guidance documents</h1>'
                f'{main}<dl id="wb-dtmd"><dt>Date modified:</dt><dd>2026-10-{1 + self.stamp % 28:02d}'
                "</dd></dl></main></body></html>"
            )
        )


class TgaReplica(PresetReplica):
    """TGA's Drupal RSS 2.0 feeds."""

    preset = "tga-publications"

    def seed(self) -> None:
        t = self.today
        self.lists["/feeds/publication/publications.xml"] = [
            Item(
                "/resources/guidance/australian-regulatory-guidelines-biologicals-argb",
                "Australian regulatory guidelines for biologicals (ARGB)",
                t - timedelta(days=3),
                "Guidance on the regulation of biologicals, including cell and gene therapies.",
                "1201",
            ),
            Item(
                "/resources/publication/consultations/regulation-gene-therapies",
                "Consultation: regulation of gene therapies",
                t - timedelta(days=20),
                "Closed consultation.",
                "1188",
            ),
        ]
        self.lists["/feeds/article.xml"] = [
            Item(
                "/news/news/tga-approves-first-car-t-for-solid-tumour",
                "TGA provisionally registers a CAR-T cell therapy",
                t - timedelta(days=1),
                "News article.",
                "1210",
            ),
        ]
        self.lists["/feeds/alert.xml"] = [
            Item(
                "/safety/safety-monitoring-and-information/safety-alerts/sample-alert",
                "Safety alert: sample product",
                t - timedelta(days=4),
                "Alert.",
                "1199",
            ),
        ]

    def render(self, request: Request, items: list[Item] | None) -> Response:
        if items is None:
            return Response(body="<!DOCTYPE html><html><body><h1>Page not found</h1></body></html>")
        base = request.base
        entries = "".join(
            f"<item><title>{escape(i.title)}</title><link>{base}{i.path}</link>"
            f"<description>{escape(i.summary)}</description><pubDate>{_rfc822(i.day)}</pubDate>"
            f'<guid isPermaLink="false">{i.ident} at {base}</guid></item>'
            for i in items
        )
        body = (
            '<?xml version="1.0" encoding="utf-8"?><rss version="2.0" xml:base="'
            f'{base}/"><channel><title>Therapeutic Goods Administration (TGA)</title>'
            f"<link>{base}/</link><description>build {self.stamp}</description>"
            f"<language>en</language>{entries}</channel></rss>"
        )
        return Response(body=body, content_type="application/rss+xml; charset=utf-8")

    def _ident(self, path: str) -> str:
        return str(1300 + sum(len(v) for v in self.lists.values()))
