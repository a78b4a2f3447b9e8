"""The `regwatch` command line (Typer + Rich).

Every command turns a ``RegwatchError`` into one line on stderr and its exit
code; a traceback is a bug (exit 70 with one line; ``--verbose`` shows it).
"""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TextIO, TypeVar

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from monitor.errors import RegwatchError
from notifiers.redact import redact

app = typer.Typer(help="Watch what drug regulators publish about cell and gene therapy.",
                  no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False)


class _Redacted:
    """``sys.stdout``/``sys.stderr`` as they are at the moment (test runners swap them),
    with every registered secret masked (``notifiers.redact``)."""

    def __init__(self, name: str) -> None:
        self._name = name

    @property
    def _stream(self) -> TextIO:
        stream: TextIO = getattr(sys, self._name)
        return stream

    @property
    def encoding(self) -> str:
        return getattr(self._stream, "encoding", None) or "utf-8"

    def write(self, text: str) -> int:
        return self._stream.write(redact(text))

    def flush(self) -> None:
        self._stream.flush()

    def isatty(self) -> bool:
        return self._stream.isatty()

    def fileno(self) -> int:
        return self._stream.fileno()


stdout = _Redacted("stdout")
out = Console(file=stdout, highlight=False, soft_wrap=True)   # type: ignore[arg-type]
err = Console(file=_Redacted("stderr"), highlight=False, soft_wrap=True)  # type: ignore[arg-type]

ConfigOption = typer.Option("regwatch.toml", "--config", "-c", help="Configuration file.",
                            envvar="REGWATCH_CONFIG")
F = TypeVar("F", bound=Callable[..., Any])
_VERBOSE = {"on": False}


def friendly(func: F) -> F:
    """Run a command, turning errors into one clear line and an exit code."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except RegwatchError as exc:
            err.print(f"[red]error:[/red] {escape(exc.message)}", markup=True, highlight=False)
            raise typer.Exit(exc.exit_code) from None
        except (typer.Exit, typer.Abort, KeyboardInterrupt, SystemExit):
            raise
        except Exception as exc:
            if _VERBOSE["on"]:
                raise
            err.print(f"internal error: {type(exc).__name__}: {exc} "
                      "(run with --verbose for details; please report it)", markup=False)
            raise typer.Exit(70) from None

    return wrapper  # type: ignore[return-value]


@app.callback()
def main(verbose: bool = typer.Option(False, "--verbose", "-v", help="Debug logs and tracebacks.")
         ) -> None:
    """regwatch: scheduled checks of regulator pages, diffs, ATMP classes and alerts."""
    _VERBOSE["on"] = verbose
    from monitor.app import setup_logging

    setup_logging(verbose)


@app.command()
@friendly
def init(path: Path = typer.Argument(Path("regwatch.toml"), help="Where to write the config."),
         force: bool = typer.Option(False, "--force", help="Overwrite an existing file.")) -> None:
    """Write a starter regwatch.toml covering CDE, NMPA, FDA, EMA and the NHC."""
    from monitor.starter import starter_config

    if path.exists() and not force:
        raise RegwatchError(f"{path} exists; pass --force to overwrite it")
    path.write_text(starter_config(), encoding="utf-8")
    out.print(f"wrote {path} — edit the [[notify]] routes, then run `regwatch check`")


@app.command()
@friendly
def check(config: str = ConfigOption,
          source: list[str] = typer.Option(None, "--source", "-s", help="Only this source."),
          deliver: bool = typer.Option(True, "--deliver/--no-deliver",
                                       help="Send queued alerts after checking."),
          as_json: bool = typer.Option(False, "--json", help="One JSON object per source.")
          ) -> None:
    """Run every (or one) source once, deliver alerts, exit.

    Exit code 0 when every check was healthy, 6 when some source failed or was blocked.
    """
    from monitor.app import open_context
    from monitor.lock import service_lock
    from monitor.pipeline import Pipeline

    ctx = open_context(config)
    for name in source or []:
        ctx.config.source(name)
    # a running service checks on its schedule; two checkers of one source would race
    lock = service_lock(ctx.config.store.url)
    lock.acquire()
    try:
        results = Pipeline(ctx.config, ctx.store).check_all(source or None)
        sent = None
        if deliver:
            from monitor.dispatch import Dispatcher

            sent = Dispatcher(ctx.config, ctx.store).run_once()
    finally:
        lock.release()
    for result in results:
        if as_json:
            out.print(json.dumps({"source": result.source, "outcome": result.outcome,
                                  "records": result.records, "changes": result.changes,
                                  "alerts": result.alerts, "error": result.error,
                                  "seconds": round(result.seconds, 3)}, ensure_ascii=False),
                      markup=False)
        else:
            colour = {"failed": "red", "blocked": "yellow", "changed": "green"}.get(result.outcome)
            line = result.line()
            out.print(f"[{colour}]{line}[/{colour}]" if colour else line, markup=bool(colour))
    if sent is not None and not as_json:
        out.print(f"deliveries: {sent.sent} sent, {sent.failed} failed, {sent.retrying} to retry")
    if any(r.outcome in ("failed", "blocked") for r in results):
        raise typer.Exit(6)


@app.command()
@friendly
def sources(source: str = typer.Argument(None, help="One source: its health and the "
                                         "evidence its last failed run kept."),
            config: str = ConfigOption,
            as_json: bool = typer.Option(False, "--json", help="Machine-readable output."),
            evidence: Path = typer.Option(None, "--evidence", help="With SOURCE: write the "
                                          "last failing body to this file.")) -> None:
    """Adapter kinds, configured sources and their health."""
    from monitor.status import source_status
    from sources.registry import kinds

    if source:
        from monitor.cli_probe import show_source

        show_source(config, source, as_json=as_json, body_file=evidence)
        return

    configured = source_status(config) if Path(config).exists() else []
    if as_json:
        data = {"kinds": {k: {"summary": a.summary(), "settings": sorted(a.Settings.model_fields)}
                          for k, a in kinds().items()},
                "sources": configured}
        out.print(json.dumps(data, ensure_ascii=False, default=str), markup=False)
        return
    table = Table(title="Adapter kinds")
    table.add_column("kind")
    table.add_column("what it reads")
    table.add_column("settings (beyond name, kind, url, base_url, every, cron, fetch…)")
    from sources.registry import SourceSettings

    common = set(SourceSettings.model_fields)
    for kind, adapter in kinds().items():
        own = sorted(set(adapter.Settings.model_fields) - common)
        table.add_row(kind, adapter.summary(), ", ".join(own))
    out.print(table)
    if configured:
        health = Table(title="Configured sources")
        for column in ("name", "kind", "schedule", "last outcome", "last ok", "failures",
                       "records", "last error"):
            health.add_column(column)
        for s in configured:
            health.add_row(s["name"], s["kind"], s["schedule"], s["last_outcome"] or "never run",
                           s["last_ok_at"] or "-", str(s["consecutive_failures"]),
                           str(s["records"]), (s["last_error"] or "")[:80])
        out.print(health)


from monitor import cli_history, cli_notify, cli_probe, cli_service, cli_web  # noqa: E402

cli_probe.register(app)
cli_history.register(app)
cli_notify.register(app)
cli_service.register(app)
cli_web.register(app)

if __name__ == "__main__":  # pragma: no cover
    sys.exit(app())
