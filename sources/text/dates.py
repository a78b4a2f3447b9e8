"""Turn the dates regulators print into ISO ``YYYY-MM-DD``.

``parse_date`` finds the first date in a piece of text, whatever the site's
habit: ``2026-06-25``, ``2026/06/25``, ``2026.06.25``, ``20260625``,
``(2026-06-25)``, ``2026年6月25日``, ``06/25/2026`` (US order unless told
otherwise), ``6/2026`` (month precision: the 1st of the month), ISO
datetimes (``2026-06-25T08:00:00Z``: the date as written, no time-zone
shift), RSS/RFC 822 dates (``Thu, 25 Jun 2026 08:00:00 +0000``) and English
prose (``June 25, 2026``, ``25 June 2026``, ``June 2013``).

Japanese dates (PMDA, MHLW): ``2014年8月12日``, the western year with the era
year beside it (``2014年(平成26年)8月12日``, full-width brackets too), and
era dates alone (``令和6年3月29日``, ``平成26年8月12日``, ``令和元年5月1日``:
元年 is year 1) for 明治, 大正, 昭和, 平成 and 令和. An era date outside its era
(``平成32年``, ``令和元年4月1日``) is impossible and comes back as None.
Full-width digits (``令和６年３月２９日``) are read like ASCII ones, and so are
kanji numerals before 年, 月 or 日: positional (``令和六年三月二十九日``,
``平成二十六年八月十二日``) or digit by digit (``二〇二四年四月二十九日``, with
〇 or ○). The abbreviated eras ``R`` (令和) and ``H`` (平成) are read with a
full year, month and day and one separator (``R6.3.29``, ``H26.8.12``,
``R6/3/29``, ``R6-3-29``), not inside a word or a longer dotted number, and
within the era's days; ``S``, ``T`` and ``M`` are not read (``S1.2.3`` is as
often a section or an ICH number as a 昭和 date).

Placeholders that sites put where they have no date (``01/01/1900``,
``0000-00-00``, the Unix epoch) come back as None, as do impossible dates.

Formats a user gives (``formats=["DD/MM/YYYY"]``) are tried first. They use
the tokens ``YYYY``, ``MM``/``M``, ``DD``/``D`` and ``MON`` (an English month
name); a format containing ``%`` is a ``strptime`` format matched against
the whole text. A told ``DD/MM/YYYY`` also settles the order of any other
ambiguous ``NN/NN/YYYY`` date in that call.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Sequence
from datetime import date, datetime
from functools import lru_cache

__all__ = ["format_pattern", "parse_date"]

_MONTHS = {
    "jan": 1,
    "feb": 2,
    "mar": 3,
    "apr": 4,
    "may": 5,
    "jun": 6,
    "jul": 7,
    "aug": 8,
    "sep": 9,
    "oct": 10,
    "nov": 11,
    "dec": 12,
}
_MONTH_NAME = (
    r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
    r"|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?"
)
_MIN_YEAR = 1901  # 01/01/1900 and older are placeholders, not publication dates
_MAX_YEAR = 2199
_PLACEHOLDERS = {"1970-01-01"}

# Each pattern yields named groups y, m (digits or month name) and optionally d.
_YMD = re.compile(r"(?<!\d)(?P<y>\d{4})(?P<sep>[-/.])(?P<m>\d{1,2})(?P=sep)(?P<d>\d{1,2})(?!\d)")
_CJK = re.compile(
    r"(?P<y>\d{4})\s*年\s*(?:[(\[【〔][^()\[\]【】〔〕]{0,12}[)\]】〕]\s*)?"
    r"(?P<m>\d{1,2})\s*月\s*(?:(?P<d>\d{1,2})\s*日)?"
)
# Japanese eras: name -> (first day, last day); the era year n is start.year + n - 1
_ERAS: dict[str, tuple[date, date]] = {
    "明治": (date(1868, 1, 25), date(1912, 7, 29)),
    "大正": (date(1912, 7, 30), date(1926, 12, 24)),
    "昭和": (date(1926, 12, 25), date(1989, 1, 7)),
    "平成": (date(1989, 1, 8), date(2019, 4, 30)),
    "令和": (date(2019, 5, 1), date(9999, 12, 31)),
}
_ERA = re.compile(
    r"(?P<era>明治|大正|昭和|平成|令和)\s*(?P<n>元|\d{1,2})\s*年\s*"
    r"(?P<m>\d{1,2})\s*月\s*(?:(?P<d>\d{1,2})\s*日)?"
)
_ERA_LETTERS = {"R": "令和", "H": "平成"}
_ERA_SHORT = re.compile(
    r"(?<![A-Za-z0-9.])(?P<era>[RH])(?P<n>\d{1,2})(?P<sep>[./-])(?P<m>\d{1,2})(?P=sep)(?P<d>\d{1,2})"
    r"(?![A-Za-z0-9]|[./-]\d)"
)
_KANJI_DIGITS = {
    "〇": 0, "○": 0, "零": 0, "一": 1, "二": 2, "三": 3, "四": 4,
    "五": 5, "六": 6, "七": 7, "八": 8, "九": 9,
}  # fmt: skip
_KANJI_NUMERALS = frozenset([*_KANJI_DIGITS, "十"])
_KANJI_NUMBER = re.compile(r"[〇○零一二三四五六七八九十]+(?=\s*[年月日])")
_COMPACT = re.compile(r"(?<!\d)(?P<y>(?:19|20|21)\d{2})(?P<m>[01]\d)(?P<d>[0-3]\d)(?!\d)")
_NUMERIC = re.compile(
    r"(?<![\d/.-])(?P<a>\d{1,2})(?P<sep>[/.-])(?P<b>\d{1,2})(?P=sep)(?P<y>\d{4})(?!\d)"
)
_DAY_MONTH = re.compile(
    rf"(?<![\w])(?P<d>\d{{1,2}})(?:st|nd|rd|th)?\s+(?P<m>{_MONTH_NAME}),?\s+(?P<y>\d{{4}})(?!\d)",
    re.IGNORECASE,
)
_MONTH_DAY = re.compile(
    rf"(?<![\w])(?P<m>{_MONTH_NAME})\s+(?P<d>\d{{1,2}})(?:st|nd|rd|th)?,?\s+(?P<y>\d{{4}})(?!\d)",
    re.IGNORECASE,
)
_MONTH_YEAR = re.compile(rf"(?<![\w])(?P<m>{_MONTH_NAME})\s+(?P<y>\d{{4}})(?!\d)", re.IGNORECASE)
_SLASH_MONTH_YEAR = re.compile(r"(?<![\d/.-])(?P<m>\d{1,2})/(?P<y>\d{4})(?![\d/])")


def parse_date(
    text: str | None, formats: Sequence[str] | None = None, *, dayfirst: bool = False
) -> str | None:
    """The first date found in ``text`` as ``YYYY-MM-DD``, or None.

    ``formats`` are tried before the built-in patterns (see the module
    docstring). ``dayfirst=True`` reads an ambiguous ``05/06/2026`` as 5 June
    (the default reads it the US way, 6 May).
    """
    if not text:
        return None
    if len(text) > _CACHED_LENGTH:
        return _parse(text, tuple(formats or ()), dayfirst)
    return _parse_short(text, tuple(formats or ()), dayfirst)


_CACHED_LENGTH = 80  # a list's date cells: short, and the same days recur down a list


def _parse(text: str, formats: tuple[str, ...], dayfirst: bool) -> str | None:
    clean = unicodedata.normalize("NFKC", text).strip()
    if not clean:
        return None
    if not _KANJI_NUMERALS.isdisjoint(clean):
        clean = _KANJI_NUMBER.sub(_kanji_value, clean)
    for fmt in formats:
        found = _parse_with_format(clean, fmt)
        if found:
            return found
        if fmt.upper().startswith("D"):
            dayfirst = True
    return _parse_builtin(clean, dayfirst)


_parse_short = lru_cache(maxsize=4096)(_parse)  # pure: text, formats, order in; a date out


def _kanji_value(match: re.Match[str]) -> str:
    """``二十九`` → ``29``, ``十`` → ``10``, ``二〇二四`` → ``2024`` (digit by digit
    without 十); a run that is not a number is left as it was."""
    run = match.group(0)
    if "十" not in run:
        return "".join(str(_KANJI_DIGITS[ch]) for ch in run)
    tens, _, units = run.partition("十")
    if len(tens) > 1 or len(units) > 1 or "十" in units:
        return run
    value = (_KANJI_DIGITS.get(tens, -99) if tens else 1) * 10
    value += _KANJI_DIGITS.get(units, -99) if units else 0
    return str(value) if value >= 0 else run


def format_pattern(fmt: str) -> re.Pattern[str]:
    """A search pattern for a token format such as ``DD/MM/YYYY`` or ``MON D, YYYY``."""
    tokens = [
        ("YYYY", r"(?P<y>\d{4})"),
        ("MON", rf"(?P<m>{_MONTH_NAME})"),
        ("MM", r"(?P<m>\d{1,2})"),
        ("DD", r"(?P<d>\d{1,2})"),
        ("M", r"(?P<m>\d{1,2})"),
        ("D", r"(?P<d>\d{1,2})"),
    ]
    out: list[str] = []
    i = 0
    while i < len(fmt):
        for token, regex in tokens:
            if fmt.startswith(token, i):
                out.append(regex)
                i += len(token)
                break
        else:
            out.append(r"\s+" if fmt[i].isspace() else re.escape(fmt[i]))
            i += 1
    body = "".join(out)
    if "(?P<y>" not in body or "(?P<m>" not in body:
        raise ValueError(f"date format {fmt!r} needs at least YYYY and a month (MM, M or MON)")
    return re.compile(rf"(?<!\d){body}(?!\d)", re.IGNORECASE)


def _parse_with_format(text: str, fmt: str) -> str | None:
    if "%" in fmt:
        try:
            return _checked(datetime.strptime(text, fmt).date())
        except ValueError:
            return None
    for match in format_pattern(fmt).finditer(text):
        found = _from_groups(match.group("y"), match.group("m"), match.groupdict().get("d"))
        if found:
            return found
    return None


def _parse_builtin(text: str, dayfirst: bool) -> str | None:
    candidates: list[tuple[int, int, str]] = []
    for rank, (pattern, convert) in enumerate(_BUILTIN[dayfirst]):
        for match in pattern.finditer(text):
            found = convert(match)
            if found:
                candidates.append((match.start(), rank, found))
                break
    return min(candidates)[2] if candidates else None


def _builtin_patterns(
    dayfirst: bool,
) -> list[tuple[re.Pattern[str], Callable[[re.Match[str]], str | None]]]:
    def ymd(m: re.Match[str]) -> str | None:
        return _from_groups(m.group("y"), m.group("m"), m.groupdict().get("d"))

    def numeric(m: re.Match[str]) -> str | None:
        a, b = int(m.group("a")), int(m.group("b"))
        if a > 12 >= b:
            day, month = a, b
        elif b > 12 >= a:
            day, month = b, a
        elif dayfirst:
            day, month = a, b
        else:
            day, month = b, a
        return _from_groups(m.group("y"), str(month), str(day))

    def era(m: re.Match[str]) -> str | None:
        first, last = _ERAS[_ERA_LETTERS.get(m.group("era"), m.group("era"))]
        n = 1 if m.group("n") == "元" else int(m.group("n"))
        found = _from_groups(str(first.year + n - 1), m.group("m"), m.groupdict().get("d"))
        if found is None or not first.isoformat()[:7] <= found[:7] <= last.isoformat():
            return None
        if m.group("d") and not first.isoformat() <= found <= last.isoformat():
            return None
        return found

    return [
        (_YMD, ymd),
        (_CJK, ymd),
        (_ERA, era),
        (_ERA_SHORT, era),
        (_NUMERIC, numeric),
        (_DAY_MONTH, ymd),
        (_MONTH_DAY, ymd),
        (_COMPACT, ymd),
        (_MONTH_YEAR, ymd),
        (_SLASH_MONTH_YEAR, ymd),
    ]


_BUILTIN = {dayfirst: _builtin_patterns(dayfirst) for dayfirst in (False, True)}


def _from_groups(year: str, month: str, day: str | None) -> str | None:
    month_no = int(month) if month.isdigit() else _MONTHS.get(month.lower()[:3], 0)
    try:
        return _checked(date(int(year), month_no, int(day) if day else 1))
    except ValueError:
        return None


def _checked(value: date) -> str | None:
    iso = value.isoformat()
    if not _MIN_YEAR <= value.year <= _MAX_YEAR or iso in _PLACEHOLDERS:
        return None
    return iso
