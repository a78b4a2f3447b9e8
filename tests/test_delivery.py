"""Durable delivery end to end: a real list site, the real pipeline and dispatcher,
real e-mail through aiosmtpd and real webhook posts to a local HTTP server.

What arrived is what is asserted: subjects, bodies, classes, links and counts,
through receiver outages, retries, digests, health alerts and a dispatcher
killed in the middle of a batch.
"""

from __future__ import annotations

import json
import logging
import os
import re
import signal
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from html import escape
from pathlib import Path

import pytest
from sqlmodel import col, select

from monitor.config import Config, loads
from monitor.delivery.alerts import enqueue
from monitor.delivery.dispatch import Dispatcher
from monitor.pipeline.check import Pipeline
from monitor.replica.server import ReplicaServer
from monitor.store import Store
from monitor.store.models import ChangeRow, DeliveryRow
from notifiers import labels
from notifiers.types import Alert
from tests.receivers import SMTP_PASSWORD, Posted, SmtpReceiver, WebhookReceiver
from tests.sites import Item, ListSite

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = SMTP_PASSWORD  # the smtp fixture's
TOKEN = "hook-t0ken-4c3b2a"

CART = Item(
    "20261101090000009",
    "嵌合抗原受体T细胞(CAR-T)治疗产品药学研究技术指导原则（征求意见稿）",
    "2026-11-01",
)
AAV = Item(
    "20261102090000010",
    "腺相关病毒载体基因治疗产品非临床研究技术指导原则（征求意见稿）",
    "2026-11-02",
)
PLAIN = Item(
    "20261103090000011", "国家药监局关于发布药品注册核查要点与判定原则的通告", "2026-11-03"
)
SEED = [
    Item(
        "20260608103856150",
        "国家药监局关于修订肌苷注射剂说明书的公告（2026年第87号）",
        "2026-06-25",
    ),
    Item(
        "20260520090000002",
        "关于发布化学药品注射剂仿制药质量和疗效一致性评价技术要求的通告",
        "2026-05-20",
    ),
    Item(
        "20260501090000004", "基因治疗产品长期随访临床研究技术指导原则（征求意见稿）", "2026-05-01"
    ),
]
FDA_SEED = [
    Item("fda-0001", "Potency Assurance for Cellular and Gene Therapy Products", "2026-01-10")
]
FDA_CART = Item(
    "fda-0002",
    "Considerations for the Development of Chimeric Antigen Receptor (CAR) T Cell Products",
    "2026-11-20",
)


class Clock:
    """A controllable ``now`` for the pipeline and the dispatcher."""

    def __init__(self, start: datetime) -> None:
        self.t = start

    def __call__(self) -> datetime:
        return self.t

    def advance(self, **delta: float) -> None:
        self.t += timedelta(**delta)


def source_toml(name: str, base: str, *, jurisdiction: str = "CN", regulator: str = "NMPA") -> str:
    return f"""
[[source]]
name = "{name}"
kind = "html-list"
url = "{base}/list/index.html"
jurisdiction = "{jurisdiction}"
regulator = "{regulator}"
item = ".list ul li"
title = "a"
link = "a@href"
date = "span"
every = "6h"
"""


def route_toml(name: str, urls: list[str], match: str = "", extra: str = "") -> str:
    listed = ", ".join(f"'{url}'" for url in urls)
    return f"""
[[notify]]
name = "{name}"
urls = [{listed}]
{f"match = {{ {match} }}" if match else ""}
{extra}
"""


def make_config(
    tmp_path: Path, body: str, *, delivery: str = "", alert_after: int = 3, write: bool = False
) -> Config:
    text = f"""
[store]
url = "sqlite:///{tmp_path / "regwatch.db"}"

[http]
user_agent = "regwatch-test/0.1 (+mailto:test@example.com)"
timeout = 1.5
delay = 0
retries = 1
backoff = 0.01

[health]
alert_after = {alert_after}

[delivery]
{delivery}
{body}
"""
    if write:
        (tmp_path / "regwatch.toml").write_text(text, encoding="utf-8")
    return loads(text, path=str(tmp_path / "regwatch.toml"))


@pytest.fixture
def site() -> Iterator[tuple[ListSite, ReplicaServer]]:
    replica = ListSite(items=list(SEED))
    with ReplicaServer(replica) as server:
        yield replica, server


def deliveries(store: Store) -> list[DeliveryRow]:
    with store.session() as session:
        return list(session.exec(select(DeliveryRow).order_by(col(DeliveryRow.id))).all())


def posts_to(hook: WebhookReceiver, path: str) -> list[Posted]:
    with hook.lock:
        return [p for p in hook.posts if p.path == path]


def titles_posted(posts: list[Posted]) -> Counter[str]:
    """How often each alert arrived, by the id regwatch prints at the end of a message."""
    return Counter(p.json["message"].rsplit("regwatch alert ", 1)[-1].strip() for p in posts)


# -- 1. the whole way: site -> pipeline -> outbox -> e-mail and webhook ----------------


def test_a_new_cgt_draft_arrives_once_by_mail_and_webhook(
    site: tuple[ListSite, ReplicaServer],
    smtp: SmtpReceiver,
    hook: WebhookReceiver,
    tmp_path: Path,
) -> None:
    replica, server = site
    mail_url = smtp.mailto_url(user="alice", password=PASSWORD)
    config = make_config(
        tmp_path,
        source_toml("nmpa-like", server.url)
        + route_toml(
            "cgt", [mail_url, hook.json_url("/cgt", auth=f"bot:{TOKEN}")], "relevant = true"
        )
        + route_toml("everything", [hook.json_url("/all")]),
    )
    store = Store(config.store.url)
    pipeline, dispatcher = Pipeline(config, store), Dispatcher(config, store)
    source = config.sources[0]

    assert pipeline.check(source).outcome == "baseline"
    assert dispatcher.run_once().sent == 0
    assert smtp.mails == [] and hook.posts == []  # a silent baseline

    replica.items.insert(0, CART)
    result = pipeline.check(source)
    assert (result.changes, result.alerts) == (1, 2)  # one change, two matching routes
    assert dispatcher.run_once().sent == 2
    (mail,) = smtp.wait_for(1)
    link = f"{server.url}/articles/{CART.path}.html"
    assert mail["Subject"].startswith("[NMPA] New draft open for comment")
    assert CART.title in mail["Subject"]
    html_part, plain_part = mail.get_body(("html",)), mail.get_body(("plain",))
    assert html_part is not None and plain_part is not None
    html, plain = html_part.get_content(), plain_part.get_content()
    assert f'<a href="{link}">{CART.title}</a>' in html
    with store.session() as session:
        change = session.exec(select(ChangeRow)).one()
    stored = json.loads(change.classification)
    assert stored["cn"] == ["cell_therapy"]
    for scope in ("cn", "eu", "us"):  # every stored class, both languages
        for key in stored[scope]:
            label = " ".join(labels.vocabulary(scope)[key])
            assert escape(label) in html and label in plain
    assert "Cell therapy 细胞治疗药品" in html and "CAR-T 嵌合抗原受体T细胞" in html
    (cgt_post,) = posts_to(hook, "/cgt")
    (all_post,) = posts_to(hook, "/all")
    for post in (cgt_post, all_post):
        assert post.json["title"] == mail["Subject"]
        assert CART.title in post.json["message"] and link in post.json["message"]
        assert "Cell therapy 细胞治疗药品" in post.json["message"]

    # something that is not about CGT goes only to the route without relevant = true
    replica.items.insert(0, PLAIN)
    assert pipeline.check(source).alerts == 1
    assert dispatcher.run_once().sent == 1
    assert (
        len(posts_to(hook, "/all")) == 2 and PLAIN.title in posts_to(hook, "/all")[1].json["title"]
    )
    assert len(posts_to(hook, "/cgt")) == 1 and len(smtp.mails) == 1

    # nothing sent is sent again
    for _ in range(3):
        assert dispatcher.run_once().sent == 0
    # run_once returns after the receivers answered: nothing can still be on its way
    assert len(smtp.mails) == 1 and len(hook.posts) == 3
    rows = deliveries(store)
    assert [(r.route, r.status, r.attempts) for r in rows] == [
        ("cgt", "sent", 1),
        ("everything", "sent", 1),
        ("everything", "sent", 1),
    ]
    assert all(r.sent_at is not None and r.change_id is not None for r in rows)


# -- 2. a receiver outage: back-off, then every alert exactly once ------------------------


def test_outage_backs_off_exponentially_and_every_alert_arrives_once(
    site: tuple[ListSite, ReplicaServer],
    hook: WebhookReceiver,
    tmp_path: Path,
) -> None:
    replica, server = site
    config = make_config(
        tmp_path,
        source_toml("nmpa-like", server.url) + route_toml("hook", [hook.json_url("/alerts")]),
        delivery="max_attempts = 8\nbackoff = 60\nmax_backoff = 300",
    )
    store = Store(config.store.url)
    clock = Clock(datetime(2026, 11, 25, 1, 0, tzinfo=UTC))
    pipeline = Pipeline(config, store, now=clock)
    dispatcher = Dispatcher(config, store, now=clock)
    source = config.sources[0]
    pipeline.check(source)

    hook.go_down()
    replica.items[:0] = [CART, AAV, PLAIN]
    assert pipeline.check(source).alerts == 3
    started = clock.t
    # attempts 1..5: waits of 60, 120, 240, then capped at 300 seconds
    expected_waits = [60, 120, 240, 300, 300]
    for attempt, wait in enumerate(expected_waits, 1):
        result = dispatcher.run_once()
        assert (result.sent, result.retrying) == (0, 3)
        rows = deliveries(store)
        assert {r.attempts for r in rows} == {attempt}
        assert {r.status for r in rows} == {"pending"}
        assert all("refused" in r.last_error.lower() for r in rows)
        due = {r.next_attempt_at.replace(tzinfo=UTC) for r in rows if r.next_attempt_at}
        assert due == {clock.t + timedelta(seconds=wait)}
        # not due yet: nothing is attempted
        clock.advance(seconds=wait - 1)
        assert dispatcher.run_once() == type(result)()
        assert {r.attempts for r in deliveries(store)} == {attempt}
        clock.advance(seconds=1)
    assert clock.t - started == timedelta(seconds=sum(expected_waits))

    # a change that happens during the outage joins the queue
    replica.items.insert(0, FDA_CART)
    assert pipeline.check(source).alerts == 1
    hook.come_up()
    assert dispatcher.run_once().sent == 4
    arrived = titles_posted(posts_to(hook, "/alerts"))
    ids = {json.loads(r.alert)["id"] for r in deliveries(store)}
    assert arrived == Counter({alert_id: 1 for alert_id in ids})
    for _ in range(3):
        clock.advance(hours=1)
        assert dispatcher.run_once().sent == 0
    assert len(hook.posts) == 4
    assert {r.status for r in deliveries(store)} == {"sent"}


def test_giving_up_after_max_attempts_records_a_reason_without_secrets(
    hook: WebhookReceiver,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    url = hook.json_url("/alerts", auth=f"bot:{TOKEN}")
    # the route does not set max_attempts: [delivery] max_attempts = 3 applies
    config = make_config(
        tmp_path,
        route_toml("hook", [url]),
        delivery="max_attempts = 3\nbackoff = 10\nmax_backoff = 10",
    )
    store = Store(config.store.url)
    clock = Clock(datetime(2026, 11, 25, 1, 0, tzinfo=UTC))
    dispatcher = Dispatcher(config, store, now=clock)
    queue(store, config, [draft_alert(1)], clock.t)
    hook.mode = "fail"
    caplog.set_level(logging.DEBUG)
    outcomes = []
    for _ in range(5):
        result = dispatcher.run_once()
        outcomes.append((result.retrying, result.failed))
        clock.advance(seconds=10)
    assert outcomes == [(1, 0), (1, 0), (0, 1), (0, 0), (0, 0)]
    (row,) = deliveries(store)
    assert (row.status, row.attempts, row.next_attempt_at) == ("failed", 3, None)
    assert "500" in row.last_error and "bot:****@" in row.last_error
    assert TOKEN not in row.last_error
    assert len(hook.posts) == 3
    assert TOKEN not in caplog.text and "failed for good" in caplog.text


# -- 3. the dispatcher is killed in the middle of a batch ------------------------------


def draft_alert(n: int) -> Alert:
    return Alert(
        id=f"kill-{n}",
        kind="draft",
        source="cde",
        regulator="CDE",
        jurisdiction="CN",
        title=f"细胞治疗产品指导原则 第{n}号（征求意见稿）",
        url=f"https://example.org/{n}",
        relevant=True,
        cn=("cell_therapy",),
        status="draft",
        doc_type="guideline",
    )


def queue(store: Store, config: Config, alerts: list[Alert], now: datetime) -> None:
    with store.session(write=True) as session:
        for alert in alerts:
            assert enqueue(session, alert, config.routes, purpose=f"change:{alert.id}", now=now)


DISPATCH_ONCE = """
import sys
from monitor.config import load
from monitor.delivery.dispatch import Dispatcher
from monitor.store import Store
config = load(sys.argv[1])
Dispatcher(config, Store(config.store.url)).run_once()
"""


@pytest.mark.parametrize(
    "kill_after, restart", [(1, "service start"), (4, "lease expired"), (7, "service start")]
)
def test_killed_mid_batch_loses_nothing_and_repeats_at_most_the_one_in_flight(
    hook: WebhookReceiver,
    tmp_path: Path,
    kill_after: int,
    restart: str,
) -> None:
    total = 8
    config = make_config(tmp_path, route_toml("hook", [hook.json_url("/kill")]), write=True)
    store = Store(config.store.url)
    queue(store, config, [draft_alert(n) for n in range(total)], datetime.now(UTC))
    hook.mode, hook.hang_seconds = "hang", 0.3  # the post arrives, the answer takes 0.3 s
    child = subprocess.Popen(
        [sys.executable, "-c", DISPATCH_ONCE, str(tmp_path / "regwatch.toml")],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    try:
        hook.wait_for(kill_after, timeout=30)
        os.kill(child.pid, signal.SIGKILL)
    finally:
        child.wait(timeout=10)
    assert child.returncode == -signal.SIGKILL
    posted_before = titles_posted(posts_to(hook, "/kill"))
    states = Counter(r.status for r in deliveries(store))
    assert states["sending"] == 1 and states["pending"] + states["sent"] + 1 == total

    hook.mode = "ok"
    if restart == "service start":
        dispatcher = Dispatcher(config, store)
        assert dispatcher.recover() == 1
    else:  # `regwatch check` or another dispatcher, once the claim's lease has run out
        later = datetime.now(UTC) + Dispatcher(config, store).lease(config.routes[0])
        dispatcher = Dispatcher(config, store, now=lambda: later + timedelta(seconds=1))
    result = dispatcher.run_once()
    assert result.failed == 0 and result.retrying == 0
    arrived = titles_posted(posts_to(hook, "/kill"))
    assert set(arrived) == {f"kill-{n}" for n in range(total)}  # nothing lost
    repeated = {alert_id for alert_id, count in arrived.items() if count > 1}
    assert len(repeated) <= 1 and all(arrived[a] == 2 for a in repeated)
    # the only repeat is the alert that was on the wire when the process died
    last_before_kill = posts_to(hook, "/kill")[len(posted_before) - 1]
    assert repeated <= set(titles_posted([last_before_kill]))
    assert {r.status for r in deliveries(store)} == {"sent"}
    print(
        f"kill after {kill_after} posts ({restart}): {sum(posted_before.values())} posts "
        f"before the kill, {len(repeated)} repeated"
    )


def test_killed_between_the_urls_of_a_route_does_not_repeat_the_url_that_worked(
    tmp_path: Path,
) -> None:
    with WebhookReceiver() as fast, WebhookReceiver() as slow:
        config = make_config(
            tmp_path, route_toml("pair", [fast.json_url("/a"), slow.json_url("/b")]), write=True
        )
        store = Store(config.store.url)
        queue(store, config, [draft_alert(n) for n in range(3)], datetime.now(UTC))
        slow.mode, slow.hang_seconds = "hang", 0.3
        child = subprocess.Popen(
            [sys.executable, "-c", DISPATCH_ONCE, str(tmp_path / "regwatch.toml")],
            cwd=ROOT,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
        )
        try:
            slow.wait_for(2, timeout=30)  # kill-1 reached /a, and /b is answering slowly
            os.kill(child.pid, signal.SIGKILL)
        finally:
            child.wait(timeout=10)
        assert titles_posted(fast.posts) == Counter({"kill-0": 1, "kill-1": 1})
        in_flight = next(r for r in deliveries(store) if r.status == "sending")
        assert json.loads(in_flight.done) == [0]  # /a was recorded before /b began
        slow.mode = "ok"
        dispatcher = Dispatcher(config, store)
        dispatcher.recover()
        assert dispatcher.run_once().sent == 2
        assert titles_posted(fast.posts) == Counter({"kill-0": 1, "kill-1": 1, "kill-2": 1})
        assert titles_posted(slow.posts) == Counter({"kill-0": 1, "kill-1": 2, "kill-2": 1})


def test_a_sending_row_of_a_live_dispatcher_is_not_taken_over(
    hook: WebhookReceiver,
    tmp_path: Path,
) -> None:
    """A second dispatcher (e.g. `regwatch check` beside the service) leaves rows another
    process is sending alone until their lease runs out."""
    config = make_config(tmp_path, route_toml("hook", [hook.json_url("/x")]))
    store = Store(config.store.url)
    queue(store, config, [draft_alert(1)], datetime.now(UTC))
    (row,) = deliveries(store)
    first = Dispatcher(config, store)
    assert first._claim([row], config.routes[0])
    assert not first._claim([row], config.routes[0])  # claimed once only
    assert Dispatcher(config, store).run_once().sent == 0
    assert hook.posts == [] and deliveries(store)[0].status == "sending"


# -- 4. a route with two URLs, one failing ------------------------------------------------


def test_a_url_that_worked_is_not_sent_again_when_another_is_retried(tmp_path: Path) -> None:
    with WebhookReceiver() as good, WebhookReceiver() as bad:
        config = make_config(
            tmp_path,
            route_toml("pair", [good.json_url("/a"), bad.json_url("/b")]),
            delivery="backoff = 30\nmax_backoff = 30",
        )
        store = Store(config.store.url)
        clock = Clock(datetime(2026, 11, 25, 1, 0, tzinfo=UTC))
        dispatcher = Dispatcher(config, store, now=clock)
        queue(store, config, [draft_alert(1), draft_alert(2)], clock.t)
        bad.mode = "fail"
        for _ in range(2):
            assert dispatcher.run_once().retrying == 2
            assert [json.loads(r.done) for r in deliveries(store)] == [[0], [0]]
            clock.advance(seconds=30)
        bad.mode = "ok"
        assert dispatcher.run_once().sent == 2
        assert titles_posted(good.posts) == Counter({"kill-1": 1, "kill-2": 1})
        assert titles_posted(bad.posts) == Counter({"kill-1": 3, "kill-2": 3})
        assert [(r.status, r.attempts, json.loads(r.done)) for r in deliveries(store)] == [
            ("sent", 3, [0, 1]),
            ("sent", 3, [0, 1]),
        ]


# -- 5. digests -------------------------------------------------------------------------------


def test_digest_waits_for_its_time_and_sends_one_message_grouped_by_regulator(
    site: tuple[ListSite, ReplicaServer],
    hook: WebhookReceiver,
    tmp_path: Path,
) -> None:
    replica, server = site
    fda = ListSite(items=list(FDA_SEED))
    with ReplicaServer(fda) as fda_server:
        config = make_config(
            tmp_path,
            source_toml("nmpa-like", server.url)
            + source_toml("fda-like", fda_server.url, jurisdiction="US", regulator="FDA")
            + route_toml(
                "daily",
                [hook.json_url("/digest")],
                "relevant = true",
                "mode = 'digest'\ndigest = 'daily 09:00 Asia/Shanghai'",
            )
            + route_toml("now", [hook.json_url("/now")], "relevant = true"),
        )
        store = Store(config.store.url)
        clock = Clock(datetime(2026, 11, 25, 2, 0, tzinfo=UTC))  # 10:00 in Shanghai
        pipeline = Pipeline(config, store, now=clock)
        dispatcher = Dispatcher(config, store, now=clock)
        pipeline.check_all()
        replica.items[:0] = [CART, AAV, PLAIN]
        fda.items.insert(0, FDA_CART)
        pipeline.check_all()
        dispatcher.run_once()
        assert len(posts_to(hook, "/now")) == 3 and posts_to(hook, "/digest") == []

        clock.t = datetime(2026, 11, 25, 20, 0, tzinfo=UTC)  # 04:00 on the 26th
        replica.items.insert(
            0,
            Item(
                "20261125090000012",
                "干细胞治疗产品临床研究技术指导原则（征求意见稿）",
                "2026-11-25",
            ),
        )
        pipeline.check_all()
        for moment in (datetime(2026, 11, 25, 20, 0), datetime(2026, 11, 26, 0, 59)):
            clock.t = moment.replace(tzinfo=UTC)
            dispatcher.run_once()
            assert posts_to(hook, "/digest") == []  # not before 09:00
        assert len(posts_to(hook, "/now")) == 4

        clock.t = datetime(2026, 11, 26, 1, 0, tzinfo=UTC)  # 09:00 in Shanghai
        assert dispatcher.run_once().sent == 4  # four rows, one message
        clock.advance(minutes=5)
        dispatcher.run_once()
        (digest,) = posts_to(hook, "/digest")
        assert digest.json["title"] == "regwatch digest 2026-11-26 — 4 alerts"
        message = digest.json["message"]
        assert message.index("== FDA (1) ==") < message.index("== NMPA (3) ==")
        nmpa_part = message[message.index("== NMPA (3) ==") :]
        for item in (CART, AAV):
            assert item.title in nmpa_part
        assert FDA_CART.title in message[: message.index("== NMPA (3) ==")]
        assert PLAIN.title not in message  # not relevant
        assert (
            "-- Cell therapy 细胞治疗药品 --" in nmpa_part
            and "-- Gene therapy 基因治疗药品 --" in nmpa_part
        )

        # the next change waits for the next morning
        replica.items.insert(
            0,
            Item(
                "20261126090000013", "溶瘤病毒产品药学研究技术指导原则（征求意见稿）", "2026-11-26"
            ),
        )
        pipeline.check_all()
        clock.t = datetime(2026, 11, 27, 0, 59, tzinfo=UTC)
        dispatcher.run_once()
        assert len(posts_to(hook, "/digest")) == 1
        clock.t = datetime(2026, 11, 27, 1, 0, tzinfo=UTC)
        dispatcher.run_once()
        assert len(posts_to(hook, "/digest")) == 2
        assert posts_to(hook, "/digest")[1].json["title"] == "regwatch digest 2026-11-27 — 1 alert"


def test_a_digest_retry_does_not_mix_alerts_one_url_already_has(tmp_path: Path) -> None:
    with WebhookReceiver() as good, WebhookReceiver() as bad:
        config = make_config(
            tmp_path,
            route_toml(
                "daily",
                [good.json_url("/d"), bad.json_url("/d")],
                "",
                "mode = 'digest'\ndigest = 'daily 09:00 UTC'",
            ),
            delivery="backoff = 30",
        )
        store = Store(config.store.url)
        clock = Clock(datetime(2026, 11, 25, 10, 0, tzinfo=UTC))
        dispatcher = Dispatcher(config, store, now=clock)
        queue(store, config, [draft_alert(1), draft_alert(2)], clock.t)
        bad.mode = "fail"
        clock.t = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
        assert dispatcher.run_once().retrying == 2
        clock.advance(seconds=10)
        queue(store, config, [draft_alert(3)], clock.t)  # arrives after the digest went out
        bad.mode = "ok"
        clock.advance(minutes=1)
        assert dispatcher.run_once().sent == 2  # 1 and 2 reach the second URL
        clock.t = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)
        assert dispatcher.run_once().sent == 1  # 3 goes to both next morning

        def digests(hook: WebhookReceiver) -> list[list[str]]:
            return [sorted(re.findall(r"第(\d)号", p.json["message"])) for p in hook.posts]

        assert digests(good) == [["1", "2"], ["3"]]
        assert digests(bad) == [["1", "2"], ["1", "2"], ["3"]]  # a failure, then two digests


# -- 6. source health ------------------------------------------------------------------------


def test_a_failing_source_sends_one_health_alert_and_one_recovered(
    site: tuple[ListSite, ReplicaServer],
    smtp: SmtpReceiver,
    hook: WebhookReceiver,
    tmp_path: Path,
) -> None:
    replica, server = site
    config = make_config(
        tmp_path,
        source_toml("nmpa-like", server.url)
        + route_toml(
            "ops",
            [smtp.mailto_url(user="alice", password=PASSWORD)],
            "kinds = ['health', 'recovered']",
        )
        + route_toml("cgt", [hook.json_url("/cgt")], "relevant = true"),
        alert_after=2,
    )
    store = Store(config.store.url)
    pipeline, dispatcher = Pipeline(config, store), Dispatcher(config, store)
    source = config.sources[0]
    pipeline.check(source)
    replica.mode = "error"
    for _ in range(5):
        assert pipeline.check(source).outcome == "failed"
        dispatcher.run_once()
    (mail,) = smtp.wait_for(1)
    assert mail["Subject"].startswith("[regwatch] Source failing: nmpa-like")
    assert "503" in mail.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    replica.mode = "ok"
    assert pipeline.check(source).outcome == "unchanged"
    dispatcher.run_once()
    mails = smtp.wait_for(2)
    assert mails[1]["Subject"] == "[regwatch] Recovered: nmpa-like works again"
    for _ in range(2):
        pipeline.check(source)
        dispatcher.run_once()
    replica.mode = "error"
    pipeline.check(source)  # one failure, below alert_after: quiet
    assert dispatcher.run_once().sent == 0
    assert len(smtp.mails) == 2 and hook.posts == []
    assert [json.loads(r.alert)["kind"] for r in deliveries(store)] == ["health", "recovered"]
