"""The walls of daily use, each with its exact output and exit code: filter
values, time zones, document and version numbers, `show` as the alert reads,
no crash on a missing folder or a closed pipe, read-only commands that create
nothing, CSV for Excel, disabled sources, help, `search`."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from monitor.cli.main import app
from monitor.cli.values import atmp_values, kind_values
from monitor.replica.server import ReplicaServer
from monitor.store import Store
from monitor.store.models import ChangeRow, SourceRow
from tests.sites import Item, ListSite

ROOT = Path(__file__).resolve().parents[1]
runner = CliRunner()
CAR_T = "CAR-T细胞治疗产品药学变更研究技术指导原则（征求意见稿）"


def write_config(
    tmp_path: Path,
    base: str,
    extra: str = "",
    *,
    db: str = "regwatch.db",
    name: str = "regwatch.toml",
) -> Path:
    path = tmp_path / name
    path.write_text(
        f"""
[store]
url = "sqlite:///{tmp_path / db}"

[service]
timezone = "Asia/Shanghai"

[http]
delay = 0
retries = 0
timeout = 2

[[source]]
name = "list"
kind = "html-list"
url = "{base}/list/index.html"
jurisdiction = "CN"
item = ".list ul li"
date = "span"
{extra}""",
        encoding="utf-8",
    )
    return path


@pytest.fixture
def history(tmp_path: Path) -> Iterator[tuple[Path, ListSite]]:
    """A real store after a baseline and one run with a new draft and an edit."""
    replica = ListSite(
        items=[
            Item("a1", "生物制品稳定性研究技术指导原则", "2026-01-02"),
            Item("a2", "化学药物杂质研究技术指导原则", "2026-01-03"),
        ]
    )
    with ReplicaServer(replica) as server:
        config = write_config(tmp_path, server.url)
        assert runner.invoke(app, ["check", "-c", str(config)]).exit_code == 0
        replica.items.append(Item("a3", CAR_T, "2026-11-20"))
        replica.items[0] = Item("a1", "生物制品稳定性研究技术指导原则（修订）", "2026-01-02")
        assert runner.invoke(app, ["check", "-c", str(config)]).exit_code == 0
        yield config, replica


def invoke(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def rows(config: Path, *args: str) -> list[dict[str, object]]:
    code, out, err = invoke("changes", "-c", str(config), "--json", *args)
    assert code == 0, err
    data: list[dict[str, object]] = json.loads(out)
    return data


# -- filter values -------------------------------------------------------------------


def test_obvious_spellings_are_accepted(history: tuple[Path, ListSite]) -> None:
    config, _ = history
    draft = rows(config, "--kind", "draft")
    assert [r["title"] for r in draft] == [CAR_T]
    assert rows(config, "--atmp", "CAR-T") == draft
    assert rows(config, "--atmp", "Car T") == draft
    assert rows(config, "--kind", "Draft") == draft
    assert rows(config, "--jurisdiction", "cn", "--kind", "DRAFT") == draft
    assert rows(config, "--source", "LIST", "--kind", "draft") == draft


@pytest.mark.parametrize(
    "option, value, valid",
    [
        ("--atmp", "CAR-X", ", ".join(atmp_values())),
        ("--kind", "banana", ", ".join(kind_values())),
        ("--jurisdiction", "XX", "CN, US, EU"),
        ("--source", "nosuch", "list"),
    ],
)
def test_unknown_filter_values_fail_with_the_valid_ones(
    history: tuple[Path, ListSite], option: str, value: str, valid: str
) -> None:
    config, _ = history
    code, out, err = invoke("changes", "-c", str(config), option, value)
    assert (code, out) == (2, "")
    assert err == f"error: {option} {value!r} is not valid; use one of: {valid}\n"


def test_deliveries_status_and_retry_route_are_checked(history: tuple[Path, ListSite]) -> None:
    config, _ = history
    code, _, err = invoke("deliveries", "-c", str(config), "--status", "banana")
    assert (code, err) == (
        2,
        "error: --status 'banana' is not valid; use one of: pending, sending, sent, failed\n",
    )
    assert invoke("deliveries", "-c", str(config), "--status", "Failed")[0] == 0
    code, _, err = invoke("notify", "retry", "-c", str(config), "--route", "nosuch")
    assert code == 2
    assert err == (
        f"error: {config}: no [[notify]] route named 'nosuch' (configured: none configured)\n"
    )


def test_search_command_and_its_filters(history: tuple[Path, ListSite]) -> None:
    config, _ = history
    code, out, _ = invoke("search", "细胞", "-c", str(config), "--json")
    hits = json.loads(out)
    assert code == 0 and [h["title"] for h in hits] == [CAR_T]
    assert hits[0]["kind"] == "document" and hits[0]["status"] == "draft"
    assert (
        json.loads(invoke("search", "稳定性", "-c", str(config), "--json")[1])[0]["title"]
        == "生物制品稳定性研究技术指导原则（修订）"
    )
    code, out, _ = invoke("search", "技术指导原则", "-c", str(config), "--status", "Draft")
    assert code == 0 and out.count("\n") == 1 and CAR_T in out and "CST" in out
    code, out, _ = invoke("search", "修订", "-c", str(config), "--changes", "--json")
    assert [h["event"] for h in json.loads(out)] == ["changed"]
    code, _, err = invoke("search", "x", "-c", str(config), "--doc-type", "memo")
    assert code == 2 and err.startswith(
        "error: --doc-type 'memo' is not valid; use one of: guideline, qa,"
    )
    assert [r["title"] for r in rows(config, "--search", "CAR-T")] == [CAR_T]
    assert rows(config, "--search", "%") == []


# -- times, ids, versions, show ------------------------------------------------------------


def test_times_are_in_the_configured_zone_and_labelled(history: tuple[Path, ListSite]) -> None:
    config, _ = history
    code, out, _ = invoke("changes", "-c", str(config))
    assert code == 0
    stored = rows(config)
    for line, row in zip(out.splitlines(), stored, strict=True):
        cells = line.split("\t")
        utc = datetime.fromisoformat(str(row["detected_at"]))
        local = (utc + timedelta(hours=8)).strftime("%Y-%m-%d %H:%M CST")
        assert cells[1] == local
        assert cells[4] == str(row["document_id"])  # the document id is shown


def test_show_reads_like_the_alert_and_numbers_versions(history: tuple[Path, ListSite]) -> None:
    config, _ = history
    changed = next(r for r in rows(config) if r["event"] == "changed")
    code, out, _ = invoke("show", str(changed["id"]), "-c", str(config))
    assert code == 0
    assert out.splitlines()[0].startswith(f"change {changed['id']} · changed · detected ")
    assert out.splitlines()[0].endswith(" CST")
    assert "relevant=" not in out and "cn=[" not in out
    assert re.search(
        r"^Detected \d{4}-\d\d-\d\d \d\d:\d\d CST · regwatch alert change-", out, re.MULTILINE
    ), out
    assert f"document {changed['document_id']} · versions v1 v2 · `regwatch diff " in out
    shown = json.loads(invoke("show", str(changed["id"]), "-c", str(config), "--json")[1])
    assert [v["version"] for v in shown["versions"]] == [1, 2]
    doc = str(changed["document_id"])
    by_number = invoke("diff", doc, "v1", "v2", "-c", str(config))
    assert by_number[0] == 0 and "修订" in by_number[1]
    assert invoke("diff", doc, "1", "2", "-c", str(config))[1] == by_number[1]
    old_ids = [str(v["id"]) for v in shown["versions"]]
    assert invoke("diff", doc, *old_ids, "-c", str(config))[1] == by_number[1]  # still accepted
    code, _, err = invoke("diff", doc, "v1", "v9", "-c", str(config))
    assert (code, err) == (4, f"error: document {doc} has versions v1, v2; got v9\n")


def test_control_characters_never_reach_the_terminal(tmp_path: Path) -> None:
    config = write_config(tmp_path, "http://127.0.0.1:9")
    store = Store(f"sqlite:///{tmp_path / 'regwatch.db'}")
    with store.session(write=True) as session:
        source = SourceRow(name="list", kind="html-list", jurisdiction="CN")
        session.add(source)
        session.flush()
        session.add(
            ChangeRow(
                source_id=source.id or 0,
                kind="added",
                event="added",
                detected_at=datetime(2026, 11, 1, tzinfo=UTC),
                title="\x1b[31mred\x1b[0m \u202etitle\x07",
            )
        )
    store.close()
    code, out, _ = invoke("changes", "-c", str(config))
    assert code == 0 and "\x1b" not in out and "\u202e" not in out and "\x07" not in out
    assert "[31mred[0m title" in out
    assert "\x1b" not in invoke("show", "1", "-c", str(config))[1]


# -- no crash, no surprise files -----------------------------------------------------------


def test_init_into_a_missing_folder_is_a_usage_error() -> None:
    code, out, err = invoke("init", "/nonexistent/dir/x.toml")
    assert (code, out) == (2, "")
    assert err == (
        "error: cannot write /nonexistent/dir/x.toml: the folder /nonexistent/dir "
        "does not exist (create it first, or give another path)\n"
    )


def test_init_says_notify_routes_in_brackets(tmp_path: Path) -> None:
    code, out, _ = invoke("init", str(tmp_path / "r.toml"))
    assert (code, out) == (
        0,
        f"wrote {tmp_path / 'r.toml'} — edit the [[notify]] routes, then run `regwatch check`\n",
    )


def test_a_closed_pipe_is_not_an_error(tmp_path: Path) -> None:
    config = write_config(tmp_path, "http://127.0.0.1:9")
    store = Store(f"sqlite:///{tmp_path / 'regwatch.db'}")
    with store.session(write=True) as session:
        source = SourceRow(name="list", kind="html-list", jurisdiction="CN")
        session.add(source)
        session.flush()
        for i in range(3000):  # ~300 KB of CSV: far more than a pipe buffer
            session.add(
                ChangeRow(
                    source_id=source.id or 0,
                    kind="added",
                    event="added",
                    detected_at=datetime(2026, 11, 1, tzinfo=UTC),
                    title=f"细胞治疗产品指导原则 {i} " + "x" * 60,
                )
            )
    store.close()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "monitor.cli.main",
            "changes",
            "-c",
            str(config),
            "--csv",
            "--limit",
            "3000",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=ROOT,
    )
    assert process.stdout is not None and process.stderr is not None
    header = process.stdout.readline()
    process.stdout.close()  # `| head -1`
    error = process.stderr.read()
    process.stderr.close()
    assert process.wait(timeout=60) == 0
    assert header.startswith(b"id,detected_at,source") and error == b""


def test_read_only_commands_never_create_a_database(tmp_path: Path) -> None:
    config = write_config(tmp_path, "http://127.0.0.1:9", db="typo/x.db")
    code, out, err = invoke("changes", "-c", str(config))
    assert (code, out) == (3, "")
    assert err == (
        f"error: no database at {tmp_path / 'typo/x.db'} (from {config} [store] "
        "url): run `regwatch check` first, or fix the path\n"
    )
    for command in (["show", "1"], ["diff", "1"], ["search", "细胞"], ["deliveries"]):
        assert invoke(*command, "-c", str(config))[0] == 3
    code, out, _ = invoke("sources", "-c", str(config), "--json")
    assert code == 0 and json.loads(out)["sources"][0]["last_outcome"] == ""
    assert not (tmp_path / "typo").exists()


def test_changes_does_not_need_unrelated_secrets(history: tuple[Path, ListSite]) -> None:
    config, _ = history
    config.write_text(
        config.read_text(encoding="utf-8")
        + """
[[notify]]
name = "mail"
urls = ["mailtos://user:${SMTP_PASSWORD_NOT_SET}@mail.example.com"]
""",
        encoding="utf-8",
    )
    assert len(rows(config)) == 2
    code, _, err = invoke("check", "-c", str(config))
    assert code == 2 and "SMTP_PASSWORD_NOT_SET" in err  # a command that sends still needs it


def test_excel_csv_starts_with_a_bom(history: tuple[Path, ListSite]) -> None:
    config, _ = history
    code, out, _ = invoke("changes", "-c", str(config), "--csv", "--excel")
    assert code == 0 and out.startswith("\ufeffid,detected_at,")
    assert not invoke("changes", "-c", str(config), "--csv")[1].startswith("\ufeff")


# -- sources --------------------------------------------------------------------------------


def test_check_of_named_sources_reads_the_config_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``check --source a --source b`` refuses a disabled name before the store
    exists, from the same reading of the file that the check then uses."""
    from monitor import config as config_module

    config = write_config(
        tmp_path,
        "http://127.0.0.1:9",
        '[[source]]\nname = "two"\nkind = "html-list"\nurl = "http://127.0.0.1:9/y"\nitem = "li"\n',
    )
    loads: list[str] = []
    real = config_module.load

    def counted(path: str) -> config_module.Config:
        loads.append(path)
        return real(path)

    monkeypatch.setattr(config_module, "load", counted)
    code, out, _ = invoke("check", "-c", str(config), "-s", "list", "-s", "two", "--no-deliver")
    assert code == 6 and "list" in out and "two" in out  # both checked (and failed: port 9)
    assert loads == [str(config)]


def test_disabled_sources_and_default_schedules(tmp_path: Path) -> None:
    config = write_config(
        tmp_path,
        "http://127.0.0.1:9",
        """
[[source]]
name = "off"
kind = "html-list"
url = "http://127.0.0.1:9/x"
item = "li"
enabled = false
every = "1d"
""",
    )
    code, _, err = invoke("check", "-c", str(config), "--source", "off")
    assert (code, err) == (
        2,
        f"error: source 'off' is disabled (enabled = false in {config}); "
        "set enabled = true to check it\n",
    )
    data = json.loads(invoke("sources", "-c", str(config), "--json")[1])["sources"]
    assert [(s["name"], s["schedule"], s["enabled"]) for s in data] == [
        ("list", "every 6h (default)", True),
        ("off", "every 1d", False),
    ]
    code, out, _ = invoke("sources", "-c", str(config))
    assert "disabled" in out and "every 6h" in out
    assert not (tmp_path / "regwatch.db").exists()


def test_enabled_must_be_true_or_false(tmp_path: Path) -> None:
    config = write_config(tmp_path, "http://127.0.0.1:9", 'enabled = "yes"')
    code, _, err = invoke("check", "-c", str(config))
    assert code == 2 and "enabled" in err and "valid boolean" in err


# -- help -----------------------------------------------------------------------------------


def test_help_version_and_verbose_after_the_command(history: tuple[Path, ListSite]) -> None:
    config, _ = history
    code, out, _ = invoke("--version")
    assert code == 0 and out.startswith("regwatch ")
    assert invoke("changes", "-c", str(config), "-v")[0] == 0
    assert invoke("changes", "-v", "-c", str(config), "--kind", "draft")[0] == 0
    for command in ("changes", "search", "show", "diff", "deliveries", "check", "init"):
        text = invoke(command, "--help")[1]
        assert "<str>" not in text and "<bool>" not in text and "<list[str]>" not in text
    assert "Examples:" in invoke("changes", "--help")[1]
    assert "Examples:" in invoke("--help")[1]


def test_demo_keep_writes_a_config_beside_the_database(tmp_path: Path) -> None:
    from monitor.demo import keep_database

    db = tmp_path / "made.db"
    Store(f"sqlite:///{db}").close()
    kept, config = keep_database(db, tmp_path / "keep")
    assert kept == tmp_path / "keep" / "demo.db" and config == tmp_path / "keep" / "regwatch.toml"
    code, out, _ = invoke("changes", "-c", str(config))
    assert (code, out) == (0, "")


# -- offline ----------------------------------------------------------------------------------


def test_an_unreachable_host_is_given_up_once_and_each_result_printed_once(tmp_path: Path) -> None:
    closed = "http://127.0.0.1:9"  # nothing listens on the discard port
    config = write_config(
        tmp_path,
        closed,
        "".join(
            f"""
[[source]]
name = "more-{i}"
kind = "html-list"
url = "{closed}/more-{i}/index.html"
item = "li"
"""
            for i in range(3)
        ),
    )
    text = config.read_text(encoding="utf-8").replace("retries = 0", "retries = 2\nbackoff = 0.01")
    config.write_text(text, encoding="utf-8")
    process = subprocess.run(
        [sys.executable, "-m", "monitor.cli.main", "check", "-c", str(config), "--no-deliver"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert process.returncode == 6
    lines = process.stdout.splitlines()
    assert [line.split(":")[0] for line in lines] == ["list", "more-0", "more-1", "more-2"]
    assert "network error" in lines[0]
    assert all("skipped: cannot reach 127.0.0.1" in line for line in lines[1:])
    warnings = [line for line in process.stderr.splitlines() if line.strip()]
    assert len(warnings) == 1, process.stderr
    assert warnings[0].endswith(
        "cannot reach 127.0.0.1 (network down?): its 3 other source(s) are skipped this run"
    )
    assert "retrying" not in process.stderr


def test_healthz_times_share_the_configured_zone() -> None:
    from monitor.service.healthz import local_times

    body = {
        "started_at": "2026-11-25T00:00:00+00:00",
        "timezone": "Asia/Shanghai",
        "scheduler": {"jobs": [{"id": "dispatch", "next_run": "2026-11-25T08:01:00+08:00"}]},
        "sources": [
            {
                "name": "x",
                "last_run_at": "2026-11-25T00:00:00+00:00",
                "last_ok_at": None,
                "last_error": "2026-11-25T00:00:00+00:00",
            }
        ],
    }
    shown = local_times(body, "Asia/Shanghai")
    assert shown["started_at"] == "2026-11-25T08:00:00+08:00"
    assert shown["scheduler"]["jobs"][0]["next_run"] == "2026-11-25T08:01:00+08:00"
    assert shown["sources"][0]["last_run_at"] == "2026-11-25T08:00:00+08:00"
    assert shown["sources"][0]["last_error"] == "2026-11-25T00:00:00+00:00"  # text stays


def test_a_failed_notify_test_is_not_sent_later(tmp_path: Path) -> None:
    from sqlmodel import select

    from monitor.config import load
    from monitor.delivery.dispatch import Dispatcher
    from monitor.store.models import DeliveryRow

    config = write_config(
        tmp_path,
        "http://127.0.0.1:9",
        """
[[notify]]
name = "hook"
urls = ["json://127.0.0.1:9/inbox"]
""",
    )
    Store(f"sqlite:///{tmp_path / 'regwatch.db'}").close()
    code, out, _ = invoke("notify", "test", "hook", "-c", str(config))
    assert code == 5 and "failed:" in out
    store = Store(f"sqlite:///{tmp_path / 'regwatch.db'}")
    with store.session() as session:
        [row] = session.exec(select(DeliveryRow)).all()
    assert row.status == "failed" and row.next_attempt_at is None
    result = Dispatcher(load(config), store).run_once()  # the next `check`
    assert (result.sent, result.failed, result.retrying) == (0, 0, 0)
    store.close()


def test_web_off_loopback_warns_that_there_is_no_login(tmp_path: Path) -> None:
    import signal

    config = write_config(tmp_path, "http://127.0.0.1:9")
    Store(f"sqlite:///{tmp_path / 'regwatch.db'}").close()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "monitor.cli.main",
            "web",
            "-c",
            str(config),
            "--listen",
            "0.0.0.0:0",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    assert process.stdout is not None and process.stderr is not None
    try:
        warning = process.stderr.readline()
        serving = process.stdout.readline()
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0
        process.stdout.close()
        process.stderr.close()
    assert warning == (
        "warning: the web UI has no authentication; on 0.0.0.0 anyone who can "
        "reach this machine can read the history (put it behind a proxy with a "
        "login, or listen on 127.0.0.1)\n"
    )
    assert serving.startswith("regwatch web UI on http://0.0.0.0:")
