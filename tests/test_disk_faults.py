"""A database that cannot be written: disk full, read-only. The service must say so
clearly (log, /healthz, a direct health alert), keep running, lose no change,
and leave a database that passes ``PRAGMA integrity_check``.

Disk full is simulated two ways: a small tmpfs filled to the last byte (needs
``mount``: root with CAP_SYS_ADMIN, skipped otherwise) and, everywhere on
Linux, a file-size limit (RLIMIT_FSIZE) set on the running service process
with ``prlimit``. Read-only is a read-only SQLite URI (``?mode=ro``): as root,
``chmod`` would not stop the writes.
"""

from __future__ import annotations

import contextlib
import logging
import os
import resource
import signal
import sqlite3
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from monitor.replica.server import ReplicaServer
from monitor.service.run import Service
from tests.helpers.campaign import integrity, service_config, sink_routes
from tests.helpers.faults import Sink, write_templates
from tests.helpers.service import REGWATCH, get_json, list_source, seed_items
from tests.helpers.wait import wait_for
from tests.receivers import free_port
from tests.sites import Item, ListSite

STORE_DOWN = ("health", "regwatch", "the database cannot be written")
STORE_UP = ("recovered", "regwatch", "the database can be written again")
NEW = Item(
    "20261120090000001", "嵌合抗原受体T细胞治疗产品临床试验技术指导原则（征求意见稿）", "2026-11-20"
)


pytestmark = pytest.mark.usefixtures("quiet_servers")  # conftest: no tracebacks from servers


@pytest.fixture
def site() -> Iterator[tuple[ListSite, ReplicaServer]]:
    replica = ListSite(items=seed_items())
    with ReplicaServer(replica) as server:
        yield replica, server


def alerts(sink: Sink, path: str) -> list[tuple[str, str, str]]:
    return [(got.kind, got.source, got.title) for got in sink.delivered(path)]


def truncate_wal(db: Path) -> None:
    """Checkpoint and empty the WAL, so the next write needs fresh disk space."""
    connection = sqlite3.connect(db, timeout=10)
    try:
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        connection.close()


def config_file(
    tmp_path: Path, url: str, server: ReplicaServer, sink: Sink, **options: Any
) -> Path:
    path = tmp_path / f"regwatch-{uuid.uuid4().hex[:6]}.toml"
    path.write_text(
        service_config(
            url,
            [list_source(server.url)],
            sink_routes(sink, write_templates(tmp_path / "tpl")),
            every="0.2s",
            **options,
        ),
        encoding="utf-8",
    )
    return path


# -- a full disk (tmpfs) ----------------------------------------------------------------------------------


def _mount_tmpfs(path: Path, size: str) -> bool:
    path.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)], capture_output=True
    )
    return done.returncode == 0


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    disk = tmp_path / "disk"
    if os.geteuid() != 0 or not _mount_tmpfs(disk, "16m"):
        pytest.skip(
            "cannot mount a tmpfs here (needs root with CAP_SYS_ADMIN); "
            "test_disk_full_by_file_size_limit covers a full disk"
        )
    try:
        yield disk
    finally:
        subprocess.run(["umount", "-l", str(disk)], capture_output=True)


def fill(directory: Path) -> Path:
    filler = directory / "filler"
    with contextlib.suppress(OSError), filler.open("wb") as out:
        while True:
            out.write(b"\0" * 65536)
            out.flush()
    return filler


def test_disk_full_is_reported_and_nothing_is_lost(
    tmp_path: Path,
    small_disk: Path,
    site: tuple[ListSite, ReplicaServer],
    sink: Sink,
    caplog: pytest.LogCaptureFixture,
) -> None:
    replica, server = site
    db = small_disk / "regwatch.db"
    service = Service(str(config_file(tmp_path, f"sqlite:///{db}", server, sink)), grace=5)
    checks: list[str] = []
    service.add_listener(lambda result: checks.append(result.outcome))
    caplog.set_level(logging.INFO, logger="regwatch")
    service.start()
    try:
        wait_for(lambda: checks, 10, "the baseline")
        truncate_wal(db)
        filler = fill(small_disk)
        replica.items.insert(0, NEW)
        wait_for(lambda: STORE_DOWN in alerts(sink, "/health"), 15, "the health alert")
        assert service.health_url
        status, body = get_json(service.health_url)
        assert status == 503 and body["store"]["writable"] is False
        assert "database or disk is full" in body["store"]["error"]
        assert any("the database cannot be written" in p for p in body["problems"])
        failures = service.store_health.failures
        wait_for(lambda: service.store_health.failures >= failures + 3, 10, "more attempts")
        assert alerts(sink, "/health") == [STORE_DOWN]  # one alert, not one per check
        assert alerts(sink, "/changes") == []
        assert service.scheduler_alive()

        filler.unlink()
        wait_for(lambda: STORE_UP in alerts(sink, "/health"), 15, "the recovery message")
        wait_for(lambda: alerts(sink, "/changes"), 15, "the change found while the disk was full")
        assert alerts(sink, "/changes") == [("draft", "list", NEW.title)]
        assert get_json(service.health_url)[0] == 200
    finally:
        assert service.stop()
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1 and "cannot write the database" in errors[0]
    assert "database or disk is full" in errors[0]
    assert integrity(db) == "ok"


# -- a full disk (file-size limit on the process) ---------------------------------------------------------------


def test_disk_full_by_file_size_limit(
    tmp_path: Path, site: tuple[ListSite, ReplicaServer], sink: Sink
) -> None:
    """The real ``regwatch run``: RLIMIT_FSIZE drops to 4 KB under it (every write fails
    with EFBIG, as on a full disk), then comes back."""
    replica, server = site
    db = tmp_path / "regwatch.db"
    port = free_port()
    config = config_file(tmp_path, f"sqlite:///{db}", server, sink, listen=f"127.0.0.1:{port}")
    url = f"http://127.0.0.1:{port}/healthz"

    def ignore_sigxfsz() -> None:  # EFBIG instead of death by SIGXFSZ
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)

    proc = subprocess.Popen(
        [REGWATCH, "run", "-c", str(config)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        preexec_fn=ignore_sigxfsz,
        cwd=tmp_path,
    )
    lines: list[str] = []

    def read() -> None:
        assert proc.stderr is not None
        for raw in proc.stderr:  # a pipe: not limited by RLIMIT_FSIZE
            lines.append(raw.decode("utf-8", errors="replace"))

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        wait_for(
            lambda: (
                _status(url)[1].get("sources", [{}])[0].get("last_outcome") == "baseline"
                or "list: baseline" in "".join(lines)
            ),
            30,
            "the baseline",
        )
        truncate_wal(db)
        unlimited = resource.prlimit(proc.pid, resource.RLIMIT_FSIZE)
        resource.prlimit(proc.pid, resource.RLIMIT_FSIZE, (4096, unlimited[1]))
        replica.items.insert(0, NEW)
        wait_for(lambda: STORE_DOWN in alerts(sink, "/health"), 20, "the health alert")
        status, body = _status(url)
        assert status == 503 and body["store"]["writable"] is False
        assert "cannot write the database" in "".join(lines)
        assert alerts(sink, "/changes") == []

        resource.prlimit(proc.pid, resource.RLIMIT_FSIZE, unlimited)
        wait_for(lambda: STORE_UP in alerts(sink, "/health"), 20, "the recovery message")
        wait_for(lambda: alerts(sink, "/changes"), 20, "the change")
        assert alerts(sink, "/changes") == [("draft", "list", NEW.title)]
        assert _status(url)[0] == 200
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
        reader.join(5)
        if proc.stderr is not None:
            proc.stderr.close()
    assert integrity(db) == "ok"
    assert sum("cannot write the database" in line for line in lines) == 1


def _status(url: str) -> tuple[int, dict[str, Any]]:
    try:
        return get_json(url)
    except OSError:
        return 0, {}


# -- a read-only database ----------------------------------------------------------------------------------


def test_read_only_database_is_reported_and_the_change_comes_after(
    tmp_path: Path,
    site: tuple[ListSite, ReplicaServer],
    sink: Sink,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)
    replica, server = site
    db = tmp_path / "regwatch.db"
    writable = config_file(tmp_path, f"sqlite:///{db}", server, sink)
    first = Service(str(writable), grace=5)
    checks: list[str] = []
    first.add_listener(lambda result: checks.append(result.outcome))
    first.start()
    wait_for(lambda: checks, 10, "the baseline")
    assert first.stop()

    read_only = config_file(tmp_path, f"sqlite:///file:{db}?mode=ro&uri=true", server, sink)
    replica.items.insert(0, NEW)
    second = Service(str(read_only), grace=5)
    second.start()
    try:
        wait_for(lambda: STORE_DOWN in alerts(sink, "/health"), 15, "the health alert")
        assert second.health_url
        status, body = get_json(second.health_url)
        assert status == 503
        assert "attempt to write a readonly database" in body["store"]["error"]
        assert alerts(sink, "/changes") == []
    finally:
        assert second.stop()
    assert integrity(db) == "ok"

    third = Service(str(writable), grace=5)
    third.start()
    try:
        wait_for(lambda: alerts(sink, "/changes"), 15, "the change, once writable again")
        assert alerts(sink, "/changes") == [("draft", "list", NEW.title)]
    finally:
        assert third.stop()
    assert integrity(db) == "ok"


def test_a_store_health_alert_is_rate_limited(tmp_path: Path, sink: Sink) -> None:
    from monitor.config import loads
    from monitor.service.healthz import StoreHealth

    routes = loads(
        service_config("sqlite://", [], sink_routes(sink, write_templates(tmp_path / "tpl")))
    ).routes
    health = StoreHealth(repeat=3600)
    for _ in range(5):
        health.failed("database or disk is full", routes)
    health.ok(routes)
    health.ok(routes)
    health.failed("disk I/O error", routes)
    assert alerts(sink, "/health") == [STORE_DOWN, STORE_UP, STORE_DOWN]
    assert alerts(sink, "/changes") == []
    assert sys.platform.startswith("linux")
