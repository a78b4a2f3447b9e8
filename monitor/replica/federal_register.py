"""A replica of the Federal Register API (``/api/v1/documents.json``).

It answers the query the real API takes — ``conditions[agencies][]``,
``conditions[type][]`` (NOTICE, RULE, PRORULE, PRESDOCU),
``conditions[term]`` (every word must appear in the title or abstract: a
simplification of the real full-text search), ``conditions[publication_date]
[gte|lte|is]``, ``fields[]`` (only the named fields come back), ``per_page``
(default 20; above 1000 a 400 with an ``errors`` object), ``page`` and
``order`` (newest / oldest) — with the real envelope ``{count, description,
total_pages, next_page_url, results}``; ``next_page_url`` is absolute and
repeats the query with the next page number.

Notices are seeded relative to ``today`` (so a 120-day window always holds
some): "<Title>; Draft Guidance for Industry; Availability" notices with
``comments_close_on``, information-collection and advisory-committee notices
that mention guidance, other agencies' notices and FDA proposed rules.
``docket_ids`` read "Docket No. FDA-…" (the API's habit as far as known;
unverified). The notice pages and PDFs (on govinfo.gov in reality) are
served by this replica under ``/documents/…`` and ``/content/pkg/…``.

Timeline: ``announce`` (a new availability notice), ``extend_comment_period``
(a new notice "<Title>; <label>; Availability; Extension of Comment Period" —
or "; Reopening of the Comment Period" — on the same docket, with the new
``comments_close_on``, as FDA publishes them: e.g. 83 FR 3739 and 83 FR 50109,
"… Draft Guidance for Industry and Food and Drug Administration Staff;
Availability; Extension of Comment Period", ACTION "Notice of availability;
extension of comment period"), ``add_notice`` (any).
Modes: blocked (403 "Access Denied"; unverified for this host), error (503),
empty (200 with ``count`` but no ``results``).
"""

from __future__ import annotations

import json
import math
import random
import re
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any
from urllib.parse import parse_qsl, urlencode

from monitor.replica.base import SiteReplica
from monitor.replica.data_west import FDA_CGT, FDA_OTHER, fda_filler, pdf_bytes, slugify
from monitor.replica.server import Request, Response

API = "/api/v1/documents.json"
DEFAULT_FIELDS = (
    "title",
    "type",
    "abstract",
    "document_number",
    "html_url",
    "pdf_url",
    "public_inspection_pdf_url",
    "publication_date",
    "agencies",
    "excerpts",
)
TYPES = {
    "NOTICE": "Notice",
    "RULE": "Rule",
    "PRORULE": "Proposed Rule",
    "PRESDOCU": "Presidential Document",
}
AGENCIES: dict[str, tuple[str, str, int, int | None]] = {
    "health-and-human-services-department": (
        "DEPARTMENT OF HEALTH AND HUMAN SERVICES",
        "Health and Human Services Department",
        221,
        None,
    ),
    "food-and-drug-administration": (
        "Food and Drug Administration",
        "Food and Drug Administration",
        199,
        221,
    ),
    "centers-for-medicare-medicaid-services": (
        "Centers for Medicare & Medicaid Services",
        "Centers for Medicare & Medicaid Services",
        45,
        221,
    ),
    "environmental-protection-agency": (
        "ENVIRONMENTAL PROTECTION AGENCY",
        "Environmental Protection Agency",
        145,
        None,
    ),
}
FDA = ["health-and-human-services-department", "food-and-drug-administration"]
LABELS = [
    "Draft Guidance for Industry",
    "Guidance for Industry",
    "Draft Guidance for Industry and Food and Drug Administration Staff",
    "Guidance for Industry and Food and Drug Administration Staff",
]


@dataclass
class Notice:
    document_number: str
    title: str
    type: str
    abstract: str
    publication_date: date
    agencies: list[str]
    docket_ids: list[str] = field(default_factory=list)
    comments_close_on: date | None = None
    dates: str = ""


def _long(day: date) -> str:
    return f"{day.strftime('%B')} {day.day}, {day.year}"


class FederalRegisterReplica(SiteReplica):
    """www.federalregister.gov's documents API, notice pages and PDFs."""

    kind = "federal-register"

    def __init__(self, *, size: int = 200, seed: int = 1935, today: date | None = None) -> None:
        self.today = today or date.today()
        self.rng = random.Random(seed)
        self.notices: dict[str, Notice] = {}
        self._seq: dict[int, int] = {}
        self._seed(size)

    # -- data --------------------------------------------------------------------

    def _number(self, day: date) -> str:
        self._seq[day.year] = self._seq.get(day.year, 10_000) + self.rng.randint(1, 60)
        return f"{day.year}-{self._seq[day.year]:05d}"

    def add_notice(self, notice: Notice) -> str:
        self.notices[notice.document_number] = notice
        return notice.document_number

    def announce(
        self,
        guidance_title: str,
        *,
        draft: bool = True,
        published: date | None = None,
        docket: str | None = None,
        comment_days: int = 60,
        label: str | None = None,
    ) -> str:
        """Publish "<title>; Draft Guidance for Industry; Availability"; returns its number."""
        day = published or self.today
        label = label or ("Draft Guidance for Industry" if draft else "Guidance for Industry")
        kind = "draft guidance" if draft else "guidance"
        close = day + timedelta(days=comment_days) if draft else None
        docket = docket or f"FDA-{day.year}-D-{self.rng.randint(100, 5999):04d}"
        if close:
            dates = (
                f"Submit either electronic or written comments on the draft guidance by "
                f"{_long(close)} to ensure that the Agency considers your comment on this "
                f"draft guidance before it begins work on the final version of the guidance."
            )
        else:
            dates = (
                "The announcement of the guidance is published in the Federal Register on "
                f"{_long(day)}."
            )
        return self.add_notice(
            Notice(
                document_number=self._number(day),
                title=f"{guidance_title}; {label}; Availability",
                type="Notice",
                publication_date=day,
                agencies=list(FDA),
                docket_ids=[f"Docket No. {docket}"],
                comments_close_on=close,
                dates=dates,
                abstract=(
                    f"The Food and Drug Administration (FDA or Agency) is announcing the "
                    f"availability of a {kind} for industry entitled "
                    f"\u201c{guidance_title}.\u201d "
                    f"The {kind} provides recommendations to sponsors and other interested "
                    f"parties. " + "It describes the Agency's current thinking. " * 12
                ).strip(),
            )
        )

    def extend_comment_period(
        self,
        document_number: str,
        new_close: date,
        *,
        reopening: bool = False,
        published: date | None = None,
    ) -> str:
        """Publish the extension (or reopening) of a notice's comment period."""
        original = self.notices[document_number]
        day = published or self.today
        tail = "Reopening of the Comment Period" if reopening else "Extension of Comment Period"
        old = original.publication_date
        return self.add_notice(
            Notice(
                document_number=self._number(day),
                title=f"{original.title}; {tail}",
                type="Notice",
                publication_date=day,
                agencies=list(original.agencies),
                docket_ids=list(original.docket_ids),
                comments_close_on=new_close,
                dates=f"FDA is extending the comment period. Submit comments by {_long(new_close)}.",
                abstract=(
                    f"The Food and Drug Administration (FDA or the Agency) is extending the "
                    f"comment period for the notice of availability that appeared in the "
                    f"Federal Register of {_long(old)}. The Agency is taking this action in "
                    f"response to a request for an extension to allow interested persons "
                    f"additional time to submit comments on the guidance."
                ),
            )
        )

    def _seed(self, size: int) -> None:
        rng = self.rng
        titles = [t[0] for t in FDA_CGT] + [t[0] for t in FDA_OTHER]
        rng.shuffle(titles)
        filler = fda_filler(rng)
        offsets = sorted(rng.randint(0, 730) for _ in range(size))
        for offset in reversed(offsets):  # oldest first, so numbers grow with dates
            day = self.today - timedelta(days=offset)
            pick = rng.random()
            title = titles.pop() if titles else next(filler)[0]
            if pick < 0.55:
                self.announce(
                    title,
                    draft=rng.random() < 0.55,
                    published=day,
                    label=rng.choice(LABELS) if rng.random() < 0.3 else None,
                )
                continue
            if pick < 0.7:
                notice = Notice(
                    self._number(day),
                    "Agency Information Collection Activities; "
                    f"Proposed Collection; Comment Request; {title}",
                    "Notice",
                    "The Food and Drug Administration is announcing an opportunity "
                    "for public comment on the information collection in the guidance "
                    f"entitled \u201c{title}.\u201d",
                    day,
                    list(FDA),
                    [f"Docket No. FDA-{day.year}-N-{rng.randint(100, 5999):04d}"],
                    day + timedelta(days=60),
                )
            elif pick < 0.8:
                notice = Notice(
                    self._number(day),
                    "Cellular, Tissue, and Gene Therapies Advisory Committee; Notice of Meeting",
                    "Notice",
                    "The Food and Drug "
                    "Administration announces a forthcoming public advisory committee "
                    "meeting.",
                    day,
                    list(FDA),
                )
            elif pick < 0.9:
                notice = Notice(
                    self._number(day),
                    f"Medicare Program; Guidance on Coverage of {title}",
                    "Notice",
                    "This notice provides guidance to Medicare contractors.",
                    day,
                    [
                        "health-and-human-services-department",
                        "centers-for-medicare-medicaid-services",
                    ],
                )
            else:
                notice = Notice(
                    self._number(day),
                    f"Revocation of Regulations; {title}",
                    "Proposed Rule",
                    "FDA proposes to revoke regulations that are superseded by guidance.",
                    day,
                    list(FDA),
                    [f"Docket No. FDA-{day.year}-N-{rng.randint(100, 5999):04d}"],
                    day + timedelta(days=75),
                )
            self.add_notice(notice)

    # -- serving -------------------------------------------------------------------

    def source_settings(self, base_url: str) -> dict[str, Any]:
        return {"name": "federal-register", "kind": "federal-register", "base_url": base_url}

    def blocked_response(self, request: Request) -> Response:
        return Response(
            status=403,
            body="<html><head><title>Access Denied</title></head><body>"
            "<h1>Access Denied</h1>You don't have permission to access this resource."
            "<p>Reference #18.5c2e1402.1764090000.2a1b3c</p></body></html>",
        )

    def serve(self, request: Request) -> Response:
        if request.path == API:
            return self._api(request)
        match = re.fullmatch(r"/documents/\d{4}/\d{2}/\d{2}/([\d-]+)/[^/]*", request.path)
        if match and match.group(1) in self.notices:
            notice = self.notices[match.group(1)]
            return Response(
                body=f"<html><body><h1>{notice.title}</h1><p>{notice.abstract}</p></body></html>"
            )
        match = re.fullmatch(r"/content/pkg/FR-[\d-]+/pdf/([\d-]+)\.pdf", request.path)
        if match and match.group(1) in self.notices:
            notice = self.notices[match.group(1)]
            lines = [
                f"Federal Register / {_long(notice.publication_date)}",
                notice.abstract,
                notice.dates,
                *notice.docket_ids,
            ]
            return Response(body=pdf_bytes(notice.title, lines), content_type="application/pdf")
        return Response(status=404, body="<html><body>Not Found</body></html>")

    def _api(self, request: Request) -> Response:
        pairs = parse_qsl(request.raw_query, keep_blank_values=True) or list(request.query.items())
        one = {k: v for k, v in pairs}
        many: dict[str, list[str]] = {}
        for key, value in pairs:
            many.setdefault(key, []).append(value)
        try:
            per_page = int(one.get("per_page", "20"))
            page = int(one.get("page", "1"))
            bounds = _date_bounds(one)
        except ValueError as exc:
            return _error({"query": [str(exc)]})
        if per_page > 1000:
            return _error({"per_page": ["must be less than or equal to 1000"]})
        found = self._search(many, one.get("conditions[term]", ""), bounds)
        if one.get("order", "relevance") == "oldest":
            found.reverse()
        total_pages = math.ceil(len(found) / per_page) if per_page > 0 else 0
        envelope: dict[str, Any] = {
            "count": len(found),
            "description": "Documents matching your search",
            "total_pages": total_pages,
        }
        if page < total_pages:
            envelope["next_page_url"] = _next_page_url(request.base, pairs, page)
        if self.mode != "empty":
            wanted = many.get("fields[]") or list(DEFAULT_FIELDS)
            chunk = found[(page - 1) * per_page : page * per_page]
            envelope["results"] = [self._result(n, wanted, request.base) for n in chunk]
        return Response(body=json.dumps(envelope), content_type="application/json; charset=utf-8")

    def _search(
        self, many: dict[str, list[str]], term: str, bounds: dict[str, date]
    ) -> list[Notice]:
        agencies = set(many.get("conditions[agencies][]", []))
        types = {TYPES.get(t.upper(), t) for t in many.get("conditions[type][]", [])}
        words = [w for w in re.findall(r"\w+", term.lower())]
        found = []
        for notice in self.notices.values():
            if agencies and not agencies & set(notice.agencies):
                continue
            if types and notice.type not in types:
                continue
            if not _within(notice.publication_date, bounds):
                continue
            text = f"{notice.title} {notice.abstract}".lower()
            if any(word not in text for word in words):
                continue
            found.append(notice)
        found.sort(key=lambda n: (n.publication_date, n.document_number), reverse=True)
        return found

    def _result(self, notice: Notice, wanted: list[str], base: str) -> dict[str, Any]:
        day = notice.publication_date
        full: dict[str, Any] = {
            "title": notice.title,
            "type": notice.type,
            "abstract": notice.abstract,
            "document_number": notice.document_number,
            "html_url": (
                f"{base}/documents/{day:%Y/%m/%d}/{notice.document_number}/"
                f"{slugify(notice.title)[:100]}"
            ),
            "pdf_url": f"{base}/content/pkg/FR-{day.isoformat()}/pdf/{notice.document_number}.pdf",
            "public_inspection_pdf_url": f"{base}/public-inspection/{notice.document_number}.pdf",
            "publication_date": day.isoformat(),
            "agencies": [_agency(slug, base) for slug in notice.agencies],
            "excerpts": None,
            "docket_ids": notice.docket_ids,
            "comments_close_on": notice.comments_close_on.isoformat()
            if notice.comments_close_on
            else None,
            "dates": notice.dates or None,
        }
        return {name: full[name] for name in wanted if name in full}


def _agency(slug: str, base: str) -> dict[str, Any]:
    raw, name, number, parent = AGENCIES[slug]
    return {
        "raw_name": raw,
        "name": name,
        "id": number,
        "url": f"{base}/agencies/{slug}",
        "json_url": f"{base}/api/v1/agencies/{number}",
        "parent_id": parent,
        "slug": slug,
    }


def _error(errors: dict[str, Any]) -> Response:
    return Response(
        status=400,
        body=json.dumps({"errors": errors}),
        content_type="application/json; charset=utf-8",
    )


def _date_bounds(one: dict[str, str]) -> dict[str, date]:
    """The query's publication-date conditions (gte, lte, is); ValueError for a bad date."""
    return {
        op: date.fromisoformat(one[f"conditions[publication_date][{op}]"])
        for op in ("gte", "lte", "is")
        if f"conditions[publication_date][{op}]" in one
    }


def _within(day: date, bounds: dict[str, date]) -> bool:
    """Whether `day` meets every publication-date condition."""
    if "gte" in bounds and day < bounds["gte"]:
        return False
    if "lte" in bounds and day > bounds["lte"]:
        return False
    return not ("is" in bounds and day != bounds["is"])


def _next_page_url(base: str, pairs: list[tuple[str, str]], page: int) -> str:
    """The same query for the next page."""
    nxt = [(k, v) for k, v in pairs if k != "page"] + [("page", str(page + 1))]
    return f"{base}{API}?{urlencode(nxt)}"
