"""Attachments: only the source's own host is followed, the byte cap holds,
text is extracted and stored, and a revised file is a new version with a
stored text diff."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from monitor.config import loads
from monitor.history import ChangeFilter, diff_versions, get_change, list_changes
from monitor.pipeline.check import Pipeline
from monitor.replica.data_west import pdf_bytes
from monitor.replica.ema import EmaReplica
from monitor.replica.server import ReplicaServer, Request, Response, Router
from monitor.store import Store

TITLE = "CAR-T细胞治疗产品药学研究技术指导原则"


class FileSite:
    def __init__(self, other: str) -> None:
        self.other = other
        self.big = False

    def __call__(self, request: Request) -> Response:
        if request.path == "/list.html":
            return Response(
                body=(
                    '<ul class="docs"><li><a href="/doc/1.html">' + TITLE + "</a>"
                    '<a class="f" href="/files/guide.pdf">正文</a>'
                    f'<a class="f" href="{self.other}/files/elsewhere.pdf">外站附件</a>'
                    '<a class="f" href="/files/huge.pdf">大文件</a></li></ul>'
                )
            )
        if request.path == "/files/guide.pdf":
            return Response(
                body=pdf_bytes(TITLE, ["Section 1: vector copy number."]),
                content_type="application/pdf",
            )
        if request.path == "/files/huge.pdf":
            return Response(body=b"%PDF-1.4\n" + b"0" * 300_000, content_type="application/pdf")
        return Response(status=404, body="no")


def test_attachments_on_the_own_host_only_and_within_the_cap(tmp_path: Path) -> None:
    with ReplicaServer(lambda r: Response(body=pdf_bytes("x"))) as other:
        foreign = other.url.replace("127.0.0.1", "localhost")
        site = FileSite(foreign)
        with ReplicaServer(site) as server:
            config = loads(f"""
[store]
url = "sqlite:///{tmp_path / "a.db"}"
[http]
delay = 0
retries = 0
max_bytes = 200000
[[source]]
name = "docs"
kind = "html-list"
url = "{server.url}/list.html"
item = "ul.docs li"
files = ["a.f"]
""")
            store = Store(config.store.url)
            result = Pipeline(config, store).check(config.sources[0])
            assert result.outcome == "baseline"
            fetched = [r.path for r in server.requests]
        assert other.requests == []  # another host is never followed
    assert "/files/guide.pdf" in fetched and "/files/huge.pdf" in fetched
    from sqlmodel import select

    from monitor.store.models import DocumentRow

    with store.session() as session:
        doc = session.exec(select(DocumentRow)).one()
    import json

    hashes = json.loads(doc.attachments)
    assert list(hashes) == [f"{server.url}/files/guide.pdf"]  # the oversized one is skipped
    assert "vector copy number" in (store.blob_text(doc.text_hash) or "")


def test_a_revised_file_is_a_new_version_with_a_text_diff(tmp_path: Path) -> None:
    ema = EmaReplica(size=800, today=date(2026, 11, 2))
    name = "Guideline on human cell-based medicinal products"
    doc_id = next(i for i, d in ema.docs.items() if d.name == name)
    with ReplicaServer(Router({"/ema": ema})) as server:
        config = loads(f"""
[store]
url = "sqlite:///{tmp_path / "e.db"}"
[http]
delay = 0
retries = 0
[[source]]
name = "ema"
kind = "ema-documents"
base_url = "{server.url}/ema"
""")
        store = Store(config.store.url)
        pipeline = Pipeline(config, store)
        pipeline.check(config.sources[0])
        ema.refresh()  # a new export, nothing changed
        assert pipeline.check(config.sources[0]).changes == 0
        ema.revise(doc_id, line="Section 5.3: potency assay requirements revised.")
        result = pipeline.check(config.sources[0])
    assert result.changes == 1
    change = list_changes(store, ChangeFilter(limit=1))[0]
    assert change["event"] == "changed" and "attachment text" in change["fields_changed"]
    assert "potency assay" in change["excerpt"]
    shown = get_change(store, change["id"])
    assert "{+" in (shown["diff"] or "")
    assert "potency assay" in diff_versions(store, change["document_id"]).unified()


def test_a_file_revised_at_the_same_url_is_found_by_the_weekly_reread(tmp_path: Path) -> None:
    from datetime import UTC, datetime, timedelta

    from monitor.replica.cde import CdeReplica

    cde = CdeReplica()
    target = next(
        g
        for g in cde.guidelines.values()
        if "CAR-T" in g.title and g.files and g.nowstate == "颁布"
    )
    clock = {"now": datetime(2026, 11, 2, 8, tzinfo=UTC)}
    with ReplicaServer(Router({"/cde": cde})) as server:
        config = loads(f"""
[store]
url = "sqlite:///{tmp_path / "r.db"}"
[http]
delay = 0
retries = 0
[[source]]
name = "cde"
kind = "cde"
base_url = "{server.url}/cde"
lists = ["domestic"]
recheck_days = 7
ambiguous_per_run = 0  # the re-reads alone (ambiguous titles have their own budget)
""")
        store = Store(config.store.url)
        pipeline = Pipeline(config, store, now=lambda: clock["now"])
        pipeline.check(config.sources[0])
        cde.revise_attachment(target.id)  # same URL, new bytes, list unchanged
        clock["now"] += timedelta(days=1)
        assert pipeline.check(config.sources[0]).changes == 0  # not due yet
        downloads = len([r for r in server.requests if "downloadAtt" in r.path])
        clock["now"] += timedelta(days=7)
        results, reread = [], []
        for _ in range(4):  # at most recheck_per_run = 5 files a run
            results.append(pipeline.check(config.sources[0]))
            now_downloads = len([r for r in server.requests if "downloadAtt" in r.path])
            reread.append(now_downloads - downloads)
            downloads = now_downloads
    assert all(n <= 5 for n in reread) and sum(reread) >= 10
    assert sum(r.changes for r in results) == 1
    change = list_changes(store, ChangeFilter(limit=1))[0]
    assert change["title"] == target.title and change["fields_changed"] == ["attachment text"]


def test_no_download_happens_while_the_database_write_lock_is_held(tmp_path: Path) -> None:
    from monitor.replica.cde import CdeReplica
    from sources.fetch.http import HttpFetcher, HttpSettings

    cde = CdeReplica()
    under_lock: list[str] = []
    fetched: list[str] = []

    class Watching(HttpFetcher):
        def get(self, url: str, **kwargs):  # type: ignore[no-untyped-def]
            fetched.append(url)
            if store.write_lock._is_owned():  # type: ignore[attr-defined]
                under_lock.append(url)
            return super().get(url, **kwargs)

    with ReplicaServer(Router({"/cde": cde})) as server:
        config = loads(f"""
[store]
url = "sqlite:///{tmp_path / "w.db"}"
[http]
delay = 0
retries = 0
[[source]]
name = "cde"
kind = "cde"
base_url = "{server.url}/cde"
lists = ["domestic"]
""")
        store = Store(config.store.url)
        pipeline = Pipeline(
            config,
            store,
            fetcher_factory=lambda s, v: Watching(HttpSettings(delay=0, retries=0), validators=v),
        )
        assert pipeline.check(config.sources[0]).outcome == "baseline"
    assert any("downloadAtt" in url for url in fetched)
    assert under_lock == []
