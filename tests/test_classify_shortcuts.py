"""The classifier's shortcuts give what the plain code gives.

``normalise`` leaves a text with nothing to fold as it is; ``RuleSet.first``
stops at a hit of the first rule; the stem gate searches its Latin patterns
only in a text with a Latin letter. Each must answer exactly as the plain path
does, whatever the text.
"""

from __future__ import annotations

import re
import sys

from hypothesis import given, settings
from hypothesis import strategies as st

from monitor.classify._lexicon import lexicon, normalise
from monitor.classify._matcher import _LATIN, Gate, RuleSet
from monitor.classify._script import _fold

_FOLDING = "".join(sorted(map(chr, _fold()))[::40])  # a sample of every kind
texts = st.text(
    alphabet=st.sampled_from(_FOLDING + "细胞治疗指导原则征求意见稿ab1 -（）"), max_size=40
)


@settings(max_examples=300)
@given(texts)
def test_normalise_is_the_plain_translate(text: str) -> None:
    assert normalise(text) == text.translate(_fold())


def test_a_text_with_nothing_to_fold_is_left_as_it_is() -> None:
    title = "国家药监局关于发布细胞治疗产品第19号药品注册技术指导原则的通告"
    assert normalise(title) is title
    assert normalise("細胞治療\u3000ＡＢ") == "细胞治疗 AB"


def plain_first(rules: RuleSet, text: str) -> tuple[str, tuple[int, int]] | None:
    """``RuleSet.first`` without the early stop: the lowest rule over every hit."""
    hits = list(rules.matcher.hits(text))
    if not hits:
        return None
    best = min(hits, key=lambda h: (h.owner, h.start))
    return rules.values[best.owner], (best.start, best.end)


words = st.sampled_from(
    ["征求意见稿", "指导原则", "通告", "draft", "Guidance", "final", "Q&A", "公告", "试行", " "]
)


@settings(max_examples=300)
@given(st.lists(words, max_size=8).map("".join))
def test_first_is_the_lowest_rule_over_every_hit(text: str) -> None:
    lex = lexicon()
    for rules in (lex.title_status, lex.doc_types, lex.scope, lex.metadata_status):
        assert rules.first(normalise(text)) == plain_first(rules, normalise(text))


def test_latin_finds_every_character_a_latin_letter_matches() -> None:
    chars = "".join(chr(cp) for cp in range(sys.maxunicode + 1))
    latin = set(_LATIN.findall(chars))
    letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
    matched = {c for letter in letters for c in re.findall(letter, chars, re.IGNORECASE)}
    assert latin == matched == set(letters) | {"İ", "ı", "ſ", "\u212a"}


GATE = [r"cel(?![A-Za-z0-9])", "cel-", "[vV]ec-", "セル", "迈托赛", r"\bturev", r"(?:x|ベ)ク"]
gate_texts = st.lists(
    st.sampled_from(
        ["cel", "CEL", "ceL-", "ſ", "K", "vec-", "VEC", "セル", "迈托赛", "ベク", "xク"]
    )
    | st.sampled_from(["turev", "TURev", "细胞", " ", "-", "1", "ı"]),
    max_size=6,
).map("".join)


@settings(max_examples=300)
@given(gate_texts)
def test_the_gate_is_the_plain_alternation(text: str) -> None:
    gate = Gate.of(GATE)
    plain = re.compile("|".join(GATE), re.IGNORECASE)
    assert gate.search(text) == (plain.search(text) is not None)
    lex_gate = lexicon().stem_gate
    patterns = [p for p in (lex_gate.latin.pattern, lex_gate.other.pattern) if p != "(?!)"]
    assert lex_gate.search(text) == bool(re.search("|".join(patterns), text, re.IGNORECASE))


def test_the_gate_searches_latin_patterns_apart() -> None:
    gate = Gate.of(GATE)
    # \b says nothing about the first character: "turev" starts with a t
    assert gate.latin.pattern == r"cel(?![A-Za-z0-9])|cel-|[vV]ec-|\bturev"
    assert gate.other.pattern == r"セル|迈托赛|(?:x|ベ)ク"  # may start with a katakana
    assert gate.search("ſ细胞CEL") and not gate.search("细胞治疗")
