"""Turn the bytes of a web page into text, picking the right encoding.

Chinese government sites still serve GBK / GB2312 pages, often without a
charset in the ``Content-Type`` header, sometimes with a wrong one. The
order tried, the first that decodes cleanly wins:

1. a byte-order mark (UTF-8, UTF-16 LE/BE) — always trusted;
2. the ``charset`` of the HTTP ``Content-Type`` header;
3. ``<meta charset>`` / ``<meta http-equiv="Content-Type" content="…charset=…">``
   or an XML declaration's ``encoding="…"`` in the first 8 KB;
4. UTF-8;
5. GB18030.

GBK, GB2312 and their aliases are read as GB18030, a superset of both, so a
page labelled GB2312 that uses a GBK-only character still decodes. Labels
ISO-8859-1 / ASCII are read as Windows-1252, as browsers do. When nothing
decodes cleanly the first declared encoding (else UTF-8) is used with
replacement characters.
"""

from __future__ import annotations

import codecs
import re

_SNIFF_BYTES = 8192

_BOMS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)

# Labels that must be read with a wider codec than their name says.
_ALIASES: dict[str, str] = {
    "gb2312": "gb18030",
    "gb_2312": "gb18030",
    "gb_2312-80": "gb18030",
    "gbk": "gb18030",
    "x-gbk": "gb18030",
    "cp936": "gb18030",
    "ms936": "gb18030",
    "windows-936": "gb18030",
    "chinese": "gb18030",
    "csgb2312": "gb18030",
    "euc-cn": "gb18030",
    "iso-8859-1": "cp1252",
    "iso8859-1": "cp1252",
    "latin1": "cp1252",
    "latin-1": "cp1252",
    "us-ascii": "cp1252",
    "ascii": "cp1252",
    "utf8": "utf-8",
    "unicode-1-1-utf-8": "utf-8",
    "big5-hkscs": "big5hkscs",
}

_HEADER_CHARSET = re.compile(r"""charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.IGNORECASE)
_META_CHARSET = re.compile(
    rb"""<meta[^>]*?charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.IGNORECASE
)
_XML_ENCODING = re.compile(
    rb"""<\?xml[^>]*?encoding\s*=\s*["']\s*([A-Za-z0-9_.:-]+)""", re.IGNORECASE
)


def normalise_encoding(label: str | None) -> str | None:
    """A Python codec name for an HTTP/HTML charset label, or None if unknown."""
    if not label:
        return None
    name = label.strip().strip("\"'").lower()
    name = _ALIASES.get(name, name)
    try:
        codec = codecs.lookup(name)
    except LookupError:
        return None
    canonical = codec.name
    # codecs.lookup("gbk").name is "gbk": widen again after canonicalising.
    return _ALIASES.get(canonical, canonical)


def charset_from_content_type(content_type: str | None) -> str | None:
    """The ``charset`` parameter of a Content-Type header value, as a codec name."""
    if not content_type:
        return None
    match = _HEADER_CHARSET.search(content_type)
    return normalise_encoding(match.group(1)) if match else None


def sniff_declared(body: bytes) -> str | None:
    """The encoding a page declares in a <meta> tag or XML declaration."""
    head = body[:_SNIFF_BYTES]
    for pattern in (_XML_ENCODING, _META_CHARSET):
        match = pattern.search(head)
        if match:
            found = normalise_encoding(match.group(1).decode("ascii", errors="ignore"))
            if found:
                return found
    return None


def decode_html(body: bytes, content_type: str | None) -> tuple[str, str]:
    """Decode a page; return ``(text, encoding)`` with a Python codec name.

    ``encoding`` is what ``bytes.decode`` needs to reproduce ``text``
    (``utf-8-sig`` when a UTF-8 BOM is present, so the BOM is dropped).
    """
    for bom, encoding in _BOMS:
        if body.startswith(bom):
            return body.decode(encoding, errors="replace"), encoding

    declared = [e for e in (charset_from_content_type(content_type), sniff_declared(body)) if e]
    candidates: list[str] = []
    for encoding in [*declared, "utf-8", "gb18030"]:
        if encoding not in candidates:
            candidates.append(encoding)
    for encoding in candidates:
        try:
            return body.decode(encoding), encoding
        except (UnicodeDecodeError, LookupError):
            continue
    fallback = declared[0] if declared else "utf-8"
    return body.decode(fallback, errors="replace"), fallback


def json_encoding(body: bytes, content_type: str | None) -> str:
    """The encoding of a JSON body without decoding all of it (files can be 100 MB).

    A BOM, else UTF-8 when the first 64 KB are valid UTF-8 with non-ASCII
    text in them (RFC 8259: JSON is UTF-8; a server that labels UTF-8 JSON
    ``charset=gbk`` would otherwise turn every title into mojibake), else the
    HTTP charset, else UTF-8 when valid, else GB18030 (some Chinese APIs
    answer in GBK).
    """
    for bom, encoding in _BOMS:
        if body.startswith(bom):
            return encoding
    head = body[:65536]
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        decoder.decode(head, final=len(body) <= 65536)
        valid_utf8 = True
    except UnicodeDecodeError:
        valid_utf8 = False
    declared = charset_from_content_type(content_type)
    if declared and not (valid_utf8 and not head.isascii()):
        return declared
    return "utf-8" if valid_utf8 else "gb18030"
