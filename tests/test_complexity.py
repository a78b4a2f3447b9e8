"""No function above cyclomatic complexity 15 (radon's measure) without a reason.

radon counts every boolean operator as a branch, so it is stricter than
ruff's C901 (which the lint gate already holds at 15). A function may stay
above the limit only when its docstring carries a sentence starting
"Complexity:" that says why it reads better as one piece (a flat
field-by-field parser, a dispatcher over independent cases).
"""

from __future__ import annotations

import ast
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from radon.complexity import cc_visit
from radon.visitors import Function

LIMIT = 15
ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("monitor", "sources", "diffing", "notifiers")
SKIPPED_DIRS = ("migrations/versions",)  # generated Alembic scripts


def _docstrings(source: str) -> dict[tuple[str, int], str]:
    """Docstring of every function in `source`, keyed by (name, first line)."""
    docs: dict[tuple[str, int], str] = {}
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            docs[(node.name, node.lineno)] = ast.get_docstring(node) or ""
    return docs


def _functions(blocks: list[Any]) -> Iterator[Any]:
    """radon's Function blocks (methods included), with their nested closures."""
    for block in blocks:
        if isinstance(block, Function):
            yield block
            yield from _functions(block.closures)


def over_limit(source: str, label: str) -> Iterator[str]:
    """Functions of `source` above LIMIT whose docstring gives no "Complexity:" reason."""
    docs = _docstrings(source)
    for function in _functions(cc_visit(source)):
        if function.complexity <= LIMIT:
            continue
        if "Complexity:" in docs.get((function.name, function.lineno), ""):
            continue
        yield f"{label}:{function.lineno} {function.fullname} is {function.complexity}"


def _package_files() -> Iterator[Path]:
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            relative = path.relative_to(ROOT).as_posix()
            if any(part in relative for part in SKIPPED_DIRS):
                continue
            yield path


def test_no_function_is_above_the_limit_without_a_reason() -> None:
    offenders = [
        line
        for path in _package_files()
        for line in over_limit(path.read_text(encoding="utf-8"), path.relative_to(ROOT).as_posix())
    ]
    assert not offenders, (
        f"functions above complexity {LIMIT} (radon); split them, or say why in a "
        '"Complexity:" sentence of the docstring:\n' + "\n".join(offenders)
    )


_TANGLED = textwrap.dedent(
    '''
    def tangled(a, b, c, d):
        """{doc}"""
        total = 0
        for x in a:
            if x and b or c and d:
                total += 1
            elif x > 2 and b:
                total -= 1
            while total > 10 and c or d:
                total -= 3
        if a and b and c and d and total:
            return 1
        try:
            total += 1
        except ValueError:
            total = 0
        return total if total else -1


    class Holder:
        def method(self, a, b):
            """{doc}"""
            if a and b or a and not b or b and not a or a or b or a and b and a and b:
                return 1
            for x in a:
                if x and b and a or x:
                    return 2
            return 3 if a else 4
    '''
)


def test_the_checker_catches_an_over_complex_function_and_method() -> None:
    found = list(over_limit(_TANGLED.format(doc="Adds things."), "synthetic.py"))
    assert [line.split()[1] for line in found] == ["tangled", "Holder.method"]
    assert all(int(line.split()[-1]) > LIMIT for line in found)


def test_a_complexity_sentence_excuses_a_function() -> None:
    excused = _TANGLED.format(doc="Adds things. Complexity: one flat table of cases.")
    assert list(over_limit(excused, "synthetic.py")) == []


def test_a_simple_function_passes() -> None:
    assert list(over_limit("def simple(a):\n    return a or 1\n", "simple.py")) == []
