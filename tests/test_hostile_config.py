"""Bad values that used to be accepted or crash: one line naming the key, exit 2."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

REGWATCH = str(Path(sys.executable).with_name("regwatch"))


@pytest.mark.parametrize(
    ("table", "text", "key"),
    [
        ("delivery", 'every = "soon"', "[delivery].every"),
        ("delivery", 'every = "0s"', "[delivery].every"),
        ("store", 'url = "mysql://u:p@localhost/db"', "[store].url"),
        ("store", 'url = "nosuch://x"', "[store].url"),
    ],
)
def test_a_bad_value_is_one_line_naming_the_key_and_exit_2(
    tmp_path: Path, table: str, text: str, key: str
) -> None:
    config = tmp_path / "regwatch.toml"
    config.write_text(f"[{table}]\n{text}\n", encoding="utf-8")
    done = subprocess.run(
        [REGWATCH, "check", "-c", str(config)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=tmp_path,
    )
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and key in lines[0] and "internal error" not in lines[0]
    assert "u:p@" not in done.stderr
