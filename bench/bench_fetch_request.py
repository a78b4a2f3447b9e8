"""CPU per HTTP request of the fetch layer, in-process, against a local server.

Each request is what one check of the 1,000-page bench does to fetch its list
page: a new ``HttpFetcher`` on the pipeline's ``SharedClient`` and ``HostGate``
(``[http] delay = 0``, ``retries = 0``, robots.txt on; the source's policy from
``NetworkPolicy.for_source``), wrapped in a ``RecordingFetcher`` with the
source's salt, one conditional GET of a bench list page (~4 KB, 20 items),
then ``close()``. The server (``bench_peers.serve``) runs in a child process,
so the CPU counted (``time.process_time``) is the client's alone: the fetch
layer, httpx and httpcore. Prints the median of ``--rounds`` rounds of
``--requests`` requests, in microseconds of CPU per request.

    .venv/bin/python bench/bench_fetch_request.py [--requests 2000] [--rounds 5]
"""

from __future__ import annotations

import argparse
import multiprocessing
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from monitor.pipeline.recording import RecordingFetcher  # noqa: E402
from sources.fetch.http import HostGate, HttpFetcher, HttpSettings, SharedClient  # noqa: E402
from sources.fetch.netpolicy import NetworkPolicy  # noqa: E402

PAGES = 100


def _serve(port_queue: multiprocessing.Queue[int]) -> None:
    import bench_peers

    server = bench_peers.serve(bench_peers.Site(PAGES))
    port_queue.put(server.server_address[1])
    while True:
        time.sleep(3600)


def _round(base: str, requests: int, shared: SharedClient, gate: HostGate) -> float:
    settings = shared.settings
    resolved: dict[str, bool] = {}
    salt = '{"kind": "html-list", "name": "bench"}'
    started = time.process_time()
    for n in range(requests):
        url = f"{base}/col{n % PAGES}/index.html"
        policy = NetworkPolicy.for_source(url, resolved=resolved)
        inner = HttpFetcher(settings, validators={}, politeness=gate, policy=policy, shared=shared)
        fetcher = RecordingFetcher(inner, salt=salt)
        fetched = fetcher.get(url, conditional=True)
        assert fetched.status == 200 and fetched.text
        fetcher.close()
    return (time.process_time() - started) / requests * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    queue: multiprocessing.Queue[int] = multiprocessing.Queue()
    server = multiprocessing.Process(target=_serve, args=(queue,), daemon=True)
    server.start()
    try:
        base = f"http://127.0.0.1:{queue.get(timeout=30)}"
        settings = HttpSettings(delay=0, retries=0)
        shared = SharedClient(settings)
        gate = HostGate(settings)
        _round(base, 50, shared, gate)  # warm up: robots.txt, the connection, imports
        results = [_round(base, args.requests, shared, gate) for _ in range(args.rounds)]
        shared.close()
    finally:
        server.terminate()
    print(
        f"CPU per request: median {statistics.median(results):.0f} µs, "
        f"best {min(results):.0f} µs "
        f"(rounds: {', '.join(f'{r:.0f}' for r in results)})"
    )


if __name__ == "__main__":
    main()
