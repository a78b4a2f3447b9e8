"""The browser fetcher, the auto fetcher and the JavaScript cookie challenge.

Browser tests drive the system Chromium (``.ci/install-chromium.sh``) against
``JsCookieChallenge`` replicas on 127.0.0.1; they are skipped only when
Chromium is not installed. The challenge's own tests need no browser.
"""

from __future__ import annotations

import itertools
import json
import sys
import threading
import time
from collections.abc import Iterator

import httpx
import pytest

from monitor.replica.challenge import (
    META_ID,
    TOKEN_PARAM,
    JsCookieChallenge,
    api_token_for,
    proof_ok,
    solve,
)
from monitor.replica.server import ReplicaServer, Request, Response
from sources.errors import Blocked, BrowserUnavailable, FetchError, TooLarge
from sources.fetch.browser import (
    INSTALL_HINT,
    BrowserFetcher,
    BrowserSettings,
    browser_available,
    chromium_path,
)
from sources.fetch.fetchers import AutoFetcher, make_fetcher
from sources.fetch.http import HttpFetcher, HttpSettings
from sources.fetch.politeness import HostGate, host_of
from tests.helpers.clock import FakeClock

CHROMIUM = browser_available(BrowserSettings())
needs_chromium = pytest.mark.skipif(
    CHROMIUM is None,
    reason="Chromium or playwright is not installed (bash .ci/install-chromium.sh; "
    "pip install regwatch[browser])",
)
browser = [pytest.mark.browser, needs_chromium]

HTTP = HttpSettings(delay=0, retries=0, timeout=10, robots=False)  # requests are counted
FAST = BrowserSettings(timeout=15)
LIST_PAGE = "/zdyz/listpage/9cd8db3b7530c6fa0c86485e563f93c7"
TITLE = "基因治疗产品非临床研究技术指导原则"


def site(request: Request) -> Response:
    """A small CDE-like site: a list page and its JSON API (docs/sources.md shapes)."""
    if request.path == "/zdyz/getDomesticGuideList" and request.method == "POST":
        form = request.form
        record = {
            "issueDate": "20260601",
            "nowstate": "颁布",
            "fclass": "生物制品",
            "title": TITLE,
            "zdyzIdCODE": "981efd549bda05ee430ec550583776fc",
        }
        data = {
            "records": [record],
            "total": 1,
            "pages": 1,
            "current": int(form.get("pageNum", "1")),
            "echo": {"form": form, "query": request.query},
        }
        body = json.dumps({"code": 200, "msg": "ok", "data": data}, ensure_ascii=False)
        return Response(body=body, content_type="application/json;charset=UTF-8")
    if request.path in ("/", LIST_PAGE, "/zdyz/index"):
        return Response(
            body=f"<!DOCTYPE html><html><head><title>指导原则专栏</title></head>"
            f"<body><ul class='list'><li>{TITLE}</li></ul></body></html>"
        )
    return Response(status=404, body="<html><body>not found</body></html>")


@pytest.fixture()
def guarded() -> Iterator[tuple[ReplicaServer, JsCookieChallenge]]:
    challenge = JsCookieChallenge(site, "ruishu-202", secret="test")
    with ReplicaServer(challenge) as server:
        yield server, challenge


# -- the challenge itself (no browser) ------------------------------------------------


@pytest.mark.parametrize(
    ("style", "status", "cookie"),
    [("ruishu-202", 202, "FSSBBIl1UgzbN7N80S"), ("ruishu-412", 412, "NfBCSins2OywS")],
)
def test_plain_client_gets_only_the_challenge(style: str, status: int, cookie: str) -> None:
    challenge = JsCookieChallenge(site, style, secret="s")  # type: ignore[arg-type]
    with ReplicaServer(challenge) as server, httpx.Client(base_url=server.url) as client:
        page = client.get(LIST_PAGE)
        api = client.post("/zdyz/getDomesticGuideList", data={"pageNum": "1"})
        # Cookies the server set do not help a client that does not run the script.
        again = client.get(LIST_PAGE)
    for response in (page, api, again):
        assert response.status_code == status
        assert TITLE not in response.text
        assert "$_ts" in response.text and f'id="{META_ID}"' in response.text
        assert "$_ts.cd" in response.text and "$_ts.nsd" in response.text
        assert 20_000 < len(response.content) < 30_000
    assert page.cookies.get(cookie)
    assert all(passed is False for _, _, passed in challenge.log)


def test_python_solution_is_accepted_and_wrong_ones_are_not() -> None:
    challenge = JsCookieChallenge(site, "ruishu-202", secret="s", api_token=False)
    with ReplicaServer(challenge) as server, httpx.Client(base_url=server.url) as client:
        page = client.get("/")
        token = page.cookies["FSSBBIl1UgzbN7N80S"]
        assert f'content="{token}"' in page.text
        good = solve(token)
        counter = int(good.rsplit(".", 1)[1], 36)
        bad = next(n for n in range(counter + 1, counter + 10_000) if not proof_ok(token, n))
        forged = "0" * 16 + token[16:]
        for wrong in (f"{token}.{bad:x}", solve(forged), token, f"{token}."):
            client.cookies.set("FSSBBIl1UgzbN7N80ST", wrong)
            assert client.get("/").status_code == 202, wrong
        client.cookies.set("FSSBBIl1UgzbN7N80S", token)  # the challenges reset it
        client.cookies.set("FSSBBIl1UgzbN7N80ST", good)
        ok = client.get(LIST_PAGE)
    assert ok.status_code == 200 and TITLE in ok.text


def test_api_calls_need_the_page_token() -> None:
    challenge = JsCookieChallenge(site, "ruishu-202", secret="s")
    api = "/zdyz/getDomesticGuideList"
    with ReplicaServer(challenge) as server, httpx.Client(base_url=server.url) as client:
        token = client.get("/").cookies["FSSBBIl1UgzbN7N80S"]
        cookie = {"Cookie": f"FSSBBIl1UgzbN7N80S={token}; FSSBBIl1UgzbN7N80ST={solve(token)}"}
        form = {"pageNum": "2"}
        without = client.post(api, data=form, headers=cookie)
        wrong = client.post(api, params={TOKEN_PARAM: "00000000"}, data=form, headers=cookie)
        right_token = {TOKEN_PARAM: api_token_for(solve(token), api)}
        right = client.post(api, params=right_token, data=form, headers=cookie)
        no_cookie = client.post(api, params=right_token, data=form, headers={"Cookie": ""})
    assert [without.status_code, wrong.status_code, no_cookie.status_code] == [202, 202, 202]
    assert right.status_code == 200
    assert right.json()["data"]["echo"] == {"form": {"pageNum": "2"}, "query": {}}


def test_captcha_style_admits_nobody() -> None:
    challenge = JsCookieChallenge(site, "captcha", secret="s")
    with ReplicaServer(challenge) as server, httpx.Client(base_url=server.url) as client:
        token = client.get("/").cookies["FSSBBIl1UgzbN7N80S"]
        client.cookies.set("FSSBBIl1UgzbN7N80ST", solve(token))
        response = client.get("/")
    assert response.status_code == 202 and "请拖动滑块完成验证" in response.text


# -- without a browser -----------------------------------------------------------------


def test_missing_chromium_is_a_clear_blocked(
    guarded: tuple[ReplicaServer, JsCookieChallenge],
) -> None:
    server, _ = guarded
    missing = BrowserSettings(chromium_path="/nonexistent/chromium")
    assert chromium_path(missing) is None
    with (
        make_fetcher("browser", HTTP, missing) as fetcher,
        pytest.raises(BrowserUnavailable) as caught,
    ):
        fetcher.get(server.url + LIST_PAGE)
    assert isinstance(caught.value, Blocked)
    assert "/nonexistent/chromium" in str(caught.value) and INSTALL_HINT in str(caught.value)
    assert server.requests == []


def test_missing_playwright_is_a_clear_blocked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "playwright.sync_api", None)  # import fails
    assert browser_available(BrowserSettings()) is None
    with BrowserFetcher(HTTP) as fetcher, pytest.raises(BrowserUnavailable) as caught:
        fetcher.post("http://127.0.0.1:9/zdyz/getDomesticGuideList", data={"pageNum": "1"})
    assert "playwright package is missing" in str(caught.value)
    assert INSTALL_HINT in str(caught.value)


def test_auto_without_chromium_raises_the_sites_block_with_the_hint(
    guarded: tuple[ReplicaServer, JsCookieChallenge],
) -> None:
    server, _ = guarded
    missing = BrowserSettings(chromium_path="/nonexistent/chromium")
    with make_fetcher("auto", HTTP, missing) as fetcher, pytest.raises(Blocked) as caught:
        fetcher.post(server.url + "/zdyz/getDomesticGuideList", data={"pageNum": "1"})
    assert "Ruishu JavaScript challenge (HTTP 202)" in str(caught.value)
    assert caught.value.status == 202 and INSTALL_HINT in str(caught.value)


# -- with Chromium ---------------------------------------------------------------------


def test_plain_http_fetcher_is_blocked(
    guarded: tuple[ReplicaServer, JsCookieChallenge],
) -> None:
    server, _ = guarded
    with HttpFetcher(HTTP) as fetcher:
        with pytest.raises(Blocked) as page:
            fetcher.get(server.url + LIST_PAGE)
        with pytest.raises(Blocked) as api:
            fetcher.post(server.url + "/zdyz/getDomesticGuideList", data={"pageNum": "1"})
    assert page.value.status == 202 and api.value.status == 202


@pytest.mark.browser
@needs_chromium
@pytest.mark.parametrize("style", ["ruishu-202", "ruishu-412"])
def test_browser_gets_the_page_behind_the_challenge(style: str) -> None:
    challenge = JsCookieChallenge(site, style, secret="s")  # type: ignore[arg-type]
    with ReplicaServer(challenge) as server, BrowserFetcher(HTTP, FAST) as fetcher:
        fetched = fetcher.get(server.url + LIST_PAGE)
    assert fetched.status == 200 and TITLE in fetched.text
    assert fetched.url == server.url + LIST_PAGE
    # The first visit met the challenge, the reload passed it with the script's cookie.
    assert [passed for _, path, passed in challenge.log if path == LIST_PAGE] == [False, True]
    agent = server.requests[-1].header("User-Agent") or ""
    # Chromium's own User-Agent, a real window by default: no "HeadlessChrome", nothing added.
    assert "Chrome/" in agent and "HeadlessChrome" not in agent and "regwatch" not in agent


@pytest.mark.browser
@needs_chromium
def test_browser_post_from_inside_the_list_page(
    guarded: tuple[ReplicaServer, JsCookieChallenge],
) -> None:
    server, _ = guarded
    api = server.url + "/zdyz/getDomesticGuideList"
    form = {"pageNum": "1", "pageSize": "10", "searchTitle": "细胞", "zyfl1": "生物制品"}
    with BrowserFetcher(HTTP, FAST) as fetcher:
        first = fetcher.post(api, data=form, headers={"Referer": server.url + LIST_PAGE})
        second = fetcher.post(
            api, data={**form, "pageNum": "2"}, headers={"Referer": server.url + LIST_PAGE}
        )
    data = first.json()["data"]
    assert data["records"][0]["title"] == TITLE
    assert data["echo"] == {"form": form, "query": {}}  # MmEwMD stripped before the app
    assert second.json()["data"]["current"] == 2
    posts = [r for r in server.requests if r.method == "POST"]
    assert len(posts) == 2
    assert posts[0].form == form
    assert "application/x-www-form-urlencoded" in (posts[0].header("Content-Type") or "")
    assert "FSSBBIl1UgzbN7N80ST=" in (posts[0].header("Cookie") or "")
    assert posts[0].query.get(TOKEN_PARAM)
    assert posts[0].header("Referer") == server.url + LIST_PAGE
    # The list page was loaded once (challenge + reload), not once per call.
    assert [r.path for r in server.requests if r.method == "GET"] == [LIST_PAGE, LIST_PAGE]


@pytest.mark.browser
@needs_chromium
def test_expired_cookie_mid_check_reloads_the_page_once(
    guarded: tuple[ReplicaServer, JsCookieChallenge],
) -> None:
    server, challenge = guarded
    api = server.url + "/zdyz/getOpinionList"
    referer = {"Referer": server.url + LIST_PAGE}
    with BrowserFetcher(HTTP, FAST) as fetcher:
        fetcher.get(server.url + LIST_PAGE)
        challenge.secret = b"rotated"  # every cookie handed out so far is now invalid
        fetched = fetcher.post(
            server.url + "/zdyz/getDomesticGuideList", data={"pageNum": "3"}, headers=referer
        )
        with pytest.raises(FetchError) as missing:  # an error status is not a block
            fetcher.post(api, data={"pageNum": "1"}, headers=referer)
    assert fetched.json()["data"]["current"] == 3
    posts = [passed for method, _, passed in challenge.log if method == "POST"]
    assert posts == [False, True, True]
    assert missing.value.status == 404 and not isinstance(missing.value, Blocked)


@pytest.mark.browser
@needs_chromium
def test_auto_switches_to_the_browser_for_the_blocked_host_only(
    guarded: tuple[ReplicaServer, JsCookieChallenge],
) -> None:
    server, _ = guarded
    with ReplicaServer(site) as open_site:
        fetcher = make_fetcher("auto", HTTP, FAST)
        assert isinstance(fetcher, AutoFetcher)
        with fetcher:
            listing = fetcher.post(
                server.url + "/zdyz/getDomesticGuideList",
                data={"pageNum": "1"},
                headers={"Referer": server.url + LIST_PAGE},
            )
            page = fetcher.get(server.url + LIST_PAGE)
            other = fetcher.get(open_site.url + LIST_PAGE)
        assert fetcher.browser_hosts == {host_of(server.url)}
        other_agents = {r.header("User-Agent") for r in open_site.requests}
    assert listing.json()["data"]["records"][0]["title"] == TITLE
    assert TITLE in page.text and TITLE in other.text
    plain = [r for r in server.requests if r.header("User-Agent") == HTTP.user_agent]
    assert [(r.method, r.path) for r in plain] == [("POST", "/zdyz/getDomesticGuideList")]
    assert other_agents == {HTTP.user_agent}


@pytest.mark.browser
@needs_chromium
def test_a_captcha_gives_up_with_blocked() -> None:
    challenge = JsCookieChallenge(site, "captcha", secret="s")
    with (
        ReplicaServer(challenge) as server,
        BrowserFetcher(HTTP, BrowserSettings(timeout=3)) as fetcher,
    ):
        started = time.monotonic()
        with pytest.raises(Blocked) as caught:
            fetcher.get(server.url + LIST_PAGE)
        seconds = time.monotonic() - started
    assert "still a bot challenge after 3 s" in str(caught.value)
    assert "CAPTCHA" in str(caught.value) and caught.value.status == 202
    assert seconds >= 3  # it waited its timeout (a busy machine only makes this longer)
    assert len([r for r in server.requests if r.path == LIST_PAGE]) >= 2  # it did wait


@pytest.mark.browser
@needs_chromium
def test_a_hanging_api_call_times_out() -> None:
    def slow(request: Request) -> Response:
        if request.method == "POST":
            return Response(body="{}", content_type="application/json", fault="hang", delay=5)
        return site(request)

    with (
        ReplicaServer(JsCookieChallenge(slow, secret="s")) as server,
        BrowserFetcher(HTTP, BrowserSettings(timeout=1.5)) as fetcher,
    ):
        fetcher.get(server.url + LIST_PAGE)
        # the server would answer after 5 s: the error proves the 1.5 s timeout cut it short
        with pytest.raises(FetchError, match=r"timed out after 1\.5 s"):
            fetcher.post(server.url + "/zdyz/getDomesticGuideList", data={"pageNum": "1"})


@pytest.mark.browser
@needs_chromium
def test_an_in_page_call_over_max_bytes_is_too_large() -> None:
    def big(request: Request) -> Response:
        if request.method == "POST":
            records = [{"title": TITLE, "n": n} for n in range(2000)]
            return Response(body=json.dumps({"data": records}), content_type="application/json")
        return site(request)

    small = HttpSettings(delay=0, retries=0, max_bytes=20_000)
    with (
        ReplicaServer(JsCookieChallenge(big, secret="s")) as server,
        BrowserFetcher(small, FAST) as fetcher,
        pytest.raises(TooLarge),
    ):
        fetcher.post(server.url + "/zdyz/getDomesticGuideList", data={"pageNum": "1"})


@pytest.mark.browser
@needs_chromium
def test_browser_requests_wait_for_the_host_gate() -> None:
    challenge = JsCookieChallenge(site, "ruishu-202", secret="s")
    stamps: list[tuple[float, str]] = []

    def timed(request: Request) -> Response:
        stamps.append((time.monotonic(), request.path))
        return challenge(request)

    gate = HostGate(per_host=1, delay=0)
    with ReplicaServer(timed) as server, BrowserFetcher(HTTP, FAST, politeness=gate) as fetcher:
        fetcher.get(server.url + "/zdyz/index")  # Chromium is running now
        seen = len(stamps)
        held = threading.Event()
        released: list[float] = []

        def hold() -> None:
            with gate.slot(host_of(server.url)):
                held.set()
                time.sleep(1.0)
                released.append(time.monotonic())

        holder = threading.Thread(target=hold)
        holder.start()
        assert held.wait(5)
        listing = fetcher.post(
            server.url + "/zdyz/getDomesticGuideList",
            data={"pageNum": "1"},
            headers={"Referer": server.url + LIST_PAGE},
        )
        holder.join()
    assert listing.json()["data"]["total"] == 1
    later = stamps[seen:]
    assert next(path for _, path in later) == LIST_PAGE
    assert "/zdyz/getDomesticGuideList" in [path for _, path in later]
    # Not one request of that call started while another holder had the host.
    assert min(when for when, _ in later) >= released[0]


@pytest.mark.browser
@needs_chromium
def test_delay_between_browser_visits() -> None:
    stamps: list[float] = []
    clock = FakeClock()
    gate = HostGate(per_host=1, delay=1.0, clock=clock, sleep=clock.sleep)

    def timed(request: Request) -> Response:
        stamps.append(clock())
        return site(request)

    with (
        ReplicaServer(timed) as server,
        BrowserFetcher(HTTP, FAST, politeness=gate) as fetcher,
    ):
        fetcher.get(server.url + "/")  # warm: the first navigation of a new browser is slower
        fetcher.get(server.url + LIST_PAGE)
        fetcher.get(server.url + "/zdyz/index")
    assert len(stamps) == 3
    # The gate spaces request starts on its (fake) clock: a visit waits out the delay.
    gaps = [later - earlier for earlier, later in itertools.pairwise(stamps)]
    assert gaps == pytest.approx([1.0, 1.0]) and clock.sleeps == pytest.approx([1.0, 1.0])
