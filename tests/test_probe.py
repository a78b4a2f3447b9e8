"""`regwatch probe` on the replicas: a plain site, a blocked one, a moved date
column, a changed layout, and a browser source behind the strict challenge.
It prints per request the status and the block verdict, the records and the
fields missing in them; --save writes bodies, headers, a screenshot; the
database is never touched."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from monitor.cli.main import app
from monitor.replica.cde import CdeReplica
from monitor.replica.challenge import JsCookieChallenge
from monitor.replica.nmpa import NmpaReplica
from monitor.replica.server import ReplicaServer, Request, Response, Router
from sources.fetch.browser import browser_available

runner = CliRunner()


class MovedDates:
    """The NMPA replica after a redesign that moved the date out of its <span>."""

    def __init__(self) -> None:
        self.site = NmpaReplica()

    def __call__(self, request: Request) -> Response:
        response = self.site(request)
        body = response.payload().replace(b"<span>(", b"<em>(").replace(b")</span>", b")</em>")
        return Response(response.status, body, response.headers, response.content_type)


@pytest.fixture()
def sites() -> Iterator[tuple[str, NmpaReplica]]:
    plain = NmpaReplica()
    blocked, layout = CdeReplica(), NmpaReplica()
    blocked.mode, layout.mode = "blocked", "empty"
    strict = JsCookieChallenge(CdeReplica(), "ruishu-202", strict=True)
    app_ = Router(
        {
            "/plain": plain,
            "/blocked": blocked,
            "/moved": MovedDates(),
            "/layout": layout,
            "/cde": strict,
        }
    )
    with ReplicaServer(app_) as server:
        yield server.url, plain


def config(tmp_path: Path, base: str) -> str:
    path = tmp_path / "regwatch.toml"
    nmpa = 'kind = "nmpa"\ncolumns = ["zhqyj"]\nmax_pages = 1\nattachments = false'
    path.write_text(
        f"""
[store]
url = "sqlite:///{tmp_path / "never.db"}"
[http]
delay = 0
retries = 0
timeout = 10
[browser]
timeout = 20
[[source]]
name = "plain"
base_url = "{base}/plain"
{nmpa}
[[source]]
name = "blocked"
kind = "cde"
base_url = "{base}/blocked"
lists = ["domestic"]
[[source]]
name = "moved"
base_url = "{base}/moved"
{nmpa}
[[source]]
name = "layout"
base_url = "{base}/layout"
{nmpa}
[[source]]
name = "cde"
kind = "cde"
base_url = "{base}/cde"
fetch = "auto"
lists = ["opinions"]
""",
        encoding="utf-8",
    )
    return str(path)


def test_probe_plain_site_prints_requests_records_and_samples(
    tmp_path: Path, sites: tuple[str, NmpaReplica]
) -> None:
    base, plain = sites
    result = runner.invoke(app, ["probe", "plain", "-c", config(tmp_path, base)])
    assert result.exit_code == 0, result.output
    out = result.output
    assert f"GET {base}/plain/xxgk/zhqyj/index.html -> HTTP 200" in out
    assert ": content" in out and "BLOCKED" not in out
    count = min(20, len(plain.in_column("zhqyj")))
    assert f"records parsed: {count}" in out
    newest = plain.in_column("zhqyj")[0]
    assert f"- {newest.title} | {newest.date} | 征求意见 |" in out
    assert "missing or empty" not in out
    assert not (tmp_path / "never.db").exists()  # the database was never opened


def test_probe_blocked_site_says_why_and_saves_the_challenge(
    tmp_path: Path, sites: tuple[str, NmpaReplica]
) -> None:
    base, _ = sites
    save = tmp_path / "evidence"
    result = runner.invoke(
        app, ["probe", "blocked", "-c", config(tmp_path, base), "--save", str(save)]
    )
    assert result.exit_code == 6
    assert "-> HTTP 202" in result.output
    assert "BLOCKED (Ruishu JavaScript challenge (HTTP 202))" in result.output
    assert "result: blocked:" in result.output and 'fetch = "auto"' in result.output
    # the first request is the site's robots.txt (none here: 404, everything allowed)
    assert f"GET {base}/robots.txt -> HTTP 404" in result.output
    assert f"robots.txt: allows {base}/blocked" in result.output
    body = (save / "blocked" / "02-202.body").read_bytes()
    assert b"$_ts" in body
    headers = json.loads((save / "blocked" / "02-202.headers.json").read_text())
    assert headers["status"] == 202 and headers["method"] == "POST"
    assert any(k.lower() == "set-cookie" for k in headers["headers"])
    summary = json.loads((save / "blocked" / "summary.json").read_text())
    assert summary["records"] == 0 and "Ruishu" in summary["requests"][1]["verdict"]
    assert not (save / "blocked" / "screenshot.png").exists()  # plain HTTP: no browser


def test_probe_moved_column_names_the_empty_field(
    tmp_path: Path, sites: tuple[str, NmpaReplica]
) -> None:
    base, plain = sites
    result = runner.invoke(app, ["probe", "moved", "-c", config(tmp_path, base)])
    count = min(20, len(plain.in_column("zhqyj")))
    assert result.exit_code == 0, result.output
    assert f"records parsed: {count}" in result.output
    assert f"missing or empty: date in {count} of {count} records" in result.output


def test_probe_layout_change_is_reported(tmp_path: Path, sites: tuple[str, NmpaReplica]) -> None:
    base, _ = sites
    result = runner.invoke(app, ["probe", "layout", "-c", config(tmp_path, base)])
    assert result.exit_code == 6
    assert "-> HTTP 200" in result.output and ": content" in result.output
    assert "result: LayoutChanged: the NMPA column page has no .list ul" in result.output
    assert "records parsed: 0" in result.output


@pytest.mark.browser
@pytest.mark.skipif(browser_available() is None, reason="Chromium is not installed")
def test_probe_browser_source_saves_a_screenshot(
    tmp_path: Path, sites: tuple[str, NmpaReplica]
) -> None:
    base, _ = sites
    save = tmp_path / "evidence"
    result = runner.invoke(app, ["probe", "cde", "-c", config(tmp_path, base), "--save", str(save)])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert any("POST" in ln and "getOpinionList" in ln and "BLOCKED" in ln for ln in lines)
    assert any(
        "POST" in ln and "getOpinionList?MmEwMD=" in ln and ": content" in ln for ln in lines
    )  # the list page's own signed XHR
    shot = (save / "cde" / "screenshot.png").read_bytes()
    assert shot.startswith(b"\x89PNG")
    assert not (tmp_path / "never.db").exists()
