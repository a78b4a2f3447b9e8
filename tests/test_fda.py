"""FDA adapters (fda-guidance, fda-cber-cgt): parsers on replica bytes, then
collect() through HttpFetcher against the FDA replica on 127.0.0.1."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import pytest
from pypdf import PdfReader

from monitor.config import loads
from monitor.history import ChangeFilter, list_changes
from monitor.pipeline.check import Pipeline
from monitor.pipeline.plan import classify_record
from monitor.replica.fda import APOLOGY, CBER_CGT, GUIDANCE_JSON, LANDING, FdaReplica
from monitor.replica.server import ReplicaServer, Request, Response, Router
from monitor.store import Store
from sources.adapters.fda import (
    FdaCberCgt,
    FdaGuidance,
    catalogue_doc_type,
    fragment_text,
    parse_cber_cgt_page,
    parse_guidance_json,
)
from sources.errors import Blocked, FetchError, LayoutChanged, ParseError
from sources.fetch.http import HttpFetcher, HttpSettings
from sources.registry import adapter_for
from sources.types import Listing, Record

BASE = "https://www.fda.gov"


def by_key(records: list[Record]) -> dict[str, Record]:
    return {r.key: r for r in records}


# --- the JSON catalogue, parsed from replica bytes -------------------------------


def test_every_record_is_keyed_by_its_landing_page_slug() -> None:
    replica = FdaReplica(size=300)
    result = parse_guidance_json(replica.json_bytes(), BASE)
    assert result.total == 300 and result.skipped == 0
    assert set(by_key(result.records)) == set(replica.docs)
    for record in result.records:
        assert record.url == f"{BASE}{LANDING}{record.key}"
        assert record.title == replica.docs[record.key].title
        assert record.status in ("Draft", "Final")


def test_fragments_are_unescaped_and_stripped() -> None:
    replica = FdaReplica(size=120)
    slug = replica.add_guidance(
        "Patient's Guide to <Labeling> & Reporting", center="CDRH", pdf_in_list=True
    )
    raw = json.loads(replica.json_bytes())
    entry = next(e for e in raw if slug in e["title"])
    assert "&#039;" in entry["title"] and "&amp;" in entry["title"] and "&lt;" in entry["title"]
    record = by_key(parse_guidance_json(replica.json_bytes(), BASE).records)[slug]
    assert record.title == "Patient's Guide to <Labeling> & Reporting"
    assert record.fields["product"] == "Medical Devices"


def test_double_escaped_entities_and_screen_reader_text() -> None:
    assert fragment_text("Q&amp;amp;A on <b>Things</b>") == "Q&A on Things"
    assert fragment_text('<a href="/m">PDF (1 KB)<span class="sr-only">of X</span></a>') == (
        "PDF (1 KB)"
    )
    assert fragment_text("  padded\n  text ") == "padded text"
    assert fragment_text("Office A<br><br>Office B") == "Office A Office B"


def test_dates_placeholders_and_comment_fields() -> None:
    replica = FdaReplica(size=120)
    open_slug = replica.add_guidance("An Open Draft on Gene Therapy", comment_days=45)
    placeholder = next(iter(replica.docs))
    replica.docs[placeholder].issued = "01/01/1900"
    records = by_key(parse_guidance_json(replica.json_bytes(), BASE).records)
    assert records[placeholder].date is None
    opened = records[open_slug]
    assert opened.date == replica.today.isoformat()
    close = replica.docs[open_slug].comment_close
    assert close is not None and opened.fields["comment_deadline"] == close.isoformat()
    assert opened.fields["open_comment"] == "Yes"
    finals = [r for r in records.values() if r.status == "Final"]
    assert finals and all(r.fields["open_comment"] == "No" for r in finals)
    assert all("comment_deadline" not in r.fields for r in finals)
    for record in records.values():
        doc = replica.docs[record.key]
        assert record.fields["updated"] == doc.changed.isoformat(timespec="seconds")
        if doc.docket:
            assert record.fields["docket"] == doc.docket


def test_several_offices_are_joined() -> None:
    replica = FdaReplica(size=60)
    raw = json.loads(replica.json_bytes())
    assert any("<br><br>" in e["field_issuing_office_taxonomy"] for e in raw)
    records = by_key(parse_guidance_json(replica.json_bytes(), BASE).records)
    record = records["e6-r3-good-clinical-practice-gcp"]
    assert record.fields["office"] == (
        "Center for Drug Evaluation and Research; Center for Biologics Evaluation and Research; "
        "Center for Devices and Radiological Health"
    )
    assert record.fields["center"] == "Center for Drug Evaluation and Research"


def test_pdf_link_when_present_and_nothing_when_empty() -> None:
    replica = FdaReplica(size=200)
    records = by_key(parse_guidance_json(replica.json_bytes(), BASE).records)
    with_pdf = [d for d in replica.docs.values() if d.pdf_in_list]
    without = [d for d in replica.docs.values() if not d.pdf_in_list]
    assert with_pdf and without
    for doc in without:
        assert records[doc.slug].attachments == ()
    for doc in with_pdf:
        (attachment,) = records[doc.slug].attachments
        assert attachment.url == f"{BASE}/media/{doc.media_id}/download"
        assert attachment.name == f"PDF ({doc.pdf_kb:.2f} KB)"


def test_entries_without_a_link_are_skipped_and_counted() -> None:
    replica = FdaReplica(size=50)
    replica.raw_extra.append({"title": "No link", "field_issue_datetime": "01/02/2020"})
    replica.raw_extra.append(
        {
            "title": '<a href="/regulatory-information/search-fda-guidance-'
            'documents/x-y">Q&amp;amp;A on X</a>'
        }
    )
    result = parse_guidance_json(replica.json_bytes(), BASE)
    assert result.skipped == 1 and result.total == len(replica.docs) + 2
    assert by_key(result.records)["x-y"].title == "Q&A on X"


@pytest.mark.parametrize(
    ("body", "error"),
    [
        (b"[]", LayoutChanged),
        (b'{"meta": {}}', LayoutChanged),
        (b'[{"title": "no link"}]', LayoutChanged),
        (b"{not json", ParseError),
    ],
)
def test_empty_or_broken_catalogue_is_never_an_empty_listing(body: bytes, error: type) -> None:
    with pytest.raises(error):
        parse_guidance_json(body, BASE)


# --- CBER's CGT page -----------------------------------------------------------------


def test_cber_page_items_carry_status_month_and_note() -> None:
    replica = FdaReplica(size=80)
    records = parse_cber_cgt_page(replica.cber_page(), BASE)
    listed = {d.slug: d for d in replica.docs.values() if d.cgt_label}
    assert [r.key for r in records][:1] and set(by_key(records)) == set(listed)
    assert all("Guidances" not in r.title for r in records)  # navigation ignored
    for record in records:
        doc = listed[record.key]
        assert record.title == doc.title
        assert record.status == ("Draft" if doc.status == "Draft" else "Final")
        month, _, year = doc.issued.split("/")
        assert record.fields["month"] == f"{year}-{month}"
        assert record.date is None
        assert record.fields.get("note", "") == doc.note
    car_t = by_key(records)[
        "considerations-development-chimeric-antigen-receptor-car-t-cell-products"
    ]
    assert car_t.fields["doc_type"] == "Guidance for Industry"
    assert car_t.fields["note"].startswith("This guidance finalizes the draft guidance")


def test_cber_keys_match_the_catalogue_keys() -> None:
    replica = FdaReplica(size=80)
    catalogue = set(by_key(parse_guidance_json(replica.json_bytes(), BASE).records))
    assert set(by_key(parse_cber_cgt_page(replica.cber_page(), BASE))) <= catalogue


def test_cber_page_with_old_style_prefix_labels() -> None:
    page = (
        "<html><body><main><article><ul>"
        '<li><a href="/media/73614/download">Guidance for Industry: Gene Therapy Clinical '
        "Trials - Observing Subjects for Delayed Adverse Events</a> 11/2006</li>"
        '<li><a href="/about">About FDA</a></li>'
        "</ul></article></main></body></html>"
    )
    (record,) = parse_cber_cgt_page(page, BASE)
    assert record.key == "media/73614"
    assert record.title.startswith("Gene Therapy Clinical Trials")
    assert record.status == "Final" and record.fields["month"] == "2006-11"


# --- collect() through HttpFetcher against the replica ---------------------------------


@dataclass
class Site:
    replica: FdaReplica
    server: ReplicaServer
    fetcher: HttpFetcher

    @property
    def base(self) -> str:
        return self.server.url + "/fda"

    def adapter(self, kind: str = "fda-guidance", **settings: Any) -> Any:
        cls = adapter_for(kind)
        return cls(cls.Settings(name=kind, kind=kind, base_url=self.base, **settings))

    def collect(self, kind: str = "fda-guidance", **settings: Any) -> Listing:
        listing: Listing = self.adapter(kind, **settings).collect(self.fetcher, {})
        return listing


@pytest.fixture
def site() -> Iterator[Site]:
    replica = FdaReplica(size=200)
    with ReplicaServer(Router({"/fda": replica})) as server:
        fetcher = HttpFetcher(HttpSettings(delay=0, retries=0))
        try:
            yield Site(replica, server, fetcher)
        finally:
            fetcher.close()


def test_registered_kinds() -> None:
    assert adapter_for("fda-guidance") is FdaGuidance
    assert adapter_for("fda-cber-cgt") is FdaCberCgt
    assert FdaGuidance.jurisdiction == "US" and FdaGuidance.default_base_url == BASE


def test_collect_then_conditional_get_is_unchanged(site: Site) -> None:
    first = site.collect()
    assert len(first.records) == 200 and not first.not_modified
    assert all(r.url.startswith(site.base + "/regulatory-information/") for r in first.records)
    second = site.collect()
    assert second.not_modified and second.records == []
    conditional = site.server.requests[-1]
    assert conditional.path == "/fda" + GUIDANCE_JSON
    assert conditional.header("If-None-Match") and conditional.header("If-Modified-Since")
    site.replica.touch(next(iter(site.replica.docs)))
    assert not site.collect().not_modified


def test_timeline_add_finalise_revise_withdraw(site: Site) -> None:
    before = by_key(site.collect().records)
    draft = site.replica.add_guidance(
        "Considerations for In Vivo Gene Editing Products", cgt_label="Draft Guidance for Industry"
    )
    other = site.replica.add_guidance(
        "Allogeneic CAR T Cell Products", cgt_label="Draft Guidance for Industry"
    )
    added = by_key(site.collect().records)
    assert set(added) - set(before) == {draft, other}
    assert added[draft].status == "Draft"
    cber = by_key(site.collect("fda-cber-cgt").records)
    assert cber[draft].status == "Draft"
    assert cber[draft].fields["doc_type"] == "Draft Guidance for Industry"

    assert site.replica.finalise(draft, keep_slug=True) == draft
    moved = site.replica.finalise(other, keep_slug=False)
    assert moved == f"{other}-0"
    after = by_key(site.collect().records)
    assert after[draft].status == "Final" and after[draft].key == draft
    assert other not in after and after[moved].status == "Final"
    cber = by_key(site.collect("fda-cber-cgt").records)
    assert cber[draft].status == "Final" and cber[moved].status == "Final" and other not in cber
    assert "finalizes the draft guidance" in cber[moved].fields["note"]

    victim = next(k for k, r in after.items() if r.attachments)
    old_pdf = site.fetcher.get(after[victim].attachments[0].url, expect="bytes").body
    site.replica.revise(victim, line="Revised to add shedding data.")
    revised = by_key(site.collect().records)
    assert revised[victim].fields["updated"] != after[victim].fields["updated"]
    new_pdf = site.fetcher.get(revised[victim].attachments[0].url, expect="bytes").body
    assert old_pdf.startswith(b"%PDF-") and new_pdf != old_pdf
    text = PdfReader(io.BytesIO(new_pdf)).pages[0].extract_text()
    assert "Revised to add shedding data." in text

    site.replica.withdraw(victim)
    assert victim not in by_key(site.collect().records)


def test_noise_changes_bytes_but_not_records(site: Site) -> None:
    first = site.collect().records
    raw_before = site.replica.json_bytes()
    site.replica.noise()
    assert site.replica.json_bytes() != raw_before
    second = site.collect()
    assert not second.not_modified
    assert sorted(r.as_dict()["key"] for r in second.records) == sorted(r.key for r in first)
    assert by_key(second.records) == by_key(first)


def test_touch_moves_only_the_updated_field(site: Site) -> None:
    first = by_key(site.collect().records)
    slug = next(iter(site.replica.docs))
    site.replica.touch(slug)
    second = by_key(site.collect().records)
    changed = {k for k in first if first[k] != second[k]}
    assert changed == {slug}
    diff = {k for k in first[slug].fields if first[slug].fields[k] != second[slug].fields[k]}
    assert diff == {"updated"}


def test_centers_filter(site: Site) -> None:
    everything = site.collect().records
    site.fetcher.validators.clear()
    cdrh = site.collect(centers=["CDRH"]).records
    assert 0 < len(cdrh) < len(everything)
    assert all(
        "Devices and Radiological Health" in (r.fields["center"] + r.fields["office"]) for r in cdrh
    )


def test_skipped_entries_are_logged(site: Site, caplog: pytest.LogCaptureFixture) -> None:
    site.replica.raw_extra.append({"title": "No link here"})
    with caplog.at_level(logging.WARNING, logger="sources.adapters.fda"):
        assert len(site.collect().records) == 200
    assert "skipped 1 of 201" in caplog.text


def test_akamai_redirect_is_blocked(site: Site) -> None:
    site.replica.mode = "blocked"
    for kind in ("fda-guidance", "fda-cber-cgt"):
        with pytest.raises(Blocked, match="Akamai"):
            site.collect(kind)
    raw = httpx.get(site.base + GUIDANCE_JSON)
    assert raw.status_code == 302 and raw.headers["location"] == site.base + APOLOGY
    assert httpx.get(site.base + APOLOGY).status_code == 404


def test_html_where_json_was_expected_is_blocked() -> None:
    def app(request: Request) -> Response:
        page = "<!DOCTYPE html><html><body><h1>FDA</h1>" + "x" * 500 + "</body></html>"
        return Response(body=page)

    with ReplicaServer(app) as server, HttpFetcher(HttpSettings(delay=0, retries=0)) as fetcher:
        settings = FdaGuidance.Settings(name="f", kind="fda-guidance", base_url=server.url)
        adapter = FdaGuidance(settings)
        with pytest.raises(Blocked, match="HTML where JSON"):
            adapter.collect(fetcher, {})


def test_error_and_empty_modes(site: Site) -> None:
    site.replica.mode = "error"
    with pytest.raises(FetchError) as caught:
        site.collect()
    assert caught.value.status == 503 and not isinstance(caught.value, Blocked)
    site.replica.mode = "empty"
    for kind in ("fda-guidance", "fda-cber-cgt"):
        with pytest.raises(LayoutChanged):
            site.collect(kind)
    assert httpx.get(site.base + CBER_CGT).status_code == 200


def test_landing_page_and_pdf_are_served(site: Site) -> None:
    doc = next(d for d in site.replica.docs.values() if d.cgt_label)
    page = site.fetcher.get(f"{site.base}{LANDING}{doc.slug}")
    assert f"/media/{doc.media_id}/download" in page.text
    pdf = site.fetcher.get(f"{site.base}/media/{doc.media_id}/download", expect="bytes")
    assert doc.title.split()[0] in PdfReader(io.BytesIO(pdf.body)).pages[0].extract_text()


# --- issue 9, item 8: doc types, final deadlines, topics -------------------------------


@pytest.mark.parametrize(
    ("title", "kind", "expected"),
    [
        (
            "Human Gene Therapy Products Incorporating Human Genome Editing",
            "Guidance Document",
            "guideline",
        ),
        (
            "Safe Handling Statements on Labeling of Shell Eggs",
            "Small Entity Compliance Guide",
            "guideline",
        ),
        (
            "Regulation of Human Cells, Tissues, and Cellular and Tissue-Based Products (HCT/Ps) "
            "- Small Entity Compliance Guide",
            "",
            "guideline",
        ),
        (
            "Questions and Answers on Biosimilar Development and the BPCI Act",
            "Guidance Document",
            "qa",
        ),
        ("Annual Report on Something", "Report", "Report"),
    ],
)
def test_catalogue_doc_type(title: str, kind: str, expected: str) -> None:
    assert catalogue_doc_type(title, kind) == expected


def test_catalogue_records_are_typed_like_their_cber_twins() -> None:
    replica = FdaReplica(size=200)
    catalogue = by_key(parse_guidance_json(replica.json_bytes(), BASE).records)
    cber = parse_cber_cgt_page(replica.cber_page(), BASE)
    assert cber
    for record in cber:
        twin = catalogue[record.key]
        assert twin.fields["doc_type"] in ("guideline", "qa")
        assert classify_record(twin).doc_type == classify_record(record).doc_type or (
            twin.fields["doc_type"] == "qa"
        )


def test_a_final_guidance_drops_the_old_close_date() -> None:
    replica = FdaReplica(size=60)
    slug = replica.add_guidance(
        "Potency Assurance for Cellular and Gene Therapy Products",
        cgt_label="Draft Guidance for Industry",
        comment_days=90,
    )
    draft = by_key(parse_guidance_json(replica.json_bytes(), BASE).records)[slug]
    assert draft.fields["comment_deadline"]
    replica.finalise(slug, keep_slug=True)
    entry = next(e for e in json.loads(replica.json_bytes()) if slug in e["title"])
    assert entry["field_final_guidance_1"] == "Final" and entry["field_comment_close_date"]
    final = by_key(parse_guidance_json(replica.json_bytes(), BASE).records)[slug]
    assert final.status == "Final" and "comment_deadline" not in final.fields


def test_topics_are_comma_separated() -> None:
    replica = FdaReplica(size=60)
    slug = replica.add_guidance(
        "Some Gene Therapy Guidance",
        topics=("Biologics", "Cellular & Gene Therapy", "Rare Diseases"),
    )
    entry = next(e for e in json.loads(replica.json_bytes()) if slug in e["title"])
    assert entry["topics-product"] == "Biologics, Cellular &amp; Gene Therapy, Rare Diseases"
    record = by_key(parse_guidance_json(replica.json_bytes(), BASE).records)[slug]
    assert record.fields["topics"] == "Biologics; Cellular & Gene Therapy; Rare Diseases"
    old_style = [{**entry, "topics-product": "Biologics<br>Rare Diseases"}]
    (parsed,) = parse_guidance_json(json.dumps(old_style), BASE).records
    assert parsed.fields["topics"] == "Biologics; Rare Diseases"


def test_no_closed_deadline_is_shown_for_a_finalised_guidance(tmp_path: Path) -> None:
    """Through the pipeline: the draft's change shows its deadline, the final's does
    not, nor does the document (the old date is not 'closed' on a final document)."""
    replica = FdaReplica(size=80, today=date(2026, 11, 2))
    with ReplicaServer(Router({"/fda": replica})) as server:
        config = loads(f"""
[store]
url = "sqlite:///{tmp_path / "rw.db"}"
[http]
delay = 0
retries = 0
[[source]]
name = "fda"
kind = "fda-guidance"
base_url = "{server.url}/fda"
""")
        store = Store(config.store.url)
        pipeline = Pipeline(config, store)
        pipeline.check_all()
        slug = replica.add_guidance(
            "Considerations for Allogeneic CAR T Cell Products",
            cgt_label="Draft Guidance for Industry",
            comment_days=30,
        )
        pipeline.check_all()
        replica.today = date(2026, 12, 20)  # the comment period is over
        replica.finalise(slug, keep_slug=True)
        pipeline.check_all()
    changes = {
        c["event"]: c
        for c in list_changes(store, ChangeFilter(limit=100))
        if c["url"].endswith(slug)
    }
    assert changes["draft"]["comment_deadline"] and changes["draft"]["doc_type"] == "guideline"
    assert changes["finalised"]["status"] == "final"
    assert changes["finalised"]["comment_deadline"] is None
    assert changes["finalised"]["doc_type"] == "guideline"
