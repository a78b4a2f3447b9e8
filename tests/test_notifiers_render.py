"""Rendering alerts and digests: headlines, bilingual labels, escaping, overrides, limits."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from notifiers import (
    Alert,
    Message,
    Route,
    TemplateError,
    cut_to,
    fit,
    format_for,
    limit_for,
    render_alert,
    render_digest,
)
from notifiers.render import counts_bytes

WHEN = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)
CN_TITLE = "嵌合抗原受体T细胞(CAR-T)治疗产品药学研究技术指导原则（征求意见稿）"
EN_TITLE = "Human Gene Therapy Products Incorporating Human Genome Editing"
CDE_URL = "https://www.cde.org.cn/main/news/viewInfoCommon/7c8b5f"
FDA_URL = "https://www.fda.gov/regulatory-information/search-fda-guidance-documents/genome-editing"
FORMATS = ("text", "markdown", "html")


def cde(kind: str, **fields: object) -> Alert:
    base: dict[str, object] = {
        "id": "17",
        "kind": kind,
        "source": "cde-guidelines",
        "regulator": "CDE",
        "jurisdiction": "CN",
        "title": CN_TITLE,
        "url": CDE_URL,
        "detected_at": WHEN,
        "relevant": True,
        "cn": ("cell_therapy",),
        "eu": ("gtmp",),
        "us": ("cellular_gene_therapy",),
        "modalities": ("car_t",),
        "doc_type": "guideline",
    }
    base.update(fields)
    return Alert(**base)  # type: ignore[arg-type]


def fda(kind: str, **fields: object) -> Alert:
    base: dict[str, object] = {
        "id": "18",
        "kind": kind,
        "source": "fda-guidance",
        "regulator": "FDA",
        "jurisdiction": "US",
        "title": EN_TITLE,
        "url": FDA_URL,
        "detected_at": WHEN,
        "relevant": True,
        "cn": ("gene_therapy",),
        "eu": ("gtmp",),
        "us": ("gene_therapy",),
        "modalities": ("gene_editing",),
        "doc_type": "guideline",
        "status": "final",
    }
    base.update(fields)
    return Alert(**base)  # type: ignore[arg-type]


# (alert, headline) pairs; the headlines are the wording users read, written by hand.
HEADLINES = [
    (
        cde("draft", status="draft", comment_deadline=date(2026, 12, 31)),
        "New draft open for comment until 2026-12-31 (36 days left)",
    ),
    (cde("draft", status="draft"), "New draft open for comment"),
    (cde("finalised", status="final"), "Finalised"),
    (fda("changed", fields_changed=("title", "text")), "Revised: title, attachment text"),
    (fda("changed"), "Revised"),
    (fda("withdrawn", status="withdrawn"), "Withdrawn"),
    (fda("removed"), "Removed from the list"),
    (fda("added"), "New guideline"),
    (fda("added", doc_type=""), "New document"),
    (fda("page_changed"), "Page changed"),
    (
        cde("reminder", comment_deadline=date(2026, 12, 31), days_left=7),
        "Comment deadline in 7 days (2026-12-31)",
    ),
    (
        cde("reminder", comment_deadline=date(2026, 12, 31), days_left=1),
        "Comment deadline in 1 day (2026-12-31)",
    ),
    (
        cde("health", failures=3, detail="HTTP 412 with a JavaScript challenge"),
        "Source failing: cde-guidelines (3 checks in a row): HTTP 412 with a JavaScript challenge",
    ),
    (cde("recovered"), "Recovered: cde-guidelines works again"),
    (
        cde("baseline", detail="118 documents stored"),
        "Baseline stored for cde-guidelines: 118 documents stored",
    ),
    (cde("test"), "Test alert from regwatch"),
]


@pytest.mark.parametrize(("item", "headline"), HEADLINES, ids=[h for _, h in HEADLINES])
@pytest.mark.parametrize("fmt", FORMATS)
def test_every_kind_has_its_headline(item: Alert, headline: str, fmt: str) -> None:
    message = render_alert(item, fmt=fmt)
    assert message.format == fmt
    assert headline in message.body
    assert headline in message.title
    assert "\n" not in message.title


@pytest.mark.parametrize("fmt", FORMATS)
def test_alert_shows_regulator_title_classes_and_link(fmt: str) -> None:
    message = render_alert(cde("finalised", status="final"), fmt=fmt)
    body = message.body
    assert "CDE" in body and "CDE" in message.title
    assert CN_TITLE in body and CN_TITLE in message.title  # the title in its own language
    assert "Cell therapy 细胞治疗药品" in body
    assert "GTMP 基因治疗药品" in body
    assert "CAR-T 嵌合抗原受体T细胞" in body
    assert CDE_URL in body
    english = render_alert(fda("added"), fmt=fmt).body
    assert EN_TITLE in english and "Gene therapy 基因治疗药品" in english


def test_html_links_the_title() -> None:
    body = render_alert(cde("finalised"), fmt="html").body
    assert f'<a href="{CDE_URL}">{CN_TITLE}</a>' in body


@pytest.mark.parametrize("fmt", FORMATS)
def test_revision_shows_a_short_diff_excerpt(fmt: str) -> None:
    diff = "- 应当开展不少于6个月的随访\n+ 应当开展不少于12个月的随访\n  其他内容不变"
    body = render_alert(fda("changed", fields_changed=("text",), diff_excerpt=diff), fmt=fmt).body
    assert "不少于6个月" in body and "不少于12个月" in body
    long_diff = "\n".join(f"+ added line {n}" for n in range(40))
    body = render_alert(fda("changed", diff_excerpt=long_diff), fmt=fmt).body
    assert "added line 11" in body and "added line 12" not in body and "…" in body


def test_html_is_escaped_and_text_is_not() -> None:
    nasty = fda("added", title='<script>alert("x")</script> Gene & Cell', url="javascript:alert(1)")
    html = render_alert(nasty, fmt="html").body
    assert "<script>" not in html
    assert "&lt;script&gt;" in html and "Gene &amp; Cell" in html
    assert 'href="javascript' not in html
    text = render_alert(nasty, fmt="text").body
    assert '<script>alert("x")</script> Gene & Cell' in text


def test_draft_deadline_counts_from_the_detection_day() -> None:
    later = cde(
        "draft",
        status="draft",
        comment_deadline=date(2026, 12, 31),
        detected_at=datetime(2026, 12, 30, 12, 0, tzinfo=UTC),
    )
    assert "(1 day left)" in render_alert(later, fmt="text").body
    closed = cde("draft", comment_deadline=date(2026, 11, 1))
    assert "comment period closed 2026-11-01" in render_alert(closed, fmt="text").body


def test_user_templates_override_bundled_ones(tmp_path: Path) -> None:
    (tmp_path / "alert.md.j2").write_text(
        "CUSTOM {{ regulator }} | {{ headline }} | {{ classes_line }}\n", encoding="utf-8"
    )
    (tmp_path / "alert_title.txt.j2").write_text("T: {{ title }}", encoding="utf-8")
    mine = render_alert(cde("finalised"), fmt="markdown", templates_dir=str(tmp_path))
    assert (
        mine.body
        == "CUSTOM CDE | Finalised | CN: Cell therapy 细胞治疗药品 · EU: GTMP 基因治疗药品 · US: Cellular & gene therapy 细胞和基因治疗"
    )
    assert mine.title == f"T: {CN_TITLE}"
    # Formats the user did not override come from the bundled templates.
    bundled = render_alert(cde("finalised"), fmt="text")
    assert (
        render_alert(cde("finalised"), fmt="text", templates_dir=str(tmp_path)).body == bundled.body
    )
    # A route accepts the directory.
    route = Route(name="r", urls=["json://127.0.0.1:9/"], templates=str(tmp_path))
    assert route.templates == str(tmp_path)


def test_broken_user_templates_are_reported(tmp_path: Path) -> None:
    (tmp_path / "alert.txt.j2").write_text("line one\n{{ headline }\n", encoding="utf-8")
    with pytest.raises(TemplateError, match=r"alert.txt.j2 line 2"):
        render_alert(cde("finalised"), fmt="text", templates_dir=str(tmp_path))
    with pytest.raises(ValidationError) as caught:
        Route(name="r", urls=["json://127.0.0.1:9/"], templates=str(tmp_path))
    assert caught.value.errors()[0]["loc"] == ("templates",)
    assert "alert.txt.j2 line 2" in str(caught.value)
    other = tmp_path / "typo"
    other.mkdir()
    (other / "alert.markdown.j2").write_text("x", encoding="utf-8")
    with pytest.raises(ValidationError, match="not a regwatch template"):
        Route(name="r", urls=["json://127.0.0.1:9/"], templates=str(other))
    undefined = tmp_path / "undefined"
    undefined.mkdir()
    (undefined / "alert.txt.j2").write_text("{{ no_such_value }}", encoding="utf-8")
    with pytest.raises(TemplateError, match="no_such_value"):
        render_alert(cde("finalised"), fmt="text", templates_dir=str(undefined))


def test_unknown_format_is_refused() -> None:
    with pytest.raises(ValueError, match="rtf"):
        render_alert(cde("finalised"), fmt="rtf")


def test_digest_groups_by_regulator_then_class() -> None:
    items = [
        fda("added", id="1"),
        cde("finalised", id="2", title="细胞治疗产品临床试验技术指导原则"),
        cde(
            "changed",
            id="3",
            title="基因治疗产品长期随访临床研究技术指导原则",
            cn=("gene_therapy",),
            eu=("gtmp",),
            us=("gene_therapy",),
            modalities=("aav",),
        ),
        cde("health", id="4", failures=3, detail="HTTP 412"),
        cde(
            "draft",
            id="5",
            title="干细胞治疗产品药学研究指导原则（征求意见稿）",
            comment_deadline=date(2026, 12, 31),
        ),
        fda("added", id="6", title="Some unclassified notice", cn=(), eu=(), us=(), relevant=False),
    ]
    message = render_digest(items, fmt="text", title="regwatch daily digest")
    assert message.title == "regwatch daily digest — 6 alerts"
    lines = message.body.splitlines()
    headers = [line for line in lines if line.startswith(("==", "--"))]
    assert headers == [
        "== CDE (4) ==",
        "-- Cell therapy 细胞治疗药品 --",
        "-- Gene therapy 基因治疗药品 --",
        "-- Source health 数据源状态 --",
        "== FDA (2) ==",
        "-- Gene therapy 基因治疗 --",  # the FDA's class keeps the therapy's name
        "-- Not classified 未分类 --",
    ]
    cell = lines.index("-- Cell therapy 细胞治疗药品 --")
    gene = lines.index("-- Gene therapy 基因治疗药品 --")
    cell_block = "\n".join(lines[cell:gene])
    assert "细胞治疗产品临床试验技术指导原则" in cell_block
    assert "干细胞治疗产品药学研究指导原则" in cell_block
    assert "New draft open for comment until 2026-12-31" in cell_block
    assert CDE_URL in cell_block
    for fmt in ("markdown", "html"):
        body = render_digest(items, fmt=fmt, title="regwatch daily digest").body
        assert body.index("CDE") < body.index("Cell therapy 细胞治疗药品") < body.index("FDA")
        assert "基因治疗产品长期随访临床研究技术指导原则" in body


# --- services: formats and limits ------------------------------------------------------

SERVICE_FORMATS = {
    "mailto://alice:pw@smtp.example.com?to=ra@example.com": ("html", 1_000_000, False),
    "mailtos://alice:pw@smtp.example.com?to=ra@example.com": ("html", 1_000_000, False),
    "slack://T1JJ3T3L2/A1BRTD4JD/TIiajkdnlazkcOXrIdevi7/#cgt": ("markdown", 3500, False),
    "https://hooks.slack.com/services/T1JJ3T3L2/A1BRTD4JD/TIiajkdnlazkcOXrIdevi7": (
        "markdown",
        3500,
        False,
    ),
    "wecombot://abcdefghijklmnop0123456789": ("text", 2048, True),
    "dingtalk://accesstoken123456": ("markdown", 19000, True),
    "feishu://token789abcdef": ("markdown", 18000, True),
    "lark://token789abcdef": ("markdown", 18000, True),
    "discord://1234567/abcdeftoken": ("markdown", 2000, False),
    "tgram://123456789:abcdefghij/12345": ("markdown", 4096, False),
    "workflows://host.logic.azure.com:443/workflow1234/signature5678": ("markdown", 20000, True),
    "matrix://user:pw@matrix.example.com/#room": ("markdown", 30000, False),
    "json://127.0.0.1:9/hook": ("text", 100_000, False),
    "xml://127.0.0.1:9/hook": ("text", 100_000, False),
}


@pytest.mark.parametrize("url", sorted(SERVICE_FORMATS))
def test_format_and_limit_per_service(url: str) -> None:
    assert (format_for(url), limit_for(url), counts_bytes(url)) == SERVICE_FORMATS[url]


def test_unlisted_service_gets_text_and_apprise_limit() -> None:
    # Pushover declares a 1024-character body in apprise.
    url = "pover://u" + "a" * 29 + "@t" + "b" * 29
    assert format_for(url) == "text" and limit_for(url) == 1024


def test_cut_to_cuts_at_a_line_and_says_so() -> None:
    text = "\n".join(f"line {n:02d}" for n in range(20))
    cut = cut_to(text, 40)
    assert cut == "line 00\nline 01\nline 02\nline 03\n… (cut)"  # 31 + 8 characters
    assert len(cut) <= 40
    assert cut_to(text, 10_000) == text
    assert cut_to("x" * 50, 20) == "x" * 12 + "\n… (cut)"


def test_cut_to_counts_bytes_for_wecom() -> None:
    line = "基因治疗产品长期随访临床研究技术指导原则：第十二条修订" * 3  # 3 bytes per char
    text = "\n".join(f"{n}. {line}" for n in range(30))
    assert len(text) < 4096 < len(text.encode("utf-8"))
    cut = cut_to(text, 4096, in_bytes=True)
    assert len(cut.encode("utf-8")) <= 4096
    assert cut.endswith("\n… (cut)")
    assert text.startswith(cut.removesuffix("\n… (cut)"))
    assert cut_to(text, 4096) == text  # in characters it fits


@given(
    st.text(alphabet=st.sampled_from("ab 基因\n"), max_size=400), st.integers(0, 300), st.booleans()
)
def test_cut_to_never_exceeds_the_limit(text: str, limit: int, in_bytes: bool) -> None:
    cut = cut_to(text, limit, in_bytes=in_bytes)
    size = len(cut.encode("utf-8")) if in_bytes else len(cut)
    assert size <= limit
    assert cut == text or cut.endswith("(cut)") or len(cut) < len(text)


def test_fit_leaves_room_for_a_merged_title() -> None:
    body = "\n".join(f"第{n}条 细胞治疗产品应当建立完善的质量管理体系。" for n in range(200))
    message = Message(
        title="[CDE] Revised — 细胞治疗产品生产质量管理指南", body=body, format="text"
    )
    wecom = fit(message, "wecombot://abcdefghijklmnop0123456789")
    total = len(wecom.title.encode()) + 2 + len(wecom.body.encode())
    assert total <= 2048 and wecom.body.endswith("… (cut)")
    discord = fit(message, "discord://1234567/abcdeftoken")
    assert len(discord.body) <= 2000
    email = fit(message, "mailto://a:b@smtp.example.com?to=ra@example.com")
    assert email.body == body
