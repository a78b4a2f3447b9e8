"""Text diff, tokenizer and noise normalisation."""

from __future__ import annotations

import random
import re
from html import escape
from itertools import pairwise

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from diffing.errors import InvalidPattern
from diffing.normalise import DEFAULT_NOISE, normalise_text
from diffing.text import TextDiff, diff, tokenize

DRAFT_NOTICE = (
    "关于公开征求《人源干细胞产品药学研究与评价技术指导原则（征求意见稿）》意见的通知\n"
    "为规范和指导人源干细胞产品的药学研究，我中心组织起草了本指导原则。\n"
    "征求意见时限为自发布之日起1个月。\n"
    "附件：1.征求意见稿 2.起草说明 3.征求意见反馈表"
)


def old_text(result: TextDiff) -> str:
    return "".join(op.text for op in result.ops if op.tag in ("equal", "delete"))


def new_text(result: TextDiff) -> str:
    return "".join(op.text for op in result.ops if op.tag in ("equal", "insert"))


def changes(result: TextDiff) -> list[tuple[str, str]]:
    return [(op.tag, op.text) for op in result.ops if op.tag != "equal"]


# -- tokenizer ------------------------------------------------------------------


def test_tokenize_cjk_per_character_latin_per_word() -> None:
    assert tokenize("CAR-T细胞 治疗, 30 days") == [
        "CAR", "-", "T", "细", "胞", " ", "治", "疗", ",", " ", "30", " ", "days",
    ]  # fmt: skip
    assert tokenize("第1条\n") == ["第", "1", "条", "\n"]


# -- Chinese and Latin granularity ----------------------------------------------


def test_chinese_diff_marks_exactly_the_changed_character() -> None:
    new = DRAFT_NOTICE.replace("起1个月", "起2个月")
    result = diff(DRAFT_NOTICE, new)
    assert changes(result) == [("delete", "1"), ("insert", "2")]
    assert "征求意见时限为自发布之日起[-1-]{+2+}个月。" in result.unified().splitlines()
    assert "自发布之日起[-1-]{+2+}个月" in result.excerpt()


def test_latin_diff_works_on_whole_words() -> None:
    old = "Comments on this draft guidance should be submitted within 30 days."
    new = "Comments on this final guidance must be submitted within 60 days."
    result = diff(old, new)
    line = result.unified()
    assert "[-draft-]{+final+}" in line
    assert "[-should-]{+must+}" in line
    assert "[-30-]{+60+}" in line
    for _, text in changes(result):  # never a piece of a word
        assert re.fullmatch(r"\w+", text), text


def test_small_common_runs_inside_a_rewrite_are_folded_into_it() -> None:
    result = diff("The quick brown fox jumps.", "The slow red fox jumps.")
    assert changes(result) == [("delete", "quick brown"), ("insert", "slow red")]


def test_unchanged_text() -> None:
    result = diff(DRAFT_NOTICE, DRAFT_NOTICE)
    assert not result.changed
    assert result.unified() == "" and result.excerpt() == ""
    assert result.ops == [] or all(op.tag == "equal" for op in result.ops)


# -- unified --------------------------------------------------------------------


def test_unified_hunks_keep_context_and_line_numbers() -> None:
    lines = [f"第{i}段，内容不变。" for i in range(1, 21)]
    new_lines = lines[:]
    new_lines[9] = "第10段，内容已修订。"
    new_lines.insert(15, "新增一段。")
    out = diff("\n".join(lines), "\n".join(new_lines)).unified(context=1).splitlines()
    assert out == [
        "@@ -9,3 +9,3 @@",
        lines[8],
        "第10段，内容[-不变-]{+已修订+}。",
        lines[10],
        "@@ -15,2 +15,3 @@",
        lines[14],
        "{+新增一段。+}",
        lines[15],
    ]


def test_removed_and_added_lines() -> None:
    old = "一\n二\n三"
    result = diff(old, "一\n三\n四")
    assert result.unified().splitlines() == ["@@ -1,3 +1,3 @@", "一", "[-二-]", "三", "{+四+}"]


# -- html -----------------------------------------------------------------------


def test_html_escapes_and_marks_changes() -> None:
    old = "Guidance for <b>industry</b>\nsecond line"
    new = "Guidance for <script>alert('x')</script>\nsecond line & more"
    html = diff(old, new).html()
    assert html.startswith('<div class="regwatch-diff">\n') and html.endswith("\n</div>")
    body = html.removeprefix('<div class="regwatch-diff">\n').removesuffix("\n</div>")
    assert "<script>" not in body and "<b>" not in body
    assert "second line<ins> &amp; more</ins>" in body
    # Each side, read back from the markup, is the escaped text, line for line.
    old_view = re.sub(r"<ins>.*?</ins>|</?del>", "", body)
    new_view = re.sub(r"<del>.*?</del>|</?ins>", "", body)
    assert old_view == "<br>\n".join(escape(line, quote=False) for line in old.split("\n"))
    assert new_view == "<br>\n".join(escape(line, quote=False) for line in new.split("\n"))


def test_html_with_context_shows_only_changed_passages() -> None:
    lines = [f"line {i}" for i in range(40)]
    new = lines[:]
    new[5], new[30] = "line five", "line thirty"
    html = diff("\n".join(lines), "\n".join(new)).html(context=0)
    assert "line 20" not in html
    assert html.count('class="regwatch-gap"') == 1
    assert "<del>5</del><ins>five</ins>" in html


# -- excerpt --------------------------------------------------------------------


def _long_document(rng: random.Random, paragraphs: int) -> str:
    chars = "".join(chr(c) for c in range(0x4E00, 0x4E00 + 500)) + "的的了在是"
    return "\n".join(
        "".join(rng.choice(chars) for _ in range(rng.randint(40, 160))) + "。"
        for _ in range(paragraphs)
    )


@pytest.mark.parametrize("limit", [20, 60, 120, 300, 1000])
def test_excerpt_respects_its_limit(limit: int) -> None:
    rng = random.Random(limit)
    old = _long_document(rng, 60)
    lines = old.split("\n")
    for index in (3, 17, 18, 40, 55):
        lines[index] = lines[index][:10] + "修订内容" * 20 + lines[index][30:]
    result = diff(old, "\n".join(lines))
    text = result.excerpt(limit)
    assert 0 < len(text) <= limit
    if limit >= 120:
        assert "{+修订内容" in text and "…" in text
    if limit == 300:  # five long edits do not all fit: the rest is counted
        assert re.search(r"\(\+[1-4] more\)$", text)


def test_excerpt_shows_context_and_the_change() -> None:
    old = "甲" * 200 + "自发布之日起1个月" + "乙" * 200
    new = "甲" * 200 + "自发布之日起2个月" + "乙" * 200
    text = diff(old, new).excerpt(80)
    assert text.startswith("…") and text.endswith("…")
    assert "自发布之日起[-1-]{+2+}个月" in text


# -- size -----------------------------------------------------------------------


def test_100kb_texts_diff_completely() -> None:
    rng = random.Random(42)
    old = _long_document(rng, 1100)
    assert len(old) > 100_000
    lines = old.split("\n")
    for index in rng.sample(range(len(lines)), 12):
        cut = rng.randrange(len(lines[index]))
        lines[index] = lines[index][:cut] + "新增" + lines[index][cut + 2 :]
    lines.insert(500, "整段新增的内容。")
    del lines[800]
    new = "\n".join(lines)
    result = diff(old, new)
    assert old_text(result) == old and new_text(result) == new
    assert result.changed
    unrelated = _long_document(rng, 1100)  # everything replaced
    result = diff(old, unrelated)
    assert old_text(result) == old and new_text(result) == unrelated
    single_line = diff(old.replace("\n", ""), new.replace("\n", ""))
    assert new_text(single_line) == new.replace("\n", "")


def test_repeated_lines_do_not_blow_up_and_edits_stay_apart() -> None:
    # A long table: every other line is the same border. Matching lines
    # naively is quadratic here; each edited row must still be its own change.
    rng = random.Random(5)
    rows = []
    for _ in range(4000):
        rows += ["|---|---|", f"| row {rng.randrange(10**6)} | {rng.randrange(10**6)} |"]
    new_rows = rows[:]
    edited = rng.sample(range(1, len(rows), 2), 40)
    for index in edited:
        new_rows[index] = f"| row {index} | changed |"
    old, new = "\n".join(rows), "\n".join(new_rows)
    result = diff(old, new)
    assert old_text(result) == old and new_text(result) == new
    groups = [
        i
        for i, op in enumerate(result.ops)
        if op.tag != "equal" and result.ops[i - 1].tag == "equal"
    ]
    assert len(groups) == len(edited)
    assert all("|---|" not in op.text for op in result.ops if op.tag != "equal")


# -- normalisation --------------------------------------------------------------

NOISY_PAIRS = [
    ("关于发布的通告（2026年第13号）", "关于发布的通告(2026年第13号)"),
    ("细胞  治疗\u3000产品", "细胞治疗 产品"),
    ("Cell\u00a0and   gene\ttherapy ", " Cell and gene therapy"),
    ("段落一\n\n\n段落二\r\n", "段落一\n段落二"),
    ("正文\n访问次数：123", "正文\n访问次数：98765"),
    ("正文 [浏览次数: 12次]", "正文 [浏览次数: 13次]"),
    ("正文 阅读量 1,024", "正文 阅读量 2,048"),
    ("Text. Page views: 1,234", "Text. Page views: 1,240"),
    ("Body\nContent current as of:\n03/11/2019", "Body\nContent current as of:\n07/01/2025"),
    ("Body\nPage last updated: 5 March 2024", "Body\nPage last updated: 12 June 2025"),
    ("正文\n最后更新：2026年6月1日", "正文\n最后更新：2026年7月2日"),
    ("正文 更新时间：2026-06-01 10:20:30", "正文 更新时间：2026-06-02 08:00:00"),
    ("see list.jsp;jsessionid=A1B2?id=5", "see list.jsp;jsessionid=Z9Y8?id=5"),
    ("see list.jsp?sid=abc&id=5", "see list.jsp?sid=xyz&id=5"),
    ("api?pageNum=1&MmEwMD=4ab_cd.ef", "api?pageNum=1&MmEwMD=4zz_yy.xx"),
    (
        "style.css?t=1712345678 app.js?v=1&_=1712345678901",
        "style.css?t=1799999999 app.js?v=1&_=1800000000000",
    ),
]


@pytest.mark.parametrize(("old", "new"), NOISY_PAIRS)
def test_noise_only_edits_produce_no_text_change(old: str, new: str) -> None:
    assert not diff(normalise_text(old), normalise_text(new)).changed
    assert old != new


REAL_EDITS = [
    ("征求意见时限为自发布之日起1个月", "征求意见时限为自发布之日起2个月"),
    ("共收到123条意见", "共收到124条意见"),
    ("Comments due within 30 days", "Comments due within 60 days"),
    ("发布时间：2026-06-01", "发布时间：2026-06-02"),  # a publication date is not noise
    ("see list.jsp?id=5", "see list.jsp?id=6"),
    ("Draft guidance", "Draft guidance (withdrawn)"),
]


@pytest.mark.parametrize(("old", "new"), REAL_EDITS)
def test_real_edits_survive_normalisation(old: str, new: str) -> None:
    assert diff(normalise_text(old), normalise_text(new)).changed


def test_normalised_text_is_one_paragraph_per_line() -> None:
    text = normalise_text("  第一段  \n\n\u3000\u3000第二段\r\n\n第三段\x0c第四段 ")
    assert text.split("\n") == ["第一段", "第二段", "第三段", "第四段"]


def test_user_ignore_patterns_and_bad_ones() -> None:
    old, new = "文件 生成于 2026-01-01 08:00", "文件 生成于 2026-02-02 09:30"
    assert normalise_text(old) != normalise_text(new)
    pattern = r"生成于 ?\d{4}-\d\d-\d\d \d\d:\d\d"
    assert normalise_text(old, [pattern]) == normalise_text(new, [pattern]) == "文件"
    with pytest.raises(InvalidPattern) as caught:
        normalise_text(old, ["[unclosed"])
    assert caught.value.pattern == "[unclosed"
    assert isinstance(caught.value, ValueError)


def test_default_noise_patterns_compile_alone() -> None:
    for pattern in DEFAULT_NOISE:
        re.compile(pattern)


# -- properties -----------------------------------------------------------------

_alphabet = st.sampled_from(
    list("ab cd\n\n，。（）()-:：1234567890")
    + list("细胞基因治疗的了指导原则征求意见")
    + ["\u3000", "\t"]
)
_texts = st.text(alphabet=_alphabet, max_size=80)


@settings(max_examples=200, deadline=None)
@given(_texts, _texts)
def test_ops_rebuild_both_texts(old: str, new: str) -> None:
    result = diff(old, new)
    assert old_text(result) == old
    assert new_text(result) == new
    assert result.changed == (old != new)
    assert all(op.text for op in result.ops)
    tags = [op.tag for op in result.ops]
    pairs = list(pairwise(tags))
    assert all(a != b for a, b in pairs)  # runs are merged
    assert ("insert", "delete") not in pairs  # a deletion comes before its insertion


@settings(max_examples=200, deadline=None)
@given(_texts)
def test_tokenize_is_lossless(text: str) -> None:
    assert "".join(tokenize(text)) == text


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=120) | _texts)
def test_normalise_is_idempotent(text: str) -> None:
    once = normalise_text(text)
    assert normalise_text(once) == once
    assert "" not in once.split("\n") or once == ""


@settings(max_examples=100, deadline=None)
@given(_texts, st.integers(min_value=1, max_value=200))
def test_excerpt_limit_property(text: str, limit: int) -> None:
    other = text[::-1] + "新"
    assert len(diff(text, other).excerpt(limit)) <= limit
