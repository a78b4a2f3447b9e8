"""regwatch against urlwatch 2.29 on the same N local list pages, side by side.

Serves N NMPA-style column pages (20 items each) on 127.0.0.1, then for each
round, interleaved (the order of the two tools alternates round by round):

- **cold**: a fresh store, first run (regwatch: the silent baseline);
- **warm**: the same pages again, nothing changed;
- **changed**: 5 % of the pages gain one new item at the top (the oldest
  drops off the page), run again. regwatch's reported change count is
  checked against that truth (one added document per changed page).

For each tool and phase it records the wall time, the CPU time (user +
system, of the tool's process) and the peak RSS, read with ``wait4``; and the
size of the store after the 3 runs (regwatch's SQLite file, urlwatch's
``cache.db``). It prints medians over the rounds and regwatch / urlwatch
ratios from the same rounds. Both tools run with no politeness delay
(regwatch ``[http] delay = 0``; urlwatch has none). urlwatch watches each
page with a ``css`` filter on the list items, the way one would watch a list.
regwatch's configuration has one ``[[notify]]`` route, as a real one does
(``--no-deliver``: nothing is sent); its cache of accepted notify URLs is the
work folder's own, so a cold run is a first run ever.

urlwatch is installed from PyPI into its own venv (``--urlwatch-venv``,
default ``/tmp/regwatch-bench-urlwatch``) on first use.

    .venv/bin/python bench/bench_peers.py --sources 100 1000 --rounds 5
    .venv/bin/python bench/bench_peers.py --sources 10000 --rounds 1 --regwatch-only
"""

from __future__ import annotations

import argparse
import compileall
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
URLWATCH_VERSION = "2.29"
ITEMS = 20
CHANGED_SHARE = 0.05
PHASES = ("cold", "warm", "changed")
TITLE = "国家药监局关于发布{}第{}号药品注册技术指导原则的通告"
TOPICS = ("细胞治疗产品", "基因治疗产品", "化学药品", "生物制品", "中药", "医疗器械")


# -- the site ------------------------------------------------------------------


class Site:
    """N list pages; ``bump(pages)`` puts one new item on top of each of ``pages``."""

    def __init__(self, count: int) -> None:
        self.count = count
        self.lock = threading.Lock()
        self.tops = [0] * count
        self.bodies = [self._render(i) for i in range(count)]

    def reset(self) -> None:
        with self.lock:
            self.tops = [0] * self.count
            self.bodies = [self._render(i) for i in range(self.count)]

    def bump(self, pages: list[int]) -> None:
        with self.lock:
            for i in pages:
                self.tops[i] += 1
                self.bodies[i] = self._render(i)

    def _render(self, page: int) -> bytes:
        top = self.tops[page] if hasattr(self, "tops") else 0
        lis = []
        for n in range(top + ITEMS - 1, top - 1, -1):
            number = page * 1000 + n
            day = 1 + number % 28
            lis.append(
                f'<li><a href="../../xxgk/ggtg/{page}/2026{number:08d}.html" target="_blank">'
                f"{TITLE.format(TOPICS[number % len(TOPICS)], number)}</a>"
                f"<span>(2026-{1 + number % 12:02d}-{day:02d})</span></li>\n"
            )
        return (
            '<!DOCTYPE html><html><head><meta charset="utf-8"><title>公告通告</title>'
            '<link rel="stylesheet" href="/css/common.css"></head><body>'
            "<div class='header'><div class='nav'><a href='/'>首页</a> &gt; "
            "<a href='/xxgk/'>信息公开</a> &gt; 公告通告</div></div>"
            f"<div class='main'><div class='list'><ul>\n{''.join(lis)}</ul></div>"
            "<div class='page'><a href='index_1.html'>下一页</a></div></div>"
            "<div class='footer'>主办单位：国家药品监督管理局 版权所有</div></body></html>"
        ).encode()

    def page(self, path: str) -> bytes | None:
        parts = path.strip("/").split("/")
        if len(parts) == 2 and parts[0].startswith("col") and parts[1] == "index.html":
            number = parts[0][3:]
            if number.isdigit() and int(number) < self.count:
                with self.lock:
                    return self.bodies[int(number)]
        return None


def serve(site: Site) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # Headers and body go out in two writes; with Nagle on, a client that
        # reuses its connection waits ~40 ms for the delayed ACK each time. Real
        # web servers (nginx's tcp_nodelay, the replica server) send at once.
        disable_nagle_algorithm = True

        def do_GET(self) -> None:
            body = site.page(self.path)
            status = 200 if body is not None else 404
            body = body if body is not None else b"not found"
            self.send_response(status)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


# -- the tools -----------------------------------------------------------------


@dataclass
class Sample:
    wall: float
    cpu: float
    rss_mb: float
    output: str = ""


def run(command: list[str], cwd: Path, env: dict[str, str] | None = None) -> Sample:
    """Run ``command``; its wall time, CPU (user + system) and peak RSS via wait4."""
    started = time.perf_counter()
    with open(cwd / "out.txt", "w+b") as out:
        proc = subprocess.Popen(
            command,
            cwd=cwd,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env={**os.environ, **(env or {})},
        )
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        wall = time.perf_counter() - started
        out.seek(0)
        output = out.read().decode("utf-8", "replace")
    if proc.returncode not in (0,):
        raise SystemExit(f"{command[0]} exited {proc.returncode}:\n{output[-3000:]}")
    return Sample(
        wall=wall, cpu=usage.ru_utime + usage.ru_stime, rss_mb=usage.ru_maxrss / 1024, output=output
    )


class Regwatch:
    name = "regwatch"

    def __init__(self, base: str, count: int) -> None:
        self.base, self.count = base, count
        self.binary = str(Path(sys.executable).with_name("regwatch"))

    def prepare(self, work: Path) -> None:
        lines = [
            f'[store]\nurl = "sqlite:///{work}/regwatch.db"\n',
            "[http]\ndelay = 0\nretries = 0\n",
            # a route, as every real configuration has (nothing is sent: --no-deliver)
            '[[notify]]\nname = "team"\nurls = ["json://127.0.0.1:9/regwatch-bench"]\n',
        ]
        for i in range(self.count):
            lines.append(
                f'[[source]]\nname = "col{i}"\nkind = "html-list"\n'
                f'url = "{self.base}/col{i}/index.html"\n'
                'item = ".list ul li"\ndate = "span"\n'
            )
        (work / "regwatch.toml").write_text("".join(lines), encoding="utf-8")

    def check(self, work: Path) -> Sample:
        # the work folder's own cache of accepted notify URLs: a cold run is a first
        # run ever (apprise asked), the later ones find the route's URL there
        return run(
            [self.binary, "check", "--config", "regwatch.toml", "--no-deliver", "--json"],
            work,
            {"REGWATCH_CACHE_DIR": str(work / "cache")},
        )

    def store_bytes(self, work: Path) -> int:
        return sum(p.stat().st_size for p in work.glob("regwatch.db*"))

    @staticmethod
    def changes(sample: Sample) -> tuple[int, dict[str, int]]:
        outcomes: dict[str, int] = {}
        total = 0
        for line in sample.output.splitlines():
            if line.startswith("{"):
                result = json.loads(line)
                outcomes[result["outcome"]] = outcomes.get(result["outcome"], 0) + 1
                total += result["changes"]
        return total, outcomes


class Urlwatch:
    name = "urlwatch"

    def __init__(self, base: str, count: int, venv: Path) -> None:
        self.base, self.count, self.venv = base, count, venv
        self.binary = str(venv / "bin" / "urlwatch")

    @staticmethod
    def install(venv: Path) -> None:
        binary = venv / "bin" / "urlwatch"
        if binary.exists():
            return
        print(f"installing urlwatch {URLWATCH_VERSION} into {venv} …", flush=True)
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run(
            [str(venv / "bin" / "pip"), "install", "-q", f"urlwatch=={URLWATCH_VERSION}"],
            check=True,
        )

    def prepare(self, work: Path) -> None:
        jobs = [
            f"name: col{i}\nurl: {self.base}/col{i}/index.html\nfilter:\n  - css: .list ul li\n"
            for i in range(self.count)
        ]
        (work / "urls.yaml").write_text("---\n".join(jobs), encoding="utf-8")
        (work / "urlwatch.yaml").write_text(
            "display:\n  new: true\n  error: true\n  unchanged: false\n  empty-diff: false\n"
            "report:\n  text:\n    details: true\n    footer: false\n    minimal: false\n"
            "  stdout:\n    enabled: true\n    color: false\n"
            "  email:\n    enabled: false\n",
            encoding="utf-8",
        )

    def check(self, work: Path) -> Sample:
        return run(
            [
                self.binary,
                "--urls",
                "urls.yaml",
                "--config",
                "urlwatch.yaml",
                "--hooks",
                "hooks.py",
                "--cache",
                "cache.db",
            ],
            work,
        )

    def store_bytes(self, work: Path) -> int:
        return sum(p.stat().st_size for p in work.glob("cache.db*"))


# -- the rounds ----------------------------------------------------------------


@dataclass
class Results:
    samples: dict[tuple[str, str], list[Sample]] = field(default_factory=dict)
    stores: dict[str, list[int]] = field(default_factory=dict)
    # regwatch's store after the cold run, per document; bytes the warm run added, per source
    per_document: list[float] = field(default_factory=list)
    per_unchanged_run: list[float] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def add(self, tool: str, phase: str, sample: Sample) -> None:
        self.samples.setdefault((tool, phase), []).append(sample)


def bench(count: int, rounds: int, venv: Path | None, keep: bool) -> Results:
    site = Site(count)
    server = serve(site)
    base = f"http://127.0.0.1:{server.server_address[1]}"
    tools: list[Regwatch | Urlwatch] = [Regwatch(base, count)]
    if venv is not None:
        tools.append(Urlwatch(base, count, venv))
    changed_pages = sorted(range(0, count, max(1, round(1 / CHANGED_SHARE))))
    results = Results()
    try:
        for number in range(rounds):
            order = tools if number % 2 == 0 else tools[::-1]
            site.reset()
            works = {t.name: Path(tempfile.mkdtemp(prefix=f"bench-{t.name}-")) for t in order}
            for tool in order:
                tool.prepare(works[tool.name])
                sizes = []
                for phase in ("cold", "warm"):
                    results.add(tool.name, phase, tool.check(works[tool.name]))
                    sizes.append(tool.store_bytes(works[tool.name]))
                if isinstance(tool, Regwatch):
                    results.per_document.append(sizes[0] / (count * ITEMS))
                    results.per_unchanged_run.append((sizes[1] - sizes[0]) / count)
            site.bump(changed_pages)
            for tool in order:
                sample = tool.check(works[tool.name])
                results.add(tool.name, "changed", sample)
                results.stores.setdefault(tool.name, []).append(tool.store_bytes(works[tool.name]))
                if isinstance(tool, Regwatch):
                    _verify(results, tool, sample, len(changed_pages), count)
                    warm = results.samples[(tool.name, "warm")][-1]
                    _verify(results, tool, warm, 0, count)
            for work in works.values():
                if keep:
                    print(f"kept {work}")
                else:
                    shutil.rmtree(work, ignore_errors=True)
            print(
                f"  N = {count}: round {number + 1}/{rounds} done (load {os.getloadavg()[0]:.1f})",
                flush=True,
            )
    finally:
        server.shutdown()
    return results


def _verify(results: Results, tool: Regwatch, sample: Sample, truth: int, count: int) -> None:
    changes, outcomes = tool.changes(sample)
    if (
        changes != truth
        or sum(outcomes.values()) != count
        or set(outcomes) - {"changed", "unchanged"}
    ):
        results.problems.append(
            f"regwatch reported {changes} changes (truth {truth}), outcomes {outcomes}"
        )


def report(count: int, results: Results, rounds: int) -> None:
    def med(tool: str, phase: str, attr: str) -> float:
        return float(statistics.median(getattr(s, attr) for s in results.samples[(tool, phase)]))

    have_peer = ("urlwatch", "cold") in results.samples
    print(f"\nN = {count} pages of {ITEMS} items, medians of {rounds} interleaved rounds")
    header = "| phase | metric | regwatch |"
    if have_peer:
        header += " urlwatch 2.29 | ratio |"
    print(header)
    print("|" + "---|" * (header.count("|") - 1))
    for phase in PHASES:
        for attr, unit, scale in (("wall", "s", 1.0), ("cpu", "s", 1.0), ("rss_mb", "MB", 1.0)):
            ours = med("regwatch", phase, attr) * scale
            row = f"| {phase} | {attr.split('_')[0]} | {ours:.2f} {unit} |"
            if have_peer:
                theirs = med("urlwatch", phase, attr) * scale
                row += f" {theirs:.2f} {unit} | ×{ours / theirs:.2f} |"
            print(row)
        if phase != "changed":
            per = med("regwatch", phase, "cpu") / count * 1000
            row = f"| {phase} | CPU per source | {per:.2f} ms |"
            if have_peer:
                row += f" {med('urlwatch', phase, 'cpu') / count * 1000:.2f} ms | |"
            print(row)
    ours = statistics.median(results.stores["regwatch"])
    row = f"| after 3 runs | store | {ours / 1e6:.2f} MB |"
    if have_peer:
        theirs = statistics.median(results.stores["urlwatch"])
        row += f" {theirs / 1e6:.2f} MB | ×{ours / theirs:.2f} |"
    print(row)
    print(
        f"regwatch's store: {statistics.median(results.per_document):.0f} bytes per document "
        f"after the cold run; the warm run added "
        f"{statistics.median(results.per_unchanged_run):.0f} bytes per source"
    )
    truth = len(range(0, count, max(1, round(1 / CHANGED_SHARE))))
    print(
        f"changes found by regwatch in the 5 % run: truth {truth}, "
        + ("all rounds correct" if not results.problems else "; ".join(results.problems))
    )


def compile_regwatch() -> None:
    """Byte-compile regwatch's packages once, as ``pip install`` does for urlwatch's.

    A development checkout run with ``PYTHONDONTWRITEBYTECODE=1`` (as here) would
    otherwise compile its ~200 modules from source in every measured run (~0.4 s
    of CPU a run), a cost no installed copy pays."""
    for package in ("monitor", "sources", "diffing", "notifiers"):
        compileall.compile_dir(str(ROOT / package), quiet=1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sources", type=int, nargs="+", default=[100, 1000])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--regwatch-only", action="store_true")
    parser.add_argument("--urlwatch-venv", type=Path, default=Path("/tmp/regwatch-bench-urlwatch"))
    parser.add_argument("--keep", action="store_true", help="keep the work folders")
    args = parser.parse_args()
    venv = None if args.regwatch_only else args.urlwatch_venv
    if venv is not None:
        Urlwatch.install(venv)
    compile_regwatch()
    print(
        f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {os.cpu_count()} cores, "
        f"load {' '.join(f'{x:.1f}' for x in os.getloadavg())}",
        flush=True,
    )
    for count in args.sources:
        results = bench(count, args.rounds, venv, args.keep)
        report(count, results, args.rounds)
    print(f"load at the end {' '.join(f'{x:.1f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
