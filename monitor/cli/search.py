"""`regwatch search`: the full-text index over documents (or changes)."""

from __future__ import annotations

import json
import sys

import typer

from monitor.cli.values import (
    atmp_values,
    choose,
    clean,
    doc_type_values,
    jurisdictions,
    open_reader,
    parse_since,
    source_names,
    status_values,
)

SEARCH_FIELDS = [
    "kind",
    "id",
    "document_id",
    "at",
    "source",
    "jurisdiction",
    "status",
    "doc_type",
    "event",
    "relevant",
    "classes",
    "title",
    "snippet",
]
EPILOG = """Terms are separated by spaces; "a quoted phrase" is one term; every term must
occur (as a substring, ignoring case). Chinese works with one character or more.

Examples:

  regwatch search 效价

  regwatch search "long-term follow-up" --jurisdiction US --since 1000d

  regwatch search 可比性 --atmp car_t --status draft --json

  regwatch search potency --changes
"""


def register(app: typer.Typer) -> None:
    from monitor.cli.main import ConfigOption, friendly, out

    @app.command(epilog=EPILOG)
    @friendly
    def search(
        query: str = typer.Argument(..., metavar="QUERY", help='Words or a "phrase".'),
        config: str = ConfigOption,
        changes: bool = typer.Option(
            False, "--changes", help="Search changes (title, excerpt, detail) instead of documents."
        ),
        since: str = typer.Option(
            None, metavar="DATE|AGE", help="First seen (detected) on or after: 2026-01-01, 30d."
        ),
        jurisdiction: str = typer.Option(None, metavar="CODE", help="CN, US or EU."),
        atmp: str = typer.Option(
            None, metavar="CLASS", help="A class or modality: cell_therapy, gtmp, car_t…"
        ),
        source: str = typer.Option(None, metavar="NAME", help="Only this source."),
        status: str = typer.Option(
            None, metavar="STATUS", help="draft, final, withdrawn or unknown."
        ),
        doc_type: str = typer.Option(
            None, "--doc-type", metavar="TYPE", help="guideline, qa, notice, consultation…"
        ),
        limit: int = typer.Option(50, metavar="N", help="At most this many, newest first."),
        as_json: bool = typer.Option(False, "--json", help="A JSON array (shape in README)."),
        as_csv: bool = typer.Option(False, "--csv", help="CSV with a header row."),
        excel: bool = typer.Option(
            False, "--excel", help="With --csv: a UTF-8 BOM so Excel shows Chinese."
        ),
    ) -> None:
        """Full-text search of documents (title, fields, attachment text) or changes."""
        from monitor.cli.history import local_time, write_csv
        from monitor.search import SearchFilter, terms
        from monitor.search import search as run

        ctx = open_reader(config)
        flt = SearchFilter(
            query=query,
            kind="change" if changes else "document",
            since=parse_since(since),
            jurisdiction=choose("--jurisdiction", jurisdiction, jurisdictions(ctx)),
            atmp=choose("--atmp", atmp, atmp_values()),
            source=choose("--source", source, source_names(ctx)),
            status=choose("--status", status, status_values()),
            doc_type=choose("--doc-type", doc_type, doc_type_values()),
            limit=limit,
        )
        hits = run(ctx.store, flt)
        if as_json:
            out.print(json.dumps(hits, ensure_ascii=False, indent=1), markup=False)
            return
        if as_csv or excel:
            write_csv(hits, SEARCH_FIELDS, excel=excel)
            return
        zone = ctx.config.service.timezone
        words = terms(query)
        if not out.is_terminal:
            for hit in hits:
                line = [
                    str(hit["id"]),
                    local_time(hit["at"], zone),
                    hit["source"],
                    hit["status"],
                    clean(hit["title"]),
                    clean(hit["snippet"]),
                ]
                sys.stdout.write("\t".join(c.replace("\t", " ") for c in line) + "\n")
            return
        from rich.table import Table
        from rich.text import Text

        table = Table(show_lines=True)
        label = "change" if changes else "doc"
        for column in (
            label,
            f"{'detected' if changes else 'first seen'} ({zone})",
            "source",
            "status",
        ):
            table.add_column(column, no_wrap=True)
        table.add_column("title / where it matched", ratio=1, overflow="fold")
        for hit in hits:
            cell = Text(clean(hit["title"]), style="bold")
            if hit["snippet"]:
                cell.append("\n" + clean(hit["snippet"]), style="dim")
            cell.highlight_words(words, style="reverse", case_sensitive=False)
            table.add_row(
                str(hit["id"]), local_time(hit["at"], zone), hit["source"], hit["status"], cell
            )
        out.print(table)
        out.print(
            f"{len(hits)} {'change' if changes else 'document'}"
            f"{'' if len(hits) == 1 else 's'} match",
            markup=False,
        )
