"""Word files built for the hostile-file tests and bench/hostile.py: python-docx's
template with its ``word/document.xml`` replaced (bombs, dense members, many
paragraphs)."""

from __future__ import annotations

import io
import random
import zipfile

import docx

W = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'


def rebuilt(document_xml_parts: list[bytes]) -> bytes:
    """A real DOCX (python-docx's template) whose word/document.xml is replaced."""
    template = io.BytesIO()
    docx.Document().save(template)
    out = io.BytesIO()
    with zipfile.ZipFile(template) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            if item.filename == "word/document.xml":
                with dst.open("word/document.xml", "w") as member:
                    for part in document_xml_parts:
                        member.write(part)
            else:
                dst.writestr(item, src.read(item))
    return out.getvalue()


def head() -> bytes:
    return f'<?xml version="1.0" encoding="UTF-8"?><w:document {W}><w:body>'.encode()


TAIL = b"</w:body></w:document>"


def many_paragraphs(count: int) -> bytes:
    rng = random.Random(7)
    words = ["细胞", "基因", "治疗", "产品", "临床", "试验", "therapy", "vector", "dose", "cell"]
    parts = [head()]
    for _ in range(count // 1000):
        parts.append(
            "".join(
                f"<w:p><w:r><w:t>{' '.join(rng.choice(words) for _ in range(6))} "
                f"{rng.getrandbits(48):x}</w:t></w:r></w:p>"
                for _ in range(1000)
            ).encode()
        )
    parts.append(TAIL)
    return rebuilt(parts)
