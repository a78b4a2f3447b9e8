"""A failed or blocked run keeps its evidence (issue 11): the last failing
body (bounded, compressed), status and headers, shown by `regwatch sources
SOURCE` and the web UI's source page, replaced by the next failure."""

from __future__ import annotations

import io
import json
import zlib
from pathlib import Path
from wsgiref.util import setup_testing_defaults

from sqlmodel import select
from typer.testing import CliRunner

from monitor.cli.main import app
from monitor.config import loads
from monitor.pipeline.check import Pipeline
from monitor.pipeline.evidence import MAX_BODY, evidence_for
from monitor.replica.nmpa import NmpaReplica
from monitor.replica.server import ReplicaServer, Request, Response, Router
from monitor.store import Store
from monitor.store.models import EvidenceRow
from monitor.web.server import make_app

runner = CliRunner()


class Switchable:
    """NMPA, then a Ruishu 412, then a huge 503 error page, then NMPA again."""

    def __init__(self) -> None:
        self.site = NmpaReplica()
        self.mode = "ok"

    def __call__(self, request: Request) -> Response:
        if self.mode == "huge":
            return Response(
                status=404,
                body=b"<html><body>" + b"x" * (MAX_BODY * 2) + b"</body></html>",
                headers={"X-Why": "gone"},
            )
        self.site.mode = "blocked" if self.mode == "blocked" else "ok"
        return self.site(request)


def write_config(tmp_path: Path, base: str) -> Path:
    path = tmp_path / "regwatch.toml"
    path.write_text(
        f"""
[store]
url = "sqlite:///{tmp_path / "e.db"}"
[http]
delay = 0
retries = 0
timeout = 10
[[source]]
name = "nmpa"
kind = "nmpa"
base_url = "{base}/nmpa"
columns = ["zhqyj"]
max_pages = 1
details = false
attachments = false
""",
        encoding="utf-8",
    )
    return path


def page(wsgi: object, path: str) -> tuple[str, str]:
    environ: dict[str, object] = {"PATH_INFO": path, "wsgi.input": io.BytesIO()}
    setup_testing_defaults(environ)
    seen: list[str] = []
    body = b"".join(wsgi(environ, lambda status, headers: seen.append(status)))  # type: ignore[operator]
    return seen[0], body.decode("utf-8")


def test_a_blocked_run_keeps_what_the_site_sent_until_the_next_failure(tmp_path: Path) -> None:
    site = Switchable()
    with ReplicaServer(Router({"/nmpa": site})) as server:
        path = write_config(tmp_path, server.url)
        config = loads(path.read_text())
        store = Store(config.store.url)
        assert Pipeline(config, store).check_all()[0].outcome == "baseline"
        assert evidence_for(store, "nmpa") is None  # a healthy run keeps nothing

        site.mode = "blocked"
        assert Pipeline(config, store).check_all()[0].outcome == "blocked"
        kept = evidence_for(store, "nmpa")
        assert kept is not None and kept.status == 412
        assert b"$_ts" in kept.body and kept.url.endswith("/xxgk/zhqyj/index.html")
        assert "Ruishu" in kept.verdict
        assert any(k.lower() == "set-cookie" for k in kept.headers)

        shown = runner.invoke(app, ["sources", "nmpa", "-c", str(path)])
        assert shown.exit_code == 0, shown.output
        assert "blocked, 1 failures in a row" in shown.output
        assert (
            "-> HTTP 412" in shown.output and "blocked: Ruishu JavaScript challenge" in shown.output
        )
        status, html = page(make_app(store), "/sources/nmpa")
        assert status.startswith("200") and "HTTP 412" in html and "$_ts" in html

        site.mode = "huge"  # the next failure replaces it, bounded and compressed
        assert Pipeline(config, store).check_all()[0].outcome == "failed"
        kept = evidence_for(store, "nmpa")
        assert kept is not None and kept.status == 404 and kept.headers.get("x-why") == "gone"
        assert kept.size > MAX_BODY * 2 and len(kept.body) == MAX_BODY and kept.truncated
        with store.session() as session:
            rows = session.exec(select(EvidenceRow)).all()
        assert len(rows) == 1 and len(rows[0].body) < MAX_BODY // 10
        assert zlib.decompress(rows[0].body) == kept.body
        out = tmp_path / "body.html"
        as_json = runner.invoke(
            app, ["sources", "nmpa", "-c", str(path), "--json", "--evidence", str(out)]
        )
        assert json.loads(as_json.output)["evidence"]["status"] == 404
        assert out.read_bytes() == kept.body

        site.mode = "ok"  # recovery: the last failure's evidence stays, dated
        assert Pipeline(config, store).check_all()[0].outcome in ("unchanged", "changed")
        assert evidence_for(store, "nmpa") is not None
