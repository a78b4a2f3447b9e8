"""What a new record costs, and what an unchanged run costs, in one check.

A local html-list page (no network) grows by N records between two checks
of the same source, with one notification route. Prints the CPU per record
of a baseline of N records (a second source's first check, the classifier
already loaded: the cold path, written in bulk), then the wall time per
new record of the second check (diff, classification, document, version,
change and queued alert rows), the longest single write transaction, then
the cost of an unchanged check on the big list (fast path: same listing
digest) and the bytes one unchanged run adds to the SQLite file.

    .venv/bin/python bench/bench_new_records.py [N]
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
from monitor.replica.server import ReplicaServer
from monitor.store import Store
from tests.sites import Item, ListSite

TITLES = [
    "关于发布第{}号药品技术指导原则的通告",
    "细胞治疗产品第{}号临床试验技术指导原则",
    "国家药监局关于修订第{}号注射剂说明书的公告",
    "基因治疗产品第{}号药学研究技术指导原则",
]


def db_size(path: Path) -> int:
    db = sqlite3.connect(path)
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()
    return path.stat().st_size


def main(new: int = 2000) -> None:
    site = ListSite(
        items=[Item(f"old{n:08d}", TITLES[n % 4].format(n), "2026-06-01") for n in range(200)]
    )
    with tempfile.TemporaryDirectory() as tmp, ReplicaServer(site) as server:
        db = Path(tmp) / "bench.db"
        config = loads(f"""
[store]
url = "sqlite:///{db}"
[http]
delay = 0
retries = 0
timeout = 30
max_bytes = 200_000_000
[[notify]]
name = "team"
urls = ["json://127.0.0.1:9/inbox"]
[[source]]
name = "big"
kind = "html-list"
url = "{server.url}/list/index.html"
item = ".list ul li"
title = "a"
link = "a@href"
date = "span"
attachments = false
collapse_ratio = 0
[delivery]
summary_over = 0
""")
        store = Store(config.store.url)
        pipeline = Pipeline(config, store)
        source = config.sources[0]
        pipeline.check(source)
        first = source.model_copy(update={"name": "big-baseline"})  # same page, new source
        site.items += [
            Item(f"cold{n:08d}", TITLES[n % 4].format(n + 50_000), "2026-06-02") for n in range(new)
        ]
        started, cpu0 = time.perf_counter(), time.process_time()
        outcome = pipeline.check(first).outcome
        wall, cpu = time.perf_counter() - started, time.process_time() - cpu0
        assert outcome == "baseline", outcome
        count = len(site.items)
        print(
            f"baseline of {count} records: per record {cpu / count * 1000:.3f} ms CPU, "
            f"{wall / count * 1000:.3f} ms wall"
        )
        del site.items[-new:]
        site.items += [
            Item(f"new{n:08d}", TITLES[n % 4].format(n + 1000), "2026-07-01") for n in range(new)
        ]
        started, cpu0 = time.perf_counter(), time.process_time()
        result = pipeline.check(source)
        wall, cpu = time.perf_counter() - started, time.process_time() - cpu0
        print(f"{new} new records: {result.line()}")
        print(
            f"  per new record: {wall / new * 1000:.3f} ms wall, {cpu / new * 1000:.3f} ms CPU "
            f"({result.alerts} alerts queued, one per record: summary_over = 0)"
        )
        before = db_size(db)
        times = []
        for _ in range(7):
            cpu = time.process_time()
            outcome = pipeline.check(source).outcome
            times.append((time.process_time() - cpu) * 1000)
            assert outcome == "unchanged", outcome
        after = db_size(db)
        print(
            f"  unchanged check of {len(site.items)} records: "
            f"{statistics.median(times):.1f} ms CPU median of 7"
        )
        print(f"  bytes per unchanged run: {(after - before) / 7:.0f}")
        store.close()


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 2000)
