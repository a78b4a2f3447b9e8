"""The issue-15 presets (PMDA, MHRA, Health Canada, TGA, China's State Council
policy library): each starter ``[[source]]`` read through the real HTTP fetcher
and the real pipeline against its replica — the same contract as the built-in
adapters (well-formed stable records, refusals raise, a vanished list never
produces changes), plus what each site's evidence says the records carry."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from monitor.history import ChangeFilter, list_changes
from monitor.pipeline.check import Pipeline
from monitor.replica.commonwealth import HealthCanadaReplica, MhraReplica
from monitor.replica.nhc import NhcReplica
from monitor.replica.presets import GovCnPolicyReplica, PmdaReplica, starter_source
from monitor.replica.registry import ReplicaCase, cases, serve
from monitor.replica.server import ReplicaServer
from monitor.starter import starter_config
from monitor.store import Store
from sources.errors import FetchError, SourceError
from sources.fetch.http import HttpFetcher, HttpSettings
from sources.types import Listing, Record
from tests.helpers.contract import ISO, collect, source_config

# every case of monitor/replica/registry.py with the "preset" check
CASES = cases("preset")
IDS = [case.name for case in CASES]

# where ``add`` publishes for each preset (a list path, or a gov.cn category)
LIST_PATHS = {
    "pmda-new": "/rss_015.xml",
    "pmda-english": "/rss_008.xml",
    "pmda-regulatory-science": "/rss_017.xml",
    "pmda-reviews": "/rss_021.xml",
    "pmda-regenerative-notices": PmdaReplica.NOTICES,
    "mhra": MhraReplica.ORG,
    "mhra-updates": MhraReplica.SEARCH,
    "health-canada-cgt-guidance": HealthCanadaReplica.PAGE,
    "tga-publications": "/feeds/publication/publications.xml",
    "tga-articles": "/feeds/article.xml",
    "gov-cn-policy": "gongwen",
    "gov-cn-policy-departments": "bumenfile",
    "nhc-regulations": NhcReplica.LIST,
}

Site = tuple[ReplicaCase, Any, ReplicaServer]


@pytest.fixture(params=CASES, ids=IDS)
def site(request: pytest.FixtureRequest) -> Iterator[Site]:
    with serve(request.param) as running:
        yield running.case, running.replica, running.server


def by_key(listing: Listing) -> dict[str, Record]:
    return {r.key: r for r in listing.records}


def test_records_are_well_formed_and_stable(
    site: Site,
) -> None:
    case, replica, server = site
    first = collect(case, replica, server.url)
    assert first.records, "a healthy site gave no records"
    assert len({r.key for r in first.records}) == len(first.records)
    for record in first.records:
        assert record.title.strip() and "<em>" not in record.title
        assert record.url.startswith(("http://", "https://")), record
        assert record.date is not None and ISO.match(record.date), record
    replica.touch()
    assert collect(case, replica, server.url).records == first.records


def test_an_added_retitled_and_removed_item_shows(
    site: Site,
) -> None:
    case, replica, server = site
    assert case.name in LIST_PATHS, "say where `add` publishes: LIST_PATHS in tests/test_presets.py"
    before = by_key(collect(case, replica, server.url))
    path = (
        "https://www.gov.cn/zhengce/content/202611/content_7099999.htm"
        if case.name.startswith("gov-cn")
        else "/new/cell-therapy-guidance.html"
    )
    replica.add(LIST_PATHS[case.name], "细胞治疗产品 <em>药品</em> guidance on cell therapy", path)
    added = by_key(collect(case, replica, server.url))
    (new_key,) = set(added) - set(before)
    assert added[new_key].date == replica.today.isoformat()
    replica.retitle(path, "Revised: cell therapy 药品 guidance")
    assert by_key(collect(case, replica, server.url))[new_key].title.startswith("Revised")
    replica.remove(path)
    assert set(by_key(collect(case, replica, server.url))) == set(before)


@pytest.mark.parametrize("mode", ["blocked", "error"])
def test_a_refusing_site_raises_not_returns(site: Site, mode: str) -> None:
    case, replica, server = site
    replica.mode = mode
    with pytest.raises(FetchError):
        collect(case, replica, server.url)


def test_a_vanished_list_never_produces_changes(site: Site, tmp_path: Path) -> None:
    case, replica, server = site
    config = source_config(tmp_path, case.source(replica, server.url), db="p.db")
    pipeline = Pipeline(config, Store(config.store.url))
    assert pipeline.check(config.sources[0]).outcome == "baseline"
    replica.mode = "empty"
    replica.touch()
    outcomes = {pipeline.check(config.sources[0]).outcome for _ in range(3)}
    assert outcomes <= {"failed", "blocked"} and outcomes  # a health event, every time
    store = Store(config.store.url)
    assert [
        c["event"] for c in list_changes(store, ChangeFilter(limit=100)) if c["event"] != "health"
    ] == []


def test_every_generic_preset_has_a_case() -> None:
    """Every starter preset on a generic adapter (the issue-15 sites and NHC) runs
    here; tests/test_replica_registry.py covers the rest."""
    import tomllib

    names = {t["name"] for t in tomllib.loads(starter_config())["source"]}
    ours = {n for n in names if n.startswith(("pmda", "mhra", "health-canada", "tga", "gov-cn"))}
    assert ours | {"nhc-regulations"} == set(IDS)
    assert set(IDS) <= set(LIST_PATHS)
    for name in IDS:
        assert starter_source(name)["url"].startswith("https://")


# --- what each site's evidence says the records carry ---------------------------------


def test_pmda_feeds_are_rss_1_with_dc_dates() -> None:
    replica = PmdaReplica()
    case = CASES[IDS.index("pmda-new")]
    with ReplicaServer(replica) as server:
        feed = server.url + "/rss_015.xml"
        with HttpFetcher(HttpSettings(delay=0, retries=0)) as fetcher:
            body = fetcher.get(feed, expect="xml").text
        listing = collect(case, replica, server.url)
    assert "<rdf:RDF" in body and "http://purl.org/rss/1.0/" in body and "<dc:date>" in body
    assert all(r.title.startswith("[") for r in listing.records)  # [審査], [安全] …
    assert {r.date for r in listing.records} == {
        i.day.isoformat() for i in replica.lists["/rss_015.xml"]
    }


def test_pmda_notices_read_japanese_dates(tmp_path: Path) -> None:
    replica = PmdaReplica()
    case = CASES[IDS.index("pmda-regenerative-notices")]
    with ReplicaServer(replica) as server:
        listing = collect(case, replica, server.url)
    dates = sorted(r.date or "" for r in listing.records)
    assert dates == ["2014-08-12", "2024-03-29"]
    assert all(r.url.endswith(".pdf") for r in listing.records)
    assert all(r.title.endswith("について") for r in listing.records)


def test_gov_cn_records_carry_number_issuer_and_clean_titles() -> None:
    replica = GovCnPolicyReplica()
    case = CASES[IDS.index("gov-cn-policy-departments")]
    with ReplicaServer(replica) as server:
        (record,) = collect(case, replica, server.url).records
    assert record.title == "国家药监局关于发布《药品注册管理办法》配套文件的公告"
    assert record.date == "2026-04-15"
    assert record.fields["doc_number"] == "国家药监局公告2026年第30号"
    assert record.fields["issuer"] == "国家药监局"
    assert record.url.startswith("https://www.gov.cn/zhengce/")


def test_source_errors_are_one_family() -> None:
    assert issubclass(FetchError, SourceError)
