"""sources.text.dates.parse_date: the date formats regulators print, placeholders, order."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sources.text.dates import format_pattern, parse_date

MONTHS = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]

_FULL_WIDTH = str.maketrans("0123456789()", "０１２３４５６７８９（）")


def wareki(d: date) -> str:
    """The Japanese era date of ``d`` (元年 for year 1), as PMDA and MHLW write it."""
    for name, start in (
        ("令和", date(2019, 5, 1)),
        ("平成", date(1989, 1, 8)),
        ("昭和", date(1926, 12, 25)),
    ):
        if d >= start:
            n = d.year - start.year + 1
            return f"{name}{'元' if n == 1 else n}年{d.month}月{d.day}日"
    raise ValueError(d)


_KANJI = "〇一二三四五六七八九"


def kanji(n: int) -> str:
    """``n`` (1–99) in positional kanji numerals: 二十九, 十二, 十, 六."""
    tens, units = divmod(n, 10)
    head = "" if tens == 0 else ("十" if tens == 1 else _KANJI[tens] + "十")
    return head + (_KANJI[units] if units else "")


def wareki_kanji(d: date) -> str:
    """``wareki`` in kanji numerals: 令和六年三月二十九日, 令和元年五月一日."""
    era = wareki(d).split("年", 1)[0]
    name, n = era[:2], era[2:]
    return f"{name}{n if n == '元' else kanji(int(n))}年{kanji(d.month)}月{kanji(d.day)}日"


def wareki_short(d: date, sep: str) -> str:
    """The abbreviated era date: R6.3.29, H26/8/12."""
    letter, start = ("R", date(2019, 5, 1)) if d >= date(2019, 5, 1) else ("H", date(1989, 1, 8))
    return f"{letter}{d.year - start.year + 1}{sep}{d.month}{sep}{d.day}"


# Each writer renders a date the way one site does; parse_date must read it back.
WRITERS: dict[str, Callable[[date], str]] = {
    "iso": lambda d: d.isoformat(),
    "slashes": lambda d: f"{d.year}/{d.month:02d}/{d.day:02d}",
    "dots": lambda d: f"{d.year}.{d.month}.{d.day}",
    "compact (CDE)": lambda d: f"{d.year}{d.month:02d}{d.day:02d}",
    "parenthesised (NMPA)": lambda d: f"({d.isoformat()})",
    "chinese": lambda d: f"发布日期：{d.year}年{d.month}月{d.day}日",
    "us (FDA)": lambda d: f"{d.month:02d}/{d.day:02d}/{d.year}",
    "iso datetime Z (EMA)": lambda d: f"{d.isoformat()}T01:00:00Z",
    "iso datetime offset": lambda d: f"{d.isoformat()}T15:42:19-04:00",
    "rfc 822 (RSS)": lambda d: d.strftime("%a, %d %b %Y 08:30:00 +0000"),
    "english prose": lambda d: f"{MONTHS[d.month - 1]} {d.day}, {d.year}",
    "day month year": lambda d: f"{d.day} {MONTHS[d.month - 1]} {d.year}",
    "japanese era (PMDA)": wareki,
    "japanese western + era (PMDA)": lambda d: (
        f"について({d.year}年({wareki(d).split('年')[0]}年){d.month}月{d.day}日 "
        f"薬食発0812第30号)[112 KB]"
    ),
    "japanese era full-width": lambda d: wareki(d).translate(_FULL_WIDTH),
    "japanese western + era full-width": lambda d: (
        f"{d.year}年({wareki(d).split('年')[0]}年){d.month}月{d.day}日".translate(_FULL_WIDTH)
    ),
    "japanese era kanji numerals (MHLW)": wareki_kanji,
    "japanese western kanji digits": lambda d: (
        "".join(_KANJI[int(c)] for c in str(d.year)) + f"年{kanji(d.month)}月{kanji(d.day)}日"
    ),
    "japanese western kanji digits ○": lambda d: (
        "".join(_KANJI[int(c)] for c in str(d.year)).replace("〇", "○")
        + f"年{kanji(d.month)}月{kanji(d.day)}日付け"
    ),
    "full-width": lambda d: f"（{d.year}－{d.month:02d}－{d.day:02d}）".translate(
        str.maketrans("0123456789", "０１２３４５６７８９")
    ),
}

# 1970-01-01 (the Unix epoch) is read as a placeholder, like 01/01/1900.
dates = st.dates(min_value=date(1950, 1, 2), max_value=date(2099, 12, 31)).filter(
    lambda d: d != date(1970, 1, 1)
)


@pytest.mark.parametrize("writer", sorted(WRITERS))
@settings(max_examples=40, deadline=None)
@given(day=dates)
def test_reads_back_every_site_format(writer: str, day: date) -> None:
    assert parse_date(WRITERS[writer](day)) == day.isoformat()


@settings(max_examples=60, deadline=None)
@given(day=dates)
def test_day_first_when_told(day: date) -> None:
    text = f"{day.day:02d}/{day.month:02d}/{day.year}"
    assert parse_date(text, ["DD/MM/YYYY"]) == day.isoformat()
    assert parse_date(text, dayfirst=True) == day.isoformat()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("05/06/2026", "2026-05-06"),  # US order by default
        ("25/06/2026", "2026-06-25"),  # day > 12: no ambiguity
        ("6/2026", "2026-06-01"),  # CBER's M/YYYY: month precision
        ("Draft Guidance for Industry 11/2023", "2023-11-01"),
        ("June 2013", "2013-06-01"),
        ("2026年6月", "2026-06-01"),
        ("发布时间：2026 年 6 月 5 日", "2026-06-05"),
        ("Sept. 3, 2024", "2024-09-03"),
        ('<time datetime="2025-03-10T15:42:19-04:00">2025-03-10 15:42</time>', "2025-03-10"),
        ("updated 2026-07-01, first 2026-06-01", "2026-07-01"),  # the first date in the text
    ],
)
def test_specific_texts(text: str, expected: str) -> None:
    assert parse_date(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        None,
        "",
        "   ",
        "no date here",
        "01/01/1900",
        "1900-01-01",
        "0000-00-00",
        "1970-01-01T00:00:00Z",
        "2026-13-45",
        "02/30/2026",
        "FDA-2000-D-0075",
        "20260608103856150.html",  # an NMPA article stamp is not an 8-digit date
        "第87号",
        "v2.3.1",
    ],
)
def test_no_date(text: str | None) -> None:
    assert parse_date(text) is None


def test_placeholder_skipped_for_a_real_date() -> None:
    assert parse_date("01/01/1900 (reissued 03/11/2019)") == "2019-03-11"


def test_told_formats_win_and_strptime_formats_work() -> None:
    assert parse_date("5.6.2026", ["D.M.YYYY"]) == "2026-06-05"
    assert parse_date("Posted 2026-06-05", ["%Y-%m-%d"]) == "2026-06-05"  # falls back
    assert parse_date("2026-06-05", ["%Y-%m-%d"]) == "2026-06-05"
    assert parse_date("issued 5 Jun 2026", ["D MON YYYY"]) == "2026-06-05"


def test_format_needs_year_and_month() -> None:
    with pytest.raises(ValueError, match="YYYY"):
        format_pattern("DD/MM")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("令和元年5月1日", "2019-05-01"),
        ("令和元年4月30日", None),  # still 平成
        ("平成31年4月30日", "2019-04-30"),
        ("平成32年1月1日", None),  # 平成 ended in its 31st year
        ("昭和64年1月7日", "1989-01-07"),
        ("昭和64年1月8日", None),
        ("平成元年1月8日", "1989-01-08"),
        ("令和6年3月", "2024-03-01"),
        ("2014年（平成26年）8月12日", "2014-08-12"),
        ("【令和６年３月２９日】事務連絡", "2024-03-29"),
    ],
)
def test_japanese_era_bounds(text: str, expected: str | None) -> None:
    assert parse_date(text) == expected


@settings(max_examples=60, deadline=None)
@given(day=st.dates(min_value=date(1927, 1, 1), max_value=date(2099, 12, 31)))
def test_era_and_western_year_agree(day: date) -> None:
    era = wareki(day)
    # 1970-01-01 is read as a placeholder (no date) however it is written
    expected = None if day == date(1970, 1, 1) else day.isoformat()
    assert parse_date(era) == parse_date(f"{day.year}年{day.month}月{day.day}日") == expected


@pytest.mark.parametrize("sep", [".", "/", "-"])
@settings(max_examples=60, deadline=None)
@given(day=st.dates(min_value=date(1989, 1, 8), max_value=date(2099, 12, 31)))
def test_abbreviated_eras_read_back(sep: str, day: date) -> None:
    assert parse_date(f"更新日：{wareki_short(day, sep)}") == day.isoformat()
    assert parse_date(f"（{wareki_short(day, sep)}）".translate(_FULL_WIDTH)) == day.isoformat()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("令和六年三月二十九日", "2024-03-29"),
        ("令和元年五月一日", "2019-05-01"),
        ("平成二十六年八月十二日", "2014-08-12"),
        ("二〇二四年四月二十九日", "2024-04-29"),
        ("令和元年四月三十日", None),  # still 平成
        ("R6.3.29", "2024-03-29"),
        ("H26.8.12", "2014-08-12"),
        ("R6/3/29", "2024-03-29"),
        ("H31.4.30", "2019-04-30"),
        ("H31.5.1", None),  # 令和 by then
        ("R1.4.30", None),
        ("R6.3/29", None),  # mixed separators
        ("version R6.3.29.1", None),  # a longer dotted number
        ("XR6.3.29", None),  # inside a word
        ("ICH E6(R2) Step 4", None),
        ("S1.2.3 Carcinogenicity", None),  # 昭和 letters are not read
        ("第十三届 三十二月", None),  # kanji numbers that are no date
        ("发布于十年前", None),
    ],
)
def test_kanji_numerals_and_abbreviated_eras(text: str, expected: str | None) -> None:
    assert parse_date(text) == expected


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_never_raises_and_is_iso_or_none(text: str) -> None:
    found = parse_date(text)
    if found is not None:
        assert date.fromisoformat(found).year >= 1901
