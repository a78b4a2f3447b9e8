"""The command line: every command has help and is documented, errors are one
line with an exit code, and the --json shapes hold."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.main import get_command
from typer.testing import CliRunner

from monitor.cli.main import app
from monitor.history import CHANGE_FIELDS
from monitor.replica.server import ReplicaServer
from tests.helpers.config import write_config
from tests.helpers.taxonomy import CLASSIFY_FIELDS
from tests.sites import Item, ListSite

ROOT = Path(__file__).resolve().parents[1]
runner = CliRunner()


def command_names() -> list[str]:
    group = get_command(app)
    names = []
    for name, command in group.commands.items():  # type: ignore[attr-defined]
        sub = getattr(command, "commands", None)
        names += [f"{name} {s}" for s in sub] if sub else [name]
    return sorted(names)


@pytest.mark.parametrize("name", command_names())
def test_every_command_has_help_and_is_in_the_readme(name: str) -> None:
    result = runner.invoke(app, [*name.split(), "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage" in result.output
    assert f"regwatch {name}" in (ROOT / "README.md").read_text(encoding="utf-8")


@pytest.fixture
def site() -> Iterator[tuple[ListSite, ReplicaServer]]:
    replica = ListSite(
        items=[
            Item("a1", "生物制品稳定性研究技术指导原则", "2026-01-02"),
            Item("a2", "化学药物杂质研究技术指导原则", "2026-01-03"),
        ]
    )
    with ReplicaServer(replica) as server:
        yield replica, server


def test_check_changes_show_and_diff_work_on_a_real_store(
    site: tuple[ListSite, ReplicaServer], tmp_path: Path
) -> None:
    replica, server = site
    config = str(write_config(tmp_path, server.url))
    first = runner.invoke(app, ["check", "-c", config, "--json"])
    assert first.exit_code == 0, first.output
    assert json.loads(first.stdout.splitlines()[0])["outcome"] == "baseline"

    replica.items.append(
        Item("a3", "CAR-T细胞治疗产品药学变更研究技术指导原则（征求意见稿）", "2026-11-20")
    )
    replica.items[0] = Item("a1", "生物制品稳定性研究技术指导原则（修订）", "2026-01-02")
    assert runner.invoke(app, ["check", "-c", config]).exit_code == 0

    listed = runner.invoke(app, ["changes", "-c", config, "--json"])
    rows = json.loads(listed.stdout)
    assert sorted(r["event"] for r in rows) == ["changed", "draft"]
    assert all(list(r) == list(CHANGE_FIELDS) for r in rows)
    draft = next(r for r in rows if r["event"] == "draft")
    assert draft["relevant"] is True and draft["eu"] == ["gtmp"]

    relevant = json.loads(
        runner.invoke(app, ["changes", "-c", config, "--json", "--atmp", "gtmp"]).stdout
    )
    assert [r["id"] for r in relevant] == [draft["id"]]

    plain = runner.invoke(app, ["changes", "-c", config]).stdout.splitlines()
    assert [line.split("\t")[3] for line in plain] == [r["event"] for r in rows]

    table = runner.invoke(app, ["changes", "-c", config, "--csv"])
    parsed = list(csv.DictReader(io.StringIO(table.stdout)))
    assert len(parsed) == 2 and set(parsed[0]) == set(CHANGE_FIELDS)

    changed = next(r for r in rows if r["event"] == "changed")
    shown = json.loads(
        runner.invoke(app, ["show", str(changed["id"]), "-c", config, "--json"]).stdout
    )
    assert shown["fields_changed"] == ["title"] and "修订" in shown["excerpt"]
    diff = runner.invoke(app, ["diff", str(changed["document_id"]), "-c", config])
    assert diff.exit_code == 0 and "修订" in diff.output


def test_a_failing_source_exits_6_and_says_why(
    site: tuple[ListSite, ReplicaServer], tmp_path: Path
) -> None:
    replica, server = site
    replica.mode = "challenge"
    result = runner.invoke(app, ["check", "-c", str(write_config(tmp_path, server.url))])
    assert result.exit_code == 6
    assert "blocked" in result.output and "Traceback" not in result.output


@pytest.mark.parametrize(
    "extra, words",
    [
        ('colour = "blue"', ["regwatch.toml:", "colour", "unknown key"]),
        (
            '[[source]]\nname = "x"\nkind = "nope"\nurl = "http://x"',
            ["kind", "unknown source kind", "html-list"],
        ),
        ('[[notify]]\nname = "r"\nurls = ["${NOT_SET_ANYWHERE}"]', ["NOT_SET_ANYWHERE", "not set"]),
        (
            '[[source]]\nname = "y"\nkind = "html-list"\nurl = "http://x/"\nitem = "li"\n'
            'every = "six hours"',
            ["every", "six hours", "duration"],
        ),
    ],
)
def test_a_broken_config_names_the_file_line_and_key(
    tmp_path: Path, extra: str, words: list[str]
) -> None:
    config = write_config(tmp_path, "http://127.0.0.1:9", extra)
    result = runner.invoke(app, ["check", "-c", str(config)])
    assert result.exit_code == 2
    for word in words:
        assert word in result.output
    assert "Traceback" not in result.output


def test_unknown_ids_and_missing_files_are_one_line_errors(tmp_path: Path) -> None:
    missing = runner.invoke(app, ["changes", "-c", str(tmp_path / "nope.toml")])
    assert missing.exit_code == 2 and "regwatch init" in missing.output
    config = write_config(tmp_path, "http://127.0.0.1:9")
    from monitor.store import Store

    Store(f"sqlite:///{tmp_path / 'regwatch.db'}").close()  # `show` never creates one
    unknown = runner.invoke(app, ["show", "999", "-c", str(config)])
    assert unknown.exit_code == 4 and "no change with id 999" in unknown.output


def test_init_writes_the_starter_config_that_loads(tmp_path: Path) -> None:
    target = tmp_path / "regwatch.toml"
    assert runner.invoke(app, ["init", str(target)]).exit_code == 0
    from monitor.config import load

    config = load(target)
    assert {s.kind for s in config.sources} >= {
        "cde",
        "nmpa",
        "fda-guidance",
        "ema-documents",
        "federal-register",
        "fda-cber-cgt",
        "rss",
        "html-list",
    }
    again = runner.invoke(app, ["init", str(target)])
    assert again.exit_code == 1 and "--force" in again.output
    assert (ROOT / "deploy" / "regwatch.example.toml").read_text(
        encoding="utf-8"
    ) == target.read_text(encoding="utf-8")


def test_classify_prints_one_json_object_per_line() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "monitor.cli.main", "classify", "-"],
        input="溶瘤病毒类药物临床试验设计指导原则（试行）\nBioequivalence Studies\n",
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    )
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [line["relevant"] for line in lines] == [True, False]
    assert list(lines[0]) == CLASSIFY_FIELDS


def test_check_refuses_while_a_service_holds_the_database(tmp_path: Path) -> None:
    from monitor.service.lock import service_lock

    config = write_config(tmp_path, "http://127.0.0.1:9")
    lock = service_lock(f"sqlite:///{tmp_path / 'regwatch.db'}")
    lock.acquire()
    try:
        result = runner.invoke(app, ["check", "-c", str(config)])
    finally:
        lock.release()
    assert result.exit_code == 3
    assert f"held by pid {os.getpid()}" in result.output
    assert runner.invoke(app, ["check", "-c", str(config)]).exit_code == 6  # free again
