"""Folding traditional Chinese and Japanese kanji to simplified Chinese, one
character for one, so the (simplified) lexicon matches Taiwan's 再生醫療製劑
and Japan's 遺伝子治療用製品 too, and match offsets stay offsets in the text.

The table comes from OpenCC (https://github.com/BYVoid/OpenCC, PyPI
``OpenCC``), not from a hand-written list: every CJK character is run through
OpenCC's ``jp2t`` (Japanese shinjitai -> traditional) and then ``t2s``
(traditional -> simplified) on its own line, and kept where the result is one
different character. Phrase-level conversions (several characters for one
word) are left out on purpose: they would shift offsets, and the lexicon's
words are matched character by character anyway.

``normalise`` applies it, with width and punctuation folding: the text as the
lexicon's patterns see it.
"""

from __future__ import annotations

import re
from functools import lru_cache

# CJK Unified Ideographs, Extension A, and the compatibility ideographs
_RANGES = ((0x3400, 0x4DC0), (0x4E00, 0xA000), (0xF900, 0xFB00))


@lru_cache(maxsize=1)
def script_table() -> dict[int, str]:
    """``str.translate`` table: traditional / Japanese form -> simplified."""
    import opencc  # only when a lexicon is first used, not at import

    chars = "".join(chr(cp) for start, end in _RANGES for cp in range(start, end))
    japanese = opencc.OpenCC("jp2t.json").convert("\n".join(chars)).split("\n")
    simplified = opencc.OpenCC("t2s.json").convert("\n".join(japanese)).split("\n")
    if len(simplified) != len(chars):  # a converter that joined lines: fold nothing
        return {}
    return {ord(c): s for c, s in zip(chars, simplified, strict=True) if len(s) == 1 and s != c}


def _fold_table() -> dict[int, str]:
    """Full-width ASCII to half-width, odd spaces to a space, dashes to '-':
    one character for one, so match offsets are offsets in the original text."""
    table = {cp: chr(cp - 0xFEE0) for cp in range(0xFF01, 0xFF5F)}
    table.update({cp: " " for cp in (0x3000, 0x00A0, *range(0x2000, 0x200B), 0x202F)})
    table.update({cp: "-" for cp in (*range(0x2010, 0x2016), 0x2212, 0xFE63)})
    table.update({0x2018: "'", 0x2019: "'", 0x201C: '"', 0x201D: '"'})
    return table


@lru_cache(maxsize=1)
def _fold() -> dict[int, str]:
    """Width and punctuation folding plus traditional Chinese / Japanese kanji
    to simplified (one character for one, from OpenCC): patterns and texts are
    folded alike, so 細胞治療, 细胞治疗 and 細胞治療 (ja) meet; the evidence is cut
    from the text as written. Built on first use, not at import."""
    return {**script_table(), **_fold_table()}


@lru_cache(maxsize=1)
def _foldable() -> re.Pattern[str]:
    """A search for any character ``_fold`` changes (one class of ranges)."""
    ranges: list[list[int]] = []
    for cp in sorted(_fold()):
        if ranges and ranges[-1][1] == cp - 1:
            ranges[-1][1] = cp
        else:
            ranges.append([cp, cp])
    parts = (re.escape(chr(a)) + ("" if a == b else "-" + re.escape(chr(b))) for a, b in ranges)
    return re.compile("[" + "".join(parts) + "]" if ranges else r"(?!)")


def normalise(text: str) -> str:
    """The text as the patterns see it (same length, same offsets). Most titles
    have nothing to fold: one search for a foldable character is a tenth of
    the translate."""
    if _foldable().search(text) is None:
        return text
    return text.translate(_fold())
