"""The starter configuration `regwatch init` writes (monitor/starter.toml)."""

from __future__ import annotations

from importlib.resources import files


def starter_config() -> str:
    return files("monitor").joinpath("starter.toml").read_text(encoding="utf-8")
