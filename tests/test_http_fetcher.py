"""HttpFetcher against a real ReplicaServer on 127.0.0.1: politeness, conditional
GET, retries, faults, byte cap, decoding and block recognition."""

from __future__ import annotations

import dataclasses
import gzip
import itertools
import json
import threading
import time
from collections.abc import Callable, Iterator
from email.utils import formatdate

import httpx
import pytest

from monitor.replica.server import ReplicaServer, Request, Response
from sources.errors import Blocked, FetchError, TooLarge
from sources.fetch.blocks import detect_block
from sources.fetch.http import HostGate, HttpFetcher, HttpSettings
from tests.helpers.clock import FakeClock

Handler = Callable[[Request], Response]


class Site:
    """A test app: handlers by path, and when each request arrived and finished
    (on ``clock``: real time unless a test gives a ``FakeClock``)."""

    def __init__(self) -> None:
        self.clock: Callable[[], float] = time.monotonic
        self.routes: dict[str, Handler] = {}
        self.starts: list[tuple[str, float]] = []
        self.spans: list[tuple[float, float]] = []
        self._lock = threading.Lock()

    def route(self, path: str, handler: Handler | Response) -> None:
        if isinstance(handler, Response):
            fixed = handler
            self.routes[path] = lambda _request: fixed
        else:
            self.routes[path] = handler

    def __call__(self, request: Request) -> Response:
        start = self.clock()
        with self._lock:
            self.starts.append((request.path, start))
        handler = self.routes.get(request.path)
        response = handler(request) if handler else Response(status=404, body="not found")
        if response.delay and response.fault is None:
            time.sleep(response.delay)  # the busy part, inside the span
            response = dataclasses.replace(response, delay=0)
        with self._lock:
            self.spans.append((start, self.clock()))
        return response

    def times(self, path: str) -> list[float]:
        return [t for p, t in self.starts if p == path]


class _Mount:
    """Dispatches to the current test's Site, so one server serves the whole file."""

    site = Site()

    def __call__(self, request: Request) -> Response:
        return self.site(request)


@pytest.fixture(scope="module")
def _server() -> Iterator[tuple[_Mount, ReplicaServer]]:
    mount = _Mount()
    with ReplicaServer(mount) as server:
        yield mount, server


@pytest.fixture
def site(_server: tuple[_Mount, ReplicaServer]) -> tuple[Site, ReplicaServer]:
    mount, server = _server
    mount.site = Site()
    server.requests.clear()
    return mount.site, server


def settings(**overrides: float | str) -> HttpSettings:
    base: dict[str, float | int | str] = {
        "delay": 0.05,
        "backoff": 0.05,
        "retries": 2,
        "timeout": 2,
        "max_wait": 5,
        "robots": False,  # these tests count requests; robots.txt: tests/test_robots.py
    }
    base.update(overrides)
    return HttpSettings.model_validate(base)


def test_user_agent_and_accept_are_sent(site: tuple[Site, ReplicaServer]) -> None:
    app, server = site
    app.route("/", Response(body="<html>ok</html>"))
    with HttpFetcher(settings(user_agent="regwatch-test/9 (+mailto:ra@example.com)")) as f:
        f.get(server.url + "/", params={"q": "细胞"})
    request = server.requests[-1]
    assert request.header("User-Agent") == "regwatch-test/9 (+mailto:ra@example.com)"
    assert "text/html" in (request.header("Accept") or "")
    assert "gzip" in (request.header("Accept-Encoding") or "")  # the client's own headers too
    assert request.query == {"q": "细胞"}


@pytest.mark.parametrize(
    "url", ["", "index.html", "/xxgk/index.html", "//example.org/x", "http://", "http://xn--/"]
)
def test_a_broken_link_is_a_fetch_error_and_nothing_is_sent(url: str) -> None:
    sent: list[str] = []

    def record(request: httpx.Request) -> httpx.Response:
        sent.append(str(request.url))
        return httpx.Response(200, text="<html>ok</html>")

    with (
        HttpFetcher(settings(), transport=httpx.MockTransport(record)) as f,
        pytest.raises(FetchError) as info,
    ):
        f.get(url)
    assert type(info.value) is FetchError and "not a valid URL" in info.value.message
    assert sent == []


def _conditional(request: Request) -> Response:
    etag, modified = '"v1"', "Wed, 01 Jul 2026 08:00:00 GMT"
    if request.header("If-None-Match") == etag or request.header("If-Modified-Since") == modified:
        return Response(status=304)
    headers = {"Last-Modified": modified}
    if request.query.get("etag") == "1":
        headers["ETag"] = etag
    return Response(body="<html>guidance list</html>", headers=headers)


@pytest.mark.parametrize("with_etag", [True, False])
def test_conditional_get_round_trip(site: tuple[Site, ReplicaServer], with_etag: bool) -> None:
    app, server = site
    app.route("/list", _conditional)
    url = server.url + "/list"
    params = {"etag": "1" if with_etag else "0"}
    with HttpFetcher(settings()) as f:
        first = f.get(url, params=params, conditional=True)
        assert first.status == 200 and b"guidance list" in first.body
        stored = f.validators
    assert len(stored) == 1
    ((key, validators),) = stored.items()
    assert key == f"{url}?etag={params['etag']}"
    assert validators["last_modified"] == "Wed, 01 Jul 2026 08:00:00 GMT"
    assert ("etag" in validators) == with_etag
    # A new fetcher given the persisted state gets a 304.
    with HttpFetcher(settings(), validators=dict(stored)) as f:
        again = f.get(url, params=params, conditional=True)
        plain = f.get(url, params=params)
    assert again.status == 304 and again.not_modified and again.body == b""
    assert plain.status == 200
    sent = server.requests[1]
    assert sent.header("If-Modified-Since") == "Wed, 01 Jul 2026 08:00:00 GMT"
    assert (sent.header("If-None-Match") == '"v1"') == with_etag
    assert server.requests[2].header("If-None-Match") is None


def fake_gate(app: Site, *, delay: float = 0) -> tuple[FakeClock, HostGate]:
    """A gate on a fake clock, which the site also reads: every wait the fetcher
    makes goes through the gate, so the gaps the site sees are the fetcher's decisions."""
    clock = FakeClock()
    app.clock = clock
    return clock, HostGate(per_host=1, delay=delay, clock=clock, sleep=clock.sleep)


def test_per_host_delay_between_request_starts(site: tuple[Site, ReplicaServer]) -> None:
    app, server = site
    app.route("/p", Response(body="<html>p</html>"))
    clock, gate = fake_gate(app, delay=0.2)
    with HttpFetcher(settings(delay=0.2), politeness=gate) as f:
        for _ in range(4):
            f.get(server.url + "/p")
    starts = app.times("/p")
    gaps = [b - a for a, b in itertools.pairwise(starts)]
    assert gaps == pytest.approx([0.2, 0.2, 0.2])
    assert clock.sleeps == pytest.approx([0.2, 0.2, 0.2])


def test_the_per_host_delay_counts_from_the_last_start_not_the_last_end(
    site: tuple[Site, ReplicaServer],
) -> None:
    app, server = site
    clock, gate = fake_gate(app, delay=0.2)

    def answer_slowly(_request: Request) -> Response:
        clock.sleep(0.15)
        return Response(body="<html>p</html>")

    app.route("/p", answer_slowly)
    with HttpFetcher(settings(delay=0.2), politeness=gate) as f:
        f.get(server.url + "/p")
        f.get(server.url + "/p")
    assert clock.sleeps == pytest.approx([0.15, 0.05, 0.15])  # the answer, the rest, the answer


def _overlaps(spans: list[tuple[float, float]]) -> bool:
    ordered = sorted(spans)
    return any(b[0] < a[1] for a, b in itertools.pairwise(ordered))


def _hammer(server: ReplicaServer, gates: list[HostGate]) -> None:
    fetchers = [HttpFetcher(settings(delay=0), politeness=g) for g in gates]

    def work(f: HttpFetcher) -> None:
        for _ in range(3):
            f.get(server.url + "/slow")

    threads = [threading.Thread(target=work, args=(f,)) for f in fetchers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for f in fetchers:
        f.close()


def test_shared_gate_never_overlaps_on_one_host(site: tuple[Site, ReplicaServer]) -> None:
    app, server = site
    app.route("/slow", Response(body="<html>slow</html>", delay=0.06))
    gate = HostGate(per_host=1, delay=0)
    _hammer(server, [gate, gate])
    assert len(app.spans) == 6
    assert not _overlaps(app.spans)
    # The same run with a gate per fetcher does overlap (the check above can fail): each
    # request waits at a barrier until the other fetcher's request is in flight too.
    together = threading.Barrier(2, timeout=30)

    def meet(_request: Request) -> Response:
        together.wait()
        return Response(body="<html>slow</html>")

    app.route("/slow", meet)
    app.spans.clear()
    _hammer(server, [HostGate(per_host=1, delay=0), HostGate(per_host=1, delay=0)])
    assert len(app.spans) == 6 and _overlaps(app.spans)


def _flaky(failures: int, response: Response) -> Handler:
    count = {"n": 0}

    def handler(_request: Request) -> Response:
        count["n"] += 1
        if count["n"] <= failures:
            return response
        return Response(body="<html>finally</html>")

    return handler


def test_retry_then_success_on_503(site: tuple[Site, ReplicaServer]) -> None:
    app, server = site
    app.route("/f", _flaky(2, Response(status=503, body="busy")))
    _clock, gate = fake_gate(app)
    with HttpFetcher(settings(backoff=0.1), politeness=gate) as f:
        got = f.get(server.url + "/f")
    assert got.status == 200 and b"finally" in got.body
    starts = app.times("/f")
    assert len(starts) == 3
    # exponential: 0.1 then 0.2
    assert [b - a for a, b in itertools.pairwise(starts)] == pytest.approx([0.1, 0.2])


def test_429_retry_after_seconds_is_honoured(site: tuple[Site, ReplicaServer]) -> None:
    app, server = site
    app.route("/r", _flaky(1, Response(status=429, headers={"Retry-After": "3"})))
    _clock, gate = fake_gate(app)
    with HttpFetcher(settings(), politeness=gate) as f:
        got = f.get(server.url + "/r")
    assert got.status == 200
    starts = app.times("/r")
    assert starts[1] - starts[0] == pytest.approx(3.0)  # not the 0.05 s back-off


def test_retry_after_http_date_is_honoured(site: tuple[Site, ReplicaServer]) -> None:
    app, server = site

    def later(_r: Request) -> Response:
        return Response(
            status=503, headers={"Retry-After": formatdate(time.time() + 60, usegmt=True)}
        )

    app.route("/d", lambda r: later(r) if len(app.times("/d")) == 1 else Response(body="ok"))
    _clock, gate = fake_gate(app)
    with HttpFetcher(settings(max_wait=120), politeness=gate) as f:
        f.get(server.url + "/d")
    starts = app.times("/d")
    # the date is read against the wall clock: a minute ahead, to one-second resolution,
    # less however long this busy machine took between answering and reading the answer
    assert 50 <= starts[1] - starts[0] <= 60


def test_retry_after_beyond_max_wait_gives_up_at_once(site: tuple[Site, ReplicaServer]) -> None:
    app, server = site
    app.route("/x", Response(status=429, headers={"Retry-After": "3600"}))
    with HttpFetcher(settings(max_wait=10)) as f, pytest.raises(FetchError) as info:
        f.get(server.url + "/x")
    assert info.value.status == 429
    assert "3600" in str(info.value)
    assert len(app.times("/x")) == 1


def test_give_up_after_retries(site: tuple[Site, ReplicaServer]) -> None:
    app, server = site
    app.route("/down", Response(status=502, body="bad gateway"))
    with HttpFetcher(settings(retries=2)) as f, pytest.raises(FetchError) as info:
        f.get(server.url + "/down")
    assert not isinstance(info.value, Blocked)
    assert info.value.status == 502
    assert len(app.times("/down")) == 3


def test_404_is_not_retried(site: tuple[Site, ReplicaServer]) -> None:
    _app, server = site
    with HttpFetcher(settings()) as f, pytest.raises(FetchError) as info:
        f.get(server.url + "/missing")
    assert info.value.status == 404 and not isinstance(info.value, Blocked)
    assert len(server.requests) == 1


@pytest.mark.parametrize(("fault", "delay"), [("hang", 1.5), ("reset", 0.0), ("truncate", 0.0)])
def test_transport_faults_raise_fetch_error(
    site: tuple[Site, ReplicaServer], fault: str, delay: float
) -> None:
    app, server = site
    app.route("/fault", Response(body="<html>" + "x" * 4000 + "</html>", fault=fault, delay=delay))  # type: ignore[arg-type]
    with HttpFetcher(settings(timeout=0.3, retries=1)) as f, pytest.raises(FetchError) as info:
        f.get(server.url + "/fault")
    assert type(info.value) is FetchError
    assert len(app.times("/fault")) == 2  # retried once, then gave up


def test_byte_cap_by_content_length(site: tuple[Site, ReplicaServer]) -> None:
    app, server = site
    app.route("/big", Response(body=b"%PDF" + b"x" * 4996, content_type="application/pdf"))
    with HttpFetcher(settings(max_bytes=5000)) as f:
        assert len(f.get(server.url + "/big", expect="bytes").body) == 5000
    with HttpFetcher(settings(max_bytes=4999)) as f, pytest.raises(TooLarge):
        f.get(server.url + "/big", expect="bytes")
    assert len(app.times("/big")) == 2  # not retried


def test_byte_cap_counts_decompressed_bytes(site: tuple[Site, ReplicaServer]) -> None:
    app, server = site
    bomb = gzip.compress(b"<html>" + b" " * 200_000 + b"</html>")
    assert len(bomb) < 5000
    app.route("/gz", Response(body=bomb, headers={"Content-Encoding": "gzip"}))
    with HttpFetcher(settings(max_bytes=100_000)) as f, pytest.raises(TooLarge):
        f.get(server.url + "/gz")
    with HttpFetcher(settings(max_bytes=300_000)) as f:
        assert len(f.get(server.url + "/gz").body) == 200_013


GBK_PAGE = (
    '<html><head><meta http-equiv="Content-Type" content="text/html; charset=gb2312">'
    "<title>药品公告通告</title></head><body>国家药监局关于发布《细胞治疗产品》的通告"
    "（镕）</body></html>"
)


def test_gbk_page_with_meta_charset_only(site: tuple[Site, ReplicaServer]) -> None:
    app, server = site
    # 镕 is in GBK but not in GB2312: the label must be read as a superset.
    app.route("/gbk", Response(body=GBK_PAGE.encode("gbk"), content_type="text/html"))
    with HttpFetcher(settings()) as f:
        got = f.get(server.url + "/gbk")
    assert got.text == GBK_PAGE
    assert got.encoding == "gb18030"


def test_gb18030_page_by_sniffing(site: tuple[Site, ReplicaServer]) -> None:
    app, server = site
    page = "<html><body>关于公开征求《基因治疗产品（征求意见稿）》意见的通知</body></html>"
    app.route("/gb", Response(body=page.encode("gb18030"), content_type="text/html"))
    with HttpFetcher(settings()) as f:
        assert f.get(server.url + "/gb").text == page


def test_bom_wins_over_a_wrong_header(site: tuple[Site, ReplicaServer]) -> None:
    app, server = site
    page = "<html><body>细胞和基因治疗</body></html>"
    app.route(
        "/bom",
        Response(body=b"\xef\xbb\xbf" + page.encode(), content_type="text/html; charset=gbk"),
    )
    app.route("/u16", Response(body=page.encode("utf-16"), content_type="text/html"))
    with HttpFetcher(settings()) as f:
        assert f.get(server.url + "/bom").text == page
        assert f.get(server.url + "/u16").text == page


def test_http_charset_header_is_used(site: tuple[Site, ReplicaServer]) -> None:
    app, server = site
    page = "<html><body>药品审评中心</body></html>"
    app.route("/h", Response(body=page.encode("gbk"), content_type="text/html; charset=GBK"))
    with HttpFetcher(settings()) as f:
        assert f.get(server.url + "/h").text == page


RUISHU = (
    '<html><head><meta id="9DhefwqGPrzGxEp9hPaoag" content="x6Tq..." r="m">'
    "<script>$_ts=window['$_ts'];if(!$_ts)$_ts={};$_ts.nsd=81236;$_ts.cd=\"qXrrqq\";"
    '</script><script src="/4QbVtADbnLVIc/c.FxJzG50F.b6a1e0d.js"></script></head></html>'
)


def test_ruishu_202_challenge_is_blocked(site: tuple[Site, ReplicaServer]) -> None:
    app, server = site
    app.route(
        "/zdyz/index",
        Response(status=202, body=RUISHU, headers={"Set-Cookie": "FSSBBIl1UgzbN7N80S=abc"}),
    )
    with HttpFetcher(settings()) as f, pytest.raises(Blocked) as info:
        f.get(server.url + "/zdyz/index")
    assert info.value.status == 202
    assert "Ruishu" in str(info.value)
    assert info.value.hint and "browser" in info.value.hint
    assert len(server.requests) == 1  # a challenge is not retried


def test_nmpa_412_is_blocked(site: tuple[Site, ReplicaServer]) -> None:
    app, server = site
    app.route("/a", Response(status=412, body=RUISHU))
    app.route("/b", Response(status=412, body="<html><script>var x=1;</script></html>"))
    with HttpFetcher(settings()) as f:
        for path in ("/a", "/b"):
            with pytest.raises(Blocked) as info:
                f.get(server.url + path)
            assert info.value.status == 412


def test_cde_403_block_page(site: tuple[Site, ReplicaServer]) -> None:
    app, server = site
    app.route(
        "/cde", Response(status=403, body="<html><body>请不要使用非法的URL地址访问</body></html>")
    )
    app.route("/plain", Response(status=403, body="<html><body>Forbidden</body></html>"))
    with HttpFetcher(settings()) as f:
        with pytest.raises(Blocked, match="请不要使用非法"):
            f.get(server.url + "/cde")
        with pytest.raises(FetchError) as info:
            f.get(server.url + "/plain")
        assert type(info.value) is FetchError and info.value.status == 403


def test_akamai_apology_redirect_is_blocked_before_following(
    site: tuple[Site, ReplicaServer],
) -> None:
    app, server = site
    apology = "/apology_objects/abuse-detection-apology.html"
    app.route("/files/api/guidance.json", Response(status=302, headers={"Location": apology}))
    with HttpFetcher(settings()) as f, pytest.raises(Blocked) as info:
        f.get(server.url + "/files/api/guidance.json", expect="json")
    assert "Akamai" in str(info.value)
    assert info.value.status == 302
    assert [r.path for r in server.requests] == ["/files/api/guidance.json"]


def test_ordinary_redirects_are_followed(site: tuple[Site, ReplicaServer]) -> None:
    app, server = site
    app.route("/old", Response(status=301, headers={"Location": "/new"}))
    app.route("/new", Response(body='{"ok": true}', content_type="application/json"))
    with HttpFetcher(settings()) as f:
        got = f.get(server.url + "/old", expect="json")
    assert got.json() == {"ok": True}
    assert got.url == server.url + "/new"


def test_html_where_json_expected_is_blocked(site: tuple[Site, ReplicaServer]) -> None:
    app, server = site
    app.route("/api", Response(body="<!DOCTYPE html><html><body>Access</body></html>"))
    app.route("/feed", Response(body="<!DOCTYPE html><html><body>Access</body></html>"))
    with HttpFetcher(settings()) as f:
        with pytest.raises(Blocked, match="JSON"):
            f.post(server.url + "/api", data={"pageNum": "1"})
        with pytest.raises(Blocked, match="XML"):
            f.get(server.url + "/feed", expect="xml")


def test_just_a_moment_challenge(site: tuple[Site, ReplicaServer]) -> None:
    app, server = site
    page = "<html><head><title>Just a moment...</title></head><body>cf_chl_opt</body></html>"
    app.route("/cf", Response(status=503, body=page))
    with HttpFetcher(settings()) as f, pytest.raises(Blocked):
        f.get(server.url + "/cf")
    assert len(server.requests) == 1


def test_post_form_body_with_charset(site: tuple[Site, ReplicaServer]) -> None:
    app, server = site

    def api(request: Request) -> Response:
        assert request.method == "POST"
        form = request.form
        record = {"title": form["searchTitle"]}
        body = json.dumps({"code": 200, "data": {"records": [record]}}, ensure_ascii=False)
        return Response(body=body, content_type="application/json;charset=UTF-8")

    app.route("/zdyz/getDomesticGuideList", api)
    referer = server.url + "/zdyz/listpage/9cd8db3b7530c6fa0c86485e563f93c7"
    with HttpFetcher(settings()) as f:
        got = f.post(
            server.url + "/zdyz/getDomesticGuideList",
            data={"pageNum": "1", "pageSize": "10", "searchTitle": "细胞治疗 & 基因"},
            headers={"Referer": referer},
        )
    sent = server.requests[-1]
    assert sent.header("Content-Type") == "application/x-www-form-urlencoded; charset=UTF-8"
    assert sent.header("Referer") == referer
    assert "application/json" in (sent.header("Accept") or "")
    assert got.json()["data"]["records"][0]["title"] == "细胞治疗 & 基因"


def test_gate_defer_holds_back_other_fetchers(site: tuple[Site, ReplicaServer]) -> None:
    app, server = site
    app.route("/busy", _flaky(1, Response(status=503, headers={"Retry-After": "1"})))
    app.route("/other", Response(body="<html>other</html>"))
    clock, gate = fake_gate(app)
    a = HttpFetcher(settings(), politeness=gate)
    b = HttpFetcher(settings(), politeness=gate)
    # While ``a`` waits out the server's Retry-After, ``b`` asks for another page of the
    # same host: it must wait too.
    clock.on_sleep = lambda _seconds: b.get(server.url + "/other")
    a.get(server.url + "/busy")
    a.close()
    b.close()
    first = app.times("/busy")[0]
    assert app.times("/other")[0] - first == pytest.approx(1.0)
    assert clock.sleeps == pytest.approx([1.0, 1.0])  # a's wait, and b's inside it


def test_a_real_page_carrying_the_ruishu_script_is_content() -> None:
    # After a browser passes the challenge, CDE pages still embed the $_ts script.
    page = RUISHU.replace("</head></html>", "</head><body>") + "<p>指导原则正文</p>" * 100
    assert detect_block(200, {}, page.encode(), "https://www.cde.org.cn/zdyz/index", "html") is None
    assert detect_block(200, {}, RUISHU.encode(), "https://www.cde.org.cn/zdyz/index", "html")


@pytest.mark.parametrize(
    ("body", "blocked"),
    [(b' {"data": []}', False), (b"\xef\xbb\xbf[1]", False), (b"", True), (b"error", True)],
)
def test_json_shape_check(body: bytes, blocked: bool) -> None:
    reason = detect_block(200, {"Content-Type": "application/json"}, body, "https://x/api", "json")
    assert (reason is not None) == blocked
