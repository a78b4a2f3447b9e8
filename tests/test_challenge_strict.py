"""The strict challenge replica (the worst case the public record shows for
CDE/NMPA, issue 11) and the browser's page-driven reading against it.

Without a browser: a headless User-Agent never passes, an unsigned script
call is refused with 400, the cookie dies after its lifetime (injected clock)
and after the request budget. With the system Chromium: ``fetch()`` from the
page is refused, the list page's own XHR passes, and a cookie that expires
mid-list is renewed by opening the list again, once.
"""

from __future__ import annotations

import itertools
import time

import httpx
import pytest

from monitor.replica.cde import LIST_IDS, CdeReplica
from monitor.replica.challenge import TOKEN_PARAM, JsCookieChallenge, api_token_for, solve
from monitor.replica.server import ReplicaServer, Request, Response
from sources.adapters.cde import NEXT_PAGE
from sources.errors import Blocked
from sources.fetch.browser import BrowserFetcher, BrowserSettings, browser_available
from sources.fetch.http import HttpSettings
from sources.fetch.politeness import HostGate

HTTP = HttpSettings(delay=0, retries=0, timeout=10)
WINDOW = BrowserSettings(timeout=20)
HEADLESS = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 HeadlessChrome/156.0 Safari/537.36"
PERSON = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/156.0 Safari/537.36"
LIST = f"/zdyz/listpage/{LIST_IDS['domestic']}"
API = "/zdyz/getDomesticGuideList"
needs_chromium = pytest.mark.skipif(browser_available() is None, reason="Chromium is not installed")


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


def hello(request: Request) -> Response:
    return Response(body="<html><head></head><body>内容</body></html>")


def cookies_for(client: httpx.Client, agent: str = PERSON) -> dict[str, str]:
    token = client.get("/", headers={"User-Agent": agent}).cookies["FSSBBIl1UgzbN7N80S"]
    return {
        "Cookie": f"FSSBBIl1UgzbN7N80S={token}; FSSBBIl1UgzbN7N80ST={solve(token)}",
        "User-Agent": agent,
    }


def test_headless_user_agent_never_passes_even_with_the_right_cookie() -> None:
    gate = JsCookieChallenge(hello, secret="s", strict=True)
    lenient = JsCookieChallenge(hello, secret="s")
    with ReplicaServer(gate) as server, httpx.Client(base_url=server.url) as client:
        headless = client.get("/", headers=cookies_for(client, HEADLESS))
        person = client.get("/", headers=cookies_for(client))
    with ReplicaServer(lenient) as server, httpx.Client(base_url=server.url) as client:
        old_behaviour = client.get("/", headers=cookies_for(client, HEADLESS))
    assert headless.status_code == 202 and "$_ts" in headless.text
    assert person.status_code == 200 and "内容" in person.text
    assert old_behaviour.status_code == 200


def test_unsigned_script_calls_are_refused_with_400_and_signed_ones_pass() -> None:
    gate = JsCookieChallenge(hello, secret="s", strict=True)
    with ReplicaServer(gate) as server, httpx.Client(base_url=server.url) as client:
        jar = cookies_for(client)
        script = {**jar, "Sec-Fetch-Dest": "empty"}
        unsigned = client.get("/data", headers=script)
        value = solve(jar["Cookie"].split("FSSBBIl1UgzbN7N80S=")[1].split(";")[0])
        signed = client.get(
            "/data", params={TOKEN_PARAM: api_token_for(value, "/data")}, headers=script
        )
        wrong = client.get("/data", params={TOKEN_PARAM: "00000000"}, headers=script)
        page = client.get("/", headers={**jar, "Sec-Fetch-Dest": "document"})
    assert unsigned.status_code == 400 and "非法url，被拒绝访问" in unsigned.text
    assert wrong.status_code == 400
    assert signed.status_code == 200 and page.status_code == 200
    # The page's hook signs XMLHttpRequest only: nothing wraps fetch() in strict mode.
    assert "XMLHttpRequest.prototype.open" in page.text and "window.fetch" not in page.text


def test_cookie_lifetime_and_request_budget() -> None:
    clock = Clock()
    gate = JsCookieChallenge(
        hello, secret="s", strict=True, lifetime=60, max_requests=3, clock=clock
    )
    with ReplicaServer(gate) as server, httpx.Client(base_url=server.url) as client:
        first = client.get("/", headers={"User-Agent": PERSON})
        assert "max-age=60" in first.text  # the script sets the cookie with a lifetime
        jar = cookies_for(client)
        statuses = [client.get("/", headers=jar).status_code for _ in range(4)]
        jar = cookies_for(client)
        clock.now += 59
        fresh = client.get("/", headers=jar).status_code
        clock.now += 2
        expired = client.get("/", headers=jar).status_code
    assert statuses == [200, 200, 200, 202]
    assert (fresh, expired) == (200, 202)


@pytest.mark.browser
@needs_chromium
def test_fetch_from_the_page_is_refused_but_the_pages_own_xhr_passes() -> None:
    cde = CdeReplica()
    gate = JsCookieChallenge(cde, "ruishu-202", strict=True)
    with ReplicaServer(gate) as server, BrowserFetcher(HTTP, WINDOW) as fetcher:
        with pytest.raises(Blocked) as refused:
            fetcher.post(
                server.url + API,
                data={"pageNum": "1", "pageSize": "10"},
                headers={"Referer": server.url + LIST},
            )
        answers = list(fetcher.pages(server.url + LIST, match=API, next_page=NEXT_PAGE))
    domestic = [g for g in cde.guidelines.values() if g.listing == "domestic"]
    rows = [row for a in answers for row in a.json()["data"]["records"]]
    assert refused.value.status == 400 and "非法url" in str(refused.value)
    assert len(answers) == -(-len(domestic) // 10) > 1
    assert sorted(r["zdyzIdCODE"] for r in rows) == sorted(g.id for g in domestic)


@pytest.mark.browser
@needs_chromium
def test_a_cookie_expiring_mid_list_is_renewed_by_opening_the_list_again() -> None:
    clock = Clock()
    cde = CdeReplica()
    gate = JsCookieChallenge(cde, "ruishu-202", strict=True, lifetime=600, clock=clock)
    with ReplicaServer(gate) as server, BrowserFetcher(HTTP, WINDOW) as fetcher:
        answers = []
        for number, answer in enumerate(
            fetcher.pages(server.url + LIST, match=API, next_page=NEXT_PAGE), 1
        ):
            answers.append(answer.json()["data"]["current"])
            if number == 2:
                clock.now += 601  # the next list call meets the challenge again
    domestic = [g for g in cde.guidelines.values() if g.listing == "domestic"]
    assert answers == list(range(1, -(-len(domestic) // 10) + 1))
    challenged = [path for method, path, passed in gate.log if not passed]
    assert challenged == [LIST, API, LIST]  # first visit, the expired call, the renewal


@pytest.mark.browser
@needs_chromium
def test_pager_clicks_wait_for_the_host_delay() -> None:
    """One page at a time per host: each click of the pager waits for the configured delay."""
    cde = CdeReplica()
    stamps: list[float] = []

    def timed(request: Request) -> Response:
        if request.path == API:
            stamps.append(time.monotonic())
        return cde(request)

    gate = JsCookieChallenge(timed, "ruishu-202", strict=True)
    with (
        ReplicaServer(gate) as server,
        BrowserFetcher(HTTP, WINDOW, politeness=HostGate(per_host=1, delay=0.8)) as fetcher,
    ):
        answers = list(fetcher.pages(server.url + LIST, match=API, next_page=NEXT_PAGE))
    assert len(stamps) == len(answers) >= 3
    gaps = [later - earlier for earlier, later in itertools.pairwise(stamps)]
    assert min(gaps) >= 0.75, gaps
