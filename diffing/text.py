"""Text diff for pages and document versions, fine-grained enough for Chinese.

``diff(old, new)`` compares two texts that the caller has already normalised
(``diffing.normalise.normalise_text``: one paragraph per line). It matches
lines first, then, inside each block of replaced lines, tokens: a Latin word
or number is one token, every CJK character is one token, and whitespace and
punctuation are tokens of their own. So "自发布之日起1个月" → "…2个月" shows
as ``自发布之日起[-1-]{+2+}个月`` and "30 days" → "60 days" as
``[-30-]{+60+} days``.

Big blocks stay fast: a replaced block too large for a token diff
(``TOKEN_CAP`` token pairs) is split into sentences and matched sentence by
sentence; a sentence block still too large is shown as deleted + inserted
whole. Small equal runs wedged between two changes ("the", "的") are folded
into the change so rewritten sentences read as one edit.

The result, ``TextDiff``, holds ``ops``: a flat list of ``Op(tag, text)``
with tag ``equal``, ``delete`` or ``insert``; equal + delete texts
concatenate to the old text and equal + insert texts to the new one. It
renders as a unified diff with inline markup, as HTML, or as a short excerpt
for an alert.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from typing import Literal

from diffing.normalise import CJK_CHARS
from diffing.render import excerpt, mark_html, mark_plain

Tag = Literal["equal", "delete", "insert"]

TOKEN_CAP = 1_500_000
"""Largest ``len(old_tokens) * len(new_tokens)`` diffed token by token."""

_TOKEN = re.compile(rf"[{CJK_CHARS}]|[^\W{CJK_CHARS}]+|\n|[^\S\n]+|.", re.DOTALL)
_SENTENCE_END = re.compile(r"(?<=[。！？!?；;])(?![\n。！？!?；;])|(?<=\n)|(?<=[.:] )")


@dataclass(frozen=True, slots=True)
class Op:
    """One run of text that is equal in both versions, deleted or inserted."""

    tag: Tag
    text: str


def tokenize(text: str) -> list[str]:
    """Split text into diff tokens: each CJK character alone, Latin words and
    numbers whole, runs of spaces, newlines and punctuation characters alone.
    ``"".join(tokenize(t)) == t``."""
    return _TOKEN.findall(text)


def _sentences(text: str) -> list[str]:
    return [part for part in _SENTENCE_END.split(text) if part]


def _common_ends(a: list[str], b: list[str]) -> tuple[int, int]:
    limit = min(len(a), len(b))
    head = 0
    while head < limit and a[head] == b[head]:
        head += 1
    tail = 0
    while tail < limit - head and a[-1 - tail] == b[-1 - tail]:
        tail += 1
    return head, tail


Opcode = tuple[str, int, int, int, int]


def _opcodes(a: list[str], b: list[str], *, autojunk: bool) -> list[Opcode]:
    """``SequenceMatcher`` opcodes, with the common head and tail matched
    first (cheap, and it keeps the matcher's work to the changed middle).

    Lines and sentences are matched with ``autojunk``: a line repeated all
    over a document (a table border) cannot anchor a match, which keeps the
    matcher from going quadratic. Tokens are matched without it (spaces and
    "的" are everywhere, and must still match), under ``TOKEN_CAP``.
    """
    head, tail = _common_ends(a, b)
    codes: list[Opcode] = [("equal", 0, head, 0, head)] if head else []
    a_mid, b_mid = a[head : len(a) - tail], b[head : len(b) - tail]
    matcher = SequenceMatcher(None, a_mid, b_mid, autojunk=autojunk)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        codes.append((tag, i1 + head, i2 + head, j1 + head, j2 + head))
    if tail:
        codes.append(("equal", len(a) - tail, len(a), len(b) - tail, len(b)))
    return codes


def _match(
    a: list[str], b: list[str], raw: list[Op], *, autojunk: bool
) -> Iterator[tuple[str, str]]:
    """Diff two unit lists: equal, deleted and inserted runs go straight to
    ``raw``; replaced runs are yielded as (old text, new text)."""
    for tag, i1, i2, j1, j2 in _opcodes(a, b, autojunk=autojunk):
        old, new = "".join(a[i1:i2]), "".join(b[j1:j2])
        if tag == "replace":
            yield old, new
        elif tag == "equal":
            raw.append(Op("equal", old))
        else:
            raw.append(Op("delete", old))
            raw.append(Op("insert", new))


def _match_lines(old: str, new: str, raw: list[Op]) -> Iterator[tuple[str, str]]:
    """Like ``_match`` over lines, compared without their line break, so that
    a last line without "\n" still matches the same line followed by more."""
    a, b = old.split("\n"), new.split("\n")

    def text(lines: list[str], start: int, stop: int) -> str:
        if start == stop:
            return ""
        return "\n".join(lines[start:stop]) + ("\n" if stop < len(lines) else "")

    for tag, i1, i2, j1, j2 in _opcodes(a, b, autojunk=True):
        a_text, b_text = text(a, i1, i2), text(b, j1, j2)
        if tag == "replace":
            yield a_text, b_text
        elif tag == "equal":
            common = a_text if a_text == b_text else a_text.removesuffix("\n")
            raw.append(Op("equal", common))
            raw.append(Op("delete", a_text[len(common) :]))
            raw.append(Op("insert", b_text[len(common) :]))
        else:
            raw.append(Op("delete", a_text))
            raw.append(Op("insert", b_text))


def _token_diff(old: str, new: str, raw: list[Op]) -> bool:
    """Token-level diff into ``raw``; False (nothing written) when too big."""
    a, b = tokenize(old), tokenize(new)
    head, tail = _common_ends(a, b)
    if (len(a) - head - tail) * (len(b) - head - tail) > TOKEN_CAP:
        return False
    for a_text, b_text in _match(a, b, raw, autojunk=False):
        raw.append(Op("delete", a_text))
        raw.append(Op("insert", b_text))
    return True


def _block_diff(old: str, new: str, raw: list[Op]) -> None:
    if _token_diff(old, new, raw):
        return
    for a_text, b_text in _match(_sentences(old), _sentences(new), raw, autojunk=True):
        if not _token_diff(a_text, b_text, raw):
            raw.append(Op("delete", a_text))
            raw.append(Op("insert", b_text))


def _absorbable(equal: str, left: tuple[str, str], right: tuple[str, str]) -> bool:
    if "\n" in equal or any("\n" in text for text in (*left, *right)):
        return False  # fold within a line only: line structure stays readable
    size = len(equal)
    return size <= max(map(len, left)) and size <= max(map(len, right))


_Item = str | tuple[str, str]  # equal text, or (deleted, inserted)


def _canonical(raw: list[Op]) -> list[Op]:
    """Merge runs, put deletions before insertions, fold small equal runs
    between two changes into the change."""
    ops: list[Op] = []
    for item in _folded(_merged(raw)):
        if isinstance(item, str):
            ops.append(Op("equal", item))
        else:
            deleted, inserted = item
            ops += [Op("delete", deleted)] if deleted else []
            ops += [Op("insert", inserted)] if inserted else []
    return ops


def _merged(raw: list[Op]) -> list[_Item]:
    """Adjacent equal runs joined, and adjacent deletions and insertions
    joined into one (deleted, inserted) change."""
    merged: list[_Item] = []
    for op in raw:
        last = merged[-1] if merged else None
        if not op.text:
            continue
        if op.tag == "equal":
            if isinstance(last, str):
                merged[-1] = last + op.text
            else:
                merged.append(op.text)
            continue
        change = (op.text, "") if op.tag == "delete" else ("", op.text)
        if isinstance(last, tuple):
            merged[-1] = (last[0] + change[0], last[1] + change[1])
        else:
            merged.append(change)
    return merged


def _folded(merged: list[_Item]) -> list[_Item]:
    """A small equal run between two changes absorbed into one change."""
    items: list[_Item] = []
    for item in merged:
        items.append(item)
        while len(items) >= 3:
            left, equal, right = items[-3], items[-2], items[-1]
            if not (
                isinstance(left, tuple) and isinstance(equal, str) and isinstance(right, tuple)
            ):
                break
            if not _absorbable(equal, left, right):
                break
            items[-3:] = [(left[0] + equal + right[0], left[1] + equal + right[1])]
    return items


@dataclass
class _Line:
    """One line of the merged (old + new) view, for rendering."""

    old_no: int
    new_no: int
    parts: list[tuple[str, str]] = field(default_factory=list)
    has_old: bool = False
    has_new: bool = False
    changed: bool = False

    def touch(self, tag: str) -> None:
        self.has_old = self.has_old or tag != "insert"
        self.has_new = self.has_new or tag != "delete"
        self.changed = self.changed or tag != "equal"


def _merged_lines(ops: list[Op]) -> list[_Line]:
    lines: list[_Line] = []
    line = _Line(0, 0)
    for op in ops:
        for index, piece in enumerate(op.text.split("\n")):
            if index:
                line.touch(op.tag)
                lines.append(line)
                line = _Line(line.old_no + (op.tag != "insert"), line.new_no + (op.tag != "delete"))
            if piece:
                line.parts.append((op.tag, piece))
                line.touch(op.tag)
    if line.parts:
        lines.append(line)
    return lines


def _hunks(lines: list[_Line], context: int) -> list[tuple[int, int]]:
    """Inclusive (start, end) ranges of merged lines around the changes."""
    spans: list[tuple[int, int]] = []
    for number, line in enumerate(lines):
        if not line.changed:
            continue
        start, end = max(number - context, 0), min(number + context, len(lines) - 1)
        if spans and start <= spans[-1][1] + 1:
            spans[-1] = (spans[-1][0], end)
        else:
            spans.append((start, end))
    return spans


def _range(numbers: list[int], fallback: int) -> str:
    if not numbers:
        return f"{fallback},0"
    return f"{min(numbers) + 1},{max(numbers) - min(numbers) + 1}"


def _header(hunk: list[_Line]) -> str:
    old = _range([line.old_no for line in hunk if line.has_old], hunk[0].old_no)
    new = _range([line.new_no for line in hunk if line.has_new], hunk[0].new_no)
    return f"@@ -{old} +{new} @@"


@dataclass
class TextDiff:
    """The difference between two texts (see the module doc)."""

    old: str
    new: str
    ops: list[Op]

    @property
    def changed(self) -> bool:
        """True when the texts differ."""
        return any(op.tag != "equal" for op in self.ops)

    def unified(self, context: int = 2) -> str:
        """A line-level unified diff (``@@ -l,n +l,n @@`` hunks with
        ``context`` lines around each change) where changed lines carry
        inline ``[-deleted-]{+inserted+}`` marks, as ``git diff
        --word-diff=plain`` prints them. Empty when nothing changed."""
        lines = _merged_lines(self.ops)
        out: list[str] = []
        for start, end in _hunks(lines, context):
            hunk = lines[start : end + 1]
            out.append(_header(hunk))
            out += ["".join(mark_plain(tag, text) for tag, text in line.parts) for line in hunk]
        return "\n".join(out)

    def html(self, context: int | None = None) -> str:
        """The diff as HTML: ``<del>``/``<ins>`` inline, text escaped, one
        ``<br>`` per line, in ``<div class="regwatch-diff">``. The whole text
        by default; with ``context``, only changed lines and that many lines
        around them, gaps shown as ``<p class="regwatch-gap">…</p>``."""
        lines = _merged_lines(self.ops)
        spans = [(0, len(lines) - 1)] if context is None else _hunks(lines, context)
        blocks = []
        for start, end in spans:
            rendered = [
                "".join(mark_html(tag, text) for tag, text in line.parts)
                for line in lines[start : end + 1]
            ]
            blocks.append("<br>\n".join(rendered))
        body = '\n<p class="regwatch-gap">…</p>\n'.join(blocks)
        return f'<div class="regwatch-diff">\n{body}\n</div>'

    def side_by_side_html(self, context: int | None = None) -> str:
        """The diff as a two-column HTML table (old left with ``<del>``, new
        right with ``<ins>``, line numbers beside), text escaped, in
        ``<table class="regwatch-sbs">``; ``context`` as for :meth:`html`."""
        lines = _merged_lines(self.ops)
        spans = [(0, len(lines) - 1)] if context is None else _hunks(lines, context)
        rows = []
        for number, (start, end) in enumerate(spans):
            if number:
                rows.append('<tr class="regwatch-gap"><td colspan="4">…</td></tr>')
            for line in lines[start : end + 1]:
                old = "".join(mark_html(t, x) for t, x in line.parts if t != "insert")
                new = "".join(mark_html(t, x) for t, x in line.parts if t != "delete")
                rows.append(
                    f'<tr><td class="no">{line.old_no + 1 if line.has_old else ""}</td>'
                    f'<td class="old">{old if line.has_old else ""}</td>'
                    f'<td class="no">{line.new_no + 1 if line.has_new else ""}</td>'
                    f'<td class="new">{new if line.has_new else ""}</td></tr>'
                )
        body = "\n".join(rows)
        return (
            f'<table class="regwatch-sbs"><thead><tr><th></th><th>old 旧</th><th></th>'
            f"<th>new 新</th></tr></thead>\n<tbody>\n{body}\n</tbody></table>"
        )

    def excerpt(self, limit: int = 300) -> str:
        """A short plain-text view of what changed, for an alert: each changed
        passage with a little context, ``[-deleted-]{+inserted+}`` marks,
        line breaks as " / ", passages joined by " … ", at most ``limit``
        characters. Empty when nothing changed."""
        return excerpt([(op.tag, op.text) for op in self.ops], limit)


def diff(old: str, new: str) -> TextDiff:
    """Diff two (normalised) texts: lines first, then tokens inside replaced
    line blocks (see the module doc)."""
    raw: list[Op] = []
    for a_text, b_text in _match_lines(old, new, raw):
        _block_diff(a_text, b_text, raw)
    return TextDiff(old, new, _canonical(raw))
