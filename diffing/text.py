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
from diffing.render import mark_html, mark_plain

Tag = Literal["equal", "delete", "insert"]

TOKEN_CAP = 1_500_000
"""Largest ``len(old_tokens) * len(new_tokens)`` diffed token by token."""

_TOKEN = re.compile(rf"[{CJK_CHARS}]|[^\W{CJK_CHARS}]+|\n|[^\S\n]+|.", re.S)
_SENTENCE_END = re.compile(r"(?<=[。！？!?；;\n])|(?<=[.:] )")
_CONTEXT = 24
_LINE_BREAK = " / "


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


def _lines(text: str) -> list[str]:
    parts = text.split("\n")
    lines = [part + "\n" for part in parts[:-1]]
    if parts[-1]:
        lines.append(parts[-1])
    return lines


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


def _match(a: list[str], b: list[str], raw: list[Op]) -> Iterator[tuple[str, str, str]]:
    """Opcodes over two unit lists, with common ends trimmed first; equal,
    delete and insert runs go straight to ``raw``, replaced runs are yielded."""
    head, tail = _common_ends(a, b)
    if head:
        raw.append(Op("equal", "".join(a[:head])))
    a_mid, b_mid = a[head : len(a) - tail], b[head : len(b) - tail]
    matcher = SequenceMatcher(None, a_mid, b_mid, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        old, new = "".join(a_mid[i1:i2]), "".join(b_mid[j1:j2])
        if tag == "equal":
            raw.append(Op("equal", old))
        elif tag == "replace":
            yield tag, old, new
        else:
            raw.append(Op("delete", old))
            raw.append(Op("insert", new))
    if tail:
        raw.append(Op("equal", "".join(a[len(a) - tail :])))


def _token_diff(old: str, new: str, raw: list[Op]) -> bool:
    """Token-level diff into ``raw``; False (nothing written) when too big."""
    a, b = tokenize(old), tokenize(new)
    head, tail = _common_ends(a, b)
    if (len(a) - head - tail) * (len(b) - head - tail) > TOKEN_CAP:
        return False
    for _, a_text, b_text in _match(a, b, raw):
        raw.append(Op("delete", a_text))
        raw.append(Op("insert", b_text))
    return True


def _block_diff(old: str, new: str, raw: list[Op]) -> None:
    if _token_diff(old, new, raw):
        return
    for _, a_text, b_text in _match(_sentences(old), _sentences(new), raw):
        if not _token_diff(a_text, b_text, raw):
            raw.append(Op("delete", a_text))
            raw.append(Op("insert", b_text))


def _absorbable(equal: str, left: tuple[str, str], right: tuple[str, str]) -> bool:
    if "\n" in equal:
        return False
    size = len(equal)
    return size <= max(map(len, left)) and size <= max(map(len, right))


def _canonical(raw: list[Op]) -> list[Op]:
    """Merge runs, put deletions before insertions, fold small equal runs
    between two changes into the change."""
    merged: list[str | tuple[str, str]] = []  # equal text, or (deleted, inserted)
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
    items: list[str | tuple[str, str]] = []
    for item in merged:
        items.append(item)
        while len(items) >= 3:
            left, equal, right = items[-3], items[-2], items[-1]
            if not (isinstance(left, tuple) and isinstance(equal, str) and isinstance(right, tuple)):
                break
            if not _absorbable(equal, left, right):
                break
            items[-3:] = [(left[0] + equal + right[0], left[1] + equal + right[1])]
    ops: list[Op] = []
    for item in items:
        if isinstance(item, str):
            ops.append(Op("equal", item))
        else:
            ops += [Op(tag, text) for tag, text in zip(("delete", "insert"), item) if text]
    return ops


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
                line = _Line(
                    line.old_no + (op.tag != "insert"), line.new_no + (op.tag != "delete")
                )
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

    @property
    def inserted_chars(self) -> int:
        return sum(len(op.text) for op in self.ops if op.tag == "insert")

    @property
    def deleted_chars(self) -> int:
        return sum(len(op.text) for op in self.ops if op.tag == "delete")

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

    def excerpt(self, limit: int = 300) -> str:
        """A short plain-text view of what changed, for an alert: each changed
        passage with a little context, ``[-deleted-]{+inserted+}`` marks,
        line breaks as " / ", passages joined by " … ", at most ``limit``
        characters. Empty when nothing changed."""
        passages = _passages(self.ops)
        result = ""
        for index, passage in enumerate(passages):
            text = _render_passage(passage)
            joined = f"{result} … {text}" if result else text
            if len(joined) <= limit:
                result = joined
                continue
            if not result:
                result = _fit(passage, limit)
                index += 1
            more = f" … (+{len(passages) - index} more)"
            if len(passages) > index and len(result) + len(more) <= limit:
                result += more
            break
        return result


def _passages(ops: list[Op]) -> list[list[tuple[str, str]]]:
    """Changed passages, each a list of (tag, text) with context around."""
    passages: list[list[tuple[str, str]]] = []
    current: list[tuple[str, str]] = []
    for index, op in enumerate(ops):
        if op.tag != "equal":
            current.append((op.tag, op.text))
            continue
        if not current:  # leading context of the first passage
            tail = op.text[-_CONTEXT:]
            if index + 1 < len(ops):
                current = [("equal", ("…" if len(tail) < len(op.text) else "") + tail)]
            continue
        if index + 1 < len(ops) and len(op.text) <= 2 * _CONTEXT:
            current.append(("equal", op.text))
            continue
        head = op.text[:_CONTEXT]
        current.append(("equal", head + ("…" if len(head) < len(op.text) else "")))
        passages.append(current)
        current = []
        if index + 1 < len(ops):
            tail = op.text[-_CONTEXT:]
            current = [("equal", "…" + tail)]
    if any(tag != "equal" for tag, _ in current):
        passages.append(current)
    return passages


def _render_passage(passage: list[tuple[str, str]]) -> str:
    text = "".join(mark_plain(tag, text) for tag, text in passage)
    return text.replace("\n", _LINE_BREAK)


def _fit(passage: list[tuple[str, str]], limit: int) -> str:
    """Shorten a passage until it fits ``limit``: context first (down to a
    few characters, then to "…"), then the longest changed pieces."""
    parts = list(passage)
    stages = ((8, ("equal",)), (0, ("equal",)), (1, ("delete", "insert")))
    for floor, tags in stages:
        while (excess := len(_render_passage(parts)) - limit) > 0:
            cores = {
                i: text.strip("…")
                for i, (tag, text) in enumerate(parts)
                if tag in tags and len(text.strip("…")) > floor
            }
            if not cores:
                break
            index = max(cores, key=lambda i: len(cores[i]))
            core, tag = cores[index], parts[index][0]
            keep = max(len(core) - excess, floor)
            if index == 0 and tag == "equal":
                parts[index] = (tag, "…" + core[len(core) - keep :])
            else:
                parts[index] = (tag, core[:keep] + "…")
    text = _render_passage(parts)
    return text if len(text) <= limit else text[: max(limit - 1, 0)] + "…"


def diff(old: str, new: str) -> TextDiff:
    """Diff two (normalised) texts: lines first, then tokens inside replaced
    line blocks (see the module doc)."""
    raw: list[Op] = []
    for _, a_text, b_text in _match(_lines(old), _lines(new), raw):
        _block_diff(a_text, b_text, raw)
    return TextDiff(old, new, _canonical(raw))
