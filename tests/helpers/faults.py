"""The fault suite's parts: the alert sink, fault injection, the sites and their
scripts, and the fault plan (used by test_faults, test_kill9, test_service,
test_disk_faults and test_postgres)."""

from __future__ import annotations

import random
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

from monitor.replica.base import SiteReplica
from monitor.replica.registry import cases
from monitor.replica.server import Request, Response
from tests.receivers import Posted, WebhookReceiver
from tests.sites import CHALLENGE, Item, ListSite

TIMEOUT = 0.6  # [http] timeout in the test configs
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
            active = (
                fault is not None
                and fault.kind != "empty"
                and (fault.requests is None or self.hits < fault.requests)
            )
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
            return Response(
                status=random.choice([500, 502, 503, 504]),
                body="<html><body>Service Unavailable</body></html>",
            )
        if kind == "429":
            return Response(
                status=429,
                headers={"Retry-After": "1"},
                body="<html><body>Too Many Requests</body></html>",
            )
        if kind == "challenge":
            if isinstance(self.site, SiteReplica):
                return self.site.blocked_response(request)
            return Response(
                status=202, body=CHALLENGE, headers={"Set-Cookie": "FSSBBIl1UgzbN7N80S=abc; path=/"}
            )
        inner: Response = self.site(request)
        if kind == "truncate":
            inner.fault = "truncate"
            return inner
        body = inner.payload()
        is_json = "json" in inner.content_type
        if kind == "oversize":
            pad = (
                b" " * (MAX_BYTES + 1000)
                if is_json
                else b"<!--" + b"x" * (MAX_BYTES + 1000) + b"-->"
            )
            return Response(
                status=inner.status,
                headers=inner.headers,
                content_type=inner.content_type,
                body=body + pad if is_json else body.replace(b"</body>", pad + b"</body>"),
            )
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
        return Response(
            status=inner.status,
            body=body,
            headers=inner.headers,
            content_type=base + "; charset=gbk",
        )
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return inner  # already not UTF-8 (a GBK column): serve as it is
    if flip:
        return Response(
            status=inner.status,
            body=body,
            headers=inner.headers,
            content_type="text/html; charset=gbk",
        )
    return Response(
        status=inner.status,
        body=text.encode("gb18030"),
        headers=inner.headers,
        content_type="text/html; charset=utf-8",
    )


def _malformed(inner: Response, body: bytes, is_json: bool) -> Response:
    """HTML with closing tags lost (browsers cope); JSON cut short (nobody can)."""
    if is_json:
        cut = body[: max(1, len(body) * 2 // 3)]
        return Response(
            status=inner.status, body=cut, headers=inner.headers, content_type=inner.content_type
        )
    if inner.content_type.startswith("text/html"):
        broken = body.replace(b"</li>", b"", 5).replace(b"</ul>", b"").replace(b"</div>", b"", 2)
        return Response(
            status=inner.status, body=broken, headers=inner.headers, content_type=inner.content_type
        )
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
    return {
        "name": "list-site",
        "kind": "html-list",
        "url": f"{base}/list/index.html",
        "jurisdiction": "CN",
        "item": ".list ul li",
        "title": "a",
        "link": "a@href",
        "date": "span",
    }


def _list_site() -> ListSite:
    return ListSite(
        items=[
            Item(f"2026060{i}0900000{i:02d}", f"国家药监局公告（2026年第{i}号）", f"2026-06-0{i}")
            for i in range(1, 9)
        ]
    )


def list_actions(count: int) -> list[Action]:
    """Add, add a draft, retitle the add, remove it: each touches a record once. Each
    step notes the alert it should cause in ``ids["log"]`` (the hand oracle)."""
    actions: list[Action] = []
    for n in range(count):

        def act(site: Any, ids: dict[str, Any], n: int = n) -> None:
            log = ids.setdefault("log", [])
            step = n % 4
            if step == 0:
                item = Item(
                    f"20261{n:012d}",
                    f"关于发布细胞治疗产品研究技术指导原则的通告（第{n}批）",
                    "2026-11-01",
                )
                site.items.insert(0, item)
                ids["added"] = item
                log.append(("added", item.title))
            elif step == 1:
                item = Item(
                    f"20262{n:012d}",
                    f"基因治疗产品非临床研究技术指导原则（征求意见稿）第{n}号",
                    "2026-11-02",
                )
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


def cde_actions(count: int) -> list[Action]:
    out: list[Action] = []
    for n in range(count):

        def act(site: Any, ids: dict[str, Any], n: int = n) -> None:
            step = n % 4
            if step == 0:
                g = site.add_guideline(
                    f"CAR-T细胞治疗产品药学变更研究技术指导原则（第{n}版）", "20261101"
                )
                ids[f"g{n}"] = g.id
            elif step == 1:
                o = site.add_opinion(
                    f"溶瘤病毒类药物临床试验设计指导原则（征求意见稿）第{n}号", "20261102"
                )
                ids[f"o{n}"] = o.id
            elif step == 2 and f"g{n - 2}" in ids:
                site.edit_title(
                    ids[f"g{n - 2}"],
                    f"CAR-T细胞治疗产品药学变更研究技术指导原则（第{n}版，修订）",
                )
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
                a = site.add_article(
                    "ggtg",
                    f"国家药监局关于发布基因治疗产品说明书撰写指南的通告（第{n}号）",
                    "2026-11-03",
                )
                ids[f"a{n}"] = a.path
            elif step == 1 and f"a{n - 1}" in ids:
                site.edit_title(
                    ids[f"a{n - 1}"],
                    f"国家药监局关于发布基因治疗产品说明书撰写指南（修订）的通告（第{n}号）",
                )
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
                    "Draft Guidance for Industry",
                    cgt_label="Draft Guidance",
                )
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
                    f"Guideline on quality of gene therapy medicinal products, part {n}"
                )
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
                site.announce(
                    f"Human Gene Therapy Products Incorporating Genome Editing, Volume {n}"
                )

        out.append(act)
    return out


_FAILED = {k: "failed" for k in (*TRANSPORT, "oversize", "empty")}

# per case of monitor/replica/registry.py with the "faults" check: the source name,
# replica options, the script of real changes, and what malformed answers do to a check
SCRIPTS: dict[str, tuple[str, dict[str, Any], Callable[[int], list[Action]], str]] = {
    "cde": ("cde-replica", {}, cde_actions, "failed"),
    "nmpa": ("nmpa-replica", {"gbk": ["ggtg"]}, nmpa_actions, "healthy"),
    "fda-guidance": ("fda-guidance", {"size": 120, "today": None}, fda_actions, "failed"),
    "federal-register": ("federal-register", {"size": 60, "today": None}, fr_actions, "failed"),
    "ema-documents": ("ema-documents", {"size": 400, "today": None}, ema_actions, "failed"),
}


def _replica_sites() -> list[Site]:
    """A fault-suite site for every registry case with the "faults" check."""
    out = []
    for case in cases("faults"):
        if case.name not in SCRIPTS:
            raise AssertionError(
                f"replica case {case.name!r} has the faults check but no script: "
                "add it to SCRIPTS in tests/helpers/faults.py"
            )
        name, options, script, malformed = SCRIPTS[case.name]
        storm = {**_FAILED, "challenge": "blocked", "encoding": "healthy", "malformed": malformed}
        out.append(Site(name, partial(case.make, **options), case.source, script(400), storm))
    return out


def all_sites() -> list[Site]:
    list_site = Site(
        "list-site",
        _list_site,
        _list_settings,
        list_actions(400),
        {
            **{k: "failed" for k in (*TRANSPORT, "oversize", "empty")},
            "challenge": "blocked",
            "encoding": "healthy",
            "malformed": "healthy",
        },
    )
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
    """The health alerts monitor.pipeline.health sends for this sequence of outcomes."""
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
