"""Configurations with one ``html-list`` source on a replica: a file for the CLI
tests (``write_config``), a loaded ``Config`` for pipeline tests (``list_config``)."""

from __future__ import annotations

from pathlib import Path

from monitor.config import Config, loads


def write_config(tmp_path: Path, base: str, extra: str = "") -> Path:
    """A config with one html-list source on the replica at ``base``; ``extra``
    is appended to the source's table (or starts further tables)."""
    path = tmp_path / "regwatch.toml"
    path.write_text(
        f"""
[store]
url = "sqlite:///{tmp_path / "regwatch.db"}"

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
every = "6h"
{extra}""",
        encoding="utf-8",
    )
    return path


def list_config(
    tmp_path: Path, base: str, *, source: str = "", http: str = "timeout = 5"
) -> Config:
    """One html-list source ``list`` on the replica's ``/list/index.html`` (the
    tests.sites ``ListSite`` shape), a SQLite file in ``tmp_path``, no delay and
    no retries; ``source`` / ``http`` add lines to those tables."""
    return loads(f"""
[store]
url = "sqlite:///{tmp_path / "regwatch.db"}"
[http]
delay = 0
retries = 0
{http}
[[source]]
name = "list"
kind = "html-list"
url = "{base}/list/index.html"
item = ".list ul li"
date = "span"
{source}
""")
