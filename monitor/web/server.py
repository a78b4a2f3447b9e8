"""A read-only web UI and feeds over the change history.

Pages (GET and HEAD only; anything else answers 405)::

    /                   the latest changes, newest first, with a search box
    /changes/<id>       one change: classification evidence, links, the stored diff
    /changes/<id>.json  the same object as ``regwatch show <id> --json``
    /documents/<id>     a document's versions; ``?v1=2&v2=3`` diffs two of them
                        (numbers per document, v1 the first seen), ``&view=sbs``
                        side by side instead of inline
    /search             full-text search of documents (or ``in=changes``):
                        ``q`` and the filters below plus ``status``, ``doc_type``
    /feed.atom          an Atom 1.0 feed of the changes, for a feed reader
    /changes.json       the same array as ``regwatch changes --json``
    /changes.csv        the same rows as CSV with a UTF-8 BOM (opens in Excel)
    /sources            the health of every source in the database

``/``, ``/feed.atom`` and ``/changes.json`` take the filters of
``regwatch changes`` in the query string: ``since`` (``7d``, ``12h``, ``2w`` or
a date), ``jurisdiction``, ``atmp``, ``kind``, ``source``, ``search``,
``relevant`` (``true``/``false``), ``limit``, and ``before=<change id>`` for the
next page. A bad value answers 400 with a message saying what is accepted, an
unknown id 404, a database that cannot be read 503; no page shows a traceback.

Times are shown in the configured ``[service] timezone``, labelled. Links in
the feed are relative to the feed (or absolute under ``base_url`` when one is
given): they never follow the request's ``Host`` header.

``make_app(store)`` is a plain WSGI application. ``serve_web(store, listen)``
runs it on a threaded ``wsgiref`` server in a daemon thread;
``open_readonly_store(url)`` opens a store whose connections refuse writes.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from socketserver import ThreadingMixIn
from typing import Any
from urllib.parse import urlencode
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server
from wsgiref.types import StartResponse, WSGIApplication, WSGIEnvironment

from monitor.errors import NotFound, StoreError, UsageError
from monitor.history import ChangeFilter, get_change, list_changes
from monitor.service.healthz import parse_listen
from monitor.store import Store
from monitor.store.db import utcnow
from monitor.web.query import (
    MAX_LIMIT,
    TRUE,
    HTTPError,
    number,
    params_of,
    parse_filter,
    parse_search,
)
from monitor.web.views import Views
from notifiers.redact import redact_bytes

log = logging.getLogger("regwatch.web")

DEFAULT_LISTEN = "127.0.0.1:8471"
JSON_LIMIT = 100  # as `regwatch changes --json`
FILTERS = ("since", "jurisdiction", "atmp", "kind", "source", "search", "relevant")
_ID = r"(\d{1,18})"


@dataclass
class Response:
    status: int
    body: bytes
    content_type: str = "text/html; charset=utf-8"
    headers: list[tuple[str, str]] = field(default_factory=list)


REASONS = {
    200: "OK",
    304: "Not Modified",
    400: "Bad Request",
    404: "Not Found",
    405: "Method Not Allowed",
    500: "Internal Server Error",
    503: "Service Unavailable",
}
SECURITY_HEADERS = [
    (
        "Content-Security-Policy",
        "default-src 'none'; style-src 'unsafe-inline'; "
        "form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    ),
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "same-origin"),
]


# -- the application ------------------------------------------------------------


@dataclass
class WebSettings:
    """What the configuration tells the web UI."""

    title: str = "regwatch"
    timezone: str = "UTC"
    regulators: dict[str, str] = field(default_factory=dict)  # source name -> label
    base_url: str = ""  # absolute links in the feed ("" = relative links)
    clock: Callable[[], datetime] = utcnow  # "N days left" counts from this (tests fix it)

    @classmethod
    def of(cls, config: Any, *, title: str = "regwatch", base_url: str = "") -> WebSettings:
        """From a loaded ``Config`` (``None``: the defaults)."""
        if config is None:
            return cls(title=title, base_url=base_url)
        return cls(
            title=title,
            timezone=config.service.timezone,
            base_url=base_url,
            regulators={s.name: s.regulator for s in config.sources if s.regulator},
        )


class WebApp:
    """The WSGI application of :func:`make_app`."""

    def __init__(
        self, store: Store, *, title: str = "regwatch", settings: WebSettings | None = None
    ) -> None:
        self.store = store
        self.settings = settings or WebSettings(title=title)
        self.views = Views(store, settings=self.settings)
        self.routes: list[tuple[re.Pattern[str], Any]] = [
            (re.compile(r"/"), self.index),
            (re.compile(r"/search"), self.search),
            (re.compile(r"/changes\.csv"), self.changes_csv),
            (re.compile(rf"/changes/{_ID}"), self.change),
            (re.compile(rf"/changes/{_ID}\.json"), self.change_json),
            (re.compile(rf"/documents/{_ID}"), self.document),
            (re.compile(r"/feed\.atom"), self.feed),
            (re.compile(r"/changes\.json"), self.changes_json),
            (re.compile(r"/sources"), self.sources),
            (re.compile(r"/sources/[^/]+"), self.source),
        ]

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        method = environ.get("REQUEST_METHOD", "GET")
        path = _path(environ)
        try:
            if method not in ("GET", "HEAD"):
                raise HTTPError(405, f"{method} is not allowed: this web UI is read-only")
            response = self.dispatch(environ, path)
        except HTTPError as exc:
            response = self.error(exc.status, exc.message, path)
        except NotFound as exc:
            response = self.error(404, exc.message, path)
        except UsageError as exc:
            response = self.error(400, exc.message, path)
        except StoreError as exc:
            log.warning("web: %s", exc.message)
            response = self.error(503, f"the database cannot be read: {exc.message}", path)
        except Exception as exc:  # a page never shows a traceback
            log.exception("web: %s %s failed", method, path)
            response = self.error(
                500, f"internal error ({type(exc).__name__}); the log has the details", path
            )
        if response.status == 405:
            response.headers.append(("Allow", "GET, HEAD"))
        return _send(response, environ, start_response)

    def dispatch(self, environ: WSGIEnvironment, path: str) -> Response:
        route = path.rstrip("/") or "/"
        for pattern, view in self.routes:
            match = pattern.fullmatch(route)
            if match:
                result: Response = view(environ, *(int(g) for g in match.groups()))
                return result
        raise HTTPError(404, f"no page at {path}; try / for the latest changes")

    # -- views ----------------------------------------------------------------

    def index(self, environ: WSGIEnvironment) -> Response:
        params = params_of(environ)
        flt = parse_filter(params)
        page = self.views.index(flt, _query(params), root=_root(environ))
        return Response(200, page.encode("utf-8"))

    def change(self, environ: WSGIEnvironment, change_id: int) -> Response:
        return Response(200, self.views.change(change_id, root=_root(environ)).encode("utf-8"))

    def change_json(self, environ: WSGIEnvironment, change_id: int) -> Response:
        return _json(get_change(self.store, change_id))

    def document(self, environ: WSGIEnvironment, doc_id: int) -> Response:
        params = params_of(environ)
        v1 = number("v1", params["v1"].lstrip("v"), 1, 10**18) if params.get("v1") else None
        v2 = number("v2", params["v2"].lstrip("v"), 1, 10**18) if params.get("v2") else None
        if (v1 is None) != (v2 is None):
            raise HTTPError(400, "give both v1 and v2 (two version numbers), or neither")
        full = params.get("full", "").lower() in TRUE
        view = params.get("view", "inline") or "inline"
        if view not in ("inline", "sbs"):
            raise HTTPError(400, f"view={view!r}: use inline or sbs (side by side)")
        page = self.views.document(
            doc_id, v1, v2, full=full, side_by_side=view == "sbs", root=_root(environ)
        )
        return Response(200, page.encode("utf-8"))

    def search(self, environ: WSGIEnvironment) -> Response:
        params = params_of(environ)
        flt = parse_search(params)
        page = self.views.search(
            flt, {k: v for k, v in params.items() if v.strip()}, root=_root(environ)
        )
        return Response(200, page.encode("utf-8"))

    def changes_csv(self, environ: WSGIEnvironment) -> Response:
        rows = list_changes(self.store, parse_filter(params_of(environ), default_limit=MAX_LIMIT))
        return Response(
            200,
            changes_csv(rows),
            "text/csv; charset=utf-8",
            [("Content-Disposition", 'attachment; filename="regwatch-changes.csv"')],
        )

    def feed(self, environ: WSGIEnvironment) -> Response:
        params = params_of(environ)
        flt = parse_filter(params)
        root = _root(environ)
        base = self.settings.base_url.rstrip("/") or root
        query = _query(params)
        self_url = f"{base}/feed.atom" + (f"?{urlencode(query)}" if query else "")
        body = self.views.feed(flt, query, base=base, self_url=self_url)
        return Response(200, body, "application/atom+xml; charset=utf-8")

    def changes_json(self, environ: WSGIEnvironment) -> Response:
        return _json(
            list_changes(self.store, parse_filter(params_of(environ), default_limit=JSON_LIMIT))
        )

    def sources(self, environ: WSGIEnvironment) -> Response:
        return Response(200, self.views.sources(root=_root(environ)).encode("utf-8"))

    def source(self, environ: WSGIEnvironment) -> Response:
        """One source: its health and the evidence its last failed run kept."""
        from urllib.parse import unquote

        name = unquote(_path(environ).rstrip("/").rsplit("/", 1)[1])
        return Response(200, self.views.source(name, root=_root(environ)).encode("utf-8"))

    def error(self, status: int, message: str, path: str) -> Response:
        if path.endswith(".json"):
            return _json({"error": message, "status": status}, status)
        try:
            page = self.views.error(status, REASONS.get(status, "Error"), message, root="")
        except Exception:  # the error page must not fail in turn
            log.exception("web: rendering the error page failed")
            return Response(status, message.encode("utf-8"), "text/plain; charset=utf-8")
        return Response(status, page.encode("utf-8"))


def make_app(
    store: Store, *, title: str = "regwatch", settings: WebSettings | None = None
) -> WSGIApplication:
    """The read-only web UI and feeds over ``store`` as a WSGI application."""
    return WebApp(store, title=title, settings=settings)


def changes_csv(rows: list[dict[str, Any]]) -> bytes:
    """``regwatch changes --csv --excel``: a BOM, a header row, lists as a|b."""
    import csv
    import io

    from monitor.history import CHANGE_FIELDS

    buffer = io.StringIO()
    buffer.write("\ufeff")
    writer = csv.DictWriter(buffer, fieldnames=list(CHANGE_FIELDS), extrasaction="ignore")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: ("|".join(v) if isinstance(v, list) else v) for k, v in row.items()})
    return buffer.getvalue().encode("utf-8")


# -- HTTP details ---------------------------------------------------------------


def _path(environ: WSGIEnvironment) -> str:
    raw = str(environ.get("PATH_INFO") or "/")
    try:  # PEP 3333: the path arrives as latin-1 decoded bytes
        return raw.encode("latin-1").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return raw


def _root(environ: WSGIEnvironment) -> str:
    """Where the app is mounted (``SCRIPT_NAME``), for links."""
    return str(environ.get("SCRIPT_NAME", "")).rstrip("/")


def _query(params: dict[str, str]) -> dict[str, str]:
    """The filters a user set (no paging), to carry into links."""
    return {key: params[key].strip() for key in FILTERS if params.get(key, "").strip()}


def _json(data: Any, status: int = 200) -> Response:
    body = json.dumps(data, ensure_ascii=False, indent=1, default=str).encode("utf-8")
    return Response(status, body, "application/json; charset=utf-8")


def _send(
    response: Response, environ: WSGIEnvironment, start_response: StartResponse
) -> list[bytes]:
    headers = [
        ("Content-Type", response.content_type),
        *SECURITY_HEADERS,
        *response.headers,
        ("Cache-Control", "no-cache"),
    ]
    status, body = response.status, redact_bytes(response.body)
    if status == 200:
        etag = '"' + hashlib.sha256(body).hexdigest()[:20] + '"'
        headers.append(("ETag", etag))
        if environ.get("HTTP_IF_NONE_MATCH") == etag:
            status, body = 304, b""
            headers = [h for h in headers if h[0] != "Content-Type"]
    if status != 304:
        headers.append(("Content-Length", str(len(body))))
    start_response(f"{status} {REASONS.get(status, 'Error')}", headers)
    return [] if environ.get("REQUEST_METHOD") == "HEAD" or status == 304 else [body]


# -- serving ----------------------------------------------------------------------


class _Server(ThreadingMixIn, WSGIServer):
    daemon_threads = True
    allow_reuse_address = True


class _Handler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        log.debug("web: %s " + format, self.address_string(), *args)


def serve_web(
    store: Store,
    listen: str = DEFAULT_LISTEN,
    *,
    title: str = "regwatch",
    app: WSGIApplication | None = None,
    settings: WebSettings | None = None,
) -> tuple[WSGIServer, threading.Thread]:
    """Serve the web UI on ``listen`` (``HOST:PORT``; port 0 picks a free one)
    from a started daemon thread. Stop it with ``server.shutdown()`` then
    ``server.server_close()``. ``OSError`` when the address is taken."""
    host, port = parse_listen(listen)
    server = make_server(
        host,
        port,
        app or make_app(store, title=title, settings=settings),
        server_class=_Server,
        handler_class=_Handler,
    )
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.2}, name="regwatch-web", daemon=True
    )
    thread.start()
    return server, thread


def server_url(server: WSGIServer) -> str:
    host, port = server.server_address[:2]
    return f"http://{host!s}:{port}"


def open_readonly_store(url: str) -> Store:
    """Open an existing database for reading only: no migrations, and every
    connection refuses writes (SQLite ``query_only``; PostgreSQL read-only
    transactions). ``StoreError`` when there is no database yet."""
    from sqlalchemy import event
    from sqlalchemy.engine import make_url

    if url.startswith("sqlite"):
        database = make_url(url).database or ""
        if database in ("", ":memory:"):
            raise StoreError(f"{url}: the web UI needs a database file")
        from pathlib import Path

        if not Path(database).expanduser().is_file():
            raise StoreError(
                f"no database at {database} yet: run `regwatch check` or `regwatch run` first"
            )
    store = Store(url, migrate=False)

    @event.listens_for(store.engine, "connect")
    def _read_only(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        if store.is_sqlite:
            cursor.execute("PRAGMA query_only = ON")
        else:
            cursor.execute("SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY")
        cursor.close()
        if not store.is_sqlite:
            dbapi_connection.commit()

    try:
        list_changes(store, ChangeFilter(limit=1))
    except StoreError as exc:
        store.close()
        raise StoreError(
            f"{store.safe_url} is not a regwatch database of this version "
            f"({exc.message}); run `regwatch check` once to upgrade it"
        ) from None
    return store
