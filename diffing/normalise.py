"""Noise normalisation: make two snapshots comparable before they are diffed.

Regulator pages change in ways nobody cares about: a visitor counter ticks, a
"Content current as of" footer moves, a session id is appended to every link,
a full-width bracket becomes a half-width one, a PDF extractor inserts a
different number of spaces. ``normalise_text`` and ``normalise_record`` remove
all of that, so that what is left to compare is what the regulator changed.

What normalisation does, in order:

1. **Width folding** (NFKC-like, but only for characters that are noise):
   full-width ASCII letters, digits and punctuation become ASCII
   (``（２０２６）`` → ``(2026)``, ``，`` → ``,``); U+3000, no-break and other
   Unicode spaces become a space; zero-width characters and soft hyphens go;
   ``\\r\\n``, ``\\r``, form feeds and Unicode line separators become ``\\n``.
2. **Noise removal**: every regex of ``DEFAULT_NOISE`` and of the user's
   ``ignore`` list is deleted. Patterns are matched against the folded text,
   so write ASCII ``:`` and ``()`` in them, not full-width.
3. **Whitespace**: runs of spaces collapse to one, lines are stripped, empty
   lines dropped (one paragraph per line), and spaces next to a CJK character
   are removed (``CAR-T 细胞`` and ``CAR-T细胞`` compare equal; PDF extractors
   scatter such spaces at random).

The result is idempotent: ``normalise_text(normalise_text(t)) ==
normalise_text(t)``.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Collection, Sequence
from dataclasses import replace
from functools import lru_cache
from typing import Any
from urllib.parse import unquote, urlsplit, urlunsplit

from diffing.errors import InvalidPattern
from sources.types import Attachment, Record

# CJK ideographs, kana, hangul, CJK symbols and punctuation, CJK compatibility
# forms. Shared with ``diffing.text`` (one token per character).
CJK_CHARS = (
    "\u2e80-\u2fdf\u3001-\u303f\u3040-\u30ff\u3100-\u312f\u3190-\u31ff"
    "\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff\ufe30-\ufe4f"
    "\U00020000-\U0003134f"
)

_DATE = (
    r"(?:\d{4}\s*[-/.年]\s*\d{1,2}\s*[-/.月]\s*\d{1,2}\s*日?"
    r"|\d{1,2}[-/.]\d{1,2}[-/.]\d{2,4}"
    r"|[A-Za-z]{3,9}\.?\s+\d{1,2}(?:st|nd|rd|th)?,?\s+\d{4}"
    r"|\d{1,2}\s+[A-Za-z]{3,9}\.?,?\s+\d{4})"
    r"(?:[\sT]*\d{1,2}:\d{2}(?::\d{2})?(?:\s*[AaPp]\.?[Mm]\.?)?)?"
)
_VALUE = r"[^&#\s\"'<>]*"
_SESSION_NAMES = r"(?:sid|sessionid|session_id|phpsessid|aspsessionid\w*|cfid|cftoken|MmEwMD)"
_BUST_NAMES = r"(?:t|_|ts|timestamp|time|nocache|cb|v|r|rnd|rand|random)"
_BUST_VALUE = r"(?:\d{10,13}|0?\.\d{6,})(?![\w.])"

# Each rule: the lower-case words the text must contain for the pattern to
# possibly match (a cheap pre-check: most strings contain none), and the
# pattern. A pattern must not match text that holds none of its words.
_NOISE_RULES: tuple[tuple[tuple[str, ...], str], ...] = (
    # visitor counters: 访问次数：123 / [浏览次数: 45次] / 阅读量 1,234 / 您是第123位访问者
    (
        ("访问", "浏览", "点击", "阅读"),
        r"(?i:[\[(【]?\s*(?:访问|浏览|点击|阅读)(?:次数|量|数)\s*:?\s*\d[\d,]*\s*次?\s*[\])】]?)",
    ),
    (
        ("访问", "浏览", "点击", "阅读"),
        r"(?i:[\[(【]?\s*(?:访问|浏览|点击|阅读)\s*:\s*\d[\d,]*\s*次?\s*[\])】]?)",
    ),
    (("您是",), r"(?i:您是(?:本站)?第\s*\d[\d,]*\s*位访(?:问者|客))"),
    (("page",), r"(?i:\bpage\s*views?\b\s*:?\s*\d[\d,]*)"),
    (("view", "visit", "hits"), r"(?i:\b(?:views|visits|hits|visitors)\s*:\s*\d[\d,]*)"),
    # "last updated" footers, with the date (and time) they carry
    (
        ("last", "current", "updated", "更新", "修改"),
        (
            r"(?i:(?:\b(?:page\s+)?last\s+(?:updated|modified|reviewed|revised)(?:\s+on)?"
            r"|\bcontent\s+current\s+as\s+of|\bupdated\s+on"
            r"|最后更新(?:时间|日期)?|最近更新(?:时间|日期)?|更新(?:时间|日期)|修改(?:时间|日期))"
            rf"\s*:?\s*{_DATE})"
        ),
    ),
    # session tokens in links: ;jsessionid=…, ?sid=…, &MmEwMD=… (Ruishu)
    (("jsessionid",), r"(?i:;jsessionid=[^?#&\s\"'<>/]*)"),
    (
        ("sid=", "session", "cfid=", "cftoken=", "mmewmd="),
        rf"(?i:(?<=\?){_SESSION_NAMES}={_VALUE}&?|&{_SESSION_NAMES}={_VALUE})",
    ),
    # cache-busting timestamps in query strings: ?t=1712345678, &_=1712345678901
    (("=",), rf"(?i:(?<=\?){_BUST_NAMES}={_BUST_VALUE}&?|&{_BUST_NAMES}={_BUST_VALUE})"),
)

DEFAULT_NOISE: tuple[str, ...] = tuple(pattern for _, pattern in _NOISE_RULES)
"""The built-in noise regexes: visitor counters, "last updated" footers,
session tokens and cache-busting timestamps in links."""

_DEFAULT_RULES = tuple((words, re.compile(pattern)) for words, pattern in _NOISE_RULES)
_ANY_WORD = re.compile("|".join(re.escape(word) for words, _ in _NOISE_RULES for word in words))

_SESSION_PARAM = re.compile(rf"(?i){_SESSION_NAMES}")
_BUST_PARAM = re.compile(rf"(?i){_BUST_NAMES}")
_BUST_VALUE_RE = re.compile(_BUST_VALUE)
_JSESSIONID = re.compile(r"(?i);jsessionid=[^/?#]*")


def _fold_table() -> dict[int, str]:
    table: dict[int, str] = {cp: chr(cp - 0xFEE0) for cp in range(0xFF01, 0xFF5F)}
    table.update({0xFFE0 + i: ch for i, ch in enumerate("¢£¬¯¦¥₩")})
    table.update({0xFF61: "。", 0xFF62: "「", 0xFF63: "」", 0xFF64: "、"})
    for cp in (0x3000, 0x00A0, 0x1680, 0x202F, 0x205F, 0x0009, *range(0x2000, 0x200B)):
        table[cp] = " "
    for cp in (0x200B, 0x200C, 0x200D, 0x2060, 0xFEFF, 0x00AD):
        table[cp] = ""
    for cp in (0x000B, 0x000C, 0x0085, 0x2028, 0x2029, 0x000D):
        table[cp] = "\n"
    return table


_FOLD = _fold_table()
_ASCII_FOLD = tuple((chr(cp), value) for cp, value in _FOLD.items() if cp < 0x80)
# any character ``_FOLD`` changes: most titles have none, and one C-level search
# is some 20x cheaper than ``str.translate`` with a dict over every character
_FOLDABLE = re.compile("[" + "".join(re.escape(chr(cp)) for cp in sorted(_FOLD)) + "]")
_SPACES = re.compile(r"[^\S\n]+")
_CJK_SPACE = re.compile(rf"(?<=[{CJK_CHARS}]) | (?=[{CJK_CHARS}])")
_MAX_ROUNDS = 5


def fold_width(text: str) -> str:
    """Fold full-width ASCII and punctuation to ASCII and Unicode spaces to
    a plain space; drop zero-width characters; unify line breaks to ``\\n``."""
    text = text.replace("\r\n", "\n")
    if text.isascii():  # the common case for English pages: a few C-level replaces
        for char, replacement in _ASCII_FOLD:
            if char in text:
                text = text.replace(char, replacement)
        return text
    if _FOLDABLE.search(text) is None:
        return text
    return text.translate(_FOLD)


@lru_cache(maxsize=256)
def compile_ignore(ignore: tuple[str, ...]) -> tuple[re.Pattern[str], ...]:
    """Compile the user's noise regexes, raising ``InvalidPattern`` for a bad one."""
    compiled = []
    for pattern in ignore:
        try:
            compiled.append(re.compile(pattern))
        except re.error as exc:
            raise InvalidPattern(pattern, str(exc)) from None
    return tuple(compiled)


def _collapse(text: str) -> str:
    lines = []
    for line in text.split("\n"):
        line = _SPACES.sub(" ", line).strip()
        if " " in line:
            line = _CJK_SPACE.sub("", line)
        if line:
            lines.append(line)
    return "\n".join(lines)


def _strip_noise(text: str, patterns: tuple[re.Pattern[str], ...]) -> str:
    lowered = text.lower()
    if _ANY_WORD.search(lowered):
        for words, rule in _DEFAULT_RULES:
            if any(word in lowered for word in words):
                text = rule.sub("", text)
    for pattern in patterns:
        text = pattern.sub("", text)
    return text


def normalise_text(text: str, ignore: Sequence[str] = ()) -> str:
    """The comparable form of a page or document text (see the module doc).

    ``ignore`` holds extra regexes to delete (a source's ``ignore`` setting);
    a pattern that does not compile raises ``InvalidPattern``.
    """
    patterns = compile_ignore(tuple(ignore))
    text = fold_width(text)
    for _ in range(_MAX_ROUNDS):
        # Removing one piece of noise can join text into another (or a
        # collapsed space can complete one): repeat until nothing moves.
        cleaned = _collapse(_strip_noise(text, patterns))
        if cleaned == text:
            break
        text = cleaned
        if not patterns and not _ANY_WORD.search(text.lower()):
            break  # no built-in rule can match any more: a fixed point
    return text


@lru_cache(maxsize=8192)  # pure; a title is asked by the listing digest and the row
def _one_line(text: str, patterns: tuple[str, ...]) -> str:
    text = normalise_text(text, patterns)
    if "\n" in text:  # a title broken over lines: "细胞\n治疗" is "细胞治疗"
        text = _CJK_SPACE.sub("", text.replace("\n", " "))
    return text


@lru_cache(maxsize=8192)  # pure; asked for each record by the listing digest and the row
def clean_url(url: str) -> str:
    """A URL without session tokens and cache-busting timestamps.

    Drops ``;jsessionid=…`` from the path and query parameters named like a
    session (``sid``, ``PHPSESSID``, ``MmEwMD``…) or a cache buster (``t``,
    ``_``, ``ts``…) whose value looks like an epoch timestamp. The order of
    the other parameters is kept.
    """
    url = url.strip()
    if not url:
        return url
    parts = urlsplit(url)
    path = _JSESSIONID.sub("", parts.path)
    query = "&".join(part for part in parts.query.split("&") if part and not _noise_param(part))
    return urlunsplit((parts.scheme, parts.netloc, path, query, parts.fragment))


def _noise_param(part: str) -> bool:
    name, _, value = part.partition("=")
    name = unquote(name)
    if _SESSION_PARAM.fullmatch(name):
        return True
    return bool(_BUST_PARAM.fullmatch(name) and _BUST_VALUE_RE.fullmatch(unquote(value)))


def normalise_attachment(attachment: Attachment, ignore: Sequence[str] = ()) -> Attachment:
    """The comparable form of an attachment: clean URL, normalised name."""
    return Attachment(url=clean_url(attachment.url), name=_one_line(attachment.name, tuple(ignore)))


def normalise_record(record: Record, ignore: Sequence[str] = ()) -> Record:
    """The comparable form of a record.

    Title, status, date, attachment names and field values are width-folded,
    stripped of noise and whitespace-collapsed (the title onto one line);
    URLs lose session tokens (``clean_url``). Empty status/date become None,
    empty fields are dropped, and attachments are de-duplicated and sorted so
    that two records listing the same files in another order compare equal.
    The key is kept as it is.
    """
    title, url, date, status, attachments, fields = _normal_parts(record, tuple(ignore))
    return replace(
        record,
        title=title,
        url=url,
        date=date,
        status=status,
        attachments=attachments,
        fields=fields,
    )


def _normal_parts(
    record: Record, patterns: tuple[str, ...]
) -> tuple[str, str, str | None, str | None, tuple[Attachment, ...], dict[str, str]]:
    """The normalised title, url, date, status, attachments and fields of
    ``record`` (``normalise_record``'s, without making the record)."""
    attachments = {normalise_attachment(a, patterns) for a in record.attachments}
    fields = {}
    for name, value in record.fields.items():
        clean = normalise_text(str(value), patterns)
        if clean:
            fields[name.strip()] = clean
    return (
        _one_line(record.title, patterns),
        clean_url(record.url),
        (record.date or "").strip() or None,
        _one_line(record.status or "", patterns) or None,
        tuple(sorted(attachments, key=lambda a: (a.url, a.name))),
        dict(sorted(fields.items())),
    )


def comparable(record: Record, ignore_fields: Collection[str] = ()) -> dict[str, object]:
    """A normalised record as plain data, without its key and ignored fields.

    ``ignore_fields`` names top-level fields (``"date"``) or entries of
    ``fields`` (``"updated"`` or ``"fields.updated"``).
    """
    data = record.as_dict()
    del data["key"]
    return _without(data, ignore_fields)


def _without(data: dict[str, Any], ignore_fields: Collection[str]) -> dict[str, Any]:
    for name in ignore_fields:
        data.pop(name, None)
        data["fields"].pop(name.removeprefix("fields."), None)
    return data


# ``json.dumps`` with these options makes an encoder per call
_ENCODER = json.JSONEncoder(ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def fingerprint(
    record: Record, *, ignore: Sequence[str] = (), ignore_fields: Collection[str] = ("updated",)
) -> str:
    """SHA-256 (hex) of the record's comparable content.

    Two records that ``diffing.records.diff`` would call unchanged have the
    same fingerprint: noise, whitespace, attachment and field order do not
    count, nor do ``ignore_fields`` (by default the site's own ``updated``
    stamp), nor the key itself.
    """
    # comparable(normalise_record(record, ignore), ignore_fields), without making
    # the normalised record (a fifth of the time)
    title, url, date, status, attachments, fields = _normal_parts(record, tuple(ignore))
    data = {
        "title": title,
        "url": url,
        "date": date,
        "status": status,
        "attachments": [{"url": a.url, "name": a.name} for a in attachments],
        "fields": fields,
    }
    blob = _ENCODER.encode(_without(data, ignore_fields))
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()
