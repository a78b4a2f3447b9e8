"""Comment deadlines in Chinese and English notice text (sources.text.deadlines)."""

from __future__ import annotations

import calendar
from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sources.text.deadlines import add_months, chinese_number, extract_deadline

PUBLISHED = date(2026, 6, 24)

CN_NUMERALS = ["一", "二", "三", "四", "五", "六", "七", "八", "九", "十", "十一", "十二"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # periods counted from publication (2026-06-24)
        ("征求意见时限为自发布之日起1个月。", date(2026, 7, 24)),
        ("征求意见时限为自发布之日起一个月。", date(2026, 7, 24)),
        ("征求意见期为两个月，请各有关单位积极反馈。", date(2026, 8, 24)),
        ("征求意见时限为自发布之日起三十日。", date(2026, 7, 24)),
        ("请自发布之日起30天内反馈意见。", date(2026, 7, 24)),
        ("征求意见时间为十五日", date(2026, 7, 9)),
        ("征求意见时限为自发布之日起2周。", date(2026, 7, 8)),
        ("征求意见时限为自发布之日起十二个月。", date(2027, 6, 24)),
        # 2026-06-24 is a Wednesday: 10 working days later is Wednesday 2026-07-08
        ("征求意见时限为自发布之日起10个工作日。", date(2026, 7, 8)),
        ("公开征求意见，为期20天。", date(2026, 7, 14)),
        # explicit dates
        ("请于2026年12月31日前将意见反馈至联系人邮箱。", date(2026, 12, 31)),
        ("反馈意见截止日期为2026年12月31日。", date(2026, 12, 31)),
        ("征求意见截止时间：2026-12-31", date(2026, 12, 31)),
        ("意见反馈截至2026年9月1日。", date(2026, 9, 1)),
        ("请于 2026 年 8 月 3 日 17:00 前提交书面意见", date(2026, 8, 3)),
        ("征求意见至2026年8月31日止。", date(2026, 8, 31)),
        ("请于二〇二六年十二月三十一日前反馈意见", date(2026, 12, 31)),
        ("请于２０２６年１２月３１日前反馈意见", date(2026, 12, 31)),
        # month and day only: the year comes from the publication date
        ("请将修改意见于（7月24日前）反馈我中心。", date(2026, 7, 24)),
        ("请于8月10日前反馈意见。", date(2026, 8, 10)),
        ("请于1月10日前反馈意见。", date(2027, 1, 10)),
        # English
        ("Please submit comments by December 31, 2026.", date(2026, 12, 31)),
        ("Comments should reach us no later than 31 December 2026.", date(2026, 12, 31)),
        ("The consultation closes on 2026-09-30.", date(2026, 9, 30)),
        ("Submit comments before Dec. 1, 2026 to the docket.", date(2026, 12, 1)),
        # an explicit date wins over a period, wherever it stands
        ("征求意见时限为自发布之日起1个月，请于2026年7月20日前反馈意见。", date(2026, 7, 20)),
    ],
)
def test_finds_the_deadline(text: str, expected: date) -> None:
    assert extract_deadline(text, PUBLISHED) == expected


@pytest.mark.parametrize(
    "text",
    [
        "",
        "国家药品监督管理局药品审评中心\n2026年6月24日",  # the signature date
        "截至2026年6月30日，共受理注册申请100件。",  # "as of", not a deadline
        "2026年6月1日前已受理的注册申请，按原要求审评。",  # a transition rule
        "本指导原则自发布之日起6个月后施行。",  # entry into force
        "日前，国家药监局发布了新的指导原则。",  # 日前 = "recently"
        "会议于7月24日前后召开。",  # 前后 = "around"
        "Guidance issued on December 31, 2026.",
        "征求意见时限为自发布之日起零个月。",
    ],
)
def test_ignores_dates_that_are_not_deadlines(text: str) -> None:
    assert extract_deadline(text, PUBLISHED) is None


def test_relative_forms_need_the_publication_date() -> None:
    assert extract_deadline("征求意见时限为自发布之日起1个月。", None) is None
    assert extract_deadline("请于7月24日前反馈意见。", None) is None
    assert extract_deadline("请于2026年7月24日前反馈意见。", None) == date(2026, 7, 24)


@pytest.mark.parametrize(
    ("start", "months", "expected"),
    [
        (date(2026, 1, 31), 1, date(2026, 2, 28)),
        (date(2024, 1, 31), 1, date(2024, 2, 29)),
        (date(2026, 12, 15), 1, date(2027, 1, 15)),
        (date(2026, 3, 31), 12, date(2027, 3, 31)),
        (date(2026, 8, 31), 1, date(2026, 9, 30)),
    ],
)
def test_calendar_months_clamp_the_day(start: date, months: int, expected: date) -> None:
    assert add_months(start, months) == expected


@pytest.mark.parametrize(
    ("token", "value"),
    [
        ("1", 1),
        ("十", 10),
        ("十二", 12),
        ("二十一", 21),
        ("三十", 30),
        ("两", 2),
        ("六十", 60),
        ("二〇二六", 2026),
        ("", None),
        ("百", None),
        ("十十", None),
    ],
)
def test_chinese_numbers(token: str, value: int | None) -> None:
    assert chinese_number(token) == value


dates = st.dates(min_value=date(2000, 1, 1), max_value=date(2090, 12, 31))


@given(published=dates, months=st.integers(min_value=1, max_value=12), chinese=st.booleans())
def test_month_periods_in_any_numerals(published: date, months: int, chinese: bool) -> None:
    count = CN_NUMERALS[months - 1] if chinese else str(months)
    found = extract_deadline(f"征求意见时限为自发布之日起{count}个月。", published)
    assert found is not None
    assert (found.year * 12 + found.month) - (published.year * 12 + published.month) == months
    last_day = calendar.monthrange(found.year, found.month)[1]
    assert found.day == min(published.day, last_day)


@given(published=dates, days=st.integers(min_value=1, max_value=300))
def test_day_periods(published: date, days: int) -> None:
    found = extract_deadline(f"自发布之日起{days}日内反馈意见。", published)
    assert found == published + timedelta(days=days)


@given(published=dates, ahead=st.integers(min_value=0, max_value=364))
def test_month_day_deadlines_fall_within_a_year(published: date, ahead: int) -> None:
    deadline = published + timedelta(days=ahead)
    text = f"请将意见于（{deadline.month}月{deadline.day}日前）反馈。"
    if (deadline.month, deadline.day) == (2, 29):
        return  # the year rule cannot recover a leap day from month and day alone
    assert extract_deadline(text, published) == deadline


@given(day=dates)
def test_explicit_dates_round_trip(day: date) -> None:
    text = f"请于{day.year}年{day.month}月{day.day}日前将意见反馈至邮箱。"
    assert extract_deadline(text, None) == day
    assert extract_deadline(f"Comments by {day:%B} {day.day}, {day.year}.", None) == day


@given(text=st.text(max_size=200), published=st.none() | dates)
def test_never_raises(text: str, published: date | None) -> None:
    found = extract_deadline(text, published)
    assert found is None or isinstance(found, date)
