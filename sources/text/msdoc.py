"""Text out of legacy Word ``.doc`` files (Word 97-2003 and, roughly, Word 6/95).

Best effort, no Word or LibreOffice needed:

1. Open the OLE compound file (``olefile``) and read the ``WordDocument``
   stream. Encrypted files raise ``ParseError``.
2. Word 97-2003 (nFib >= 101): read the FIB, find the piece table (``Clx``)
   in the ``0Table`` / ``1Table`` stream, and join the pieces of the main
   document: UTF-16LE pieces, or "compressed" 8-bit pieces (Windows-1252).
   Word's control characters become line breaks / tabs; field codes
   (``HYPERLINK …``, ``PAGE``) are dropped and their results kept.
3. Word 6/95 (older FIB): the text between ``fcMin`` and ``fcMac`` as
   8-bit text, GB18030 when it decodes as such (Chinese Word 6/95 files
   are GBK), else Windows-1252.
4. When the structure cannot be read, fall back to scanning the
   ``WordDocument`` stream for runs of UTF-16LE text (CJK, Latin, digits,
   punctuation) of at least four characters.

Not handled: headers, footers, footnotes and text boxes (only the main
document text is read), fast-saved files with their edit history beyond what
the piece table says, RTF or HTML saved under a ``.doc`` name (those are
sniffed as what they are by ``sources.text.documents``).
"""

from __future__ import annotations

import io
import re
import struct

import olefile

from sources.errors import ParseError

_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_WORD_IDENT = 0xA5EC

# Characters worth keeping when scanning raw UTF-16LE: tab/CR/LF, ASCII and
# Latin-1 printable, general punctuation, CJK punctuation and ideographs,
# full-width forms.
_TEXT_RUN = re.compile(
    "[\t\n\r\u0020-\u007e\u00a0-\u00ff\u2000-\u206f\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]{4,}"
)

# English words hiding in a UTF-16 reading of 8-bit text: their bytes.
_WORDS = re.compile(r"[A-Za-z0-9 ,.;:()'/&-]{8,}")
_BYTE_RUN = re.compile(rb"(?:[\t\r\n\x20-\x7e]|[\x81-\xfe][\x40-\x7e\x80-\xfe]){8,}")
_FIELD = re.compile(r"\x13[^\x13\x14\x15]*(?:\x14([^\x13\x14\x15]*))?\x15")
_CONTROL = str.maketrans(
    {
        "\r": "\n",
        "\x0b": "\n",
        "\x0c": "\n",
        "\x07": "\t",
        "\x1e": "-",
        "\x1f": None,
        "\x01": None,
        "\x08": None,
        "\x02": None,
        "\x05": None,
        "\xa0": " ",
    }
)


def is_ole(body: bytes) -> bool:
    return body.startswith(_MAGIC)


def doc_text(body: bytes) -> str:
    """The main text of a legacy Word document; ``ParseError`` if unreadable."""
    if not is_ole(body):
        raise ParseError("not an OLE compound file (legacy .doc)")
    try:
        ole = olefile.OleFileIO(io.BytesIO(body))
    except (OSError, ValueError, struct.error) as exc:
        raise ParseError(f"corrupt .doc file: {exc}") from exc
    with ole:
        if not ole.exists("WordDocument"):
            raise ParseError("an OLE file without a WordDocument stream (not a Word file)")
        try:
            word = ole.openstream("WordDocument").read()
        except (OSError, ValueError, struct.error) as exc:
            raise ParseError(f"corrupt .doc file: {exc}") from exc
        tables = {name: _read(ole, name) for name in ("0Table", "1Table") if ole.exists(name)}
    if len(word) < 0x20 or struct.unpack_from("<H", word, 0)[0] != _WORD_IDENT:
        return _scan_runs(word)
    flags = struct.unpack_from("<H", word, 0x0A)[0]
    if flags & 0x0100:
        raise ParseError("the .doc file is encrypted")
    n_fib = struct.unpack_from("<H", word, 0x02)[0]
    try:
        if n_fib >= 101:
            table = tables.get("1Table" if flags & 0x0200 else "0Table", b"")
            text = _piece_table_text(word, table)
        else:
            text = _word6_text(word)
    except (struct.error, IndexError, ValueError):
        text = ""
    if not text.strip():
        text = _scan_runs(word)
    return _clean(text)


def _read(ole: olefile.OleFileIO, name: str) -> bytes:
    try:
        return bytes(ole.openstream(name).read())
    except (OSError, ValueError, struct.error):
        return b""


def _fib_offsets(word: bytes) -> tuple[int, int]:
    """Offsets of fibRgLw and fibRgFcLcbBlob, computed from the counts in the FIB."""
    csw = struct.unpack_from("<H", word, 0x20)[0]
    rg_lw_count_at = 0x22 + csw * 2
    cslw = struct.unpack_from("<H", word, rg_lw_count_at)[0]
    rg_lw = rg_lw_count_at + 2
    blob = rg_lw + cslw * 4 + 2  # skip cbRgFcLcb
    return rg_lw, blob


def _piece_table_text(word: bytes, table: bytes) -> str:
    rg_lw, blob = _fib_offsets(word)
    ccp_text = struct.unpack_from("<i", word, rg_lw + 12)[0]
    fc_clx, lcb_clx = struct.unpack_from("<II", word, blob + 33 * 8)
    clx = table[fc_clx : fc_clx + lcb_clx]
    i = 0
    while i < len(clx) and clx[i] == 0x01:  # Prc: property modifiers, skipped
        i += 3 + struct.unpack_from("<H", clx, i + 1)[0]
    if i >= len(clx) or clx[i] != 0x02:
        raise ValueError("no piece table")
    lcb = struct.unpack_from("<I", clx, i + 1)[0]
    plc = clx[i + 5 : i + 5 + lcb]
    count = (len(plc) - 4) // 12
    cps = struct.unpack_from(f"<{count + 1}I", plc, 0)
    parts: list[str] = []
    for k in range(count):
        fc_raw = struct.unpack_from("<I", plc, 4 * (count + 1) + 8 * k + 2)[0]
        chars = cps[k + 1] - cps[k]
        if chars <= 0:
            continue
        if fc_raw & 0x40000000:
            start = (fc_raw & 0x3FFFFFFF) // 2
            parts.append(word[start : start + chars].decode("cp1252", errors="replace"))
        else:
            start = fc_raw & 0x3FFFFFFF
            parts.append(word[start : start + 2 * chars].decode("utf-16-le", errors="replace"))
    text = "".join(parts)
    return text[:ccp_text] if 0 < ccp_text <= len(text) else text


def _word6_text(word: bytes) -> str:
    fc_min, fc_mac = struct.unpack_from("<II", word, 0x18)
    raw = word[fc_min:fc_mac]
    for encoding in ("gb18030", "cp1252"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    return raw.decode("cp1252", errors="replace")


def _scan_runs(word: bytes) -> str:
    """Runs of plausible text in a stream, in stream order.

    First UTF-16LE runs (Word stores text at even offsets), leaving out
    stretches that are really 8-bit text read two bytes at a time ("Co" ->
    潃); then, in the bytes no UTF-16 run covers, 8-bit runs of ASCII and
    GBK double-byte characters, read as GB18030.
    """
    decoded = word[: len(word) // 2 * 2].decode("utf-16-le", errors="replace")
    found: list[tuple[int, str]] = []
    covered = bytearray(len(word))
    for match in _TEXT_RUN.finditer(decoded):
        for start, end in _utf16_spans(match.group(), match.start()):
            found.append((2 * start, decoded[start:end]))
            covered[2 * start : 2 * end] = b"\x01" * (2 * (end - start))
    rest = bytes(b if not c else 0 for b, c in zip(word, covered, strict=True))
    for byte_run in _BYTE_RUN.finditer(rest):
        text = byte_run.group().decode("gb18030", errors="replace")
        letters = sum(ch.isalpha() or ch.isspace() for ch in text)
        if letters >= 0.7 * len(text):
            found.append((byte_run.start(), text))
    lines = (line.strip() for _, run in sorted(found) for line in run.splitlines())
    return "\n".join(line for line in lines if sum(ch.isalnum() for ch in line) >= 2)


def _utf16_spans(run: str, offset: int) -> list[tuple[int, int]]:
    """The parts of a UTF-16 run that are not 8-bit words in disguise (as char indexes)."""
    as_bytes = run.encode("utf-16-le", errors="surrogatepass").decode("latin-1")
    spans: list[tuple[int, int]] = []
    start = 0
    for words in _WORDS.finditer(as_bytes):
        if " " not in words.group():
            continue
        first, last = -(-words.start() // 2), words.end() // 2  # whole chars only
        if last - first >= 4:
            spans.append((offset + start, offset + first))
            start = last
    spans.append((offset + start, offset + len(run)))
    return [(a, b) for a, b in spans if b > a]


def _clean(text: str) -> str:
    for _ in range(8):  # fields nest: innermost first
        text, replaced = _FIELD.subn(lambda m: m.group(1) or "", text)
        if not replaced:
            break
    text = text.translate(_CONTROL)
    text = re.sub(r"[\x00-\x08\x0e-\x1f\x13\x14\x15]", "", text)
    return text
