"""`regwatch demo` runs the whole product offline and shows what a user gets."""

from __future__ import annotations

from tests.helpers.demo import DemoRun


def test_the_demo_walks_through_every_kind_of_event(demo_run: DemoRun) -> None:
    counts, text = demo_run.counts, demo_run.text
    # removed 2 (was 1 before issue 9): the delisted FDA guidance is also gone from the
    # CBER CGT page, which answers 304 on the second miss; that removal used to be lost
    # (absences were not counted behind a 304). It is stored as a mirror of the
    # fda-guidance removal, so people still get one "Removed" alert.
    # added 2: the PMDA and MHRA moment (issue 15), one new document each
    assert counts == {
        "added": 2,
        "changed": 1,
        "draft": 6,
        "finalised": 2,
        "health": 2,
        "recovered": 2,
        "removed": 2,
        "withdrawn": 2,
    }
    assert text.count("alert [FDA] Removed from the list") == 1
    # alerts arrived through apprise at the local inbox, bilingual and with deadlines
    assert text.count("alert ") >= 12
    assert "New draft open for comment until" in text and "基因治疗" in text
    assert "Comment deadline in" in text and "Removed from the list" in text
    assert "blocked" in text and "Recovered" in text
    assert "alert [PMDA 医薬品医療機器総合機構] New document" in text
    assert "JP: Human cell-processed product" in text
    assert "alert [MHRA] New guideline — Point of care manufacturing" in text
