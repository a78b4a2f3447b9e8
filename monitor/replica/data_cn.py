"""Seed data and file makers shared by the CDE and NMPA replicas.

- ``seed()``: the records in ``data_cn.json`` (titles, dates, categories);
- ``hex_id(*parts)``: a stable 32-hex id, like the sites' own ``zdyzIdCODE``;
- ``make_pdf(lines)`` / ``make_docx(lines)``: small real files whose bytes
  depend only on their text (same text, same hash), so attachment hashes
  change exactly when a test revises a document. The PDF is built by hand
  with the standard CID font STSong-Light in ``UniGB-UCS2-H`` encoding (as
  reportlab does), so pypdf and pdfminer both extract the Chinese text;
- ``ruishu_page(...)``: the obfuscated ``$_ts`` challenge page the real
  sites send to a plain HTTP client.
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from functools import cache
from pathlib import Path
from typing import Any

_DATA = Path(__file__).with_name("data_cn.json")
_FIXED_ZIP_TIME = (2026, 1, 1, 0, 0, 0)


@cache
def seed() -> dict[str, Any]:
    """The seed data of both replicas (read once)."""
    data: dict[str, Any] = json.loads(_DATA.read_text(encoding="utf-8"))
    return data


def hex_id(*parts: object) -> str:
    """A 32-hex id derived from ``parts`` (stable across runs)."""
    return hashlib.md5("\x1f".join(map(str, parts)).encode()).hexdigest()


def iso(yyyymmdd: str) -> str:
    """``20260601`` → ``2026-06-01``."""
    return f"{yyyymmdd[:4]}-{yyyymmdd[4:6]}-{yyyymmdd[6:8]}"


def cn_date(iso_date: str) -> str:
    """``2026-06-01`` → ``2026年6月1日``."""
    year, month, day = (int(p) for p in iso_date.split("-"))
    return f"{year}年{month}月{day}日"


# --- PDF -----------------------------------------------------------------


def _pdf_text(line: str) -> str:
    return "<" + line.encode("utf-16-be", errors="replace").hex().upper() + ">"


def make_pdf(lines: list[str]) -> bytes:
    """A one-page PDF showing ``lines`` (Chinese included), byte-stable."""
    return make_pdf_pages([lines[:45]])


def make_pdf_pages(pages: list[list[str]]) -> bytes:
    """A PDF of one page per list of lines (at most 45 each), byte-stable; one
    page gives the bytes ``make_pdf`` always gave."""
    streams: list[bytes] = []
    for lines in pages:
        ops = ["BT", "/F1 12 Tf", "16 TL", "56 790 Td"]
        for line in lines[:45]:
            for start in range(0, max(len(line), 1), 38):
                ops.append(f"{_pdf_text(line[start : start + 38])} Tj T*")
        ops.append("ET")
        streams.append("\n".join(ops).encode("ascii"))
    # objects: 1 catalog, 2 pages, 3.. page i and its contents, then the three font objects
    count = len(streams)
    font = 3 + 2 * count
    kids = " ".join(f"{3 + 2 * i} 0 R" for i in range(count)).encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [" + kids + b"] /Count %d >>" % count,
    ]
    for i, content in enumerate(streams):
        objects.append(
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
            b"/Resources << /Font << /F1 %d 0 R >> >> /Contents %d 0 R >>" % (font, 4 + 2 * i)
        )
        objects.append(b"<< /Length %d >>\nstream\n%s\nendstream" % (len(content), content))
    objects += [
        (
            b"<< /Type /Font /Subtype /Type0 /BaseFont /STSong-Light /Encoding /UniGB-UCS2-H "
            b"/DescendantFonts [%d 0 R] >>" % (font + 1)
        ),
        (
            b"<< /Type /Font /Subtype /CIDFontType0 /BaseFont /STSong-Light "
            b"/CIDSystemInfo << /Registry (Adobe) /Ordering (GB1) /Supplement 2 >> "
            b"/FontDescriptor %d 0 R /DW 1000 >>" % (font + 2)
        ),
        (
            b"<< /Type /FontDescriptor /FontName /STSong-Light /Flags 6 "
            b"/FontBBox [-25 -254 1000 880] /ItalicAngle 0 /Ascent 880 /Descent -120 "
            b"/CapHeight 880 /StemV 93 >>"
        ),
    ]
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n%s\nendobj\n" % (number, body))
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    for offset in offsets:
        out.write(b"%010d 00000 n \n" % offset)
    out.write(
        b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    )
    return out.getvalue()


# --- DOCX ----------------------------------------------------------------


def make_docx(lines: list[str]) -> bytes:
    """A DOCX with one paragraph per line (python-docx), byte-stable."""
    import docx  # python-docx: a project dependency

    document = docx.Document()
    if lines:
        document.add_heading(lines[0], level=1)
    for line in lines[1:]:
        document.add_paragraph(line)
    raw = io.BytesIO()
    document.save(raw)
    # python-docx stamps zip entries with the current time: rewrite them fixed.
    stable = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(raw.getvalue())) as src,
        zipfile.ZipFile(stable, "w", zipfile.ZIP_DEFLATED) as dst,
    ):
        for info in src.infolist():
            fixed = zipfile.ZipInfo(info.filename, date_time=_FIXED_ZIP_TIME)
            fixed.compress_type = zipfile.ZIP_DEFLATED
            dst.writestr(fixed, src.read(info.filename))
    return stable.getvalue()


def make_file(name: str, lines: list[str]) -> tuple[bytes, str]:
    """Bytes and MIME type of an attachment called ``name`` (by its extension)."""
    if name.lower().endswith((".docx", ".doc")):
        mime = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
        return make_docx(lines), mime
    return make_pdf(lines), "application/pdf"


# --- Ruishu challenge ----------------------------------------------------

_JS_ALPHABET = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_$"


def _noise(seed_text: str, size: int) -> str:
    out: list[str] = []
    counter = 0
    while sum(map(len, out)) < size:
        digest = hashlib.sha256(f"{seed_text}:{counter}".encode()).digest()
        out.append("".join(_JS_ALPHABET[b % len(_JS_ALPHABET)] for b in digest))
        counter += 1
    return "".join(out)[:size]


def ruishu_page(seed_text: str, *, meta: bool, size: int = 25_000) -> str:
    """A Ruishu-style challenge page: ``$_ts`` bootstrap plus obfuscated script."""
    blob = _noise(seed_text, size)
    meta_tag = (
        f'<meta id="9DhefwqGPrzGxEp9hPaoag" content="{_noise(seed_text + "m", 120)}" r="m">'
        if meta
        else ""
    )
    return (
        "<!DOCTYPE html><html><head>"
        '<meta http-equiv="Content-Type" content="text/html; charset=utf-8">'
        f"{meta_tag}"
        '<script type="text/javascript" r="m">'
        f'$_ts=window["$_ts"];if(!$_ts)$_ts={{}};$_ts.nsd=84221;$_ts.cd="{blob[:2000]}";'
        f"if($_ts.lcd)$_ts.lcd();</script>"
        f'<script type="text/javascript" r="m">(function(){{var _$a="{blob[2000:]}";'
        "_$a=_$a.split('').reverse().join('');}})();</script>"
        "</head><body></body></html>"
    )
