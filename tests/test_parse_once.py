"""An ambiguous title's PDF is parsed once (issue 15 leftovers, item 3): the
whole text and the first pages come from one reader, and they are the same as
reading them apart."""

from __future__ import annotations

from typing import Any

import pypdf
import pytest

from monitor.replica.data_cn import make_docx, make_pdf_pages
from sources.text import documents

AAV_PAGES = [
    ["为规范药品研发，药审中心组织制定了以下技术指导原则。", "一、概述"],
    ["二、重组腺相关病毒载体的质量控制", "腺相关病毒载体的空壳率应当检测。"],
    ["三、参考文献"],
]


def test_text_and_first_pages_come_from_one_pdf_reader(monkeypatch: pytest.MonkeyPatch) -> None:
    body = make_pdf_pages(AAV_PAGES)
    apart_text = documents.extract_text(body, filename="附件1.pdf")
    apart_pages = documents.first_pages(body, filename="附件1.pdf", pages=2, chars=10_000)
    opened: list[int] = []
    real = pypdf.PdfReader

    def counting(*args: Any, **kwargs: Any) -> pypdf.PdfReader:
        opened.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(pypdf, "PdfReader", counting)
    read = documents.read_document(body, filename="附件1.pdf", pages=2, chars=10_000)
    assert len(opened) == 1
    assert read.text == apart_text
    assert read.first == apart_pages


def test_a_file_without_pages_is_one_part_and_no_pages_asked_is_none() -> None:
    body = make_docx(["标题", "腺相关病毒"])
    assert documents.read_document(body, filename="a.docx", pages=3, chars=4).first == [
        (None, "标题\n腺")
    ]
    assert documents.read_document(body, filename="a.docx").first == []
