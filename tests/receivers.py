"""Real local receivers for notification tests: an SMTP server and a webhook.

Both listen on 127.0.0.1, start and stop on demand (and can come back on the
same port, to test an outage and its recovery), and work as context
managers::

    with SmtpReceiver(credentials={"alice": "s3cret"}) as smtp:
        url = smtp.mailto_url(user="alice", password="s3cret")
        ...                                   # send through apprise
        message = smtp.wait_for(1)[0]         # an email.message.EmailMessage

    with WebhookReceiver() as hook:
        url = hook.json_url("/alerts")        # json://127.0.0.1:PORT/alerts
        hook.mode = "fail"                    # answer 500 from now on
        hook.go_down(); hook.come_up()        # refuse connections, then listen again
"""

from __future__ import annotations

import email
import email.policy
import json
import socket
import threading
from dataclasses import dataclass, field
from email.message import EmailMessage
from types import TracebackType
from typing import Any, Literal, Self
from urllib.parse import quote

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

from monitor.replica.server import ReplicaServer, Request, Response
from tests.helpers.wait import wait_for

SMTP_PASSWORD = "Sm7p-pa55word-x9"  # the password of the ``smtp`` fixture's alice


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class ReceivedMail:
    """One message as the SMTP server got it."""

    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage
    login: str | None


class _SmtpHandler:
    def __init__(self, receiver: SmtpReceiver) -> None:
        self.receiver = receiver

    async def handle_MAIL(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        if self.receiver.credentials and not session.authenticated:
            return "530 5.7.0 Authentication required"
        envelope.mail_from = address
        envelope.mail_options.extend(options)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        if self.receiver.mode == "reject":
            return "554 5.6.0 Message rejected by test receiver"
        raw = envelope.original_content or envelope.content or b""
        if isinstance(raw, str):
            raw = raw.encode("utf-8")
        parsed = email.message_from_bytes(raw, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        user = (
            session.auth_data.login.decode()
            if isinstance(session.auth_data, LoginPassword)
            else None
        )
        with self.receiver.lock:
            self.receiver.mails.append(
                ReceivedMail(
                    mail_from=envelope.mail_from or "",
                    rcpt_tos=list(envelope.rcpt_tos),
                    message=parsed,
                    login=user,
                )
            )
        return "250 Message accepted for delivery"


class SmtpReceiver:
    """An aiosmtpd server on 127.0.0.1 that keeps every message it accepts.

    ``credentials`` (user -> password) turns on AUTH (PLAIN/LOGIN over plain
    SMTP, as a local relay would) and refuses mail from unauthenticated
    sessions. ``mode = "reject"`` answers 554 to every message.
    """

    host = "127.0.0.1"

    def __init__(
        self, *, port: int | None = None, credentials: dict[str, str] | None = None
    ) -> None:
        self.port = port or free_port()
        self.credentials = dict(credentials or {})
        self.mode: Literal["ok", "reject"] = "ok"
        self.mails: list[ReceivedMail] = []
        self.failed_logins: list[str] = []
        self.lock = threading.Lock()
        self._controller: Controller | None = None

    def _authenticate(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: Any
    ) -> AuthResult:
        if isinstance(data, LoginPassword):
            user, password = data.login.decode(), data.password.decode()
            if self.credentials.get(user) == password:
                return AuthResult(success=True, auth_data=data)
            self.failed_logins.append(user)
        return AuthResult(success=False, handled=False)

    @property
    def running(self) -> bool:
        return self._controller is not None

    def start(self) -> Self:
        if self._controller is None:
            kwargs: dict[str, Any] = {}
            if self.credentials:
                kwargs = {"authenticator": self._authenticate, "auth_require_tls": False}
            controller = Controller(
                _SmtpHandler(self), hostname=self.host, port=self.port, **kwargs
            )
            controller.start()
            self._controller = controller
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def restart(self) -> Self:
        self.stop()
        return self.start()

    @property
    def messages(self) -> list[EmailMessage]:
        with self.lock:
            return [mail.message for mail in self.mails]

    def wait_for(self, count: int, timeout: float = 10) -> list[EmailMessage]:
        """Block until ``count`` messages arrived; return them."""
        wait_for(lambda: len(self.mails) >= count, timeout, f"{count} e-mail(s)", poll=0.01)
        return self.messages

    def mailto_url(
        self,
        *,
        user: str | None = None,
        password: str | None = None,
        to: str = "ra-team@example.com",
        sender: str = "regwatch@example.com",
    ) -> str:
        """An apprise URL that talks plain SMTP (no TLS) to this server."""
        auth = ""
        if user:
            auth = quote(user, safe="")
            if password:
                auth += ":" + quote(password, safe="")
            auth += "@"
        return (
            f"mailto://{auth}{self.host}:{self.port}"
            f"?mode=insecure&from={quote(sender)}&to={quote(to)}"
        )

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


@dataclass
class Posted:
    """One request the webhook got."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes
    json: Any = field(default=None)


class WebhookReceiver:
    """A threaded HTTP server on 127.0.0.1 recording every request (JSON decoded).

    ``mode``: ``"ok"`` answers 200, ``"fail"`` answers ``fail_status`` (500),
    ``"hang"`` waits ``hang_seconds`` before answering 200. ``ok_body`` is
    what a 200 carries (``"ok"`` for a Slack-like hook). ``go_down()``
    stops listening (connections are refused); ``come_up()`` listens again on
    the same port.
    """

    def __init__(self, *, port: int | None = None) -> None:
        self.port = port or free_port()
        self.mode: Literal["ok", "fail", "hang"] = "ok"
        self.fail_status = 500
        self.ok_body = '{"ok": true}'  # Slack's webhook answers "ok" as plain text
        self.hang_seconds = 5.0
        self.posts: list[Posted] = []
        self.lock = threading.Lock()
        self._server: ReplicaServer | None = None

    def _app(self, request: Request) -> Response:
        try:
            decoded = json.loads(request.body) if request.body else None
        except ValueError:
            decoded = None
        with self.lock:
            self.posts.append(
                Posted(
                    method=request.method,
                    path=request.path,
                    query=dict(request.query),
                    headers=dict(request.headers),
                    body=request.body,
                    json=decoded,
                )
            )
        if self.mode == "fail":
            return Response(
                status=self.fail_status,
                body='{"error": "receiver told to fail"}',
                content_type="application/json",
            )
        if self.mode == "hang":
            return Response(
                status=200,
                body=self.ok_body,
                content_type="application/json",
                delay=self.hang_seconds,
            )
        return Response(status=200, body=self.ok_body, content_type="application/json")

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def json_url(self, path: str = "/hook", *, auth: str = "") -> str:
        """``json://[auth@]127.0.0.1:PORT/path`` for apprise's JSON webhook plugin."""
        return f"json://{auth + '@' if auth else ''}127.0.0.1:{self.port}{path}"

    @property
    def running(self) -> bool:
        return self._server is not None

    def start(self) -> Self:
        if self._server is None:
            self._server = ReplicaServer(self._app, port=self.port).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
            self._server = None

    go_down = stop

    def come_up(self) -> Self:
        return self.start()

    def wait_for(self, count: int, timeout: float = 10) -> list[Posted]:
        wait_for(lambda: len(self.posts) >= count, timeout, f"{count} webhook post(s)", poll=0.01)
        with self.lock:
            return list(self.posts)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
