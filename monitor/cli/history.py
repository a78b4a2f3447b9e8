"""`changes`, `show`, `diff` and `classify`: reading the history."""

from __future__ import annotations

import csv
import json
import sys
from datetime import datetime
from typing import Any

import typer

from monitor.cli.values import (
    atmp_values,
    choose,
    clean,
    jurisdictions,
    kind_values,
    open_reader,
    parse_since,
    source_names,
)

CHANGES_EPILOG = """Examples:

  regwatch changes --since 30d --atmp car_t

  regwatch changes --jurisdiction CN --kind draft --csv --excel > drafts.csv

  regwatch changes --search "long-term follow-up"
"""


def write_csv(rows: list[dict[str, Any]], fields: list[str], *, excel: bool) -> None:
    """CSV with a header row on stdout; ``excel``: a UTF-8 BOM first, so Excel
    reads Chinese titles right."""
    from monitor.cli.main import stdout  # secrets masked (notifiers.redact)

    if excel:
        stdout.write("\ufeff")
    writer = csv.DictWriter(stdout, fieldnames=fields, extrasaction="ignore")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: ("|".join(v) if isinstance(v, list) else v) for k, v in row.items()})


def local_time(value: str | datetime | None, zone: str) -> str:
    """``2026-11-25 16:00 CST`` for a stored UTC time, in the ``[service] timezone``."""
    from zoneinfo import ZoneInfo

    if not value:
        return ""
    when = value if isinstance(value, datetime) else datetime.fromisoformat(value)
    when = when.astimezone(ZoneInfo(zone))
    return when.strftime("%Y-%m-%d %H:%M ") + (when.tzname() or zone)


def register(app: typer.Typer) -> None:
    from monitor.cli.main import ConfigOption, friendly, out, stdout

    @app.command(epilog=CHANGES_EPILOG)
    @friendly
    def changes(
        config: str = ConfigOption,
        since: str = typer.Option(
            None, metavar="DATE|AGE", help="A date (2026-11-01) or an age (7d, 12h, 2w)."
        ),
        jurisdiction: str = typer.Option(None, metavar="CODE", help="CN, US or EU."),
        atmp: str = typer.Option(
            None, metavar="CLASS", help="A class or modality: cell_therapy, gtmp, car_t…"
        ),
        kind: str = typer.Option(
            None,
            metavar="KIND",
            help="added, changed, removed, page_changed, health, "
            "or an event: draft, finalised, withdrawn…",
        ),
        source: str = typer.Option(None, metavar="NAME", help="Only this source."),
        search: str = typer.Option(
            None,
            metavar="WORDS",
            help="Words in the title, excerpt or detail (full-text "
            "index; see `regwatch search` for documents).",
        ),
        relevant: bool = typer.Option(
            None, "--relevant/--not-relevant", help="Only CGT-relevant (or only other) changes."
        ),
        limit: int = typer.Option(100, metavar="N", help="At most this many, newest first."),
        as_json: bool = typer.Option(False, "--json", help="A JSON array (shape in README)."),
        as_csv: bool = typer.Option(False, "--csv", help="CSV with a header row."),
        excel: bool = typer.Option(
            False, "--excel", help="With --csv: a UTF-8 BOM so Excel shows Chinese."
        ),
    ) -> None:
        """Change history, newest first, with filters."""
        from monitor.history import CHANGE_FIELDS, ChangeFilter, list_changes

        ctx = open_reader(config)
        flt = ChangeFilter(
            since=parse_since(since),
            jurisdiction=choose("--jurisdiction", jurisdiction, jurisdictions(ctx)),
            atmp=choose("--atmp", atmp, atmp_values()),
            kind=choose("--kind", kind, kind_values()),
            source=choose("--source", source, source_names(ctx)),
            search=search,
            relevant=relevant,
            limit=limit,
        )
        rows = list_changes(ctx.store, flt)
        if as_json:
            out.print(json.dumps(rows, ensure_ascii=False, indent=1), markup=False)
            return
        if as_csv or excel:
            write_csv(rows, list(CHANGE_FIELDS), excel=excel)
            return
        zone = ctx.config.service.timezone
        cells = [
            (
                str(row["id"]),
                local_time(row["detected_at"], zone),
                row["source"],
                row["event"],
                str(row["document_id"] or ""),
                clean(row["title"]),
                ",".join(row["cn"]),
                ",".join(row["eu"]),
                row["comment_deadline"] or "",
            )
            for row in rows
        ]
        if not out.is_terminal:  # piped: one tab-separated line per change, nothing cut
            stdout.write(
                "".join("\t".join(c.replace("\t", " ") for c in line) + "\n" for line in cells)
            )
            return
        from rich.table import Table
        from rich.text import Text

        table = Table(show_lines=False)
        for column in ("id", f"detected ({zone})", "source", "event", "doc"):
            table.add_column(column, no_wrap=True)
        table.add_column("title", ratio=1, overflow="fold")
        for column in ("CN", "EU", "deadline"):
            table.add_column(column, no_wrap=True)
        for line in cells:
            table.add_row(*(Text(c) for c in line))
        out.print(table)
        if not rows:
            out.print("no changes match")

    @app.command(epilog="Example:\n\n  regwatch show 12\n\n  regwatch show 12 --json")
    @friendly
    def show(
        change_id: int = typer.Argument(
            ..., metavar="CHANGE_ID", help="A change id from `regwatch changes`."
        ),
        config: str = ConfigOption,
        as_json: bool = typer.Option(False, "--json", help="JSON (shape in README)."),
    ) -> None:
        """One change as its alert reads, with the diff and the document's versions."""
        from monitor.history import get_change

        ctx = open_reader(config)
        data = get_change(ctx.store, change_id)
        if as_json:
            out.print(json.dumps(data, ensure_ascii=False, indent=1), markup=False)
            return
        out.print(clean(show_text(ctx, change_id, data)), markup=False, highlight=False)

    @app.command(
        epilog="Examples:\n\n  regwatch diff 12          (the last two versions)"
        "\n\n  regwatch diff 12 v1 v3"
    )
    @friendly
    def diff(
        doc_id: int = typer.Argument(
            ...,
            metavar="DOCUMENT_ID",
            help="A document id (the `doc` column of `regwatch changes`).",
        ),
        v1: str = typer.Argument(
            None,
            metavar="[OLD]",
            help="Older version: v1, v2… (an old global version id is still accepted).",
        ),
        v2: str = typer.Argument(None, metavar="[NEW]", help="Newer version: v2, v3…"),
        config: str = ConfigOption,
        html: bool = typer.Option(False, "--html", help="HTML with <ins>/<del>."),
    ) -> None:
        """Text diff between two versions of a document (default: the last two)."""
        from monitor.history import diff_versions

        result = diff_versions(open_reader(config).store, doc_id, v1, v2)
        out.print(clean(result.html() if html else result.unified()), markup=False)

    @app.command(epilog="Example:\n\n  regwatch classify 'CAR-T 细胞治疗产品药学研究指导原则'")
    @friendly
    def classify(
        texts: list[str] = typer.Argument(
            ..., metavar="TEXT...", help="Titles or texts; '-' reads one per line from stdin."
        ),
    ) -> None:
        """Classify titles/texts by ATMP class; one JSON object per input (docs/taxonomy.md)."""
        from monitor.classify import classify as run

        items = texts
        if texts == ["-"]:
            items = [line.rstrip("\n") for line in sys.stdin if line.strip()]
        for text in items:
            stdout.write(json.dumps(run(text).as_dict(text), ensure_ascii=False) + "\n")


def show_text(ctx: Any, change_id: int, data: dict[str, Any]) -> str:
    """``show``: the alert's text (labels a user knows), then the full diff and
    the document's versions."""
    from sqlmodel import select

    from monitor.delivery.alerts import alert_from_change
    from monitor.store.models import ChangeRow, SourceRow
    from notifiers.render import render_alert

    with ctx.store.session() as session:
        change = session.get(ChangeRow, change_id)
        source = session.exec(select(SourceRow).where(SourceRow.id == change.source_id)).one()
    regulator = None
    for settings in ctx.config.sources:
        if settings.name == source.name:
            regulator = getattr(settings, "regulator", None)
    if change.mirror_of is not None:  # a detached copy: nothing is written
        change.detail = (
            f"Not alerted: the same document as document {change.mirror_of}, already announced."
        )
    from zoneinfo import ZoneInfo

    now = datetime.now(ZoneInfo(ctx.config.service.timezone))
    alert = alert_from_change(change, source, regulator=regulator, now=now)
    body = render_alert(alert, fmt="text").body.rstrip()
    zone = ctx.config.service.timezone
    lines = [
        f"change {data['id']} · {data['event']} · detected {local_time(data['detected_at'], zone)}",
        body,
    ]
    if data["document_id"] is not None:
        numbers = " ".join(f"v{v['version']}" for v in data["versions"])
        lines.append(
            f"\ndocument {data['document_id']} · versions {numbers or '-'}"
            + (
                f" · `regwatch diff {data['document_id']}` compares the last two"
                if len(data["versions"]) > 1
                else ""
            )
        )
    if data["diff"]:
        lines += ["", "Full diff ([-removed-] {+added+}):", data["diff"].rstrip()]
    return "\n".join(lines)
