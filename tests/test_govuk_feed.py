"""The MHRA search (finder) feed as GOV.UK's finder-frontend builds it: ids from
the document's path, ``updated`` only, newest updated first, a window of
entries. An updated document is a change under the same key, never an
addition and a removal; one that falls off the window is not removed."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest

from monitor.config import loads
from monitor.history import ChangeFilter, list_changes
from monitor.pipeline.check import Pipeline
from monitor.replica.commonwealth import MhraReplica
from monitor.replica.server import ReplicaServer
from monitor.store import Store
from sources.adapters.rss import Rss, RssSettings
from sources.fetch.http import HttpFetcher, HttpSettings
from sources.types import Listing

ATMP = "/government/publications/guidance-on-the-regulation-of-advanced-therapy-medicinal-products"


@pytest.fixture
def site() -> Iterator[tuple[MhraReplica, ReplicaServer]]:
    replica = MhraReplica(today=date(2026, 11, 20))
    with ReplicaServer(replica) as server:
        yield replica, server


def collect(replica: MhraReplica, base: str) -> Listing:
    settings = RssSettings.model_validate(replica.source_settings(base, "mhra-updates"))
    with HttpFetcher(HttpSettings(delay=0, retries=0, timeout=5)) as fetcher:
        return Rss(settings).collect(fetcher, {})


def test_the_preset_reads_a_finder_robots_txt_allows(
    site: tuple[MhraReplica, ReplicaServer],
) -> None:
    replica, server = site
    url = replica.source_settings(server.url, "mhra-updates")["url"]
    assert "/search/all" not in url and "/search/guidance-and-regulation.atom?" in url


def test_an_update_resorts_the_entry_under_the_same_key(
    site: tuple[MhraReplica, ReplicaServer],
) -> None:
    replica, server = site
    before = collect(replica, server.url)
    keys = [r.key for r in before.records]
    assert f"tag:www.gov.uk,2005:{ATMP}" in keys
    assert keys[0] == f"tag:www.gov.uk,2005:{ATMP}"  # the newest updated first
    replica.today += timedelta(days=3)
    replica.update("/drug-safety-update/november-2026")
    after = collect(replica, server.url)
    assert after.records[0].key == "tag:www.gov.uk,2005:/drug-safety-update/november-2026"
    assert sorted(r.key for r in after.records) == sorted(keys)
    assert after.records[0].date == "2026-11-23"


def test_through_the_pipeline_an_update_is_one_change_and_the_window_drops_nothing(
    site: tuple[MhraReplica, ReplicaServer], tmp_path: Path
) -> None:
    replica, server = site
    url = replica.source_settings(server.url, "mhra-updates")["url"]
    config = loads(f"""
[store]
url = "sqlite:///{tmp_path / "g.db"}"
[http]
delay = 0
retries = 0
[[source]]
name = "mhra-updates"
kind = "rss"
url = "{url}"
jurisdiction = "UK"
""")
    store = Store(config.store.url)
    pipeline = Pipeline(config, store)
    assert pipeline.check(config.sources[0]).outcome == "baseline"
    replica.today += timedelta(days=1)
    replica.update(ATMP)
    result = pipeline.check(config.sources[0])
    assert result.changes == 1
    (change,) = list_changes(store, ChangeFilter())
    assert change["event"] == "changed" and change["kind"] == "changed"
    # twenty newer publications push the three seeded entries off the feed's window
    for n in range(MhraReplica.WINDOW):
        replica.today += timedelta(days=1)
        replica.add(MhraReplica.SEARCH, f"Yellow Card reporting update {n}", f"/news/yc-{n}")
    for _ in range(3):  # absences are counted over runs: none is a removal
        pipeline.check(config.sources[0])
    events = [c["event"] for c in list_changes(store, ChangeFilter(limit=100))]
    assert "removed" not in events
    assert events.count("added") == MhraReplica.WINDOW
