"""Record-set diff: added / changed / missing / removed, noise, collapse."""

from __future__ import annotations

import hashlib
import json
import random
from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from diffing.errors import InvalidPattern
from diffing.normalise import clean_url, comparable, fingerprint, normalise_record
from diffing.records import RecordDiff, collapsed, diff
from diffing.render import render_change_html, render_change_text, summarise
from sources.types import Attachment, Record

CDE = "https://www.cde.org.cn"


def rec(key: str, title: str | None = None, **kw: object) -> Record:
    return Record(
        key=key,
        title=title if title is not None else f"关于发布《{key}指导原则》的通告（2026年第1号）",
        url=kw.pop("url", f"{CDE}/zdyz/domesticinfopage?zdyzIdCODE={key}"),  # type: ignore[arg-type]
        **kw,  # type: ignore[arg-type]
    )


def by_key(records: list[Record]) -> dict[str, Record]:
    return {r.key: r for r in records}


def shape(result: RecordDiff) -> tuple[object, ...]:
    """Everything a diff says, in a comparable form."""
    return (
        [r.key for r in result.added],
        [(c.key, c.names) for c in result.changed],
        [r.key for r in result.removed],
        dict(result.missing),
        list(result.returned),
        list(result.duplicates),
        result.unchanged,
    )


# -- add / change / remove ------------------------------------------------------


def test_added_changed_unchanged_and_missing() -> None:
    previous = by_key([rec("a"), rec("b"), rec("c", status="征求意见稿")])
    current = [rec("a"), rec("c", status="颁布"), rec("d")]
    result = diff(previous, current)
    assert [r.key for r in result.added] == ["d"]
    assert [c.key for c in result.changed] == ["c"]
    change = result.changed[0]
    assert change.names == ("status",)
    status = change.field("status")
    assert status is not None
    assert (status.old, status.new) == ("征求意见稿", "颁布")
    assert change.old is previous["c"] and change.new is current[1]
    assert result.removed == [] and result.missing == {"b": 1}
    assert result.unchanged == 1
    assert result.has_changes


def test_all_field_kinds_are_reported() -> None:
    old = rec(
        "x",
        date="2026-01-01",
        attachments=(
            Attachment(f"{CDE}/a1", "征求意见稿.pdf"),
            Attachment(f"{CDE}/a2", "反馈表.doc"),
        ),
        fields={"docket": "FDA-1", "scope": "细胞治疗"},
    )
    new = replace(
        old,
        title="新标题",
        url=f"{CDE}/other",
        date="2026-02-01",
        attachments=(
            Attachment(f"{CDE}/a1", "征求意见稿.pdf"),
            Attachment(f"{CDE}/a3", "起草说明.pdf"),
        ),
        fields={"docket": "FDA-2", "office": "CBER"},
    )
    (change,) = diff({"x": old}, [new]).changed
    assert change.names == (
        "title",
        "url",
        "date",
        "attachments",
        "fields.docket",
        "fields.office",
        "fields.scope",
    )
    assert change.added_attachments == (Attachment(f"{CDE}/a3", "起草说明.pdf"),)
    assert change.removed_attachments == (Attachment(f"{CDE}/a2", "反馈表.doc"),)
    office, scope = change.field("fields.office"), change.field("fields.scope")
    assert office is not None and (office.old, office.new) == (None, "CBER")
    assert scope is not None and (scope.old, scope.new) == ("细胞治疗", None)

    text = render_change_text(change)
    assert f"title: {old.title} → 新标题" in text
    assert f"attachments: + 起草说明.pdf <{CDE}/a3>" in text
    assert f"attachments: - 反馈表.doc <{CDE}/a2>" in text
    assert "office: (none) → CBER" in text
    html = render_change_html(change)
    assert "<ins>新标题</ins>" in html and f"<del>{old.title}</del>" in html
    assert f'<a href="{CDE}/a3">起草说明.pdf</a>' in html


def test_render_escapes_html_and_summary_counts() -> None:
    old = rec("x", title="A <b>draft</b>")
    new = rec("x", title="A <script>alert(1)</script>")
    result = diff({"x": old}, [new, rec("y")])
    html = render_change_html(result.changed[0])
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert summarise(result) == "1 added, 1 changed, 0 removed"


def test_first_run_everything_added_nothing_removed() -> None:
    result = diff({}, [rec("a"), rec("b")])
    assert sorted(r.key for r in result.added) == ["a", "b"]
    assert not result.changed and not result.removed and not result.missing


# -- order independence ---------------------------------------------------------


def test_shuffled_input_gives_the_same_diff() -> None:
    rng = random.Random(7)
    previous = by_key([rec(f"k{i:03}") for i in range(60)])
    current = [rec(f"k{i:03}") for i in range(5, 60)]  # 5 missing
    current += [rec(f"n{i}") for i in range(4)]  # 4 new
    current[10] = replace(current[10], status="Final")
    current[20] = replace(current[20], title="changed title")
    current.append(replace(current[30], fields={"note": "dup"}))  # a duplicate key
    expected = shape(diff(previous, current, missing={"k000": 1}))
    for _ in range(10):
        shuffled = current[:]
        rng.shuffle(shuffled)
        items = list(previous.items())
        rng.shuffle(items)
        assert shape(diff(dict(items), shuffled, missing={"k000": 1})) == expected
    assert expected[2] == ["k000"]  # removed: absent twice
    assert expected[5] == ["k035"]  # duplicates


def test_duplicate_keys_merge_to_the_same_record_whatever_the_order() -> None:
    short = rec("d", title="短标题")
    rich = rec("d", title="短标题", attachments=(Attachment(f"{CDE}/f", "正文.pdf"),))
    for current in ([short, rich], [rich, short]):
        result = diff({}, current)
        assert result.added == [rich]
        assert result.duplicates == ["d"]


# -- removal only after two healthy absences ------------------------------------


def test_removal_needs_two_consecutive_absences() -> None:
    a, b = rec("a"), rec("b")
    previous = by_key([a, b])

    run1 = diff(previous, [a])  # b absent once
    assert run1.missing == {"b": 1} and run1.removed == []

    run2 = diff(previous, [a, b], missing=run1.missing)  # back again
    assert run2.returned == ["b"] and run2.added == [] and run2.missing == {}
    assert not run2.has_changes

    run3 = diff(previous, [a], missing=run2.missing)  # absent: count restarts
    assert run3.missing == {"b": 1} and run3.removed == []

    run4 = diff(previous, [a], missing=run3.missing)  # absent twice in a row
    assert run4.removed == [b] and run4.missing == {}


def test_returned_record_can_also_be_changed() -> None:
    b = rec("b")
    result = diff({"b": b}, [replace(b, status="废止")], missing={"b": 1})
    assert result.returned == ["b"]
    assert [c.names for c in result.changed] == [("status",)]


@pytest.mark.parametrize(("remove_after", "runs_until_removed"), [(1, 1), (2, 2), (3, 3)])
def test_remove_after_is_respected(remove_after: int, runs_until_removed: int) -> None:
    previous = by_key([rec("a"), rec("b")])
    missing: dict[str, int] = {}
    runs = 0
    while runs < 5:
        runs += 1
        result = diff(previous, [rec("a")], missing=missing, remove_after=remove_after)
        if result.removed:
            break
        assert result.missing == {"b": runs}
        missing = result.missing
    assert runs == runs_until_removed


def test_remove_after_below_one_is_refused() -> None:
    with pytest.raises(ValueError):
        diff({}, [], remove_after=0)


# -- noise is not a change ------------------------------------------------------


def test_noise_only_edits_are_not_changes() -> None:
    old = rec(
        "n",
        title="关于发布《基因治疗产品药学研究指导原则》的通告(2026年第13号)",
        url=f"{CDE}/news/view.jsp;jsessionid=AAA111?id=5&t=1712345678",
        status="颁布",
        attachments=(Attachment(f"{CDE}/a1", "附件1"), Attachment(f"{CDE}/a2", "附件2")),
        fields={"note": "浏览次数：12", "scope": "细胞 治疗 产品", "page": "最后更新：2026-01-02"},
    )
    new = replace(
        old,
        title="  关于发布《基因治疗产品\n药学研究指导原则》的通告\u3000（２０２６年第13号）\n",
        url=f"{CDE}/news/view.jsp;jsessionid=BBB222?id=5&t=1799999999&MmEwMD=4xyz",
        status=" 颁布 ",
        attachments=(Attachment(f"{CDE}/a2", "附件2 "), Attachment(f"{CDE}/a1", "附件1")),
        fields={
            "note": "浏览次数：13",
            "scope": "细胞治疗\u00a0产品",
            "page": "最后更新：2026-03-04",
        },
    )
    result = diff({"n": old}, [new])
    assert result.changed == [] and result.unchanged == 1
    assert fingerprint(old) == fingerprint(new)


def test_a_real_edit_next_to_noise_is_still_a_change() -> None:
    old = rec("n", title="征求意见时限为自发布之日起1个月（第1版）")
    new = rec("n", title="征求意见时限为自发布之日起2个月（第1版）")
    (change,) = diff({"n": old}, [new]).changed
    assert change.names == ("title",)
    assert fingerprint(old) != fingerprint(new)


def test_user_ignore_patterns() -> None:
    old = rec("n", title="Guidance (rev. 3)")
    new = rec("n", title="Guidance (rev. 4)")
    assert len(diff({"n": old}, [new]).changed) == 1
    assert diff({"n": old}, [new], ignore=[r"\(rev\. \d+\)"]).changed == []
    with pytest.raises(InvalidPattern):
        diff({"n": old}, [new], ignore=["(unclosed"])


def test_ignore_fields() -> None:
    old = rec("i", date="2026-01-01", fields={"updated": "2026-01-01", "docket": "D-1"})
    touched = replace(old, fields={"updated": "2026-05-05", "docket": "D-1"})
    assert diff({"i": old}, [touched]).changed == []  # "updated" ignored by default
    assert len(diff({"i": old}, [touched], ignore_fields=()).changed) == 1

    redated = replace(old, date="2026-02-02", fields={"updated": "x", "docket": "D-2"})
    assert diff({"i": old}, [redated], ignore_fields=("date", "updated", "docket")).changed == []
    (change,) = diff({"i": old}, [redated], ignore_fields=("fields.updated", "date")).changed
    assert change.names == ("fields.docket",)


def test_session_tokens_leave_urls() -> None:
    url = f"{CDE}/a.jsp;jsessionid=XYZ?sid=9&page=2&_=1712345678901&MmEwMD=4abc#top"
    assert clean_url(url) == f"{CDE}/a.jsp?page=2#top"
    assert clean_url(f"{CDE}/a?id=1712345678") == f"{CDE}/a?id=1712345678"  # not a cache buster


def test_fingerprint_ignores_order_of_fields_and_attachments() -> None:
    files = (Attachment(f"{CDE}/1", "a"), Attachment(f"{CDE}/2", "b"))
    one = rec("f", fields={"a": "1", "b": "2"}, attachments=files)
    two = rec("f", fields={"b": "2", "a": "1"}, attachments=files[::-1])
    assert fingerprint(one) == fingerprint(two)
    assert fingerprint(one) != fingerprint(replace(two, fields={"a": "1", "b": "3"}))
    assert normalise_record(one) == normalise_record(two)


# -- collapse -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("previous", "current", "expected"),
    [
        (0, 0, False),  # nothing before, nothing now: an empty source
        (1, 0, True),  # everything vanished
        (600, 0, True),
        (10, 4, True),  # fewer than half
        (10, 5, False),  # exactly half is not fewer
        (10, 9, False),
        (10, 30, False),  # growth is fine
        (3, 1, False),  # too small a list to judge by ratio
        (4, 1, True),  # min_previous reached
        (0, 5, False),  # first run
    ],
)
def test_collapsed_truth_table(previous: int, current: int, expected: bool) -> None:
    assert collapsed(previous, current) is expected


def test_collapsed_ratio_and_min_previous() -> None:
    assert collapsed(100, 79, ratio=0.8) is True
    assert collapsed(100, 80, ratio=0.8) is False
    assert collapsed(3, 1, min_previous=2) is True
    assert collapsed(100, 1, ratio=0.0) is False  # ratio test off
    with pytest.raises(ValueError):
        collapsed(-1, 0)
    with pytest.raises(ValueError):
        collapsed(10, 5, ratio=1.5)


# -- properties -----------------------------------------------------------------

_text = st.text(
    alphabet=st.sampled_from(list("abcXYZ 09（）()，,：:-\u3000\n\t细胞基因治疗指导原则<>&")),
    max_size=30,
)
_attachment = st.builds(Attachment, url=_text.map(lambda t: f"{CDE}/f/{t}"), name=_text)
_record = st.builds(
    Record,
    key=st.text(min_size=1, max_size=8),
    title=_text,
    url=_text.map(lambda t: f"{CDE}/{t}"),
    date=st.none() | st.dates().map(str),
    status=st.none() | _text,
    attachments=st.lists(_attachment, max_size=3).map(tuple),
    fields=st.dictionaries(st.sampled_from(["docket", "scope", "note", "updated"]), _text),
)
_records = st.lists(_record, max_size=12, unique_by=lambda r: r.key)

_WIDE = {chr(c): chr(c + 0xFEE0) for c in range(0x21, 0x7F)}


def _noisy(text: str) -> str:
    """The same text as a site might serve it another day: full-width
    punctuation, other spaces, padded ends."""
    wide = "".join(_WIDE.get(ch, ch) if not ch.isalnum() else ch for ch in text)
    return "  " + wide.replace(" ", " \u3000\u00a0") + " \n"


@settings(max_examples=60, deadline=None)
@given(_records)
def test_a_list_against_itself_has_no_changes(records: list[Record]) -> None:
    result = diff(by_key(records), records)
    assert not result.has_changes
    assert result.missing == {} and result.returned == []
    assert result.unchanged == len(records)


@settings(max_examples=60, deadline=None)
@given(_records, st.randoms(use_true_random=False))
def test_noisy_shuffled_copy_has_no_changes(records: list[Record], rng: random.Random) -> None:
    noisy = [
        replace(
            r,
            title=_noisy(r.title),
            status=_noisy(r.status) if r.status else r.status,
            attachments=tuple(reversed(r.attachments)),
            fields={k: _noisy(v) for k, v in reversed(list(r.fields.items()))},
        )
        for r in records
    ]
    rng.shuffle(noisy)
    result = diff(by_key(records), noisy)
    assert not result.has_changes, result.changed
    assert all(
        fingerprint(a) == fingerprint(b)
        for a, b in zip(
            sorted(records, key=lambda r: r.key), sorted(noisy, key=lambda r: r.key), strict=True
        )
    )


@settings(max_examples=60, deadline=None)
@given(_records, st.sampled_from([(), ("updated",), ("date", "fields.note"), ("title", "status")]))
def test_fingerprint_is_the_digest_of_the_comparable_normalised_record(
    records: list[Record], ignore_fields: tuple[str, ...]
) -> None:
    """``fingerprint`` builds the comparable data without making the normalised
    record: the digest stays the one stored listing hashes were made with."""
    for record in records:
        for ignore in ((), (r"\d+",)):
            data = comparable(normalise_record(record, ignore), ignore_fields)
            blob = json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
            expected = hashlib.sha256(blob.encode("utf-8")).hexdigest()
            assert fingerprint(record, ignore=ignore, ignore_fields=ignore_fields) == expected
