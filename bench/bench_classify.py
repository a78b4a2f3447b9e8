"""How long classifying 10,000 titles takes.

    .venv/bin/python bench/bench_classify.py [N]

The titles are the labelled dev, extra and fresh (Japanese, traditional
Chinese, product labels) sets, repeated and varied the way
real lists vary them (status words, notice wrappers, full-width characters,
English suffixes, numbering), so no two consecutive titles are the same
string. The lexicon is loaded (and timed) separately first.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from monitor.classify import classify_many  # noqa: E402
from monitor.classify._lexicon import lexicon  # noqa: E402

SOURCES = [
    ROOT.parent / "shared" / "data" / "classify-dev.jsonl",
    ROOT / "tests" / "data" / "classify-extra.jsonl",
    ROOT / "tests" / "data" / "classify-fresh-2026-12.jsonl",
]


def base_titles() -> list[str]:
    titles = []
    for path in SOURCES:
        if path.exists():
            titles += [
                json.loads(line)["text"]
                for line in path.read_text("utf-8").splitlines()
                if line.strip()
            ]
    return titles


def full_width(text: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)


def vary(title: str, i: int) -> str:
    """The i-th variant of a title: as is, draft, notice wrapper, full-width,
    numbered, withdrawn."""
    chinese = not title.isascii()
    kind = i % 6
    if kind == 1:
        return f"{title}（征求意见稿）" if chinese else f"{title}; Draft Guidance for Industry"
    if kind == 2:
        return (
            f"关于发布《{title}》的通告（2026年第{i % 90 + 1}号）"
            if chinese
            else f"{title} - draft: consultation open"
        )
    if kind == 3:
        return full_width(title)
    if kind == 4:
        return f"{title} ({i})"
    if kind == 5:
        return f"关于废止《{title}》的公告" if chinese else f"Withdrawn: {title}"
    return title


def varied(titles: list[str], n: int) -> Iterator[str]:
    for i in range(n):
        yield vary(titles[i % len(titles)], i)


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
    start = time.perf_counter()
    lexicon()
    loaded = time.perf_counter() - start
    titles = list(varied(base_titles(), n))
    start, cpu = time.perf_counter(), time.process_time()
    results = classify_many(titles)
    elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
    relevant = sum(r.relevant for r in results)
    print(f"lexicon load: {loaded:.3f} s")
    print(
        f"classified {n} titles in {elapsed:.3f} s wall, {cpu:.3f} s CPU "
        f"({elapsed / n * 1e6:.1f} µs per title; {relevant} relevant)"
    )


if __name__ == "__main__":
    main()
