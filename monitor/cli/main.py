"""The `regwatch` command line (Typer + Rich).

Every command turns a ``RegwatchError`` into one line on stderr and its exit
code; a traceback is a bug (exit 70 with one line; ``--verbose`` shows it).
"""

from __future__ import annotations

import functools
import gc
import json
import logging
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO, TypeVar

import typer
from typer.core import TyperArgument, TyperGroup, TyperOption

from monitor.errors import RegwatchError, UsageError

if TYPE_CHECKING:
    from rich.console import Console
    from rich.table import Table

    from monitor.config import Config
    from monitor.pipeline.results import CheckResult

# The cyclic collector's thresholds for a command: Python's (700, 10, 10) took 0.5-0.7 s
# of a 1,000-page first run's ~9 s of CPU; these 0.2 s, 1-3 MB more at the peak (#12).
GC_THRESHOLDS = (10_000, 20, 100)

_READABLE = {
    "<str>": "TEXT",
    "<int>": "N",
    "<float>": "NUMBER",
    "<path>": "PATH",
    "<list[str]>": "TEXT",
    "<bool>": "",
}


def _readable_type(original: Callable[..., str]) -> Callable[..., str]:
    """Help shows ``--limit N`` and ``--config TEXT`` instead of Typer's
    ``<int>``, ``<str>``, ``<list[str]>``."""

    @functools.wraps(original)
    def display_type(self: Any, ctx: typer.Context) -> str:
        shown = original(self, ctx)
        return _READABLE.get(shown, shown.strip("<>").upper())

    return display_type


for _param in (TyperOption, TyperArgument):
    _param.display_type = _readable_type(_param.display_type)  # type: ignore[method-assign]


class _Group(TyperGroup):
    """Accepts ``-v``/``--verbose`` after the command too (``regwatch check -v``)."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        head, sep, tail = (
            (args[: args.index("--")], ["--"], args[args.index("--") + 1 :])
            if "--" in args
            else (args, [], [])
        )
        flags = [a for a in head[1:] if a in ("-v", "--verbose")]
        if flags and head and not head[0].startswith("-"):
            head = ["--verbose", head[0], *(a for a in head[1:] if a not in flags)]
        return super().parse_args(ctx, head + sep + tail)


app = typer.Typer(
    help="Watch what drug regulators publish about cell and gene therapy.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    cls=_Group,
)


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
        # here, not at the top: importing notifiers imports its routes (pydantic),
        # a third of ``regwatch --help``, which writes nothing through this
        from notifiers.redact import redact

        return self._stream.write(redact(text))

    def flush(self) -> None:
        self._stream.flush()

    def isatty(self) -> bool:
        return self._stream.isatty()

    def fileno(self) -> int:
        return self._stream.fileno()


class _Console:
    """A Rich console on ``stream``, made at its first use: ``check --json`` and
    ``watch`` never print through one, and importing Rich costs every run ~4 MB."""

    def __init__(self, stream: _Redacted) -> None:
        self._stream = stream
        self._console: Console | None = None

    def __getattr__(self, name: str) -> Any:
        if self._console is None:
            from rich.console import Console

            self._console = Console(file=self._stream, highlight=False, soft_wrap=True)  # type: ignore[arg-type]
        return getattr(self._console, name)


stdout = _Redacted("stdout")
out: Console = _Console(stdout)  # type: ignore[assignment]
err: Console = _Console(_Redacted("stderr"))  # type: ignore[assignment]

ConfigOption = typer.Option(
    "regwatch.toml",
    "--config",
    "-c",
    metavar="FILE",
    help="Configuration file.",
    envvar="REGWATCH_CONFIG",
)
F = TypeVar("F", bound=Callable[..., Any])
_VERBOSE = {"on": False}


def friendly(func: F) -> F:
    """Run a command, turning errors into one clear line and an exit code."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except RegwatchError as exc:
            from rich.markup import escape

            err.print(f"[red]error:[/red] {escape(exc.message)}", markup=True, highlight=False)
            raise typer.Exit(exc.exit_code) from None
        except BrokenPipeError:  # `regwatch changes --csv | head -1`: the reader left
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            raise typer.Exit(0) from None
        except (typer.Exit, typer.Abort, KeyboardInterrupt, SystemExit):
            raise
        except Exception as exc:
            if _VERBOSE["on"]:
                raise
            err.print(
                f"internal error: {type(exc).__name__}: {exc} "
                "(run with --verbose for details; please report it)",
                markup=False,
            )
            raise typer.Exit(70) from None

    return wrapper  # type: ignore[return-value]


def _version(value: bool) -> None:
    if value:
        from importlib.metadata import PackageNotFoundError, version

        try:
            number = version("regwatch")
        except PackageNotFoundError:  # pragma: no cover - run from a bare checkout
            number = "unknown"
        out.print(f"regwatch {number}", markup=False)
        raise typer.Exit(0)


@app.callback(
    epilog="Examples:\n\n  regwatch init\n\n  regwatch check\n\n"
    "  regwatch changes --since 7d --atmp car_t\n\n"
    "  regwatch search 效价 --jurisdiction CN\n\n"
    "Every command takes --config FILE (or REGWATCH_CONFIG); -v/--verbose "
    "goes before or after the command."
)
def main(
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Debug logs and tracebacks."),
    _show_version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    """regwatch: scheduled checks of regulator pages, diffs, ATMP classes and alerts."""
    gc.set_threshold(*GC_THRESHOLDS)
    verbose = verbose or _VERBOSE["on"]
    _VERBOSE["on"] = verbose
    from monitor.app import setup_logging

    setup_logging(verbose)


@app.command()
@friendly
def init(
    path: Path = typer.Argument(Path("regwatch.toml"), help="Where to write the config."),
    force: bool = typer.Option(False, "--force", help="Overwrite an existing file."),
) -> None:
    """Write a starter regwatch.toml covering CDE, NMPA, FDA, EMA and the NHC."""
    from monitor.starter import starter_config

    if path.exists() and not force:
        raise RegwatchError(f"{path} exists; pass --force to overwrite it")
    if not path.parent.is_dir():
        raise UsageError(
            f"cannot write {path}: the folder {path.parent} does not exist "
            "(create it first, or give another path)"
        )
    try:
        path.write_text(starter_config(), encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot write {path}: {exc.strerror or exc}") from None
    out.print(f"wrote {path} — edit the [[notify]] routes, then run `regwatch check`", markup=False)


@app.command()
@friendly
def check(
    config: str = ConfigOption,
    source: list[str] = typer.Option(None, "--source", "-s", help="Only this source."),
    deliver: bool = typer.Option(
        True, "--deliver/--no-deliver", help="Send queued alerts after checking."
    ),
    as_json: bool = typer.Option(False, "--json", help="One JSON object per source."),
) -> None:
    """Run every (or one) source once, deliver alerts, exit.

    Exit code 0 when every check was healthy, 6 when some source failed or was blocked.
    """
    from monitor.app import open_context
    from monitor.pipeline.check import Pipeline
    from monitor.service.lock import service_lock

    def enabled(loaded: Config) -> None:
        for name in source or []:
            if not loaded.source(name).enabled:
                raise UsageError(
                    f"source {name!r} is disabled (enabled = false in {config}); "
                    "set enabled = true to check it"
                )

    ctx = open_context(config, before_store=enabled)
    # each result is printed below: not logged a second time, and no "retrying in" lines
    quiet = (
        {}
        if _VERBOSE["on"]
        else {
            name: logging.getLogger(name).level for name in ("regwatch.check", "sources.fetch.http")
        }
    )
    for name in quiet:
        logging.getLogger(name).setLevel(logging.WARNING)
    # a running service checks on its schedule; two checkers of one source would race
    lock = service_lock(ctx.config.store.url)
    lock.acquire()
    try:
        results = Pipeline(ctx.config, ctx.store).check_all(source or None)
        sent = None
        if deliver:
            from monitor.delivery.waiting import DispatchResult, anything_waiting

            sent = DispatchResult()
            if anything_waiting(ctx.store):  # else the dispatcher is not even imported
                from monitor.delivery.dispatch import Dispatcher

                sent = Dispatcher(ctx.config, ctx.store).run_once()
    finally:
        lock.release()
        for name, level in quiet.items():
            logging.getLogger(name).setLevel(level)
    for result in results:
        _print_result(result, as_json)
    stdout.flush()
    if sent is not None and not as_json:
        out.print(f"deliveries: {sent.sent} sent, {sent.failed} failed, {sent.retrying} to retry")
    if any(r.outcome in ("failed", "blocked") for r in results):
        raise typer.Exit(6)


def _print_result(result: CheckResult, as_json: bool) -> None:
    """One source's check: a JSON object, or its coloured line."""
    if as_json:  # a plain line: Rich's print costs more than the warm check itself
        fields = {
            "source": result.source,
            "outcome": result.outcome,
            "records": result.records,
            "changes": result.changes,
            "alerts": result.alerts,
            "error": result.error,
            "seconds": round(result.seconds, 3),
        }
        stdout.write(json.dumps(fields, ensure_ascii=False) + "\n")
        return
    colour = {"failed": "red", "blocked": "yellow", "changed": "green"}.get(result.outcome)
    line = result.line()
    out.print(f"[{colour}]{line}[/{colour}]" if colour else line, markup=bool(colour))


@app.command()
@friendly
def sources(
    source: str = typer.Argument(
        None, help="One source: its health and the evidence its last failed run kept."
    ),
    config: str = ConfigOption,
    as_json: bool = typer.Option(False, "--json", help="Machine-readable output."),
    evidence: Path = typer.Option(
        None, "--evidence", help="With SOURCE: write the last failing body to this file."
    ),
    as_markdown: bool = typer.Option(
        False, "--markdown", help="The README's sources reference (kinds, settings, presets)."
    ),
) -> None:
    """Adapter kinds, configured sources and their health."""
    from monitor.cli.reference import kinds_reference, markdown

    if as_markdown:
        out.print(markdown(), markup=False, end="", soft_wrap=True)
        return
    if source:
        from monitor.cli.probe import show_source

        show_source(config, source, as_json=as_json, body_file=evidence)
        return

    configured = _configured_sources(config) if Path(config).exists() else []
    if as_json:
        data = {**kinds_reference(), "sources": configured}
        out.print(json.dumps(data, ensure_ascii=False, default=str), markup=False)
        return
    print_kinds()
    if configured:
        _print_health(configured)


def _configured_sources(config: str) -> list[dict[str, Any]]:
    """The configured sources with their schedule, health and whether enabled;
    without a database yet, as never run (and nothing is created)."""
    from monitor.cli.values import open_reader, sqlite_path
    from monitor.config import load
    from monitor.service.scheduler import DEFAULT_EVERY
    from monitor.status import status_of

    settings = load(config).sources
    names = [
        (
            s.name,
            s.kind,
            s.cron or f"every {s.every or DEFAULT_EVERY}" + ("" if s.every else " (default)"),
        )
        for s in settings
    ]
    path = sqlite_path(load(config).store.url)
    if path is None or path.is_file():
        configured = status_of(open_reader(config).store, names)
    else:  # no database yet: nothing has run (and nothing is created)
        configured = status_of_nothing(names)
    for entry, item in zip(configured, settings, strict=True):
        entry["enabled"] = item.enabled
    return configured


def _print_health(configured: list[dict[str, Any]]) -> None:
    """The "Configured sources" table."""
    from rich.table import Table
    from rich.text import Text

    from monitor.cli.values import clean

    health = Table(title="Configured sources")
    for column in (
        "name",
        "kind",
        "schedule",
        "last outcome",
        "last ok",
        "failures",
        "records",
        "last error",
    ):
        health.add_column(column)
    for s in configured:
        outcome = s["last_outcome"] or "never run"
        health.add_row(
            *(
                Text(clean(v))
                for v in (
                    s["name"],
                    s["kind"],
                    s["schedule"] if s["enabled"] else "disabled",
                    outcome,
                    s["last_ok_at"] or "-",
                    str(s["consecutive_failures"]),
                    str(s["records"]),
                    (s["last_error"] or "")[:80],
                )
            )
        )
    out.print(health)


def print_kinds() -> None:
    """The registry as tables: the kinds, the common keys, each kind's own keys."""
    from rich.table import Table

    from monitor.cli import reference
    from sources.registry import SourceSettings, kinds

    table = Table(title="Adapter kinds")
    for column in ("kind", "what it reads", "regulator", "jurisdiction", "listing"):
        table.add_column(column)
    for kind, adapter in kinds().items():
        table.add_row(
            kind,
            adapter.summary(),
            reference.regulator_text(adapter),
            reference.jurisdiction_text(adapter),
            reference.coverage_text(adapter),
        )
    out.print(table)
    out.print(_settings_table("Keys of every source", reference.setting_rows(SourceSettings)))
    for kind, adapter in kinds().items():
        own = reference.own_settings(adapter)
        if own:
            out.print(_settings_table(f"{kind} keys", own))


def _settings_table(title: str, rows: list[dict[str, Any]]) -> Table:
    from rich.table import Table
    from rich.text import Text

    from monitor.cli.reference import default_text

    table = Table(title=title)
    for column in ("key", "type", "default", "description"):
        table.add_column(column)
    for row in rows:
        cells = (row["name"], row["type"], default_text(row), row["description"])
        table.add_row(*(Text(c) for c in cells))
    return table


def status_of_nothing(names: list[tuple[str, str, str]]) -> list[dict[str, Any]]:
    """The status rows of sources that never ran."""
    return [
        {
            "name": n,
            "kind": k,
            "schedule": sch,
            "last_outcome": "",
            "last_run_at": None,
            "last_ok_at": None,
            "consecutive_failures": 0,
            "records": 0,
            "last_error": "",
        }
        for n, k, sch in names
    ]


from monitor.cli import history as cli_history  # noqa: E402
from monitor.cli import notify as cli_notify  # noqa: E402
from monitor.cli import probe as cli_probe  # noqa: E402
from monitor.cli import search as cli_search  # noqa: E402
from monitor.cli import service as cli_service  # noqa: E402
from monitor.cli import web as cli_web  # noqa: E402

cli_probe.register(app)
cli_history.register(app)
cli_search.register(app)
cli_notify.register(app)
cli_service.register(app)
cli_web.register(app)

if __name__ == "__main__":  # pragma: no cover
    sys.exit(app())
