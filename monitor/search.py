"""Searching the history: the queries behind `regwatch search`, `changes
--search` and the web UI's search box (index: ``monitor.store.search``).

A query is split into terms at spaces; ``"a quoted phrase"`` is one term.
Every term must occur in the title, the record's fields or the attachment
text (for changes: title, excerpt, detail), as a substring and ignoring
case. ``%``, ``_`` and ``*`` are ordinary characters. Terms of three or more
characters use the trigram index; shorter ones (``效价``, ``EU``) use the
index of Chinese characters, character pairs and short words.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.sql.elements import ColumnElement

from monitor.errors import UsageError
from monitor.store import Store
from monitor.store.entry_columns import shared_classes
from monitor.store.search import CJK, entries, entry_title, grams

SNIPPET = 70  # characters of context on each side of the first hit
MAX_TERMS = 8


@dataclass
class SearchFilter:
    query: str
    kind: str = "document"  # document / change
    since: datetime | None = None
    jurisdiction: str | None = None
    atmp: str | None = None
    source: str | None = None
    status: str | None = None
    doc_type: str | None = None
    relevant: bool | None = None
    limit: int = 50


def terms(query: str) -> list[str]:
    """The terms of a query (``"..."`` keeps a phrase together)."""
    try:
        parts = shlex.split(query, posix=True)
    except ValueError:  # an unbalanced quote: take the words as they are
        parts = query.replace('"', " ").split()
    found = [p.strip() for p in parts if p.strip()]
    if not found:
        raise UsageError("search: give at least one word to look for")
    if len(found) > MAX_TERMS:
        raise UsageError(f"search: at most {MAX_TERMS} terms (got {len(found)})")
    return found


def _escape_like(term: str) -> str:
    return term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _match_sqlite(term: str, table: str) -> ColumnElement[bool]:
    phrase = '"' + term.replace('"', '""') + '"'
    matched: sa.Select[Any] = (
        sa.select(sa.literal_column("rowid"))
        .select_from(sa.table(table))
        .where(sa.literal_column(table).op("MATCH")(sa.bindparam(None, phrase)))
    )
    return entries.c.id.in_(matched)


def _has_grams(tokens: list[str]) -> ColumnElement[bool]:
    array = sa.func.string_to_array(entries.c.grams, sa.literal_column("' '"))
    return array.op("@>")(sa.cast(sa.bindparam(None, tokens), ARRAY(sa.Text)))


def _match_pg(term: str, short: bool) -> ColumnElement[bool]:
    if short:
        return _has_grams([term.lower()])
    text = entries.c.title.op("||")(sa.literal_column("' '")).op("||")(entries.c.body)
    found = text.ilike(f"%{_escape_like(term)}%", escape="\\")
    # pg_trgm sees no trigrams in Chinese under a C locale: the character-pair
    # index narrows the rows first, ILIKE then checks the exact substring
    pairs = [g for g in grams(" ".join(CJK.findall(term))).split() if len(g) == 2]
    return sa.and_(_has_grams(pairs), found) if pairs else found


def match(store: Store, query: str) -> ColumnElement[bool]:
    """A condition on ``search_entry`` that every term of ``query`` meets."""
    conditions: list[ColumnElement[bool]] = []
    for term in terms(query):
        short = len(term) < 3
        if short and term.lower() not in grams(term).split():
            # a short term the gram index does not hold ("5%"): titles only
            conditions.append(entry_title.ilike(f"%{_escape_like(term)}%", escape="\\"))
        elif store.is_sqlite:
            conditions.append(_match_sqlite(term, "search_short" if short else "search_fts"))
        else:
            conditions.append(_match_pg(term, short))
    return sa.and_(*conditions)


def matching_ids(store: Store, query: str, kind: str) -> sa.Select[tuple[int]]:
    """The ids of the documents or changes matching ``query`` (a subquery)."""
    return sa.select(entries.c.ref_id).where(entries.c.kind == kind, match(store, query))


def search(store: Store, flt: SearchFilter) -> list[dict[str, Any]]:
    """Entries matching ``flt``, newest first, each with a ``snippet``."""
    from monitor.store.models import SourceRow

    source = SourceRow.__table__  # type: ignore[attr-defined]
    words = terms(flt.query)
    with store.session() as session:
        connection = session.connection()
        shared = shared_classes(connection) if flt.atmp or flt.doc_type else {}
        ids = [row[0] for row in connection.execute(_newest(store, flt, shared))]
        rows = _rows(connection, ids, source)
        named = {r["classification_id"] for r in rows if r["classification_id"] is not None}
        shared = shared_classes(connection, named)
    order = {entry_id: n for n, entry_id in enumerate(ids)}
    return [
        _hit(_classified(dict(row), shared), words)
        for row in sorted(rows, key=lambda r: order[r["id"]])
    ]


def _newest(store: Store, flt: SearchFilter, shared: dict[int, tuple[str, str]]) -> sa.Select[Any]:
    """The ids of the newest entries matching ``flt`` (narrow rows sort fast).
    A document's classes and doc_type are its classification's (``shared``):
    the filters on them take the ids of the classifications that match too."""
    from monitor.store.models import SourceRow

    source = SourceRow.__table__  # type: ignore[attr-defined]
    query = (
        sa.select(entries.c.id)
        .join(source, source.c.id == entries.c.source_id)
        .where(entries.c.kind == flt.kind, match(store, flt.query))
    )
    if flt.since:
        query = query.where(entries.c.at >= flt.since)
    if flt.jurisdiction:
        query = query.where(entries.c.jurisdiction == flt.jurisdiction)
    if flt.atmp:
        key = f",{flt.atmp},"
        sharing = [i for i, (classes, _) in shared.items() if _like(store, key, classes)]
        query = query.where(
            sa.or_(
                entries.c.classes.like(f"%{_escape_like(key)}%", escape="\\"),
                entries.c.classification_id.in_(sharing),
            )
        )
    if flt.source:
        query = query.where(source.c.name == flt.source)
    if flt.status:
        query = query.where(entries.c.status == flt.status)
    if flt.doc_type:
        sharing = [i for i, (_, doc_type) in shared.items() if doc_type == flt.doc_type]
        query = query.where(
            sa.or_(entries.c.doc_type == flt.doc_type, entries.c.classification_id.in_(sharing))
        )
    if flt.relevant is not None:
        query = query.where(entries.c.relevant == flt.relevant)
    return query.order_by(entries.c.at.desc(), entries.c.ref_id.desc()).limit(flt.limit)


def _like(store: Store, key: str, classes: str) -> bool:
    """``classes LIKE '%key%'`` as the engine reads it: SQLite's LIKE ignores
    the case of ASCII letters, PostgreSQL's does not."""
    if store.is_sqlite:
        return _ascii_lower(key) in _ascii_lower(classes)
    return key in classes


_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


def _ascii_lower(text: str) -> str:
    return text.translate(_ASCII_LOWER)


def _rows(connection: sa.Connection, ids: list[int], source: Any) -> list[Any]:
    """The entries ``ids`` with their titles and source names."""
    if not ids:
        return []
    columns = (c for c in entries.c if c.name != "title")
    query = (
        sa.select(*columns, entry_title.label("title"), source.c.name.label("source"))
        .join(source, source.c.id == entries.c.source_id)
        .where(entries.c.id.in_(ids))
    )
    return list(connection.execute(query).mappings().all())


def _classified(row: dict[str, Any], shared: dict[int, tuple[str, str]]) -> dict[str, Any]:
    """A document's entry with its classification's classes and doc_type."""
    key = row["classification_id"]
    if key is not None:
        row["classes"], row["doc_type"] = shared.get(key, ("", ""))
    return row


def _hit(row: dict[str, Any], words: list[str]) -> dict[str, Any]:
    return {
        "kind": row["kind"],
        "id": row["ref_id"],
        "document_id": row["document_id"],
        "source": row["source"],
        "jurisdiction": row["jurisdiction"],
        "at": row["at"].isoformat() if row["at"] else None,
        "title": row["title"],
        "status": row["status"],
        "doc_type": row["doc_type"],
        "event": row["event"],
        "relevant": row["relevant"],
        "classes": [c for c in row["classes"].split(",") if c],
        "snippet": snippet(row["title"], row["body"], words),
    }


def snippet(title: str, body: str, words: list[str]) -> str:
    """The stretch of the body around the first hit (one line), or '' when
    only the title matched."""
    lowered = body.lower()
    if len(lowered) != len(body):  # a rare character changes length in lower case
        lowered = body
    for word in words:
        at = lowered.find(word.lower())
        if at >= 0:
            start, end = max(0, at - SNIPPET), min(len(body), at + len(word) + SNIPPET)
            text = " ".join(body[start:end].split())
            return ("…" if start else "") + text + ("…" if end < len(body) else "")
    return ""
