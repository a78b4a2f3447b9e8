"""Linking a draft to its final version: titles compared without status words.

``stem("关于公开征求《基因治疗产品长期随访临床研究技术指导原则（征求意见稿）》意见的通知")``
and ``stem("基因治疗产品长期随访临床研究技术指导原则")`` are equal, as are
"Human Gene Therapy for Rare Diseases; Draft Guidance for Industry" and
"Human Gene Therapy for Rare Diseases; Guidance for Industry".
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

_WRAPPERS = [
    re.compile(r"关于公开征求《(?P<t>.+?)》(?:等\S*)?意见的通知"),
    re.compile(r"关于征求《(?P<t>.+?)》意见的(?:通知|函)"),
    re.compile(r"关于发布《(?P<t>.+?)》的通告"),
    re.compile(r"关于印发《(?P<t>.+?)》的通知"),
    re.compile(r"^《(?P<t>.+?)》"),
]
_STATUS_WORDS = r"(征求意见稿|送审稿|修订稿|试行|草案|第[一二三四五六七八九十\d]+次)"
_STATUS = re.compile(
    _STATUS_WORDS + r"|(;|；|-|–|—|:)?\s*(draft|final)?\s*guidance\s+for\s+(industry|fda\s+staff|"
    r"industry\s+and\s+(food\s+and\s+drug\s+administration|fda)\s+staff)(\s*;\s*availability)?"
    r"|(;|；)\s*availability$"
    r"|-\s*draft\s*:?\s*consultation\s+(open|closed)"
    r"|\bdraft\b|\bwithdrawn\b|\bsuperseded\b",
    re.IGNORECASE,
)
# Every other alternative of _STATUS needs a Latin letter: in a text with no
# character that a Latin letter matches case-insensitively ("[a-z]" with
# IGNORECASE: the ASCII letters and İ ı ſ K), _STATUS matches what the first
# alone matches, and that one scans a Chinese title at a fifth of the CPU.
_STATUS_CJK = re.compile(_STATUS_WORDS, re.IGNORECASE)
_LATIN = re.compile("[a-z]", re.IGNORECASE)
_NOTICE_NUMBER = re.compile(r"[（(]\s*\d{4}\s*年第?\s*\d+\s*号\s*[)）]")
_DROP = re.compile(r"[\s\W_]+", re.UNICODE)


@lru_cache(maxsize=8192)  # pure; asked for each new record by the writer's index and its row
def stem(title: str) -> str:
    """A key equal for a draft and its final version, insensitive to width, case,
    punctuation and status words."""
    text = unicodedata.normalize("NFKC", title or "").strip()
    for wrapper in _WRAPPERS if "《" in text else ():  # each wrapper has a 《
        match = wrapper.search(text)
        if match:
            text = match.group("t")
            break
    text = _NOTICE_NUMBER.sub("", text)
    text = (_STATUS if _LATIN.search(text) else _STATUS_CJK).sub(" ", text)
    return _DROP.sub("", text).lower()
