"""Display labels for the vocabulary values, for alert messages and the UI.

The words live in ``monitor/lexicon/mapping.toml`` ([labels.*]).
"""

from __future__ import annotations

from monitor.classify._lexicon import lexicon

# where a bare value is looked up first: "gene_therapy" is the China class,
# "other" the China class, "xenotransplantation" the US class
_SEARCH_ORDER = ("cn", "eu", "us", "jp", "modalities", "doc_type", "status", "disciplines", "scope")


def _pair(value: str, field: str | None) -> tuple[str, str] | None:
    labels = lexicon().labels
    for name in (field,) if field else _SEARCH_ORDER:
        found = labels.get(name, {}).get(value)
        if found:
            return found
    return None


def label_en(value: str, *, field: str | None = None) -> str:
    """English label of a vocabulary value ("cell_therapy" -> "Cell therapy").

    ``field`` ("cn", "eu", "us", "jp", "modalities", "doc_type", "status",
    "disciplines", "scope") picks the table when a value exists in several; an unknown
    value comes back unchanged.
    """
    pair = _pair(value, field)
    return pair[0] if pair else value


def label_cn(value: str, *, field: str | None = None) -> str:
    """Chinese label of a vocabulary value ("cell_therapy" -> "细胞治疗药品"); see
    :func:`label_en`."""
    pair = _pair(value, field)
    return pair[1] if pair else value
