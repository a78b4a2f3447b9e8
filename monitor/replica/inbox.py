"""A local webhook inbox: receives apprise ``json://`` posts and keeps them.

The demo routes its alerts here and prints what arrived, so what you see is
what a real chat webhook would have received.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from typing import Any

from monitor.replica.server import Request, Response


@dataclass
class Inbox:
    messages: list[dict[str, Any]] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __call__(self, request: Request) -> Response:
        try:
            payload = json.loads(request.body.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError):
            return Response(status=400, body="expected JSON")
        with self._lock:
            self.messages.append(payload if isinstance(payload, dict) else {"body": payload})
        return Response(status=200, body='{"ok": true}', content_type="application/json")

    def take(self) -> list[dict[str, Any]]:
        with self._lock:
            taken, self.messages = self.messages, []
        return taken
