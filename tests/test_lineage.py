"""Draft → final: a consultation and its final version are linked as one
lineage and the change says "finalised", on every regulator's own pattern."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from sqlmodel import select

from monitor.config import loads
from monitor.history import ChangeFilter, list_changes
from monitor.pipeline.check import Pipeline
from monitor.pipeline.lineage import stem
from monitor.replica.cde import CdeReplica
from monitor.replica.ema import EmaReplica
from monitor.replica.fda import FdaReplica
from monitor.replica.server import ReplicaServer, Router
from monitor.store import Store
from monitor.store.models import DocumentRow

TODAY = date(2026, 11, 2)


def setup(tmp_path: Path, base: str) -> tuple[Pipeline, Store]:
    config = loads(f"""
[store]
url = "sqlite:///{tmp_path / "l.db"}"
[http]
delay = 0
retries = 0
[[source]]
name = "cde"
kind = "cde"
base_url = "{base}/cde"
[[source]]
name = "fda"
kind = "fda-guidance"
base_url = "{base}/fda"
[[source]]
name = "ema"
kind = "ema-documents"
base_url = "{base}/ema"
""")
    store = Store(config.store.url)
    return Pipeline(config, store), store


def test_drafts_and_finals_are_linked_on_each_site(tmp_path: Path) -> None:
    cde, fda, ema = CdeReplica(), FdaReplica(today=TODAY), EmaReplica(today=TODAY)
    with ReplicaServer(Router({"/cde": cde, "/fda": fda, "/ema": ema})) as server:
        pipeline, store = setup(tmp_path, server.url)
        pipeline.check_all()

        name = "异种移植用细胞产品药学研究技术指导原则"
        cde.add_opinion(name, "20261103")
        fda_slug = fda.add_guidance(
            "Considerations for Allogeneic Induced Pluripotent Stem Cell-Derived Products",
            cgt_label="Draft Guidance for Industry",
        )
        ema_id = ema.add_document(
            "Guideline on the development of tissue-engineered cartilage products"
        )
        pipeline.check_all()
        drafts = [c for c in list_changes(store, ChangeFilter(limit=100)) if c["event"] == "draft"]
        assert len(drafts) == 3 and all(c["comment_deadline"] for c in drafts)

        # CDE's 文号 of a guideline is the number of the 通告 that published it
        cde.add_guideline(f"{name}（试行）", "20261201", doc_number="2026年第50号")
        cde.add_guideline(
            f"国家药监局药审中心关于发布《{name}（试行）》的通告（2026年第50号）",
            "20261201",
            listing="notices",
        )
        fda.finalise(fda_slug, keep_slug=False)
        ema.adopt(ema_id)
        pipeline.check_all()

    finals = [c for c in list_changes(store, ChangeFilter(limit=100)) if c["event"] == "finalised"]
    alerted = sorted((c["source"], c["status"]) for c in finals if c["mirror_of"] is None)
    assert alerted == [("cde", "final"), ("ema", "final"), ("fda", "final")]
    # CDE's 发布通告 about the same guideline: the same lineage, stored but not alerted twice
    mirrors = [c for c in finals if c["mirror_of"] is not None]
    assert [c["source"] for c in mirrors] == ["cde"]
    with store.session() as session:
        linked = session.exec(select(DocumentRow).where(DocumentRow.linked_to != None)).all()  # noqa: E711
        drafts_by_id = {d.id: d for d in session.exec(select(DocumentRow)).all()}
    assert len(linked) == 4  # CDE: the guideline and its 发布通告 both finalise the draft
    for doc in linked:
        draft = drafts_by_id[doc.linked_to]
        assert draft.status == "draft" and draft.lineage == doc.lineage


def test_stem_ignores_status_words_widths_and_notice_wrappers() -> None:
    plain = stem("细胞治疗产品生产质量管理指南")
    for title in [
        "关于公开征求《细胞治疗产品生产质量管理指南（征求意见稿）》意见的通知",
        "细胞治疗产品生产质量管理指南(试行)",
        "国家药监局药审中心关于发布《细胞治疗产品生产质量管理指南（试行）》的通告（2026年第3号）",
    ]:
        assert stem(title) == plain
    assert stem(
        "Potency Assurance for Cellular and Gene Therapy Products; Draft Guidance for Industry"
    ) == stem("Potency Assurance for Cellular and Gene Therapy Products")
    assert stem("细胞治疗产品生产质量管理指南") != stem("基因治疗产品生产质量管理指南")
