"""The hostile-site suite, network half: slow servers and redirects on real sockets.

A server trickling its response must not hold a check past its deadline nor
the host gate for other sources; redirects must stay on the source's site
(host and port), and addresses never a regulator are refused at connect time.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlmodel import select

from monitor.config import loads
from monitor.pipeline.check import Pipeline
from monitor.replica.server import ReplicaServer, Request, Response
from monitor.store import Store
from monitor.store.models import RunRow
from sources.fetch.http import HttpFetcher, HttpSettings
from sources.fetch.netpolicy import (
    AddressRefused,
    DeadlineExceeded,
    NetworkPolicy,
    RedirectRefused,
    address_kind,
    same_site,
)
from sources.fetch.politeness import HostGate
from tests.helpers.hostile import TrickleServer
from tests.sites import Item, ListSite

SETTINGS = HttpSettings(  # robots.txt off: these servers count connections
    timeout=5, deadline=1.0, check_deadline=3.0, delay=0, retries=2, backoff=0.01, robots=False
)


def source(name: str, url: str) -> str:
    return f"""
[[source]]
name = "{name}"
kind = "html-list"
url = "{url}"
item = ".list ul li"
title = "a"
link = "a@href"
date = "span"
"""


def config_text(tmp_path: Path, *sources: str, http: str = "") -> str:
    return f"""
[store]
url = "sqlite:///{tmp_path / "regwatch.db"}"

[http]
timeout = 5
deadline = 1.0
check_deadline = 3.0
delay = 0
retries = 2
backoff = 0.01
{http}
""" + "".join(sources)


@pytest.fixture
def trickle() -> Iterator[TrickleServer]:
    with TrickleServer(interval=0.05) as server:
        yield server


def test_a_trickling_body_is_abandoned_at_the_request_deadline(trickle: TrickleServer) -> None:
    with HttpFetcher(SETTINGS) as fetcher, pytest.raises(DeadlineExceeded) as caught:
        fetcher.get(trickle.url + "/list/index.html")
    assert "http.deadline = 1 s" in caught.value.message
    assert trickle.wait_abandoned(1)
    assert trickle.connections == 1  # a deadline is not retried


def test_trickling_headers_are_abandoned_too() -> None:
    with TrickleServer(interval=0.05, headers_too=True) as server, HttpFetcher(SETTINGS) as f:
        with pytest.raises(DeadlineExceeded):
            f.get(server.url + "/")
        assert server.wait_abandoned(1)


def test_the_check_deadline_bounds_many_requests(trickle: TrickleServer) -> None:
    settings = SETTINGS.model_copy(update={"deadline": 100.0, "check_deadline": 1.0})
    with HttpFetcher(settings) as fetcher:
        with pytest.raises(DeadlineExceeded) as caught:
            fetcher.get(trickle.url + "/a")
        assert "http.check_deadline = 1 s" in caught.value.message
        with pytest.raises(DeadlineExceeded):  # later requests of the check fail at once
            fetcher.get(trickle.url + "/b")
    assert trickle.connections == 1


def test_the_gate_gives_up_waiting_at_the_deadline_and_is_released_after() -> None:
    gate = HostGate(per_host=1, delay=0)
    held = threading.Event()
    release = threading.Event()

    def hold() -> None:
        with gate.slot("h"):
            held.set()
            release.wait(10)

    thread = threading.Thread(target=hold)
    thread.start()
    assert held.wait(5)
    with pytest.raises(TimeoutError), gate.slot("h", timeout=0.05):
        pass
    release.set()
    thread.join()
    with gate.slot("h", timeout=0.05):  # free again
        pass


def test_a_stalled_source_fails_with_a_health_event_and_its_neighbour_still_runs(
    tmp_path: Path, trickle: TrickleServer
) -> None:
    # Both sources live on 127.0.0.1; the stalled one goes first on the shared host gate.
    with ReplicaServer(ListSite(items=[Item("1", "细胞治疗产品指导原则", "2026-06-01")])) as ok:
        config = loads(
            config_text(
                tmp_path,
                source("stalled", trickle.url + "/list/index.html"),
                source("fine", ok.url + "/list/index.html"),
            )
        )
        store = Store(config.store.url)
        store.migrate()
        results = {r.source: r for r in Pipeline(config, store).check_all()}
    assert results["stalled"].outcome == "failed"
    assert "deadline" in (results["stalled"].error or "")
    assert results["fine"].outcome == "baseline"
    with store.session() as session:
        runs = session.exec(select(RunRow)).all()
    assert sorted(r.outcome for r in runs) == ["baseline", "failed"]


# -- redirects and addresses ----------------------------------------------------


class Redirector:
    def __init__(self, location: str) -> None:
        self.location = location

    def __call__(self, request: Request) -> Response:
        if request.path == "/here":
            return Response(body="<html>on the site</html>")
        return Response(status=302, headers={"Location": self.location})


SECRET = "INTERNAL SECRET db_password=hunter2"


@pytest.fixture
def internal() -> Iterator[ReplicaServer]:
    with ReplicaServer(lambda request: Response(body=SECRET)) as server:
        yield server


def test_a_redirect_to_another_port_is_refused(internal: ReplicaServer) -> None:
    with ReplicaServer(Redirector(internal.url + "/secret")) as site, HttpFetcher(SETTINGS) as f:
        with pytest.raises(RedirectRefused) as caught:
            f.get(site.url + "/start")
    assert "allow_redirects_to" in str(caught.value)
    assert internal.requests == []


def test_a_redirect_on_the_same_site_is_followed() -> None:
    with ReplicaServer(Redirector("/here")) as site, HttpFetcher(SETTINGS) as fetcher:
        assert fetcher.get(site.url + "/start").text == "<html>on the site</html>"


def test_allow_redirects_to_lets_a_listed_site_through(internal: ReplicaServer) -> None:
    port = internal.url.rsplit(":", 1)[1]
    policy = NetworkPolicy(allow_redirects_to=(f"127.0.0.1:{port}",))
    with (
        ReplicaServer(Redirector(internal.url + "/x")) as site,
        HttpFetcher(SETTINGS, policy=policy) as fetcher,
    ):
        assert fetcher.get(site.url + "/start").text == SECRET


def test_the_metadata_address_is_refused_even_when_allowed() -> None:
    policy = NetworkPolicy(allow_redirects_to=("169.254.169.254",), allow_local=True)
    with (
        ReplicaServer(Redirector("http://169.254.169.254/latest/meta-data/")) as site,
        HttpFetcher(SETTINGS, policy=policy) as fetcher,
    ):
        with pytest.raises(AddressRefused, match=r"169\.254\.169\.254"):
            fetcher.get(site.url + "/start")


def test_a_public_source_cannot_reach_loopback(internal: ReplicaServer) -> None:
    policy = NetworkPolicy.for_source("https://www.nmpa.gov.cn", ())
    assert policy.allow_local is False
    with HttpFetcher(SETTINGS, policy=policy) as fetcher, pytest.raises(AddressRefused):
        fetcher.get(internal.url + "/secret")
    assert internal.requests == []


def test_a_redirect_to_another_port_fails_the_check_and_alerts_nothing(
    tmp_path: Path, internal: ReplicaServer
) -> None:
    with ReplicaServer(Redirector(internal.url + "/secret")) as site:
        config = loads(config_text(tmp_path, source("moved", site.url + "/list/index.html")))
        store = Store(config.store.url)
        store.migrate()
        [result] = Pipeline(config, store).check_all()
    assert result.outcome == "failed" and "refused" in (result.error or "")
    assert internal.requests == []


@pytest.mark.parametrize(
    ("ip", "kind"),
    [
        ("169.254.169.254", "forbidden"),
        ("0.0.0.0", "forbidden"),
        ("0.1.2.3", "forbidden"),
        ("fe80::1", "forbidden"),
        ("fd00:ec2::254", "forbidden"),
        ("224.0.0.1", "forbidden"),
        ("::ffff:169.254.169.254", "forbidden"),
        ("100.100.100.200", "forbidden"),
        ("::", "forbidden"),
        ("127.0.0.1", "local"),
        ("10.1.2.3", "local"),
        ("192.168.0.1", "local"),
        ("::1", "local"),
        ("::ffff:127.0.0.1", "local"),
        ("8.8.8.8", "public"),
        ("2001:4860:4860::8888", "public"),
    ],
)
def test_address_kinds(ip: str, kind: str) -> None:
    assert address_kind(ip) == kind


def test_same_site_compares_host_and_port() -> None:
    assert same_site("https://a.example/x", "http://a.example/")
    assert same_site("http://a.example:8080/x", "http://a.example:8080/")
    assert not same_site("http://a.example:8081/x", "http://a.example:8080/")
    assert not same_site("ftp://a.example/x", "http://a.example/")
    assert not same_site("http://b.example/x", "http://a.example/")


def test_a_bad_allow_redirects_to_entry_is_a_config_error(tmp_path: Path) -> None:
    from monitor.errors import ConfigError

    text = config_text(
        tmp_path, source("s", "http://127.0.0.1:1/") + 'allow_redirects_to = ["ftp://x"]\n'
    )
    with pytest.raises(ConfigError, match="allow_redirects_to"):
        loads(text)
