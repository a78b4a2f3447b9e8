"""`regwatch notify test`, `regwatch deliveries` and `regwatch notify retry` against
real receivers (aiosmtpd and a local webhook), through the real CLI.

Secrets (an SMTP password, a webhook token) must never show in what the CLI
prints, on stdout or in its logs on stderr: only apprise's privacy form.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from monitor.cli.main import app
from monitor.config import load
from monitor.delivery.alerts import enqueue
from monitor.store import Store
from notifiers.types import Alert
from tests.receivers import SMTP_PASSWORD, SmtpReceiver, WebhookReceiver

PASSWORD = SMTP_PASSWORD  # the smtp fixture's
TOKEN = "cli-hook-t0ken-77"
runner = CliRunner()


@pytest.fixture(autouse=True)
def keep_logging() -> Iterator[None]:
    """The CLI points the root logger at its own stderr; put pytest's handlers back."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


def write_config(tmp_path: Path, smtp: SmtpReceiver, hook: WebhookReceiver) -> Path:
    path = tmp_path / "regwatch.toml"
    path.write_text(
        f"""
[store]
url = "sqlite:///{tmp_path / "regwatch.db"}"

[delivery]
max_attempts = 2
backoff = 0.01
max_backoff = 0.01

[[notify]]
name = "mail"
urls = ['{smtp.mailto_url(user="alice", password=PASSWORD)}']
match = {{ relevant = true }}

[[notify]]
name = "hook"
urls = ['{hook.json_url("/alerts", auth=f"bot:{TOKEN}")}']
""",
        encoding="utf-8",
    )
    return path


def wait_until_retries_are_due(db: Path, timeout: float = 30) -> None:
    """Until no pending delivery has its next attempt in the future (stored as naive UTC)."""
    import sqlite3

    deadline = time.monotonic() + timeout
    while True:
        with sqlite3.connect(db) as connection:
            (latest,) = connection.execute(
                "SELECT max(next_attempt_at) FROM delivery WHERE status = 'pending'"
            ).fetchone()
        now = datetime.now(UTC).replace(tzinfo=None)
        if latest is None or datetime.fromisoformat(latest) <= now:
            return
        assert time.monotonic() < deadline, f"a retry is still not due at {now}: {latest}"
        time.sleep(0.005)


def invoke(*args: str) -> Result:
    result = runner.invoke(app, list(args))
    everything = result.output + result.stderr
    assert PASSWORD not in everything and TOKEN not in everything, everything
    return result


def deliveries(path: Path, *extra: str) -> list[dict[str, Any]]:
    result = invoke("deliveries", "--config", str(path), "--json", *extra)
    assert result.exit_code == 0, result.output
    data: list[dict[str, Any]] = json.loads(result.stdout)
    return data


def cart_draft(n: int) -> Alert:
    return Alert(
        id=f"cli-{n}",
        kind="draft",
        source="cde",
        regulator="CDE",
        jurisdiction="CN",
        title=f"CAR-T细胞治疗产品指导原则 第{n}号（征求意见稿）",
        url=f"https://www.cde.org.cn/{n}",
        relevant=True,
        cn=("cell_therapy",),
        status="draft",
        doc_type="guideline",
    )


def queue(path: Path, alerts: list[Alert]) -> None:
    config = load(path)
    store = Store(config.store.url)
    with store.session(write=True) as session:
        for alert in alerts:
            enqueue(
                session, alert, config.routes, purpose=f"change:{alert.id}", now=datetime.now(UTC)
            )
    store.close()


def test_notify_test_sends_through_one_route_and_prints_only_privacy_urls(
    smtp: SmtpReceiver,
    hook: WebhookReceiver,
    tmp_path: Path,
) -> None:
    path = write_config(tmp_path, smtp, hook)
    queue(path, [cart_draft(1)])  # a real alert waiting: `notify test` must not send it
    result = invoke("notify", "test", "mail", "--config", str(path))
    assert result.exit_code == 0, result.output
    assert "sent a test alert through mail" in result.stdout
    assert "mailto://alice:****@127.0.0.1" in result.stdout
    (mail,) = smtp.wait_for(1)
    assert mail["Subject"] == "[regwatch] Test alert from regwatch"
    assert "route 'mail' works" in mail.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert smtp.mails[0].login == "alice"

    result = invoke("notify", "test", "hook", "--config", str(path))
    assert result.exit_code == 0, result.output
    assert "json://bot:****@127.0.0.1" in result.stdout
    (post,) = hook.wait_for(1)
    assert post.json["title"] == "[regwatch] Test alert from regwatch"

    rows = deliveries(path)
    assert sorted((r["route"], r["kind"], r["status"]) for r in rows) == [
        ("hook", "draft", "pending"),
        ("hook", "test", "sent"),
        ("mail", "draft", "pending"),
        ("mail", "test", "sent"),
    ]


def test_notify_test_failure_exits_5_with_a_reason_and_no_secret(
    smtp: SmtpReceiver,
    hook: WebhookReceiver,
    tmp_path: Path,
) -> None:
    path = write_config(tmp_path, smtp, hook)
    hook.mode = "fail"
    result = invoke("notify", "test", "hook", "--config", str(path))
    assert result.exit_code == 5
    assert "failed:" in result.stdout and "500" in result.stdout
    smtp.stop()
    result = invoke("--verbose", "notify", "test", "mail", "--config", str(path))
    assert result.exit_code == 5 and "refused" in result.stdout.lower()
    assert "regwatch.dispatch" in result.stderr  # the logs went out too, masked
    result = invoke("notify", "test", "nosuch", "--config", str(path))
    assert result.exit_code == 2 and "no [[notify]] route named 'nosuch'" in result.stderr


def test_deliveries_show_status_and_reasons_and_retry_sends_the_failed(
    smtp: SmtpReceiver,
    hook: WebhookReceiver,
    tmp_path: Path,
) -> None:
    path = write_config(tmp_path, smtp, hook)
    queue(path, [cart_draft(1), cart_draft(2)])
    hook.mode = "fail"
    smtp.mode = "reject"

    for _ in range(2):  # max_attempts = 2
        result = invoke("check", "--config", str(path))
        wait_until_retries_are_due(tmp_path / "regwatch.db")  # the 0.01 s back-off
    assert "4 failed" in result.stdout
    failed = deliveries(path, "--status", "failed")
    assert len(failed) == 4 and {r["attempts"] for r in failed} == {2}
    reasons = {r["route"]: r["last_error"] for r in failed}
    assert "500" in reasons["hook"] and "json://bot:****@" in reasons["hook"]
    assert "554" in reasons["mail"] or "rejected" in reasons["mail"].lower()
    assert {r["title"] for r in failed} == {cart_draft(1).title, cart_draft(2).title}
    table = invoke("deliveries", "--config", str(path))
    assert table.exit_code == 0 and "failed" in table.stdout
    assert len(hook.posts) == 4 and smtp.mails == []

    hook.mode, smtp.mode = "ok", "ok"
    result = invoke("notify", "retry", "--config", str(path), "--route", "hook")
    assert result.exit_code == 0, result.output
    assert "requeued 2; 2 sent, 0 failed" in result.stdout
    assert len(hook.wait_for(6)) == 6 and smtp.mails == []
    result = invoke("notify", "retry", "--config", str(path))
    assert "requeued 2; 2 sent, 0 failed" in result.stdout
    mails = smtp.wait_for(2)
    assert sorted(m["Subject"].split(" — ")[1] for m in mails) == sorted(
        [cart_draft(1).title, cart_draft(2).title]
    )
    assert {r["status"] for r in deliveries(path)} == {"sent"}
    assert deliveries(path, "--status", "failed") == []
    result = invoke("notify", "retry", "--config", str(path))
    assert "requeued 0" in result.stdout
    assert len(hook.posts) == 6 and len(smtp.mails) == 2  # nothing twice


def test_the_deliveries_table_prints_brackets_as_text(
    smtp: SmtpReceiver,
    hook: WebhookReceiver,
    tmp_path: Path,
) -> None:
    path = write_config(tmp_path, smtp, hook)
    queue(
        path,
        [
            Alert(
                id="b",
                kind="added",
                source="s",
                regulator="CDE",
                jurisdiction="CN",
                title="[bold]试行[/bold]",
            )
        ],
    )
    result = invoke("deliveries", "--config", str(path))
    assert result.exit_code == 0 and "[bold]试行[/bold]" in result.stdout
