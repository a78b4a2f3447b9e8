"""The demo run once for a session (the ``demo_run`` fixture): its output, its counts and
the database it kept, which a test that writes to it copies first."""

from __future__ import annotations

import io
import shutil
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console

from monitor.demo import run_demo


@dataclass(frozen=True)
class DemoRun:
    text: str  # what the demo printed (a 120-column console)
    counts: dict[str, int]  # change events by kind, as run_demo returns them
    db: Path  # the database the demo kept (``--keep``): read it, never write it

    def copy_store(self, directory: Path) -> Path:
        """A copy of the kept database in ``directory``, for a test that changes it."""
        directory.mkdir(parents=True, exist_ok=True)
        return Path(shutil.copy(self.db, directory / self.db.name))


def run_demo_once(directory: Path) -> DemoRun:
    buffer = io.StringIO()
    counts = run_demo(keep=str(directory / "kept"), console=Console(file=buffer, width=120))
    (db,) = (directory / "kept").glob("*.db")
    return DemoRun(buffer.getvalue(), counts, db)
