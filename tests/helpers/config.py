"""Configuration files the CLI tests write: one ``html-list`` source on a replica."""

from __future__ import annotations

from pathlib import Path


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
