"""How fast, and how memory-hungry, reading EMA's documents file is.

    .venv/bin/python bench/bench_ema_parse.py [--size 70000]

Builds the replica's documents file at the real scale (70,000 documents,
~29 MB, ~2,900 scientific guidelines) and compares:

- ``json.loads`` alone;
- ``plain``: ``json.loads`` of the whole file, then keep the wanted type;
- ``object_hook`` (what ``sources.adapters.ema.parse_documents_json`` does): drop
  unwanted documents while the parser builds them;
- ``ijson`` streaming, when ijson happens to be installed (it is not a
  dependency).

Time is the best of several runs; peak memory is measured in a separate run
under tracemalloc (which slows the code, so it is not timed). Also times the
FDA guidance catalogue parse at its real size (2,800 records).
"""

from __future__ import annotations

import argparse
import gc
import json
import time
import tracemalloc
from collections.abc import Callable
from typing import Any

from monitor.replica.ema import EmaReplica
from monitor.replica.fda import FdaReplica
from sources.adapters import ema
from sources.adapters.fda import parse_guidance_json

BASE = "https://www.ema.europa.eu"
WANTED = frozenset(ema.DEFAULT_TYPES)


def best_ms(action: Callable[[], object], repeat: int = 5) -> float:
    best = float("inf")
    for _ in range(repeat):
        gc.collect()
        start = time.perf_counter()
        action()
        best = min(best, time.perf_counter() - start)
    return best * 1000


def peak_mb(action: Callable[[], object]) -> float:
    tracemalloc.start()
    action()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak / 1e6


def plain(body: bytes) -> int:
    data = json.loads(body)
    kept = [ema._record(e, BASE) for e in data["data"] if e.get("type") in WANTED]
    return len(kept)


def hooked(body: bytes) -> int:
    return len(ema.parse_documents_json(body, BASE).records)


def streamed(body: bytes) -> int:
    import ijson

    kept: list[Any] = []
    for entry in ijson.items(body, "data.item"):
        if entry.get("type") in WANTED:
            kept.append(ema._record(entry, BASE))
    return len(kept)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=70_000)
    args = parser.parse_args()

    start = time.perf_counter()
    body = EmaReplica(size=args.size).json_bytes(BASE)
    print(
        f"EMA file: {args.size:,} documents, {len(body) / 1e6:.1f} MB "
        f"(built in {time.perf_counter() - start:.1f} s)"
    )
    candidates: list[tuple[str, Callable[[], object]]] = [
        ("json.loads only", lambda: json.loads(body)),
        ("plain: loads, then filter", lambda: plain(body)),
        ("object_hook filter (adapter)", lambda: hooked(body)),
    ]
    try:
        import ijson

        candidates.append((f"ijson ({ijson.backend})", lambda: streamed(body)))
    except ImportError:
        print("ijson: not installed, skipped")
    for name, action in candidates:
        print(f"  {name:32} {best_ms(action, 5):8.0f} ms   peak {peak_mb(action):7.1f} MB")
    print(f"  records kept: {hooked(body):,}")

    fda = FdaReplica(size=2800).json_bytes()
    records = len(parse_guidance_json(fda, "https://www.fda.gov").records)
    print(
        f"FDA catalogue: {records:,} records, {len(fda) / 1e6:.1f} MB: parse "
        f"{best_ms(lambda: parse_guidance_json(fda, 'https://www.fda.gov')):.0f} ms, "
        f"peak {peak_mb(lambda: parse_guidance_json(fda, 'https://www.fda.gov')):.1f} MB"
    )


if __name__ == "__main__":
    main()
