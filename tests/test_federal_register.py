"""federal-register: the availability-notice parser, and collect() through
HttpFetcher against the Federal Register API replica (query, paging, window)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any
from urllib.parse import parse_qsl

import httpx
import pydantic
import pytest

from monitor.replica.federal_register import API, FederalRegisterReplica, Notice
from monitor.replica.server import ReplicaServer, Router
from sources.adapters.federal_register import (
    FIELDS,
    FederalRegister,
    FederalRegisterSettings,
    parse_notice_page,
    split_availability,
)
from sources.errors import Blocked, LayoutChanged
from sources.fetch.http import HttpFetcher, HttpSettings
from sources.registry import adapter_for
from sources.types import Listing, Record


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        (
            (
                "Potency Assurance for Cellular and Gene Therapy Products; Draft Guidance for Industry; "
                "Availability"
            ),
            (
                "Potency Assurance for Cellular and Gene Therapy Products",
                "Draft Guidance for Industry",
            ),
        ),
        (
            "Human Gene Therapy for Rare Diseases; Guidance for Industry; Availability",
            ("Human Gene Therapy for Rare Diseases", "Guidance for Industry"),
        ),
        (
            (
                "Clinical Decision Support Software; Draft Guidance for Industry and Food and Drug "
                "Administration Staff; Availability"
            ),
            (
                "Clinical Decision Support Software",
                "Draft Guidance for Industry and Food and Drug Administration Staff",
            ),
        ),
        (
            "Breast Implants; Draft Guidance for Food and Drug Administration Staff; Availability",
            ("Breast Implants", "Draft Guidance for Food and Drug Administration Staff"),
        ),
        (
            (
                "E6(R3) Good Clinical Practice; International Council for Harmonisation; Guidance for "
                "Industry; Availability"
            ),
            (
                "E6(R3) Good Clinical Practice; International Council for Harmonisation",
                "Guidance for Industry",
            ),
        ),
        (
            "Product-Specific Guidances; Draft and Revised Draft Guidances for Industry; Availability",
            ("Product-Specific Guidances", "Draft and Revised Draft Guidances for Industry"),
        ),
        ("Cellular, Tissue, and Gene Therapies Advisory Committee; Notice of Meeting", None),
        (
            (
                "Agency Information Collection Activities; Proposed Collection; Comment Request; "
                "Human Gene Therapy for Hemophilia"
            ),
            None,
        ),
    ],
)
def test_split_availability(title: str, expected: tuple[str, str] | None) -> None:
    assert split_availability(title) == expected


# --- parsing replica bytes -------------------------------------------------------------


def replica_page(replica: FederalRegisterReplica, query: str) -> bytes:
    with ReplicaServer(replica) as server:
        return httpx.get(f"{server.url}{API}?{query}").content


def test_parse_page_keeps_availability_notices() -> None:
    replica = FederalRegisterReplica(size=60, today=date(2026, 11, 25))
    number = replica.announce(
        "Potency Assurance for Cellular and Gene Therapy Products",
        docket="FDA-2026-D-1234",
        comment_days=90,
    )
    body = replica_page(
        replica,
        "per_page=1000&conditions[agencies][]=food-and-drug-administration"
        + "".join(f"&fields[]={f}" for f in FIELDS),
    )
    raw = json.loads(body)["results"]
    page = parse_notice_page(body)
    assert page.seen == len(raw) and page.count == len(raw)
    titles = {r["document_number"]: r["title"] for r in raw}
    kept = {r.key for r in page.records}
    assert kept == {k for k, t in titles.items() if t.endswith("; Availability")}
    assert 0 < len(kept) < len(raw)
    record = next(r for r in page.records if r.key == number)
    assert record.status == "Draft"
    assert record.fields["guidance_title"] == (
        "Potency Assurance for Cellular and Gene Therapy Products"
    )
    assert record.fields["doc_type"] == "Draft Guidance for Industry"
    assert record.fields["docket"] == "FDA-2026-D-1234"
    assert record.fields["comment_deadline"] == "2027-02-23"
    assert record.date == "2026-11-25"
    assert record.fields["agencies"] == (
        "Health and Human Services Department; Food and Drug Administration"
    )
    assert len(record.fields["abstract"]) <= 502 and record.fields["abstract"].endswith("…")
    assert record.attachments[0].url.endswith(f"/content/pkg/FR-2026-11-25/pdf/{number}.pdf")
    finals = [r for r in page.records if r.status == "Final"]
    assert finals and all("comment_deadline" not in r.fields for r in finals)

    everything = parse_notice_page(body, availability_only=False)
    assert {r.key for r in everything.records} == set(titles)
    assert all(r.status is None for r in everything.records if r.key not in kept)


def test_missing_results_is_a_layout_change_but_zero_is_fine() -> None:
    with pytest.raises(LayoutChanged):
        parse_notice_page(b'{"count": 12, "total_pages": 1, "description": "x"}')
    assert parse_notice_page(b'{"count": 0, "description": "none"}').records == []


# --- collect() against the replica -----------------------------------------------------


@dataclass
class Site:
    replica: FederalRegisterReplica
    server: ReplicaServer
    fetcher: HttpFetcher

    @property
    def base(self) -> str:
        return self.server.url + "/fr"

    def collect(self, **settings: Any) -> Listing:
        adapter = FederalRegister(
            FederalRegister.Settings(
                name="fr", kind="federal-register", base_url=self.base, **settings
            )
        )
        return adapter.collect(self.fetcher, {})

    def api_requests(self) -> list[list[tuple[str, str]]]:
        return [
            parse_qsl(r.raw_query, keep_blank_values=True)
            for r in self.server.requests
            if r.path == "/fr" + API
        ]


@pytest.fixture
def site() -> Iterator[Site]:
    replica = FederalRegisterReplica(size=300)
    with (
        ReplicaServer(Router({"/fr": replica})) as server,
        HttpFetcher(HttpSettings(delay=0, retries=0, robots=False)) as fetcher,  # counted
    ):
        yield Site(replica, server, fetcher)


def expected_keys(replica: FederalRegisterReplica, since: date) -> set[str]:
    """Worked out from the replica's own notices, independently of the adapter."""
    return {
        n.document_number
        for n in replica.notices.values()
        if n.publication_date >= since
        and n.type == "Notice"
        and "food-and-drug-administration" in n.agencies
        and n.title.endswith(
            ("; Availability", "; Extension of Comment Period", "; Reopening of the Comment Period")
        )
    }


def test_registered() -> None:
    assert adapter_for("federal-register") is FederalRegister
    with pytest.raises(pydantic.ValidationError):
        FederalRegisterSettings(name="fr", kind="federal-register", per_page=1001)


def test_query_is_what_the_api_expects(site: Site) -> None:
    before = date.today()
    listing = site.collect()
    (query,) = site.api_requests()
    # the window the adapter asked for, 120 days back from its own today (read
    # once more here, a run that crosses midnight would look a day off)
    since = listing.since
    assert since in {(d - timedelta(days=120)).isoformat() for d in (before, date.today())}
    assert [v for k, v in query if k == "fields[]"] == list(FIELDS)
    assert ("conditions[agencies][]", "food-and-drug-administration") in query
    assert ("conditions[type][]", "NOTICE") in query
    assert ("conditions[term]", "guidance") in query
    assert ("conditions[publication_date][gte]", since) in query
    assert ("order", "newest") in query and ("per_page", "100") in query
    expected = expected_keys(site.replica, date.fromisoformat(since))
    assert {r.key for r in listing.records} == expected
    assert all(r.date is not None and r.date >= since for r in listing.records)


def test_paging_follows_total_pages(site: Site) -> None:
    before = date.today()
    listing = site.collect(per_page=5, days=365)
    assert listing.since is not None
    since = date.fromisoformat(listing.since)
    assert since in {d - timedelta(days=365) for d in (before, date.today())}
    requests = site.api_requests()
    pages = [dict(q)["page"] for q in requests]
    assert len(requests) > 3 and pages == [str(n) for n in range(1, len(requests) + 1)]
    first = httpx.get(f"{site.server.url}/fr{API}?{site.server.requests[0].raw_query}").json()
    assert first["total_pages"] == len(requests)
    assert first["next_page_url"].startswith(site.base + API) and "page=2" in first["next_page_url"]
    assert {r.key for r in listing.records} == expected_keys(site.replica, since)


def test_date_window(site: Site) -> None:
    short = site.collect(days=30)
    long = site.collect(days=400)
    assert {r.key for r in short.records} < {r.key for r in long.records}
    cut = short.since
    assert cut is not None and date.fromisoformat(cut) >= date.today() - timedelta(days=31)
    assert all(r.date is not None and r.date >= cut for r in short.records)


def test_new_notice_appears_and_other_filters_apply(site: Site) -> None:
    before = {r.key for r in site.collect().records}
    number = site.replica.announce("Safety Testing of Allogeneic Cells", draft=False)
    site.replica.add_notice(
        Notice(
            "2026-99999",
            "Something; Draft Guidance for Industry; Availability",
            "Notice",
            "guidance",
            date.today(),
            ["environmental-protection-agency"],
        )
    )
    after = {r: rec for r, rec in ((x.key, x) for x in site.collect().records)}
    assert set(after) - before == {number}
    record: Record = after[number]
    assert record.status == "Final" and record.fields["guidance_title"] == (
        "Safety Testing of Allogeneic Cells"
    )
    pdf = site.fetcher.get(record.attachments[0].url, expect="bytes").body
    assert pdf.startswith(b"%PDF-")


def test_replica_refuses_per_page_over_1000(site: Site) -> None:
    answer = httpx.get(f"{site.base}{API}?per_page=1001")
    assert answer.status_code == 400 and "per_page" in answer.json()["errors"]


def test_blocked_and_empty(site: Site) -> None:
    site.replica.mode = "blocked"
    with pytest.raises(Blocked):
        site.collect()
    site.replica.mode = "empty"
    with pytest.raises(LayoutChanged):
        site.collect()


# --- issue 9, item 8: comment-period extensions move the deadline --------------------


@pytest.mark.parametrize(
    "title",
    [
        "Select Updates for Recommendations for CLIA Waiver Applications; Draft Guidance for "
        "Industry and Food and Drug Administration Staff; Availability; Extension of Comment Period",
        "Sucralfate; Revised Draft Guidance for Industry; Availability; "
        "Reopening of the Comment Period",
    ],
)
def test_extension_titles_are_availability_notices(title: str) -> None:
    split = split_availability(title)
    assert split is not None and "Guidance for Industry" in split[1]
    assert not split[0].endswith("Availability")


@pytest.mark.parametrize("reopening", [False, True])
def test_an_extension_moves_the_deadline_of_its_notice(site: Site, reopening: bool) -> None:
    replica = site.replica
    title = "Potency Assurance for Cellular and Gene Therapy Products"
    original = replica.announce(
        title,
        docket="FDA-2026-D-0042",
        comment_days=60,
        published=replica.today - timedelta(days=40),
    )
    before = {r.key: r for r in site.collect().records}[original]
    new_close = replica.today + timedelta(days=80)
    extension = replica.extend_comment_period(original, new_close, reopening=reopening)
    listing = site.collect()
    by_key = {r.key: r for r in listing.records}
    assert extension not in by_key  # folded into the notice it extends: one document
    moved = by_key[original]
    assert moved.fields["comment_deadline"] == new_close.isoformat()
    assert moved.fields["comment_deadline"] != before.fields["comment_deadline"]
    assert moved.fields["deadline_extended_by"] == extension
    assert moved.title == before.title and moved.status == "Draft"
    assert len(listing.records) == len(expected_keys(replica, replica.today - timedelta(120))) - 1


def test_an_extension_whose_notice_left_the_window_stays_a_record(site: Site) -> None:
    replica = site.replica
    original = replica.announce(
        "Human Gene Therapy for Rare Diseases",
        docket="FDA-2026-D-0077",
        published=replica.today - timedelta(days=200),
    )
    new_close = replica.today + timedelta(days=30)
    extension = replica.extend_comment_period(original, new_close)
    by_key = {r.key: r for r in site.collect().records}
    assert original not in by_key
    assert by_key[extension].fields["comment_deadline"] == new_close.isoformat()
    assert by_key[extension].fields["extension"] == "Extension of Comment Period"
