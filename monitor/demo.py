"""`regwatch demo`: the whole product offline, on bundled replicas.

Starts local replicas of CDE, NMPA, FDA (guidance catalogue, CBER page,
Federal Register), EMA, PMDA and the MHRA on 127.0.0.1, points a real configuration and a
real SQLite store at them, and walks through a scripted fortnight: a silent
baseline, a new CGT draft at CDE, an NMPA consultation, noise-only edits, an
FDA draft finalised, an EMA guideline revised, a PMDA 再生医療等製品 notice and
an MHRA cell and gene therapy guidance, a blocked day, withdrawals, a
removal and a comment-deadline reminder. Alerts go through apprise to a local
webhook inbox and are printed as they arrived.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

from rich.console import Console
from rich.text import Text

from monitor.config import loads
from monitor.delivery.dispatch import Dispatcher
from monitor.history import ChangeFilter, list_changes
from monitor.pipeline.check import Pipeline
from monitor.replica.cde import CdeReplica
from monitor.replica.commonwealth import MhraReplica
from monitor.replica.ema import EmaReplica
from monitor.replica.fda import FdaReplica
from monitor.replica.federal_register import FederalRegisterReplica
from monitor.replica.inbox import Inbox
from monitor.replica.nmpa import NmpaReplica
from monitor.replica.presets import PmdaReplica
from monitor.replica.server import ReplicaServer, Router
from monitor.store import Store

START = date(2026, 11, 2)


class Clock:
    def __init__(self) -> None:
        self.now = datetime.combine(START, time(1, 0), UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, days: int) -> None:
        self.now += timedelta(days=days)


def preset_tables(base: str) -> str:
    """The PMDA and MHRA starter presets, pointed at their replicas."""
    tables = [
        PmdaReplica().source_settings(f"{base}/pmda"),
        MhraReplica().source_settings(f"{base}/mhra"),
    ]
    return "".join(
        "[[source]]\n"
        + "".join(
            f"{key} = {json.dumps(value, ensure_ascii=False)}\n" for key, value in table.items()
        )
        + "\n"
        for table in tables
    )


def demo_config(base: str, db: Path) -> str:
    presets = preset_tables(base)
    return f"""
[store]
url = "sqlite:///{db}"

[http]
user_agent = "regwatch-demo/0.1 (+mailto:demo@example.com)"
delay = 0
retries = 0
timeout = 10

[health]
alert_after = 2

[[source]]
name = "cde"
kind = "cde"
base_url = "{base}/cde"

[[source]]
name = "nmpa"
kind = "nmpa"
base_url = "{base}/nmpa"

[[source]]
name = "fda-guidance"
kind = "fda-guidance"
base_url = "{base}/fda"

[[source]]
name = "fda-cber-cgt"
kind = "fda-cber-cgt"
base_url = "{base}/fda"

[[source]]
name = "federal-register"
kind = "federal-register"
base_url = "{base}/fr"

[[source]]
name = "ema"
kind = "ema-documents"
base_url = "{base}/ema"

{presets}
[[notify]]
name = "cgt-team"
urls = ["json://{base.removeprefix("http://")}/inbox/cgt-team"]
match = {{ relevant = true }}

[[notify]]
name = "ops"
urls = ["json://{base.removeprefix("http://")}/inbox/ops"]
match = {{ kinds = ["health", "recovered"] }}
"""


def _slug_of(fda: FdaReplica, title: str) -> str:
    return next(slug for slug, doc in fda.docs.items() if doc.title == title)


def _ema_id(ema: EmaReplica, name: str) -> str:
    return next(i for i, doc in ema.docs.items() if doc.name == name)


@dataclass
class _Sites:
    """The demo's replicas, each mounted under its own prefix."""

    cde: CdeReplica = field(default_factory=CdeReplica)
    nmpa: NmpaReplica = field(default_factory=NmpaReplica)
    fda: FdaReplica = field(default_factory=lambda: FdaReplica(today=START))
    fr: FederalRegisterReplica = field(default_factory=lambda: FederalRegisterReplica(today=START))
    ema: EmaReplica = field(default_factory=lambda: EmaReplica(today=START))
    pmda: PmdaReplica = field(default_factory=lambda: PmdaReplica(today=START))
    mhra: MhraReplica = field(default_factory=lambda: MhraReplica(today=START))
    inbox: Inbox = field(default_factory=Inbox)

    def router(self) -> Router:
        return Router(
            {
                "/cde": self.cde,
                "/nmpa": self.nmpa,
                "/fda": self.fda,
                "/fr": self.fr,
                "/ema": self.ema,
                "/pmda": self.pmda,
                "/mhra": self.mhra,
                "/inbox": self.inbox,
            }
        )


Day = tuple[int, str, Callable[[], None] | None]  # days skipped before it, heading, edits


def _timeline(sites: _Sites, clock: Clock) -> list[Day]:
    """The scripted fortnight: each day's heading and the edits the sites make
    before that day's check."""
    cde, nmpa, fda, fr, ema = sites.cde, sites.nmpa, sites.fda, sites.fr, sites.ema
    potency = _slug_of(fda, "Potency Assurance for Cellular and Gene Therapy Products")
    gmc = _ema_id(
        ema,
        "Guideline on quality, non-clinical and clinical aspects of "
        "medicinal products containing genetically modified cells",
    )
    hcbmp = _ema_id(ema, "Guideline on human cell-based medicinal products")
    car_t = next(
        g.id for g in cde.guidelines.values() if "CAR-T" in g.title and g.nowstate == "颁布"
    )

    def new_drafts() -> None:
        cde.add_opinion("体内基因编辑产品药学研究与评价技术指导原则", clock.now.strftime("%Y%m%d"))
        nmpa.add_article(
            "zhqyj",
            "关于公开征求《人源干细胞产品非临床研究技术指导原则（征求意见稿）》意见的通知",
            clock.now.date().isoformat(),
        )
        cde.touch()
        nmpa.touch()
        fda.noise()
        ema.refresh()

    def fda_day() -> None:
        fda.today = fr.today = clock.now.date()
        fda.finalise(potency, keep_slug=True)
        title = "Considerations for In Vivo Gene Editing Products"
        fda.add_guidance(title, cgt_label="Draft Guidance for Industry", comment_days=60)
        fr.announce(title, comment_days=60)

    def ema_day() -> None:
        ema.today = clock.now.date()
        ema.revise(gmc, line="Section 4.2: vector copy number limits revised.")
        ema.add_document(
            "Concept paper on the revision of the guideline on allogeneic CAR-T cell products",
            consultation_days=60,
        )

    def japan_uk_day() -> None:
        sites.pmda.today = sites.mhra.today = clock.now.date()
        sites.pmda.add(
            "/rss_015.xml",
            "[審査]再生医療等製品（ヒト細胞加工製品）の品質及び安全性の確保に関する指針について",
            "/review-services/drug-reviews/about-reviews/ctp/0012.html",
        )
        sites.mhra.add(
            sites.mhra.ORG,
            "Point of care manufacturing of cell and gene therapy products: guidance",
            "/government/publications/point-of-care-manufacturing-cell-gene-therapy",
        )

    def blocked() -> None:
        cde.mode = nmpa.mode = "blocked"

    def recovered() -> None:
        cde.mode = nmpa.mode = "ok"
        cde.withdraw(car_t)
        ema.withdraw(hcbmp)

    def delisted() -> None:
        fda.withdraw(
            _slug_of(
                fda,
                "Safety Testing of Human Allogeneic Cells Expanded "
                "for Use in Cell-Based Medical Products",
            )
        )

    return [
        (0, "first run: a silent baseline (no per-document alerts)", None),
        (0, "a CGT draft at CDE and an NMPA consultation; noise-only edits everywhere", new_drafts),
        (
            0,
            "FDA finalises a draft, issues a new one (also noticed in the Federal Register)",
            fda_day,
        ),
        (0, "EMA revises an ATMP guideline and opens a consultation", ema_day),
        (
            0,
            "PMDA issues a 再生医療等製品 notice; the MHRA a cell and gene therapy guidance",
            japan_uk_day,
        ),
        (0, "CDE and NMPA block the robot (a JS challenge): health, not removals", blocked),
        (0, "still blocked: one health alert after 2 failed checks", None),
        (0, "the sites are back; CDE repeals (废止) a guideline, EMA withdraws one", recovered),
        (0, "FDA delists a guidance: missing once is not removed…", delisted),
        (0, "…missing twice in healthy runs is", None),
        (17, "three weeks later: comment-deadline reminders", None),
    ]


def run_demo(keep: str | None = None, console: Console | None = None) -> dict[str, int]:
    """Run the walk-through; returns counts of change events (for tests)."""
    out = console or Console(highlight=False)
    import logging

    quiet = {name: logging.getLogger(name).level for name in ("regwatch", "apprise")}
    for name in quiet:  # the demo prints its own lines
        logging.getLogger(name).setLevel(logging.WARNING)
    clock = Clock()
    sites = _Sites()
    workdir = Path(tempfile.mkdtemp(prefix="regwatch-demo-"))
    db = workdir / "demo.db"
    try:
        with ReplicaServer(sites.router()) as server:
            config = loads(demo_config(server.url, db), path="demo.toml")
            store = Store(config.store.url)
            pipeline = Pipeline(config, store, now=clock)
            dispatcher = Dispatcher(config, store, now=clock)
            reminders = _reminders()
            out.print(
                "[bold]regwatch demo[/bold]: local replicas of CDE, NMPA, FDA, the "
                f"Federal Register, EMA, PMDA and MHRA at {server.url}; store {db}"
            )
            for skipped, title, script in _timeline(sites, clock):
                clock.advance(skipped)
                if script:
                    script()
                out.print()  # the whole heading, wrapped, never cut mid-sentence
                out.print(
                    Text.assemble(
                        ("── ", "dim"), (f"{clock.now:%a %d %b %Y}", "bold"), f" — {title}"
                    )
                )
                for result in pipeline.check_all():
                    if result.outcome != "unchanged":
                        out.print(f"  check {result.line()}", markup=False)
                if reminders:
                    reminders(config, store, clock.now)
                dispatcher.run_once()
                _print_inbox(out, sites.inbox)
                clock.advance(1)
            counts = _history(out, store)
            _closing(out, store, db, keep)
            return counts
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
        for name, level in quiet.items():
            logging.getLogger(name).setLevel(level)


def _history(out: Console, store: Store) -> dict[str, int]:
    counts: dict[str, int] = {}
    for row in list_changes(store, ChangeFilter(limit=10_000)):
        counts[row["event"]] = counts.get(row["event"], 0) + 1
    out.rule("[bold]history[/bold]")
    by_event = ", ".join(f"{k} {v}" for k, v in sorted(counts.items()))
    out.print(f"changes by event: {by_event}")
    return counts


def _closing(out: Console, store: Store, db: Path, keep: str | None) -> None:
    """Keep the database when asked (``--keep DIR``), else say how to."""
    store.close()
    if keep:
        kept, config_file = keep_database(db, Path(keep))
        out.print(
            f"kept the database at {kept} and wrote {config_file}: try "
            f"`regwatch changes -c {config_file}` or `regwatch search 细胞 -c "
            f"{config_file}`",
            markup=False,
        )
    else:
        out.print(
            "run `regwatch demo --keep DIR` to keep the database (with a "
            "regwatch.toml beside it) and explore it with `regwatch changes`, "
            "`search`, `show`, `diff` and `web`",
            markup=False,
        )


KEPT_CONFIG = """# written by `regwatch demo --keep`: the demo's history, to explore with
#   regwatch changes -c {config}      regwatch search 细胞 -c {config}
#   regwatch show ID -c {config}      regwatch web -c {config}
# (the demo's sites were local replicas and are gone: no [[source]] to check)

[store]
url = "sqlite:///{db}"
"""


def keep_database(db: Path, keep: Path) -> tuple[Path, Path]:
    """Copy the demo database to ``keep`` (a folder, made if needed, or a
    ``.db`` file path) and write a ``regwatch.toml`` beside it that opens it
    (an existing regwatch.toml is left alone)."""
    if keep.suffix != ".db" or keep.is_dir():
        keep.mkdir(parents=True, exist_ok=True)
        keep = keep / "demo.db"
    keep.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(db, keep)
    config = keep.parent / "regwatch.toml"
    if not config.exists():
        config.write_text(KEPT_CONFIG.format(db=keep.resolve(), config=config), encoding="utf-8")
    return keep, config


def _reminders() -> Callable[..., object] | None:
    try:
        from monitor.delivery.reminders import queue_reminders
    except ImportError:
        return None
    return queue_reminders


def _print_inbox(out: Console, inbox: Inbox) -> None:
    """Each alert: its title (the full first line of the body when the title
    was shortened), then the body lines that do not repeat it."""
    for message in inbox.take():
        title = " ".join(str(message.get("title", "")).split())
        body = str(message.get("message", message.get("body", ""))).strip()
        lines = [" ".join(line.split()) for line in body.splitlines() if line.strip()]
        if title.endswith("…") and lines and title.split("] ", 1)[-1][:-1] in lines[0]:
            title = title.split("] ", 1)[0] + "] " + lines[0] if "] " in title else lines[0]
        out.print(Text.assemble("  ", ("alert", "bold cyan"), " ", title))
        shown = [line for line in lines if line not in title][:5]
        for line in shown:
            out.print(f"    {line}", markup=False)
