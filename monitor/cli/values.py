"""What the reading commands share: opening a configuration and its store
without creating anything, and checking filter values against the valid ones.

``open_reader`` is for commands that only read (``changes``, ``show``,
``diff``, ``search``, ``sources``, ``deliveries``): a database that does not
exist yet is an error, never a new empty file, and an unset ``${VAR}`` in a
place the command does not use (an SMTP password in ``[[notify]]``) is no
reason to refuse.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from monitor.errors import ConfigError, StoreError, UsageError

if TYPE_CHECKING:  # the store (SQLAlchemy) is imported when a command opens it, not for --help
    from monitor.app import Context

_UNSET = "__regwatch_unset_{}__"
_UNSET_RE = re.compile(r"__regwatch_unset_(\w+)__")


class _Lenient(Mapping[str, str]):
    """The environment, with a marker in place of each unset variable."""

    def __getitem__(self, key: str) -> str:
        return os.environ.get(key, _UNSET.format(key))

    def __contains__(self, key: object) -> bool:
        return True

    def __iter__(self) -> Iterator[str]:
        return iter(os.environ)

    def __len__(self) -> int:
        return len(os.environ)


def sqlite_path(url: str) -> Path | None:
    """The file of a SQLite URL (None for other databases and ``:memory:``)."""
    if not url.startswith("sqlite"):
        return None
    path = url.split("///", 1)[-1].split("?", 1)[0]
    return Path(path).expanduser() if path and path != ":memory:" else None


def open_reader(config_path: str) -> Context:
    """Config and store for a read-only command (see the module docstring)."""
    from monitor import config as config_module
    from monitor.app import Context
    from monitor.store import Store

    config = config_module.load(config_path, env=_Lenient())
    unset = _UNSET_RE.search(config.store.url)
    if unset:
        raise ConfigError(
            f"environment variable ${{{unset.group(1)}}} is not set",
            path=config.path,
            key="[store] url",
            fix=f"export {unset.group(1)}=… before starting regwatch",
        )
    path = sqlite_path(config.store.url)
    if path is not None and not path.is_file():
        raise StoreError(
            f"no database at {path} (from {config.path} [store] url): run "
            "`regwatch check` first, or fix the path"
        )
    return Context(config=config, store=Store(config.store.url))


_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069]")


def clean(text: object) -> str:
    """Text safe for a terminal: control characters (escape sequences, bidi
    overrides) removed, tabs and new lines kept."""
    return _CONTROL.sub("", str(text))


def _norm(value: str) -> str:
    return re.sub(r"[\s\-]+", "_", value.strip().casefold())


def choose(option: str, value: str | None, valid: Iterable[str]) -> str | None:
    """``value`` as one of ``valid`` (ignoring case, ``-``/space as ``_``:
    ``CAR-T`` → ``car_t``), or ``UsageError`` listing the valid values."""
    if value is None or value == "":
        return None
    choices = list(dict.fromkeys(valid))
    by_norm = {_norm(c): c for c in choices}
    found = by_norm.get(_norm(value))
    if found is None:
        shown = ", ".join(choices) if choices else "none yet"
        raise UsageError(f"{option} {value!r} is not valid; use one of: {shown}")
    return found


def parse_since(value: str | None) -> datetime | None:
    """``--since``: ``7d`` / ``12h`` / ``2w`` ago, or a date (UTC unless it says);
    see ``monitor.history.parse_since``."""
    if not value:
        return None
    from monitor.history import parse_since as since_moment  # imports the store: not for --help

    try:
        return since_moment(value)
    except ValueError as exc:
        raise UsageError(f"--since {value!r}: {exc}") from None


def source_names(ctx: Context) -> list[str]:
    """Configured sources and those the database has seen."""
    from sqlmodel import select

    from monitor.store.models import SourceRow

    with ctx.store.session() as session:
        stored = [row.name for row in session.exec(select(SourceRow)).all()]
    return [s.name for s in ctx.config.sources] + sorted(stored)


def jurisdictions(ctx: Context) -> list[str]:
    """CN, US, EU and any other jurisdiction the database holds."""
    from sqlmodel import select

    from monitor.store.models import SourceRow

    with ctx.store.session() as session:
        found = {
            row.jurisdiction.upper()
            for row in session.exec(select(SourceRow)).all()
            if row.jurisdiction
        }
    return ["CN", "US", "EU", *sorted(found - {"CN", "US", "EU"})]


def atmp_values() -> list[str]:
    from monitor.web.views import atmp_keys

    return sorted(atmp_keys())


def kind_values() -> list[str]:
    from monitor.web.views import EVENTS, KINDS

    return list(dict.fromkeys(KINDS + EVENTS))


def status_values() -> list[str]:
    from monitor.classify import STATUSES

    return list(STATUSES)


def doc_type_values() -> list[str]:
    from monitor.classify import DOC_TYPES

    return list(DOC_TYPES)
