"""One contract, every built-in adapter: the same checks against each
replica, through the real HTTP fetcher and the real pipeline.

- records have stable, unique keys, ISO dates, absolute URLs, titles;
- the same site read twice (with noise-only edits between) gives the same records;
- a blocked site raises Blocked, a 503 raises FetchError;
- a site whose list vanished never produces "removed" (nor any change).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from monitor.history import ChangeFilter, list_changes
from monitor.pipeline.check import Pipeline
from monitor.replica.registry import Running, cases, serve
from monitor.store import Store
from sources.errors import Blocked, FetchError, SourceError
from tests.helpers.contract import ISO, collect, source_config

# every case of monitor/replica/registry.py with the "contract" check
CASES = cases("contract")
IDS = [case.name for case in CASES]


@pytest.fixture(params=CASES, ids=IDS)
def site(request: pytest.FixtureRequest) -> Iterator[Running]:
    with serve(request.param) as running:
        yield running


def test_records_are_well_formed_and_stable(site: Running) -> None:
    case, replica, server = site.case, site.replica, site.server
    first = collect(case, replica, server.url)
    if case.kind == "page":  # a page adapter reads one region's text, no records
        assert first.page_text and not first.records, first
    else:
        assert first.records, "a healthy site gave no records"
    keys = [r.key for r in first.records]
    assert len(keys) == len(set(keys))
    for record in first.records:
        assert record.key and record.title.strip()
        assert record.url.startswith(("http://", "https://")), record
        assert record.date is None or ISO.match(record.date), record.date
        for attachment in record.attachments:
            assert attachment.url.startswith(("http://", "https://")), attachment
        deadline = record.fields.get("comment_deadline")
        assert deadline is None or ISO.match(deadline), deadline
    case.noise(replica)
    again = collect(case, replica, server.url)
    before = {r.key: r.as_dict() for r in first.records}
    after = {r.key: r.as_dict() for r in again.records}
    for shown in (*after.values(), *before.values()):
        shown["fields"].pop("updated", None)
    assert after == before
    assert again.page_text == first.page_text


@pytest.mark.parametrize("mode, error", [("blocked", Blocked), ("error", FetchError)])
def test_a_refusing_site_raises_not_returns(
    site: Running, mode: str, error: type[Exception]
) -> None:
    case, replica, server = site.case, site.replica, site.server
    replica.mode = mode
    with pytest.raises(error):
        collect(case, replica, server.url)


def test_a_vanished_list_never_produces_changes(site: Running, tmp_path: Path) -> None:
    case, replica = site.case, site.replica
    config = source_config(tmp_path, site.source)
    store = Store(config.store.url)
    pipeline = Pipeline(config, store)
    assert pipeline.check(config.sources[0]).outcome == "baseline"
    replica.mode = "empty"
    case.noise(replica)  # a new Last-Modified, so a conditional GET cannot hide the change
    outcomes = [pipeline.check(config.sources[0]).outcome for _ in range(3)]
    assert outcomes == ["failed"] * 3
    assert [
        c["event"] for c in list_changes(store, ChangeFilter(limit=100)) if c["event"] != "health"
    ] == []


def test_every_site_adapter_has_a_contract_case() -> None:
    """Every kind runs this contract here or in tests/test_presets.py (the generic
    kinds on the presets' replicas); tests/test_replica_registry.py says what to add."""
    from sources.registry import kinds

    assert set(kinds()) <= {case.kind for case in (*CASES, *cases("preset"))}
    assert {"cde", "nmpa", "fda-guidance", "fda-cber-cgt", "federal-register"} <= set(IDS)
    assert {"ema-documents", "rss"} <= set(IDS)


def test_source_errors_are_one_family() -> None:
    assert issubclass(Blocked, FetchError) and issubclass(FetchError, SourceError)
