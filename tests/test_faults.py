"""The fault suite: the service against the replica sites while faults are injected.

Each source's site follows a script, one step per check: real changes
(new documents, drafts, retitles, revised attachments, withdrawals,
removals) and faults (timeouts, connection resets, 5xx storms, 429 with
Retry-After, bot challenges, truncated and oversized bodies, wrong
encodings, malformed HTML/JSON, layout changes that empty a list). The
service's scheduler drives the checks; a listener moves a site to its next
step when a check of it finishes (a source's checks never overlap, so each
check sees exactly one step).

What must hold, per source:

- every check's outcome is what the fault calls for (healthy, failed, blocked);
- the document alerts received equal those of a *control* run of the same
  script without faults (and, for the hand-scripted list site, the script's
  own list of changes): no false "removed", no duplicates, nothing missed
  once the site recovers;
- health alerts are exactly "failing"/"blocked" after ``alert_after`` bad
  checks in a row and one "recovered" after.

The default run covers every fault on every site in a few minutes of
cycles; ``pytest -m slow`` runs the long campaign whose figures the README
quotes (``REGWATCH_FAULT_CYCLES`` sets its length).
"""

from __future__ import annotations

import os
import random
from collections import Counter
from pathlib import Path

import pytest

from tests.helpers.campaign import (
    Campaign,
    assert_report,
    seed_of,
)
from tests.helpers.faults import FAULTS, TRANSPORT, all_sites, expected_health, plan_faults


def test_the_fault_plan_covers_every_fault_and_keeps_a_clean_baseline_and_tail() -> None:
    plans = [plan_faults(random.Random(seed_of(s.name, 2026)), 26) for s in all_sites()]
    kinds = {f.label for plan in plans for f in plan.values()}
    assert kinds == {*FAULTS, *(f"{k} (transient)" for k in TRANSPORT)}
    for plan in plans:
        assert 0 not in plan and not any(c >= 26 - 4 for c in plan)
        runs = "".join("x" if c in plan else "." for c in range(26))
        assert "xxxx" not in runs  # at most 3 bad checks in a row, then a clean one


def test_health_alerts_follow_the_outcomes() -> None:
    outcomes = ["healthy", "failed", "healthy", "failed", "blocked", "failed", "healthy"]
    assert expected_health("s", outcomes) == [
        ("health", "s is blocked"),
        ("recovered", "s works again"),
    ]


@pytest.mark.parametrize("name", [site.name for site in all_sites()])
def test_every_site_under_faults_alerts_exactly_the_real_changes(
    name: str, tmp_path: Path, quiet_servers: None
) -> None:
    """The default-run campaign, one source per test (a list site and the CDE, NMPA,
    FDA, EMA and Federal Register replicas): 26 cycles under that source's fault plan,
    the sink failing now and then. Together the six plans hold every fault kind (the
    plan test above checks it); all six sources in one service at once is the
    ``-m slow`` campaign."""
    site = next(s for s in all_sites() if s.name == name)
    report = Campaign(tmp_path, [site], cycles=26).run()
    print(report.summary())
    assert_report(report)
    planned = {label.split(" ")[0] for label in report.faults}
    assert planned and set(report.requests_faulted) == planned  # every planned fault was served
    assert sum(report.expected.values()) >= 5  # the script really changed things
    assert report.sink_failures > 0  # and the sink really failed at times


def test_the_list_site_alerts_match_its_script(tmp_path: Path, quiet_servers: None) -> None:
    """A hand oracle besides the control run: the alert each scripted step calls for, once."""
    report = Campaign(tmp_path, all_sites()[:1], cycles=22, seed=7).run()
    assert_report(report)
    assert report.received == report.scripted
    kinds = Counter(kind for _, kind, _ in report.scripted.elements())
    assert min(kinds["added"], kinds["draft"], kinds["changed"], kinds["removed"]) >= 1
    assert sum(report.faults.values()) >= 5


@pytest.mark.slow
def test_every_site_under_every_fault_alerts_exactly_the_real_changes(
    tmp_path: Path, quiet_servers: None
) -> None:
    """All six sources in one service at once, 26 cycles each, all fault kinds, the sink
    failing now and then (about a minute of CPU, hence ``-m slow``)."""
    report = Campaign(tmp_path, all_sites(), cycles=26).run()
    print(report.summary())
    assert_report(report)
    assert set(report.faults) == {*FAULTS, *(f"{k} (transient)" for k in TRANSPORT)}
    assert sum(report.expected.values()) >= 40  # the script really changed things
    assert report.sink_failures > 0  # and the sink really failed at times


@pytest.mark.slow
@pytest.mark.timeout(3600)
def test_long_fault_campaign(tmp_path: Path, quiet_servers: None) -> None:
    """The campaign the README quotes: ``REGWATCH_FAULT_CYCLES`` cycles per source (150)."""
    cycles = int(os.environ.get("REGWATCH_FAULT_CYCLES", "150"))
    report = Campaign(tmp_path, all_sites(), cycles=cycles, seed=1).run()
    print(report.summary())
    (tmp_path / "report.txt").write_text(report.summary(), encoding="utf-8")
    assert_report(report)
    for fault in report.faults:
        assert fault in {*FAULTS, *(f"{k} (transient)" for k in TRANSPORT)}
