"""A document's only version is implied by its row (``monitor.store.versions``):
no version row until the document changes, then its first version written
from the row as it was, and every reader (history, diff, the web pages) shows
what it showed when every version had a row.

Real checks of a real local list site with PDF attachments, into a real
SQLite file and a real PostgreSQL database; the ORM's hooks on real rows. That the reads equal those of the code
before the change was checked by running one scenario (a title change, an
attachment text change, documents removed and listed again, a draft
finalised, a page source) on both and comparing every document's versions,
diffs, document page and change details: identical (see the commit)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlmodel import col, select

from monitor.config import Config, loads
from monitor.errors import NotFound
from monitor.history import (
    ChangeFilter,
    diff_versions,
    document_versions,
    get_change,
    list_changes,
    resolve_version,
)
from monitor.pipeline.check import Pipeline
from monitor.replica.data_west import pdf_bytes
from monitor.replica.server import ReplicaServer, Request, Response
from monitor.store import Store
from monitor.store.models import DocumentRow, SourceRow, VersionRow
from monitor.store.records import record_dict, version_dict
from monitor.store.versions import versions_of
from monitor.web.views import Views
from tests.helpers import stores

TITLE = "细胞治疗产品药学研究技术指导原则"
OTHER = "基因治疗产品长期随访指导原则"
START = datetime(2026, 11, 2, 8, tzinfo=UTC)


class FileSite:
    """A list of two documents, each with one PDF whose text a test edits."""

    def __init__(self) -> None:
        self.titles = {"1": TITLE, "2": OTHER}
        self.files = {"1": "/files/1.pdf", "2": "/files/2.pdf"}
        self.texts = {"/files/1.pdf": "Section 1: vector copy number.", "/files/2.pdf": "Scope."}

    def __call__(self, request: Request) -> Response:
        if request.path == "/list.html":
            items = "".join(
                f'<li><a href="/doc/{n}.html">{title}</a>'
                f'<a class="f" href="{self.files[n]}">正文</a></li>'
                for n, title in self.titles.items()
            )
            return Response(body=f'<ul class="docs">{items}</ul>')
        if request.path in self.texts:
            body = pdf_bytes("guideline", [self.texts[request.path]])
            return Response(body=body, content_type="application/pdf")
        return Response(status=404, body="no")


def _config(tmp_path: Path, base: str) -> Config:
    return loads(f"""
[store]
url = "sqlite:///{tmp_path / "regwatch.db"}"
[http]
delay = 0
retries = 0
[[source]]
name = "docs"
kind = "html-list"
url = "{base}/list.html"
item = "ul.docs li"
files = ["a.f"]
""")


def _rows(store: Store) -> list[VersionRow]:
    with store.session() as session:
        return list(session.exec(select(VersionRow).order_by(col(VersionRow.id))).all())


def _doc(store: Store, url_tail: str) -> DocumentRow:
    with store.session() as session:
        docs = session.exec(select(DocumentRow)).all()
    return next(d for d in docs if d.url.endswith(url_tail))


@pytest.fixture(params=["sqlite", "postgres"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    with stores.store_url(tmp_path, request.param) as url:
        yield url


def test_a_document_changed_twice_reads_the_versions_it_always_had(
    tmp_path: Path, store_url: str
) -> None:
    site = FileSite()
    clock = {"now": START}
    with ReplicaServer(site) as server:
        config = _config(tmp_path, server.url)
        store = Store(store_url)  # the config's own SQLite file is never opened
        pipeline = Pipeline(config, store, now=lambda: clock["now"])
        assert pipeline.check(config.sources[0]).outcome == "baseline"
        # the baseline wrote no version: each document's row implies its first
        assert _rows(store) == []
        first = _doc(store, "/doc/1.html")
        doc, (only,) = document_versions(store, first.id or 0)
        assert (only.id, only.seen_at, only.text_hash) == (None, first.first_seen, first.text_hash)
        assert version_dict(only, doc) == record_dict(doc) and only.attachments == doc.attachments
        with pytest.raises(NotFound, match="only one version so far"):
            diff_versions(store, first.id or 0)

        clock["now"] += timedelta(days=1)
        site.titles["1"] = TITLE + "（修订）"  # a title change
        assert pipeline.check(config.sources[0]).changes == 1
        clock["now"] += timedelta(days=1)
        site.texts["/files/1b.pdf"] = "Section 1: vector copy number; potency assay revised."
        site.files["1"] = "/files/1b.pdf"  # an attachment whose text changed
        assert pipeline.check(config.sources[0]).changes == 1

    doc = _doc(store, "/doc/1.html")
    other = _doc(store, "/doc/2.html")
    rows = _rows(store)
    # the changed document's three versions have rows; the unchanged one still none
    assert {v.document_id for v in rows} == {doc.id}
    _, versions = document_versions(store, doc.id or 0)
    assert [v.id for v in versions] == [v.id for v in rows]
    assert [v.seen_at for v in versions] == [
        START,
        START + timedelta(days=1),
        START + timedelta(days=2),
    ]
    titles = [version_dict(v, doc)["title"] for v in versions]
    assert titles == [TITLE, TITLE + "（修订）", TITLE + "（修订）"]
    hashes = [v.text_hash for v in versions]
    assert hashes[0] == hashes[1] == first.text_hash != hashes[2] == doc.text_hash
    assert version_dict(versions[0], doc) == {**record_dict(first), "title": TITLE}
    assert versions[0].attachments == first.attachments != versions[2].attachments

    title_diff = diff_versions(store, doc.id or 0, "v1", "v2").unified()
    assert "{+（修订）+}" in title_diff and "potency" not in title_diff
    last = diff_versions(store, doc.id or 0).unified()  # the last two distinct versions
    assert "potency" in last and last == diff_versions(store, doc.id or 0, "2", "3").unified()
    ids = [str(v.id) for v in versions]  # global ids are still accepted
    assert diff_versions(store, doc.id or 0, ids[1], ids[2]).unified() == last

    changes = list_changes(store, ChangeFilter(limit=10))
    assert [c["document_id"] for c in changes] == [doc.id, doc.id]
    shown = get_change(store, changes[0]["id"])
    assert [(v["version"], v["id"]) for v in shown["versions"]] == [
        (1, versions[0].id),
        (2, versions[1].id),
        (3, versions[2].id),
    ]
    assert "attachment text" in shown["fields_changed"]

    # the document that never changed: one version, implied, shown as v1 with no id
    _, (implied,) = document_versions(store, other.id or 0)
    assert implied.id is None and implied.seen_at == other.first_seen == START
    assert resolve_version(other.id or 0, [implied], "v1") is implied
    with pytest.raises(NotFound, match="has versions v1; got 2"):
        resolve_version(other.id or 0, [implied], "2")

    views = Views(store)
    page = views.document(other.id or 0, None, None, full=False, root="")
    assert "only one version so far" in page and OTHER in page
    change_page = views.change(changes[0]["id"], root="")
    assert re.findall(r"(?:diff with )?version v\d", change_page) == [
        "version v1",
        "version v2",
        "diff with version v1",
        "version v3",
        "diff with version v2",
    ]
    assert f"/documents/{doc.id}?v1=2&amp;v2=3" in change_page
    assert "potency" in views.document(doc.id or 0, 2, 3, full=True, root="")
    store.close()


def _store_with_document(tmp_path: Path) -> tuple[Store, int]:
    """A store holding one document written as the writer writes a new one
    (the ORM's insert, no version row)."""
    store = Store(f"sqlite:///{tmp_path / 'regwatch.db'}")
    with store.session(write=True) as session:
        source = SourceRow(name="s", kind="html-list")
        session.add(source)
        session.flush()
        doc = DocumentRow(
            source_id=source.id or 0,
            key="k",
            title=TITLE,
            url="https://example.org/1.html",
            first_seen=START,
            last_seen=START,
            record='{"date":"2026-11-01"}',
            attachments='{"https://example.org/1.pdf":"h1"}',
            text_hash="h1",
        )
        session.add(doc)
        session.flush()
        doc_id = doc.id or 0
    assert _rows(store) == []
    return store, doc_id


def _shown(store: Store, doc_id: int) -> list[tuple[object, ...]]:
    with store.session() as session:
        doc = session.get(DocumentRow, doc_id)
        assert doc is not None
        return [
            (version_dict(v, doc), v.attachments, v.text_hash, v.seen_at)
            for v in versions_of(session, doc)
        ]


def test_a_column_change_without_a_version_writes_the_first_one_from_the_old_row(
    tmp_path: Path,
) -> None:
    """A record refreshed (a change not worth a version: the site's new host)
    changes the row; the first version it implied is written first, as it was."""
    store, doc_id = _store_with_document(tmp_path)
    implied = _shown(store, doc_id)
    with store.session(write=True) as session:
        doc = session.get(DocumentRow, doc_id)
        assert doc is not None
        doc.title, doc.url = TITLE + "（新站）", "https://new.example.org/1.html"
        doc.last_seen = START + timedelta(days=1)
        session.add(doc)
    (row,) = _rows(store)
    assert row.seen_at == START and row.text_hash == "h1"
    assert _shown(store, doc_id) == implied  # its old title and URL, as before
    assert implied[0][0]["title"] == TITLE  # type: ignore[index]
    store.close()


def test_a_column_a_version_does_not_hold_writes_no_version(tmp_path: Path) -> None:
    store, doc_id = _store_with_document(tmp_path)
    with store.session(write=True) as session:
        doc = session.get(DocumentRow, doc_id)
        assert doc is not None
        doc.last_seen, doc.missing_runs, doc.status = START + timedelta(days=1), 1, "final"
        doc.text_hash = "h1"  # the same value: no change
        session.add(doc)
    assert _rows(store) == []
    store.close()


def test_a_second_version_of_an_unchanged_row_writes_the_first_one_before_it(
    tmp_path: Path,
) -> None:
    """A version row added while the row holds what it implied (a late read of
    files that gave the same text): both versions, in order."""
    store, doc_id = _store_with_document(tmp_path)
    implied = _shown(store, doc_id)
    later = START + timedelta(days=3)
    with store.session(write=True) as session:
        session.add(VersionRow(document_id=doc_id, seen_at=later, record='{"date":"2026-11-01"}'))
        session.add(VersionRow(document_id=doc_id, seen_at=later, text_hash="h2"))
    rows = _rows(store)
    assert [r.seen_at for r in rows] == [START, later, later]
    shown = _shown(store, doc_id)
    assert shown[0] == implied[0] and len(shown) == 3
    store.close()
