"""Reading the change history: the queries behind `changes`, `show` and `diff`.

The dictionaries returned here are the documented ``--json`` shapes.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import and_, or_
from sqlmodel import col, select

from diffing import text as text_diff
from monitor.delivery.alerts import split_list
from monitor.errors import NotFound
from monitor.store import Store
from monitor.store.models import ChangeRow, DocumentRow, SourceRow, VersionRow
from monitor.store.records import version_dict
from monitor.store.versions import versions_of

CHANGE_FIELDS = (
    "id",
    "detected_at",
    "source",
    "kind",
    "event",
    "title",
    "url",
    "jurisdiction",
    "relevant",
    "cn",
    "eu",
    "us",
    "modalities",
    "doc_type",
    "status",
    "comment_deadline",
    "fields_changed",
    "excerpt",
    "detail",
    "document_id",
    "mirror_of",
    "jp",  # Japan's PMD Act class (last: CSV columns before it keep their place)
)


AGE_UNITS = {"h": 3600, "d": 86400, "w": 7 * 86400}
MAX_AGE_DAYS = 36_500  # an age beyond a century means "since ever"


def parse_since(value: str) -> datetime:
    """``7d`` / ``12h`` / ``2w`` ago, or a date or date-time (UTC unless it says);
    an age beyond a century means "since ever". ``ValueError`` names the two forms;
    the CLI and the web UI say it in their own words (``--since``, ``since=``)."""
    text = value.strip()
    if text[-1:] in AGE_UNITS and text[:-1].isdigit() and len(text) < 12:
        seconds = int(text[:-1]) * AGE_UNITS[text[-1]]
        if seconds > MAX_AGE_DAYS * 86400:
            return datetime(1970, 1, 1, tzinfo=UTC)
        return datetime.now(UTC) - timedelta(seconds=seconds)
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError("use a date (2026-11-01) or an age (7d, 12h, 2w)") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@dataclass
class ChangeFilter:
    since: datetime | None = None
    jurisdiction: str | None = None
    atmp: str | None = None
    kind: str | None = None
    source: str | None = None
    search: str | None = None
    relevant: bool | None = None
    limit: int = 100
    before: int | None = None  # only changes listed after this change id (the next page)


def change_dict(change: ChangeRow, source: SourceRow) -> dict[str, Any]:
    return {
        "id": change.id,
        "detected_at": change.detected_at.isoformat(),
        "source": source.name,
        "kind": change.kind,
        "event": change.event,
        "title": change.title,
        "url": change.url,
        "jurisdiction": change.jurisdiction,
        "relevant": change.relevant,
        "cn": list(split_list(change.cn)),
        "eu": list(split_list(change.eu)),
        "us": list(split_list(change.us)),
        "modalities": list(split_list(change.modalities)),
        "doc_type": change.doc_type,
        "status": change.status,
        # a comment period belongs to a draft: a final document's old one is not shown
        "comment_deadline": (
            change.comment_deadline.isoformat()
            if change.comment_deadline and change.status != "final"
            else None
        ),
        "fields_changed": json.loads(change.fields_changed or "[]"),
        "excerpt": change.excerpt,
        "detail": change.detail,
        "document_id": change.document_id,
        "mirror_of": change.mirror_of,  # the document already announced: not alerted
        "jp": list(split_list(change.jp)),
    }


def list_changes(store: Store, flt: ChangeFilter) -> list[dict[str, Any]]:
    query = select(ChangeRow, SourceRow).join(SourceRow, col(ChangeRow.source_id) == SourceRow.id)
    if flt.since:
        query = query.where(ChangeRow.detected_at >= flt.since)
    if flt.jurisdiction:
        query = query.where(ChangeRow.jurisdiction == flt.jurisdiction.upper())
    if flt.atmp:
        pattern = f"%,{flt.atmp},%"
        query = query.where(
            or_(
                col(ChangeRow.cn).like(pattern),
                col(ChangeRow.eu).like(pattern),
                col(ChangeRow.us).like(pattern),
                col(ChangeRow.jp).like(pattern),
                col(ChangeRow.modalities).like(pattern),
            )
        )
    if flt.kind:
        query = query.where(or_(col(ChangeRow.kind) == flt.kind, col(ChangeRow.event) == flt.kind))
    if flt.source:
        query = query.where(SourceRow.name == flt.source)
    if flt.relevant is not None:
        query = query.where(ChangeRow.relevant == flt.relevant)
    if flt.search:  # the full-text index (monitor.search): %, _ are plain characters
        from monitor.search import matching_ids

        query = query.where(col(ChangeRow.id).in_(matching_ids(store, flt.search, "change")))
    if flt.before is not None:
        anchor = select(ChangeRow.detected_at).where(ChangeRow.id == flt.before).scalar_subquery()
        query = query.where(
            or_(
                col(ChangeRow.detected_at) < anchor,
                and_(col(ChangeRow.detected_at) == anchor, col(ChangeRow.id) < flt.before),
            )
        )
    query = query.order_by(col(ChangeRow.detected_at).desc(), col(ChangeRow.id).desc())
    query = query.limit(flt.limit)
    with store.session() as session:
        return [change_dict(change, source) for change, source in session.exec(query).all()]


def get_change(store: Store, change_id: int) -> dict[str, Any]:
    """One change with its classification and full diff (``diff``: unified text or null)."""
    with store.session() as session:
        change = session.get(ChangeRow, change_id)
        if change is None:
            raise NotFound(f"no change with id {change_id} (see `regwatch changes`)")
        source = session.get(SourceRow, change.source_id)
        assert source is not None
        data = change_dict(change, source)
        data["classification"] = json.loads(change.classification or "{}")
        blob = store.get_blob(session, change.diff_hash)
        data["diff"] = blob.decode("utf-8") if blob else None
        data["versions"] = []
        doc = None if change.document_id is None else session.get(DocumentRow, change.document_id)
        if doc is not None:
            data["versions"] = version_list(versions_of(session, doc))
    return data


def document_versions(store: Store, doc_id: int) -> tuple[DocumentRow, list[VersionRow]]:
    """A document and its versions, oldest first (the first one implied by the
    row while it is the only one: ``monitor.store.versions``)."""
    with store.session() as session:
        doc = session.get(DocumentRow, doc_id)
        if doc is None:
            raise NotFound(f"no document with id {doc_id}")
        return doc, versions_of(session, doc)


def resolve_version(doc_id: int, versions: list[VersionRow], token: str | int) -> VersionRow:
    """A version by its number within the document (``v2`` or ``2``: the
    second version seen), or by its old global id (still accepted; a first
    version implied by its document has none)."""
    text = str(token).strip().lower()
    number = text[1:] if text.startswith("v") else text
    if number.isdigit():
        n = int(number)
        if 1 <= n <= len(versions):
            return versions[n - 1]
        if not text.startswith("v"):
            for version in versions:
                if version.id == n:
                    return version
    known = ", ".join(f"v{i}" for i in range(1, len(versions) + 1))
    raise NotFound(f"document {doc_id} has versions {known}; got {token}")


def diff_versions(
    store: Store, doc_id: int, v1: str | int | None = None, v2: str | int | None = None
) -> text_diff.TextDiff:
    """Text diff between two versions (``v1``/``v2``: per-document numbers such
    as ``v1``, ``2``, or global ids; default: the last two with distinct text)."""
    doc, versions = document_versions(store, doc_id)
    if v1 is not None or v2 is not None:
        if v1 is None or v2 is None:
            raise NotFound(f"give two versions of document {doc_id} (e.g. v1 v2), or none")
        old, new = resolve_version(doc_id, versions, v1), resolve_version(doc_id, versions, v2)
    else:
        distinct: list[VersionRow] = []
        for version in versions:
            if not distinct or _content(version, doc) != _content(distinct[-1], doc):
                distinct.append(version)
        if len(distinct) < 2:
            raise NotFound(f"document {doc_id} has only one version so far")
        old, new = distinct[-2], distinct[-1]
    return text_diff.diff(_version_text(store, old, doc), _version_text(store, new, doc))


def version_list(versions: list[VersionRow]) -> list[dict[str, Any]]:
    """``[{"version": 1, "id": 665, "seen_at": …}, …]``: numbers per document;
    ``id`` is the version row's, None for a first version its document implies."""
    return [
        {"version": n, "id": v.id, "seen_at": v.seen_at.isoformat()}
        for n, v in enumerate(versions, start=1)
    ]


def _content(version: VersionRow, doc: DocumentRow) -> tuple[dict[str, Any], str | None]:
    return version_dict(version, doc), version.text_hash


def _version_text(store: Store, version: VersionRow, doc: DocumentRow) -> str:
    record = version_dict(version, doc)
    lines = [f"{k}: {v}" for k, v in record.items() if k not in ("fields", "attachments")]
    lines += [f"{k}: {v}" for k, v in (record.get("fields") or {}).items()]
    lines += [f"attachment: {a.get('name') or a.get('url')}" for a in record.get("attachments", [])]
    text = store.blob_text(version.text_hash) or ""
    return "\n\n".join(part for part in ("\n".join(lines), text) if part)
