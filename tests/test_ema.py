"""ema-documents: the documents-file parser on replica bytes, collect() through
HttpFetcher against the EMA replica, and the EMA feeds through the generic rss kind."""

from __future__ import annotations

import io
import json
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import httpx
import pytest
from pypdf import PdfReader

from monitor.replica.ema import DOCUMENTS_JSON, EmaReplica
from monitor.replica.server import ReplicaServer, Router
from sources.adapters.ema import EmaDocuments, consultation_end, ema_day, parse_documents_json
from sources.errors import Blocked, FetchError, LayoutChanged, ParseError
from sources.fetch.http import HttpFetcher, HttpSettings
from sources.registry import adapter_for
from sources.types import Listing, Record

BASE = "https://www.ema.europa.eu"


def by_key(records: list[Record]) -> dict[str, Record]:
    return {r.key: r for r in records}


@pytest.fixture(scope="module")
def small() -> EmaReplica:
    return EmaReplica(size=1500, today=date(2026, 11, 25))


# --- parsing ------------------------------------------------------------------------------


def test_default_keeps_scientific_guidelines_and_medicine_qas(small: EmaReplica) -> None:
    raw = json.loads(small.json_bytes(BASE))
    kinds = ("scientific-guideline", "medicine-qa")
    wanted = {d["id"] for d in raw["data"] if d["type"] in kinds}
    assert any(d["type"] == "medicine-qa" for d in raw["data"])
    result = parse_documents_json(small.json_bytes(BASE), BASE)
    assert result.total == len(raw["data"]) == raw["meta"]["total_records"]
    assert set(by_key(result.records)) == wanted and 0 < len(wanted) < result.total
    assert result.types_seen == Counter(d["type"] for d in raw["data"])
    for record in result.records:
        entry = small.docs[record.key]
        assert record.title == entry.name
        assert record.url == small.document_url(entry, BASE)
        assert record.attachments[0].url == record.url
        assert record.attachments[0].name == record.url.rsplit("/", 1)[1]
        assert record.status == (entry.status or None)
        assert record.fields["doc_type"] == entry.type in kinds


@pytest.mark.parametrize("types", [["minutes", "agenda"], ["regulatory-procedural-guideline"], []])
def test_types_setting(small: EmaReplica, types: list[str]) -> None:
    raw = json.loads(small.json_bytes(BASE))["data"]
    result = parse_documents_json(small.json_bytes(BASE), BASE, types)
    expected = {d["id"] for d in raw if not types or d["type"] in types}
    assert set(by_key(result.records)) == expected


def test_dates_are_amsterdam_days(small: EmaReplica) -> None:
    raw = {d["id"]: d for d in json.loads(small.json_bytes(BASE))["data"]}
    records = by_key(parse_documents_json(small.json_bytes(BASE), BASE).records)
    title = "Guideline on human cell-based medicinal products"
    cell = next(r for r in records.values() if r.title == title)
    assert cell.date == "2008-05-21"
    assert raw[cell.key]["first_published_date"] in ("2008-05-20T22:00:00Z", "2008-05-21T01:00:00Z")
    assert cell.fields["reference_number"] == "EMEA/CHMP/410869/2006"
    assert cell.fields["updated"] == raw[cell.key]["last_updated_date"]
    assert ema_day("2026-06-30T22:00:00Z") == "2026-07-01"  # CEST midnight
    assert ema_day("2026-01-14T23:00:00Z") == "2026-01-15"  # CET midnight
    assert ema_day("1993-10-01T01:00:00Z") == "1993-10-01"
    assert ema_day("21/05/2008") == "2008-05-21"
    assert ema_day("") is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("15/01/2026 - 15/04/2026", "2026-04-15"),
        ("2026-01-14T23:00:00Z to 2026-04-14T22:00:00Z", "2026-04-15"),
        ("Consultation ends 30 June 2026", "2026-06-30"),
        ("Deadline for comments: 31/03/2026", "2026-03-31"),
        ("15/01/2026", None),
        ("", None),
        ("to be announced", None),
    ],
)
def test_consultation_end(text: str, expected: str | None) -> None:
    assert consultation_end(text) == expected


def test_drafts_carry_the_consultation_deadline(small: EmaReplica) -> None:
    records = parse_documents_json(small.json_bytes(BASE), BASE).records
    drafts = [r for r in records if (r.status or "").startswith("Draft")]
    assert drafts and all("/draft-" in r.url or "/concept-paper" in r.url for r in drafts)
    for record in drafts:
        start, end = small.docs[record.key].consultation_date.split(" - ")
        assert record.fields["consultation"] == f"{start} - {end}"
        day, month, year = end.split("/")
        assert record.fields["comment_deadline"] == f"{year}-{month}-{day}"
    adopted = [r for r in records if r.status == "Adopted"]
    assert adopted and all("comment_deadline" not in r.fields for r in adopted)


@pytest.mark.parametrize(
    ("body", "types", "error"),
    [
        (b'{"meta": {"total_records": 0}}', ["scientific-guideline"], LayoutChanged),
        (b'{"meta": {"total_records": 0}, "data": []}', ["scientific-guideline"], LayoutChanged),
        (b'[{"id": "1"}]', ["scientific-guideline"], LayoutChanged),
        (
            b'{"data": [{"id": "1", "name": "x", "type": "other", "document_url": "/a.pdf"}]}',
            ["scientific-guideline"],
            LayoutChanged,
        ),
        (b"<html>", ["scientific-guideline"], ParseError),
    ],
)
def test_broken_files_are_never_an_empty_listing(
    body: bytes, types: list[str], error: type[Exception]
) -> None:
    with pytest.raises(error):
        parse_documents_json(body, BASE, types)


def test_no_wanted_type_says_which_types_exist(small: EmaReplica) -> None:
    with pytest.raises(LayoutChanged) as caught:
        parse_documents_json(small.json_bytes(BASE), BASE, ["scientific_guideline"])
    assert "scientific-guideline (" in str(caught.value)


# --- collect() against the replica ----------------------------------------------------------


@dataclass
class Site:
    replica: EmaReplica
    server: ReplicaServer
    fetcher: HttpFetcher

    @property
    def base(self) -> str:
        return self.server.url + "/ema"

    def collect(self, **settings: Any) -> Listing:
        adapter = EmaDocuments(
            EmaDocuments.Settings(name="ema", kind="ema-documents", base_url=self.base, **settings)
        )
        return adapter.collect(self.fetcher, {})


@pytest.fixture
def site() -> Iterator[Site]:
    replica = EmaReplica(size=1200)
    with (
        ReplicaServer(Router({"/ema": replica})) as server,
        HttpFetcher(HttpSettings(delay=0, retries=0)) as fetcher,
    ):
        yield Site(replica, server, fetcher)


def test_registered() -> None:
    assert adapter_for("ema-documents") is EmaDocuments
    assert EmaDocuments.jurisdiction == "EU"


def test_conditional_get_and_twice_daily_refresh(site: Site) -> None:
    first = site.collect()
    assert first.records
    assert all(r.url.startswith(site.base + "/en/documents/") for r in first.records)
    again = site.collect()
    assert again.not_modified
    assert site.server.requests[-1].header("If-Modified-Since")
    site.replica.refresh()
    refreshed = site.collect()
    assert not refreshed.not_modified and by_key(refreshed.records) == by_key(first.records)


def test_timeline_draft_adopt_revise_withdraw(site: Site) -> None:
    before = by_key(site.collect().records)
    draft = site.replica.add_document(
        "Guideline on quality aspects of in vivo gene editing medicinal products"
    )
    records = by_key(site.collect().records)
    assert set(records) - set(before) == {draft}
    assert records[draft].status == "Draft: consultation open"
    assert "/draft-guideline-quality-aspects-vivo-gene-editing" in records[draft].url
    assert (
        records[draft].fields["comment_deadline"]
        == (site.replica.today + timedelta(days=92)).isoformat()
    )

    final = site.replica.adopt(draft)
    records = by_key(site.collect().records)
    assert records[final].status == "Adopted" and "/draft-" not in records[final].url
    assert records[final].title == records[draft].title
    assert records[draft].status == "Draft: consultation closed"

    old_pdf = site.fetcher.get(records[final].url, expect="bytes").body
    site.replica.revise(final, line="Section 5 on off-target analysis was revised.")
    revised = by_key(site.collect().records)
    assert revised[final].fields["updated"] != records[final].fields["updated"]
    new_pdf = site.fetcher.get(revised[final].url, expect="bytes").body
    assert new_pdf != old_pdf
    assert "off-target" in PdfReader(io.BytesIO(new_pdf)).pages[0].extract_text()

    site.replica.withdraw(final)
    assert by_key(site.collect().records)[final].status == "Withdrawn"


def test_blocked_error_and_empty(site: Site) -> None:
    site.replica.mode = "blocked"
    with pytest.raises(Blocked):
        site.collect()
    site.replica.mode = "error"
    with pytest.raises(FetchError) as caught:
        site.collect()
    assert caught.value.status == 503
    site.replica.mode = "empty"
    with pytest.raises(LayoutChanged):
        site.collect()
    assert httpx.get(site.base + DOCUMENTS_JSON).status_code == 200


def test_feeds_work_with_the_generic_rss_kind(site: Site) -> None:
    rss = adapter_for("rss")
    draft = site.replica.add_document(
        "Concept paper on allogeneic induced pluripotent stem cell products"
    )

    def feed(path: str) -> list[Record]:
        settings = rss.Settings(name="feed", kind="rss", url=site.base + path)
        listing: Listing = rss(settings).collect(site.fetcher, {})
        return listing.records

    consultations = feed("/en/public-consultations.xml")
    names = {r.title for r in consultations}
    assert site.replica.docs[draft].name in names
    assert all(
        site.replica.docs[r.key.split(" at ")[0]].status == "Draft: consultation open"
        for r in consultations
    )
    guidelines = feed("/en/scientific-guidelines.xml")
    assert len(guidelines) == 30 and all(r.date for r in guidelines)
    page = site.fetcher.get(guidelines[0].url)
    assert "Scientific guideline" in page.text and "_en.pdf" in page.text
    minutes = feed("/en/agendas-and-minutes.xml")
    assert minutes and all("CAT" in r.title for r in minutes)
