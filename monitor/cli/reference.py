"""The sources reference, generated from the adapter registry.

``regwatch sources`` (its tables and ``--json``), ``regwatch sources
--markdown`` and the README's "Sources" block all come from here, so what
they say is what the adapters declare: kind, regulator (English and
Chinese), jurisdiction, listing coverage, the docstring's first line, and
every setting's type, default and description from its pydantic model. The
presets are read from ``monitor/starter.toml``, the file ``regwatch init``
writes.

Regenerate the README block after changing an adapter or the starter file::

    python -m monitor.cli.reference README.md

(``tests/test_reference.py`` fails, printing that command, when it drifts.)
"""

from __future__ import annotations

import json
import sys
import tomllib
import types
from pathlib import Path
from typing import Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel
from pydantic.fields import FieldInfo

from monitor.starter import starter_config
from sources.registry import Adapter, SourceSettings, adapter_for, kinds

BEGIN = "<!-- sources:begin -->"
END = "<!-- sources:end -->"
REGENERATE = "python -m monitor.cli.reference README.md"


# --- data ----------------------------------------------------------------------


def type_name(annotation: Any) -> str:
    """A settings type as a user reads it: ``list[str]``, ``"http" | "browser"``."""
    origin = get_origin(annotation)
    args = get_args(annotation)
    if origin is Literal:
        return " | ".join(json.dumps(a, ensure_ascii=False) for a in args)
    if origin in (Union, types.UnionType):
        return " | ".join(type_name(a) for a in args)
    if origin is not None:
        name = getattr(origin, "__name__", str(origin))
        return f"{name}[{', '.join(type_name(a) for a in args)}]"
    if annotation is type(None):
        return "None"
    return getattr(annotation, "__name__", str(annotation))


def default_of(info: FieldInfo) -> Any:
    """The field's default value (a factory called); None when required."""
    if info.is_required():
        return None
    if info.default_factory is not None:
        return info.default_factory()  # type: ignore[call-arg]
    return info.default


def setting_rows(model: type[BaseModel]) -> list[dict[str, Any]]:
    """One row per key of ``model``: name, type, required, default, description."""
    return [
        {
            "name": name,
            "type": type_name(info.annotation),
            "required": info.is_required(),
            "default": default_of(info),
            "description": info.description or "",
        }
        for name, info in model.model_fields.items()
    ]


def own_settings(adapter: type[Adapter]) -> list[dict[str, Any]]:
    """The kind's settings that are not the common ones as ``SourceSettings`` has
    them (a generic kind's required ``url`` counts as its own)."""
    common = {row["name"]: row for row in setting_rows(SourceSettings)}
    return [row for row in setting_rows(adapter.Settings) if common.get(row["name"]) != row]


def coverage_text(adapter: type[Adapter]) -> str:
    return str(adapter.coverage)


def kind_reference(adapter: type[Adapter]) -> dict[str, Any]:
    """What ``regwatch sources --json`` says about one kind."""
    regulator = adapter.regulator
    return {
        "summary": adapter.summary(),
        "regulator": None
        if regulator is None
        else {
            "short": regulator.short,
            "en": regulator.en,
            "zh": regulator.zh,
            "label": regulator.label,
        },
        "jurisdiction": adapter.jurisdiction or None,
        "coverage": coverage_text(adapter),
        "settings": own_settings(adapter),
    }


def kinds_reference() -> dict[str, Any]:
    """The registry as data: the common settings and every kind."""
    return {
        "common_settings": setting_rows(SourceSettings),
        "kinds": {kind: kind_reference(adapter) for kind, adapter in kinds().items()},
    }


def presets() -> list[dict[str, str]]:
    """The sources of ``monitor/starter.toml``: name, kind, URL, regulator."""
    rows = []
    for source in tomllib.loads(starter_config()).get("source", []):
        adapter = adapter_for(source["kind"])
        regulator = source.get("regulator") or (
            adapter.regulator.label if adapter.regulator else ""
        )
        rows.append(
            {
                "name": source["name"],
                "kind": source["kind"],
                "url": source.get("url") or adapter.default_base_url or "",
                "regulator": regulator,
            }
        )
    return rows


# --- text ----------------------------------------------------------------------


def default_text(row: dict[str, Any]) -> str:
    """A default as it would be written in TOML (``required`` / ``unset``)."""
    if row["required"]:
        return "required"
    value = row["default"]
    if value is None:
        return "unset"
    if isinstance(value, bool):
        return "true" if value else "false"
    return json.dumps(value, ensure_ascii=False)


def regulator_text(adapter: type[Adapter]) -> str:
    regulator = adapter.regulator
    if regulator is None:
        return "set by `regulator`"
    return f"{regulator.short}: {regulator.en} / {regulator.zh}"


def jurisdiction_text(adapter: type[Adapter]) -> str:
    return adapter.jurisdiction or "set by `jurisdiction`"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _table(header: tuple[str, ...], rows: list[tuple[str, ...]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in rows]
    return lines


def _settings_table(rows: list[dict[str, Any]]) -> list[str]:
    return _table(
        ("key", "type", "default", "description"),
        [
            (f"`{r['name']}`", f"`{r['type']}`", f"`{default_text(r)}`", r["description"])
            for r in rows
        ],
    )


def markdown() -> str:
    """The README's sources reference (without the markers)."""
    registry = kinds()
    lines = [
        "<!-- generated from the adapter registry and monitor/starter.toml: "
        f"edit those, then run `{REGENERATE}` -->",
        "",
        "| kind | what it reads | regulator | jurisdiction | listing |",
        "|---|---|---|---|---|",
    ]
    for kind, adapter in registry.items():
        cells = (
            f"`{kind}`",
            adapter.summary(),
            regulator_text(adapter),
            jurisdiction_text(adapter),
            coverage_text(adapter),
        )
        lines.append("| " + " | ".join(_cell(c) for c in cells) + " |")
    lines += ["", "Keys every `[[source]]` takes, whatever its kind:", ""]
    lines += _settings_table(setting_rows(SourceSettings))
    for kind, adapter in registry.items():
        own = own_settings(adapter)
        lines += ["", f"`{kind}` keys:" if own else f"`{kind}`: no keys of its own."]
        if own:
            lines += ["", *_settings_table(own)]
    lines += ["", "The presets `regwatch init` writes (`monitor/starter.toml`):", ""]
    lines += _table(
        ("preset", "kind", "URL", "regulator"),
        [(f"`{p['name']}`", f"`{p['kind']}`", p["url"], p["regulator"]) for p in presets()],
    )
    return "\n".join(lines) + "\n"


def replace_block(text: str, block: str) -> str:
    """``text`` with what lies between the markers replaced by ``block``."""
    start, end = text.find(BEGIN), text.find(END)
    if start < 0 or end < start:
        raise ValueError(f"no {BEGIN} … {END} block found")
    return text[: start + len(BEGIN)] + "\n" + block + text[end:]


def main(argv: list[str]) -> int:
    """``python -m monitor.cli.reference README.md``: rewrite the file's block in place."""
    if len(argv) != 1:
        print(f"usage: {REGENERATE}", file=sys.stderr)
        return 2
    path = Path(argv[0])
    text = path.read_text(encoding="utf-8")
    try:
        updated = replace_block(text, markdown())
    except ValueError as exc:
        print(f"{path}: {exc}", file=sys.stderr)
        return 2
    if updated != text:
        path.write_text(updated, encoding="utf-8")
        print(f"{path}: sources block updated")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main(sys.argv[1:]))
