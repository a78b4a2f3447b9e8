"""Value types shared by fetchers, adapters and the diff.

These are plain data: no I/O, no project imports. ``diffing`` may import them;
``monitor`` builds on them.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Literal, Protocol

Expect = Literal["html", "json", "xml", "bytes"]


@dataclass(frozen=True)
class Attachment:
    """A file attached to a record (PDF, DOC, DOCX), by absolute URL."""

    url: str
    name: str = ""


@dataclass(frozen=True)
class Record:
    """One document as a regulator lists it.

    ``key`` is stable across runs (the site's own id or URL slug). ``date`` is
    ISO ``YYYY-MM-DD`` or None. ``status`` is the source's own status words
    ("Draft", "Final", "颁布", "Draft: consultation open"), None when the site
    says nothing. ``fields`` holds the rest of the metadata as strings; keys in
    use across adapters: ``comment_deadline`` (ISO date), ``docket``,
    ``reference_number``, ``doc_number`` (文号), ``scope`` (适用范围),
    ``category`` (专业分类), ``office``, ``doc_type``, ``updated`` (the site's
    own last-modified stamp), ``note``.
    """

    key: str
    title: str
    url: str
    date: str | None = None
    status: str | None = None
    attachments: tuple[Attachment, ...] = ()
    fields: Mapping[str, str] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """The record as plain JSON-ready data (stable key order)."""
        return {
            "key": self.key,
            "title": self.title,
            "url": self.url,
            "date": self.date,
            "status": self.status,
            "attachments": [{"url": a.url, "name": a.name} for a in self.attachments],
            "fields": dict(sorted(self.fields.items())),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Record:
        return cls(
            key=str(data["key"]),
            title=str(data.get("title", "")),
            url=str(data.get("url", "")),
            date=data.get("date"),
            status=data.get("status"),
            attachments=tuple(
                Attachment(url=str(a["url"]), name=str(a.get("name", "")))
                for a in data.get("attachments", [])
            ),
            fields={str(k): str(v) for k, v in (data.get("fields") or {}).items()},
        )


class Coverage(StrEnum):
    """How much of a source's documents one listing shows.

    - ``COMPLETE``: the whole catalogue. A record absent from it is missing,
      and removed after two healthy runs in a row.
    - ``WINDOW``: a date window (``Listing.since`` onwards, e.g. the Federal
      Register's last N days). A record dated before the window's start is
      "no longer listed here", never "removed"; one inside it that vanished is.
    - ``NEWEST``: the newest N items or pages (a feed of 20 items, a list
      read up to ``max_pages``). A record older than the oldest one listed is
      out of view, never "removed"; a newer one that vanished is.
    """

    COMPLETE = "complete"
    WINDOW = "window"
    NEWEST = "newest"


@dataclass(frozen=True)
class Regulator:
    """Who publishes a source, in both languages an alert may be read in.

    ``short`` is the acronym (``"CDE"``), ``en`` / ``zh`` the full names;
    ``label`` is how alerts and the web UI name the regulator (default:
    ``short``; the Chinese regulators add their Chinese name, as alerts always
    have). Generic kinds have none: their ``regulator`` setting names it.
    """

    short: str
    en: str
    zh: str
    label: str = ""

    def __post_init__(self) -> None:
        for name in ("short", "en", "zh"):
            if not getattr(self, name).strip():
                raise ValueError(f"Regulator.{name} must not be empty")
        if not self.label:
            object.__setattr__(self, "label", self.short)


@dataclass(frozen=True)
class FromSetting:
    """A declaration an adapter leaves to one of its settings (e.g. the
    coverage of a generic list, chosen by its ``listing`` key)."""

    key: str

    def __str__(self) -> str:
        return f"set by `{self.key}`"


@dataclass(kw_only=True)
class Listing:
    """What one check of a source produced.

    ``records`` for list-like sources; ``page_text`` for whole-page sources
    (``page`` kind), which have no records. ``not_modified`` is True when the
    server answered 304 to a conditional GET: the same listing as the last
    healthy run (records missing from it stay missing, and count).

    ``coverage`` must be given for every record listing (see ``Coverage``);
    ``since`` is the first ISO date of a ``WINDOW`` (None: the oldest record
    listed marks it). ``complete`` reads back whether it is the whole catalogue.

    ``item_errors`` names the items the adapter kept from the list without
    what their detail page should have given (one line each, the page and
    why): a broken item degrades only that item, the run stays healthy.
    """

    records: list[Record] = field(default_factory=list)
    page_text: str | None = None
    not_modified: bool = False
    coverage: Coverage | None = None
    since: str | None = None
    item_errors: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.coverage is not None:
            self.coverage = Coverage(self.coverage)
        elif self.page_text is None and not self.not_modified:
            raise TypeError(
                "a Listing of records needs coverage= (Coverage.COMPLETE, "
                "WINDOW or NEWEST): say how much of the source it shows"
            )

    @property
    def complete(self) -> bool:
        """The whole catalogue (or a page / 304 listing): absences can mean removal."""
        return self.coverage in (None, Coverage.COMPLETE)

    @classmethod
    def unchanged(cls) -> Listing:
        return cls(not_modified=True)


@dataclass
class Fetched:
    """One HTTP response as the fetcher saw it, already checked for blocks."""

    url: str
    status: int
    headers: Mapping[str, str]
    body: bytes
    encoding: str = "utf-8"

    @property
    def not_modified(self) -> bool:
        return self.status == 304

    @property
    def text(self) -> str:
        return self.body.decode(self.encoding, errors="replace")

    def json(self) -> Any:
        return json.loads(self.body.decode(self.encoding, errors="replace"))


class Fetcher(Protocol):
    """What an adapter is given to read a site. Implemented by ``sources.fetch.http``
    (plain HTTP) and ``sources.fetch.browser`` (Chromium).

    ``validators`` and ``close()`` are part of the contract: the pipeline
    persists the first and always calls the second.

    Both raise ``sources.errors.FetchError`` / ``Blocked`` / ``TooLarge``; a
    response with ``expect="json"`` that is not JSON raises ``Blocked``.
    ``conditional=True`` sends stored ETag / Last-Modified validators and may
    return a 304 ``Fetched`` (check ``.not_modified``).
    """

    def get(
        self,
        url: str,
        *,
        params: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        expect: Expect = "html",
        conditional: bool = False,
    ) -> Fetched: ...

    def post(
        self,
        url: str,
        *,
        data: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        expect: Expect = "json",
    ) -> Fetched: ...

    @property
    def validators(self) -> dict[str, dict[str, str]]:
        """URL -> ``{"etag", "last_modified"}`` to persist after a run ({} if unused)."""
        ...

    def close(self) -> None:
        """Release connections (and a browser); safe to call twice."""
        ...
