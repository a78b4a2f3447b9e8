"""The replica registry: which replica serves each adapter kind and each preset.

One ``ReplicaCase`` per case the harnesses run: a fresh replica (``make``), the
``[[source]]`` table that points its adapter at a server on 127.0.0.1
(``source``), a noise-only edit (``noise``), the starter presets it stands for
(``presets``) and the harnesses that drive it (``checks``):

- ``"contract"`` — tests/test_contract.py: well-formed, stable records; refusals
  raise; a vanished list never produces changes;
- ``"change"``   — tests/test_contract_check.py: coverage, removals behind 304,
  host moves, same-title documents (needs the hooks that file keeps per case);
- ``"fuzz"``     — tests/test_fuzz_parsers.py: the whole adapter over a mutating
  transport;
- ``"faults"``   — tests/test_faults.py (tests/helpers/faults.py): the service
  under every fault, with a script of real changes per case;
- ``"preset"``   — tests/test_presets.py: a starter preset on a generic adapter,
  with the ``add``/``retitle``/``remove``/``touch`` edits of ``PresetReplica``.

``serve(case)`` starts the replica and gives the running case: the replica (the
truth it serves: its documents in memory), the server and the source table.

Adding an adapter kind or a starter preset without a case here fails
``tests/test_replica_registry.py``, which says what to add.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from monitor.replica.base import SiteReplica
from monitor.replica.cde import CdeReplica
from monitor.replica.commonwealth import HealthCanadaReplica, MhraReplica, TgaReplica
from monitor.replica.ema import EmaReplica
from monitor.replica.fda import FdaReplica
from monitor.replica.federal_register import FederalRegisterReplica
from monitor.replica.nhc import NhcReplica
from monitor.replica.nmpa import NmpaReplica
from monitor.replica.presets import GovCnPolicyReplica, PmdaReplica, starter_at
from monitor.replica.server import App, ReplicaServer

__all__ = ["CASES", "CHECKS", "TODAY", "ReplicaCase", "Running", "case", "cases", "serve"]

TODAY = date(2026, 11, 2)  # the replicas' fixed "today", so cases are the same every day
CHECKS = ("contract", "change", "fuzz", "faults", "preset")


@dataclass(frozen=True)
class ReplicaCase:
    """One replica and how a harness points a source at it."""

    name: str  # the case id: the adapter kind for a built-in site, else the preset name
    kind: str  # the adapter kind the source uses
    factory: Callable[..., SiteReplica]
    settings: Callable[[Any, str], dict[str, Any]]  # (replica, base URL) -> [[source]] table
    noise: Callable[[Any], None] = lambda replica: None
    presets: tuple[str, ...] = ()  # the starter presets this case stands for
    checks: frozenset[str] = frozenset()
    options: Mapping[str, Any] = field(default_factory=dict)  # default factory arguments

    def make(self, **overrides: Any) -> Any:
        """A fresh replica (``overrides`` change its size, today, encodings…)."""
        return self.factory(**{**self.options, **overrides})

    def source(self, replica: Any, base_url: str) -> dict[str, Any]:
        """The ``[[source]]`` table (as a dict) for ``replica`` served at ``base_url``."""
        return self.settings(replica, base_url)


@dataclass
class Running:
    """A case being served: the replica (what it serves), the server, the table."""

    case: ReplicaCase
    replica: Any
    server: ReplicaServer
    source: dict[str, Any]


@contextmanager
def serve(
    case: ReplicaCase, *, wrap: Callable[[Any], App] | None = None, **overrides: Any
) -> Iterator[Running]:
    """Start ``case``'s replica (wrapped by ``wrap`` if given) on 127.0.0.1."""
    replica = case.make(**overrides)
    with ReplicaServer(wrap(replica) if wrap else replica) as server:
        yield Running(case, replica, server, case.source(replica, server.url))


def _call(method: str) -> Callable[[Any], None]:
    return lambda replica: getattr(replica, method)()


def _own(replica: Any, base_url: str) -> dict[str, Any]:
    return dict(replica.source_settings(base_url))


def _preset(name: str) -> Callable[[Any, str], dict[str, Any]]:
    return lambda replica, base_url: replica.source_settings(base_url, name)


def _starter(name: str) -> Callable[[Any, str], dict[str, Any]]:
    return lambda _replica, base_url: starter_at(name, base_url)


def _page(replica: Any, base_url: str) -> dict[str, Any]:
    return {
        "name": "nhc-page",
        "kind": "page",
        "url": f"{base_url}{NhcReplica.LIST}",
        "jurisdiction": "CN",
        "region": "ul.zxxx_list",
    }


_SITE = frozenset({"contract", "change"})
_DATED = {"today": TODAY}


def _presets() -> list[ReplicaCase]:
    """The starter presets on generic adapters (PMDA, MHRA, Health Canada, TGA,
    the State Council policy library, NHC), each served by its ``PresetReplica``."""
    table = [
        ("pmda-new", "rss", PmdaReplica),
        ("pmda-english", "rss", PmdaReplica),
        ("pmda-regulatory-science", "rss", PmdaReplica),
        ("pmda-reviews", "rss", PmdaReplica),
        ("pmda-regenerative-notices", "html-list", PmdaReplica),
        ("mhra", "rss", MhraReplica),
        ("mhra-updates", "rss", MhraReplica),
        ("health-canada-cgt-guidance", "html-list", HealthCanadaReplica),
        ("tga-publications", "rss", TgaReplica),
        ("tga-articles", "rss", TgaReplica),
        ("gov-cn-policy", "json-list", GovCnPolicyReplica),
        ("gov-cn-policy-departments", "json-list", GovCnPolicyReplica),
    ]
    out = [
        ReplicaCase(
            name, kind, factory, _preset(name), _call("touch"), (name,), frozenset({"preset"})
        )
        for name, kind, factory in table
    ]
    out.append(
        ReplicaCase(
            "nhc-regulations",
            "html-list",
            NhcReplica,
            _starter("nhc-regulations"),
            _call("touch"),
            ("nhc-regulations",),
            frozenset({"preset"}),
        )
    )
    return out


CASES: tuple[ReplicaCase, ...] = (
    ReplicaCase(
        "cde",
        "cde",
        CdeReplica,
        _own,
        _call("touch"),
        ("cde-guidelines",),
        _SITE | {"fuzz", "faults"},
    ),
    ReplicaCase(
        "nmpa", "nmpa", NmpaReplica, _own, _call("touch"), ("nmpa",), _SITE | {"fuzz", "faults"}
    ),
    ReplicaCase(
        "fda-guidance",
        "fda-guidance",
        FdaReplica,
        _own,
        _call("noise"),
        ("fda-guidance",),
        _SITE | {"fuzz", "faults"},
        _DATED,
    ),
    ReplicaCase(
        "fda-cber-cgt",
        "fda-cber-cgt",
        FdaReplica,
        lambda replica, base_url: dict(replica.cber_source_settings(base_url)),
        _call("noise"),
        ("fda-cber-cgt",),
        _SITE | {"fuzz"},
        _DATED,
    ),
    ReplicaCase(
        "federal-register",
        "federal-register",
        FederalRegisterReplica,
        _own,
        lambda replica: None,
        ("federal-register",),
        _SITE | {"fuzz", "faults"},
        _DATED,
    ),
    ReplicaCase(
        "ema-documents",
        "ema-documents",
        EmaReplica,
        _own,
        _call("refresh"),
        ("ema-guidelines",),
        _SITE | {"fuzz", "faults"},
        _DATED,
    ),
    ReplicaCase(
        "rss",
        "rss",
        EmaReplica,
        lambda _replica, base_url: {
            "name": "ema-consultations",
            "kind": "rss",
            "url": f"{base_url}/en/public-consultations.xml",
        },
        _call("refresh"),
        ("ema-consultations",),
        _SITE | {"fuzz"},
        _DATED,
    ),
    ReplicaCase(
        "ema-cat-minutes",
        "rss",
        EmaReplica,
        _starter("ema-cat-minutes"),
        _call("refresh"),
        ("ema-cat-minutes",),
        frozenset({"contract"}),
        _DATED,
    ),
    ReplicaCase(
        "page", "page", NhcReplica, _page, _call("touch"), (), frozenset({"contract", "fuzz"})
    ),
    *_presets(),
)


def cases(check: str) -> list[ReplicaCase]:
    """The cases a harness (one of ``CHECKS``) runs, in registry order."""
    if check not in CHECKS:
        raise ValueError(f"unknown check {check!r}; use one of {', '.join(CHECKS)}")
    return [c for c in CASES if check in c.checks]


def case(name: str) -> ReplicaCase:
    """The case called ``name``; ``KeyError`` naming the known ones."""
    for found in CASES:
        if found.name == name:
            return found
    raise KeyError(f"no replica case {name!r}; known: {', '.join(c.name for c in CASES)}")


def missing_kinds(kinds: list[str]) -> list[str]:
    """Adapter kinds no case uses."""
    used = {c.kind for c in CASES}
    return [k for k in kinds if k not in used]


def missing_presets(presets: list[str]) -> list[str]:
    """Starter presets no case stands for."""
    served = {p for c in CASES for p in c.presets}
    return [p for p in presets if p not in served]
