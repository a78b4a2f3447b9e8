"""Ambiguous titles over the per-run budget are read by later checks (issue 15
leftovers, item 1), through the real pipeline against the CDE replica on
127.0.0.1: a baseline of 75 发布通告 whose titles say nothing downloads
``ambiguous_per_run`` files a check (counted at the server) until all are read;
a notice listed after the baseline whose PDF turns out to be about AAV alerts
once, as "added", saying why it comes late; one from the silent baseline is
classified and stays silent."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from sqlmodel import select

from monitor.config import Config, loads
from monitor.delivery.dispatch import Dispatcher
from monitor.pipeline.check import Pipeline
from monitor.replica.cde import CdeReplica, Guideline
from monitor.replica.server import ReplicaServer, Request, Response
from monitor.store import Store
from monitor.store.models import ChangeRow, DocumentRow
from monitor.store.records import classification_dict
from tests.receivers import WebhookReceiver

AAV_LINES = [
    "二、重组腺相关病毒载体的质量控制",
    "腺相关病毒载体的空壳率应当检测。",
    "腺相关病毒载体基因组滴度与感染性滴度。",
    "AAV载体的血清型鉴别与衣壳蛋白。",
    "腺相关病毒载体的复制型病毒检测。",
]
FOOD_LINES = ["食品中农药残留限量", "婴幼儿配方食品的营养成分"]
PER_RUN = 3


def notice(site: CdeReplica, number: int, lines: list[str]) -> Guideline:
    """A 发布通告 whose title names no subject: ambiguous, with one PDF of ``lines``."""
    day = 20250101 + (number % 28) + (number // 28) * 100
    title = f"国家药监局药审中心关于发布《第{number}批技术指导原则》的通告（2025年第{number}号）"
    record = site.add_guideline(
        title,
        str(day),
        listing="notices",
        doc_number=f"2025年第{number}号",
        attachments=("附件1.pdf",),
    )
    record.files[0].lines = [title, *lines]
    return record


def config_for(tmp_path: Path, base: str, hook: str) -> Config:
    return loads(f"""
[store]
url = "sqlite:///{tmp_path / "regwatch.db"}"
[http]
delay = 0
retries = 0
[[source]]
name = "cde-notices"
kind = "cde"
base_url = "{base}"
lists = ["notices"]
ambiguous_per_run = {PER_RUN}
[[notify]]
name = "team"
urls = ["{hook}"]
match = {{ relevant = true }}
""")


@pytest.fixture
def cde() -> Iterator[tuple[CdeReplica, ReplicaServer]]:
    site = CdeReplica(seeded=False)
    with ReplicaServer(site) as server:
        yield site, server


def downloads(server: ReplicaServer) -> int:
    return sum(1 for r in server.requests if r.path == "/zdyz/downloadAtt")


def test_a_baseline_of_75_is_read_a_budget_a_check_until_none_are_left(
    cde: tuple[CdeReplica, ReplicaServer], tmp_path: Path
) -> None:
    site, server = cde
    for number in range(1, 76):
        notice(site, number, AAV_LINES if number == 2 else FOOD_LINES)
    with WebhookReceiver() as hook:
        config = config_for(tmp_path, server.url, hook.json_url("/team"))
        store = Store(config.store.url)
        pipeline = Pipeline(config, store)
        per_check: list[int] = []
        alerts = 0
        for _ in range(27):
            before = downloads(server)
            result = pipeline.check(config.sources[0])
            assert result.outcome in ("baseline", "unchanged"), result.line()
            alerts += result.alerts
            per_check.append(downloads(server) - before)
    # never everything at once: the budget a check, then nothing once all are read
    assert per_check == [PER_RUN] * 25 + [0, 0]
    with store.session() as session:
        docs = list(session.exec(select(DocumentRow)))
    assert len(docs) == 75 and not any(d.read_pending for d in docs)
    assert all(d.attachments_checked_at is not None for d in docs)
    aav = next(d for d in docs if "第2批" in d.title)
    assert aav.relevant and "evidence_at" in classification_dict(aav)
    assert alerts == 0  # a baseline document found CGT late stays silent, like the baseline


def test_a_late_cgt_notice_listed_after_the_baseline_alerts_once_and_says_why(
    cde: tuple[CdeReplica, ReplicaServer], tmp_path: Path
) -> None:
    site, server = cde
    notice(site, 1, FOOD_LINES)
    with WebhookReceiver() as hook:
        config = config_for(tmp_path, server.url, hook.json_url("/team"))
        store = Store(config.store.url)
        pipeline = Pipeline(config, store)
        assert pipeline.check(config.sources[0]).outcome == "baseline"
        # five new ambiguous notices in one run: the AAV one is the oldest, over budget
        notice(site, 40, AAV_LINES)
        for number in (41, 42, 43, 44):
            notice(site, number, FOOD_LINES)
        first = pipeline.check(config.sources[0])
        assert first.alerts == 0 and first.changes == 5
        before = downloads(server)
        second = pipeline.check(config.sources[0])
        assert downloads(server) - before == 2  # the two left, within the budget
        assert second.alerts == 1 and second.events == ["added"]
        before = downloads(server)
        third = pipeline.check(config.sources[0])
        assert downloads(server) == before and third.alerts == 0
        Dispatcher(config, store).run_once()
        hook.wait_for(1)
        posts = list(hook.posts)
    assert len(posts) == 1
    message = posts[0].json["title"] + "\n" + posts[0].json["message"]
    assert "第40批" in message and "listed since" in message
    assert 'Found in: attachment "附件1.pdf"' in message
    with store.session() as session:
        late = session.exec(
            select(ChangeRow).where(ChangeRow.relevant == True)  # noqa: E712
        ).one()
    assert late.kind == "added" and late.detail.startswith("listed since ")
    assert 'attachment "附件1.pdf" p.1 is about cell and gene therapy' in late.detail


def test_a_waiting_document_gone_from_the_list_is_not_read_late(
    cde: tuple[CdeReplica, ReplicaServer], tmp_path: Path
) -> None:
    site, server = cde
    notice(site, 1, FOOD_LINES)
    with WebhookReceiver() as hook:
        config = config_for(tmp_path, server.url, hook.json_url("/team"))
        store = Store(config.store.url)
        pipeline = Pipeline(config, store)
        pipeline.check(config.sources[0])
        late = notice(site, 40, AAV_LINES)  # the oldest of four: it waits
        for number in (41, 42, 43):
            notice(site, number, FOOD_LINES)
        pipeline.check(config.sources[0])
        site.guidelines.pop(late.id)  # off the list, its file still served below
        site.guidelines[f"x{late.id}"] = replace(late, listing="domestic")
        results = [pipeline.check(config.sources[0]) for _ in range(3)]
    assert [r.events for r in results] == [[], ["removed"], []]
    assert sum(r.alerts for r in results) == 0
    with store.session() as session:
        doc = session.exec(select(DocumentRow).where(DocumentRow.title == late.title)).one()
    assert doc.state == "removed" and not doc.relevant


def test_a_late_read_whose_download_fails_waits_and_is_read_next_time(tmp_path: Path) -> None:
    site = CdeReplica(seeded=False)
    notice(site, 1, FOOD_LINES)
    refused: set[str] = set()

    def app(request: Request) -> Response:
        if request.path == "/zdyz/downloadAtt" and request.query.get("idCODE") in refused:
            return Response(status=404, body="gone for now")
        return site(request)

    with ReplicaServer(app) as server, WebhookReceiver() as hook:
        config = config_for(tmp_path, server.url, hook.json_url("/team"))
        store = Store(config.store.url)
        pipeline = Pipeline(config, store)
        pipeline.check(config.sources[0])
        late = notice(site, 40, AAV_LINES)  # the oldest of four: it waits
        for number in (41, 42, 43):
            notice(site, number, FOOD_LINES)
        pipeline.check(config.sources[0])
        refused.add(late.files[0].id)
        assert pipeline.check(config.sources[0]).alerts == 0  # tried, refused: waits
        with store.session() as session:
            doc = session.exec(select(DocumentRow).where(DocumentRow.title == late.title)).one()
        assert doc.read_pending and doc.attachments_checked_at is not None
        refused.clear()
        assert pipeline.check(config.sources[0]).events == ["added"]
