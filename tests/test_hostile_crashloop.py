"""A crash loop cannot resend an alert without limit.

The real ``regwatch run`` is started and killed with SIGKILL while it is
posting an alert, again and again (the receiver holds every post open, so
each kill lands mid-send). Attempts are counted when a delivery is claimed,
before anything is sent, so the receiver gets the alert at most
``max_attempts`` times; after that the delivery is "failed". Every post of
that delivery carries the same idempotency key.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

from monitor.config import load
from monitor.delivery.alerts import enqueue
from monitor.replica.server import ReplicaServer
from monitor.store import Store
from notifiers.types import Alert
from tests.helpers.wait import until
from tests.receivers import WebhookReceiver
from tests.sites import Item, ListSite

REGWATCH = str(Path(sys.executable).with_name("regwatch"))
MAX_ATTEMPTS = 3
KILLS = 7


def delivery(db: Path) -> tuple[str, int]:
    with sqlite3.connect(db) as conn:
        row = conn.execute("SELECT status, attempts FROM delivery").fetchone()
    return str(row[0]), int(row[1])


def test_kill_at_every_start_resends_at_most_max_attempts(tmp_path: Path) -> None:
    hook = WebhookReceiver().start()
    hook.mode, hook.hang_seconds = "hang", 60.0  # every post stays open until the kill
    db = tmp_path / "regwatch.db"
    config_path = tmp_path / "regwatch.toml"
    with ReplicaServer(ListSite(items=[Item("1", "细胞治疗产品指导原则", "2026-06-01")])) as site:
        config_path.write_text(
            f"""
[store]
url = "sqlite:///{db}"
[http]
delay = 0
[delivery]
every = "1s"
backoff = 0.1
max_backoff = 0.2
max_attempts = {MAX_ATTEMPTS}
[service]
listen = "off"
[[source]]
name = "list"
kind = "html-list"
url = "{site.url}/list/index.html"
item = ".list ul li"
title = "a"
link = "a@href"
date = "span"
every = "1h"
[[notify]]
name = "hook"
urls = ["{hook.json_url("/changes")}"]
match = {{ kinds = ["draft"] }}
""",
            encoding="utf-8",
        )
        config = load(config_path)
        store = Store(config.store.url)
        store.migrate()
        alert = Alert(
            id="loop-1",
            kind="draft",
            source="cde",
            regulator="CDE",
            jurisdiction="CN",
            title="细胞治疗产品指导原则（征求意见稿）",
            url="https://example.org/1",
            relevant=True,
            cn=("cell_therapy",),
            status="draft",
            doc_type="guideline",
        )
        with store.session(write=True) as session:
            assert enqueue(
                session, alert, config.routes, purpose="change:loop-1", now=datetime.now(UTC)
            )
        store.engine.dispose()
        try:
            for _ in range(KILLS):
                seen = len(hook.posts)
                proc = subprocess.Popen(
                    [REGWATCH, "run", "-c", str(config_path)],
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                    env=dict(os.environ),
                    cwd=tmp_path,
                )
                try:
                    until(
                        lambda seen=seen: (
                            len(hook.posts) > seen  # type: ignore[misc]
                            or delivery(db)[0] == "failed"
                        ),
                        60,
                    )
                finally:
                    proc.send_signal(signal.SIGKILL)
                    proc.wait(30)
        finally:
            hook.stop()
    status, attempts = delivery(db)
    assert len(hook.posts) == MAX_ATTEMPTS  # before: one post per start (KILLS)
    assert (status, attempts) == ("failed", MAX_ATTEMPTS)
    keys = {post.headers.get("X-Regwatch-Delivery") for post in hook.posts}
    assert len(keys) == 1 and None not in keys
    assert {post.headers.get("Idempotency-Key") for post in hook.posts} == keys
