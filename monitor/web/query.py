"""The web UI's query strings: the filters of ``regwatch changes`` and of
``/search``, read from a query string with a 400 that says what is accepted
for any bad value (``HTTPError``)."""

from __future__ import annotations

import re
from datetime import datetime
from urllib.parse import parse_qs
from wsgiref.types import WSGIEnvironment

from monitor.history import ChangeFilter
from monitor.history import parse_since as since_moment
from monitor.search import SearchFilter
from monitor.web.views import EVENTS, KINDS, PAGE_LIMIT, atmp_keys

MAX_LIMIT = 1000
TRUE, FALSE = ("true", "yes", "1", "on"), ("false", "no", "0", "off")


class HTTPError(Exception):
    """An answer other than 200, with the message a user reads."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status, self.message = status, message


def parse_filter(params: dict[str, str], *, default_limit: int = PAGE_LIMIT) -> ChangeFilter:
    """The ``ChangeFilter`` of a query string; ``HTTPError(400)`` for a bad value.
    Empty values (an unused form field) mean "no filter"."""
    flt = ChangeFilter(limit=default_limit)
    if since := params.get("since"):
        flt.since = parse_since(since)
    if jurisdiction := params.get("jurisdiction"):
        if not re.fullmatch(r"[A-Za-z]{2,8}", jurisdiction):
            raise HTTPError(400, f"jurisdiction={jurisdiction!r}: use a code such as CN, US or EU")
        flt.jurisdiction = jurisdiction.upper()
    if atmp := params.get("atmp"):
        if atmp not in atmp_keys():
            raise HTTPError(
                400,
                f"atmp={atmp!r}: use a class or modality key such as "
                "cell_therapy, gene_therapy, gtmp, sctmp, car_t, aav",
            )
        flt.atmp = atmp
    if kind := params.get("kind"):
        if kind not in KINDS + EVENTS:
            raise HTTPError(
                400, f"kind={kind!r}: use one of " + ", ".join(dict.fromkeys(KINDS + EVENTS))
            )
        flt.kind = kind
    if source := params.get("source"):
        flt.source = short("source", source)
    if search := params.get("search", "").strip():
        flt.search = short("search", search)
    if relevant := params.get("relevant", "").lower():
        if relevant not in TRUE + FALSE + ("any",):
            raise HTTPError(400, f"relevant={relevant!r}: use true, false or any")
        flt.relevant = None if relevant == "any" else relevant in TRUE
    if limit := params.get("limit"):
        flt.limit = number("limit", limit, 1, MAX_LIMIT)
    if before := params.get("before"):
        flt.before = number("before", before, 1, 10**18)
    return flt


def parse_since(value: str) -> datetime:
    """``since=``: see ``monitor.history.parse_since``; ``HTTPError(400)`` when bad."""
    try:
        return since_moment(value)
    except ValueError as exc:
        raise HTTPError(400, f"since={value!r}: {exc}") from None


def number(name: str, value: str, low: int, high: int) -> int:
    if not value.isdigit() or not low <= int(value) <= high:
        raise HTTPError(400, f"{name}={value!r}: use a whole number from {low} to {high}")
    return int(value)


def short(name: str, value: str) -> str:
    if len(value) > 200:
        raise HTTPError(400, f"{name}: at most 200 characters")
    return value


def params_of(environ: WSGIEnvironment) -> dict[str, str]:
    try:
        parsed = parse_qs(
            environ.get("QUERY_STRING", ""),
            keep_blank_values=True,
            encoding="utf-8",
            errors="strict",
            max_num_fields=40,
        )
    except (UnicodeDecodeError, ValueError):
        raise HTTPError(
            400, "the query string is not valid UTF-8 (or has too many fields)"
        ) from None
    return {key: values[0] for key, values in parsed.items()}


def parse_search(params: dict[str, str]) -> SearchFilter:
    """The ``SearchFilter`` of ``/search``; ``HTTPError(400)`` for a bad value."""
    from monitor.classify import DOC_TYPES, STATUSES

    flt = parse_filter(params)
    query = short("q", params.get("q", "").strip())
    where = params.get("in", "documents") or "documents"
    if where not in ("documents", "changes"):
        raise HTTPError(400, f"in={where!r}: use documents or changes")
    status, doc_type = params.get("status", ""), params.get("doc_type", "")
    if status and status not in STATUSES:
        raise HTTPError(400, f"status={status!r}: use one of " + ", ".join(STATUSES))
    if doc_type and doc_type not in DOC_TYPES:
        raise HTTPError(400, f"doc_type={doc_type!r}: use one of " + ", ".join(DOC_TYPES))
    return SearchFilter(
        query=query,
        kind="change" if where == "changes" else "document",
        since=flt.since,
        jurisdiction=flt.jurisdiction,
        atmp=flt.atmp,
        source=flt.source,
        status=status or None,
        doc_type=doc_type or None,
        relevant=flt.relevant,
        limit=flt.limit,
    )
