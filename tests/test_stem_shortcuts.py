"""``lineage.stem``'s shortcuts give what the plain code gives.

The wrappers are looked for only in a text with a 《; the status words are
removed with the Chinese alternative alone in a text where no character
matches a Latin letter case-insensitively. Both must answer exactly as the
plain path does, whatever the title.
"""

from __future__ import annotations

import sys
import unicodedata

from hypothesis import given, settings
from hypothesis import strategies as st

from monitor.pipeline import lineage
from monitor.pipeline.lineage import _DROP, _NOTICE_NUMBER, _STATUS, _WRAPPERS, stem


def plain_stem(title: str) -> str:
    """``stem`` as it was: every wrapper, the whole status pattern."""
    text = unicodedata.normalize("NFKC", title or "").strip()
    for wrapper in _WRAPPERS:
        match = wrapper.search(text)
        if match:
            text = match.group("t")
            break
    text = _NOTICE_NUMBER.sub("", text)
    text = _STATUS.sub(" ", text)
    return _DROP.sub("", text).lower()


words = st.sampled_from(
    [
        "关于公开征求《",
        "关于发布《",
        "》的通告",
        "》意见的通知",
        "《",
        "》",
        "细胞治疗",
        "（征求意见稿）",
        "试行",
        "第三次",
        "（2026年第12号）",
        "; Draft Guidance for Industry",
        "guıdance",  # a dotless i: matches "i" case-insensitively
        "ſuperseded",
        "ſUPERSEDED",  # a long s: matches "s" case-insensitively
        " DRAFT ",
        " draft ",
        "- draft: consultation open",
        "; Availability",
        "Ｇｕｉｄａｎｃｅ ",
        "K",
        "İ",
        " ",
    ]
)


@settings(max_examples=500)
@given(st.lists(words, max_size=8).map("".join))
def test_stem_is_the_plain_stem(title: str) -> None:
    assert stem.__wrapped__(title) == plain_stem(title)


def test_only_the_ascii_letters_and_four_others_match_a_latin_letter() -> None:
    chars = (chr(cp) for cp in range(sys.maxunicode + 1))
    latin = {c for c in chars if lineage._LATIN.match(c)}
    ascii_letters = {chr(cp) for cp in (*range(65, 91), *range(97, 123))}
    assert latin == ascii_letters | {"İ", "ı", "ſ", "\u212a"}
    # ... and each of those is what some letter of the status words matches
    assert stem("Guıdance for Industry 基因治疗") == stem("基因治疗")
