"""Every Markdown file the code, configs and docs name is in the repository.

The project's own documents live in ``docs/`` (``docs/design.md``,
``docs/sources.md``, ``docs/taxonomy.md``, ``docs/style.md``); a reference to a
file outside the repository (``../shared/SOURCES.md``) or to one that moved
fails here, naming the file and line. The four docs are verbatim copies of the
project's design documents, so the names they use for each other
(``TAXONOMY.md``) are checked against ``docs/`` without regard to case.
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SKIP = {".git", ".venv", "node_modules", "__pycache__", ".mypy_cache", ".ruff_cache"}
# a path-like word ending in .md (not alert.md.j2, not part of a URL)
MD_PATH = re.compile(r"(?<![\w/.:-])((?:\.\.?/)*\w[\w./-]*\.md)(?![\w.])")


def _scanned() -> list[Path]:
    out = []
    for path in sorted(ROOT.rglob("*")):
        if path.suffix not in (".py", ".toml", ".md") or not path.is_file():
            continue
        if SKIP & set(path.relative_to(ROOT).parts) or path == Path(__file__).resolve():
            continue  # this file names missing files on purpose
        out.append(path)
    return out


def _in_repo(path: Path) -> bool:
    """A file inside the checkout (a sibling folder such as ../shared/ does not count)."""
    resolved = path.resolve()
    return resolved.is_file() and resolved.is_relative_to(ROOT)


def _exists(name: str, where: Path) -> bool:
    if _in_repo(ROOT / name) or _in_repo(where.parent / name):
        return True
    if where.parent == ROOT / "docs" and "/" not in name:
        return (ROOT / "docs" / name.lower()).is_file()
    return False


def missing_references() -> list[str]:
    out = []
    for path in _scanned():
        text = path.read_text(encoding="utf-8", errors="replace")
        for number, line in enumerate(text.splitlines(), 1):
            for name in MD_PATH.findall(line):
                if not _exists(name, path):
                    out.append(f"{path.relative_to(ROOT)}:{number}: {name}")
    return out


def test_every_markdown_file_named_in_the_repo_exists() -> None:
    missing = missing_references()
    assert missing == [], "these name Markdown files the repository lacks:\n" + "\n".join(missing)


def test_the_project_docs_are_in_the_repo() -> None:
    for name in ("design", "sources", "taxonomy", "style"):
        assert (ROOT / "docs" / f"{name}.md").is_file(), name


def test_the_check_finds_a_missing_file(tmp_path: Path) -> None:
    line = "see ../shared/SOURCES.md and docs/nothing-here.md but not alert.md.j2 or https://x.org/a.md"
    found = MD_PATH.findall(line)
    assert found == ["../shared/SOURCES.md", "docs/nothing-here.md"]
    assert not any(_exists(name, ROOT / "monitor" / "x.py") for name in found)
    # found even where the checkout has a ../shared/ beside it (CI's does)
    assert not _exists("../shared/SOURCES.md", ROOT / "docs" / "design.md")
    assert _exists("../README.md", ROOT / "monitor" / "x.py")  # inside the checkout
    assert _exists("docs/taxonomy.md", ROOT / "monitor" / "x.py")
