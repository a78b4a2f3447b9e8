"""Attachment text extraction on real files made by real writers (reportlab,
python-docx, pypdf) and a Word 97 file written from the documented layout."""

from __future__ import annotations

import importlib.util
import io
import zipfile
from pathlib import Path
from types import ModuleType

import olefile
import pypdf
import pytest

from sources.errors import ParseError
from sources.text.documents import extract_text, sniff_kind, text_quality

FIXTURES = Path(__file__).parent / "fixtures" / "docs"


def _load_builders() -> ModuleType:
    spec = importlib.util.spec_from_file_location("doc_builders", FIXTURES / "build.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


build = _load_builders()
SENTENCE: str = build.SENTENCE
SECOND: str = build.SECOND
ENGLISH: str = build.ENGLISH


# -- sniffing ------------------------------------------------------------------


def test_sniff_by_magic_bytes_beats_name_and_type() -> None:
    pdf = build.cjk_pdf()
    assert sniff_kind(pdf, "downloadAtt", "application/octet-stream") == "pdf"
    assert sniff_kind(pdf, "guideline.doc", "application/msword") == "pdf"
    assert sniff_kind(build.docx_file(), "downloadAtt?idCODE=ab12", None) == "docx"
    assert sniff_kind(build.word97_doc(), "x.bin", None) == "doc"
    html = '<html><head><meta charset="gbk"></head><body>附件</body></html>'.encode("gbk")
    assert sniff_kind(html, "附件1.doc", "application/msword") == "html"
    assert sniff_kind("征求意见反馈表".encode(), "table.txt", None) == "text"
    assert sniff_kind("纯文本说明".encode("gb18030"), "", None) == "text"


def test_sniff_rejects_other_containers() -> None:
    xlsx = io.BytesIO()
    with zipfile.ZipFile(xlsx, "w") as archive:
        archive.writestr("xl/workbook.xml", "<workbook/>")
    assert sniff_kind(xlsx.getvalue(), "data.xlsx", None) == "unknown"
    workbook = build.ole_file({"Workbook": b"\x09\x08" * 100})
    assert sniff_kind(workbook, "old.xls", None) == "unknown"
    assert sniff_kind(b"{\\rtf1\\ansi hello}", "a.doc", None) == "unknown"
    assert sniff_kind(bytes(range(256)) * 4, "blob", None) == "unknown"


# -- PDF -----------------------------------------------------------------------


def test_chinese_pdf_with_cid_font() -> None:
    text = extract_text(build.cjk_pdf(), filename="附件1.pdf")
    assert SENTENCE in text
    assert SECOND in text
    assert ENGLISH in text


def test_identity_h_pdf_falls_back_to_pdfminer() -> None:
    body = build.identity_h_pdf()
    # pypdf alone cannot map this font: the fallback is what makes it readable.
    plain = pypdf.PdfReader(io.BytesIO(body)).pages[0].extract_text()
    assert SENTENCE not in plain
    assert text_quality(plain)[0] < 10
    text = extract_text(body)
    assert SENTENCE in text and SECOND in text


def _encrypted(user_password: str) -> bytes:
    writer = pypdf.PdfWriter(clone_from=pypdf.PdfReader(io.BytesIO(build.cjk_pdf())))
    writer.encrypt(user_password=user_password, owner_password="owner", algorithm="RC4-128")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def test_owner_password_only_pdf_is_read() -> None:
    assert SENTENCE in extract_text(_encrypted(""))


def test_password_protected_pdf_is_a_parse_error() -> None:
    with pytest.raises(ParseError, match="encrypted"):
        extract_text(_encrypted("secret"))


@pytest.mark.parametrize("cut", ["garbage", "truncated"])
def test_corrupt_pdf_is_a_parse_error(cut: str) -> None:
    good = build.cjk_pdf()
    body = b"%PDF-1.4\n" + bytes(range(256)) * 20 if cut == "garbage" else good[: len(good) // 2]
    with pytest.raises(ParseError):
        extract_text(body, filename="broken.pdf")


def test_pdf_without_text_layer_gives_empty_text() -> None:
    writer = pypdf.PdfWriter()
    writer.add_blank_page(width=595, height=842)
    out = io.BytesIO()
    writer.write(out)
    assert extract_text(out.getvalue()) == ""


# -- DOCX ----------------------------------------------------------------------


def test_docx_paragraphs_and_tables_in_order() -> None:
    text = extract_text(build.docx_file(), filename="附件2.docx")
    lines = text.splitlines()
    assert lines[0] == SENTENCE
    assert lines[1] == SECOND
    assert lines[2].split("\t") == ["文号", "2026年第13号"]
    assert lines[3] == "适用范围：基因治疗产品"  # a merged cell, once
    assert lines[4] == ENGLISH


def test_corrupt_docx_is_a_parse_error() -> None:
    good = build.docx_file()
    with pytest.raises(ParseError):
        extract_text(good[: len(good) // 3], filename="broken.docx")
    broken = io.BytesIO()
    with zipfile.ZipFile(broken, "w") as archive:
        archive.writestr("word/document.xml", "<w:document><unclosed>")
    with pytest.raises(ParseError):
        extract_text(broken.getvalue(), filename="broken.docx")


# -- legacy DOC ----------------------------------------------------------------


def test_word97_piece_table_text() -> None:
    text = extract_text(build.word97_doc(), filename="附件3.doc")
    assert text.splitlines() == [SENTENCE, SECOND, ENGLISH]
    assert "HYPERLINK" not in text  # the field code goes, its result stays


def test_word97_main_text_only() -> None:
    main = SENTENCE + "\r"
    body = build.word97_doc([(main, False), ("页眉：不应出现\r", False)], main_chars=len(main))
    assert extract_text(body) == SENTENCE


def test_doc_without_a_piece_table_falls_back_to_text_runs() -> None:
    broken = build.word97_doc([(SENTENCE + "\r", False), (ENGLISH + "\r", True)])
    ole = olefile.OleFileIO(io.BytesIO(broken))
    word = bytearray(ole.openstream("WordDocument").read())
    ole.close()
    # Point the Clx at nothing: the structured reader fails, the scan takes over.
    word[0x9A + 33 * 8 : 0x9A + 33 * 8 + 8] = b"\x00" * 8  # fcClx = lcbClx = 0
    rebuilt = build.ole_file({"WordDocument": bytes(word), "1Table": b"\x00" * 64})
    text = extract_text(rebuilt)
    assert SENTENCE in text
    assert ENGLISH in text  # 8-bit text, not read as UTF-16 mojibake


def test_encrypted_or_non_word_ole_is_a_parse_error() -> None:
    ole = olefile.OleFileIO(io.BytesIO(build.word97_doc()))
    word = bytearray(ole.openstream("WordDocument").read())
    ole.close()
    word[0x0B] |= 0x01  # flags 0x0100: fEncrypted
    encrypted = build.ole_file({"WordDocument": bytes(word), "1Table": b"\x00" * 64})
    with pytest.raises(ParseError, match="encrypted"):
        extract_text(encrypted)
    with pytest.raises(ParseError):
        extract_text(build.ole_file({"Workbook": b"\x00" * 64}), filename="x.xls")
    with pytest.raises(ParseError):
        extract_text(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1WordDocument" + b"\x00" * 100)


# -- HTML and text ---------------------------------------------------------------


def test_html_visible_text_in_gbk() -> None:
    page = (
        '<html><head><meta http-equiv="Content-Type" content="text/html; charset=gb2312">'
        "<title>通告</title><style>p{color:red}</style><script>var s='隐藏';</script></head>"
        "<body><p>关于<b>细胞治疗</b>产品的通告</p><table><tr><td>文号</td><td>第13号</td></tr>"
        "</table></body></html>"
    )
    text = extract_text(page.encode("gbk"), filename="notice.html")
    assert "关于细胞治疗产品的通告" in text.splitlines()
    assert "文号\t第13号" in text.splitlines()
    assert "隐藏" not in text and "color" not in text


@pytest.mark.parametrize(
    "body",
    [
        "说明：CAR-T\r\n\r\n\r\n\r\n第二段   ".encode("gb18030"),
        "\ufeff说明：CAR-T\n\n\n第二段".encode(),
    ],
)
def test_plain_text(body: bytes) -> None:
    assert extract_text(body, filename="readme.txt") == "说明：CAR-T\n\n第二段"


def test_unknown_binary_is_a_parse_error() -> None:
    with pytest.raises(ParseError, match="unrecognised"):
        extract_text(bytes(range(256)) * 4, filename="blob.bin")


# -- the committed sample files ----------------------------------------------------


@pytest.mark.parametrize("name", sorted(build.SAMPLES))
def test_sample_files_in_fixtures(name: str) -> None:
    body = (FIXTURES / name).read_bytes()
    assert SENTENCE in extract_text(body, filename=name)
