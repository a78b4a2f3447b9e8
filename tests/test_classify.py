"""monitor.classify: the labelled sets, the API contract, metadata precedence,
body text, the fast matcher and the lexicon loader."""

from __future__ import annotations

import json
import re
import shutil
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from monitor.classify import (
    CN,
    DISCIPLINES,
    DOC_TYPES,
    EU,
    JP,
    MODALITIES,
    SCOPES,
    STATUSES,
    US,
    Classification,
    LexiconError,
    classify,
    classify_many,
    load_lexicon,
)
from monitor.classify._lexicon import lexicon, normalise
from monitor.classify._matcher import _starts
from notifiers.labels import label, vocabulary
from tests.helpers.taxonomy import CLASSIFY_FIELDS

ROOT = Path(__file__).resolve().parents[1]
# The project's dev set lives in ../shared/data; a copy is kept in the repo so that a
# clean checkout (CI) runs it too. test_dev_copy_is_current keeps the two equal.
SHARED_DEV = ROOT.parent / "shared" / "data" / "classify-dev.jsonl"
DEV = ROOT / "tests" / "data" / "classify-dev.jsonl"
EXTRA = ROOT / "tests" / "data" / "classify-extra.jsonl"
# The generalisation sample of 2026-12 (issue 16): labelled before the rules that
# now pass it were written; scores before -> after are in bench/score-fresh-*.txt.
# It is a test now, so it no longer measures generalisation: the next sample must
# be new titles again.
FRESH = ROOT / "tests" / "data" / "classify-fresh-2026-12.jsonl"
LEXICON = ROOT / "monitor" / "lexicon"


def labelled(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text("utf-8").splitlines() if line.strip()]


DEV_ROWS = labelled(DEV)
EXTRA_ROWS = labelled(EXTRA)
FRESH_ROWS = labelled(FRESH)
NOT_LABELS = {"text", "source"}


def mismatches(row: dict[str, Any]) -> dict[str, tuple[Any, Any]]:
    got = classify(row["text"]).as_dict(row["text"])
    return {k: (v, got[k]) for k, v in row.items() if k not in NOT_LABELS and got[k] != v}


# ---------------------------------------------------------------------------
# the labelled sets: every field present on a line must match


@pytest.mark.parametrize("row", DEV_ROWS, ids=[r["text"][:40] for r in DEV_ROWS])
def test_dev_set(row: dict[str, Any]) -> None:
    assert mismatches(row) == {}


@pytest.mark.parametrize("row", EXTRA_ROWS, ids=[r["text"][:40] for r in EXTRA_ROWS])
def test_extra_set(row: dict[str, Any]) -> None:
    assert mismatches(row) == {}


# Fresh-sample lines the classifier still gets wrong, kept as labelled (the
# labels are the truth): a fix makes its line fail here until it is removed.
FRESH_MISSES = {
    # stem cells for corneal epithelium: a TEP by its aim, which the title does not say
    "Holoclar: ex vivo expanded autologous human corneal epithelial cells containing stem cells": {
        "eu"
    },
    # "blood" narrows a horizontal title to blood products, but this one is for all biologics
    "Guidance for Industry Preparation of the Quality Information for Drug Submissions in the "
    "CTD Format: Biotherapeutic and Blood Products [2024-04-29]": {"scope"},
    # the blood-components trap silences "cellular therapy products" in the same title
    "Australian code of good manufacturing practice for human blood and blood components, "
    "human tissues and human cellular therapy products": {"relevant", "cn", "jp", "scope"},
}


@pytest.mark.parametrize("row", FRESH_ROWS, ids=[r["text"][:40] for r in FRESH_ROWS])
def test_fresh_set(row: dict[str, Any]) -> None:
    assert set(mismatches(row)) == FRESH_MISSES.get(row["text"], set())


def test_fresh_set_is_apart_and_sourced() -> None:
    assert len(FRESH_ROWS) >= 150
    texts = [r["text"] for r in FRESH_ROWS]
    assert len(set(texts)) == len(texts)
    assert not set(texts) & {r["text"] for r in DEV_ROWS + EXTRA_ROWS}
    assert all(r.get("source") for r in FRESH_ROWS)
    assert set(FRESH_MISSES) <= set(texts)
    japanese = sum(bool(re.search(r"[\u3040-\u30ff]", t)) for t in texts)
    traditional = sum(bool(re.search("[醫療製劑產療細]", t)) for t in texts)
    assert japanese >= 20 and traditional >= 10


def test_dev_copy_is_current() -> None:
    if SHARED_DEV.exists():
        assert DEV.read_text(encoding="utf-8") == SHARED_DEV.read_text(encoding="utf-8")


def test_labelled_sets_are_there_and_balanced() -> None:
    assert DEV_ROWS, f"{DEV} is missing"
    assert len(EXTRA_ROWS) >= 150
    texts = [r["text"] for r in EXTRA_ROWS]
    assert len(set(texts)) == len(texts), "duplicate titles in the extra set"
    assert not set(texts) & {r["text"] for r in DEV_ROWS}, "extra set repeats dev titles"
    relevant = sum(r["relevant"] for r in EXTRA_ROWS)
    chinese = sum(not r["text"].isascii() for r in EXTRA_ROWS)
    assert 50 <= relevant <= len(EXTRA_ROWS) - 50
    assert 50 <= chinese <= len(EXTRA_ROWS) - 50


def test_labels_use_the_vocabularies() -> None:
    for row in DEV_ROWS + EXTRA_ROWS + FRESH_ROWS:
        Classification.from_dict({k: v for k, v in row.items() if k not in NOT_LABELS})


def accuracy(rows: list[dict[str, Any]]) -> dict[str, float]:
    right: dict[str, int] = defaultdict(int)
    total: dict[str, int] = defaultdict(int)
    for row in rows:
        got = classify(row["text"]).as_dict()
        for key, want in row.items():
            if key not in NOT_LABELS:
                total[key] += 1
                right[key] += got[key] == want
    return {k: right[k] / total[k] for k in total}


def test_per_field_accuracy_report(capsys: pytest.CaptureFixture[str]) -> None:
    """Prints the per-field accuracy (pytest -s shows it); the per-line tests
    above are the real check."""
    for name, rows in (("dev", DEV_ROWS), ("extra", EXTRA_ROWS), ("fresh", FRESH_ROWS)):
        scores = accuracy(rows)
        with capsys.disabled():
            print(f"\n{name}: " + ", ".join(f"{k} {v:.3f}" for k, v in sorted(scores.items())))
        assert scores["relevant"] >= 0.95


def test_taxonomy_example_exactly() -> None:
    text = "嵌合抗原受体T细胞(CAR-T)治疗产品申报上市临床风险管理计划技术指导原则"
    assert classify(text).as_dict(text) == {
        "text": text,
        "relevant": True,
        "modalities": ["car_t"],
        "cn": ["cell_therapy"],
        "eu": ["gtmp"],
        "us": ["cellular_gene_therapy"],
        "doc_type": "guideline",
        "status": "final",
        "disciplines": ["clinical"],
        "evidence": ["CAR-T", "嵌合抗原受体T细胞", "指导原则"],
        # added by issue 15 (docs/taxonomy.md: new fields only added, at the end)
        "jp": ["human_cell_processed"],
        "scope": "cgt",
        "evidence_where": ["title", "title", "title"],
    }


# ---------------------------------------------------------------------------
# concepts and traps beyond the labelled sets


@pytest.mark.parametrize(
    ("title", "cn", "eu"),
    [
        ("CAR T-cell products for B-cell malignancies", ["cell_therapy"], ["gtmp"]),
        ("嵌合抗原受体T细胞治疗产品", ["cell_therapy"], ["gtmp"]),
        ("CAR-T细胞注射液", ["cell_therapy"], ["gtmp"]),
        ("自体CD34+细胞经慢病毒转导的基因修饰产品", ["cell_therapy"], ["gtmp"]),
        ("腺相关病毒基因治疗", ["gene_therapy"], ["gtmp"]),
        ("Adeno-associated virus vector products", ["gene_therapy"], ["gtmp"]),
        ("CRISPR/Cas9 base editing products", ["gene_therapy"], ["gtmp"]),
        ("诱导多能干细胞来源的心肌细胞", ["cell_therapy"], ["sctmp"]),
        ("Tissue-engineered cartilage", ["other"], ["tep"]),
        ("MSC-derived extracellular vesicles", ["other"], []),
        ("Phage therapy products", ["other"], []),
    ],
)
def test_concepts(title: str, cn: list[str], eu: list[str]) -> None:
    result = classify(title)
    assert result.relevant
    assert (list(result.cn), list(result.eu)) == (cn, eu)


@pytest.mark.parametrize(
    "title",
    [
        "预防用mRNA疫苗临床试验技术指导原则",
        "mRNA vaccines against influenza",
        "Cell substrates for production of vaccines",
        "同种异体骨修复材料",
        "血液成分采集技术规范",
        "器官移植技术管理规范",
        "基因检测试剂注册审查指导原则",
        "单克隆抗体药学研究",
        "生物类似药相似性评价",
        "化学药物杂质研究",
        "Heritable Intentional Genomic Alterations in Animals",
        "Antiretroviral drugs for HIV-1",
        "造血干细胞移植治疗急性髓系白血病",
        "siRNA therapeutics: clinical pharmacology",
        "Sickle cell disease",
        "肝细胞癌临床试验",
        "",
    ],
)
def test_traps_are_not_relevant(title: str) -> None:
    result = classify(title)
    assert not result.relevant
    assert (result.cn, result.eu, result.us) == ((), (), ())


def test_a_trap_removes_only_what_it_covers() -> None:
    # the HSC transplant is the setting, the MSC is the product
    result = classify("间充质干细胞防治造血干细胞移植后移植物抗宿主病")
    assert result.relevant and result.modalities == ("stem_cells",)
    assert "间充质干细胞" in result.evidence and "造血干细胞移植" in result.evidence
    # a therapeutic vaccine is not a preventive one
    assert classify("Therapeutic cancer vaccines based on mRNA").relevant
    assert classify("树突状细胞疫苗").cn == ("cell_therapy",)


def test_siRNA_flags_the_modality_and_gene_therapy_words_decide() -> None:
    plain = classify("Antisense oligonucleotide drug products")
    assert not plain.relevant and plain.modalities == ("nucleic_acid",)
    gene = classify("基因治疗用反义寡核苷酸")
    assert gene.relevant and gene.cn == ("gene_therapy",)


def test_generic_documents() -> None:
    atmp = classify("先进治疗药品的范围、归类和释义（征求意见稿）")
    assert atmp.cn == CN and atmp.eu == ("atmp",) and atmp.status == "draft"
    cgt = classify("Cellular and Gene Therapy Products: potency")
    assert cgt.cn == ("cell_therapy", "gene_therapy") and cgt.eu == ("gtmp", "sctmp")
    specific = classify("Advanced therapy medicinal products containing genetically modified cells")
    assert specific.eu == ("gtmp",)


# ---------------------------------------------------------------------------
# status and document type: title words, metadata wins


@pytest.mark.parametrize(
    ("title", "status"),
    [
        ("X技术指导原则（征求意见稿）", "draft"),
        ("X技术指导原则(征求意见稿)", "draft"),
        ("X技术指导原则（试行）", "final"),
        ("关于废止X技术指导原则的公告", "withdrawn"),
        ("X; Draft Guidance for Industry", "draft"),
        ("X; Guidance for Industry", "final"),
        ("Guideline on X - draft: consultation open", "draft"),
        ("Withdrawn: Guidance for X", "withdrawn"),
        ("Reflection paper on X (superseded)", "withdrawn"),
        ("Concept paper on X", "draft"),
        ("X技术指导原则", "final"),
        ("Questions and answers on the consultation procedure", "final"),
    ],
)
def test_status_from_the_title(title: str, status: str) -> None:
    assert classify(title).status == status


@pytest.mark.parametrize(
    ("metadata", "status"),
    [
        ("Draft", "draft"),
        ("Final", "final"),
        ("Adopted", "final"),
        ("Draft: consultation open", "draft"),
        ("Draft: consultation closed", "draft"),
        ("Withdrawn", "withdrawn"),
        ("Superseded", "withdrawn"),
        ("颁布", "final"),
        ("现行", "final"),
        ("征求意见", "draft"),
        ("废止", "withdrawn"),
        ("失效", "withdrawn"),
        ("final", "final"),
    ],
)
def test_source_status_wins_over_the_title(metadata: str, status: str) -> None:
    for title in (
        "基因治疗产品技术指导原则（征求意见稿）",
        "Withdrawn: gene therapy guidance",
        "Gene therapy guidance",
    ):
        assert classify(title, status=metadata).status == status


def test_unrecognised_metadata_falls_back_to_the_title() -> None:
    assert classify("X（征求意见稿）", status="??").status == "draft"
    assert classify("X（征求意见稿）", status="   ").status == "draft"


def test_source_doc_type_wins() -> None:
    assert (
        classify("Gene therapy follow-up", doc_type="scientific-guideline").doc_type == "guideline"
    )
    assert classify("基因治疗问答", doc_type="regulation").doc_type == "regulation"
    assert classify("Questions and answers on X", doc_type="whatever").doc_type == "qa"


@pytest.mark.parametrize(
    ("title", "doc_type"),
    [
        ("关于公开征求《基因治疗产品X（征求意见稿）》意见的通知", "consultation"),
        ("国家药监局药审中心关于发布《X技术指导原则》的通告（2026年第13号）", "notice"),
        ("Questions and answers on gene therapy; Guidance", "qa"),
        ("Reflection paper on gene therapy", "reflection_paper"),
        ("干细胞临床研究管理办法（试行）", "regulation"),
        ("X; Draft Guidance for Industry; Availability", "notice"),
        ("Regulation (EC) No 1394/2007", "regulation"),
        ("Minutes of a meeting", "other"),
    ],
)
def test_doc_types(title: str, doc_type: str) -> None:
    assert classify(title).doc_type == doc_type


# ---------------------------------------------------------------------------
# the API contract


def test_as_dict_shape_and_round_trip() -> None:
    result = classify("Human Gene Therapy for Hemophilia; Draft Guidance for Industry")
    data = result.as_dict("t")
    assert list(data) == CLASSIFY_FIELDS
    assert "text" not in result.as_dict()
    assert Classification.from_dict(json.loads(json.dumps(data))) == result


@pytest.mark.parametrize(
    "bad",
    [
        {"relevant": True, "cn": ["cell"]},
        {"relevant": True, "eu": ["ATMP"]},
        {"relevant": True, "status": "published"},
        {"relevant": True, "doc_type": "guidance"},
        {"relevant": True, "modalities": ["car-t"]},
    ],
)
def test_from_dict_rejects_unknown_values(bad: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="unknown value"):
        Classification.from_dict(bad)


def test_from_dict_rejects_wrong_types() -> None:
    with pytest.raises(TypeError):
        Classification.from_dict({"relevant": "yes"})
    with pytest.raises(TypeError):
        Classification.from_dict({"relevant": True, "cn": "cell_therapy"})


def test_classify_many_is_classify_in_order() -> None:
    titles = [r["text"] for r in DEV_ROWS[:10]]
    assert classify_many(iter(titles)) == [classify(t) for t in titles]


@pytest.mark.parametrize(
    ("field", "values"),
    [
        ("cn", CN),
        ("eu", EU),
        ("us", US),
        ("modalities", MODALITIES),
        ("doc_type", DOC_TYPES),
        ("status", STATUSES),
        ("disciplines", DISCIPLINES),
        ("jp", JP),
        ("scope", SCOPES),
    ],
)
def test_every_vocabulary_value_has_labels(field: str, values: tuple[str, ...]) -> None:
    """The one bilingual table (notifiers/labels.toml) names every value the classifier
    can give, in English and Chinese (its sections are ``doc_types``/``statuses``)."""
    section = {"doc_type": "doc_types", "status": "statuses"}.get(field, field)
    table = vocabulary(section)
    for value in values:
        assert value in table, (
            f"add {value} = [English, 中文] to [{section}] in notifiers/labels.toml"
        )
        english, chinese = table[value]
        assert english and english != value
        assert re.search(r"[\u4e00-\u9fff]", chinese), (value, chinese)


def test_china_classes_are_labelled_with_the_product_class_names() -> None:
    """docs/taxonomy.md (after the 2025 NMPA proposal): 细胞治疗药品 / 基因治疗药品 /
    其他先进治疗药品 are the class names, not the therapies."""
    assert label("cn", "cell_therapy") == "Cell therapy 细胞治疗药品"
    assert label("cn", "gene_therapy") == "Gene therapy 基因治疗药品"
    assert label("cn", "other") == "Other advanced therapy 其他先进治疗药品"
    assert label("cn", "no_such_value") == "no such value"


# ---------------------------------------------------------------------------
# width, punctuation and evidence


def full_width(text: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)


@pytest.mark.parametrize(
    "row", DEV_ROWS + EXTRA_ROWS[:60], ids=[r["text"][:30] for r in DEV_ROWS + EXTRA_ROWS[:60]]
)
def test_full_width_input_classifies_the_same(row: dict[str, Any]) -> None:
    plain, wide = classify(row["text"]), classify(full_width(row["text"]))
    assert plain.as_dict() | {"evidence": []} == wide.as_dict() | {"evidence": []}
    assert [full_width(w) for w in plain.evidence] == list(wide.evidence)


titles = st.sampled_from([r["text"] for r in DEV_ROWS + EXTRA_ROWS])
noise = st.text(
    alphabet=st.sampled_from(list("细胞基因 治疗（）()-;:,CARTgene干AAV疫苗征求意见稿")),
    max_size=30,
)


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(titles, noise, noise)
def test_any_text_gives_valid_output_and_evidence_from_the_text(
    title: str, before: str, after: str
) -> None:
    text = before + title + after
    result = classify(text)
    assert Classification.from_dict(result.as_dict(text)) == result
    for word in result.evidence:
        assert word in text
    assert not result.relevant or result.status != "unknown"


# ---------------------------------------------------------------------------
# body text


CAR_T_BODY = (
    "本指导原则适用于嵌合抗原受体T细胞（CAR-T）治疗产品。CAR-T细胞采用慢病毒载体转导，"
    "慢病毒载体的质量控制应符合要求。CAR-T产品的放行检测……"
)


def test_body_text_decides_only_with_repeated_strong_words() -> None:
    bare = "关于发布若干技术指导原则的通告"
    assert not classify(bare).relevant
    result = classify(bare, text=CAR_T_BODY)
    assert result.relevant and result.cn == ("cell_therapy",) and "car_t" in result.modalities
    assert any(word in CAR_T_BODY for word in result.evidence)
    once = classify("药物临床试验的一般考虑", text="适用于化学药品、生物制品，包括细胞治疗产品。")
    assert not once.relevant


def test_a_trap_in_the_title_blocks_body_text() -> None:
    assert not classify("单克隆抗体药学研究技术指导原则", text=CAR_T_BODY * 3).relevant


def test_body_adds_tags_but_the_title_keeps_the_classes() -> None:
    result = classify("CAR-T细胞治疗产品药学研究", text=CAR_T_BODY)
    assert result.cn == ("cell_therapy",) and result.eu == ("gtmp",)
    assert "lentiviral" in result.modalities


def test_body_text_is_read_only_up_to_the_cap() -> None:
    limit = lexicon().body.max_chars
    far = "。" * limit + CAR_T_BODY * 3
    assert not classify("关于发布若干技术指导原则的通告", text=far).relevant
    assert classify("关于发布若干技术指导原则的通告", text=CAR_T_BODY + far).relevant


# ---------------------------------------------------------------------------
# the fast matcher equals the plain alternation


def plain_hits(matcher: Any, text: str) -> list[tuple[int, int, int, int]]:
    out = []
    for m in matcher.alternation.finditer(text):
        owner, number = matcher.label(m.lastgroup)
        out.append((owner, number, m.start(), m.end()))
    return out


def matchers() -> list[Any]:
    lex = lexicon()
    return [
        lex.cue_matcher,
        lex.stem_matcher,
        lex.negative_matcher,
        lex.title_status.matcher,
        lex.doc_types.matcher,
        lex.disciplines.matcher,
        lex.scope.matcher,
    ]


def test_matcher_equals_the_plain_alternation_on_the_labelled_titles() -> None:
    for row in DEV_ROWS + EXTRA_ROWS + FRESH_ROWS:
        text = normalise(row["text"])
        for matcher in matchers():
            assert [tuple(h) for h in matcher.hits(text)] == plain_hits(matcher, text)


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(titles, st.integers(min_value=0, max_value=200), st.integers(min_value=0, max_value=200))
def test_matcher_equals_the_plain_alternation_on_spliced_titles(
    title: str, cut: int, other: int
) -> None:
    rows = DEV_ROWS + EXTRA_ROWS
    text = normalise(title[: cut % (len(title) + 1)] + rows[other % len(rows)]["text"])
    for matcher in matchers():
        assert [tuple(h) for h in matcher.hits(text)] == plain_hits(matcher, text)


def test_an_anchored_pattern_has_the_starts_of_its_pattern() -> None:
    # word_start hands the anchored pattern the starts it worked out for the
    # pattern (the look-behind says nothing about a match's start): worked out
    # afresh they are the same, for every pattern of every matcher
    for matcher in matchers():
        for _name, pattern, found in matcher._labelled:
            assert _starts(pattern) == found, pattern


# ---------------------------------------------------------------------------
# the lexicon loader


def broken_copy(tmp_path: Path, file: str, old: str, new: str) -> Path:
    target = tmp_path / "lexicon"
    shutil.copytree(LEXICON, target)
    path = target / file
    text = path.read_text("utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), "utf-8")
    return target


def test_the_bundled_lexicon_loads() -> None:
    lex = load_lexicon(LEXICON)  # every pattern compiled and checked on its own
    assert len(lex.cues) > 30 and len(lex.negatives) > 10
    # what a check loads (no per-pattern check: this test is that check) is the same
    unchecked = load_lexicon()
    assert unchecked.cues == lex.cues and unchecked.negatives == lex.negatives

    def shape(value: Any) -> Any:  # the patterns and values inside, not the objects
        if hasattr(value, "_labelled"):  # a Matcher: its labelled patterns
            return value._labelled
        if isinstance(value, list | tuple):
            return [shape(v) for v in value]
        if isinstance(value, dict):
            return {k: shape(v) for k, v in value.items()}
        if hasattr(value, "__dict__") and not isinstance(value, type):
            return {k: shape(v) for k, v in vars(value).items() if not k.startswith("_by_")}
        return value

    assert shape(unchecked) == shape(lex) and shape(lex)["cue_matcher"]


@pytest.mark.parametrize(
    ("file", "old", "new", "message"),
    [
        ("cues_cell.toml", "'免疫细胞',", "'免疫(细胞',", "bad pattern"),
        ("cues_cell.toml", "'免疫细胞',", "'(免疫)细胞',", "capturing group"),
        ("cues_cell.toml", 'modality = "car_t"', 'modality = "car-t"', "unknown modality"),
        ("negatives.toml", '"mrna_therapeutic",', '"no_such_cue",', "unknown cue ids"),
        ("cues_gene.toml", 'strength = "strong"', 'strength = "loud"', "strength"),
        ("status.toml", 'status = "withdrawn"', 'status = "gone"', "status"),
        ("cues_other.toml", "%cell_source%", "%no_macro%", "unknown macro"),
        ("mapping.toml", 'cn = ["cell_therapy"]', 'cn = ["cells"]', "cn"),
        ("cues_cell.toml", "'免疫细胞',", "'(?:免疫细胞)?',", "empty"),
    ],
)
def test_a_broken_lexicon_is_reported_with_its_file(
    tmp_path: Path, file: str, old: str, new: str, message: str
) -> None:
    directory = broken_copy(tmp_path, file, old, new)
    with pytest.raises(LexiconError, match=message) as caught:
        load_lexicon(directory)
    assert file in str(caught.value)


def test_a_lexicon_change_changes_the_result(tmp_path: Path) -> None:
    directory = broken_copy(
        tmp_path, "cues_other.toml", "'噬菌体(?!展示)',", "'噬菌体(?!展示)', '细菌疗法',"
    )
    lex = load_lexicon(directory)
    hits = list(lex.cue_matcher.hits("细菌疗法"))
    assert hits and lex.cues[hits[0].owner].id == "phage"


# ---------------------------------------------------------------------------
# issue 16: concepts that carry to names nobody listed


@pytest.mark.parametrize(
    ("title", "modality", "cn", "eu", "jp"),
    [
        # made-up INNs on the WHO schemes: no list knows them
        (
            "ZORVELTA (zorpocabtagene autoleucel) suspension for intravenous infusion",
            "car_t",
            ["cell_therapy"],
            ["gtmp"],
            ["human_cell_processed"],
        ),
        (
            "FENTRIVA (fendamiglogene autotemcel)",
            "gene_modified_cells",
            ["cell_therapy"],
            ["gtmp"],
            ["human_cell_processed"],
        ),
        (
            "Quelvantis (fordadistrogene movaparvovec-abcd) for Duchenne muscular dystrophy",
            "aav",
            ["gene_therapy"],
            ["gtmp"],
            ["gene_therapy"],
        ),
        (
            "NOVIRA (lodaragene pelodenovec) intravesical",
            "adenoviral",
            ["gene_therapy"],
            ["gtmp"],
            ["gene_therapy"],
        ),
        (
            "Rinostem (parvomestrocel) for knee osteoarthritis",
            "",
            ["cell_therapy"],
            ["sctmp"],
            ["human_cell_processed"],
        ),
        (
            "ホゲホゲ点滴静注(ラミカブタゲン オートルユーセル)",
            "car_t",
            ["cell_therapy"],
            ["gtmp"],
            ["human_cell_processed"],
        ),
        (
            "ソラテック注(フルセムノゲン バラパルボベク)",
            "aav",
            ["gene_therapy"],
            ["gtmp"],
            ["gene_therapy"],
        ),
    ],
)
def test_inn_stems_carry_to_unlisted_products(
    title: str, modality: str, cn: list[str], eu: list[str], jp: list[str]
) -> None:
    result = classify(title)
    assert result.relevant and list(result.cn) == cn and list(result.eu) == eu
    assert list(result.jp) == jp and result.scope == "cgt"
    if modality:
        assert modality in result.modalities
    assert all(word in title for word in result.evidence)


@pytest.mark.parametrize(
    "title",
    [
        "How to cancel a parcel order",
        "Excel templates for submissions",
        "Marcel Proust lecture",
        "Oncogene expression in tumours",
        "Transgene copy number in crops",
        "カプセル剤の溶出試験",
        "ハイジャック防止",
    ],
)
def test_stem_lookalikes_are_not_cgt(title: str) -> None:
    assert not classify(title).relevant


def test_brand_names_from_the_product_list() -> None:
    kymriah = classify("KYMRIAH (tisagenlecleucel) suspension for intravenous infusion")
    assert kymriah.modalities == ("car_t",) and kymriah.eu == ("gtmp",)
    assert kymriah.evidence == ("tisagenlecleucel", "KYMRIAH")
    assert classify("MACI implant").eu == ("tep",)
    assert classify("Kymriah: EPAR - Product information").relevant
    assert classify("源瑞达获批上市").cn == ("cell_therapy",)


def test_traditional_and_japanese_kanji_fold_and_the_evidence_stays_as_written() -> None:
    for title, want in [
        ("細胞治療產品查驗登記審查基準", "細胞治療"),
        ("基因治療製劑臨床試驗基準", "基因治療"),
        ("遺伝子治療用製品等の品質及び安全性の確保について", "遺伝子治療用製品"),
    ]:
        result = classify(title)
        assert result.relevant and want in result.evidence, (title, result.evidence)
        assert all(word in title for word in result.evidence)
    assert classify("細胞治療產品").as_dict() | {"evidence": []} == classify(
        "细胞治疗产品"
    ).as_dict() | {"evidence": []}


fold_alphabet = st.sampled_from(
    list("細胞治療產品醫製劑遺伝子ヒト加工再生医療等基因细胞治疗 ()（）")
)


@settings(max_examples=100, deadline=None)
@given(st.text(alphabet=fold_alphabet, max_size=40))
def test_folding_keeps_offsets(text: str) -> None:
    assert len(normalise(text)) == len(text)
    for word in classify(text).evidence:
        assert word in text


@pytest.mark.parametrize(
    ("title", "eu"),
    [
        ("Bioengineered skin substitutes for chronic wounds", ["tep"]),
        ("Scaffolds to regenerate articular cartilage", ["tep"]),
        ("可降解支架修复软骨缺损的临床试验", ["tep"]),
    ],
)
def test_engineered_tissue_in_plain_words(title: str, eu: list[str]) -> None:
    result = classify(title)
    assert result.relevant and list(result.eu) == eu and "tissue_engineered" in result.modalities


@pytest.mark.parametrize(
    "title",
    ["Bone graft substitutes: 510(k) submissions", "Synthetic scaffolds for dental implants"],
)
def test_a_scaffold_or_graft_alone_is_not_engineered_tissue(title: str) -> None:
    assert not classify(title).relevant


# ---------------------------------------------------------------------------
# issue 15: Japan's class, scope, attachment text


@pytest.mark.parametrize(
    ("title", "jp"),
    [
        ("キムリア点滴静注(チサゲンレクルユーセル)", ["human_cell_processed"]),
        ("コラテジェン筋注用4mg(ベペルミノゲン ペルプラスミド)", ["gene_therapy"]),
        ("動物細胞加工製品の品質確保について", ["animal_cell_processed"]),
        ("ヒト細胞加工製品の品質及び安全性の確保", ["human_cell_processed"]),
        ("再生医療等製品の製造販売承認申請について", list(JP)),
        ("Conditional and time-limited approval of regenerative medical products", list(JP)),
        ("Porcine islet xenotransplantation", ["animal_cell_processed"]),
        ("Guideline on exosome-based products", []),
    ],
)
def test_japan_class(title: str, jp: list[str]) -> None:
    result = classify(title)
    assert result.relevant and list(result.jp) == jp


def test_safety_act_titles_are_cgt_without_a_product_class() -> None:
    for title in (
        "特定細胞加工物の製造の許可等に関する申請手続について",
        "再生医療等の安全性の確保等に関する法律施行規則の一部を改正する省令",
        "Act on the Safety of Regenerative Medicine: enforcement rules",
    ):
        result = classify(title)
        assert result.relevant and result.scope == "cgt" and result.jp == (), title


@pytest.mark.parametrize(
    ("title", "scope"),
    [
        ("关于发布《药品注册管理办法》的公告", "horizontal"),
        ("药品生产质量管理规范（2010年修订）无菌药品附录修订稿", "horizontal"),
        ("ICH Q9(R1) Quality Risk Management", "horizontal"),
        ("Reform of the EU pharmaceutical legislation", "horizontal"),
        (
            "医薬品、医療機器等の品質、有効性及び安全性の確保等に関する法律等の一部を改正する法律",
            "horizontal",
        ),
        ("疫苗生产质量管理规范附录", "none"),
        ("Good manufacturing practice for blood establishments", "none"),
        ("保健食品注册与备案管理办法", "none"),
        ("Bioequivalence studies", "none"),
        ("CAR-T细胞治疗产品药学变更研究技术指导原则", "cgt"),
    ],
)
def test_scope(title: str, scope: str) -> None:
    result = classify(title)
    assert result.scope == scope
    assert (scope == "cgt") is result.relevant
    if scope == "horizontal":  # the words that made it horizontal are evidence
        assert result.evidence and all(word in title for word in result.evidence)


def test_attachment_text_decides_an_ambiguous_title_and_says_where() -> None:
    body = (
        "本文件适用于重组腺相关病毒（AAV）载体产品。AAV载体的空壳率、AAV载体滴度、"
        "腺相关病毒衣壳蛋白……AAV基因治疗产品应开展长期随访。"
    )
    result = classify("关于发布3项技术指导原则的通告", text=body)
    assert result.relevant and result.cn == ("gene_therapy",) and "aav" in result.modalities
    assert len(result.evidence_where) == len(result.evidence)
    pairs = list(zip(result.evidence, result.evidence_where, strict=True))
    assert any(where == "text" for _, where in pairs)
    for word, where in pairs:
        assert word in (body if where == "text" else "关于发布3项技术指导原则的通告")
    bare = classify("关于发布3项技术指导原则的通告")
    assert not bare.relevant and set(bare.evidence_where) <= {"title"}


def test_old_stored_rows_read_back_with_a_scope() -> None:
    old = {"relevant": True, "cn": ["cell_therapy"], "evidence": ["CAR-T"]}
    assert Classification.from_dict(old).scope == "cgt"
    assert Classification.from_dict({"relevant": False}).scope == "none"
    with pytest.raises(ValueError, match="scope"):
        Classification.from_dict({"relevant": False, "scope": "all"})
    with pytest.raises(ValueError, match="jp"):
        Classification.from_dict({"relevant": True, "jp": ["ips"]})


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        (
            'modality = "car_t"\njurisdictions = ["US", "EU", "JP"]',
            'modality = "car-t"\njurisdictions = ["US", "EU", "JP"]',
            "modality",
        ),
        ('source = "FDA, Humanitarian', 'sauce = "FDA, Humanitarian', "source"),
    ],
)
def test_a_broken_product_list_is_reported_with_its_file(
    tmp_path: Path, old: str, new: str, message: str
) -> None:
    directory = broken_copy(tmp_path, "products.toml", old, new)
    with pytest.raises(LexiconError, match=message) as caught:
        load_lexicon(directory)
    assert "products.toml" in str(caught.value)
