"""Seconds and memory of one browser check, headed (Xvfb) vs headless.

    .venv/bin/python bench/bench_browser_check.py [RUNS]

Each run is a full pipeline check of the CDE replica (国内指导原则 + 征求意见,
page-driven through the list pages' own XHR and pager, no detail pages) and
of the NMPA replica (征求意见, 3 pages by the pager), behind the challenge
replica, through ``fetch = "browser"``, with a fresh database and a fresh
profile (so every run meets the challenge). Memory is the peak summed RSS of
every process this script started (Playwright's driver, Chromium's process
tree and, headed, Xvfb), sampled every 20 ms from /proc. Headed runs use the
strict replica; headless runs use the lenient one, since the strict one
refuses a headless browser by design.
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from monitor.config import loads  # noqa: E402
from monitor.pipeline.check import Pipeline  # noqa: E402
from monitor.replica.cde import CdeReplica  # noqa: E402
from monitor.replica.challenge import JsCookieChallenge  # noqa: E402
from monitor.replica.nmpa import NmpaReplica  # noqa: E402
from monitor.replica.server import ReplicaServer, Router  # noqa: E402
from monitor.store import Store  # noqa: E402

PAGE = os.sysconf("SC_PAGE_SIZE")


def descendants(root: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as handle:
                parent = int(handle.read().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(parent, []).append(int(entry))
    found, todo = [], [root]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def tree_memory() -> tuple[int, int]:
    """(summed RSS, summed PSS) in bytes; PSS shares pages out fairly, RSS counts them again."""
    rss = pss = 0
    for pid in descendants(os.getpid()):
        try:
            with open(f"/proc/{pid}/statm") as handle:
                rss += int(handle.read().split()[1]) * PAGE
            with open(f"/proc/{pid}/smaps_rollup") as handle:
                for line in handle:
                    if line.startswith("Pss:"):
                        pss += int(line.split()[1]) * 1024
                        break
        except (OSError, IndexError, ValueError):
            continue
    return rss, pss


def config(tmp: Path, base: str, headless: bool) -> str:
    return f"""
[store]
url = "sqlite:///{tmp / "b.db"}"
[http]
delay = 0
retries = 0
[browser]
headless = {str(headless).lower()}
profile_dir = "{tmp / "profiles"}"
[[source]]
name = "cde"
kind = "cde"
base_url = "{base}/cde"
fetch = "browser"
lists = ["domestic", "opinions"]
details = false
attachments = false
[[source]]
name = "nmpa"
kind = "nmpa"
base_url = "{base}/nmpa"
fetch = "browser"
columns = ["zhqyj"]
max_pages = 3
details = false
attachments = false
"""


def one_run(headless: bool) -> tuple[float, tuple[int, int], list[str]]:
    strict = not headless
    app = Router(
        {
            "/cde": JsCookieChallenge(CdeReplica(), "ruishu-202", strict=strict),
            "/nmpa": JsCookieChallenge(NmpaReplica(), "ruishu-412", strict=strict),
        }
    )
    peak = [0, 0]
    stop = threading.Event()

    def sample() -> None:
        while not stop.is_set():
            rss, pss = tree_memory()
            peak[0], peak[1] = max(peak[0], rss), max(peak[1], pss)
            stop.wait(0.02)

    with ReplicaServer(app) as server, tempfile.TemporaryDirectory() as scratch:
        tmp = Path(scratch)
        settings = loads(config(tmp, server.url, headless))
        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        started = time.monotonic()
        results = Pipeline(settings, Store(settings.store.url)).check_all()
        seconds = time.monotonic() - started
        stop.set()
        sampler.join()
    return seconds, (peak[0], peak[1]), [f"{r.source}={r.outcome}/{r.records}" for r in results]


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 3
    os.environ.pop("DISPLAY", None)  # headed runs start their own Xvfb
    for headless in (False, True):
        label = "headless" if headless else "headed (Xvfb)"
        seconds, rss, pss = [], [], []
        for _ in range(runs):
            took, (peak_rss, peak_pss), outcomes = one_run(headless)
            seconds.append(took)
            rss.append(peak_rss)
            pss.append(peak_pss)
        print(
            f"{label:>14}: {statistics.median(seconds):.2f} s median for both checks "
            f"(min {min(seconds):.2f}, max {max(seconds):.2f}); peak of the process tree: "
            f"RSS {statistics.median(rss) / 2**20:.0f} MB, PSS "
            f"{statistics.median(pss) / 2**20:.0f} MB (medians); {', '.join(outcomes)}"
        )


if __name__ == "__main__":
    main()
