"""Shared fixtures: the alert receivers (``smtp``, ``hook``, the fault suite's
``sink``), ``quiet_servers``, and test hygiene (a test that configures logging, as
the CLI does, must not change what later tests see).

Property tests (Hypothesis) run derandomized by default, so the gate is the same
on every run and machine; ``HYPOTHESIS_PROFILE=explore pytest …`` draws fresh
examples (and more of them) to look for new bugs."""

from __future__ import annotations

import gc
import logging
import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from hypothesis import settings

from tests.receivers import SMTP_PASSWORD, SmtpReceiver, WebhookReceiver

if TYPE_CHECKING:
    from tests.helpers.demo import DemoRun
    from tests.helpers.faults import Sink

settings.register_profile("gate", derandomize=True, database=None)
settings.register_profile("explore", max_examples=500)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "gate"))


@pytest.fixture(autouse=True)
def _restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    thresholds = gc.get_threshold()  # the CLI sets its own (monitor.cli.main.GC_THRESHOLDS)
    levels = {
        name: logging.getLogger(name).level
        for name in ("regwatch", "apprise", "httpx", "httpcore", "apscheduler")
    }
    yield
    gc.set_threshold(*thresholds)
    root.handlers[:] = handlers
    root.setLevel(level)
    for name, old in levels.items():
        logging.getLogger(name).setLevel(old)


@pytest.fixture
def smtp() -> Iterator[SmtpReceiver]:
    """A real SMTP server (aiosmtpd) on 127.0.0.1 that takes ``alice`` / ``SMTP_PASSWORD``."""
    with SmtpReceiver(credentials={"alice": SMTP_PASSWORD}) as receiver:
        yield receiver


@pytest.fixture
def hook() -> Iterator[WebhookReceiver]:
    """A real webhook receiver on 127.0.0.1."""
    with WebhookReceiver() as receiver:
        yield receiver


@pytest.fixture
def sink() -> Iterator[Sink]:
    """The fault suite's webhook: remembers what it answered (tests/helpers/faults.py)."""
    from tests.helpers.faults import Sink

    with Sink() as receiver:
        yield receiver


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A fresh database on the test PostgreSQL server, dropped afterwards (skipped
    without ``REGWATCH_TEST_PG_URL``)."""
    from tests.helpers.stores import fresh_pg_database, pg_server

    with fresh_pg_database(pg_server()) as url:
        yield url


@pytest.fixture
def quiet_servers(monkeypatch: pytest.MonkeyPatch) -> None:
    """No tracebacks from local servers whose client gave up."""
    from tests.helpers.campaign import silence_server_errors

    silence_server_errors(monkeypatch)


@pytest.fixture(autouse=True)
def _private_state_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Browser profiles (cookies) go to the test's own directory, never the user's."""
    monkeypatch.setenv("REGWATCH_STATE_DIR", str(tmp_path / "state"))


@pytest.fixture(autouse=True)
def _private_cache_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The notify URLs apprise accepted are kept in the test's own directory, never
    the user's, and no test sees what another kept (``notifiers.url_cache``)."""
    from notifiers import url_cache

    monkeypatch.setenv("REGWATCH_CACHE_DIR", str(tmp_path / "cache"))
    url_cache.forget()
    yield
    url_cache.forget()


@pytest.fixture(scope="session")
def demo_run(tmp_path_factory: pytest.TempPathFactory) -> DemoRun:
    """``regwatch demo`` run once for the session (about 20 s): what it printed, its
    counts and the database it kept. Tests read it; one that writes to the store
    works on its own copy (``DemoRun.copy_store``)."""
    from tests.helpers.demo import run_demo_once

    return run_demo_once(tmp_path_factory.mktemp("demo"))


@pytest.fixture(scope="session", autouse=True)
def _new_stores_from_a_template(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """New SQLite stores start as a copy of one store migrated at the session's start
    (tests/helpers/stores.py says how, and what still migrates for real)."""
    if os.environ.get("REGWATCH_TEST_REAL_MIGRATIONS") == "1":
        yield
        return
    from tests.helpers.stores import build_template, new_stores_from

    with new_stores_from(build_template(tmp_path_factory.mktemp("store-template"))):
        yield
