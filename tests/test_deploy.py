"""deploy/ carries what a headed browser needs (issue 11): Xvfb, CJK fonts,
a profile directory that persists, and the Chromium sandbox written out."""

from __future__ import annotations

from pathlib import Path

DEPLOY = Path(__file__).resolve().parents[1] / "deploy"


def test_dockerfile_installs_a_headed_browser_and_keeps_profiles_in_the_volume() -> None:
    text = (DEPLOY / "Dockerfile").read_text(encoding="utf-8")
    install = next(line for line in text.splitlines() if "apt-get install" in line)
    assert all(p in install for p in ("chromium", "xvfb", "fonts-noto-cjk"))
    assert "REGWATCH_STATE_DIR=/data/state" in text and "--no-sandbox" in text


def test_compose_and_unit_write_out_the_sandbox_and_state_dir() -> None:
    compose = (DEPLOY / "compose.yaml").read_text(encoding="utf-8")
    assert "REGWATCH_STATE_DIR: /data/state" in compose and "shm_size" in compose
    unit = (DEPLOY / "regwatch.service").read_text(encoding="utf-8")
    assert "Environment=REGWATCH_STATE_DIR=/var/lib/regwatch" in unit
    assert "RestrictNamespaces=user pid net" in unit
    assert "\nRestrictNamespaces=yes\n" not in unit  # it would stop Chromium's sandbox
