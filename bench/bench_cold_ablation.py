"""What regwatch's first run spends on the work urlwatch does not do, side by side.

bench_peers' N list pages (20 items each) on 127.0.0.1; interleaved rounds of a
cold run (fresh store, first run ever) by urlwatch 2.29, by regwatch as it
ships, and by regwatch with parts of its first run made free:

- ``classify``: every record gets one fixed classification
  (``monitor.pipeline.plan.classify_record``);
- ``digest``: the normalised listing's digest is a constant
  (``monitor.pipeline.check.listing_hash``);
- ``search``: no search-index entries are written (the session is not marked
  for indexing);
- ``all``: the three at once.

The stubs exist only in this script's own child processes (``--as-regwatch``);
they are a measurement of where the cost is, not a configuration. What is left
with ``all`` is the plumbing both tools share: start-up, fetching, parsing, the
stored page, the run and document rows.

    .venv/bin/python bench/bench_cold_ablation.py --sources 1000 --rounds 3
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_peers import Regwatch, Sample, Site, Urlwatch, compile_regwatch, run, serve

VARIANTS = ("as shipped", "classify", "digest", "search", "all")


def stub(parts: set[str]) -> None:
    """Make ``parts`` of a first run free in this process (see the module doc)."""
    if parts & {"classify", "all"}:
        import monitor.pipeline.plan as plan
        from monitor.classify import Classification, classify

        fixed = classify("细胞治疗产品药品注册技术指导原则")

        def classify_record(record: Any, text: str | None = None) -> Classification:
            return fixed

        plan.classify_record = classify_record
    if parts & {"digest", "all"}:
        import monitor.pipeline.check

        check: Any = monitor.pipeline.check  # its name for plan.listing_hash
        check.listing_hash = lambda listing, canonical, ignore: "0" * 64
    if parts & {"search", "all"}:
        from monitor.store.db import Store

        opened = Store.session

        @contextlib.contextmanager
        def session(self: Store, *args: Any, **kwargs: Any) -> Iterator[Any]:
            with opened(self, *args, **kwargs) as s:
                s.info.pop("search_index", None)
                yield s

        Store.session = session  # type: ignore[method-assign]


def as_regwatch(parts: str, argv: list[str]) -> None:
    stub(set(parts.split(",")) - {"as shipped"})
    from monitor.cli.main import app

    sys.argv = ["regwatch", *argv]
    app()


def cold(tool: Regwatch | Urlwatch, work: Path, variant: str) -> Sample:
    tool.prepare(work)
    if isinstance(tool, Urlwatch):
        return tool.check(work)
    command = [sys.executable, __file__, "--as-regwatch", variant, "--"]
    command += ["check", "--config", "regwatch.toml", "--no-deliver", "--json"]
    return run(command, work, {"REGWATCH_CACHE_DIR": str(work / "cache")})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sources", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--urlwatch-venv", type=Path, default=Path("/tmp/regwatch-bench-urlwatch"))
    parser.add_argument("--as-regwatch", help=argparse.SUPPRESS)
    args, rest = parser.parse_known_args()
    if args.as_regwatch is not None:
        as_regwatch(args.as_regwatch, [a for a in rest if a != "--"])
        return
    Urlwatch.install(args.urlwatch_venv)
    compile_regwatch()
    site = Site(args.sources)
    server = serve(site)
    base = f"http://127.0.0.1:{server.server_address[1]}"
    urlwatch = Urlwatch(base, args.sources, args.urlwatch_venv)
    regwatch = Regwatch(base, args.sources)
    print(
        f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {os.cpu_count()} cores, "
        f"load {' '.join(f'{x:.1f}' for x in os.getloadavg())}",
        flush=True,
    )
    cpu: dict[str, list[float]] = {}
    for number in range(args.rounds):
        runs: list[tuple[Regwatch | Urlwatch, str]] = [(urlwatch, "urlwatch")]
        runs += [(regwatch, variant) for variant in VARIANTS]
        for tool, variant in runs if number % 2 == 0 else runs[::-1]:
            with tempfile.TemporaryDirectory(prefix="bench-ablation-") as work:
                cpu.setdefault(variant, []).append(cold(tool, Path(work), variant).cpu)
        print(f"  round {number + 1}/{args.rounds} done", flush=True)
    theirs = statistics.median(cpu["urlwatch"])
    print(f"\nN = {args.sources} pages, cold (first) run, CPU, medians of {args.rounds} rounds")
    print("| run | CPU | ratio to urlwatch |\n|---|---|---|")
    print(f"| urlwatch 2.29 | {theirs:.2f} s | |")
    for variant in VARIANTS:
        ours = statistics.median(cpu[variant])
        label = "regwatch" if variant == "as shipped" else f"regwatch, {variant} free"
        print(f"| {label} | {ours:.2f} s | ×{ours / theirs:.2f} |")
    print(f"load at the end {' '.join(f'{x:.1f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
