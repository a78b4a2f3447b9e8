"""Classifying one title (and optionally its text): the rules that combine the
lexicon's hits into a :class:`Classification`.

1. Find the positive cues (modalities and generic CGT words) and the negative
   cues (traps) in the title; a trap removes the cues it names, either inside
   its own words ("span") or in the whole title.
2. A title is relevant when a strong cue survives.
3. Classes come from the surviving cues: a specific cue's classes; a generic
   cue's only when no specific cue covers its domain; the generic ATMP words'
   only when nothing else gave a class. EU: "sctmp" becomes "tep" when the
   title aims at repairing or replacing tissue.
4. Body text adds tags and evidence; it decides relevance and classes only for
   a title without CGT words and without traps, and only with repeated words.
   When it decides, ``evidence_at`` says where each of its words was found
   (``attachment "附件1.pdf" p.2``), read from the ``== name p.N ==`` part
   headers of ``monitor.pipeline.attachments``.
5. Status and document type: the source's metadata when recognised, else the
   title's words, else the defaults.
6. Scope: "cgt" when relevant; else "horizontal" when the title names a rule
   for all medicines or all biologics (scope.toml) and nothing that narrows it
   to products that are not CGT (vaccines, blood, generics, food...); else
   "none".
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from monitor.classify._lexicon import Cue, Lexicon, Negative, lexicon, normalise
from monitor.classify._matcher import Hit
from monitor.classify._result import (
    CN,
    DISCIPLINES,
    DOC_TYPES,
    EU,
    JP,
    MODALITIES,
    US,
    Classification,
    in_order,
)


@dataclass
class _Scan:
    """The surviving cue hits of one text, and the traps that were in force."""

    hits: list[Hit]
    traps: list[tuple[Negative, Hit, bool]]  # negative, where it matched, removed something


def _cues(lex: Lexicon, owners: Iterable[int]) -> list[Cue]:
    """The cues of these hit owners, plus those their combinations imply."""
    found = {owner: lex.cues[owner] for owner in owners}
    ids = {c.id for c in found.values()}
    for implied, groups in lex.combinations:
        if all(group & ids for group in groups):
            found.setdefault(implied, lex.cues[implied])
    return list(found.values())


def _scan(
    lex: Lexicon, text: str, inherited: Iterable[Negative] = (), always_traps: bool = False
) -> _Scan:
    """Cue hits minus what the traps remove. When no hit is one a trap could
    remove, the traps are looked for only when asked (they would change
    nothing)."""
    hits = lex.cue_hits(text)
    traps: list[tuple[Negative, Hit, bool]] = []
    if not always_traps and not any(h.owner in lex.removable for h in hits):
        return _Scan(hits, traps)
    doc_scope: dict[int, Hit] = {}
    for found in lex.negative_matcher.hits(text):
        negative = lex.negatives[found.owner]
        if not negative.span:
            doc_scope.setdefault(found.owner, found)
            continue
        kept = [h for h in hits if not _trap_removes(lex, negative, found, h)]
        traps.append((negative, found, len(kept) < len(hits)))
        hits = kept
    for negative, where in _document_traps(lex, hits, doc_scope, inherited):
        kept = [h for h in hits if not negative.removes(lex.cues[h.owner])]
        if where.owner >= 0:
            traps.append((negative, where, len(kept) < len(hits)))
        hits = kept
    return _Scan(hits, traps)


def _trap_removes(lex: Lexicon, negative: Negative, found: Hit, hit: Hit) -> bool:
    """Whether the span trap `negative`, found at `found`, removes cue hit `hit`
    (it overlaps the trap and is a cue the trap removes)."""
    overlaps = hit.end > found.start and hit.start < found.end
    return overlaps and negative.removes(lex.cues[hit.owner])


def _document_traps(
    lex: Lexicon, hits: list[Hit], doc_scope: dict[int, Hit], inherited: Iterable[Negative]
) -> list[tuple[Negative, Hit]]:
    """The document-wide traps in force (found here, or inherited from the
    title, with a placeholder hit) that no remaining cue excuses."""
    present = {lex.cues[h.owner].id for h in hits}
    active = [
        (lex.negatives[i], hit)
        for i, hit in doc_scope.items()
        if not lex.negatives[i].unless & present
    ]
    for negative in inherited:
        if not negative.unless & present:
            active.append((negative, Hit(-1, -1, -1, -1)))
    return active


_Classes = tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...], tuple[str, ...]]


def _classes(lex: Lexicon, cues: list[Cue], title: str) -> _Classes:
    main = _main_cues(cues)
    cn = {v for c in main for v in c.cn}
    eu = {v for c in main for v in c.eu}
    us = {v for c in main for v in c.us}
    jp = {v for c in main for v in c.jp}
    if "sctmp" in eu and lex.tep_aim.search(title):
        eu = (eu - {"sctmp"}) | {"tep"}
    return in_order(cn, CN), in_order(eu, EU), in_order(us, US), in_order(jp, JP)


def _main_cues(cues: list[Cue]) -> list[Cue]:
    """The cues that give the classes: those no other cue covers, or the
    fallback cues when none of those names a class."""

    def covered(cue: Cue) -> bool:
        return any(other.id != cue.id and cue.domain in other.covers for other in cues)

    main = [c for c in cues if not c.fallback and not covered(c)]
    if not any(_names_a_class(c) for c in main):
        main = [c for c in cues if c.fallback]
    return main


def _names_a_class(cue: Cue) -> bool:
    return bool(cue.cn or cue.eu or cue.us or cue.jp)


def _status(lex: Lexicon, norm: str, metadata: str | None) -> tuple[str, tuple[int, int] | None]:
    if metadata and metadata.strip():
        found = lex.metadata_status.first(normalise(metadata))
        if found:
            return found[0], None
    found = lex.title_status.first(norm)
    if found:
        return found
    return (lex.default_status if norm.strip() else lex.empty_status), None


def _doc_type(lex: Lexicon, norm: str, metadata: str | None) -> tuple[str, tuple[int, int] | None]:
    if metadata and metadata.strip():
        word = metadata.strip().lower()
        if word in DOC_TYPES and word != lex.default_doc_type:
            return word, None
        found = lex.doc_types.first(normalise(metadata))
        if found:
            return found[0], None
    found = lex.doc_types.first(norm)
    return found if found else (lex.default_doc_type, None)


def _words(original: str, spans: Iterable[tuple[int, int]]) -> list[str]:
    out: list[str] = []
    for start, end in spans:
        word = original[start:end].strip()
        if word and word not in out:
            out.append(word)
    return out


_PART = re.compile(r"^== (.+?) ==$", re.MULTILINE)
_PAGE = re.compile(r"^(.*) p\.(\d+)$")


def locate(text: str, offset: int) -> str:
    """Where ``offset`` of a document text lies: ``attachment "NAME" p.N`` after a
    ``== NAME p.N ==`` part header, ``attachment "NAME"`` after ``== NAME ==``,
    else ``text``."""
    header = None
    for found in _PART.finditer(text, 0, offset):
        header = found.group(1)
    if header is None:
        return "text"
    paged = _PAGE.match(header)
    if paged:
        return f'attachment "{paged.group(1)}" p.{paged.group(2)}'
    return f'attachment "{header}"'


def ambiguous(title: str, cls: Classification) -> bool:
    """Whether a title leaves a document's subject open, so its attachment is
    worth reading: no strong CGT cue (``cls`` not relevant), no negative cue
    (trap) anywhere in it, not horizontal, and a guideline-, notice-,
    Q&A-, consultation- or reflection-paper-like document (``AMBIGUOUS_TYPES``)."""
    if cls.relevant or cls.scope != "none" or cls.doc_type not in AMBIGUOUS_TYPES:
        return False
    lex = lexicon()
    return not any(True for _ in lex.negative_matcher.hits(normalise(title or "")))


AMBIGUOUS_TYPES = ("guideline", "notice", "qa", "consultation", "reflection_paper")


def _body(
    lex: Lexicon, text: str, inherited: list[Negative]
) -> tuple[list[Cue], int, list[tuple[int, int]]]:
    """The cues that recur in the body, its number of strong hits, and where
    each recurring cue first occurs."""
    scan = _scan(lex, normalise(text[: lex.body.max_chars]), inherited)
    counts = Counter(h.owner for h in scan.hits)
    strong = sum(n for owner, n in counts.items() if lex.cues[owner].strong)
    first: dict[int, tuple[int, int]] = {}
    for hit in scan.hits:
        if counts[hit.owner] >= lex.body.min_cue_hits:
            first.setdefault(hit.owner, (hit.start, hit.end))
    return _cues(lex, first), strong, list(first.values())


def classify(
    title: str, *, text: str | None = None, status: str | None = None, doc_type: str | None = None
) -> Classification:
    """Classify a document by its title (Chinese, English or mixed).

    ``text`` is the document's own text, if known: it adds tags and evidence,
    and decides only for a title that names nothing (the first
    ``[body] max_chars`` characters, with repeated words). ``status`` and
    ``doc_type`` are the source's own metadata (FDA "Draft", EMA "Adopted",
    CDE "颁布" / "征求意见"; EMA "scientific-guideline"): recognised, they win
    over the title's words. ``text`` is typically the first pages of an
    attachment; the words it contributed are marked "text" in
    ``evidence_where``.
    """
    lex = lexicon()
    title = title or ""
    norm = normalise(title)
    scan = _scan(lex, norm, always_traps=bool(text))
    cues = _cues(lex, (h.owner for h in scan.hits))
    reading = _Reading(any(c.strong for c in cues), cues, {c.modality for c in cues if c.modality})
    if text:
        _read_body(lex, text, scan, reading)
    relevant = reading.relevant
    cn, eu, us, jp = _classes(lex, reading.cues, norm) if relevant else ((), (), (), ())
    status_value, status_span = _status(lex, norm, status)
    type_value, type_span = _doc_type(lex, norm, doc_type)
    extra = [s for s in (type_span, status_span) if s is not None]
    scope, scope_span = _scope(lex, norm, relevant)
    if scope_span is not None and scope == "horizontal":
        extra.append(scope_span)
    evidence, where, at = _evidence(lex, title, scan, extra, reading)
    disciplines = lex.disciplines.every(norm)
    return Classification(
        relevant=relevant,
        modalities=in_order(reading.tags, MODALITIES),
        cn=cn,
        eu=eu,
        us=us,
        doc_type=type_value,
        status=status_value,
        disciplines=in_order(disciplines, DISCIPLINES),
        evidence=tuple(evidence),
        jp=jp,
        scope=scope,
        evidence_where=where,
        evidence_at=at,
    )


@dataclass
class _Reading:
    """What the title, and then the text, decided: relevance, the cues that
    give the classes, the modality tags, and the text's evidence words."""

    relevant: bool
    cues: list[Cue]
    tags: set[str]
    body_words: list[str] = field(default_factory=list)
    # (word, where) for each text word, when the text decided
    body_at: list[tuple[str, str]] = field(default_factory=list)


def _read_body(lex: Lexicon, text: str, scan: _Scan, reading: _Reading) -> None:
    """Let the document's text add tags and evidence to a relevant title, and
    decide for a title that names nothing (no cue, no trap in force)."""
    traps_in_force = [n for n, _, _ in scan.traps if not n.span]
    body_cues, strong_hits, spans = _body(lex, text, traps_in_force)
    from_body = (
        not reading.relevant and not traps_in_force and strong_hits >= lex.body.min_strong_hits
    )
    if reading.relevant or from_body:
        reading.tags |= {c.modality for c in body_cues if c.modality}
        reading.body_words = _words(text, spans)[: lex.body.max_evidence]
    if from_body:
        reading.relevant, reading.cues = True, body_cues
        reading.body_at = [(text[a:b].strip(), locate(text, a)) for a, b in spans]


def _scope(lex: Lexicon, norm: str, relevant: bool) -> tuple[str, tuple[int, int] | None]:
    """The scope: "cgt" for a relevant document, else the title's scope words (or "none")."""
    if relevant:
        return "cgt", None
    found = lex.scope.first(norm)
    return found if found else ("none", None)


def _evidence(
    lex: Lexicon, title: str, scan: _Scan, extra: list[tuple[int, int]], reading: _Reading
) -> tuple[list[str], tuple[str, ...], tuple[str, ...]]:
    """The evidence words (title's first, then the text's), where each was
    found ("title" / "text"), and where in the text when the text decided."""
    evidence_spans = [
        (h.start, h.end)
        for h in sorted(scan.hits, key=lambda h: (lex.cues[h.owner].order, h.pattern, h.start))
    ]
    trap_spans = [(h.start, h.end) for _, h, removed in scan.traps if removed]
    evidence = _words(title, [*evidence_spans, *sorted(trap_spans), *extra])
    in_title = len(evidence)
    evidence += [w for w in reading.body_words if w not in evidence]
    where = ("title",) * in_title + ("text",) * (len(evidence) - in_title)
    at: tuple[str, ...] = ()
    if reading.body_at:
        first_at: dict[str, str] = {}
        for word, place in reading.body_at:
            first_at.setdefault(word, place)
        at = ("",) * in_title + tuple(first_at.get(w, "text") for w in evidence[in_title:])
    return evidence, where, at


def classify_many(titles: Iterable[str]) -> list[Classification]:
    """Classify many titles (no text, no metadata), in order."""
    return [classify(title) for title in titles]
