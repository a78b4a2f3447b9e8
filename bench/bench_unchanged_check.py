"""How much an unchanged check costs: CPU milliseconds and database bytes.

Runs against a local replica (no network): a 200-item NMPA-like html-list
page, and the FDA guidance JSON replica when it is available. Prints, per
source: CPU ms of an unchanged check (median of N), wall ms, and how many
bytes and rows one unchanged run adds to the SQLite file.

    .venv/bin/python bench/bench_unchanged_check.py [runs]
"""

from __future__ import annotations

import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from monitor.config import loads
from monitor.pipeline.check import Pipeline
from monitor.replica.server import App, ReplicaServer, Router
from monitor.store import Store
from tests.sites import Item, ListSite


def db_size(path: Path) -> int:
    db = sqlite3.connect(path)
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()
    return path.stat().st_size


def rows(path: Path) -> dict[str, int]:
    db = sqlite3.connect(path)
    tables = ("run", "blob", "document", "version", "change", "delivery")
    counts = {t: db.execute(f"select count(*) from {t}").fetchone()[0] for t in tables}
    db.close()
    return counts


def main(runs: int = 20) -> None:
    title = "关于发布第{}号药品技术指导原则的通告"
    site = ListSite(
        items=[Item(f"2026{n:010d}", title.format(n), "2026-06-01") for n in range(200)]
    )
    mounts: dict[str, App] = {"/nmpa": site}
    extra = ""
    try:
        from monitor.replica.fda import FdaReplica

        mounts["/fda"] = FdaReplica()
        extra = """
[[source]]
name = "fda"
kind = "fda-guidance"
base_url = "{base}/fda"
attachments = false
"""
    except ImportError:
        pass
    with tempfile.TemporaryDirectory() as tmp, ReplicaServer(Router(mounts)) as server:
        db = Path(tmp) / "bench.db"
        config = loads(
            f"""
[store]
url = "sqlite:///{db}"
[http]
delay = 0
[[source]]
name = "nmpa-like"
kind = "html-list"
url = "{server.url}/nmpa/list/index.html"
item = ".list ul li"
date = "span"
"""
            + extra.format(base=server.url)
        )
        store = Store(config.store.url)
        pipeline = Pipeline(config, store)
        for source in config.sources:
            baseline = pipeline.check(source)
            pipeline.check(source)
            cpu, wall = [], []
            before_size, before_rows = db_size(db), rows(db)
            for _ in range(runs):
                started = time.perf_counter()
                result = pipeline.check(source)
                wall.append((time.perf_counter() - started) * 1000)
                cpu.append(result.cpu_ms)
                assert result.outcome == "unchanged", result
            after_size, after_rows = db_size(db), rows(db)
            added = {
                t: after_rows[t] - before_rows[t]
                for t in after_rows
                if after_rows[t] != before_rows[t]
            }
            print(
                f"{source.name}: {baseline.records} records; unchanged check: "
                f"CPU {statistics.median(cpu):.1f} ms median (min {min(cpu):.1f}), "
                f"wall {statistics.median(wall):.1f} ms; "
                f"{(after_size - before_size) / runs:.0f} bytes/run on disk, rows/run: "
                + ", ".join(f"{t} +{n / runs:g}" for t, n in added.items())
            )


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 20)
