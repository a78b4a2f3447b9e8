"""Whether anything waits to be sent: asked before the dispatcher is imported.

``regwatch check`` sends what is due after checking. Most checks queue
nothing, and the dispatcher (SQLAlchemy, the renderers, apprise's glue) costs
more to import than the check of an unchanged page; one indexed query on
``delivery.status`` tells whether a pass would touch any row: it reads only
rows that are pending or left "sending" (``Dispatcher.run_once``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from monitor.store import Store

__all__ = ["DispatchResult", "anything_waiting"]

_WAITING = "SELECT EXISTS (SELECT 1 FROM delivery WHERE status IN ('pending', 'sending'))"


@dataclass
class DispatchResult:
    """What one dispatcher pass did."""

    sent: int = 0
    failed: int = 0
    retrying: int = 0


def anything_waiting(store: Store) -> bool:
    """Whether any delivery is pending or was left sending (a pass has work)."""
    with store.raw() as raw:
        return bool(raw.scalars(_WAITING)[0])
