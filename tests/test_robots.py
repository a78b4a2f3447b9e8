"""robots.txt (issue 15 leftovers, item 4): the HTTP fetcher reads each site's
robots.txt once (a day), fetches nothing it disallows for regwatch, raises the
host's delay by its Crawl-delay, and treats a missing or broken one as "allowed".
Real servers on 127.0.0.1; the pipeline, a store and the probe are real too."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from sqlmodel import select
from typer.testing import CliRunner

from monitor.cli.main import app
from monitor.config import loads
from monitor.pipeline.check import Pipeline
from monitor.replica.commonwealth import GOVUK_ROBOTS
from monitor.replica.registry import CASES, serve
from monitor.replica.server import ReplicaServer, Request, Response
from monitor.store import Store
from monitor.store.models import ChangeRow, DocumentRow
from sources.fetch.http import HttpFetcher, HttpSettings
from sources.fetch.politeness import HostGate, host_of
from sources.fetch.robots import TTL, Disallowed, parse
from tests.helpers.clock import FakeClock
from tests.sites import Item, ListSite

UA = "regwatch/0.1 (+https://github.com/regwatch/regwatch)"


@dataclass
class RobotsSite:
    """A ``ListSite`` with a robots.txt: ``robots`` text, ``status``, or ``hang``."""

    robots: str = ""
    status: int = 200
    hang: float = 0.0
    site: ListSite = field(
        default_factory=lambda: ListSite(
            [Item("a1", "关于发布细胞治疗产品指导原则的通告", "2026-11-20")]
        )
    )
    paths: list[str] = field(default_factory=list)

    def __call__(self, request: Request) -> Response:
        self.paths.append(request.path)
        if request.path == "/robots.txt":
            if self.status != 200:
                return Response(status=self.status, body="no")
            return Response(body=self.robots, content_type="text/plain", delay=self.hang)
        return self.site(request)


@pytest.fixture
def robots_site() -> Iterator[tuple[RobotsSite, ReplicaServer]]:
    site = RobotsSite()
    with ReplicaServer(site) as server:
        yield site, server


def settings(**overrides: object) -> HttpSettings:
    return HttpSettings.model_validate({"delay": 0, "retries": 0, "timeout": 5, **overrides})


# -- the rules ---------------------------------------------------------------------


def test_govuks_robots_txt_forbids_the_search_and_allows_the_finder() -> None:
    rules = parse(GOVUK_ROBOTS, UA)
    base = "https://www.gov.uk"
    assert not rules.allows(f"{base}/search/all.atom?organisations[]=mhra&order=updated-newest")
    assert not rules.allows(f"{base}/search/all?keywords=cell")
    assert rules.allows(f"{base}/search/guidance-and-regulation.atom?organisations[]=mhra")
    assert not rules.allows(f"{base}/guidance/x/print")  # Disallow: /*/print$
    assert rules.allows(f"{base}/guidance/x/printable")
    assert rules.crawl_delay is None  # AhrefsBot's Crawl-delay is not ours
    assert rules.disallowed_rule(f"{base}/search/all.atom") == "/search/all*"
    # a crawler named in its own group gets that group only
    assert not parse(GOVUK_ROBOTS, "deepcrawl/2.0").allows(f"{base}/guidance/x")


def test_our_own_group_wins_over_star_longest_match_and_allow_on_a_tie() -> None:
    text = (
        "User-agent: *\nDisallow: /\n\n"
        "User-agent: RegWatch\nDisallow: /private\nAllow: /private/public\nCrawl-delay: 7\n"
        "Disallow: /same\nAllow: /same\n"
    )
    rules = parse(text, UA)
    assert rules.allows("http://h/list") and not rules.allows("http://h/private/x")
    assert rules.allows("http://h/private/public/x") and rules.allows("http://h/same")
    assert rules.crawl_delay == 7
    assert not parse(text, "otherbot/1").allows("http://h/list")
    assert parse("User-agent: *\nDisallow:\n", UA).allows("http://h/anything")


# -- the fetcher against a real server ---------------------------------------------


def test_a_disallowed_url_is_not_fetched_and_says_why(
    robots_site: tuple[RobotsSite, ReplicaServer],
) -> None:
    site, server = robots_site
    site.robots = "User-agent: *\nDisallow: /list/\n"
    with HttpFetcher(settings()) as fetcher, pytest.raises(Disallowed) as caught:
        fetcher.get(f"{server.url}/list/index.html")
    assert "robots.txt of 127.0.0.1 disallows /list/index.html" in str(caught.value)
    assert "Disallow: /list/" in str(caught.value)
    assert site.paths == ["/robots.txt"]  # the page itself was never asked for


def test_robots_txt_is_read_once_per_host_and_again_after_a_day(
    robots_site: tuple[RobotsSite, ReplicaServer],
) -> None:
    site, server = robots_site
    site.robots = "User-agent: *\nDisallow: /private\n"
    clock = FakeClock()
    gate = HostGate(settings(), clock=clock, sleep=clock.sleep)
    url = f"{server.url}/list/index.html"
    for _ in range(3):  # three checks, each its own fetcher, one shared gate
        with HttpFetcher(settings(), politeness=gate) as fetcher:
            fetcher.get(url)
    assert site.paths.count("/robots.txt") == 1 and site.paths.count("/list/index.html") == 3
    site.robots = "User-agent: *\nDisallow: /list/\n"  # the site changes its mind
    clock.sleep(TTL + 1)
    with HttpFetcher(settings(), politeness=gate) as fetcher, pytest.raises(Disallowed):
        fetcher.get(url)
    assert site.paths.count("/robots.txt") == 2


def test_crawl_delay_raises_the_hosts_delay_up_to_max_wait(
    robots_site: tuple[RobotsSite, ReplicaServer],
) -> None:
    site, server = robots_site
    site.robots = "User-agent: *\nCrawl-delay: 7\n"
    clock = FakeClock()
    gate = HostGate(settings(), clock=clock, sleep=clock.sleep)
    with HttpFetcher(settings(delay=1), politeness=gate) as fetcher:
        fetcher.get(f"{server.url}/list/index.html")
    host = host_of(server.url)
    assert gate.delay_for(host) == 7
    site.robots = "User-agent: *\nCrawl-delay: 9999\n"
    capped = HostGate(settings(), clock=clock, sleep=clock.sleep)
    with HttpFetcher(settings(max_wait=30), politeness=capped) as fetcher:
        fetcher.get(f"{server.url}/list/index.html")
    assert capped.delay_for(host) == 30


@pytest.mark.parametrize("status", [404, 410, 403])
def test_a_missing_robots_txt_allows_everything(
    robots_site: tuple[RobotsSite, ReplicaServer], status: int, caplog: pytest.LogCaptureFixture
) -> None:
    site, server = robots_site
    site.status = status
    with caplog.at_level(logging.WARNING, logger="regwatch.robots"):
        with HttpFetcher(settings()) as fetcher:
            assert fetcher.get(f"{server.url}/list/index.html").status == 200
    assert not caplog.records  # nothing to say: no robots.txt is normal


@pytest.mark.parametrize("broken", ["500", "timeout"])
def test_a_robots_txt_that_fails_or_stalls_allows_and_is_logged(
    robots_site: tuple[RobotsSite, ReplicaServer], broken: str, caplog: pytest.LogCaptureFixture
) -> None:
    site, server = robots_site
    if broken == "500":
        site.status = 500
    else:
        site.robots, site.hang = "User-agent: *\nDisallow: /\n", 3.0
    with caplog.at_level(logging.WARNING, logger="regwatch.robots"):
        with HttpFetcher(settings(deadline=0.5, check_deadline=20)) as fetcher:
            assert fetcher.get(f"{server.url}/list/index.html").status == 200
    (record,) = caplog.records
    assert "robots.txt of http://127.0.0.1" in record.getMessage()
    assert "allowed, asked again in an hour" in record.getMessage()


def test_robots_false_never_asks(robots_site: tuple[RobotsSite, ReplicaServer]) -> None:
    site, server = robots_site
    site.robots = "User-agent: *\nDisallow: /\n"
    with HttpFetcher(settings(robots=False)) as fetcher:
        assert fetcher.get(f"{server.url}/list/index.html").status == 200
    assert site.paths == ["/list/index.html"]


# -- through the pipeline and the probe ----------------------------------------------


def _config(tmp_path: Path, url: str, robots: bool = True) -> str:
    return f"""
[store]
url = "sqlite:///{tmp_path / "r.db"}"
[http]
delay = 0
retries = 0
robots = {"true" if robots else "false"}
[health]
alert_after = 2
[[source]]
name = "notices"
kind = "html-list"
url = "{url}"
item = ".list ul li"
"""


def test_a_disallowed_source_is_a_health_event_never_an_alert(
    robots_site: tuple[RobotsSite, ReplicaServer], tmp_path: Path
) -> None:
    site, server = robots_site
    site.robots = "User-agent: *\nDisallow: /list/\n"
    config = loads(_config(tmp_path, f"{server.url}/list/index.html"))
    store = Store(config.store.url)
    pipeline = Pipeline(config, store)
    first, second = pipeline.check(config.sources[0]), pipeline.check(config.sources[0])
    assert first.outcome == second.outcome == "failed"
    assert "robots.txt of 127.0.0.1 disallows /list/index.html" in first.error
    assert second.events == ["health"]  # alert_after = 2
    with store.session() as session:
        assert session.exec(select(DocumentRow)).all() == []
        kinds = [c.kind for c in session.exec(select(ChangeRow))]
    assert kinds == ["health"]
    assert "/list/index.html" not in site.paths and site.paths.count("/robots.txt") == 1


def test_probe_shows_the_verdict(
    robots_site: tuple[RobotsSite, ReplicaServer], tmp_path: Path
) -> None:
    site, server = robots_site
    site.robots = "User-agent: *\nDisallow: /list/\nCrawl-delay: 3\n"
    path = tmp_path / "regwatch.toml"
    path.write_text(_config(tmp_path, f"{server.url}/list/index.html"), encoding="utf-8")
    result = CliRunner().invoke(app, ["probe", "notices", "-c", str(path)])
    assert result.exit_code == 6
    assert (
        f"robots.txt: disallows {server.url}/list/index.html (Disallow: /list/); "
        "Crawl-delay 3 s" in result.output
    )
    assert "result: Disallowed: robots.txt of 127.0.0.1 disallows /list/index.html" in (
        result.output
    )
    path.write_text(_config(tmp_path, f"{server.url}/list/index.html", robots=False), "utf-8")
    result = CliRunner().invoke(app, ["probe", "notices", "-c", str(path)])
    assert result.exit_code == 0 and "robots.txt: ignored ([http] robots = false)" in result.output


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_every_replica_source_is_allowed_by_its_robots_txt(case: object) -> None:
    """The replicas the tests and the demo use are not disallowed (the MHRA one
    serves GOV.UK's robots.txt, whose rules the preset's finder passes)."""
    from monitor.replica.registry import ReplicaCase

    assert isinstance(case, ReplicaCase)
    with serve(case) as running, HttpFetcher(settings()) as fetcher:
        url = str(running.source.get("url") or running.source.get("base_url"))
        rules = fetcher.robots_rules(url)
        assert rules is not None and rules.allows(url), url
