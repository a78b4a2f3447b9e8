"""Text out of the files regulators attach: PDF, DOCX, legacy DOC, HTML, plain text.

``sniff_kind(body, filename, content_type)`` decides what a file is from its
first bytes (magic numbers beat the file name, which beats the
Content-Type: regulators serve PDFs as ``application/octet-stream`` and HTML
pages under a ``.doc`` name). ``extract_text(body, filename=…, content_type=…)``
returns the text, or raises ``sources.errors.ParseError`` for a corrupt,
encrypted or unsupported file.

- **PDF**: pypdf first; when it yields little readable text (scans aside,
  typically a CJK font without a usable ``ToUnicode`` map) pdfminer.six is
  tried too and the more readable result wins. A scanned PDF with no text
  layer gives ``""`` (no OCR). Owner-password-only PDFs are opened.
- **DOCX**: python-docx, paragraphs and tables in document order, table
  cells separated by tabs.
- **DOC**: see ``sources.text.msdoc`` (piece table, else UTF-16 text runs).
- **HTML**: visible text (scripts, styles removed), encoding as the fetcher
  decodes pages.
- **Text**: BOM, UTF-8, else GB18030.

The result has its lines stripped of trailing spaces and no runs of more than
one blank line; deeper normalisation is the diff's job.

**Bounds** (a hostile site can attach anything): a DOCX (a ZIP) is refused
before it is read when its members would unpack to more than
``MAX_UNCOMPRESSED`` bytes, when one large member is compressed more than
``MAX_RATIO`` times (a decompression bomb), or when it has more than
``MAX_MEMBERS`` members. PDF, DOC and DOCX files above ``IN_PROCESS_BELOW``
bytes (or a DOCX unpacking to more than that many times four) are read in a
worker process limited to ``EXTRACT_SECONDS`` and ``EXTRACT_MEMORY``
(``sources.text.sandbox``); small files, the usual case, are read in-process. The
text kept is cut at ``MAX_TEXT`` characters. Each bound hit is a
``ParseError`` naming it: one note for that attachment, never a crash.
"""

from __future__ import annotations

import io
import logging
import re
import unicodedata
import warnings
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from bs4 import BeautifulSoup

from sources.errors import ParseError
from sources.text.decode import decode_html
from sources.text.msdoc import doc_text, is_ole
from sources.text.sandbox import run_bounded

if TYPE_CHECKING:  # python-docx is imported when a DOCX is read: a check of a list needs none
    from docx.table import Table

Kind = Literal["pdf", "docx", "doc", "html", "text", "unknown"]

__all__ = ["Kind", "extract_text", "first_pages", "sniff_kind"]

_EXTENSIONS: dict[str, Kind] = {
    ".pdf": "pdf",
    ".docx": "docx",
    ".doc": "doc",
    ".wps": "doc",
    ".html": "html",
    ".htm": "html",
    ".shtml": "html",
    ".txt": "text",
}
_CONTENT_TYPES: dict[str, Kind] = {
    "application/pdf": "pdf",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "docx",
    "application/msword": "doc",
    "text/html": "html",
    "application/xhtml+xml": "html",
    "text/plain": "text",
}
MAX_UNCOMPRESSED = 40_000_000  # bytes a DOCX may unpack to
MAX_RATIO = 100  # uncompressed / compressed, for members over 1 MB
MAX_MEMBERS = 2_000
MAX_TEXT = 2_000_000  # characters of text kept per attachment
IN_PROCESS_BELOW = 256_000  # bytes: smaller PDF/DOC/DOCX files skip the worker
EXTRACT_SECONDS = 60.0
EXTRACT_MEMORY = 1_024 * 2**20  # bytes the worker's address space may grow by
_WORD_STREAM_NAME = "WordDocument".encode("utf-16-le")
# pypdf's text is taken when it has this many readable characters a page and
# this share of readable letters; otherwise pdfminer.six is tried as well.
_MIN_READABLE_PER_PAGE = 40
_MIN_SHARE = 0.9

for _noisy in ("pypdf", "pdfminer"):
    logging.getLogger(_noisy).setLevel(logging.ERROR)


def _extension(filename: str) -> str:
    name = filename.split("?", 1)[0].split("#", 1)[0].rsplit("/", 1)[-1].lower()
    return "." + name.rsplit(".", 1)[-1] if "." in name else ""


def sniff_kind(body: bytes, filename: str = "", content_type: str | None = None) -> Kind:
    """What a file is: by magic bytes, then by file name, then by Content-Type."""
    head = body[:2048]
    binary = _binary_kind(body, head, filename)
    if binary is not None:
        return binary
    stripped = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if stripped.startswith(b"{\\rtf"):
        return "unknown"
    if stripped.startswith((b"<!doctype html", b"<html", b"<?xml")) or b"<html" in stripped[:1024]:
        return "html"
    guess = _EXTENSIONS.get(_extension(filename))
    if guess is None and content_type:
        guess = _CONTENT_TYPES.get(content_type.split(";", 1)[0].strip().lower())
    if guess in ("html", "text"):
        return guess
    if guess is None and body and _looks_like_text(head):
        return "text"
    return "unknown"


def _binary_kind(body: bytes, head: bytes, filename: str) -> Kind | None:
    """The kind a binary signature says (PDF, zip/DOCX, OLE/DOC), or None when
    the body has none of them."""
    if b"%PDF-" in head[:1024]:
        return "pdf"
    if head.startswith(b"PK\x03\x04"):
        try:
            with zipfile.ZipFile(io.BytesIO(body)) as archive:
                names = set(archive.namelist())
        except (zipfile.BadZipFile, OSError, ValueError):
            return "docx" if _extension(filename) == ".docx" else "unknown"
        return "docx" if "word/document.xml" in names else "unknown"
    if is_ole(head):
        return "doc" if _WORD_STREAM_NAME in body[:1_000_000] else "unknown"
    return None


def _looks_like_text(head: bytes) -> bool:
    if b"\x00" in head and not head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return False
    text, _ = decode_html(head, None)
    bad = sum(1 for ch in text if ch == "\ufffd" or (ord(ch) < 32 and ch not in "\t\r\n\f"))
    return bad <= max(2, len(text) // 100)


def extract_text(body: bytes, *, filename: str = "", content_type: str | None = None) -> str:
    """The text of an attachment, within the bounds of the module docstring;
    ``ParseError`` when it cannot be read or goes over a bound."""
    return read_document(body, filename=filename, content_type=content_type).text


@dataclass(frozen=True)
class ReadDocument:
    """One parse of an attachment: its whole text and, when asked, its first
    pages as ``(page number, text)`` (``first_pages``'s form)."""

    text: str
    first: list[tuple[int | None, str]]


def read_document(
    body: bytes,
    *,
    filename: str = "",
    content_type: str | None = None,
    pages: int = 0,
    chars: int = 0,
) -> ReadDocument:
    """The text of an attachment and its first ``pages`` pages (at most
    ``chars`` characters in all) from ONE parse of the file: a PDF's pages come
    from the same reader that gave the whole text, so an ambiguous title's
    attachment is not parsed twice. Without ``pages`` it is ``extract_text``.
    A file without pages (DOCX, DOC, HTML, text) is one part numbered ``None``.
    The bounds of the module docstring apply; ``ParseError`` as ``extract_text``."""
    kind = sniff_kind(body, filename, content_type)
    unpacked = _check_zip(body) if kind == "docx" else 0
    heavy = kind in ("pdf", "doc", "docx") and (
        len(body) > IN_PROCESS_BELOW or unpacked > 4 * IN_PROCESS_BELOW
    )
    if heavy:
        what = f"reading {filename or 'the ' + kind.upper() + ' file'}"
        text, parts = run_bounded(
            _extract_parts,
            body,
            kind,
            filename,
            content_type,
            pages,
            seconds=EXTRACT_SECONDS,
            memory=EXTRACT_MEMORY,
            what=what,
        )
    else:
        text, parts = _extract_parts(body, kind, filename, content_type, pages)
    if len(text) > MAX_TEXT:
        text = text[:MAX_TEXT] + f"\n[… text cut at {MAX_TEXT:,} characters]"
    if not pages:
        return ReadDocument(text, [])
    if parts is None:
        return ReadDocument(text, [(None, text[:chars])])
    return ReadDocument(text, _numbered(parts, chars))


def _numbered(parts: list[str], chars: int) -> list[tuple[int | None, str]]:
    out: list[tuple[int | None, str]] = []
    left = chars
    for number, part in enumerate(parts, start=1):
        if left <= 0:
            break
        part = tidy(part)[:left]
        left -= len(part)
        out.append((number, part))
    return out


def first_pages(
    body: bytes, *, filename: str = "", content_type: str | None = None, pages: int, chars: int
) -> list[tuple[int | None, str]]:
    """The first ``pages`` pages of an attachment as ``(page number, text)``, at
    most ``chars`` characters in all, for classifying a document whose title is
    ambiguous. A PDF is read page by page (only those pages are parsed); a file
    without pages (DOCX, DOC, HTML, text) is one part numbered ``None``. The
    bounds of ``extract_text`` apply (worker process, ZIP checks);
    ``ParseError`` when the file cannot be read."""
    kind = sniff_kind(body, filename, content_type)
    if kind != "pdf":
        return [(None, extract_text(body, filename=filename, content_type=content_type)[:chars])]
    if len(body) > IN_PROCESS_BELOW:
        what = f"reading the first pages of {filename or 'the PDF file'}"
        found = run_bounded(
            _pdf_pages, body, pages, seconds=EXTRACT_SECONDS, memory=EXTRACT_MEMORY, what=what
        )
    else:
        found = _pdf_pages(body, pages)
    return _numbered(found, chars)


def _check_zip(body: bytes) -> int:
    """Refuse a ZIP that would unpack too big or is a bomb; return its unpacked size."""
    try:
        with zipfile.ZipFile(io.BytesIO(body)) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise ParseError(f"corrupt DOCX: {exc}") from None
    if len(members) > MAX_MEMBERS:
        raise ParseError(f"DOCX not read: {len(members):,} parts, more than {MAX_MEMBERS:,}")
    total = sum(member.file_size for member in members)
    if total > MAX_UNCOMPRESSED:
        raise ParseError(
            f"DOCX not read: it unpacks to {total:,} bytes, more than "
            f"{MAX_UNCOMPRESSED:,} (a decompression bomb?)"
        )
    for member in members:
        if member.file_size > 1_000_000 and member.file_size > MAX_RATIO * max(
            1, member.compress_size
        ):
            raise ParseError(
                f"DOCX not read: {member.filename} is compressed "
                f"{member.file_size // max(1, member.compress_size):,} times, "
                f"more than {MAX_RATIO} (a decompression bomb?)"
            )
    return total


def _extract_parts(
    body: bytes, kind: Kind, filename: str, content_type: str | None, pages: int
) -> tuple[str, list[str] | None]:
    """(the tidied text, a PDF's first ``pages`` page texts or None): one parse."""
    if kind == "pdf":
        text, first = _pdf_read(body, pages)
        return tidy(text), first
    return _extract(body, kind, filename, content_type), None


def _extract(body: bytes, kind: Kind, filename: str, content_type: str | None) -> str:
    if kind == "pdf":
        text = _pdf_text(body)
    elif kind == "docx":
        text = _docx_text(body)
    elif kind == "doc":
        text = doc_text(body)
    elif kind == "html":
        text = _html_text(body, content_type)
    elif kind == "text":
        text, _ = decode_html(body, content_type)
    else:
        what = filename or content_type or "the file"
        raise ParseError(f"cannot extract text from {what}: unrecognised file type")
    return tidy(text)


def tidy(text: str) -> str:
    """Trailing spaces off each line, at most one blank line in a row, no NULs."""
    text = text.replace("\x00", "").replace("\r\n", "\n").replace("\r", "\n")
    lines = [line.rstrip() for line in text.split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


# -- PDF -----------------------------------------------------------------------

_CID = re.compile(r"\(cid:\d+\)")


# Scripts regulators write in: Latin, Greek, CJK ideographs, kana, Hangul,
# full-width forms. Letters of other scripts in a Chinese or English PDF are
# almost always a font decoded with the wrong map.
_READABLE_RANGES = (
    (0x30, 0x39), (0x41, 0x5A), (0x61, 0x7A), (0xC0, 0x24F), (0x370, 0x3FF),
    (0x3040, 0x30FF), (0x3400, 0x4DBF), (0x4E00, 0x9FFF), (0xAC00, 0xD7AF),
    (0xF900, 0xFAFF), (0xFF10, 0xFF5A),
)  # fmt: skip


def _is_readable(ch: str) -> bool:
    code = ord(ch)
    return any(low <= code <= high for low, high in _READABLE_RANGES)


def text_quality(text: str) -> tuple[int, float]:
    """``(readable characters, share of letters/controls that are readable)``.

    Letters and digits in the usual scripts count as readable; letters of
    other scripts, control, private-use and unassigned characters and U+FFFD
    count against; punctuation, symbols and spaces are neutral.
    """
    text = _CID.sub("\ufffd", text)
    good = bad = 0
    for ch in text:
        if _is_readable(ch):
            good += 1
        elif ch.isspace():
            continue
        elif unicodedata.category(ch)[0] in "LNC" or ch == "\ufffd":
            bad += 1
    return good, good / (good + bad) if good + bad else 1.0


def _better(first: str, second: str) -> bool:
    """True when ``second`` is the more readable text."""
    good1, share1 = text_quality(first)
    good2, share2 = text_quality(second)
    return good2 * share2 > good1 * share1


def _pdf_text(body: bytes) -> str:
    return _pdf_read(body, 0)[0]


def _pdf_read(body: bytes, pages: int) -> tuple[str, list[str]]:
    """The whole text and the first ``pages`` page texts, from one reader:
    pypdf, or pdfminer.six when pypdf's text is unreadable."""
    texts: list[str] = []
    first_error: Exception | None = None
    try:
        texts = _pypdf_texts(body)
    except ParseError:
        raise
    except Exception as exc:  # noqa: BLE001 - pypdf raises many kinds on broken files
        first_error = exc
    first = "\n\n".join(texts)
    if first_error is None:
        good, share = text_quality(first)
        if good >= _MIN_READABLE_PER_PAGE * max(1, len(texts)) and share >= _MIN_SHARE:
            return first, texts[:pages]
    try:
        second = _pdfminer_text(body)
    except Exception as exc:
        if first_error is not None:
            raise ParseError(f"corrupt PDF: {first_error}") from exc
        return first, texts[:pages]
    if first_error is not None or _better(first, second):
        cleaned = _CID.sub("", second)
        return cleaned, cleaned.split("\f")[:pages]
    return first, texts[:pages]


def _pdf_pages(body: bytes, pages: int) -> list[str]:
    """The text of the first ``pages`` pages, one string a page: pypdf, or
    pdfminer.six when pypdf's text is unreadable (as ``_pdf_text`` decides)."""
    try:
        first = _pypdf_pages(body, pages)
    except ParseError:
        raise
    except Exception:  # noqa: BLE001 - pypdf raises many kinds on broken files
        first = []
    good, share = text_quality("".join(first))
    if first and good >= _MIN_READABLE_PER_PAGE * len(first) and share >= _MIN_SHARE:
        return first
    from pdfminer.high_level import extract_text as pdfminer_extract

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            second = str(pdfminer_extract(io.BytesIO(body), maxpages=pages))
    except Exception as exc:
        if first:
            return first
        raise ParseError(f"corrupt PDF: {exc}") from exc
    split = [_CID.sub("", page) for page in second.split("\f")][:pages]
    return split if not first or _better("".join(first), "".join(split)) else first


def _pypdf_pages(body: bytes, pages: int) -> list[str]:
    with _pypdf(body) as reader:
        count = min(pages, len(reader.pages))
        return [reader.pages[i].extract_text() or "" for i in range(count)]


def _pypdf_texts(body: bytes) -> list[str]:
    with _pypdf(body) as reader:
        return [page.extract_text() or "" for page in reader.pages]


@contextmanager
def _pypdf(body: bytes) -> Iterator[Any]:
    """pypdf's reader of ``body``, opened (an empty password tried), with its
    warnings silenced while the caller reads it; ParseError when it stays locked."""
    import pypdf

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        reader = pypdf.PdfReader(io.BytesIO(body))
        if reader.is_encrypted:
            try:
                opened = reader.decrypt("")
            except Exception as exc:
                raise ParseError(f"the PDF is encrypted: {exc}") from exc
            if not opened:
                raise ParseError("the PDF is encrypted with a password")
        yield reader


def _pdfminer_text(body: bytes) -> str:
    from pdfminer.high_level import extract_text as pdfminer_extract

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return str(pdfminer_extract(io.BytesIO(body)))


# -- DOCX ----------------------------------------------------------------------


def _docx_text(body: bytes) -> str:
    import docx
    from docx.text.paragraph import Paragraph

    try:
        document = docx.Document(io.BytesIO(body))
    except Exception as exc:  # zipfile, lxml and python-docx errors alike
        raise ParseError(f"corrupt DOCX: {exc}") from exc
    lines: list[str] = []
    for block in document.iter_inner_content():
        if isinstance(block, Paragraph):
            lines.append(block.text)
        else:
            lines.extend(_table_lines(block))
    return "\n".join(lines)


def _table_lines(table: Table) -> list[str]:
    lines: list[str] = []
    for row in table.rows:
        cells: list[str] = []
        nested: list[str] = []
        seen: set[int] = set()
        for cell in row.cells:
            if id(cell._tc) in seen:  # a merged cell repeats across its span
                continue
            seen.add(id(cell._tc))
            cells.append(" ".join(p.text for p in cell.paragraphs).strip())
            for inner in cell.tables:
                nested.extend(_table_lines(inner))
        lines.append("\t".join(cells))
        lines.extend(nested)
    return lines


# -- HTML ----------------------------------------------------------------------


_BLOCK_TAGS = (
    "p", "div", "br", "li", "tr", "table", "h1", "h2", "h3", "h4", "h5", "h6",
    "section", "article", "header", "footer", "ul", "ol", "dt", "dd", "pre",
    "blockquote", "title",
)  # fmt: skip


def _html_text(body: bytes, content_type: str | None) -> str:
    markup, _ = decode_html(body, content_type)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # bs4's "looks like a URL / XML" hints
        soup = BeautifulSoup(markup, "lxml")
    for tag in soup(["script", "style", "noscript", "template"]):
        tag.decompose()
    for tag in soup.find_all(["td", "th"]):
        tag.append("\t")
    for tag in soup.find_all(_BLOCK_TAGS):
        tag.append("\n")
    return soup.get_text()
