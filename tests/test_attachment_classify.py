"""A title that says too little is classified by its attachment's first pages
(issue 15), end to end: a CDE-like notice list on 127.0.0.1, the real pipeline,
the real dispatcher and a real webhook receiver.

"国家药监局药审中心关于发布《…等三项技术指导原则》的通告" names no CGT word and no
trap: its PDF's second page is about AAV vectors, so it becomes a CGT alert whose
evidence says where the words were. The same title form whose PDF is about food
stays "not relevant" and sends nothing. Ambiguous reads are budgeted per run.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote

import pytest
from sqlmodel import select
from typer.testing import CliRunner

from monitor.cli.main import app
from monitor.config import Config, loads
from monitor.delivery.dispatch import Dispatcher
from monitor.pipeline.check import Pipeline
from monitor.replica.data_cn import make_docx, make_pdf_pages
from monitor.replica.server import ReplicaServer, Request, Response
from monitor.store import Store
from monitor.store.models import ChangeRow, DocumentRow
from monitor.store.records import classification_dict
from tests.receivers import WebhookReceiver

AAV_PAGES = [
    [
        "为规范药品研发，药审中心组织制定了以下技术指导原则。",
        "一、概述",
        "本文件适用于相关产品的研发。",
    ],
    [
        "二、重组腺相关病毒载体的质量控制",
        "腺相关病毒载体的空壳率应当检测。",
        "腺相关病毒载体基因组滴度与感染性滴度。",
        "AAV载体的血清型鉴别与衣壳蛋白。",
        "腺相关病毒载体的复制型病毒检测。",
    ],
    ["三、参考文献"],
]
FOOD_PAGES = [
    ["为规范食品安全抽检，组织制定了以下技术要求。", "一、概述"],
    ["二、食品中农药残留限量", "婴幼儿配方食品的营养成分", "保健食品原料目录"],
]
BASELINE = "国家药监局关于修订肌苷注射剂说明书的公告（2026年第87号）"
AAV_TITLE = "国家药监局药审中心关于发布《三项技术指导原则》的通告（2026年第51号）"
FOOD_TITLE = "国家药监局药审中心关于发布《两项技术要求指导原则》的通告（2026年第52号）"
DOCX_TITLE = "国家药监局药审中心关于发布《一项技术指导原则》的通告（2026年第53号）"


@dataclass
class Notice:
    path: str
    title: str
    date: str
    file: str = ""  # attachment name, "" for none
    body: bytes = b""


@dataclass
class NoticeSite:
    """A CDE-like 发布通告 list: ``li`` rows with a title link, a date and 附件 links."""

    notices: list[Notice] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)

    def __call__(self, request: Request) -> Response:
        path = unquote(request.path)
        self.requests.append(path)
        if path == "/notices/index.html":
            rows = "".join(
                f'<li><a class="t" href="/news/{n.path}.html">{n.title}</a>'
                f"<span>{n.date}</span>"
                + (f'<a class="f" href="/att/{n.path}/{n.file}">{n.file}</a>' if n.file else "")
                + "</li>"
                for n in self.notices
            )
            return Response(
                body=f'<html><body><ul class="news">{rows}</ul></body></html>'.encode(),
                content_type="text/html; charset=utf-8",
            )
        for notice in self.notices:
            if notice.file and path == f"/att/{notice.path}/{notice.file}":
                mime = "application/pdf" if notice.file.endswith(".pdf") else "application/msword"
                return Response(body=notice.body, content_type=mime)
        return Response(status=404, body="not found")


def config_for(tmp_path: Path, base: str, hook: str, per_run: int = 3) -> Config:
    return loads(f"""
[store]
url = "sqlite:///{tmp_path / "regwatch.db"}"
[http]
delay = 0
retries = 0
[[source]]
name = "cde-notices"
kind = "html-list"
url = "{base}/notices/index.html"
jurisdiction = "CN"
item = "ul.news li"
title = "a.t"
link = "a.t@href"
date = "span"
files = ["a.f"]
ambiguous_per_run = {per_run}
[[notify]]
name = "team"
urls = ["{hook}"]
match = {{ relevant = true }}
""")


@pytest.fixture
def site() -> Iterator[tuple[NoticeSite, ReplicaServer]]:
    notices = NoticeSite([Notice("1", BASELINE, "2026-11-20")])
    with ReplicaServer(notices) as server:
        yield notices, server


def test_an_ambiguous_title_whose_pdf_is_about_aav_is_alerted_with_where(
    site: tuple[NoticeSite, ReplicaServer], tmp_path: Path
) -> None:
    notices, server = site
    with WebhookReceiver() as hook:
        config = config_for(tmp_path, server.url, hook.json_url("/team"))
        store = Store(config.store.url)
        pipeline = Pipeline(config, store)
        assert pipeline.check(config.sources[0]).outcome == "baseline"
        notices.notices += [
            Notice("2", AAV_TITLE, "2026-11-28", "附件1.pdf", make_pdf_pages(AAV_PAGES)),
            Notice("3", FOOD_TITLE, "2026-11-27", "附件1.pdf", make_pdf_pages(FOOD_PAGES)),
        ]
        result = pipeline.check(config.sources[0])
        assert result.changes == 2
        Dispatcher(config, store).run_once()
        hook.wait_for(1)
        posts = list(hook.posts)
    assert "/att/2/附件1.pdf" in notices.requests and "/att/3/附件1.pdf" in notices.requests
    # one alert: the AAV notice; the food one is stored, not relevant, not sent
    assert len(posts) == 1
    message = posts[0].json["title"] + "\n" + posts[0].json["message"]
    assert "三项技术指导原则" in message
    assert 'Found in: attachment "附件1.pdf" p.2: "腺相关病毒载体"' in message
    with store.session() as session:
        docs = {d.title: d for d in session.exec(select(DocumentRow))}
        changes = {c.title: c for c in session.exec(select(ChangeRow))}
    aav = classification_dict(docs[AAV_TITLE])
    assert aav["relevant"] and aav["scope"] == "cgt" and "aav" in aav["modalities"]
    assert aav["cn"] == ["gene_therapy"] and aav["jp"] == ["gene_therapy"]
    where = dict(zip(aav["evidence"], aav["evidence_at"], strict=True))
    assert where["腺相关病毒载体"] == 'attachment "附件1.pdf" p.2'
    assert docs[AAV_TITLE].relevant and not docs[FOOD_TITLE].relevant
    assert changes[AAV_TITLE].jp == ",gene_therapy," and changes[FOOD_TITLE].jp == ""
    food = classification_dict(docs[FOOD_TITLE])
    assert food["scope"] == "none" and "evidence_at" not in food
    assert docs[FOOD_TITLE].text_hash  # read and stored all the same (search finds it)
    # `regwatch show` tells the same
    change_id = changes[AAV_TITLE].id
    shown = CliRunner().invoke(app, ["show", str(change_id), "-c", str(_write(tmp_path, config))])
    assert shown.exit_code == 0, shown.output
    assert 'Found in: attachment "附件1.pdf" p.2: "腺相关病毒载体"' in shown.stdout


def test_a_docx_attachment_has_no_pages_and_says_so(
    site: tuple[NoticeSite, ReplicaServer], tmp_path: Path
) -> None:
    notices, server = site
    with WebhookReceiver() as hook:
        config = config_for(tmp_path, server.url, hook.json_url("/team"))
        store = Store(config.store.url)
        pipeline = Pipeline(config, store)
        pipeline.check(config.sources[0])
        lines = [line for page in AAV_PAGES for line in page]
        notices.notices.append(Notice("4", DOCX_TITLE, "2026-11-28", "附件.docx", make_docx(lines)))
        assert pipeline.check(config.sources[0]).alerts == 1
    with store.session() as session:
        doc = session.exec(select(DocumentRow).where(DocumentRow.title == DOCX_TITLE)).one()
    cls = classification_dict(doc)
    assert 'attachment "附件.docx"' in cls["evidence_at"]


def test_ambiguous_reads_are_budgeted_newest_first(
    site: tuple[NoticeSite, ReplicaServer], tmp_path: Path
) -> None:
    notices, server = site
    with WebhookReceiver() as hook:
        config = config_for(tmp_path, server.url, hook.json_url("/team"), per_run=1)
        store = Store(config.store.url)
        pipeline = Pipeline(config, store)
        pipeline.check(config.sources[0])
        notices.notices += [
            Notice("5", AAV_TITLE, "2026-11-20", "附件1.pdf", make_pdf_pages(AAV_PAGES)),
            Notice("6", FOOD_TITLE, "2026-11-29", "附件1.pdf", make_pdf_pages(FOOD_PAGES)),
        ]
        result = pipeline.check(config.sources[0])
        # only the newest ambiguous notice's file was fetched; the other keeps its
        # title's class for now
        assert "/att/6/附件1.pdf" in notices.requests
        assert "/att/5/附件1.pdf" not in notices.requests
        assert result.alerts == 0
        # the next check (the same page: read as a 304) reads the one that waited
        later = pipeline.check(config.sources[0])
        assert "/att/5/附件1.pdf" in notices.requests
        assert later.alerts == 1 and later.events == ["added"]
        notices.requests.clear()
        assert pipeline.check(config.sources[0]).alerts == 0
    assert not [path for path in notices.requests if path.startswith("/att/")]


def test_a_trap_in_the_title_means_no_read(
    site: tuple[NoticeSite, ReplicaServer], tmp_path: Path
) -> None:
    notices, server = site
    with WebhookReceiver() as hook:
        config = config_for(tmp_path, server.url, hook.json_url("/team"))
        store = Store(config.store.url)
        pipeline = Pipeline(config, store)
        pipeline.check(config.sources[0])
        title = "国家药监局关于发布《疫苗生产车间生物安全通用要求》的通告"
        notices.notices.append(
            Notice("7", title, "2026-11-28", "附件1.pdf", make_pdf_pages(AAV_PAGES))
        )
        assert pipeline.check(config.sources[0]).alerts == 0
    assert "/att/7/附件1.pdf" not in notices.requests


def _write(tmp_path: Path, config: Config) -> Path:
    """The config as a file for the CLI (same store, same source)."""
    path = tmp_path / "regwatch.toml"
    source = config.sources[0]
    path.write_text(
        f"""
[store]
url = "{config.store.url}"
[[source]]
name = "{source.name}"
kind = "html-list"
url = "{source.url}"
item = "ul.news li"
""",
        encoding="utf-8",
    )
    return path


# -- the parts, one at a time ---------------------------------------------------------


def test_first_pages_reads_only_the_pages_and_characters_asked() -> None:
    from sources.text.documents import first_pages

    body = make_pdf_pages(AAV_PAGES)
    pages = first_pages(body, filename="附件1.pdf", pages=2, chars=10_000)
    assert [n for n, _ in pages] == [1, 2]
    assert "腺相关病毒载体" in pages[1][1] and "参考文献" not in "".join(t for _, t in pages)
    first = len(pages[0][1])
    cut = first_pages(body, filename="附件1.pdf", pages=3, chars=first + 5)
    assert [(n, len(t)) for n, t in cut] == [(1, first), (2, 5)]
    docx = first_pages(make_docx(["标题", "腺相关病毒"]), filename="a.docx", pages=3, chars=100)
    assert docx == [(None, "标题\n腺相关病毒")]


def test_locate_reads_the_part_headers() -> None:
    from monitor.classify import locate

    text = "== 附件1.pdf p.1 ==\n概述\n== 附件1.pdf p.2 ==\n腺相关病毒\n== 说明.docx ==\nAAV"
    assert locate(text, text.index("腺相关")) == 'attachment "附件1.pdf" p.2'
    assert locate(text, text.index("概述")) == 'attachment "附件1.pdf" p.1'
    assert locate(text, text.index("AAV")) == 'attachment "说明.docx"'
    assert locate("plain text AAV", 11) == "text"


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        (AAV_TITLE, True),  # says nothing about its subject
        ("Guidance for Industry: Potency Assurance", True),
        ("CAR-T细胞治疗产品药学研究技术指导原则", False),  # relevant by title already
        ("关于发布《药品注册管理办法》的公告", False),  # horizontal: routed as such
        ("国家药监局关于发布《疫苗生产车间生物安全通用要求》的通告", False),  # a trap
        (BASELINE, True),  # a notice: worth a look when it has a file
        # food safety, cosmetics and devices only: traps, never read
        ("国家药监局关于发布《食品安全抽样检验指导原则》的通告", False),
        ("国家药监局关于发布《化妆品安全评估技术导则》的公告", False),
        ("关于发布《医疗器械临床评价技术指导原则》的通告", False),
        ("Food Safety Modernization Act: Produce Safety Rule guidance", False),
        # CFDA's old name and the FD&C Act head medicine documents: still read
        ("国家食品药品监督管理总局关于发布药物临床试验的一般考虑指导原则的通告", True),
        ("Guidance: Section 505(q) of the Federal Food, Drug, and Cosmetic Act", True),
    ],
)
def test_which_titles_are_ambiguous(title: str, expected: bool) -> None:
    from monitor.classify import ambiguous, classify

    assert ambiguous(title, classify(title)) is expected


def test_evidence_at_survives_the_stored_json_and_old_rows_have_none() -> None:
    from monitor.classify import Classification, classify

    text = "== 附件1.pdf p.2 ==\n" + "\n".join(AAV_PAGES[1])
    cls = classify(AAV_TITLE, text=text)
    assert cls.relevant and cls.evidence_at
    assert Classification.from_dict(cls.as_dict()) == cls
    assert "evidence_at" not in classify(AAV_TITLE).as_dict()  # title-only output unchanged
    relevant_title = classify("AAV载体基因治疗产品指导原则", text=text)
    assert relevant_title.evidence_at == ()  # the title decided: no location claimed


def test_a_retitled_document_its_attachment_made_relevant_is_read_first(
    site: tuple[NoticeSite, ReplicaServer], tmp_path: Path
) -> None:
    notices, server = site
    with WebhookReceiver() as hook:
        config = config_for(tmp_path, server.url, hook.json_url("/team"), per_run=1)
        store = Store(config.store.url)
        pipeline = Pipeline(config, store)
        pipeline.check(config.sources[0])
        aav = Notice("8", AAV_TITLE, "2026-11-20", "附件1.pdf", make_pdf_pages(AAV_PAGES))
        notices.notices.append(aav)
        assert pipeline.check(config.sources[0]).alerts == 1
        # retitled, and a newer ambiguous notice arrives in the same run: the budget of
        # one goes to the document whose class came from its attachment
        aav.title = AAV_TITLE.replace("51号", "51号（更正）")
        notices.notices.append(
            Notice("9", FOOD_TITLE, "2026-11-29", "附件1.pdf", make_pdf_pages(FOOD_PAGES))
        )
        notices.requests.clear()
        pipeline.check(config.sources[0])
    assert "/att/8/附件1.pdf" in notices.requests and "/att/9/附件1.pdf" not in notices.requests
    with store.session() as session:
        doc = session.exec(select(DocumentRow).where(DocumentRow.key == "/news/8.html")).one()
    assert doc.relevant and "（更正）" in doc.title
