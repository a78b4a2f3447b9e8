"""The classifier's shortcuts give what the plain code gives.

``normalise`` leaves a text with nothing to fold as it is; ``RuleSet.first``
stops at a hit of the first rule. Both must answer exactly as the plain path
does, whatever the text.
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from monitor.classify._lexicon import lexicon, normalise
from monitor.classify._matcher import RuleSet
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
