"""Find the end of a public-comment window in a notice's text.

``extract_deadline(text, published)`` is a pure function. It understands:

- **an explicit date tied to deadline words** — ``请于2026年12月31日前``,
  ``截止日期为2026年12月31日``, ``截至2026-12-31``, ``反馈截止时间：2026年12月31日``;
- **a month and day without a year** — ``（7月24日前）``, ``请于7月24日前反馈`` —
  whose year is the publication year, or the next one when the day would
  fall before publication (a notice of 2026-12-20 saying 1月10日前 means 2027);
- **a period counted from publication** — ``征求意见时限为自发布之日起1个月``,
  ``自发布之日起三十日内``, ``征求意见期为两个月``, ``为期15天``, in Arabic or
  Chinese numerals (一 … 十二, 两, 三十, 六十). Months are calendar months
  with the day clamped to the month's end (01-31 + 1 month = 02-28);
  ``日``/``天`` are calendar days; ``周``/``星期`` are weeks; ``工作日`` skips
  Saturdays and Sundays only (public holidays are not known: approximate);
- **English** — ``comments by December 31, 2026``, ``no later than 31 December
  2026``, ``comment period closes on 2026-12-31``, ``deadline: 2026-12-31``.

Full-width digits and brackets are normalised first. Chinese-numeral dates
(``二〇二六年十二月三十一日``) are read too. A plain date with no deadline word
nearby (the signature date at the end of a notice) is never taken.

Precedence: an explicit dated deadline, then a month-day deadline, then a
period; within a kind, the first in the text. The answer is None when the
text has none of these, or when only a relative form is found and
``published`` is unknown.
"""

from __future__ import annotations

import calendar
import re
import unicodedata
from datetime import date, timedelta

from sources.text.dates import parse_date

__all__ = ["add_months", "chinese_number", "extract_deadline"]

_DIGITS = {
    "〇": 0,
    "零": 0,
    "一": 1,
    "二": 2,
    "两": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
}
_CN_NUM = r"[〇零一二两三四五六七八九十]+"
_NUM = rf"(?:\d{{1,3}}|{_CN_NUM})"

# --- explicit dates -------------------------------------------------------
_YMD = r"(?P<y>\d{4})\s*年\s*(?P<m>\d{1,2})\s*月\s*(?P<d>\d{1,2})\s*[日号]"
_ISO = r"(?P<iy>\d{4})[-/.](?P<im>\d{1,2})[-/.](?P<id>\d{1,2})(?!\d)"
_FULL = rf"(?:{_YMD}|{_ISO})"
_BEFORE = r"(?:\s*(?:\d{1,2}[:：]\d{2}|\d{1,2}时|下班)?\s*(?:之前|以前|前(?!后)|止))"
_DEADLINE_WORDS = r"(?:截止|截至|截止日期|截止时间|反馈时间|期限|时限)"
_EXPLICIT = (
    re.compile(rf"{_DEADLINE_WORDS}[^。；;\n]{{0,12}}?{_FULL}"),
    re.compile(rf"{_FULL}{_BEFORE}"),
)
_MONTH_DAY = re.compile(rf"(?<![\d年])(?P<m>\d{{1,2}})\s*月\s*(?P<d>\d{{1,2}})\s*[日号]{_BEFORE}")
_CN_DATE = re.compile(
    r"(?P<y>[〇零一二三四五六七八九]{4})\s*年\s*(?P<m>[一二三四五六七八九十]{1,3})\s*月"
    r"\s*(?P<d>[一二三四五六七八九十]{1,3})\s*日"
)

# A candidate counts only inside a sentence about comments: this keeps out
# "截至2026年6月30日，共受理…" (as of), "2026年6月1日前已受理的申请" (a
# transition rule) and "自发布之日起6个月后施行" (entry into force).
_COMMENT_WORDS = re.compile(r"意见|反馈|建议|征求|comment|feedback|consultation", re.IGNORECASE)
_SENTENCE_END = re.compile(r"[。；;！!？?\n]")

# --- periods from publication ----------------------------------------------
_UNIT = r"(?P<unit>个自然月|个月|月|个工作日|工作日|日|天|周|个星期|星期)"
_PERIODS = (
    re.compile(rf"(?:发布|公布|印发|发文|公开|发出)之日起\s*(?:的)?\s*(?P<n>{_NUM})\s*{_UNIT}"),
    re.compile(
        rf"征求意见(?:的)?(?:时限|期限|时间|期)\s*(?:为|是|:)?\s*(?:自[^。；;\n]{{0,10}}?起)?"
        rf"\s*(?P<n>{_NUM})\s*{_UNIT}"
    ),
    re.compile(rf"为期\s*(?P<n>{_NUM})\s*{_UNIT}"),
)

# --- English -----------------------------------------------------------------
_EN_DATE = (
    r"(?:[A-Z][a-z]+\.?\s+\d{1,2}(?:st|nd|rd|th)?,?\s+\d{4}"
    r"|\d{1,2}(?:st|nd|rd|th)?\s+[A-Z][a-z]+\.?,?\s+\d{4}"
    r"|\d{4}-\d{1,2}-\d{1,2})"
)
_ENGLISH = re.compile(
    rf"(?:comments?|feedback|submissions?|deadline|consultation)[^.;\n]{{0,80}}?"
    rf"(?:by|before|until|no later than|closes? on|ends? on|deadline(?: is|:)?)\s*"
    rf"(?:the\s+)?(?P<date>{_EN_DATE})",
    re.IGNORECASE,
)


def chinese_number(token: str) -> int | None:
    """An integer for ``12``, ``十二``, ``两``, ``三十``, ``二十一``; None otherwise."""
    if token.isdigit():
        return int(token)
    if not token or any(ch not in _DIGITS and ch != "十" for ch in token):
        return None
    if "十" not in token:
        value = 0
        for ch in token:  # 二〇二六 read digit by digit
            value = value * 10 + _DIGITS[ch]
        return value
    tens, _, units = token.partition("十")
    if "十" in units:
        return None
    high = _DIGITS.get(tens, -1) if tens else 1
    low = _DIGITS.get(units, -1) if units else 0
    if high < 0 or low < 0:
        return None
    return high * 10 + low


def add_months(start: date, months: int) -> date:
    """``start`` moved by whole calendar months, the day clamped to the month's end."""
    index = start.month - 1 + months
    year, month = start.year + index // 12, index % 12 + 1
    day = min(start.day, calendar.monthrange(year, month)[1])
    return date(year, month, day)


def _add_working_days(start: date, days: int) -> date:
    current = start
    while days > 0:
        current += timedelta(days=1)
        if current.weekday() < 5:
            days -= 1
    return current


def _normalise(text: str) -> str:
    clean = unicodedata.normalize("NFKC", text)

    def arabic(match: re.Match[str]) -> str:
        parts = [chinese_number(match.group(g)) for g in ("y", "m", "d")]
        if any(p is None for p in parts):
            return match.group(0)
        return "{}年{}月{}日".format(*parts)

    return _CN_DATE.sub(arabic, clean)


def _about_comments(text: str, start: int) -> bool:
    """True when the sentence around ``start`` talks about comments."""
    begin = max((m.end() for m in _SENTENCE_END.finditer(text, 0, start)), default=0)
    stop = _SENTENCE_END.search(text, start)
    sentence = text[begin : stop.start() if stop else len(text)]
    return bool(_COMMENT_WORDS.search(sentence))


def _safe_date(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _explicit(text: str) -> list[tuple[int, date]]:
    found: list[tuple[int, date]] = []
    for pattern in _EXPLICIT:
        for match in pattern.finditer(text):
            if not _about_comments(text, match.start()):
                continue
            if match.group("y"):
                parts = match.group("y", "m", "d")
            else:
                parts = match.group("iy", "im", "id")
            value = _safe_date(*(int(p) for p in parts))
            if value:
                found.append((match.start(), value))
    return found


def _month_day(text: str, published: date | None) -> list[tuple[int, date]]:
    if published is None:
        return []
    found: list[tuple[int, date]] = []
    for match in _MONTH_DAY.finditer(text):
        if not _about_comments(text, match.start()):
            continue
        month, day = int(match.group("m")), int(match.group("d"))
        value = _safe_date(published.year, month, day)
        if value and value < published:
            value = _safe_date(published.year + 1, month, day)
        if value:
            found.append((match.start(), value))
    return found


def _period(text: str, published: date | None) -> list[tuple[int, date]]:
    if published is None:
        return []
    found: list[tuple[int, date]] = []
    for pattern in _PERIODS:
        for match in pattern.finditer(text):
            count = chinese_number(match.group("n"))
            if not _about_comments(text, match.start()) or not count or count > 366:
                continue
            unit = match.group("unit")
            if "月" in unit:
                value = add_months(published, count)
            elif "工作日" in unit:
                value = _add_working_days(published, count)
            elif unit in ("周", "个星期", "星期"):
                value = published + timedelta(weeks=count)
            else:
                value = published + timedelta(days=count)
            found.append((match.start(), value))
    return found


def _english(text: str) -> list[tuple[int, date]]:
    found: list[tuple[int, date]] = []
    for match in _ENGLISH.finditer(text):
        iso = parse_date(match.group("date"))
        if iso:
            found.append((match.start(), date.fromisoformat(iso)))
    return found


def extract_deadline(text: str, published: date | None) -> date | None:
    """The comment deadline stated in ``text``, or None (see the module docstring)."""
    if not text:
        return None
    clean = _normalise(text)
    for candidates in (
        _explicit(clean) + _english(clean),
        _month_day(clean, published),
        _period(clean, published),
    ):
        if candidates:
            return min(candidates, key=lambda item: item[0])[1]
    return None
