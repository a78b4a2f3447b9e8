"""A tiny threaded HTTP server for replica sites and fault injection.

An ``App`` is any callable ``Request -> Response``. ``ReplicaServer`` serves
one app on 127.0.0.1 on a free port, in a background thread::

    with ReplicaServer(app) as server:
        httpx.get(server.url + "/path")

``Response.fault`` injects transport faults: ``"reset"`` closes the socket
without an answer, ``"truncate"`` sends a Content-Length larger than the body
and closes, ``"hang"`` sleeps ``delay`` seconds before answering.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Literal
from urllib.parse import parse_qs, urlsplit


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, str]
    headers: Mapping[str, str]
    body: bytes
    base: str = ""  # the public URL this app is mounted at, e.g. http://127.0.0.1:8080/cde
    raw_query: str = ""  # the query string as sent, for repeated keys (``fields[]=a&fields[]=b``)

    @property
    def form(self) -> dict[str, str]:
        parsed = parse_qs(self.body.decode("utf-8", errors="replace"), keep_blank_values=True)
        return {k: v[-1] for k, v in parsed.items()}

    def header(self, name: str) -> str | None:
        for key, value in self.headers.items():
            if key.lower() == name.lower():
                return value
        return None


@dataclass
class Response:
    status: int = 200
    body: bytes | str = b""
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = "text/html; charset=utf-8"
    fault: Literal["reset", "truncate", "hang"] | None = None
    delay: float = 0.0

    def payload(self) -> bytes:
        if isinstance(self.body, str):
            return self.body.encode("utf-8")
        return self.body


App = Callable[[Request], Response]


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"
    # Headers and body go out in two writes: without TCP_NODELAY, Nagle plus the
    # client's delayed ACK stall every keep-alive response by ~40 ms.
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: object) -> None:
        return

    def _serve(self) -> None:
        split = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        query = {k: v[-1] for k, v in parse_qs(split.query, keep_blank_values=True).items()}
        host = self.headers.get("Host") or "{}:{}".format(*self.server.server_address[:2])
        request = Request(
            method=self.command,
            path=split.path,
            query=query,
            headers=dict(self.headers.items()),
            body=body,
            base=f"http://{host}",
            raw_query=split.query,
        )
        self.server.log.append(request)
        response = self.server.app(request)
        if response.delay:
            time.sleep(response.delay)
        if response.fault == "reset":
            self.connection.setsockopt(
                socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00"
            )
            self.close_connection = True
            return
        payload = response.payload()
        self.send_response(response.status)
        headers = {"Content-Type": response.content_type, **response.headers}
        for key, value in headers.items():
            self.send_header(key, value)
        if response.fault == "truncate":
            self.send_header("Content-Length", str(len(payload) * 2 + 100))
            self.end_headers()
            self.wfile.write(payload[: len(payload) // 2])
            self.close_connection = True
            return
        if self.command != "HEAD" and response.status not in (204, 304):
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)
        else:
            self.send_header("Content-Length", "0")
            self.end_headers()

    do_GET = _serve
    do_POST = _serve
    do_HEAD = _serve


class Router:
    """Mount several apps under path prefixes: ``Router({"/cde": cde, "/fda": fda})``.

    The mounted app sees the path without its prefix and ``request.base`` set
    to the public URL of its mount point, so it can build absolute links.
    """

    def __init__(self, mounts: Mapping[str, App]) -> None:
        self.mounts = sorted(mounts.items(), key=lambda item: -len(item[0]))

    def __call__(self, request: Request) -> Response:
        for prefix, app in self.mounts:
            if request.path == prefix or request.path.startswith(prefix.rstrip("/") + "/"):
                inner = Request(
                    method=request.method,
                    path=request.path[len(prefix.rstrip("/")) :] or "/",
                    query=request.query,
                    headers=request.headers,
                    body=request.body,
                    base=request.base + prefix.rstrip("/"),
                    raw_query=request.raw_query,
                )
                return app(inner)
        return Response(status=404, body="not found")


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    app: App
    log: list[Request]

    def handle_error(self, request: object, client_address: object) -> None:
        # A client that gave up (a timeout test, a killed process) is not an error here.
        import sys

        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)  # type: ignore[arg-type]


class ReplicaServer:
    """Serve ``app`` on 127.0.0.1 (a free port unless ``port`` is given)."""

    def __init__(self, app: App, port: int = 0) -> None:
        self._server = _Server(("127.0.0.1", port), _Handler)
        self._server.app = app
        self._server.log = []
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    @property
    def requests(self) -> list[Request]:
        return self._server.log

    def start(self) -> ReplicaServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> ReplicaServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
