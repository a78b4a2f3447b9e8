"""docs/design.md's import direction: sources and notifiers import no project
package; diffing may import only sources; nothing imports monitor."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PROJECT = {"monitor", "sources", "diffing", "notifiers"}
ALLOWED = {
    "sources": {"sources"},
    "diffing": {"diffing", "sources"},
    "notifiers": {"notifiers"},
    "monitor": PROJECT,
}


def imported_packages(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
    return found & PROJECT


@pytest.mark.parametrize("package", sorted(ALLOWED))
def test_package_imports_only_what_design_allows(package: str) -> None:
    files = sorted((ROOT / package).rglob("*.py"))
    assert files, f"{package}/ has no modules"
    offenders = {
        str(f.relative_to(ROOT)): sorted(imported_packages(f) - ALLOWED[package])
        for f in files
        if imported_packages(f) - ALLOWED[package]
    }
    assert offenders == {}


def test_the_walker_catches_a_forbidden_import(tmp_path: Path) -> None:
    module = tmp_path / "bad.py"
    module.write_text("import os\nfrom monitor.config import load\n", encoding="utf-8")
    assert imported_packages(module) == {"monitor"}
