"""What ``regwatch check`` does before its first request: the adapter modules it
imports, the selector checks it caches, and the config errors that stay early.

The registry imports only the modules of the configured kinds
(``sources.adapters.builtin.MODULES``); the map must name exactly the module
that registers each kind, and an unknown kind still lists every kind. Each
import test runs in a fresh interpreter: this one has imported every adapter.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from monitor import config as config_module
from monitor.errors import ConfigError
from sources import registry
from sources.adapters.builtin import MODULES

ROOT = Path(__file__).resolve().parent.parent
# the modules that register an adapter (the others are helpers: details, generic...)
ADAPTER_MODULES = sorted(
    f"sources.adapters.{p.stem}"
    for p in (ROOT / "sources" / "adapters").glob("*.py")
    if "\n@register\n" in p.read_text(encoding="utf-8")
)


def _fresh(code: str, cwd: Path) -> str:
    """Run ``code`` in a new interpreter; its stdout."""
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=cwd, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_the_builtin_map_names_the_module_that_registers_each_kind() -> None:
    registered = registry.kinds()
    assert sorted(MODULES) == sorted(registered)
    for kind, adapter in registered.items():
        assert adapter.__module__ == MODULES[kind], kind


def test_a_check_config_imports_only_its_kinds_adapters(tmp_path: Path) -> None:
    config = tmp_path / "regwatch.toml"
    config.write_text(
        '[[source]]\nname = "a"\nkind = "html-list"\nurl = "http://127.0.0.1:9/"\n'
        'item = "li"\n[[source]]\nname = "b"\nkind = "rss"\nurl = "http://127.0.0.1:9/f"\n',
        encoding="utf-8",
    )
    out = _fresh(
        "import json, sys\n"
        "from monitor.config import load\n"
        "load('regwatch.toml')\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.startswith('sources.adapters.'))))",
        tmp_path,
    )
    loaded = set(json.loads(out))
    wanted = {"sources.adapters.html_list", "sources.adapters.rss"}
    assert wanted <= loaded
    assert not loaded & (set(MODULES.values()) - wanted)


def test_an_unknown_kind_still_lists_every_kind(tmp_path: Path) -> None:
    out = _fresh(
        "from monitor.config import loads\n"
        "from monitor.errors import ConfigError\n"
        "try:\n"
        '    loads(\'[[source]]\\nname = "a"\\nkind = "html-lists"\\n\')\n'
        "except ConfigError as exc:\n"
        "    print(exc.message)\n",
        tmp_path,
    )
    assert "unknown source kind 'html-lists'" in out
    for kind in MODULES:
        assert kind in out


def test_regwatch_sources_lists_every_kind_from_a_fresh_start(tmp_path: Path) -> None:
    out = _fresh(
        "from sources.registry import kinds\nprint(' '.join(kinds()))\n",
        tmp_path,
    )
    assert out.split() == sorted(MODULES)


def test_every_adapter_module_is_in_the_map() -> None:
    assert sorted(set(MODULES.values())) == ADAPTER_MODULES


def test_a_bad_selector_in_source_900_of_1000_refuses_up_front_naming_the_key(
    tmp_path: Path,
) -> None:
    blocks = [f'[store]\nurl = "sqlite:///{tmp_path}/regwatch.db"\n']
    for i in range(1000):
        item = '".list ul li"' if i != 899 else '".list ul li["'
        blocks.append(
            f'[[source]]\nname = "col{i}"\nkind = "html-list"\n'
            f'url = "http://127.0.0.1:9/col{i}/"\nitem = {item}\ndate = "span"\n'
        )
    config = tmp_path / "regwatch.toml"
    config.write_text("".join(blocks), encoding="utf-8")
    expected = (
        f"{config}:{2 + 6 * 899 + 5}: [[source]] #900.item: Value error, invalid CSS selector "
        "'.list ul li[': Malformed attribute selector at position 11"
    )
    with pytest.raises(ConfigError) as info:
        config_module.load(config)
    assert info.value.message.startswith(expected)
    result = subprocess.run(
        [sys.executable, "-m", "monitor.cli.main", "check", "-c", str(config), "--no-deliver"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith(f"error: {expected}")
    assert not (tmp_path / "regwatch.db").exists()  # refused before the store was opened


def test_regwatch_help_imports_neither_the_store_nor_pydantic(tmp_path: Path) -> None:
    out = _fresh(
        "import sys\n"
        "import monitor.cli.main\n"
        "print(' '.join(m for m in ('sqlalchemy', 'sqlmodel', 'pydantic', 'httpx', 'lxml')"
        " if m in sys.modules))\n",
        tmp_path,
    )
    assert out.split() == []


def test_a_json_check_imports_neither_rich_nor_httpx_s_command_line(tmp_path: Path) -> None:
    """``check --json`` prints plain lines: Rich (the CLI's tables) and what
    ``import httpx`` would bring for its own command line (pygments' lexers,
    rich.progress, click) stay out of the process (``sources/fetch/__init__.py``).
    The second check is the one looked at: the first creates the store, and
    Alembic's migrations import pygments through mako."""
    (tmp_path / "regwatch.toml").write_text(
        f'[store]\nurl = "sqlite:///{tmp_path}/r.db"\n[http]\ndelay = 0\nretries = 0\n'
        '[[source]]\nname = "a"\nkind = "html-list"\nurl = "http://127.0.0.1:9/"\nitem = "li"\n',
        encoding="utf-8",
    )
    check = (
        "import atexit, json, runpy, sys\n"
        "atexit.register(lambda: open('modules.json', 'w').write(json.dumps(sorted(sys.modules))))\n"
        "sys.argv = ['regwatch', 'check', '--json', '--no-deliver']\n"
        "try:\n"
        "    runpy.run_module('monitor.cli', run_name='__main__')\n"
        "except SystemExit as exc:\n"
        "    print(exc.code)\n"
    )
    _fresh(check, tmp_path)
    out = _fresh(check, tmp_path)
    modules = json.loads((tmp_path / "modules.json").read_text(encoding="utf-8"))
    result = json.loads(next(line for line in out.splitlines() if line.startswith("{")))
    assert (result["source"], result["outcome"]) == ("a", "failed"), out  # it checked
    assert "httpx" in modules
    assert not [m for m in modules if m.split(".")[0] in ("rich", "pygments", "click")], out
    # nor PostgreSQL's dialect for a SQLite store (a table's Index with postgresql_where
    # imported it at every start: models.MAYBE_DUE)
    assert not [m for m in modules if m.startswith("sqlalchemy.dialects.postgresql")]
