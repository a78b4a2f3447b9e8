"""The adapter shape, the settings descriptions and the generated sources reference.

Every registered adapter declares kind, regulator, jurisdiction, coverage and
Settings on itself (``@register`` refuses one that does not, naming the class
and the attribute); every settings key has a description; ``regwatch
sources`` and the README's sources block are generated from the registry, and
the README fails this test when it drifts (the message says how to regenerate).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar

import pytest

from monitor.cli.reference import BEGIN, END, REGENERATE, markdown, presets, replace_block
from monitor.delivery.alerts import regulator_of
from monitor.store.models import SourceRow
from sources import registry
from sources.registry import Adapter, SourceSettings, check_shape, kinds, register
from sources.types import Coverage, Fetcher, FromSetting, Listing, Record, Regulator

ROOT = Path(__file__).resolve().parent.parent


def _adapter(**overrides: Any) -> type[Adapter]:
    """A test adapter class with the full shape, minus or with what ``overrides`` says
    (``None`` as a value removes the attribute from the class)."""
    namespace: dict[str, Any] = {
        "__doc__": "A test adapter.",
        "__annotations__": {
            "kind": "ClassVar[str]",
            "regulator": "ClassVar[Regulator | None]",
            "jurisdiction": "ClassVar[str]",
            "coverage": "ClassVar[Coverage | FromSetting]",
            "Settings": "ClassVar[type[SourceSettings]]",
        },
        "kind": "test-shape",
        "regulator": Regulator(short="TST", en="Test Agency", zh="测试局"),
        "jurisdiction": "XX",
        "coverage": Coverage.COMPLETE,
        "Settings": SourceSettings,
        "collect": lambda self, fetcher, known: Listing(coverage=Coverage.COMPLETE),
    }
    for key, value in overrides.items():
        if value is None:
            namespace.pop(key, None)
        else:
            namespace[key] = value
    return type("ShapeTest", (Adapter,), namespace)


def test_a_complete_declaration_passes_the_shape_check() -> None:
    check_shape(_adapter())


@pytest.mark.parametrize("attr", ["kind", "regulator", "jurisdiction", "coverage", "Settings"])
def test_register_refuses_an_adapter_missing_a_declaration(attr: str) -> None:
    cls = _adapter(**{attr: None})
    with pytest.raises(TypeError) as info:
        register(cls)
    message = str(info.value)
    assert "ShapeTest" in message and f"declare {attr}" in message
    assert "test-shape" not in registry._REGISTRY


@pytest.mark.parametrize(
    ("attr", "value"),
    [
        ("kind", ""),
        ("regulator", "CDE 国家药监局药品审评中心"),  # a bare string: not bilingual
        ("jurisdiction", 86),
        ("coverage", "complete"),
        ("Settings", dict),
    ],
)
def test_register_refuses_an_ill_typed_declaration(attr: str, value: object) -> None:
    with pytest.raises(TypeError, match=rf"ShapeTest: {attr} must be"):
        register(_adapter(**{attr: value}))
    assert "test-shape" not in registry._REGISTRY


def test_register_refuses_a_declaration_not_typed_classvar() -> None:
    cls = _adapter(__annotations__={"kind": "str"})
    with pytest.raises(TypeError, match=r"ShapeTest: annotate \w+ as ClassVar"):
        register(cls)


def test_register_refuses_an_adapter_without_a_docstring() -> None:
    class NoDoc(Adapter):
        kind: ClassVar[str] = "test-no-doc"

        def collect(self, fetcher: Fetcher, known: Mapping[str, Record]) -> Listing:
            raise NotImplementedError

    with pytest.raises(TypeError, match="NoDoc: add a docstring"):
        register(NoDoc)


def test_a_regulator_needs_both_languages() -> None:
    with pytest.raises(ValueError, match=r"Regulator\.zh"):
        Regulator(short="X", en="X Agency", zh="")
    assert Regulator(short="X", en="X Agency", zh="某局").label == "X"


def test_every_registered_adapter_declares_the_shape() -> None:
    for adapter in kinds().values():
        check_shape(adapter)  # raises naming the class and the attribute
        generic = adapter.regulator is None
        assert generic == (adapter.jurisdiction == ""), adapter.kind
        if isinstance(adapter.coverage, FromSetting):
            assert adapter.coverage.key in adapter.Settings.model_fields, adapter.kind


def test_every_setting_key_has_a_description() -> None:
    missing = [
        f"{kind}.{name}"
        for kind, adapter in kinds().items()
        for name, info in adapter.Settings.model_fields.items()
        if not (info.description or "").strip()
    ]
    missing += [
        f"common.{name}"
        for name, info in SourceSettings.model_fields.items()
        if not (info.description or "").strip()
    ]
    assert not missing, "add Field(description=...) to: " + ", ".join(missing)


def test_alert_labels_come_from_the_adapter_declarations() -> None:
    """The labels alerts always carried, now declared by the adapters."""
    expected = {
        "cde": "CDE 国家药监局药品审评中心",
        "nmpa": "NMPA 国家药品监督管理局",
        "fda-guidance": "FDA",
        "fda-cber-cgt": "FDA CBER",
        "federal-register": "FDA (Federal Register)",
        "ema-documents": "EMA",
    }
    for kind, label in expected.items():
        assert regulator_of(SourceRow(name="s", kind=kind)) == label
    # a generic kind: the regulator setting, else the source's name
    assert regulator_of(SourceRow(name="nhc", kind="html-list"), "NHC") == "NHC"
    assert regulator_of(SourceRow(name="nhc", kind="html-list")) == "nhc"
    assert regulator_of(SourceRow(name="old", kind="a-kind-since-removed")) == "old"


def test_the_readme_sources_block_is_generated_from_the_registry() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert BEGIN in readme and END in readme
    if replace_block(readme, markdown()) != readme:
        pytest.fail(f"README.md's sources block is out of date: run `{REGENERATE}`")


def test_the_reference_names_every_kind_setting_and_preset() -> None:
    text = markdown()
    for kind, adapter in kinds().items():
        assert f"| `{kind}` |" in text
        for name in adapter.Settings.model_fields:
            assert f"| `{name}` |" in text
    names = [p["name"] for p in presets()]
    assert len(names) == len(set(names)) >= 20
    for name in names:
        assert f"| `{name}` |" in text


def test_replace_block_refuses_a_file_without_markers() -> None:
    with pytest.raises(ValueError, match="sources:begin"):
        replace_block("# no block here\n", "x")


def _regwatch(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": "200"}
    return subprocess.run(
        [sys.executable, "-m", "monitor.cli.main", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        timeout=120,
        check=False,
    )


def test_sources_command_json_and_markdown_come_from_the_registry(tmp_path: Path) -> None:
    result = _regwatch("sources", "--json", "-c", str(tmp_path / "none.toml"), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert set(data["kinds"]) == set(kinds())
    cde = data["kinds"]["cde"]
    assert cde["regulator"]["zh"] == "国家药监局药品审评中心"
    assert cde["jurisdiction"] == "CN" and cde["coverage"] == "complete"
    zyfl1 = next(s for s in cde["settings"] if s["name"] == "zyfl1")
    assert zyfl1["type"] == "str" and zyfl1["default"] == "" and zyfl1["description"]
    assert data["kinds"]["rss"]["coverage"] == "set by `listing`"
    assert data["kinds"]["rss"]["regulator"] is None
    assert {s["name"] for s in data["common_settings"]} == set(SourceSettings.model_fields)

    table = _regwatch("sources", "-c", str(tmp_path / "none.toml"), cwd=tmp_path)
    assert table.returncode == 0, table.stderr
    assert "zyfl1" in table.stdout and "专业分类" in table.stdout
    assert "set by `listing`" in table.stdout

    md = _regwatch("sources", "--markdown", cwd=tmp_path)
    assert md.returncode == 0, md.stderr
    assert md.stdout == markdown()


def test_the_regenerate_command_rewrites_the_block(tmp_path: Path) -> None:
    readme = tmp_path / "README.md"
    readme.write_text(f"# x\n\n{BEGIN}\nstale\n{END}\n\nprose after\n", encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "monitor.cli.reference", str(readme)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    text = readme.read_text(encoding="utf-8")
    assert "stale" not in text and text.endswith(f"{END}\n\nprose after\n")
    assert replace_block(text, markdown()) == text
