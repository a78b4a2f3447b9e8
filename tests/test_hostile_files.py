"""Crafted attachments: a DOCX decompression bomb and a DOCX of very many
paragraphs are refused or stopped with a clear note, never read unbounded."""

from __future__ import annotations

import io
import subprocess
import sys
import zipfile
from pathlib import Path

import docx
import pytest

from sources.errors import ParseError
from sources.text import documents
from sources.text.documents import extract_text
from sources.text.sandbox import Exceeded, run_bounded
from tests.helpers.docx_files import TAIL, head, many_paragraphs, rebuilt

ROOT = Path(__file__).resolve().parents[1]


def test_a_decompression_bomb_is_refused_before_it_is_read() -> None:
    chunk = b"<w:p><w:r><w:t>a</w:t></w:r></w:p>" * 30_000
    bomb = rebuilt([head(), *([chunk] * 200), TAIL])  # ~200 MB of XML in a small file
    assert len(bomb) < 2_000_000
    with pytest.raises(ParseError, match="decompression bomb"):
        extract_text(bomb, filename="bomb.docx")


def test_a_highly_compressed_member_is_refused_even_under_the_size_cap() -> None:
    chunk = b"<w:p><w:r><w:t>b</w:t></w:r></w:p>" * 30_000
    dense = rebuilt([head(), *([chunk] * 20), TAIL])  # ~20 MB, under MAX_UNCOMPRESSED
    with pytest.raises(ParseError, match=r"compressed .* times"):
        extract_text(dense, filename="dense.docx")


@pytest.fixture(scope="module")
def long_docx() -> bytes:
    return many_paragraphs(150_000)


def test_a_many_paragraph_file_is_stopped_at_the_time_bound(
    long_docx: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(documents, "EXTRACT_SECONDS", 0.5)
    with pytest.raises(Exceeded, match=r"took longer than 0\.5 s"):
        extract_text(long_docx, filename="long.docx")


_MEMORY_BOUND = """
import sys
from sources.text import documents
from sources.text.documents import extract_text
from sources.text.sandbox import Exceeded

documents.EXTRACT_MEMORY = 100 * 2**20
documents.EXTRACT_SECONDS = 600.0
try:
    extract_text(open(sys.argv[1], "rb").read(), filename="long.docx")
except Exceeded as exc:
    print("stopped:", exc)
else:
    print("not stopped")
"""


def test_a_many_paragraph_file_is_stopped_at_the_memory_bound(
    long_docx: bytes, tmp_path: Path
) -> None:
    # The bound is address space beyond what the process had mapped at the fork;
    # a long-lived test process has hundreds of MB of free heap the worker could
    # reuse, so the bound is proven from a fresh interpreter, as in a service.
    path = tmp_path / "long.docx"
    path.write_bytes(long_docx)
    done = subprocess.run(
        [sys.executable, "-c", _MEMORY_BOUND, str(path)],
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("stopped:") and "more than 100 MB" in done.stdout, done.stdout


def test_the_text_kept_is_capped(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(documents, "MAX_TEXT", 10_000)
    text = extract_text(many_paragraphs(5_000), filename="long.docx")
    assert len(text) < 10_100 and text.endswith("[… text cut at 10,000 characters]")


def test_a_small_docx_is_read_in_process() -> None:
    document = docx.Document()
    document.add_paragraph("免疫细胞治疗产品临床试验技术指导原则")
    body = io.BytesIO()
    document.save(body)
    assert "免疫细胞治疗" in extract_text(body.getvalue(), filename="small.docx")


def test_an_error_in_the_worker_comes_back_as_a_parse_error() -> None:
    with pytest.raises(ParseError, match="ZeroDivisionError"):
        run_bounded(divmod, 1, 0, seconds=30, memory=1024 * 2**20)


def test_an_oversized_member_in_the_central_directory_is_refused() -> None:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("word/document.xml", head() + TAIL)
        for n in range(documents.MAX_MEMBERS + 1):
            archive.writestr(f"word/media/{n}.bin", b"")
    with pytest.raises(ParseError, match="parts, more than"):
        extract_text(out.getvalue(), filename="many.docx")
