"""One database, one identity: a symlink cannot run a second service, and a
database deleted or replaced is reported, never silently re-baselined."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from monitor.errors import ServiceLocked, StoreError
from monitor.replica.server import ReplicaServer
from monitor.service.run import Service
from monitor.store.identity import marker_path
from tests.helpers.wait import until
from tests.receivers import WebhookReceiver
from tests.sites import Item, ListSite


def write_config(path: Path, db: Path, site: str, hook: WebhookReceiver) -> Path:
    path.write_text(
        f"""
[store]
url = "sqlite:///{db}"
[http]
delay = 0
[delivery]
every = "0.2s"
[service]
listen = "off"
[[source]]
name = "list"
kind = "html-list"
url = "{site}/list/index.html"
item = ".list ul li"
title = "a"
link = "a@href"
date = "span"
every = "0.3s"
[[notify]]
name = "health"
urls = ["{hook.json_url("/health")}"]
match = {{ kinds = ["health", "recovered"] }}
""",
        encoding="utf-8",
    )
    return path


@pytest.fixture
def world(tmp_path: Path) -> Iterator[tuple[str, WebhookReceiver]]:
    hook = WebhookReceiver().start()
    with ReplicaServer(ListSite(items=[Item("1", "细胞治疗产品指导原则", "2026-06-01")])) as site:
        try:
            yield site.url, hook
        finally:
            hook.stop()


def test_a_symlink_to_the_same_database_cannot_start_a_second_service(
    tmp_path: Path, world: tuple[str, WebhookReceiver]
) -> None:
    site, hook = world
    db = tmp_path / "a" / "regwatch.db"
    db.parent.mkdir()
    link = tmp_path / "b" / "alias.db"
    link.parent.mkdir()
    first = Service(str(write_config(tmp_path / "a.toml", db, site, hook)))
    first.start()
    try:
        link.symlink_to(db)
        second = Service(str(write_config(tmp_path / "b.toml", link, site, hook)))
        with pytest.raises(ServiceLocked):
            second.start()
        hard = tmp_path / "b" / "hard.db"
        hard.hardlink_to(db)
        third = Service(str(write_config(tmp_path / "c.toml", hard, site, hook)))
        with pytest.raises(ServiceLocked):
            third.start()
    finally:
        first.stop()


def test_a_database_deleted_while_running_stops_writing_and_says_so(
    tmp_path: Path, world: tuple[str, WebhookReceiver]
) -> None:
    site, hook = world
    db = tmp_path / "regwatch.db"
    service = Service(str(write_config(tmp_path / "regwatch.toml", db, site, hook)))
    service.start()
    try:
        assert until(
            lambda: (
                service.health()[1]["sources"][0].get("last_outcome") in ("baseline", "unchanged")
            ),
            30,
        )
        for path in (db, db.with_name(db.name + "-wal"), db.with_name(db.name + "-shm")):
            path.unlink(missing_ok=True)
        assert until(lambda: service.health()[0] == 503, 30)
        _, body = service.health()
        assert any("deleted" in problem for problem in body["problems"])

        def lost_alerts() -> list[bytes]:
            return [p.body for p in hook.posts if b"deleted" in p.body]

        assert until(lambda: len(lost_alerts()) >= 1, 30)
        skipped = service.jobs_skipped
        assert until(lambda: service.jobs_skipped >= skipped + 5, 30)  # jobs keep ticking…
        assert len(lost_alerts()) == 1  # …one alert
        assert not any(b"works again" in p.body for p in hook.posts)
    finally:
        service.stop()


def test_a_replaced_database_refuses_to_start_instead_of_a_silent_baseline(
    tmp_path: Path, world: tuple[str, WebhookReceiver]
) -> None:
    site, hook = world
    db = tmp_path / "regwatch.db"
    config = write_config(tmp_path / "regwatch.toml", db, site, hook)
    service = Service(str(config))
    service.start()
    service.stop()
    assert marker_path(db).exists()
    for path in tmp_path.glob("regwatch.db*"):
        if path != marker_path(db):
            path.unlink()
    again = Service(str(config))
    with pytest.raises(StoreError, match="not the one this service kept its history in"):
        again.start()
    marker_path(db).unlink()  # starting afresh on purpose
    fresh = Service(str(config))
    fresh.start()
    fresh.stop()
