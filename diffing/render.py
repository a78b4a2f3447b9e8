"""Rendering: diff markup for text and small tables for record changes.

Plain text marks deletions ``[-like this-]`` and insertions ``{+like this+}``
(the notation of ``git diff --word-diff=plain``); HTML uses ``<del>`` and
``<ins>``, always escaped. A marked passage that spans several lines is
closed and reopened on each line, so every line reads on its own.

``render_change_text`` / ``render_change_html`` show a ``RecordChange`` as
one line per changed field (``title: old → new``) with attachments added
and removed; ``summarise`` gives a one-line view of a whole ``RecordDiff``.
``excerpt`` is the short plain-text view of a text diff that goes into an alert.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from diffing.records import FieldChange, RecordChange, RecordDiff
from sources.types import Attachment

PLAIN_MARKS: dict[str, tuple[str, str]] = {"delete": ("[-", "-]"), "insert": ("{+", "+}")}
HTML_TAGS: dict[str, str] = {"delete": "del", "insert": "ins"}
ARROW = " → "
_CONTEXT = 24  # characters of context around a change in an excerpt
_LINE_BREAK = " / "
NONE = "(none)"


def mark_plain(tag: str, text: str) -> str:
    """``text`` marked as deleted/inserted (``tag``), per line; equal text as is."""
    if tag not in PLAIN_MARKS:
        return text
    opening, closing = PLAIN_MARKS[tag]
    return "\n".join(f"{opening}{part}{closing}" if part else "" for part in text.split("\n"))


def mark_html(tag: str, text: str) -> str:
    """``text`` HTML-escaped and wrapped in ``<del>``/``<ins>`` per line."""
    if tag not in HTML_TAGS:
        return escape(text, quote=False)
    name = HTML_TAGS[tag]
    return "\n".join(
        f"<{name}>{escape(part, quote=False)}</{name}>" if part else "" for part in text.split("\n")
    )


def excerpt(ops: Sequence[tuple[str, str]], limit: int = 300) -> str:
    """A short plain-text view of a diff given as (tag, text) runs: each
    changed passage with a little context, ``[-deleted-]{+inserted+}`` marks,
    line breaks as " / ", passages joined by " … " and a "(+N more)" note
    when they do not all fit, at most ``limit`` characters in all."""
    passages = _passages(ops)
    result = ""
    for index, passage in enumerate(passages):
        text = _render_passage(passage)
        joined = _join(result, text) if result else text
        if len(joined) <= limit:
            result = joined
            continue
        shown = index
        if not result:
            result, shown = _fit(passage, limit), index + 1
        more = _join(result, f"(+{len(passages) - shown} more)")
        if len(passages) > shown and len(more) <= limit:
            result = more
        break
    return result


def _join(left: str, right: str) -> str:
    if left.endswith("…") or right.startswith("…"):
        return f"{left} {right}"
    return f"{left} … {right}"


def _passages(ops: Sequence[tuple[str, str]]) -> list[list[tuple[str, str]]]:
    """Changed passages, each a list of (tag, text) with context around."""
    passages: list[list[tuple[str, str]]] = []
    current: list[tuple[str, str]] = []
    for index, (tag, text) in enumerate(ops):
        if tag != "equal":
            current.append((tag, text))
            continue
        if not current:  # leading context of the first passage
            tail = text[-_CONTEXT:]
            if index + 1 < len(ops):
                current = [("equal", ("…" if len(tail) < len(text) else "") + tail)]
            continue
        if index + 1 < len(ops) and len(text) <= 2 * _CONTEXT:
            current.append(("equal", text))
            continue
        head = text[:_CONTEXT]
        current.append(("equal", head + ("…" if len(head) < len(text) else "")))
        passages.append(current)
        current = []
        if index + 1 < len(ops):
            tail = text[-_CONTEXT:]
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


def shorten(text: str, width: int | None) -> str:
    """``text`` on one line, cut to ``width`` characters with "…" (None: no cut)."""
    text = " ".join(text.split("\n"))
    if width is not None and len(text) > width:
        return text[: max(width - 1, 0)] + "…"
    return text


def _attachment_plain(attachment: Attachment) -> str:
    return f"{attachment.name} <{attachment.url}>" if attachment.name else f"<{attachment.url}>"


def _attachment_html(attachment: Attachment) -> str:
    label = escape(attachment.name or attachment.url, quote=False)
    return f'<a href="{escape(attachment.url, quote=True)}">{label}</a>'


def change_lines(change: RecordChange, width: int | None = 200) -> list[str]:
    """One plain-text line per changed field: ``label: old → new``; for
    attachments one ``attachments: + name <url>`` / ``- …`` line per file."""
    lines: list[str] = []
    for item in change.fields:
        if item.name == "attachments":
            lines += [f"attachments: + {_attachment_plain(a)}" for a in change.added_attachments]
            lines += [f"attachments: - {_attachment_plain(a)}" for a in change.removed_attachments]
            continue
        old = shorten(item.old, width) if item.old is not None else NONE
        new = shorten(item.new, width) if item.new is not None else NONE
        lines.append(f"{item.label}: {old}{ARROW}{new}")
    return lines


def render_change_text(change: RecordChange, width: int | None = 200) -> str:
    """A ``RecordChange`` as plain text, one changed field a line."""
    return "\n".join(change_lines(change, width))


def _value_html(tag: str, value: str | None) -> str:
    if value is None:
        return f"<em>{NONE}</em>"
    return mark_html(tag, value).replace("\n", "<br>")


def _field_row_html(item: FieldChange, change: RecordChange) -> str:
    label = escape(item.label, quote=False)
    if item.name == "attachments":
        cells = [f"<ins>+ {_attachment_html(a)}</ins>" for a in change.added_attachments]
        cells += [f"<del>- {_attachment_html(a)}</del>" for a in change.removed_attachments]
        return f"<tr><th>{label}</th><td>{'<br>'.join(cells)}</td></tr>"
    old, new = _value_html("delete", item.old), _value_html("insert", item.new)
    return f"<tr><th>{label}</th><td>{old}{ARROW}{new}</td></tr>"


def render_change_html(change: RecordChange) -> str:
    """A ``RecordChange`` as a small HTML table, one changed field a row."""
    rows = "\n".join(_field_row_html(item, change) for item in change.fields)
    return f'<table class="regwatch-change">\n{rows}\n</table>'


def summarise(result: RecordDiff) -> str:
    """One line for a whole diff: ``2 added, 1 changed, 0 removed`` plus the
    missing / returned / duplicate counts when there are any."""
    text = (
        f"{len(result.added)} added, {len(result.changed)} changed, {len(result.removed)} removed"
    )
    extras = [
        f"{len(result.missing)} missing" if result.missing else "",
        f"{len(result.returned)} returned" if result.returned else "",
        f"{len(result.duplicates)} duplicate keys" if result.duplicates else "",
    ]
    extra = ", ".join(e for e in extras if e)
    return f"{text} ({extra})" if extra else text
