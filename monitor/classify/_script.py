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
"""

from __future__ import annotations

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
