"""The common shape of a site replica, so tests, contract checks and the demo
drive every site the same way.

A replica is an App (``Request -> Response``) with documents in memory that a
test or the demo timeline edits between checks, and a ``mode`` that makes it
misbehave the way the real site does:

- ``"ok"``       serve content;
- ``"blocked"``  answer as the real site answers a robot (CDE: 202 + ``$_ts``
                 JavaScript; NMPA: 412; FDA: 302 to Akamai's apology page;
                 EMA: 403);
- ``"error"``    HTTP 503;
- ``"empty"``    a layout change: pages answer 200 but the list is gone.
"""

from __future__ import annotations

from typing import Any, Literal

from monitor.replica.server import Request, Response

Mode = Literal["ok", "blocked", "error", "empty"]


class SiteReplica:
    """Base class: subclasses implement ``serve`` and ``blocked_response``."""

    kind: str = ""
    mode: Mode = "ok"

    def __call__(self, request: Request) -> Response:
        if self.mode == "error":
            return Response(status=503, body="<html><body>Service Unavailable</body></html>")
        if self.mode == "blocked":
            return self.blocked_response(request)
        return self.serve(request)

    def serve(self, request: Request) -> Response:
        raise NotImplementedError

    def blocked_response(self, request: Request) -> Response:
        return Response(status=403, body="<html><body>Forbidden</body></html>")

    def source_settings(self, base_url: str) -> dict[str, Any]:
        """A ``[[source]]`` table that points this replica's adapter at ``base_url``."""
        raise NotImplementedError
