"""Hostile-site figures: time, memory and alerts, for the issue-10 note.

Runs each attack against a code tree (``--root``: this worktree by default,
or an export of an older commit to get the "before" column) in
subprocesses, and prints one line per attack::

    python bench/hostile.py                 # this tree
    python bench/hostile.py --root /tmp/base --legacy

``--legacy`` leaves out configuration keys the old tree does not know.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from tempfile import TemporaryDirectory

HERE = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(HERE))

from monitor.replica.server import ReplicaServer  # noqa: E402
from tests.helpers.hostile import TrickleServer  # noqa: E402
from tests.sites import Item, ListSite  # noqa: E402

REGWATCH = str(Path(sys.executable).with_name("regwatch"))

EXTRACT = r"""
import io, json, resource, sys, time, zipfile
sys.path.insert(0, sys.argv[1])
sys.path.insert(1, sys.argv[2])
from tests.helpers.docx_files import many_paragraphs, rebuilt, head, TAIL
from sources.text.documents import extract_text
kind = sys.argv[3]
if kind == "bomb":
    chunk = b"<w:p><w:r><w:t>a</w:t></w:r></w:p>" * 30_000
    body = rebuilt([head(), *([chunk] * 60), TAIL])
else:
    body = many_paragraphs(150_000)
start = time.monotonic()
try:
    text = extract_text(body, filename="x.docx")
    outcome = f"read, {len(text):,} chars"
except Exception as exc:
    outcome = f"{type(exc).__name__}: {str(exc)[:90]}"
rss = max(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
          resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss) // 1024
print(json.dumps({"file": f"{len(body):,} bytes", "seconds": round(time.monotonic() - start, 1),
                  "peak_mb": rss, "outcome": outcome}))
"""


def env_for(root: Path) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(root)}


def trickle(root: Path, legacy: bool, limit: float) -> dict[str, object]:
    fast_site = ListSite(items=[Item("1", "细胞治疗产品指导原则", "2026-06-01")])
    with (
        TrickleServer(interval=1.0) as slow,
        ReplicaServer(fast_site) as fast,
        TemporaryDirectory() as tmp,
    ):
        extra = "" if legacy else "deadline = 10\ncheck_deadline = 20\n"
        config = Path(tmp) / "regwatch.toml"
        config.write_text(
            f"""
[store]
url = "sqlite:///{tmp}/regwatch.db"
[http]
timeout = 5
delay = 0
retries = 0
{extra}
[[source]]
name = "slow"
kind = "html-list"
url = "{slow.url}/list/index.html"
item = "li"
title = "a"
[[source]]
name = "fast"
kind = "html-list"
url = "{fast.url}/list/index.html"
item = ".list ul li"
title = "a"
link = "a@href"
date = "span"
""",
            encoding="utf-8",
        )
        start = time.monotonic()
        try:
            done = subprocess.run(
                [REGWATCH, "check", "-c", str(config)],
                capture_output=True,
                text=True,
                timeout=limit,
                env=env_for(root),
                check=False,
            )
            outcome = done.stdout.strip().replace("\n", " | ")[:300]
        except subprocess.TimeoutExpired:
            outcome = f"still running after {limit:.0f} s (killed)"
        return {
            "seconds": round(time.monotonic() - start, 1),
            "outcome": outcome,
            "second source requests": fast_site.hits,
        }


def extraction(root: Path, kind: str, limit: float) -> dict[str, object]:
    try:
        done = subprocess.run(
            [sys.executable, "-c", EXTRACT, str(root), str(HERE), kind],
            capture_output=True,
            text=True,
            timeout=limit,
            env=env_for(root),
            check=False,
        )
    except subprocess.TimeoutExpired:
        return {"outcome": f"still running after {limit:.0f} s (killed)"}
    lines = done.stdout.strip().splitlines()
    return json.loads(lines[-1]) if lines else {"outcome": done.stderr[-300:]}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--root", type=Path, default=HERE)
    parser.add_argument("--legacy", action="store_true")
    parser.add_argument("--limit", type=float, default=120)
    args = parser.parse_args()
    print(
        "trickle 1 byte/s:",
        json.dumps(trickle(args.root, args.legacy, args.limit), ensure_ascii=False),
    )
    for kind in ("bomb", "paragraphs"):
        print(
            f"docx {kind}:", json.dumps(extraction(args.root, kind, args.limit), ensure_ascii=False)
        )


if __name__ == "__main__":
    main()
