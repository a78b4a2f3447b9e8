"""Loading the bilingual lexicons (monitor/lexicon/*.toml) into compiled matchers.

The data files say which words mean what; this module only reads, checks and
compiles them, once per process (:func:`lexicon`). Every pattern of one kind
(all positive cues, all negative cues) goes into one alternation with a named
group per pattern, so a title is scanned once per kind, and a match says which
cue and which of its patterns fired.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

from monitor.classify._matcher import Gate, Hit, Matcher, RuleSet, word_start
from monitor.classify._result import (
    CN,
    DOC_TYPES,
    EU,
    JP,
    LIST_FIELDS,
    MODALITIES,
    STATUSES,
    US,
)
from monitor.classify._script import normalise as normalise  # re-exported
from monitor.classify._script import script_table
from monitor.errors import RegwatchError


class LexiconError(RegwatchError):
    """A lexicon data file is malformed: names the file, the entry and the fault."""


# An ASCII word boundary: Python's \b treats Chinese characters as word
# characters, so "CAR-T细胞" would have no boundary after "T".
_ASCII_BOUNDARY = r"(?:(?<![A-Za-z0-9])(?=[A-Za-z0-9])|(?<=[A-Za-z0-9])(?![A-Za-z0-9]))"
_LEADING_BOUNDARY = r"(?<![A-Za-z0-9])"  # \b before a pattern's first (ASCII) letter
_TRAILING_BOUNDARY = r"(?![A-Za-z0-9])"  # \b after its last
_MACRO = re.compile(r"%([a-z_]+)%")
_FLAGS = re.IGNORECASE


@dataclass(frozen=True)
class Cue:
    """A concept that makes a text CGT (or tags it): see cues_cell.toml."""

    id: str
    order: int
    modality: str | None
    strong: bool
    domain: str
    covers: frozenset[str]
    cn: tuple[str, ...]
    eu: tuple[str, ...]
    us: tuple[str, ...]
    fallback: bool
    jp: tuple[str, ...] = ()


@dataclass(frozen=True)
class Negative:
    """A trap that removes cue hits: see negatives.toml."""

    id: str
    span: bool
    suppress: frozenset[str]
    unless: frozenset[str]

    def removes(self, cue: Cue) -> bool:
        return (
            "*" in self.suppress
            or cue.id in self.suppress
            or ("weak" in self.suppress and not cue.strong)
        )


@dataclass(frozen=True)
class BodySettings:
    max_chars: int
    min_strong_hits: int
    min_cue_hits: int
    max_evidence: int


@dataclass(frozen=True)
class Lexicon:
    """Everything the classifier needs, compiled."""

    cues: tuple[Cue, ...]
    cue_matcher: Matcher
    # cues of files with a [gate] (cues_inn.toml): word-ending patterns that
    # could start at any letter, matched apart, and only in a text the gate finds
    stem_matcher: Matcher
    stem_gate: Gate
    negatives: tuple[Negative, ...]
    negative_matcher: Matcher
    removable: frozenset[int]  # the cues some negative can remove (by order)
    title_status: RuleSet
    metadata_status: RuleSet
    default_status: str
    empty_status: str
    doc_types: RuleSet
    default_doc_type: str
    disciplines: RuleSet
    scope: RuleSet  # "none" (not for CGT) before "horizontal"
    tep_aim: re.Pattern[str]
    combinations: tuple[tuple[int, tuple[frozenset[str], ...]], ...]
    body: BodySettings

    def cue_hits(self, text: str) -> list[Hit]:
        """Leftmost-first, non-overlapping cue hits of both matchers."""
        hits = list(self.cue_matcher.hits(text))
        if not self.stem_gate.search(text):
            return hits
        merged: list[Hit] = []
        end = -1
        for hit in sorted([*hits, *self.stem_matcher.hits(text)], key=lambda h: h.start):
            if hit.start >= end:
                merged.append(hit)
                end = hit.end
        return merged


class _Reader:
    """Reads the TOML files of one lexicon directory, with file-named errors."""

    def __init__(self, directory: Path, *, validate: bool = True) -> None:
        self.directory = directory
        self.validate = validate  # compile each pattern to check it (see ``load_lexicon``)
        self.macros: dict[str, str] = {}

    def load(self, name: str) -> dict[str, Any]:
        path = self.directory / name
        try:
            with path.open("rb") as fh:
                data = tomllib.load(fh)
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise LexiconError(f"{path}: {exc}") from exc
        macros = data.get("macros", {})
        self.macros.update({k: str(v) for k, v in macros.items()})
        return data

    def patterns(self, where: str, raw: Any) -> tuple[str, ...]:
        if not isinstance(raw, list) or not raw or not all(isinstance(p, str) for p in raw):
            raise LexiconError(f"{where}: 'patterns' must be a non-empty list of strings")
        out = []
        for pattern in raw:
            expanded = self._expand(where, pattern).translate(script_table())
            if not self.validate:
                out.append(word_start(expanded))
                continue
            try:
                compiled = re.compile(expanded, _FLAGS)
            except re.error as exc:
                raise LexiconError(f"{where}: bad pattern {pattern!r}: {exc}") from exc
            if compiled.groups:
                raise LexiconError(
                    f"{where}: pattern {pattern!r} has a capturing group; use (?:...)"
                )
            if compiled.fullmatch(""):
                raise LexiconError(f"{where}: pattern {pattern!r} matches empty text")
            out.append(word_start(expanded))
        return tuple(out)

    def _expand(self, where: str, pattern: str) -> str:
        def macro(m: re.Match[str]) -> str:
            if m.group(1) not in self.macros:
                raise LexiconError(f"{where}: unknown macro %{m.group(1)}%")
            return f"(?:{self.macros[m.group(1)]})"

        text = _MACRO.sub(macro, pattern)
        head = _LEADING_BOUNDARY if text.startswith(r"\b") else ""
        tail = _TRAILING_BOUNDARY if text.endswith(r"\b") and not text.endswith(r"\\b") else ""
        text = text[2 if head else 0 : len(text) - 2 if tail else None]
        return head + text.replace(r"\b", _ASCII_BOUNDARY) + tail

    def alternation(self, where: str, raw: Any) -> re.Pattern[str]:
        return re.compile("|".join(self.patterns(where, raw)), _FLAGS)


def _classes(
    where: str, entry: Mapping[str, Any], field: str, vocabulary: tuple[str, ...]
) -> tuple[str, ...] | None:
    if field not in entry:
        return None
    values = entry[field]
    if not isinstance(values, list) or any(v not in vocabulary for v in values):
        raise LexiconError(f"{where}: {field!r} must list values of {vocabulary}")
    return tuple(values)


_CUE_KEYS = {
    "id",
    "modality",
    "strength",
    "domain",
    "covers",
    "cn",
    "eu",
    "us",
    "jp",
    "fallback",
    "priority",
    "patterns",
}
_CLASS_FIELDS = (("cn", CN), ("eu", EU), ("us", US), ("jp", JP))


_PRODUCT_KEYS = {"brand", "inn", "names", "modality", "jurisdictions", "source"}


def _product_cues(reader: _Reader) -> list[tuple[str, dict[str, Any]]]:
    """products.toml: approved CGT products (brand, INN, names in other
    scripts), one strong cue per modality whose patterns are the names."""
    name = "products.toml"
    if not (reader.directory / name).exists():
        return []
    data = reader.load(name)
    names: dict[str, list[str]] = {}
    for index, entry in enumerate(data.get("product", [])):
        where = f"{reader.directory / name}: [[product]] #{index + 1}"
        unknown = set(entry) - _PRODUCT_KEYS
        if unknown or entry.get("modality") not in MODALITIES or not entry.get("source"):
            raise LexiconError(
                f"{where}: needs a known 'modality' and a 'source'; unknown keys {sorted(unknown)}"
            )
        words = [entry.get("brand"), entry.get("inn"), *entry.get("names", ())]
        names.setdefault(entry["modality"], []).extend(_word(str(w)) for w in words if w)
    covers = data.get("covers", [])
    return [
        (
            name,
            {
                "id": f"product_{modality}",
                "modality": modality,
                "strength": "strong",
                "domain": "product",
                "covers": covers,
                "priority": int(data.get("priority", 0)),
                "patterns": sorted(set(patterns), key=lambda p: (-len(p), p)),
            },
        )
        for modality, patterns in names.items()
    ]


def _word(name: str) -> str:
    """A product name as a pattern: literal, whole word at ASCII edges, any
    space or hyphen between its parts."""
    parts = [re.escape(part) for part in re.split(r"[\s-]+", name.strip()) if part]
    body = r"[\s-]*".join(parts)
    head = tail = ""
    if name[:1].isascii() and name[:1].isalnum():
        head = r"\b"
    elif _KATAKANA.match(name[:1]):
        head = rf"(?<!{_KATAKANA.pattern})"  # not inside a longer katakana word
    if name[-1:].isascii() and name[-1:].isalnum():
        tail = r"\b"
    elif _KATAKANA.match(name[-1:]):
        tail = rf"(?!{_KATAKANA.pattern})"
    return head + body + tail


_KATAKANA = re.compile("[\u30a1-\u30fa\u30fc]")


def _read_cues(
    reader: _Reader, files: Sequence[str], mapping: Mapping[str, Mapping[str, tuple[str, ...]]]
) -> tuple[tuple[Cue, ...], Matcher, Matcher, Gate]:
    raw, gated, gates = _read_cue_files(reader, files)
    raw.extend(_product_cues(reader))
    # higher priority first; file order otherwise (sorted() is stable)
    raw = sorted(raw, key=lambda item: -int(item[1].get("priority", 0)))
    cues: list[Cue] = []
    entries: list[tuple[int, tuple[str, ...]]] = []
    stem_entries: list[tuple[int, tuple[str, ...]]] = []
    for order, (name, entry) in enumerate(raw):
        where = f"{reader.directory / name}: cue {entry.get('id', '?')!r}"
        cues.append(_cue(where, entry, order, mapping))
        (stem_entries if name in gated else entries).append(
            (order, reader.patterns(where, entry.get("patterns")))
        )
    ids = [c.id for c in cues]
    if len(set(ids)) != len(ids):
        raise LexiconError(f"{reader.directory}: duplicate cue ids")
    return tuple(cues), Matcher(entries), Matcher(stem_entries), Gate.of(gates)


def _read_cue_files(
    reader: _Reader, files: Sequence[str]
) -> tuple[list[tuple[str, dict[str, Any]]], set[str], list[str]]:
    """The (file, entry) of every cue of these files, the files with a
    ``[gate]`` (their cues are word stems), and the gates' patterns."""
    raw: list[tuple[str, dict[str, Any]]] = []
    gated: set[str] = set()
    gates: list[str] = []
    for name in files:
        data = reader.load(name)
        raw.extend((name, entry) for entry in data.get("cue", []))
        if "gate" in data:
            gated.add(name)
            # word endings: not anchored at a word start like cue patterns
            where = f"{reader.directory / name}: [gate]"
            raw_gates = data["gate"].get("patterns")
            reader.patterns(where, raw_gates)  # checks them
            gates.extend(reader._expand(where, str(p)).translate(script_table()) for p in raw_gates)
    return raw, gated, gates


def _cue(
    where: str,
    entry: Mapping[str, Any],
    order: int,
    mapping: Mapping[str, Mapping[str, tuple[str, ...]]],
) -> Cue:
    """One checked ``[[cue]]`` entry; its classes default to its modality's."""
    unknown = set(entry) - _CUE_KEYS
    if unknown or not isinstance(entry.get("id"), str):
        raise LexiconError(f"{where}: needs an 'id'; unknown keys {sorted(unknown)}")
    modality = entry.get("modality")
    if modality is not None and modality not in MODALITIES:
        raise LexiconError(f"{where}: unknown modality {modality!r}")
    if entry.get("strength") not in ("strong", "weak"):
        raise LexiconError(f'{where}: \'strength\' must be "strong" or "weak"')
    default = mapping.get(modality or "", {})
    classes = {field: _classes(where, entry, field, vocab) for field, vocab in _CLASS_FIELDS}
    chosen = {
        field: found if found is not None else default.get(field, ())
        for field, found in classes.items()
    }
    return Cue(
        id=entry["id"],
        order=order,
        modality=modality,
        strong=entry["strength"] == "strong",
        domain=str(entry.get("domain", entry["id"])),
        covers=frozenset(entry.get("covers", ())),
        cn=chosen["cn"],
        eu=chosen["eu"],
        us=chosen["us"],
        fallback=bool(entry.get("fallback", False)),
        jp=chosen["jp"],
    )


def _read_negatives(reader: _Reader, cue_ids: set[str]) -> tuple[tuple[Negative, ...], Matcher]:
    data = reader.load("negatives.toml")
    negatives: list[Negative] = []
    entries: list[tuple[int, tuple[str, ...]]] = []
    for index, entry in enumerate(data.get("negative", [])):
        where = f"{reader.directory / 'negatives.toml'}: negative {entry.get('id', '?')!r}"
        suppress = frozenset(entry.get("suppress", ()))
        unless = frozenset(entry.get("unless", ()))
        unknown = (suppress - {"*", "weak"} | unless) - cue_ids
        if unknown:
            raise LexiconError(f"{where}: unknown cue ids {sorted(unknown)}")
        if entry.get("scope") not in ("title", "span"):
            raise LexiconError(f'{where}: \'scope\' must be "title" or "span"')
        negatives.append(
            Negative(
                id=str(entry.get("id")),
                span=entry["scope"] == "span",
                suppress=suppress,
                unless=unless,
            )
        )
        entries.append((index, reader.patterns(where, entry.get("patterns"))))
    return tuple(negatives), Matcher(entries)


def _ordered_rules(
    reader: _Reader, file: str, table: str, key: str, vocabulary: tuple[str, ...]
) -> RuleSet:
    data = reader.load(file)
    rules = []
    for index, entry in enumerate(data.get(table, [])):
        where = f"{reader.directory / file}: [[{table}]] #{index + 1}"
        if entry.get(key) not in vocabulary:
            raise LexiconError(f"{where}: {key!r} must be one of {vocabulary}")
        rules.append((str(entry[key]), reader.patterns(where, entry.get("patterns"))))
    return RuleSet(rules)


def _read_combinations(
    data: Mapping[str, Any], where: str, cues: Sequence[Cue]
) -> tuple[tuple[int, tuple[frozenset[str], ...]], ...]:
    index = {c.id: c.order for c in cues}
    out = []
    for entry in data.get("combination", []):
        groups = tuple(frozenset(group) for group in entry.get("all_of", ()))
        unknown = ({entry.get("cue")} | set().union(*groups)) - set(index)
        if unknown or not groups:
            raise LexiconError(
                f"{where}: [[combination]] with unknown cue ids {sorted(map(str, unknown))}"
            )
        out.append((index[entry["cue"]], groups))
    return tuple(out)


def load_lexicon(directory: Path | None = None, *, validate: bool | None = None) -> Lexicon:
    """Read and compile the lexicon in ``directory`` (default: the bundled one).

    Raises LexiconError naming the file and entry when something is wrong.
    ``validate`` compiles every pattern on its own first, to name a bad one (a
    syntax error, a capturing group, a pattern matching empty text); it is on
    for a lexicon read from a directory, off for the bundled one, whose
    patterns tests/test_classify.py checks (``test_the_bundled_lexicon_loads``)
    before it ships: those 850 compiles were 0.14 s of CPU at every start of a
    check that classifies (``bench/bench_classify.py``).
    """
    if validate is None:
        validate = directory is not None
    if directory is None:
        directory = Path(str(resources.files("monitor.lexicon")))
    reader = _Reader(directory, validate=validate)
    mapping_data = reader.load("mapping.toml")
    where = str(directory / "mapping.toml")
    mapping: dict[str, dict[str, tuple[str, ...]]] = {}
    for modality, entry in mapping_data.get("modality", {}).items():
        if modality not in MODALITIES:
            raise LexiconError(f"{where}: unknown modality {modality!r}")
        mapping[modality] = {
            field: _classes(f"{where}: {modality}", entry, field, vocab) or ()
            for field, vocab in _CLASS_FIELDS
        }
    if set(mapping) != set(MODALITIES):
        raise LexiconError(f"{where}: no mapping for {sorted(set(MODALITIES) - set(mapping))}")
    cue_files = sorted(p.name for p in directory.glob("cues_*.toml"))
    cues, cue_matcher, stem_matcher, stem_gate = _read_cues(reader, cue_files, mapping)
    negatives, negative_matcher = _read_negatives(reader, {c.id for c in cues})
    status_data = reader.load("status.toml")
    doc_data = reader.load("doc_types.toml")
    body = mapping_data.get("body", {})
    defaults = (status_data.get("default", {}), doc_data.get("default", {}))
    if {defaults[0].get("status", "final"), defaults[0].get("empty", "unknown")} - set(
        STATUSES
    ) or defaults[1].get("doc_type", "other") not in DOC_TYPES:
        raise LexiconError(
            f"{directory}: a [default] in status.toml or doc_types.toml is not a vocabulary value"
        )
    return Lexicon(
        cues=cues,
        cue_matcher=cue_matcher,
        stem_matcher=stem_matcher,
        stem_gate=stem_gate,
        negatives=negatives,
        negative_matcher=negative_matcher,
        removable=frozenset(c.order for c in cues if any(n.removes(c) for n in negatives)),
        title_status=_ordered_rules(reader, "status.toml", "title", "status", STATUSES),
        metadata_status=_ordered_rules(reader, "status.toml", "metadata", "status", STATUSES),
        default_status=str(status_data.get("default", {}).get("status", "final")),
        empty_status=str(status_data.get("default", {}).get("empty", "unknown")),
        doc_types=_ordered_rules(reader, "doc_types.toml", "rule", "doc_type", DOC_TYPES),
        default_doc_type=str(doc_data.get("default", {}).get("doc_type", "other")),
        disciplines=_ordered_rules(
            reader, "disciplines.toml", "discipline", "discipline", LIST_FIELDS["disciplines"]
        ),
        scope=_ordered_rules(reader, "scope.toml", "scope", "scope", ("none", "horizontal")),
        tep_aim=reader.alternation(
            f"{where}: [eu_tep_aim]", mapping_data.get("eu_tep_aim", {}).get("patterns")
        ),
        combinations=_read_combinations(mapping_data, where, cues),
        body=BodySettings(
            max_chars=int(body.get("max_chars", 20000)),
            min_strong_hits=int(body.get("min_strong_hits", 4)),
            min_cue_hits=int(body.get("min_cue_hits", 2)),
            max_evidence=int(body.get("max_evidence", 6)),
        ),
    )


@lru_cache(maxsize=1)
def lexicon() -> Lexicon:
    """The bundled lexicon, loaded on first use and kept for the process."""
    return load_lexicon()
