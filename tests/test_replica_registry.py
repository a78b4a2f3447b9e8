"""The replica registry (monitor/replica/registry.py) covers every adapter kind and
every starter preset, so the contract, fuzz and fault harnesses that it drives run
over all of them. A kind or preset without a case fails here, saying what to add."""

from __future__ import annotations

import tomllib

import pytest

from monitor.replica import registry
from monitor.replica.presets import PresetReplica
from monitor.starter import starter_config
from sources.registry import kinds


def _presets() -> dict[str, str]:
    return {t["name"]: t["kind"] for t in tomllib.loads(starter_config())["source"]}


def test_every_adapter_kind_has_a_replica() -> None:
    missing = registry.missing_kinds(list(kinds()))
    assert not missing, (
        f"adapter kind(s) {missing} have no replica: add a replica under monitor/replica/ and "
        "a ReplicaCase(name=<kind>, kind=<kind>, …) to CASES in monitor/replica/registry.py"
    )


def test_every_starter_preset_has_a_replica() -> None:
    missing = registry.missing_presets(list(_presets()))
    assert not missing, (
        f"starter preset(s) {missing} have no replica: add a ReplicaCase with "
        "presets=(<name>,) to CASES in monitor/replica/registry.py (a PresetReplica in "
        "monitor/replica/presets.py serves a preset on a generic adapter)"
    )


def test_each_preset_is_served_once_by_a_case_of_its_kind() -> None:
    presets = _presets()
    served = [(p, c) for c in registry.CASES for p in c.presets]
    assert len(served) == len({p for p, _ in served}), "a preset is claimed by two cases"
    for preset, case in served:
        assert preset in presets, f"{case.name}: no starter preset {preset!r}"
        assert presets[preset] == case.kind, (preset, presets[preset], case.kind)


def test_every_case_is_checked_and_names_are_unique() -> None:
    names = [c.name for c in registry.CASES]
    assert len(names) == len(set(names))
    for case in registry.CASES:
        assert case.checks & {"contract", "preset"}, f"{case.name}: no contract check"
        assert case.checks <= set(registry.CHECKS), case.checks
        if "preset" in case.checks:
            assert isinstance(case.make(), PresetReplica), case.name


@pytest.mark.parametrize("case", registry.CASES, ids=[c.name for c in registry.CASES])
def test_each_case_serves_a_source_of_its_kind(case: registry.ReplicaCase) -> None:
    with registry.serve(case) as running:
        assert running.source["kind"] == case.kind
        assert running.server.url in str(running.source.get("url") or running.source["base_url"])
        assert running.replica.mode == "ok"


def test_lookups_name_what_is_known() -> None:
    assert registry.case("cde").kind == "cde"
    with pytest.raises(KeyError, match="known: cde, nmpa"):
        registry.case("nope")
    with pytest.raises(ValueError, match="use one of contract"):
        registry.cases("nope")
    assert registry.missing_kinds(["cde", "brand-new"]) == ["brand-new"]
    assert registry.missing_presets(["nmpa", "brand-new"]) == ["brand-new"]
