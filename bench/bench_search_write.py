"""What indexing a baseline's search entries costs on SQLite: the insert trigger
of migrations 0006-0014 against the writer's one ``INSERT … SELECT`` (0015).

A real SQLite file made from ``monitor/store/schema_sqlite.sql`` (WAL, as the
store opens it); N documents with NMPA-style Chinese titles and their entries,
written 200 to a transaction as a baseline's host group writes them. Prints the
CPU of the entry inserts each way (medians of the rounds) and checks that both
indexes find the same documents.

    python bench/bench_search_write.py [--documents 20000] [--rounds 3]
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import statistics
import tempfile
import time
from pathlib import Path

from monitor.store.search import _INDEX_NEW

SCHEMA = Path(__file__).resolve().parents[1] / "monitor" / "store" / "schema_sqlite.sql"
TRIGGER_0014 = (
    "CREATE TRIGGER search_entry_ai AFTER INSERT ON search_entry BEGIN "
    "INSERT INTO search_fts(rowid, title, body) VALUES "
    "(new.id, CASE WHEN new.title = '' AND new.kind = 1 THEN coalesce("
    "(SELECT d.title FROM document d WHERE d.id = new.ref_id), '') ELSE new.title END, "
    "new.body); END"
)
KINDS = ("细胞治疗产品", "基因治疗产品", "干细胞制剂", "溶瘤病毒产品", "CAR-T细胞")
STEP = 200


def title(i: int) -> str:
    return f"国家药监局关于发布{KINDS[i % len(KINDS)]}第{i}号药品注册技术指导原则的通告"


def write(path: Path, count: int, *, trigger: bool) -> tuple[float, int]:
    """CPU seconds of the entry inserts; documents the index finds for 细胞治疗."""
    db = sqlite3.connect(path, isolation_level=None)
    db.executescript(SCHEMA.read_text(encoding="utf-8"))
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    if trigger:
        db.execute(TRIGGER_0014)
    # (no source row: foreign keys are not enforced on this connection)
    cpu = 0.0
    for start in range(1, count + 1, STEP):
        ids = range(start, min(start + STEP, count + 1))
        db.execute("BEGIN")
        db.executemany(
            "INSERT INTO document (id, source_id, key, title, url, jurisdiction, first_seen,"
            " last_seen, state, missing_runs, record, lineage, status, attachments,"
            " classification, relevant) VALUES (?, 1, ?, ?, '', 'CN', 0, 0, 'active', 0, '', '',"
            " '', '[]', '{}', 1)",
            [(i, f"k{i}", title(i)) for i in ids],
        )
        began = time.process_time()
        db.executemany(
            "INSERT INTO search_entry (id, kind, ref_id, source_id, at) VALUES (?, 1, ?, 1, 0)",
            [(i, i) for i in ids],
        )
        if not trigger:
            db.execute(_INDEX_NEW, (ids[0], ids[-1]))
        cpu += time.process_time() - began
        db.execute("COMMIT")
    match = "SELECT count(*) FROM search_fts WHERE search_fts MATCH '细胞治疗'"
    found = db.execute(match).fetchone()
    db.close()
    return cpu, int(found[0])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--documents", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    times: dict[bool, list[float]] = {True: [], False: []}
    found: dict[bool, set[int]] = {True: set(), False: set()}
    with tempfile.TemporaryDirectory() as folder:
        for round_ in range(args.rounds):
            for trigger in (True, False):  # interleaved
                path = Path(folder) / f"r{round_}-{trigger}.db"
                cpu, hits = write(path, args.documents, trigger=trigger)
                times[trigger].append(cpu)
                found[trigger].add(hits)
                for suffix in ("", "-wal", "-shm"):
                    if os.path.exists(f"{path}{suffix}"):
                        os.remove(f"{path}{suffix}")
    if found[True] != found[False] or len(found[True]) != 1:
        raise SystemExit(f"the two indexes disagree: {found}")
    before, after = (statistics.median(times[t]) for t in (True, False))
    print(f"{args.documents:,} entries, {STEP} to a transaction, medians of {args.rounds} rounds")
    print(f"insert trigger (0006-0014): {before:.3f} s CPU")
    print(f"writer's INSERT … SELECT (0015): {after:.3f} s CPU  (×{after / before:.2f})")
    print(f"both find {found[True].pop()} documents for 细胞治疗")


if __name__ == "__main__":
    main()
