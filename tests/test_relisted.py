"""A document removed from a list and later listed again (issue 9's trust bar).

Found while benchmarking: the second listing inserted a second row under the
same (source, key) and every later check of the source failed on the unique
constraint — one re-listed item broke the source for good. A re-listed
document is the same document: its row becomes active again, the change is
one "added" saying it is listed again, and its history stays. Real checks on a
real local list site and a real SQLite file.
"""

from __future__ import annotations

from pathlib import Path

from sqlmodel import col, select

from monitor.pipeline.check import Pipeline
from monitor.replica.server import ReplicaServer
from monitor.store import Store
from monitor.store.models import ChangeRow, DocumentRow, VersionRow
from tests.helpers.config import list_config
from tests.sites import Item, ListSite

ITEMS = [
    Item("a1", "细胞治疗产品临床试验技术指导原则", "2026-06-01"),
    Item("a2", "基因治疗产品长期随访临床研究技术指导原则", "2026-05-01"),
    Item("a3", "药品注册核查要点与判定原则", "2026-03-01"),
]


def test_a_removed_document_listed_again_is_one_added_change_on_the_same_row(
    tmp_path: Path,
) -> None:
    site = ListSite(items=list(ITEMS))
    with ReplicaServer(site) as server:
        cfg = list_config(tmp_path, server.url)
        store = Store(cfg.store.url)
        pipeline = Pipeline(cfg, store)
        source = cfg.sources[0]
        outcomes = [pipeline.check(source).outcome]  # baseline
        gone = site.items.pop(1)
        outcomes += [pipeline.check(source).outcome for _ in range(2)]  # removed on the 2nd miss
        site.items.insert(1, gone)
        outcomes += [pipeline.check(source).outcome for _ in range(3)]  # back, then unchanged

    assert outcomes == ["baseline", "unchanged", "changed", "changed", "unchanged", "unchanged"]
    with store.session() as session:
        docs = session.exec(select(DocumentRow)).all()
        assert sorted(d.title for d in docs) == sorted(i.title for i in ITEMS)
        (doc,) = [d for d in docs if d.title == gone.title]
        assert doc.state == "active" and doc.missing_runs == 0
        events = [
            (c.kind, c.detail)
            for c in session.exec(
                select(ChangeRow).where(ChangeRow.document_id == doc.id).order_by(col(ChangeRow.id))
            )
        ]
        versions = session.exec(select(VersionRow).where(VersionRow.document_id == doc.id)).all()
    assert [kind for kind, _ in events] == ["removed", "added"]
    assert events[1][1].startswith("listed again (last listed ")
    assert len(versions) == 2  # the first listing and the second: history kept
