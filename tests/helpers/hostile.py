"""Hostile HTTP servers for the hostile-site suite: real sockets on 127.0.0.1.

``TrickleServer`` answers every request by sending its response one byte per
``interval`` seconds (the headers too when ``headers_too``), the way a
hostile or broken server can hold a client forever without ever tripping a
per-read timeout. It records how many connections it saw and how many of
them the client abandoned (the socket closed before the response ended).
"""

from __future__ import annotations

import socket
import threading
from types import TracebackType
from typing import Self


class TrickleServer:
    """A TCP server that drips a long HTTP response, byte by byte."""

    def __init__(
        self, *, interval: float = 0.05, body_size: int = 100_000, headers_too: bool = False
    ) -> None:
        self.interval = interval
        self.body_size = body_size
        self.headers_too = headers_too
        self.connections = 0
        self.abandoned = 0
        self._stop = threading.Event()
        self._done = threading.Condition()
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(16)
        self._sock.settimeout(0.2)
        self.port = self._sock.getsockname()[1]
        self._thread = threading.Thread(target=self._accept, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def wait_abandoned(self, count: int, timeout: float = 30) -> bool:
        """Wait until the client has abandoned ``count`` connections."""
        with self._done:
            return self._done.wait_for(lambda: self.abandoned >= count, timeout=timeout)

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        head = (
            b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n"
            b"Content-Length: %d\r\n\r\n" % self.body_size
        )
        try:
            conn.settimeout(5)
            conn.recv(65536)
            if not self.headers_too:
                conn.sendall(head)
                head = b""
            for byte in head + b"x" * self.body_size:
                if self._stop.wait(self.interval):
                    return
                conn.sendall(bytes([byte]))
        except OSError:
            with self._done:
                self.abandoned += 1
                self._done.notify_all()
        finally:
            conn.close()

    def start(self) -> Self:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._sock.close()
        self._thread.join(5)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
