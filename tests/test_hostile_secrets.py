"""Secrets stay private in every output, at every log level.

A feed key in a source URL, a token in a source header, a Slack webhook
token and a webhook password, all given as ``${ENV}``, must never appear in:
``check`` output (text and JSON) and its ``-v`` debug log, ``changes
--json``, ``sources --json``, health alerts, the service's ``-v`` log,
``/healthz`` and the web UI; nor in apprise's error line for a mistyped
scheme. Real processes, a real list site and a real webhook receiver.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest

from monitor.replica.server import ReplicaServer, Request, Response
from tests.receivers import WebhookReceiver, free_port
from tests.sites import Item, ListSite

REGWATCH = str(Path(sys.executable).with_name("regwatch"))
SECRETS = {
    "FEED_KEY": "fk_live_9f8e7d6c5b4a",
    "HDR_TOKEN": "hdr-tok-31415926535",
    "SLACK_TOKEN": "xoxbSeCrEtToKeN24680",
    "HOOK_PASS": "hookpass-777-abc",
    "WECOM_KEY": "wecomkey-55555-zz",
}


class KeyedSite:
    """The list site, answering only with the right key and header (else 503)."""

    def __init__(self) -> None:
        self.list = ListSite(items=[Item("1", "细胞治疗产品指导原则", "2026-06-01")])
        self.fail = False

    def __call__(self, request: Request) -> Response:
        if self.fail or request.query.get("key") != SECRETS["FEED_KEY"]:
            return Response(status=503, body="busy")
        return self.list(request)


def write_config(
    path: Path,
    site: str,
    hook: WebhookReceiver,
    *,
    typo: bool = False,
    listen: int = 0,
    web: int = 0,
) -> None:
    urls = [
        f"json://user:${{HOOK_PASS}}@127.0.0.1:{hook.port}/health",
        "slack://T0AAAAAAA/B0BBBBBBB/${SLACK_TOKEN}",
    ]
    if typo:
        urls.append("wecombt://${WECOM_KEY}")
    listed = ", ".join(f'"{u}"' for u in urls)
    path.write_text(
        f"""
[store]
url = "sqlite:///{path.parent / "regwatch.db"}"

[http]
timeout = 2
delay = 0
retries = 0

[health]
alert_after = 1

[delivery]
backoff = 0.1
max_attempts = 2

[service]
listen = "127.0.0.1:{listen}"
web = "{f"127.0.0.1:{web}" if web else "off"}"

[[source]]
name = "keyed"
kind = "html-list"
url = "{site}/list/index.html?key=${{FEED_KEY}}"
headers = {{ Authorization = "Bearer ${{HDR_TOKEN}}" }}
item = ".list ul li"
title = "a"
link = "a@href"
date = "span"
every = "1h"

[[notify]]
name = "all"
urls = [{listed}]
match = {{ kinds = ["health", "recovered"] }}
""",
        encoding="utf-8",
    )


def run(*args: str, cwd: Path | None = None) -> str:
    env = {**os.environ, **SECRETS}
    done = subprocess.run(
        [REGWATCH, *args], capture_output=True, env=env, cwd=cwd, timeout=120, check=False
    )
    return done.stdout.decode("utf-8", "replace") + done.stderr.decode("utf-8", "replace")


def leaks(text: str) -> list[str]:
    forms = {f for v in SECRETS.values() for f in (v, quote(v, safe=""))}
    return sorted(f for f in forms if f in text)


@pytest.fixture
def world(tmp_path: Path) -> Iterator[tuple[KeyedSite, ReplicaServer, WebhookReceiver]]:
    site = KeyedSite()
    with ReplicaServer(site) as server:
        hook = WebhookReceiver().start()
        try:
            yield site, server, hook
        finally:
            hook.stop()


def fetch(url: str) -> str:
    try:
        with urllib.request.urlopen(url, timeout=10) as answer:
            return str(answer.read().decode("utf-8", "replace"))
    except urllib.error.HTTPError as exc:
        return str(exc.read().decode("utf-8", "replace"))


def test_no_output_shows_a_secret(
    tmp_path: Path, world: tuple[KeyedSite, ReplicaServer, WebhookReceiver]
) -> None:
    site, server, hook = world
    config = tmp_path / "regwatch.toml"
    write_config(config, server.url, hook)
    site.fail = False
    outputs = {"check -v (healthy)": run("-v", "check", "-c", str(config))}
    site.fail = True
    outputs["check -v"] = run("-v", "check", "-c", str(config))
    outputs["check --json"] = run("check", "-c", str(config), "--json")
    outputs["changes --json"] = run("changes", "-c", str(config), "--json")
    outputs["sources --json"] = run("sources", "-c", str(config), "--json")
    outputs["sources"] = run("sources", "-c", str(config))
    assert hook.posts, "the health alert reached the receiver"
    outputs["health alerts"] = "\n".join(p.body.decode("utf-8", "replace") for p in hook.posts)
    assert "${FEED_KEY}" in outputs["check -v"]  # the URL is shown, its key masked

    site.fail = True
    listen, web = free_port(), free_port()
    write_config(config, server.url, hook, listen=listen, web=web)
    log = tmp_path / "service.log"
    with log.open("wb") as err:
        proc = subprocess.Popen(
            [REGWATCH, "-v", "run", "-c", str(config)],
            stdout=err,
            stderr=err,
            env={**os.environ, **SECRETS},
            cwd=tmp_path,
        )
    try:
        deadline = time.monotonic() + 60
        body = ""
        while time.monotonic() < deadline and "503 Service" not in body:
            try:
                body = fetch(f"http://127.0.0.1:{listen}/healthz")
            except OSError:
                pass
            time.sleep(0.2)
        outputs["/healthz"] = body
        assert "last_error" in body
        outputs["web"] = fetch(f"http://127.0.0.1:{web}/") + fetch(
            f"http://127.0.0.1:{web}/changes.json"
        )
    finally:
        proc.terminate()
        proc.wait(30)
    outputs["service -v log"] = log.read_text(encoding="utf-8", errors="replace")
    assert "DEBUG" in outputs["service -v log"]
    found = {name: leaks(text) for name, text in outputs.items() if leaks(text)}
    assert found == {}


def test_a_mistyped_scheme_does_not_print_its_secret(
    tmp_path: Path, world: tuple[KeyedSite, ReplicaServer, WebhookReceiver]
) -> None:
    _, server, hook = world
    config = tmp_path / "regwatch.toml"
    write_config(config, server.url, hook, typo=True)
    for args in (
        ("check", "-c", str(config)),
        ("-v", "check", "-c", str(config)),
        ("notify", "test", "all", "-c", str(config)),
    ):
        text = run(*args, cwd=tmp_path)
        assert "wecombt" in text or "error" in text
        assert leaks(text) == [], (args, text)
