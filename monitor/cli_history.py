"""`changes`, `show`, `diff` and `classify`: reading the history."""

from __future__ import annotations

import csv
import json
import sys
from datetime import UTC, datetime, timedelta

import typer
from rich.table import Table

from monitor.errors import RegwatchError


def _since(value: str | None) -> datetime | None:
    if not value:
        return None
    units = {"h": 3600, "d": 86400, "w": 7 * 86400}
    if value[-1:] in units and value[:-1].isdigit():
        return datetime.now(UTC) - timedelta(seconds=int(value[:-1]) * units[value[-1]])
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise RegwatchError(
            f"--since {value!r}: use a date (2026-11-01) or an age (7d, 12h, 2w)") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def register(app: typer.Typer) -> None:
    from monitor.cli import ConfigOption, friendly, out, stdout

    @app.command()
    @friendly
    def changes(
        config: str = ConfigOption,
        since: str = typer.Option(None, help="A date (2026-11-01) or an age (7d, 12h)."),
        jurisdiction: str = typer.Option(None, help="CN, US or EU."),
        atmp: str = typer.Option(None, help="A class or modality: cell_therapy, gtmp, car_t…"),
        kind: str = typer.Option(None, help="added, changed, removed, page_changed, health, "
                                            "or an event: draft, finalised, withdrawn…"),
        source: str = typer.Option(None, help="Only this source."),
        search: str = typer.Option(None, help="Words in the title or the diff excerpt."),
        relevant: bool = typer.Option(None, "--relevant/--not-relevant",
                                      help="Only CGT-relevant (or only other) changes."),
        limit: int = typer.Option(100, help="At most this many, newest first."),
        as_json: bool = typer.Option(False, "--json", help="A JSON array (shape in README)."),
        as_csv: bool = typer.Option(False, "--csv", help="CSV with a header row."),
    ) -> None:
        """Change history, newest first, with filters."""
        from monitor.app import open_context
        from monitor.history import CHANGE_FIELDS, ChangeFilter, list_changes

        ctx = open_context(config)
        rows = list_changes(ctx.store, ChangeFilter(
            since=_since(since), jurisdiction=jurisdiction, atmp=atmp, kind=kind, source=source,
            search=search, relevant=relevant, limit=limit))
        if as_json:
            out.print(json.dumps(rows, ensure_ascii=False, indent=1), markup=False)
            return
        if as_csv:
            writer = csv.DictWriter(stdout, fieldnames=list(CHANGE_FIELDS))
            writer.writeheader()
            for row in rows:
                writer.writerow({k: ("|".join(v) if isinstance(v, list) else v)
                                 for k, v in row.items()})
            return
        cells = [(str(row["id"]), row["detected_at"][:16].replace("T", " "), row["source"],
                  row["event"], row["title"], ",".join(row["cn"]), ",".join(row["eu"]),
                  row["comment_deadline"] or "") for row in rows]
        if not out.is_terminal:   # piped: one tab-separated line per change, nothing cut
            stdout.write("".join("\t".join(line) + "\n" for line in cells))
            return
        table = Table(show_lines=False)
        for column in ("id", "detected", "source", "event"):
            table.add_column(column, no_wrap=True)
        table.add_column("title", ratio=1, overflow="fold")
        for column in ("CN", "EU", "deadline"):
            table.add_column(column, no_wrap=True)
        for line in cells:
            table.add_row(*line, style=None)
        out.print(table)
        if not rows:
            out.print("no changes match")

    @app.command()
    @friendly
    def show(change_id: int = typer.Argument(..., help="A change id from `regwatch changes`."),
             config: str = ConfigOption,
             as_json: bool = typer.Option(False, "--json", help="JSON (shape in README).")
             ) -> None:
        """One change with its classification and diff."""
        from monitor.app import open_context
        from monitor.history import get_change

        data = get_change(open_context(config).store, change_id)
        if as_json:
            out.print(json.dumps(data, ensure_ascii=False, indent=1), markup=False)
            return
        out.print(f"#{data['id']} {data['event']} — {data['source']} — {data['detected_at']}",
                  markup=False)
        out.print(data["title"], markup=False)
        if data["url"]:
            out.print(data["url"], markup=False)
        cls = data["classification"]
        if cls:
            out.print(f"relevant={cls.get('relevant')} cn={cls.get('cn')} eu={cls.get('eu')} "
                      f"us={cls.get('us')} status={cls.get('status')} "
                      f"evidence={cls.get('evidence')}", markup=False)
        if data["comment_deadline"]:
            out.print(f"comments until {data['comment_deadline']}", markup=False)
        if data["fields_changed"]:
            out.print("changed: " + ", ".join(data["fields_changed"]), markup=False)
        if data["detail"]:
            out.print(data["detail"], markup=False)
        out.print(data["diff"] or data["excerpt"] or "", markup=False)

    @app.command()
    @friendly
    def diff(doc_id: int = typer.Argument(..., help="A document id (see `show --json`)."),
             v1: int = typer.Argument(None, help="Older version id."),
             v2: int = typer.Argument(None, help="Newer version id."),
             config: str = ConfigOption,
             html: bool = typer.Option(False, "--html", help="HTML with <ins>/<del>.")) -> None:
        """Text diff between two versions of a document (default: the last two)."""
        from monitor.app import open_context
        from monitor.history import diff_versions

        result = diff_versions(open_context(config).store, doc_id, v1, v2)
        out.print(result.html() if html else result.unified(), markup=False)

    @app.command()
    @friendly
    def classify(texts: list[str] = typer.Argument(..., help="Titles or texts; '-' reads "
                                                             "one per line from stdin.")) -> None:
        """Classify titles/texts by ATMP class; one JSON object per input (TAXONOMY.md)."""
        from monitor.classify import classify as run

        items = texts
        if texts == ["-"]:
            items = [line.rstrip("\n") for line in sys.stdin if line.strip()]
        for text in items:
            stdout.write(json.dumps(run(text).as_dict(text), ensure_ascii=False) + "\n")
