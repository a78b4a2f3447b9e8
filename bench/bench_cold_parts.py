"""What each pure stage of a baseline costs per record, on bench_peers' pages.

The cold (first) run of ``bench_peers.py`` parses N NMPA-style list pages of
20 items, fingerprints each listing, classifies every title, and builds each
new document's fingerprint, lineage stem and search grams. This times those
pure stages alone (no HTTP, no store), in this process, on the same pages:
CPU per record of each stage (median of ``--repeat`` passes) and the
lexicon's one-off load.

    .venv/bin/python bench/bench_cold_parts.py [--pages 1000] [--repeat 5]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_peers import Site  # noqa: E402

from diffing import normalise  # noqa: E402
from diffing.normalise import fingerprint  # noqa: E402
from monitor.classify import classify  # noqa: E402
from monitor.classify._lexicon import lexicon  # noqa: E402
from monitor.pipeline.lineage import stem  # noqa: E402
from monitor.store.search import grams  # noqa: E402
from sources.adapters.html_list import HtmlListSettings, parse_list  # noqa: E402
from sources.text import dates, selectors, urls  # noqa: E402
from sources.types import Record  # noqa: E402


def clear_caches() -> None:
    """Empty the per-process caches of the parse and the digest: each pass is a
    cold run's first sight of these records."""
    for module in (dates, normalise, selectors, urls):
        for value in vars(module).values():
            clear = getattr(value, "cache_clear", None)
            if callable(clear) and getattr(value, "__module__", "") == module.__name__:
                clear()


def cpu(work: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        clear_caches()
        started = time.process_time()
        work()
        times.append(time.process_time() - started)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pages", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    started = time.process_time()
    lexicon()
    loaded = time.process_time() - started
    site = Site(args.pages)
    pages = [
        (body.decode(), f"http://127.0.0.1/col{i}/index.html") for i, body in enumerate(site.bodies)
    ]
    settings = HtmlListSettings.model_validate(
        {
            "name": "col",
            "kind": "html-list",
            "url": "http://127.0.0.1/",
            "item": ".list ul li",
            "date": "span",
        }
    )
    records: list[Record] = [
        r for text, url in pages for r in parse_list(text, url, settings).records
    ]
    n = len(records)
    stages: dict[str, Callable[[], object]] = {
        "parse_list": lambda: [parse_list(text, url, settings) for text, url in pages],
        "fingerprint": lambda: [fingerprint(r, ignore_fields=()) for r in records],
        "classify": lambda: [classify(r.title, status=r.status) for r in records],
        "stem": lambda: [stem(r.title) for r in records],
        "grams": lambda: [grams(r.title, "") for r in records],
    }
    print(f"lexicon load: {loaded * 1000:.0f} ms CPU; {n} records on {args.pages} pages")
    total = 0.0
    for name, work in stages.items():
        each = cpu(work, args.repeat) / n * 1e6
        total += each
        page = f" ({each * n / args.pages / 1000:.2f} ms per page)" if name == "parse_list" else ""
        print(f"  {name:<12} {each:7.1f} µs CPU per record{page}")
    print(f"  {'sum':<12} {total:7.1f} µs CPU per record")


if __name__ == "__main__":
    main()
