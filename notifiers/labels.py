"""Bilingual labels for classes, modalities and fields, read from ``labels.toml``.

Every label is English then Chinese (``"Gene therapy 基因治疗药品"``). A key the
file does not know is shown as the key itself with ``_`` as spaces, so a new
class from the classifier never breaks a message.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable
from functools import cache
from pathlib import Path
from typing import Any

from notifiers.types import Alert

LABELS_FILE = Path(__file__).with_name("labels.toml")

# Where an alert's class lists live, in the order they are shown.
CLASS_SCOPES = ("cn", "eu", "us", "jp")


@cache
def _table() -> dict[str, Any]:
    with LABELS_FILE.open("rb") as handle:
        return tomllib.load(handle)


def vocabulary(section: str) -> dict[str, tuple[str, str]]:
    """The ``key -> (english, chinese)`` table of one section of labels.toml."""
    raw = _table().get(section, {})
    return {key: (str(value[0]), str(value[1])) for key, value in raw.items()}


def phrase(name: str) -> str:
    """One English phrase from the ``[headlines]`` section."""
    return str(_table()["headlines"][name])


def label(section: str, key: str, *, chinese: bool = True) -> str:
    """``"Gene therapy 基因治疗药品"`` for ``label("cn", "gene_therapy")``."""
    pair = vocabulary(section).get(key)
    if pair is None:
        return key.replace("_", " ")
    english, zh = pair
    return f"{english} {zh}" if chinese and zh else english


def english(section: str, key: str) -> str:
    """The English label alone."""
    return label(section, key, chinese=False)


def joined(section: str, keys: Iterable[str], sep: str = ", ") -> str:
    return sep.join(label(section, key) for key in keys)


def class_parts(alert: Alert) -> list[str]:
    """One string per jurisdiction's classes: ``["CN: Cell therapy 细胞治疗药品", "EU: GTMP"]``."""
    parts = []
    for scope in CLASS_SCOPES:
        keys: tuple[str, ...] = getattr(alert, scope)
        if keys:
            parts.append(f"{scope.upper()}: {joined(scope, keys, ' + ')}")
    return parts


def class_line(alert: Alert) -> str:
    """All classes on one line, jurisdictions separated by `` · ``."""
    return " · ".join(class_parts(alert))


def known_classes() -> set[str]:
    """Every class key of every jurisdiction (for validating route filters)."""
    keys: set[str] = set()
    for scope in CLASS_SCOPES:
        keys.update(vocabulary(scope))
    return keys


def group_label(alert: Alert) -> str:
    """The digest group of an alert: its own jurisdiction's classes, bilingual.

    A CN document groups by its China class, an EU one by its EU class, a US
    one by its FDA class; a document of another jurisdiction by its China
    class. Source health alerts form their own group.
    """
    if alert.kind in ("health", "recovered", "baseline"):
        return label("groups", "source_health")
    own = alert.jurisdiction.lower()
    scopes = [own] if own in CLASS_SCOPES else []
    scopes += [scope for scope in CLASS_SCOPES if scope not in scopes]
    for scope in scopes:
        keys: tuple[str, ...] = getattr(alert, scope)
        if keys:
            return joined(scope, keys, " + ")
    return label("groups", "unclassified")
