"""One contract, every built-in adapter: the same checks against each
replica, through the real HTTP fetcher and the real pipeline.

- records have stable, unique keys, ISO dates, absolute URLs, titles;
- the same site read twice (with noise-only edits between) gives the same records;
- a blocked site raises Blocked, a 503 raises FetchError;
- a site whose list vanished never produces "removed" (nor any change).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from monitor.config import loads
from monitor.history import ChangeFilter, list_changes
from monitor.pipeline import Pipeline
from monitor.replica.base import SiteReplica
from monitor.replica.cde import CdeReplica
from monitor.replica.ema import EmaReplica
from monitor.replica.fda import FdaReplica
from monitor.replica.federal_register import FederalRegisterReplica
from monitor.replica.nmpa import NmpaReplica
from monitor.replica.server import ReplicaServer
from monitor.store import Store
from sources.errors import Blocked, FetchError, SourceError
from sources.http import HttpFetcher, HttpSettings
from sources.registry import SourceSettings, adapter_for
from sources.types import Listing

TODAY = date(2026, 11, 2)


@dataclass
class Case:
    kind: str
    make: Callable[[], SiteReplica]
    settings: Callable[[SiteReplica, str], dict[str, Any]]
    noise: Callable[[SiteReplica], None]


def _noise(name: str) -> Callable[[SiteReplica], None]:
    return lambda replica: getattr(replica, name)()


CASES = [
    Case("cde", CdeReplica, lambda r, base: r.source_settings(base), _noise("touch")),
    Case("nmpa", NmpaReplica, lambda r, base: r.source_settings(base), _noise("touch")),
    Case(
        "fda-guidance",
        lambda: FdaReplica(today=TODAY),
        lambda r, base: r.source_settings(base),
        _noise("noise"),
    ),
    Case(
        "fda-cber-cgt",
        lambda: FdaReplica(today=TODAY),
        lambda r, base: r.cber_source_settings(base),  # type: ignore[attr-defined]
        _noise("noise"),
    ),
    Case(
        "federal-register",
        lambda: FederalRegisterReplica(today=TODAY),
        lambda r, base: r.source_settings(base),
        lambda r: None,
    ),
    Case(
        "ema-documents",
        lambda: EmaReplica(today=TODAY),
        lambda r, base: r.source_settings(base),
        _noise("refresh"),
    ),
    Case(
        "rss",
        lambda: EmaReplica(today=TODAY),
        lambda r, base: {
            "name": "ema-consultations",
            "kind": "rss",
            "url": f"{base}/en/public-consultations.xml",
        },
        _noise("refresh"),
    ),
]
IDS = [case.kind for case in CASES]
ISO = re.compile(r"^\d{4}-\d{2}-\d{2}$")


@pytest.fixture(params=CASES, ids=IDS)
def site(request: pytest.FixtureRequest) -> Iterator[tuple[Case, SiteReplica, ReplicaServer]]:
    case: Case = request.param
    replica = case.make()
    with ReplicaServer(replica) as server:
        yield case, replica, server


def collect(case: Case, replica: SiteReplica, base: str) -> Listing:
    raw = case.settings(replica, base)
    settings = adapter_for(raw["kind"]).Settings.model_validate(raw)
    assert isinstance(settings, SourceSettings)
    adapter = adapter_for(settings.kind)(settings)
    with HttpFetcher(HttpSettings(delay=0, retries=0, timeout=5)) as fetcher:
        return adapter.collect(fetcher, {})


def test_records_are_well_formed_and_stable(site: tuple[Case, SiteReplica, ReplicaServer]) -> None:
    case, replica, server = site
    first = collect(case, replica, server.url)
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


@pytest.mark.parametrize("mode, error", [("blocked", Blocked), ("error", FetchError)])
def test_a_refusing_site_raises_not_returns(
    site: tuple[Case, SiteReplica, ReplicaServer], mode: str, error: type[Exception]
) -> None:
    case, replica, server = site
    replica.mode = mode  # type: ignore[assignment]
    with pytest.raises(error):
        collect(case, replica, server.url)


def test_a_vanished_list_never_produces_changes(
    site: tuple[Case, SiteReplica, ReplicaServer], tmp_path: Path
) -> None:
    case, replica, server = site
    raw = case.settings(replica, server.url)
    lines = "\n".join(f"{k} = {_toml(v)}" for k, v in raw.items())
    config = loads(
        f'[store]\nurl = "sqlite:///{tmp_path / "c.db"}"\n[http]\ndelay = 0\n'
        f"retries = 0\n[[source]]\n{lines}\nattachments = false\n"
    )
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
    from sources.registry import kinds

    generic = {"html-list", "json-list", "page"}  # covered in test_generic_adapters
    assert set(kinds()) - generic <= set(IDS)


def _toml(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, list):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'


def test_source_errors_are_one_family() -> None:
    assert issubclass(Blocked, FetchError) and issubclass(FetchError, SourceError)
