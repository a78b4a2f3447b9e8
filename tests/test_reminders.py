"""Comment-deadline reminders: N days before a stored deadline, once per route.

The first test runs the whole way: an NMPA replica publishes a consultation,
the real NMPA adapter reads its deadline from the article, the pipeline stores
it, and a month of simulated days later exactly the 7-day and the 1-day
reminders have arrived at a real webhook. The others put documents in a real
SQLite store directly to cover the rules (past deadlines, withdrawn, removed,
finalised drafts, mirrors, a service that was down on the day).
"""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import col, select

from monitor.config import Config, loads
from monitor.delivery.dispatch import Dispatcher
from monitor.delivery.reminders import due_reminder, queue_reminders
from monitor.pipeline.check import Pipeline
from monitor.replica.nmpa import NmpaReplica
from monitor.replica.server import ReplicaServer
from monitor.store import Store
from monitor.store.models import DeliveryRow, DocumentRow, SourceRow
from tests.receivers import Posted, WebhookReceiver

SHANGHAI = ZoneInfo("Asia/Shanghai")
CONSULTATION = (
    "关于公开征求《嵌合抗原受体T细胞治疗产品药学研究技术指导原则（征求意见稿）》意见的通知"
)


def make_config(tmp_path: Path, body: str, *, reminders: str = "[7, 1]") -> Config:
    return loads(f"""
[store]
url = "sqlite:///{tmp_path / "regwatch.db"}"

[http]
user_agent = "regwatch-test/0.1 (+mailto:test@example.com)"
timeout = 3
delay = 0
retries = 1
backoff = 0.01

[service]
timezone = "Asia/Shanghai"

[delivery]
reminders = {reminders}
{body}
""")


def at(day: date, hour: int = 9) -> datetime:
    """``hour`` o'clock in Shanghai on ``day``, as aware UTC."""
    return datetime.combine(day, time(hour), tzinfo=SHANGHAI).astimezone(UTC)


def test_due_reminder_picks_the_nearest_threshold() -> None:
    assert [due_reminder(days, [1, 7]) for days in (9, 8, 7, 6, 2, 1, 0, -1)] == [
        None,
        None,
        7,
        7,
        7,
        1,
        1,
        None,
    ]
    assert due_reminder(3, []) is None and due_reminder(0, [0]) == 0


def test_a_published_consultation_gets_its_7_and_1_day_reminders_once(
    hook: WebhookReceiver,
    tmp_path: Path,
) -> None:
    replica = NmpaReplica(seeded=False)
    replica.add_article(
        "zhqyj",
        "国家药监局综合司公开征求《药品网络销售监督管理办法（修订草案）》意见",
        "2026-10-09",
    )
    with ReplicaServer(replica) as server:
        config = make_config(
            tmp_path,
            f"""
[[source]]
name = "nmpa-consultations"
kind = "nmpa"
base_url = "{server.url}"
columns = ["zhqyj"]

[[notify]]
name = "cgt-drafts"
urls = ["{hook.json_url("/drafts")}"]
match = {{ relevant = true, kinds = ["draft", "reminder"] }}
""",
        )
        store = Store(config.store.url)
        clock_day = date(2026, 11, 20)
        pipeline = Pipeline(config, store, now=lambda: at(clock_day))
        assert pipeline.check(config.sources[0]).outcome == "baseline"
        replica.add_article("zhqyj", CONSULTATION, "2026-11-20")
        assert pipeline.check(config.sources[0]).events == ["draft"]
    with store.session() as session:
        (doc,) = session.exec(select(DocumentRow).where(DocumentRow.relevant)).all()
    deadline = doc.comment_deadline
    assert deadline == date(2026, 12, 20)  # "请于2026年12月20日前" on the article page

    arrived: list[tuple[date, Posted]] = []
    day = clock_day
    while day <= deadline + timedelta(days=3):
        for hour in (0, 9, 23):  # the service wakes up all day long
            moment = at(day, hour)
            queue_reminders(config, store, moment)
            Dispatcher(config, store, now=lambda m=moment: m).run_once()  # type: ignore[misc]
        while len(arrived) < len(hook.posts):
            arrived.append((day, hook.posts[len(arrived)]))
        day += timedelta(days=1)
    titles = [(when, post.json["title"]) for when, post in arrived]
    head = "[NMPA 国家药品监督管理局]"
    assert titles == [
        (
            date(2026, 11, 20),
            f"{head} New draft open for comment until 2026-12-20 (30 days left) — {CONSULTATION}",
        ),
        (date(2026, 12, 13), f"{head} Comment deadline in 7 days (2026-12-20) — {CONSULTATION}"),
        (date(2026, 12, 19), f"{head} Comment deadline in 1 day (2026-12-20) — {CONSULTATION}"),
    ]
    message = arrived[1][1].json["message"]
    assert doc.url in message and "Cell therapy 细胞治疗药品" in message


# -- the rules, on a real store ------------------------------------------------------------

DEADLINE = date(2026, 12, 31)


def add_source(store: Store, name: str) -> int:
    with store.session(write=True) as session:
        row = SourceRow(name=name, kind="html-list", jurisdiction="CN")
        session.add(row)
        session.flush()
        assert row.id is not None
        return row.id


def add_doc(
    store: Store,
    source_id: int,
    key: str,
    *,
    deadline: date = DEADLINE,
    first_seen: date = date(2026, 11, 1),
    relevant: bool = True,
    status: str = "draft",
    state: str = "active",
    lineage: str | None = None,
    linked_to: int | None = None,
) -> int:
    classification = {
        "relevant": relevant,
        "cn": ["gene_therapy"] if relevant else [],
        "eu": [],
        "us": [],
        "modalities": [],
        "doc_type": "guideline",
        "status": status,
        "disciplines": [],
        "evidence": [],
    }
    with store.session(write=True) as session:
        row = DocumentRow(
            source_id=source_id,
            key=key,
            title=f"{key} 基因治疗产品指导原则",
            url=f"https://example.org/{key}",
            jurisdiction="CN",
            first_seen=at(first_seen),
            last_seen=at(first_seen),
            state=state,
            status=status,
            comment_deadline=deadline,
            relevant=relevant,
            lineage=lineage if lineage is not None else key,
            linked_to=linked_to,
            classification=json.dumps(classification),
        )
        session.add(row)
        session.flush()
        assert row.id is not None
        return row.id


def queued(store: Store) -> list[tuple[str, str, int]]:
    """(route, document key, days left) of every queued reminder."""
    with store.session() as session:
        rows = session.exec(select(DeliveryRow).order_by(col(DeliveryRow.id))).all()
    out = []
    for row in rows:
        alert = json.loads(row.alert)
        _, doc_id, days = alert["id"].split("-")
        assert row.purpose == f"reminder:{doc_id}:{days}:{alert['comment_deadline']}"
        out.append((row.route, alert["title"].split()[0], alert["days_left"]))
    return out


ROUTES = """
[[notify]]
name = "cgt"
urls = ["json://127.0.0.1:9/cgt"]
match = { relevant = true }

[[notify]]
name = "all"
urls = ["json://127.0.0.1:9/all"]
"""


def test_reminder_rules_over_two_months_of_days(tmp_path: Path) -> None:
    config = make_config(tmp_path, ROUTES)
    store = Store(config.store.url)
    cde, nmpa = add_source(store, "cde-like"), add_source(store, "nmpa-like")
    add_doc(store, cde, "plain")
    add_doc(store, cde, "irrelevant", relevant=False)
    add_doc(store, cde, "withdrawn", status="withdrawn")
    add_doc(store, cde, "removed", state="removed")
    draft = add_doc(store, cde, "finalised-draft")
    add_doc(store, cde, "final-version", status="final", deadline=date(2027, 6, 1), linked_to=draft)
    add_doc(store, cde, "late-find", first_seen=DEADLINE - timedelta(days=3))
    add_doc(store, cde, "found-on-the-day", first_seen=DEADLINE)
    add_doc(store, cde, "early", deadline=date(2026, 12, 10))
    add_doc(store, nmpa, "mirror", lineage="plain")  # the same draft on NMPA
    add_doc(store, nmpa, "own-deadline", lineage="plain", deadline=date(2026, 12, 30))
    day = date(2026, 11, 1)
    while day <= date(2027, 1, 10):
        for hour in (0, 12, 23):
            queue_reminders(config, store, at(day, hour))
        day += timedelta(days=1)
    got = Counter(queued(store))
    # written by hand from the rules in monitor/delivery/reminders.py
    assert got == Counter(
        {
            ("cgt", "plain", 7): 1,
            ("all", "plain", 7): 1,
            ("cgt", "plain", 1): 1,
            ("all", "plain", 1): 1,
            ("all", "irrelevant", 7): 1,
            ("all", "irrelevant", 1): 1,
            ("cgt", "late-find", 1): 1,
            ("all", "late-find", 1): 1,
            ("cgt", "early", 7): 1,
            ("all", "early", 7): 1,
            ("cgt", "early", 1): 1,
            ("all", "early", 1): 1,
            ("cgt", "own-deadline", 7): 1,
            ("all", "own-deadline", 7): 1,
            ("cgt", "own-deadline", 1): 1,
            ("all", "own-deadline", 1): 1,
        }
    )


@pytest.mark.parametrize(
    "wakes, expected",
    [
        # down from 9 days before to 3 days before: the 7-day reminder, late, once
        ([-10, -3, -3, -2], [(7, 3)]),
        # down from 8 days before until the deadline day: only the 1-day one, on the day
        ([-8, 0, 0], [(1, 0)]),
        # down until after the deadline: nothing at all
        ([-9, 1, 5], []),
        # every day: both, on time
        (list(range(-12, 3)), [(7, 7), (1, 1)]),
    ],
)
def test_a_service_that_was_down_sends_the_nearest_reminder_once(
    hook: WebhookReceiver,
    tmp_path: Path,
    wakes: list[int],
    expected: list[tuple[int, int]],
) -> None:
    config = make_config(
        tmp_path,
        f"""
[[notify]]
name = "hook"
urls = ["{hook.json_url("/r")}"]
""",
    )
    store = Store(config.store.url)
    add_doc(store, add_source(store, "cde-like"), "doc")
    for offset in wakes:
        moment = at(DEADLINE + timedelta(days=offset), 10)
        queue_reminders(config, store, moment)
        Dispatcher(config, store, now=lambda m=moment: m).run_once()  # type: ignore[misc]
    with store.session() as session:
        purposes = [row.purpose.split(":")[2] for row in session.exec(select(DeliveryRow))]
    assert [int(p) for p in purposes] == [n for n, _ in expected]
    posts = hook.posts
    assert len(posts) == len(expected)
    for post, (_, left) in zip(posts, expected, strict=True):
        headline = (
            "Comment deadline today (2026-12-31)"
            if left == 0
            else f"Comment deadline in {left} day{'s' if left != 1 else ''} (2026-12-31)"
        )
        assert headline in post.json["title"]


def test_custom_thresholds_and_the_service_time_zone(tmp_path: Path) -> None:
    config = make_config(tmp_path, ROUTES, reminders="[3]")
    store = Store(config.store.url)
    add_doc(store, add_source(store, "cde-like"), "doc")
    # 23:30 UTC on Dec 27 is already Dec 28 in Shanghai: 3 days left there
    assert queue_reminders(config, store, datetime(2026, 12, 27, 15, 30, tzinfo=UTC)) == 0
    assert queue_reminders(config, store, datetime(2026, 12, 27, 16, 30, tzinfo=UTC)) == 2
    assert queue_reminders(config, store, datetime(2026, 12, 30, 16, 30, tzinfo=UTC)) == 0
    assert Counter(queued(store)) == Counter({("cgt", "doc", 3): 1, ("all", "doc", 3): 1})


def test_an_extended_deadline_is_reminded_again(tmp_path: Path) -> None:
    config = make_config(tmp_path, ROUTES)
    store = Store(config.store.url)
    doc = add_doc(store, add_source(store, "cde-like"), "doc")
    for offset in (-7, -6):
        assert queue_reminders(config, store, at(DEADLINE + timedelta(days=offset))) == (
            2 if offset == -7 else 0
        )
    extended = DEADLINE + timedelta(days=14)  # the regulator extends the comment period
    with store.session(write=True) as session:
        row = session.get(DocumentRow, doc)
        assert row is not None
        row.comment_deadline = extended
        session.add(row)
    day, total = DEADLINE - timedelta(days=5), 0
    while day <= extended:
        total += queue_reminders(config, store, at(day))
        day += timedelta(days=1)
    assert total == 4
    assert Counter(queued(store)) == Counter(
        {("cgt", "doc", 7): 2, ("all", "doc", 7): 2, ("cgt", "doc", 1): 1, ("all", "doc", 1): 1}
    )
