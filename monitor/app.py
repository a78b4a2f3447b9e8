"""Opening a configuration and its store: the shared start of every command."""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the config and the store import pydantic, httpx and SQLAlchemy:
    # open_context imports them, not ``regwatch --help`` (which imports this module)
    from monitor.config import Config
    from monitor.store import Store


@dataclass
class Context:
    config: Config
    store: Store


def open_context(path: str, *, before_store: Callable[[Config], None] | None = None) -> Context:
    """The config at ``path`` and its store; ``before_store`` sees the config
    first (a check that must refuse before the database is opened, or created)."""
    from monitor import config as config_module
    from monitor.store import Store

    config = config_module.load(path)
    if before_store is not None:
        before_store(config)
    store = Store(config.store.url)
    return Context(config=config, store=store)


class _CurrentStderr(logging.StreamHandler):  # type: ignore[type-arg,unused-ignore]
    """Writes to whatever ``sys.stderr`` is at the moment (test runners swap it)."""

    @property  # type: ignore[override,unused-ignore]
    def stream(self) -> object:
        return sys.stderr

    @stream.setter
    def stream(self, _value: object) -> None:
        pass


def setup_logging(verbose: bool = False, fmt: str = "text") -> None:
    """Readable one-line logs on stderr, or JSON lines for log collectors."""
    from monitor.logs import JsonFormatter

    handler: logging.Handler = _CurrentStderr()
    if fmt == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(
            logging.Formatter(
                "%(asctime)s %(levelname)s %(name)s: %(message)s", "%Y-%m-%d %H:%M:%S"
            )
        )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.DEBUG if verbose else logging.INFO)
    for noisy in ("httpx", "httpcore", "apscheduler", "alembic", "asyncio"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
