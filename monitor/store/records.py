"""How records and classifications are stored: compact, and read back whole.

A document's ``record`` column holds its Record's JSON without what the row
already holds as columns (``key``, ``title``, ``url``), without empty values
(``date``/``status`` None, no attachments, no fields, an attachment's empty
name) and without spaces. A version's ``record`` is packed the same way,
without its document's ``key``; its ``title`` and ``url`` (what it said then)
are left out when they equal its document's (migration 0011): when a
document's title or URL changes, ``monitor.store.compact`` first writes the
old ones into the versions that left them out. A ``classification`` keeps
``relevant`` and the fields that differ from what ``Classification.from_dict``
reads for a missing one; a document holds it by id (``classification_key``,
migration 0011), and its lineage only when it is not its title (``stored_lineage``).

One reader per column restores the full dictionaries, in the key order
``Record.as_dict`` / ``Classification.as_dict`` write: every caller reads
``record_dict`` / ``classification_dict``, never the column's JSON itself.
A value kept in the JSON wins over the column (a record whose title differs
from its row's keeps its own: nothing is lost).

Migration 0010 repacks existing stores with ``pack_record`` and
``pack_classification``; its downgrade writes the full JSON back with
``record_dict`` and ``classification_dict``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

_RECORD_HEAD = ("key", "title", "url", "date", "status", "attachments", "fields")
# Classification fields and their values when missing (``scope``: see _scope_default)
_LIST_FIELDS = ("modalities", "cn", "eu", "us", "disciplines", "evidence", "jp")
_CLASS_ORDER = (
    "relevant",
    "modalities",
    "cn",
    "eu",
    "us",
    "doc_type",
    "status",
    "disciplines",
    "evidence",
    "jp",
    "scope",
    "evidence_where",
)
_CLASS_DEFAULTS: dict[str, Any] = {"doc_type": "other", "status": "unknown"}


def dumps(data: Any) -> str:
    """JSON without spaces, non-ASCII kept as it is."""
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


def _load(text: str | None) -> dict[str, Any]:
    data = json.loads(text or "{}")
    return data if isinstance(data, dict) else {}


# -- records -------------------------------------------------------------------


def pack_record(
    data: Mapping[str, Any], *, key: str, title: str | None = None, url: str | None = None
) -> str:
    """The stored form of ``Record.as_dict()`` output ``data``: ``key`` (and
    ``title``/``url`` when given: a document's columns) left out when equal."""
    out: dict[str, Any] = {}
    columns = {"key": key, "title": title, "url": url}
    for name, value in data.items():
        if name in columns and columns[name] is not None and value == columns[name]:
            continue
        if name in ("date", "status") and value is None:
            continue
        if name in ("attachments", "fields") and not value:
            continue
        if name == "attachments":
            value = [_pack_attachment(a) for a in value]
        out[name] = value
    return dumps(out)


def pack_new(record: Any, *, version: bool = False) -> str:
    """``pack_record(record.as_dict(), …)`` of a ``sources.types.Record``, built
    straight from its attributes (the write path: no dictionary walked twice).
    ``version``: the first version of a new document, whose title and URL are
    its document's (``pack_version``); else a document's."""
    out: dict[str, Any] = {}
    if record.date is not None:
        out["date"] = record.date
    if record.status is not None:
        out["status"] = record.status
    if record.attachments:
        out["attachments"] = [
            {"url": a.url, "name": a.name} if a.name else {"url": a.url} for a in record.attachments
        ]
    if record.fields:
        out["fields"] = dict(sorted(record.fields.items()))
    if version and not out:
        out["url"] = record.url  # a version's record is never "{}" (see version_dict)
    return dumps(out)


def pack_version(data: Mapping[str, Any], *, key: str, title: str, url: str) -> str:
    """The stored form of a version's full record ``data`` whose document has
    ``key``, ``title`` and ``url`` now: title and URL left out when equal
    (the URL kept when nothing else would be: ``{}`` is a version stored
    without a record)."""
    packed = pack_record(data, key=key, title=title, url=url)
    if packed == "{}":
        return pack_record(data, key=key, title=title)
    return packed


def _pack_attachment(attachment: Any) -> Any:
    if isinstance(attachment, dict) and attachment.get("name") == "":
        return {k: v for k, v in attachment.items() if k != "name"}
    return attachment


def unpack_record(text: str | None, *, key: str, title: str = "", url: str = "") -> dict[str, Any]:
    """The full ``Record.as_dict()`` of a stored record."""
    data = _load(text)
    out: dict[str, Any] = {
        "key": data.get("key", key),
        "title": data.get("title", title),
        "url": data.get("url", url),
        "date": data.get("date"),
        "status": data.get("status"),
        "attachments": [_unpack_attachment(a) for a in data.get("attachments") or []],
        "fields": data.get("fields") or {},
    }
    out.update((k, v) for k, v in data.items() if k not in _RECORD_HEAD)
    return out


def _unpack_attachment(attachment: Any) -> Any:
    if not isinstance(attachment, dict):
        return attachment
    return {"url": attachment.get("url"), "name": attachment.get("name", ""), **attachment}


def record_dict(doc: Any) -> dict[str, Any]:
    """The full record of a document row (``DocumentRow`` or a row with its columns)."""
    return unpack_record(doc.record, key=doc.key, title=doc.title or "", url=doc.url or "")


def version_dict(version: Any, doc: Any) -> dict[str, Any]:
    """The full record of a version of the document row ``doc`` (``{}`` for a
    version stored without one)."""
    if version.record in (None, "", "{}"):
        return {}
    return unpack_record(version.record, key=doc.key, title=doc.title or "", url=doc.url or "")


def stored_lineage(lineage: str, title: str) -> str:
    """What ``document.lineage`` holds: empty for a lineage equal to its title
    (an empty lineage is told apart by its missing ``lineage_key``)."""
    return "" if lineage == title else lineage


def shown_lineage(stored: str, title: str, key: int | None) -> str:
    """The lineage of a document row holding ``stored``, ``title`` and ``lineage_key``."""
    return title if not stored and key is not None else stored


def _digest64(text: str) -> int:
    digest = hashlib.blake2b(text.encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def classification_key(packed: str) -> int:
    """The id of a stored classification in the ``classification`` table: the
    first 64 bits of its BLAKE2b, signed (the same text, the same id, in every
    store; a collision is refused when written, never read as a match)."""
    return _digest64(packed)


# -- lineages -----------------------------------------------------------------


def lineage_key(lineage: str) -> int | None:
    """The indexed stand-in for a lineage (``document.lineage_key``): the first
    64 bits of its BLAKE2b, signed; None for no lineage. Lookups by key compare
    the lineage itself too, so a collision costs a row read, never a wrong match."""
    if not lineage:
        return None
    return _digest64(lineage)


# -- classifications -----------------------------------------------------------


def _scope_default(data: Mapping[str, Any]) -> str:
    # as Classification.from_dict: rows stored before scope existed
    return "cgt" if data.get("relevant", False) is True else "none"


_OMITTED: dict[str, Any] = {
    **{name: [] for name in (*_LIST_FIELDS, "evidence_where", "evidence_at")},
    **_CLASS_DEFAULTS,
}
# what an absent field reads as, by the value of ``relevant`` (see _scope_default)
_OMITTED_BY_RELEVANT = {
    True: {**_OMITTED, "scope": "cgt"},
    False: {**_OMITTED, "scope": "none"},
}
_KEEP = object()


def pack_classification(data: Mapping[str, Any]) -> str:
    """The stored form of ``Classification.as_dict()`` output: ``relevant``
    always (so an empty classification never reads as none), the others when
    they differ from what their absence reads as."""
    omitted = _OMITTED_BY_RELEVANT[data.get("relevant", False) is True]
    out = {k: v for k, v in data.items() if k == "relevant" or v != omitted.get(k, _KEEP)}
    return dumps(out) if out else "{}"


def unpack_classification(text: str | None) -> dict[str, Any]:
    """The full ``Classification.as_dict()`` of a stored classification; ``{}``
    for none stored."""
    data = _load(text)
    if not data:
        return {}
    out: dict[str, Any] = {}
    for name in _CLASS_ORDER:
        if name in data:
            out[name] = data[name]
        elif name == "relevant":
            out[name] = False
        elif name == "scope":
            out[name] = _scope_default(data)
        else:
            out[name] = _CLASS_DEFAULTS.get(name, [])
    out.update((k, v) for k, v in data.items() if k not in out)
    return out


def classification_dict(row: Any) -> dict[str, Any]:
    """The full classification of a document row; ``{}`` when none is stored."""
    return unpack_classification(row.classification)
