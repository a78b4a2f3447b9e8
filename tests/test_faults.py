"""The fault suite: the service against the replica sites while faults are injected.

Each source's site follows a script, one step per check: real changes
(new documents, drafts, retitles, revised attachments, withdrawals,
removals) and faults (timeouts, connection resets, 5xx storms, 429 with
Retry-After, bot challenges, truncated and oversized bodies, wrong
encodings, malformed HTML/JSON, layout changes that empty a list). The
service's scheduler drives the checks; a listener moves a site to its next
step when a check of it finishes (a source's checks never overlap, so each
check sees exactly one step).

What must hold, per source:

- every check's outcome is what the fault calls for (healthy, failed, blocked);
- the document alerts received equal those of a *control* run of the same
  script without faults (and, for the hand-scripted list site, the script's
  own list of changes): no false "removed", no duplicates, nothing missed
  once the site recovers;
- health alerts are exactly "failing"/"blocked" after ``alert_after`` bad
  checks in a row and one "recovered" after.

The default run covers every fault on every site in a few minutes of
cycles; ``pytest -m slow`` runs the long campaign whose figures the README
quotes (``REGWATCH_FAULT_CYCLES`` sets its length).
"""

from __future__ import annotations

import json
import os
import random
import sqlite3
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from monitor.pipeline import CheckResult
from monitor.replica.base import SiteReplica
from monitor.replica.server import ReplicaServer, Request, Response
from tests.receivers import Posted, WebhookReceiver
from tests.sites import CHALLENGE, Item, ListSite

TIMEOUT = 0.6          # [http] timeout in the test configs
MAX_BYTES = 6_000_000  # [http] max_bytes
ALERT_AFTER = 2
HEALTHY = ("baseline", "changed", "unchanged")

# -- the alert sink ------------------------------------------------------------

TITLE_TEMPLATE = "{{ kind }}|{{ source }}|{{ title }}"


def write_templates(directory: Path) -> str:
    """Templates that make a received alert easy to read back: kind|source|title, body = id."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "alert_title.txt.j2").write_text(TITLE_TEMPLATE, encoding="utf-8")
    for ext in ("txt", "md", "html"):
        (directory / f"alert.{ext}.j2").write_text("{{ id }}", encoding="utf-8")
    return str(directory)


@dataclass(frozen=True)
class Received:
    kind: str
    source: str
    title: str
    id: str


class Sink(WebhookReceiver):
    """A webhook that remembers what it answered, so failed posts are not counted."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.statuses: list[int] = []

    def _app(self, request: Request) -> Response:
        response = super()._app(request)
        with self.lock:
            self.statuses.append(response.status)
        return response

    def delivered(self, path: str | None = None) -> list[Received]:
        with self.lock:
            pairs = list(zip(self.posts, self.statuses, strict=False))
        out = []
        for post, status in pairs:
            if status != 200 or (path and post.path != path):
                continue
            out.append(_parse(post))
        return out


def _parse(post: Posted) -> Received:
    data = post.json or {}
    kind, source, title = ([*str(data.get("title", "")).split("|", 2), "", ""])[:3]
    return Received(kind=kind, source=source, title=title, id=str(data.get("message", "")).strip())


# -- fault injection -----------------------------------------------------------

TRANSPORT = ("timeout", "reset", "5xx", "429", "truncate")
FAULTS = (*TRANSPORT, "challenge", "oversize", "encoding", "malformed", "empty")


@dataclass(frozen=True)
class Fault:
    """``kind`` on the first ``requests`` requests of a check (None: on all of them)."""

    kind: str
    requests: int | None = None

    @property
    def label(self) -> str:
        return self.kind if self.requests is None else f"{self.kind} (transient)"


class FaultySite:
    """Wraps a site's App and injects the current step's fault into its answers."""

    def __init__(self, site: Any) -> None:
        self.site = site
        self.fault: Fault | None = None
        self.hits = 0
        self.injected: Counter[str] = Counter()
        self.flips = 0
        self.lock = threading.Lock()

    def set(self, fault: Fault | None) -> None:
        with self.lock:
            self.fault, self.hits = fault, 0
            self.site.mode = "empty" if fault and fault.kind == "empty" else "ok"

    def __call__(self, request: Request) -> Response:
        with self.lock:
            fault = self.fault
            active = fault is not None and fault.kind != "empty" and (
                fault.requests is None or self.hits < fault.requests)
            self.hits += 1
            if fault is not None and (active or fault.kind == "empty"):
                self.injected[fault.kind] += 1
        if not active or fault is None:
            answer: Response = self.site(request)
            return answer
        return self._inject(fault.kind, request)

    def _inject(self, kind: str, request: Request) -> Response:
        if kind == "timeout":
            return Response(body="<html>late</html>", delay=TIMEOUT * 1.6)
        if kind == "reset":
            return Response(fault="reset")
        if kind == "5xx":
            return Response(status=random.choice([500, 502, 503, 504]),
                            body="<html><body>Service Unavailable</body></html>")
        if kind == "429":
            return Response(status=429, headers={"Retry-After": "1"},
                            body="<html><body>Too Many Requests</body></html>")
        if kind == "challenge":
            if isinstance(self.site, SiteReplica):
                return self.site.blocked_response(request)
            return Response(status=202, body=CHALLENGE,
                            headers={"Set-Cookie": "FSSBBIl1UgzbN7N80S=abc; path=/"})
        inner: Response = self.site(request)
        if kind == "truncate":
            inner.fault = "truncate"
            return inner
        body = inner.payload()
        is_json = "json" in inner.content_type
        if kind == "oversize":
            pad = b" " * (MAX_BYTES + 1000) if is_json else b"<!--" + b"x" * (MAX_BYTES + 1000) + b"-->"
            return Response(status=inner.status, headers=inner.headers,
                            content_type=inner.content_type,
                            body=body + pad if is_json else body.replace(b"</body>", pad + b"</body>"))
        if kind == "encoding":
            self.flips += 1
            return _wrong_encoding(inner, body, is_json, flip=self.flips % 2 == 0)
        if kind == "malformed":
            return _malformed(inner, body, is_json)
        raise AssertionError(kind)


def _wrong_encoding(inner: Response, body: bytes, is_json: bool, flip: bool) -> Response:
    """Same content, lying labels. JSON: UTF-8 bytes labelled ``charset=gbk``. HTML:
    re-encoded to GB18030 but labelled UTF-8 (header and meta), or (``flip``) UTF-8
    bytes labelled GBK in the header."""
    base = inner.content_type.split(";")[0]
    if is_json or not inner.content_type.startswith("text/html"):
        return Response(status=inner.status, body=body, headers=inner.headers,
                        content_type=base + "; charset=gbk")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return inner   # already not UTF-8 (a GBK column): serve as it is
    if flip:
        return Response(status=inner.status, body=body, headers=inner.headers,
                        content_type="text/html; charset=gbk")
    return Response(status=inner.status, body=text.encode("gb18030"), headers=inner.headers,
                    content_type="text/html; charset=utf-8")


def _malformed(inner: Response, body: bytes, is_json: bool) -> Response:
    """HTML with closing tags lost (browsers cope); JSON cut short (nobody can)."""
    if is_json:
        cut = body[: max(1, len(body) * 2 // 3)]
        return Response(status=inner.status, body=cut, headers=inner.headers,
                        content_type=inner.content_type)
    if inner.content_type.startswith("text/html"):
        broken = body.replace(b"</li>", b"", 5).replace(b"</ul>", b"").replace(b"</div>", b"", 2)
        return Response(status=inner.status, body=broken, headers=inner.headers,
                        content_type=inner.content_type)
    return inner


# -- sites and their scripts -----------------------------------------------------------

Action = Callable[[Any, dict[str, Any]], None]


@dataclass
class Site:
    """One source under test: a replica factory, its [[source]] table and its script."""

    name: str
    make: Callable[[], Any]
    settings: Callable[[Any, str], dict[str, Any]]
    actions: list[Action]
    # outcome of a check under each fault that hits all its requests
    storm: dict[str, str]


def _list_settings(_site: Any, base: str) -> dict[str, Any]:
    return {"name": "list-site", "kind": "html-list", "url": f"{base}/list/index.html",
            "jurisdiction": "CN", "item": ".list ul li", "title": "a", "link": "a@href",
            "date": "span"}


def _list_site() -> ListSite:
    return ListSite(items=[Item(f"2026060{i}0900000{i:02d}", f"国家药监局公告（2026年第{i}号）",
                                f"2026-06-0{i}") for i in range(1, 9)])


def list_actions(count: int) -> list[Action]:
    """Add, add a draft, retitle the add, remove it: each touches a record once. Each
    step notes the alert it should cause in ``ids["log"]`` (the hand oracle)."""
    actions: list[Action] = []
    for n in range(count):
        def act(site: Any, ids: dict[str, Any], n: int = n) -> None:
            log = ids.setdefault("log", [])
            step = n % 4
            if step == 0:
                item = Item(f"20261{n:012d}", f"关于发布细胞治疗产品研究技术指导原则的通告（第{n}批）",
                            "2026-11-01")
                site.items.insert(0, item)
                ids["added"] = item
                log.append(("added", item.title))
            elif step == 1:
                item = Item(f"20262{n:012d}", f"基因治疗产品非临床研究技术指导原则（征求意见稿）第{n}号",
                            "2026-11-02")
                site.items.insert(0, item)
                log.append(("draft", item.title))
            elif step == 2:
                old = ids.pop("added")
                index = next(i for i, it in enumerate(site.items) if it.path == old.path)
                site.items[index] = Item(old.path, old.title + "（修订）", old.date)
                ids["edited"] = site.items[index]
                log.append(("changed", site.items[index].title))
            else:
                victim = ids.pop("edited")
                site.items[:] = [it for it in site.items if it.path != victim.path]
                log.append(("removed", victim.title))
        actions.append(act)
    return actions


def _replica_sites() -> list[Site]:
    from monitor.replica.cde import CdeReplica
    from monitor.replica.ema import EmaReplica
    from monitor.replica.fda import FdaReplica
    from monitor.replica.federal_register import FederalRegisterReplica
    from monitor.replica.nmpa import NmpaReplica

    def cde_actions(count: int) -> list[Action]:
        out: list[Action] = []
        for n in range(count):
            def act(site: Any, ids: dict[str, Any], n: int = n) -> None:
                step = n % 4
                if step == 0:
                    g = site.add_guideline(f"CAR-T细胞治疗产品药学变更研究技术指导原则（第{n}版）",
                                           "20261101")
                    ids[f"g{n}"] = g.id
                elif step == 1:
                    o = site.add_opinion(f"溶瘤病毒类药物临床试验设计指导原则（征求意见稿）第{n}号",
                                         "20261102")
                    ids[f"o{n}"] = o.id
                elif step == 2 and f"g{n - 2}" in ids:
                    site.edit_title(ids[f"g{n - 2}"], f"CAR-T细胞治疗产品药学变更研究技术指导原则（第{n}版，修订）")
                elif step == 3 and f"g{n - 3}" in ids:
                    site.withdraw(ids.pop(f"g{n - 3}"))
            out.append(act)
        return out

    def nmpa_actions(count: int) -> list[Action]:
        out: list[Action] = []
        for n in range(count):
            def act(site: Any, ids: dict[str, Any], n: int = n) -> None:
                step = n % 3
                if step == 0:
                    a = site.add_article("ggtg", f"国家药监局关于发布基因治疗产品说明书撰写指南的通告（第{n}号）",
                                         "2026-11-03")
                    ids[f"a{n}"] = a.path
                elif step == 1 and f"a{n - 1}" in ids:
                    site.edit_title(ids[f"a{n - 1}"], f"国家药监局关于发布基因治疗产品说明书撰写指南（修订）的通告（第{n}号）")
                elif step == 2 and f"a{n - 2}" in ids:
                    site.remove(ids.pop(f"a{n - 2}"))
            out.append(act)
        return out

    def fda_actions(count: int) -> list[Action]:
        out: list[Action] = []
        for n in range(count):
            def act(site: Any, ids: dict[str, Any], n: int = n) -> None:
                step = n % 4
                if step == 0:
                    ids[f"d{n}"] = site.add_guidance(
                        f"Potency Assurance for Cellular and Gene Therapy Products Part {n}; "
                        "Draft Guidance for Industry", cgt_label="Draft Guidance")
                elif step == 1 and f"d{n - 1}" in ids:
                    site.revise(ids[f"d{n - 1}"])
                elif step == 2 and f"d{n - 2}" in ids:
                    site.finalise(ids.pop(f"d{n - 2}"))
                elif step == 3:
                    site.noise()
            out.append(act)
        return out

    def ema_actions(count: int) -> list[Action]:
        out: list[Action] = []
        for n in range(count):
            def act(site: Any, ids: dict[str, Any], n: int = n) -> None:
                step = n % 4
                if step == 0:
                    ids[f"e{n}"] = site.add_document(
                        f"Guideline on quality of gene therapy medicinal products, part {n}")
                elif step == 1 and f"e{n - 1}" in ids:
                    site.close_consultation(ids[f"e{n - 1}"])
                elif step == 2 and f"e{n - 2}" in ids:
                    site.revise(ids.pop(f"e{n - 2}"))
                else:
                    site.refresh()
            out.append(act)
        return out

    def fr_actions(count: int) -> list[Action]:
        out: list[Action] = []
        for n in range(count):
            def act(site: Any, ids: dict[str, Any], n: int = n) -> None:
                if n % 2 == 0:
                    site.announce(f"Human Gene Therapy Products Incorporating Genome Editing, "
                                  f"Volume {n}")
            out.append(act)
        return out

    failed = {k: "failed" for k in (*TRANSPORT, "oversize", "empty")}
    return [
        Site("cde-replica", CdeReplica, lambda s, b: s.source_settings(b), cde_actions(400),
             {**failed, "challenge": "blocked", "encoding": "healthy", "malformed": "failed"}),
        Site("nmpa-replica", lambda: NmpaReplica(gbk=["ggtg"]), lambda s, b: s.source_settings(b),
             nmpa_actions(400),
             {**failed, "challenge": "blocked", "encoding": "healthy", "malformed": "healthy"}),
        Site("fda-guidance", lambda: FdaReplica(size=120), lambda s, b: s.source_settings(b),
             fda_actions(400),
             {**failed, "challenge": "blocked", "encoding": "healthy", "malformed": "failed"}),
        Site("ema-documents", lambda: EmaReplica(size=400), lambda s, b: s.source_settings(b),
             ema_actions(400),
             {**failed, "challenge": "blocked", "encoding": "healthy", "malformed": "failed"}),
        Site("federal-register", lambda: FederalRegisterReplica(size=60),
             lambda s, b: s.source_settings(b), fr_actions(400),
             {**failed, "challenge": "blocked", "encoding": "healthy", "malformed": "failed"}),
    ]


def all_sites() -> list[Site]:
    list_site = Site("list-site", _list_site, _list_settings, list_actions(400),
                     {**{k: "failed" for k in (*TRANSPORT, "oversize", "empty")},
                      "challenge": "blocked", "encoding": "healthy", "malformed": "healthy"})
    return [list_site, *_replica_sites()]


# -- the fault plan ------------------------------------------------------------------------


def plan_faults(rng: random.Random, cycles: int, *, clean_tail: int = 4) -> dict[int, Fault]:
    """Faults for cycles 1..cycles-clean_tail-1: every kind in turn, in runs of 1-3 checks
    (so some reach ``alert_after``), transient variants of the transport faults too,
    a clean check between two runs; cycle 0 (the baseline) and the tail are clean."""
    plan: dict[int, Fault] = {}
    order = list(FAULTS) + [f"{k}~" for k in TRANSPORT]
    rng.shuffle(order)
    turn = 0
    cycle = 1
    while cycle < cycles - clean_tail:
        if rng.random() < 0.35:
            cycle += 1
            continue
        name = order[turn % len(order)]
        turn += 1
        transient = name.endswith("~")
        kind = name.rstrip("~")
        length = 1 if transient else rng.choice([1, 2, 2, 3])
        for _ in range(length):
            if cycle >= cycles - clean_tail:
                break
            plan[cycle] = Fault(kind, 1 if transient else None)
            cycle += 1
        cycle += 1  # one clean check after each run
    return plan


def expected_outcome(site: Site, fault: Fault | None) -> str:
    if fault is None or fault.requests is not None:
        return "healthy"
    return site.storm[fault.kind]


def expected_health(name: str, outcomes: list[str]) -> list[tuple[str, str]]:
    """The health alerts monitor.health sends for this sequence of outcomes."""
    out: list[tuple[str, str]] = []
    failures, alerted = 0, False
    for outcome in outcomes:
        if outcome == "healthy":
            if alerted:
                out.append(("recovered", f"{name} works again"))
            failures, alerted = 0, False
            continue
        failures += 1
        if failures >= ALERT_AFTER and not alerted:
            alerted = True
            out.append(("health", f"{name} is {'blocked' if outcome == 'blocked' else 'failing'}"))
    return out


# -- one source's timeline ------------------------------------------------------------------


@dataclass
class Timeline:
    """Moves one site through its script, one step per check."""

    site: Site
    replica: Any
    faulty: FaultySite
    plan: dict[int, Fault]
    cycles: int
    clean_tail: int = 4
    cycle: int = 0
    steps: int = 0
    ids: dict[str, Any] = field(default_factory=dict)
    outcomes: list[str] = field(default_factory=list)
    mismatches: list[str] = field(default_factory=list)
    done: threading.Event = field(default_factory=threading.Event)

    def begin(self) -> None:
        self.faulty.set(self.plan.get(0))

    def on_result(self, result: CheckResult) -> None:
        if self.done.is_set():
            return
        fault = self.plan.get(self.cycle)
        want = expected_outcome(self.site, fault)
        got = "healthy" if result.outcome in HEALTHY else result.outcome
        self.outcomes.append(got)
        if got != want:
            self.mismatches.append(f"cycle {self.cycle} {fault.label if fault else 'no fault'}: "
                                   f"expected {want}, got {result.outcome} ({result.error})")
        if got == "healthy" and self.steps < len(self.site.actions) \
                and self.cycle < self.cycles - self.clean_tail:
            self.site.actions[self.steps](self.replica, self.ids)
            self.steps += 1
        self.cycle += 1
        if self.cycle >= self.cycles:
            self.faulty.set(None)
            self.done.set()
            return
        self.faulty.set(self.plan.get(self.cycle))


# -- configuration ----------------------------------------------------------------------------


def toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    return json.dumps(str(value), ensure_ascii=False)


def service_config(db_url: str, sources: list[dict[str, Any]], routes: list[dict[str, Any]],
                   *, every: str = "0.2s", listen: str = "127.0.0.1:0", extra: str = "",
                   timeout: float = TIMEOUT, delivery_every: str = "0.5s") -> str:
    """A regwatch.toml for tests; ``extra`` lines go into the [service] table."""
    lines = [
        "[store]", f"url = {toml_value(db_url)}",
        "[http]", 'user_agent = "regwatch-test/0.1 (+mailto:test@example.com)"',
        f"timeout = {timeout}", "delay = 0", "retries = 2", "backoff = 0.05", "max_wait = 5",
        f"max_bytes = {MAX_BYTES}",
        "[health]", f"alert_after = {ALERT_AFTER}",
        "[delivery]", f"every = {toml_value(delivery_every)}", "backoff = 0.2",
        "max_backoff = 1.0",
        "max_attempts = 50",
        "[service]", f"listen = {toml_value(listen)}", "jitter = 0.1",
        extra,
    ]
    for source in sources:
        lines.append("[[source]]")
        lines += [f"{k} = {toml_value(v)}" for k, v in source.items()]
        if "every" not in source and "cron" not in source:
            lines.append(f"every = {toml_value(every)}")
    for route in routes:
        lines.append("[[notify]]")
        for key, value in route.items():
            if key == "match":
                inner = ", ".join(f"{k} = {toml_value(v)}" for k, v in value.items())
                lines.append(f"match = {{ {inner} }}")
            else:
                lines.append(f"{key} = {toml_value(value)}")
    return "\n".join(lines) + "\n"


def sink_routes(sink: WebhookReceiver, templates: str) -> list[dict[str, Any]]:
    return [
        {"name": "changes", "urls": [sink.json_url("/changes")], "match": {},
         "templates": templates, "max_attempts": 50},
        {"name": "health", "urls": [sink.json_url("/health")],
         "match": {"kinds": ["health", "recovered"]}, "templates": templates,
         "max_attempts": 50},
    ]


def integrity(db: Path) -> str:
    connection = sqlite3.connect(db)
    try:
        return str(connection.execute("PRAGMA integrity_check").fetchone()[0])
    finally:
        connection.close()


# -- a campaign: the service, the sites, the sink ------------------------------------------------


@dataclass
class Report:
    cycles: int = 0
    checks: int = 0
    faults: Counter[str] = field(default_factory=Counter)          # faulty checks by fault
    requests_faulted: Counter[str] = field(default_factory=Counter)
    expected: Counter[tuple[str, str, str]] = field(default_factory=Counter)
    received: Counter[tuple[str, str, str]] = field(default_factory=Counter)
    expected_health: Counter[tuple[str, str, str]] = field(default_factory=Counter)
    received_health: Counter[tuple[str, str, str]] = field(default_factory=Counter)
    scripted: Counter[tuple[str, str, str]] = field(default_factory=Counter)
    duplicate_ids: list[str] = field(default_factory=list)
    mismatches: list[str] = field(default_factory=list)
    sink_failures: int = 0
    seconds: float = 0.0

    def summary(self) -> str:
        faults = ", ".join(f"{k} {v}" for k, v in sorted(self.faults.items()))
        return (f"{self.checks} checks ({self.cycles} cycles per source) in {self.seconds:.0f}s; "
                f"faulty checks: {sum(self.faults.values())} ({faults}); requests faulted: "
                f"{sum(self.requests_faulted.values())}; sink answered 500 {self.sink_failures} "
                f"times; document alerts expected {sum(self.expected.values())}, received "
                f"{sum(self.received.values())}; health alerts expected "
                f"{sum(self.expected_health.values())}, received "
                f"{sum(self.received_health.values())}")


def _seed_of(name: str, seed: int) -> int:
    import zlib

    return zlib.crc32(name.encode()) ^ seed


def _wait(predicate: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(0.05)


def outbox_empty(db: Path | str) -> bool:
    """No delivery pending or sending (``db``: a SQLite file or any store URL)."""
    if isinstance(db, str):
        from sqlalchemy import create_engine, text

        engine = create_engine(db)
        try:
            with engine.connect() as connection:
                count = connection.execute(text(
                    "SELECT count(*) FROM delivery WHERE status IN ('pending', 'sending')"
                )).scalar()
        finally:
            engine.dispose()
        return count == 0
    sql = sqlite3.connect(db, timeout=10)
    try:
        row = sql.execute(
            "SELECT count(*) FROM delivery WHERE status IN ('pending', 'sending')").fetchone()
        return int(row[0]) == 0
    finally:
        sql.close()


def queued_alerts(db: Path, route: str) -> Counter[tuple[str, str, str]]:
    connection = sqlite3.connect(db)
    try:
        rows = connection.execute("SELECT alert FROM delivery WHERE route = ?", (route,)).fetchall()
    finally:
        connection.close()
    out: Counter[tuple[str, str, str]] = Counter()
    for (text,) in rows:
        alert = json.loads(text)
        out[(alert["source"], alert["kind"], " ".join(alert["title"].split()))] += 1
    return out


@dataclass
class Campaign:
    """The faulty run and its control, for some sites."""

    tmp: Path
    sites: list[Site]
    cycles: int
    seed: int = 2026
    sink_outages: bool = True
    clean_tail: int = 4
    store_url: str | None = None     # default: a SQLite file in tmp

    def run(self) -> Report:
        from monitor.service import Service

        report = Report(cycles=self.cycles)
        started = time.monotonic()
        templates = write_templates(self.tmp / "templates")
        sink = Sink().start()
        servers: list[ReplicaServer] = []
        timelines: dict[str, Timeline] = {}
        sources = []
        try:
            for site in self.sites:
                replica = site.make()
                faulty = FaultySite(replica)
                server = ReplicaServer(faulty).start()
                servers.append(server)
                plan = plan_faults(random.Random(_seed_of(site.name, self.seed)), self.cycles,
                                   clean_tail=self.clean_tail)
                timelines[site.name] = Timeline(site, replica, faulty, plan, self.cycles,
                                                self.clean_tail)
                sources.append(site.settings(replica, server.url))
            db = self.tmp / "faulty.db"
            url = self.store_url or f"sqlite:///{db}"
            path = self.tmp / "faulty.toml"
            path.write_text(service_config(url, sources, sink_routes(sink, templates)),
                            encoding="utf-8")
            for timeline in timelines.values():
                timeline.begin()
            service = Service(str(path), grace=10)
            service.add_listener(lambda result: timelines[result.source].on_result(result))
            outage_stop = threading.Event()
            outage = threading.Thread(target=self._outages, args=(sink, outage_stop), daemon=True)
            service.start()
            if self.sink_outages:
                outage.start()
            try:
                for timeline in timelines.values():
                    _wait(timeline.done.is_set, 30 + self.cycles * 4.0,
                          f"{timeline.site.name} to finish {self.cycles} cycles "
                          f"(at {timeline.cycle})")
                outage_stop.set()
                sink.mode = "ok"
                _wait(lambda: outbox_empty(self.store_url or db), 60, "the outbox to drain")
            finally:
                outage_stop.set()
                service.stop()
            if self.store_url is None:
                assert integrity(db) == "ok"
            for timeline in timelines.values():
                report.mismatches += [f"{timeline.site.name}: {m}" for m in timeline.mismatches]
                report.checks += timeline.cycle
                for fault in timeline.plan.values():
                    report.faults[fault.label] += 1
                report.requests_faulted += timeline.faulty.injected
                report.scripted += Counter((timeline.site.name, kind, title)
                                           for kind, title in timeline.ids.get("log", []))
                report.expected_health += Counter(
                    (timeline.site.name, kind, title)
                    for kind, title in expected_health(timeline.site.name, timeline.outcomes))
            for got in sink.delivered("/changes"):
                report.received[(got.source, got.kind, got.title)] += 1
            for got in sink.delivered("/health"):
                report.received_health[(got.source, got.kind, got.title)] += 1
            ids = Counter(got.id for got in sink.delivered())
            report.duplicate_ids = sorted(i for i, n in ids.items() if n > 1)
            report.sink_failures = sum(1 for s in sink.statuses if s != 200)
            report.expected = self.control(timelines, templates, sink)
        finally:
            sink.stop()
            for server in servers:
                server.stop()
        report.seconds = time.monotonic() - started
        return report

    def _outages(self, sink: Sink, stop: threading.Event) -> None:
        """Now and then the alert sink answers 500 for a while."""
        rng = random.Random(self.seed)
        sink.mode = "fail"          # the first post is always refused, so every run retries
        while not stop.wait(0.05):
            with sink.lock:
                if any(status != 200 for status in sink.statuses):
                    break
        sink.mode = "ok"
        while not stop.wait(rng.uniform(2.0, 4.0)):
            sink.mode = "fail"
            stop.wait(rng.uniform(0.5, 1.5))
            sink.mode = "ok"

    def control(self, timelines: dict[str, Timeline], templates: str,
                sink: WebhookReceiver) -> Counter[tuple[str, str, str]]:
        """The same scripts without faults, one step per check: the alerts a user should get."""
        from monitor.config import load
        from monitor.pipeline import Pipeline
        from monitor.store import Store

        expected: Counter[tuple[str, str, str]] = Counter()
        for name, timeline in timelines.items():
            site = timeline.site
            replica = site.make()
            with ReplicaServer(replica) as server:
                db = self.tmp / f"control-{name}.db"
                path = self.tmp / f"control-{name}.toml"
                path.write_text(service_config(f"sqlite:///{db}", [site.settings(replica, server.url)],
                                               sink_routes(sink, templates)), encoding="utf-8")
                config = load(str(path))
                store = Store(config.store.url)
                pipeline = Pipeline(config, store)
                source = config.sources[0]
                ids: dict[str, Any] = {}
                results = [pipeline.check(source)]
                for step in range(timeline.steps):
                    site.actions[step](replica, ids)
                    results.append(pipeline.check(source))
                results += [pipeline.check(source) for _ in range(3)]
                store.close()
                bad = [r.line() for r in results if r.outcome not in HEALTHY]
                assert not bad, f"the control run of {name} failed: {bad}"
                expected += queued_alerts(db, "changes")
        return expected


def assert_report(report: Report) -> None:
    assert report.mismatches == [], "\n".join(report.mismatches)
    missing = report.expected - report.received
    extra = report.received - report.expected
    assert not missing and not extra, f"missing alerts: {dict(missing)}\nextra alerts: {dict(extra)}"
    assert report.received_health == report.expected_health, (
        f"health alerts: expected {dict(report.expected_health)}, "
        f"received {dict(report.received_health)}")
    assert report.duplicate_ids == []


# -- the tests ---------------------------------------------------------------------------------------


def silence_server_errors(monkeypatch: pytest.MonkeyPatch) -> None:
    """A client that gives up (timeouts, oversize) makes http.server print a traceback."""
    from socketserver import BaseServer

    monkeypatch.setattr(BaseServer, "handle_error", lambda self, request, address: None)


@pytest.fixture
def quiet_servers(monkeypatch: pytest.MonkeyPatch) -> None:
    silence_server_errors(monkeypatch)


def test_the_fault_plan_covers_every_fault_and_keeps_a_clean_baseline_and_tail() -> None:
    plans = [plan_faults(random.Random(_seed_of(s.name, 2026)), 26) for s in all_sites()]
    kinds = {f.label for plan in plans for f in plan.values()}
    assert kinds == {*FAULTS, *(f"{k} (transient)" for k in TRANSPORT)}
    for plan in plans:
        assert 0 not in plan and not any(c >= 26 - 4 for c in plan)
        runs = "".join("x" if c in plan else "." for c in range(26))
        assert "xxxx" not in runs  # at most 3 bad checks in a row, then a clean one


def test_health_alerts_follow_the_outcomes() -> None:
    outcomes = ["healthy", "failed", "healthy", "failed", "blocked", "failed", "healthy"]
    assert expected_health("s", outcomes) == [("health", "s is blocked"),
                                              ("recovered", "s works again")]


@pytest.mark.parametrize("name", [site.name for site in all_sites()])
def test_every_site_under_faults_alerts_exactly_the_real_changes(
    name: str, tmp_path: Path, quiet_servers: None
) -> None:
    """The default-run campaign, one source per test (a list site and the CDE, NMPA,
    FDA, EMA and Federal Register replicas): 26 cycles under that source's fault plan,
    the sink failing now and then. Together the six plans hold every fault kind (the
    plan test above checks it); all six sources in one service at once is the
    ``-m slow`` campaign."""
    site = next(s for s in all_sites() if s.name == name)
    report = Campaign(tmp_path, [site], cycles=26).run()
    print(report.summary())
    assert_report(report)
    planned = {label.split(" ")[0] for label in report.faults}
    assert planned and set(report.requests_faulted) == planned   # every planned fault was served
    assert sum(report.expected.values()) >= 5    # the script really changed things
    assert report.sink_failures > 0              # and the sink really failed at times


def test_the_list_site_alerts_match_its_script(tmp_path: Path, quiet_servers: None) -> None:
    """A hand oracle besides the control run: the alert each scripted step calls for, once."""
    report = Campaign(tmp_path, all_sites()[:1], cycles=22, seed=7).run()
    assert_report(report)
    assert report.received == report.scripted
    kinds = Counter(kind for _, kind, _ in report.scripted.elements())
    assert min(kinds["added"], kinds["draft"], kinds["changed"], kinds["removed"]) >= 1
    assert sum(report.faults.values()) >= 5


@pytest.mark.slow
def test_every_site_under_every_fault_alerts_exactly_the_real_changes(
    tmp_path: Path, quiet_servers: None
) -> None:
    """All six sources in one service at once, 26 cycles each, all fault kinds, the sink
    failing now and then (about a minute of CPU, hence ``-m slow``)."""
    report = Campaign(tmp_path, all_sites(), cycles=26).run()
    print(report.summary())
    assert_report(report)
    assert set(report.faults) == {*FAULTS, *(f"{k} (transient)" for k in TRANSPORT)}
    assert sum(report.expected.values()) >= 40   # the script really changed things
    assert report.sink_failures > 0              # and the sink really failed at times


@pytest.mark.slow
@pytest.mark.timeout(3600)
def test_long_fault_campaign(tmp_path: Path, quiet_servers: None) -> None:
    """The campaign the README quotes: ``REGWATCH_FAULT_CYCLES`` cycles per source (150)."""
    cycles = int(os.environ.get("REGWATCH_FAULT_CYCLES", "150"))
    report = Campaign(tmp_path, all_sites(), cycles=cycles, seed=1).run()
    print(report.summary())
    (tmp_path / "report.txt").write_text(report.summary(), encoding="utf-8")
    assert_report(report)
    for fault in report.faults:
        assert fault in {*FAULTS, *(f"{k} (transient)" for k in TRANSPORT)}
