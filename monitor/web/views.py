"""What the web pages show: reading the store and rendering the templates
in ``monitor/web/templates/web`` (Jinja2, autoescaped). See ``monitor.web.server``."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, date, datetime
from functools import cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import jinja2
from markupsafe import Markup, escape
from sqlmodel import col, select

from monitor.classify import DOC_TYPES, STATUSES
from monitor.delivery.alerts import regulator_of
from monitor.errors import NotFound
from monitor.history import ChangeFilter, change_dict, diff_versions, document_versions, get_change
from monitor.history import list_changes as query_changes
from monitor.search import SearchFilter, terms
from monitor.search import search as run_search
from monitor.store import Store
from monitor.store.db import utcnow
from monitor.store.models import ChangeRow, DocumentRow, SourceRow, VersionRow
from monitor.store.records import classification_dict, record_dict, version_dict
from notifiers.labels import label, vocabulary

TEMPLATES = Path(__file__).with_name("templates") / "web"
PAGE_LIMIT = 50  # rows per HTML page and per feed
KINDS = ("added", "changed", "removed", "page_changed", "health")
EVENTS = (
    "added",
    "draft",
    "changed",
    "finalised",
    "withdrawn",
    "removed",
    "page_changed",
    "health",
    "recovered",
)
ATMP_SCOPES = ("cn", "eu", "us", "jp", "modalities")
_MARKS = re.compile(r"\[-(.*?)-\]|\{\+(.*?)\+\}")
ATOM = "http://www.w3.org/2005/Atom"
TAG = "tag:regwatch,2026:"  # Atom ids: tag:regwatch,2026:change/12
_NOT_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


@cache
def atmp_keys() -> frozenset[str]:
    """Every class and modality key the ``atmp`` filter accepts (labels.toml)."""
    return frozenset(key for scope in ATMP_SCOPES for key in vocabulary(scope))


GROUPS = {
    "cn": "China classes 中国分类",
    "eu": "EU ATMP classes 欧盟分类",
    "us": "FDA product areas 美国分类",
    "jp": "Japan classes 日本分类",
    "modalities": "Modalities 产品类型",
}


@cache
def atmp_options() -> list[tuple[str, list[tuple[str, str]]]]:
    """The ``atmp`` filter's choices, grouped, each key once, bilingual."""
    seen: set[str] = set()
    groups = []
    for scope in ATMP_SCOPES:
        options = [(key, label(scope, key)) for key in vocabulary(scope) if key not in seen]
        seen.update(key for key, _ in options)
        groups.append((GROUPS[scope], options))
    return groups


def marked_diff(text: str) -> Markup:
    """A stored unified diff as HTML: escaped first, then ``[-…-]`` → ``<del>``,
    ``{+…+}`` → ``<ins>`` and ``@@`` lines marked (for a ``<pre>``)."""
    lines = []
    for line in str(escape(text)).split("\n"):
        if line.startswith("@@"):
            lines.append(f'<span class="hunk">{line}</span>')
            continue
        lines.append(
            _MARKS.sub(
                lambda m: (
                    f"<del>{m.group(1)}</del>"
                    if m.group(1) is not None
                    else f"<ins>{m.group(2)}</ins>"
                ),
                line,
            )
        )
    return Markup("\n".join(lines))


def days_left(deadline: str | date | None, today: date | None = None) -> int | None:
    """Days from ``today`` (default: today in UTC) to a comment deadline; 0 on
    the day itself, negative once it passed."""
    if not deadline:
        return None
    day = deadline if isinstance(deadline, date) else date.fromisoformat(deadline)
    return (day - (today or utcnow().date())).days


def today_in(zone: str, clock: Callable[[], datetime] = utcnow) -> date:
    """The calendar day it is in ``zone`` now: a deadline counts down where the
    team is, like the alerts and reminders (07:00 in Beijing is still
    yesterday in UTC)."""
    return _in_zone(clock(), zone).date()


def _in_zone(when: datetime, zone: str) -> datetime:
    """A stored (UTC, maybe naive) time in ``zone``."""
    return (when if when.tzinfo else when.replace(tzinfo=UTC)).astimezone(ZoneInfo(zone))


def moment(value: str | datetime | None, zone: str = "UTC") -> str:
    """``2026-11-25 16:00 CST`` for a stored time (stored times are UTC), in
    ``zone``, labelled with the zone's abbreviation."""
    if not value:
        return ""
    when = value if isinstance(value, datetime) else datetime.fromisoformat(value)
    when = _in_zone(when, zone)
    return when.strftime("%Y-%m-%d %H:%M ") + (when.tzname() or zone)


def highlight(text: str, words: list[str]) -> Markup:
    """``text`` escaped, each occurrence of ``words`` in ``<mark>``."""
    if not words:
        return Markup(escape(text))
    pattern = re.compile(
        "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True)), re.IGNORECASE
    )
    out, last = [], 0
    for found in pattern.finditer(text):
        out += [str(escape(text[last : found.start()])), f"<mark>{escape(found.group(0))}</mark>"]
        last = found.end()
    out.append(str(escape(text[last:])))
    return Markup("".join(out))


def safe_link(url: str | None) -> str | None:
    """The URL when it is http(s), else None (never a ``javascript:`` link)."""
    return url if url and re.match(r"https?://", url, re.IGNORECASE) else None


def _environment(zone: str = "UTC", clock: Callable[[], datetime] = utcnow) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals.update(
        label=label,
        days_left=lambda value: days_left(value, today_in(zone, clock)),
        moment=lambda value: moment(value, zone),
        link=safe_link,
        atmp_options=atmp_options,
        kinds=KINDS,
        events=EVENTS,
        zone=zone,
        statuses=STATUSES,
        doc_types=DOC_TYPES,
        highlight=highlight,
    )
    env.filters["diffmarks"] = marked_diff
    return env


class Views:
    """The pages, each a function of the store and the request's values."""

    def __init__(self, store: Store, *, title: str = "regwatch", settings: Any = None) -> None:
        self.store = store
        self.title = settings.title if settings is not None else title
        self.labels: dict[str, str] = dict(settings.regulators) if settings is not None else {}
        self.env = (
            _environment(settings.timezone, settings.clock)
            if settings is not None
            else _environment()
        )

    def render(self, template: str, **context: Any) -> str:
        return self.env.get_template(template).render(site=self.title, **context)

    def regulators(self) -> dict[str, tuple[str, SourceRow]]:
        """Source name → (regulator label, row)."""
        with self.store.session() as session:
            rows = session.exec(select(SourceRow).order_by(col(SourceRow.name))).all()
        return {row.name: (regulator_of(row, self.labels.get(row.name)), row) for row in rows}

    # -- pages -----------------------------------------------------------------

    def index(self, flt: ChangeFilter, query: dict[str, str], *, root: str) -> str:
        rows = query_changes(self.store, replace(flt, limit=flt.limit + 1))
        more = len(rows) > flt.limit
        rows = rows[: flt.limit]
        paging = dict(query, limit=str(flt.limit)) if flt.limit != PAGE_LIMIT else dict(query)
        return self.render(
            "index.html.j2",
            root=root,
            rows=rows,
            query=query,
            flt=flt,
            sources=self.regulators(),
            next_query=dict(paging, before=str(rows[-1]["id"])) if more and rows else None,
            first_query=paging if flt.before else None,
        )

    def change(self, change_id: int, *, root: str) -> str:
        data = get_change(self.store, change_id)
        doc: DocumentRow | None = None
        versions: list[VersionRow] = []
        if data["document_id"] is not None:
            try:
                doc, versions = document_versions(self.store, data["document_id"])
            except NotFound:
                doc = None
        record = record_dict(doc) if doc is not None else {}
        return self.render(
            "change.html.j2",
            root=root,
            c=data,
            cls=data["classification"],
            doc=doc,
            record=record,
            versions=versions,
            regulator=self.regulators().get(data["source"], ("", None))[0],
            mirror=data["mirror_of"],
        )

    def document(
        self,
        doc_id: int,
        v1: int | None,
        v2: int | None,
        *,
        full: bool,
        root: str,
        side_by_side: bool = False,
    ) -> str:
        doc, versions = document_versions(self.store, doc_id)
        diff_html, note = None, ""
        try:
            result = diff_versions(self.store, doc_id, v1, v2)
            context = None if full else 3
            diff_html = Markup(
                result.side_by_side_html(context) if side_by_side else result.html(context)
            )
            changed = result.changed
        except NotFound as exc:
            if v1 is not None:
                raise
            note, changed = exc.message, False
        titles = [version_dict(v, doc).get("title", "") for v in versions]
        with self.store.session() as session:
            pairs = session.exec(
                select(ChangeRow, SourceRow)
                .join(SourceRow, col(ChangeRow.source_id) == SourceRow.id)
                .where(ChangeRow.document_id == doc_id)
                .order_by(col(ChangeRow.detected_at).desc(), col(ChangeRow.id).desc())
            ).all()
            changes = [change_dict(change, source) for change, source in pairs]
            source = session.get(SourceRow, doc.source_id)
        return self.render(
            "document.html.j2",
            root=root,
            doc=doc,
            versions=list(zip(versions, titles, strict=True)),
            cls=classification_dict(doc),
            record=record_dict(doc),
            changes=changes,
            source=source.name if source else "",
            v1=v1,
            v2=v2,
            full=full,
            diff_html=diff_html,
            changed=changed,
            note=note,
            view="sbs" if side_by_side else "inline",
        )

    def search(self, flt: SearchFilter, query: dict[str, str], *, root: str) -> str:
        hits = run_search(self.store, flt) if flt.query else []
        return self.render(
            "search.html.j2",
            root=root,
            hits=hits,
            query=query,
            flt=flt,
            words=terms(flt.query) if flt.query else [],
            sources=self.regulators(),
        )

    def sources(self, *, root: str) -> str:
        from monitor.service.scheduler import DEFAULT_EVERY

        return self.render(
            "sources.html.j2", root=root, sources=self.regulators(), default_every=DEFAULT_EVERY
        )

    def source(self, name: str, *, root: str) -> str:
        from monitor.pipeline.evidence import describe, evidence_for

        regulator, row = self.regulators().get(name, ("", None))
        if row is None:
            raise NotFound(f"no source named {name!r} has run")
        kept = evidence_for(self.store, name)
        return self.render(
            "source.html.j2",
            root=root,
            name=name,
            regulator=regulator,
            s=row,
            evidence=describe(kept, excerpt=4000) if kept else None,
        )

    def error(self, status: int, reason: str, message: str, *, root: str) -> str:
        return self.render(
            "error.html.j2", root=root, status=status, reason=reason, message=message
        )

    def feed(self, flt: ChangeFilter, query: dict[str, str], *, base: str, self_url: str) -> bytes:
        rows = query_changes(self.store, flt)
        regulators = self.regulators()
        entry = self.env.get_template("feed_entry.html.j2")

        def content(row: dict[str, Any]) -> str:
            return entry.render(
                c=row, base=base.rstrip("/"), regulator=regulators.get(row["source"], ("", None))[0]
            )

        title = self.title + (
            " — " + ", ".join(f"{k}={v}" for k, v in query.items()) if query else " — changes"
        )
        return atom_feed(
            rows, title=title, base=base, self_url=self_url, query=query, content=content
        )


# -- Atom -------------------------------------------------------------------------


def atom_feed(
    rows: list[dict[str, Any]],
    *,
    title: str,
    base: str,
    self_url: str,
    query: dict[str, str],
    content: Callable[[dict[str, Any]], str],
) -> bytes:
    """An Atom 1.0 feed of change dicts (``list_changes`` rows), newest first.

    Entry ids are tag URIs (``tag:regwatch,2026:change/<id>``), the title is
    ``[event] title``, the link the regulator's page (the change page when
    there is none), and the content ``content(row)`` as HTML."""
    base = base.rstrip("/")
    feed = ET.Element("feed", xmlns=ATOM)  # plain names under a default namespace
    filters = "&".join(f"{k}={v}" for k, v in sorted(query.items()))
    _text(feed, "id", TAG + "changes" + (f"?{filters}" if filters else ""))
    _text(feed, "title", title)
    _text(
        feed,
        "updated",
        _rfc3339(rows[0]["detected_at"]) if rows else utcnow().isoformat(timespec="seconds"),
    )
    _text(ET.SubElement(feed, "author"), "name", "regwatch")
    _text(feed, "generator", "regwatch")
    ET.SubElement(feed, "link", rel="self", href=self_url, type="application/atom+xml")
    ET.SubElement(feed, "link", rel="alternate", href=base + "/", type="text/html")
    for row in rows:
        entry = ET.SubElement(feed, "entry")
        page = f"{base}/changes/{row['id']}"
        _text(entry, "id", f"{TAG}change/{row['id']}")
        _text(entry, "title", f"[{row['event']}] {row['title']}")
        _text(entry, "updated", _rfc3339(row["detected_at"]))
        ET.SubElement(entry, "link", rel="alternate", href=safe_link(row["url"]) or page)
        ET.SubElement(entry, "link", rel="related", href=page, type="text/html")
        for scope in ("cn", "eu"):
            for key in row[scope]:
                ET.SubElement(
                    entry, "category", term=f"{scope}:{key}", label=_clean(label(scope, key))
                )
        _text(entry, "content", content(row), type="html")
    data: bytes = ET.tostring(feed, encoding="utf-8", xml_declaration=True)
    return data


def _text(parent: ET.Element, tag: str, text: str, **attrs: str) -> ET.Element:
    node = ET.SubElement(parent, tag, attrs)
    node.text = _clean(text)
    return node


def _clean(text: str) -> str:
    return _NOT_XML.sub("", text)


def _rfc3339(value: str) -> str:
    when = datetime.fromisoformat(value)
    return (when if when.tzinfo else when.replace(tzinfo=UTC)).isoformat(timespec="seconds")
