"""Many fetchers over one ``SharedClient``: one connection pool, cookies kept apart.

Real servers on 127.0.0.1: the ReplicaServer for cookies and redirects, and a
stdlib HTTP/1.1 server that records which client port each request came
from, to see connections being reused.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from monitor.replica.server import ReplicaServer, Request, Response
from sources.fetch.fetchers import make_fetcher
from sources.fetch.http import HostGate, HttpFetcher, HttpSettings, SharedClient

SETTINGS = HttpSettings(delay=0, retries=0, timeout=5, robots=False)  # connections counted


def _app(request: Request) -> Response:
    if request.path == "/set":
        return Response(
            body="<html>set</html>",
            headers={"Set-Cookie": f"session={request.query.get('v', 'x')}; path=/"},
        )
    if request.path == "/login":  # sets a cookie and sends the client on
        return Response(
            status=302,
            body="",
            headers={"Set-Cookie": "session=login; path=/", "Location": "/echo"},
        )
    if request.path == "/echo":
        return Response(body=f"<html><p>{request.header('cookie') or 'none'}</p></html>")
    return Response(status=404, body="not found")


@pytest.fixture(scope="module")
def server() -> Iterator[ReplicaServer]:
    with ReplicaServer(_app) as running:
        yield running


def test_cookies_stay_with_the_fetcher_that_received_them(server: ReplicaServer) -> None:
    shared = SharedClient(SETTINGS)
    gate = HostGate(per_host=1, delay=0)
    a = HttpFetcher(SETTINGS, politeness=gate, shared=shared)
    b = HttpFetcher(SETTINGS, politeness=gate, shared=shared)
    a.get(server.url + "/set?v=alpha")
    assert "session=alpha" in a.get(server.url + "/echo").text
    assert "none" in b.get(server.url + "/echo").text
    assert not shared.client.cookies  # the shared client itself keeps none
    a.close()  # closing a fetcher leaves the shared client open
    c = HttpFetcher(SETTINGS, politeness=gate, shared=shared)
    assert "none" in c.get(server.url + "/echo").text
    shared.close()


def test_a_cookie_set_on_a_redirect_goes_with_the_next_hop(server: ReplicaServer) -> None:
    shared = SharedClient(SETTINGS)
    fetcher = HttpFetcher(SETTINGS, shared=shared)
    assert "session=login" in fetcher.get(server.url + "/login").text
    assert "none" in HttpFetcher(SETTINGS, shared=shared).get(server.url + "/echo").text
    shared.close()


def test_an_explicit_cookie_header_wins(server: ReplicaServer) -> None:
    shared = SharedClient(SETTINGS)
    with make_fetcher("http", SETTINGS, shared=shared) as fetcher:
        fetcher.get(server.url + "/set?v=jar")
        page = fetcher.get(server.url + "/echo", headers={"Cookie": "session=mine"})
    shared.close()
    assert "session=mine" in page.text
    assert "jar" not in page.text


class _Ports(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    ports: list[int] = []  # noqa: RUF012 (filled per test)

    def do_GET(self) -> None:
        type(self).ports.append(self.client_address[1])
        body = b"<html>ok</html>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


def test_fetchers_of_many_checks_reuse_one_connection() -> None:
    _Ports.ports = []
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Ports)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{httpd.server_address[1]}/"
    try:
        shared = SharedClient(SETTINGS)
        for _ in range(3):  # three checks, each with its own fetcher
            with make_fetcher("http", SETTINGS, shared=shared) as fetcher:
                fetcher.get(url)
        shared.close()
        assert len(_Ports.ports) == 3
        assert len(set(_Ports.ports)) == 1
        # without a shared client, each fetcher opens its own connection
        _Ports.ports = []
        for _ in range(2):
            with make_fetcher("http", SETTINGS) as fetcher:
                fetcher.get(url)
        assert len(set(_Ports.ports)) == 2
    finally:
        httpd.shutdown()
        httpd.server_close()
