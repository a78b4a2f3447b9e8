"""The cold run's shortcuts give what the plain code gives.

``fold_width`` skips ``str.translate`` when no character folds; ``parse_date``
keeps the dates of short cells in a cache: both must answer exactly as the
plain path does, whatever the text and in whatever order the calls come.
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from diffing.normalise import _FOLD, fold_width
from sources.text import dates
from sources.text.dates import parse_date

_FOLDING = "".join(chr(cp) for cp in sorted(_FOLD))
texts = st.text(alphabet=st.sampled_from(_FOLDING + "细胞治疗指导原则ab1 \n\r（）-"), max_size=40)


@given(texts)
def test_fold_width_is_the_plain_translate(text: str) -> None:
    assert fold_width(text) == text.replace("\r\n", "\n").translate(_FOLD)


def test_fold_width_leaves_a_title_without_foldable_characters_as_it_is() -> None:
    title = "国家药监局关于发布基因治疗产品第19号药品注册技术指导原则的通告"
    assert fold_width(title) is title
    assert fold_width(title + "\u3000（征求意见稿）") == title + " (征求意见稿)"


date_cells = st.one_of(
    st.builds(
        "{}{:04d}{}{:d}{}{:d}{}".format,
        st.sampled_from(["", "(", "（", "发布日期：", "令和"]),
        st.integers(1, 2100),
        st.sampled_from(["-", "/", ".", "年"]),
        st.integers(0, 13),
        st.sampled_from(["-", "/", ".", "月"]),
        st.integers(0, 32),
        st.sampled_from(["", ")", "日", "）"]),
    ),
    st.text(alphabet="0123456789/-.年月日令和平成元十二三 ", max_size=24),
)


@settings(max_examples=300)
@given(date_cells, st.booleans(), st.sampled_from([(), ("DD/MM/YYYY",), ("YYYY.MM.DD",)]))
def test_a_cached_date_is_the_date_worked_out_afresh(
    text: str, dayfirst: bool, formats: tuple[str, ...]
) -> None:
    fresh = dates._parse(text, formats, dayfirst) if text else None
    assert parse_date(text, list(formats), dayfirst=dayfirst) == fresh
    assert parse_date(text, list(formats), dayfirst=dayfirst) == fresh  # from the cache


def test_the_cache_keeps_the_order_and_the_formats_apart() -> None:
    assert parse_date("05/06/2026") == "2026-05-06"
    assert parse_date("05/06/2026", dayfirst=True) == "2026-06-05"
    assert parse_date("05/06/2026", ["DD/MM/YYYY"]) == "2026-06-05"
    assert parse_date("05/06/2026") == "2026-05-06"


def test_a_long_text_is_read_without_the_cache() -> None:
    text = "x" * 200 + " 2026-06-25"
    assert parse_date(text) == "2026-06-25"
    assert parse_date(text) == "2026-06-25"
