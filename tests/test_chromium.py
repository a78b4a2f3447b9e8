"""A real window by default (issue 11): Xvfb started and stopped by regwatch
when there is no display, a persistent profile per site, Chromium's own UA."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

from monitor.replica.challenge import JsCookieChallenge
from monitor.replica.server import ReplicaServer, Request, Response
from sources.fetch.browser import BrowserFetcher, BrowserSettings, browser_available
from sources.fetch.chromium import Chromium, VirtualDisplay, launch_args, profile_root
from sources.fetch.http import HttpSettings

HTTP = HttpSettings(delay=0, retries=0, timeout=10)
pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(browser_available() is None, reason="Chromium is not installed"),
]


def page(request: Request) -> Response:
    return Response(body="<html><head><title>t</title></head><body>内容</body></html>")


def test_virtual_display_is_ready_when_started_and_gone_when_stopped() -> None:
    display = VirtualDisplay.start()
    try:
        number = display.display.lstrip(":")
        assert number.isdigit() and display.process.poll() is None
        assert Path(f"/tmp/.X11-unix/X{number}").exists()  # accepting clients already
    finally:
        display.stop()
    assert display.process.poll() is not None


def test_headed_chromium_without_display_runs_on_its_own_xvfb(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("DISPLAY", raising=False)
    session = Chromium.start(BrowserSettings(profile_dir=str(tmp_path)), "example.org")
    try:
        assert session.display is not None and session.page is not None
        agent = session.page.evaluate("navigator.userAgent")
        assert "HeadlessChrome" not in agent and "Chrome/" in agent
        assert session.profile == tmp_path / "example.org"
    finally:
        process = session.display.process if session.display else None
        session.close()
    assert process is not None and process.poll() is not None  # Xvfb stopped with it


def test_flags_for_a_closed_network() -> None:
    args = launch_args()
    for flag in (
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
    ):
        assert flag in args
    assert ("--no-sandbox" in args) == (os.geteuid() == 0)


def test_the_profile_keeps_the_challenge_cookie_between_runs(tmp_path: Path) -> None:
    gate = JsCookieChallenge(page, "ruishu-202", secret="s", strict=True)
    settings = BrowserSettings(profile_dir=str(tmp_path), timeout=20)
    with ReplicaServer(gate) as server:
        for _ in range(2):
            with BrowserFetcher(HTTP, settings) as fetcher:
                assert "内容" in fetcher.get(server.url + "/").text
        fresh = BrowserSettings(profile_dir=str(tmp_path), timeout=20, persistent=False)
        with BrowserFetcher(HTTP, fresh) as fetcher:
            fetcher.get(server.url + "/")
    # first run: challenge then the page; second run: the cookie from the profile;
    # a throw-away profile meets the challenge again.
    assert [passed for _, _, passed in gate.log] == [False, True, True, False, True]
    assert profile_root(settings) == tmp_path
    assert [p.name.split("_")[0] for p in tmp_path.iterdir()] == ["127.0.0.1"]  # one per site


def test_a_profile_in_use_gives_the_second_browser_a_fresh_one(tmp_path: Path) -> None:
    """Two checks of one site at once (each in its own thread, as the pipeline runs them)."""
    settings = BrowserSettings(profile_dir=str(tmp_path), headless=True)
    first = Chromium.start(settings, "example.org")
    seen: list[Path | None] = []

    def second_check() -> None:
        second = Chromium.start(settings, "example.org")
        seen.append(second.profile)
        second.close()

    try:
        worker = threading.Thread(target=second_check)
        worker.start()
        worker.join(timeout=120)
        assert first.profile == tmp_path / "example.org"
        assert len(seen) == 1 and seen[0] is not None and seen[0] != first.profile
        assert not seen[0].exists()  # the throw-away profile is removed
    finally:
        first.close()
