"""The new classes downstream: routes match ``scope`` and Japan's classes,
``changes --atmp`` finds Japan's classes, alerts carry jp and scope — over a
real local site, a real SQLite store and the real CLI."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlmodel import col, select
from typer.testing import CliRunner

from monitor import config as config_module
from monitor.cli.main import app
from monitor.delivery.alerts import alert_from_change
from monitor.errors import ConfigError
from monitor.replica.server import ReplicaServer
from monitor.store.db import Store
from monitor.store.models import ChangeRow, SourceRow
from notifiers.routes import Match, Route, routes_for
from notifiers.types import Alert
from tests.helpers.config import write_config
from tests.sites import Item, ListSite

runner = CliRunner()


JP_CAR_T = "イエスカルタ点滴静注(アキシカブタゲン シロルユーセル)の承認について"
REGISTRATION = "关于发布《药品注册管理办法》的公告"
FOOD = "保健食品注册与备案管理办法"


def alert(**fields: object) -> Alert:
    base: dict[str, object] = {
        "id": "x",
        "kind": "added",
        "source": "s",
        "regulator": "r",
        "jurisdiction": "CN",
        "title": "t",
    }
    return Alert(**(base | fields))  # type: ignore[arg-type]


def test_scope_filter_takes_cgt_and_horizontal_only() -> None:
    match = Match(scope=["cgt", "horizontal"])
    assert match.matches(alert(relevant=True, scope="cgt"))
    assert match.matches(alert(relevant=False, scope="horizontal"))
    assert not match.matches(alert(relevant=False, scope="none"))
    # relevant = true still means CGT only
    assert not Match(relevant=True, scope=["cgt", "horizontal"]).matches(
        alert(relevant=False, scope="horizontal")
    )


def test_atmp_filter_knows_japans_classes() -> None:
    match = Match(atmp=["human_cell_processed"])
    assert match.matches(alert(relevant=True, jp=("human_cell_processed",)))
    assert not match.matches(alert(relevant=True, jp=("gene_therapy",), cn=("gene_therapy",)))


def test_a_bad_scope_in_the_config_is_one_clear_line() -> None:
    text = """
[[notify]]
name = "ra"
urls = ["json://127.0.0.1:9/hook"]
match = { scope = ["cgt", "everything"] }
"""
    with pytest.raises(ConfigError) as caught:
        config_module.loads(text)
    message = str(caught.value)
    assert "scope" in message and "'everything'" in message and "horizontal" in message
    assert "\n" not in message.strip()


@pytest.fixture
def world(tmp_path: Path) -> Iterator[tuple[Path, ListSite]]:
    replica = ListSite(items=[Item("a1", "生物制品稳定性研究技术指导原则", "2026-01-02")])
    with ReplicaServer(replica) as server:
        yield write_config(tmp_path, server.url), replica


def test_changes_atmp_and_routes_on_the_new_classes(world: tuple[Path, ListSite]) -> None:
    config, replica = world
    assert runner.invoke(app, ["check", "-c", str(config)]).exit_code == 0
    replica.items += [
        Item("a2", JP_CAR_T, "2026-11-20"),
        Item("a3", REGISTRATION, "2026-11-21"),
        Item("a4", FOOD, "2026-11-22"),
    ]
    assert runner.invoke(app, ["check", "-c", str(config)]).exit_code == 0

    def changes(*args: str) -> list[dict[str, object]]:
        result = runner.invoke(app, ["changes", "-c", str(config), "--json", *args])
        assert result.exit_code == 0, result.output
        rows: list[dict[str, object]] = json.loads(result.stdout)
        return rows

    assert [r["title"] for r in changes("--atmp", "human_cell_processed")] == [JP_CAR_T]
    assert [r["title"] for r in changes("--atmp", "gtmp")] == [JP_CAR_T]
    assert changes("--atmp", "animal_cell_processed") == []

    loaded = config_module.load(config)
    store = Store(loaded.store.url)
    with store.session() as session:
        query = select(ChangeRow, SourceRow).join(
            SourceRow, col(ChangeRow.source_id) == SourceRow.id
        )
        alerts = {
            change.title: alert_from_change(change, source)
            for change, source in session.exec(query).all()
        }
    assert alerts[JP_CAR_T].jp == ("human_cell_processed",) and alerts[JP_CAR_T].scope == "cgt"
    assert alerts[REGISTRATION].scope == "horizontal" and alerts[FOOD].scope == "none"
    route = Route(
        name="ra-lead", urls=["json://127.0.0.1:9/hook"], match=Match(scope=["cgt", "horizontal"])
    )
    taken = {title for title, a in alerts.items() if routes_for(a, [route])}
    assert taken == {JP_CAR_T, REGISTRATION}
