"""How fast full-text search is over a large history, and what the index costs.

    .venv/bin/python bench/bench_search.py [--docs 100000] [--db PATH] [--pg URL]

Builds a SQLite file (or a PostgreSQL database) with ``--docs`` documents,
each with a title and ~2 KB of attachment text mixing Chinese and English
regulatory prose, written through the store so the index is filled the way
the pipeline fills it. Then times (best of several runs, wall clock):

* a Chinese two-character query, ``效价`` (in ~2% of the documents);
* an English phrase, ``"long-term follow-up"`` (~2%);
* a common Chinese term, ``细胞`` (~40%: sorting many hits for the newest 50);
* a three-character Chinese term with a jurisdiction filter;

each returning the newest 50 hits with their snippets, as `regwatch search`
does. Prints the index size (the ``search_*`` tables) beside the rest of
the database, and the indexing cost per document.
"""

from __future__ import annotations

import argparse
import json
import random
import sqlite3
import tempfile
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

from monitor.search import SearchFilter, search
from monitor.store import Store
from monitor.store.models import DocumentRow, SourceRow

PHRASES_ZH = [
    "细胞治疗产品",
    "基因治疗",
    "药学研究",
    "非临床研究",
    "临床试验",
    "质量控制",
    "生产工艺",
    "稳定性研究",
    "病毒载体",
    "干细胞",
    "安全性评价",
    "免疫原性",
    "申报资料",
    "技术指导原则",
    "征求意见稿",
    "上市后研究",
    "风险管理",
]
PHRASES_EN = [
    "chemistry, manufacturing and controls",
    "clinical hold",
    "gene therapy product",
    "cell-based medicinal product",
    "adventitious agents",
    "release testing",
    "investigational new drug",
    "risk-based approach",
    "viral vector shedding",
    "comparability protocol",
    "process validation",
    "dose escalation",
]
RARE_ZH = "效价测定应反映产品的作用机制"
RARE_EN = "Sponsors should plan long-term follow-up of 15 years for integrating vectors."
COMMON = "细胞"
HAN = "".join(chr(c) for c in range(0x4E00, 0x4E00 + 3000))


def document_text(rng: random.Random) -> tuple[str, str]:
    parts: list[str] = []
    while sum(len(p) for p in parts) < 1800:
        roll = rng.random()
        if roll < 0.45:
            parts.append(
                rng.choice(PHRASES_ZH) + "".join(rng.choices(HAN, k=rng.randint(8, 30))) + "。"
            )
        elif roll < 0.9:
            parts.append(rng.choice(PHRASES_EN).capitalize() + " should be described. ")
        else:
            parts.append(f"{rng.randint(1, 99)}.{rng.randint(1, 9)} ")
    if rng.random() < 0.02:
        parts.insert(rng.randrange(len(parts)), RARE_ZH + "。")
    if rng.random() < 0.02:
        parts.insert(rng.randrange(len(parts)), RARE_EN)
    if rng.random() < 0.4:
        parts.insert(rng.randrange(len(parts)), COMMON + "因子")
    title = rng.choice(PHRASES_ZH) + "".join(rng.choices(HAN, k=12)) + "指导原则"
    return title, "".join(parts)


def build(store: Store, count: int, rng: random.Random) -> float:
    """Write ``count`` documents through the store; seconds per document."""
    start = time.perf_counter()
    with store.session(write=True) as session:
        sources = [
            SourceRow(name=n, kind=n, jurisdiction=j)
            for n, j in (("cde", "CN"), ("nmpa", "CN"), ("fda-guidance", "US"), ("ema", "EU"))
        ]
        session.add_all(sources)
        session.flush()
    base = datetime(2021, 1, 1, tzinfo=UTC)
    batch = 1000
    for first in range(0, count, batch):
        with store.session(write=True) as session:
            for i in range(first, min(count, first + batch)):
                title, text = document_text(rng)
                source = sources[i % len(sources)]
                seen = base + timedelta(minutes=25 * i)
                session.add(
                    DocumentRow(
                        source_id=source.id or 0,
                        key=f"doc-{i}",
                        title=title,
                        jurisdiction=source.jurisdiction,
                        first_seen=seen,
                        last_seen=seen,
                        text_hash=Store.put_blob(session, text.encode("utf-8")),
                        status=rng.choice(["draft", "final", "final"]),
                        record=json.dumps({"fields": {"dept": "药学部"}}, ensure_ascii=False),
                        classification=json.dumps(
                            {"cn": ["cell_therapy"], "doc_type": "guideline"}
                        ),
                    )
                )
    return (time.perf_counter() - start) / count


def measure(label: str, action: Callable[[], Sequence[object]], repeat: int = 7) -> None:
    best = float("inf")
    hits = 0
    for _ in range(repeat):
        start = time.perf_counter()
        hits = len(action())
        best = min(best, time.perf_counter() - start)
    flag = "ok" if best < 0.050 else "OVER 50 ms"
    print(f"{label:<52} {best * 1000:7.1f} ms  ({hits} hits shown)  {flag}")


def sizes(path: Path) -> None:
    db = sqlite3.connect(path)
    rows = db.execute("SELECT name, SUM(pgsize) FROM dbstat GROUP BY name").fetchall()
    db.close()
    index = sum(size for name, size in rows if name.startswith(("search_", "ix_search")))
    total = sum(size for _name, size in rows)
    print(
        f"database {total / 2**20:8.1f} MiB, of which the search index "
        f"{index / 2**20:8.1f} MiB ({100 * index / total:.0f}%)"
    )
    for name, size in sorted(rows, key=lambda r: -r[1])[:8]:
        print(f"  {name:<28} {size / 2**20:8.1f} MiB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--docs", type=int, default=100_000)
    parser.add_argument("--db", type=Path, default=None, help="keep the SQLite file here")
    parser.add_argument("--pg", default=None, help="a PostgreSQL URL instead of SQLite")
    args = parser.parse_args()
    path = args.db or Path(tempfile.mkdtemp(prefix="regwatch-bench-")) / "search.db"
    store = Store(args.pg or f"sqlite:///{path}")
    if not store.blob_count():
        per_doc = build(store, args.docs, random.Random(7))
        print(
            f"wrote {args.docs} documents through the store: {per_doc * 1000:.2f} ms each "
            "(indexing included)"
        )
    measure("Chinese, two characters: 效价", lambda: search(store, SearchFilter("效价")))
    measure(
        'English phrase: "long-term follow-up"',
        lambda: search(store, SearchFilter('"long-term follow-up"')),
    )
    measure("common Chinese term (~40%): 细胞", lambda: search(store, SearchFilter(COMMON)))
    measure(
        "three characters + jurisdiction: 效价测 / CN",
        lambda: search(store, SearchFilter("效价测", jurisdiction="CN")),
    )
    measure('two terms: 效价 "15 years"', lambda: search(store, SearchFilter('效价 "15 years"')))
    if not args.pg:
        sizes(path)
    store.close()


if __name__ == "__main__":
    main()
