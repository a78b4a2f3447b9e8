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


# Inside the packages, the layers of docs/design.md ("Layout"): a layer imports only
# the layers listed for it (and its own modules); other top-level packages are the concern of
# the test above.
LAYERS: dict[str, set[str]] = {
    "sources.text": {"sources.types", "sources.errors"},
    "sources.fetch": {"sources.types", "sources.errors", "sources.text"},
    "sources.adapters": {
        "sources.types",
        "sources.errors",
        "sources.text",
        "sources.fetch",
        "sources.registry",
    },
    "monitor.store": {"monitor.errors"},
    "monitor.classify": {"monitor.errors"},
    "monitor.delivery": {"monitor.config", "monitor.errors", "monitor.store", "monitor.status"},
    "monitor.pipeline": {
        "monitor.classify",
        "monitor.config",
        "monitor.delivery",
        "monitor.errors",
        "monitor.store",
    },
}


def _layer_of(module: str) -> str:
    parts = module.split(".")
    return ".".join(parts[:2])


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return {m for m in found if m.split(".")[0] in PROJECT}


@pytest.mark.parametrize("layer", sorted(LAYERS))
def test_each_layer_imports_only_the_layers_below_it(layer: str) -> None:
    folder = ROOT / layer.replace(".", "/")
    files = sorted(folder.rglob("*.py"))
    assert files, f"{layer} has no modules"
    allowed = LAYERS[layer] | {layer}
    root = layer.split(".")[0]
    offenders = {
        str(f.relative_to(ROOT)): sorted(
            m
            for m in imported_modules(f)
            if m.split(".")[0] == root and _layer_of(m) not in allowed
        )
        for f in files
    }
    assert {f: m for f, m in offenders.items() if m} == {}


def test_the_layer_walker_catches_a_reversed_import(tmp_path: Path) -> None:
    module = tmp_path / "bad.py"
    module.write_text("from sources.adapters.cde import CdeAdapter\n", encoding="utf-8")
    assert {_layer_of(m) for m in imported_modules(module)} == {"sources.adapters"}
