"""HttpFetcher against a real ReplicaServer on 127.0.0.1: politeness, conditional
GET, retries, faults, byte cap, decoding and block recognition."""

from __future__ import annotations

import gzip
import threading
import time
from collections.abc import Callable, Iterator
from email.utils import formatdate

import pytest

from monitor.replica.server import ReplicaServer, Request, Response
from sources.errors import Blocked, FetchError, TooLarge
from sources.http import HostGate, HttpFetcher, HttpSettings

Handler = Callable[[Request], Response]


class Site:
    """A test app: handlers by path, and when each request arrived and finished."""

    def __init__(self) -> None:
        self.routes: dict[str, Handler] = {}
        self.starts: list[tuple[str, float]] = []
        self.spans: list[tuple[float, float]] = []
        self._lock = threading.Lock()

    def route(self, path: str, handler: Handler | Response) -> None:
        self.routes[path] = handler if callable(handler) else (lambda _r, h=handler: h)

    def __call__(self, request: Request) -> Response:
        start = time.monotonic()
        with self._lock:
            self.starts.append((request.path, start))
        handler = self.routes.get(request.path)
        response = handler(request) if handler else Response(status=404, body="not found")
        if response.delay and response.fault is None:
            time.sleep(response.delay)  # the busy part, inside the span
            response.delay = 0
        with self._lock:
            self.spans.append((start, time.monotonic()))
        return response

    def times(self, path: str) -> list[float]:
        return [t for p, t in self.starts if p == path]


@pytest.fixture
def site() -> Iterator[tuple[Site, ReplicaServer]]:
    app = Site()
    with ReplicaServer(app) as server:
        yield app, server


def settings(**overrides: float | int | str) -> HttpSettings:
    base: dict[str, float | int | str] = {
        "delay": 0.05,
        "backoff": 0.05,
        "retries": 2,
        "timeout": 2,
        "max_wait": 5,
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
    assert request.query == {"q": "细胞"}


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
    (key, validators), = stored.items()
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


def test_per_host_delay_between_request_starts(site: tuple[Site, ReplicaServer]) -> None:
    app, server = site
    app.route("/p", Response(body="<html>p</html>"))
    with HttpFetcher(settings(delay=0.2)) as f:
        for _ in range(4):
            f.get(server.url + "/p")
    starts = app.times("/p")
    gaps = [b - a for a, b in zip(starts, starts[1:], strict=False)]
    assert len(gaps) == 3
    assert min(gaps) >= 0.19, gaps


def _overlaps(spans: list[tuple[float, float]]) -> bool:
    ordered = sorted(spans)
    return any(b[0] < a[1] for a, b in zip(ordered, ordered[1:], strict=False))


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
    # The same run with a gate per fetcher does overlap: the check above can fail.
    app.spans.clear()
    _hammer(server, [HostGate(per_host=1, delay=0), HostGate(per_host=1, delay=0)])
    assert _overlaps(app.spans)


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
    with HttpFetcher(settings(backoff=0.1)) as f:
        got = f.get(server.url + "/f")
    assert got.status == 200 and b"finally" in got.body
    starts = app.times("/f")
    assert len(starts) == 3
    # exponential: 0.1 then 0.2
    assert starts[1] - starts[0] >= 0.09
    assert starts[2] - starts[1] >= 0.19


def test_429_retry_after_seconds_is_honoured(site: tuple[Site, ReplicaServer]) -> None:
    app, server = site
    app.route("/r", _flaky(1, Response(status=429, headers={"Retry-After": "1"})))
    with HttpFetcher(settings()) as f:
        got = f.get(server.url + "/r")
    assert got.status == 200
    starts = app.times("/r")
    assert starts[1] - starts[0] >= 0.95


def test_retry_after_http_date_is_honoured(site: tuple[Site, ReplicaServer]) -> None:
    app, server = site

    def later(_r: Request) -> Response:
        return Response(status=503, headers={"Retry-After": formatdate(time.time() + 2, usegmt=True)})

    app.route("/d", lambda r: later(r) if len(app.times("/d")) == 1 else Response(body="ok"))
    with HttpFetcher(settings()) as f:
        f.get(server.url + "/d")
    starts = app.times("/d")
    assert starts[1] - starts[0] >= 0.9  # HTTP dates have one-second resolution


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


@pytest.mark.parametrize(
    ("fault", "delay"), [("hang", 1.5), ("reset", 0.0), ("truncate", 0.0)]
)
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
    app.route("/big", Response(body=b"x" * 5000, content_type="application/pdf"))
    with HttpFetcher(settings(max_bytes=4096)) as f:
        with pytest.raises(TooLarge):
            f.get(server.url + "/big", expect="bytes")
        assert len(f.get(server.url + "/big", expect="bytes").body) == 5000 or False
