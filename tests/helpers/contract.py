"""What the contract harnesses share (tests/test_contract.py,
tests/test_contract_check.py, tests/test_presets.py): read a replica case's source
once through the real HTTP fetcher, and write its table into a real config."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from monitor.config import Config, loads
from monitor.replica.registry import ReplicaCase
from sources.fetch.http import HttpFetcher, HttpSettings
from sources.registry import SourceSettings, adapter_for
from sources.types import Listing

ISO = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def collect_table(raw: dict[str, Any]) -> Listing:
    """One ``collect`` of the adapter ``raw`` (a ``[[source]]`` table) names."""
    settings = adapter_for(raw["kind"]).Settings.model_validate(raw)
    assert isinstance(settings, SourceSettings)
    adapter = adapter_for(settings.kind)(settings)
    with HttpFetcher(HttpSettings(delay=0, retries=0, timeout=5)) as fetcher:
        return adapter.collect(fetcher, {})


def collect(case: ReplicaCase, replica: Any, base: str) -> Listing:
    """One ``collect`` of ``case``'s source on ``replica`` served at ``base``."""
    return collect_table(case.source(replica, base))


def toml_value(value: Any) -> str:
    """``value`` as a TOML value (strings, numbers, booleans, lists, inline tables)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f'"{k}" = {toml_value(v)}' for k, v in value.items()) + "}"
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'


def source_config(tmp_path: Path, raw: dict[str, Any], db: str = "c.db") -> Config:
    """A config with one source (``raw``, attachments off) and a SQLite file in ``tmp_path``."""
    lines = "\n".join(f"{k} = {toml_value(v)}" for k, v in raw.items())
    return loads(
        f'[store]\nurl = "sqlite:///{tmp_path / db}"\n[http]\ndelay = 0\n'
        f"retries = 0\n[[source]]\n{lines}\nattachments = false\n"
    )
