"""`probe`: fetch each source once and show exactly what the site did (issue 11).

Run it first when a site changes or a source turns "blocked" / "failed". It
reads every (or one) configured source once through the fetcher the source
is configured with, **without touching the database**, and prints per
request the method, URL, HTTP status, size and the block detector's verdict
with its reason; then the records parsed, the fields missing or empty in
them (how many records lack each) and a few sample records. The robots.txt
verdict on the source's URL comes first (``sources.fetch.robots``: allowed,
disallowed by which rule, the crawl delay, or not read). ``--save DIR``
writes what came back, for a bug report: per request the raw body and the
headers (``NN-<status>.body`` / ``NN-<status>.headers.json``), for browser
sources a screenshot of the last page (``screenshot.png``), and
``summary.json``. Detail pages are not read unless ``--details`` (a full
read of CDE is hundreds of pages; the list shows whether the site works).

Exit 0 when every probed source parsed records, 6 otherwise.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import typer

from sources.errors import SourceError
from sources.fetch.blocks import detect_block
from sources.fetch.exchanges import Exchange, ExchangeLog, exchanges_of
from sources.types import Listing, Record

_CORE = ("title", "url", "date", "status")
_KEEP = 500  # exchanges kept per probe (every request of one read, in practice)


def register(app: typer.Typer) -> None:
    from monitor.cli.main import ConfigOption, friendly, out

    @app.command()
    @friendly
    def probe(
        source: str = typer.Argument(None, help="Only this source (default: all)."),
        config: str = ConfigOption,
        save: Path = typer.Option(
            None,
            "--save",
            help="Write bodies, headers and (browser sources) a screenshot under DIR/<source>/.",
        ),
        samples: int = typer.Option(3, "--samples", min=0, help="Records to show."),
        details: bool = typer.Option(
            False, "--details/--no-details", help="Also read detail pages, as a check does."
        ),
    ) -> None:
        """Fetch sources once, without the database: statuses, block verdicts, parsed records.

        Run it first when a site changes; attach what --save writes to a bug report.
        """
        from monitor import config as config_module

        settings = config_module.load(config)
        chosen = [settings.source(source)] if source else [s for s in settings.sources if s.enabled]
        healthy = True
        for item in chosen:
            report = probe_source(item, settings, details=details)
            for line in render(report, samples):
                out.print(line, markup=False)
            if save is not None:
                for path in write_evidence(report, save / item.name):
                    out.print(f"  saved {path}", markup=False)
            healthy = healthy and report["error"] is None and bool(report["records"])
        if not healthy:
            raise typer.Exit(6)


def probe_source(item: Any, settings: Any, *, details: bool) -> dict[str, Any]:
    """Read one source once; everything the probe prints or saves."""
    from sources.fetch.fetchers import make_fetcher
    from sources.fetch.politeness import HostGate
    from sources.registry import adapter_for

    if not details and "details" in type(item).model_fields:
        item = item.model_copy(update={"details": False})
    adapter = adapter_for(item.kind)(item)
    fetcher = make_fetcher(
        item.fetch,
        settings.http,
        settings.browser,
        validators={},
        politeness=HostGate(settings.http),
    )
    log = ExchangeLog(keep=_KEEP, max_body=settings.http.max_bytes)
    _use_log(fetcher, log)
    listing: Listing | None = None
    error: SourceError | None = None
    screenshot: bytes | None = None
    robots = ""
    try:
        with fetcher:
            try:
                listing = adapter.collect(fetcher, {})
            except SourceError as exc:
                error = exc
            screenshot = _screenshot(fetcher)
            robots = robots_verdict(fetcher, item.url or adapter.base_url)
    except SourceError as exc:  # closing a broken browser
        error = error or exc
    return {
        "source": item.name,
        "kind": item.kind,
        "fetch": item.fetch,
        "exchanges": list(log),
        "listing": listing,
        "error": error,
        "records": listing.records if listing else [],
        "screenshot": screenshot,
        "details": details,
        "robots": robots,
    }


def robots_verdict(fetcher: object, url: str) -> str:
    """What the site's robots.txt says of ``url`` for regwatch, in one line."""
    from sources.fetch.http import HttpFetcher

    http = fetcher if isinstance(fetcher, HttpFetcher) else getattr(fetcher, "http", None)
    if not isinstance(http, HttpFetcher) or not url:
        return "robots.txt: not read (the browser fetcher is a person's browser)"
    try:
        rules = http.robots_rules(url)
    except SourceError as exc:
        return f"robots.txt: not read ({exc})"
    if rules is None:
        return "robots.txt: ignored ([http] robots = false)"
    delay = f"; Crawl-delay {rules.crawl_delay:g} s" if rules.crawl_delay is not None else ""
    if rules.allows(url):
        return f"robots.txt: allows {url}{delay}"
    return f"robots.txt: disallows {url} (Disallow: {rules.disallowed_rule(url)}){delay}"


def render(report: dict[str, Any], samples: int) -> list[str]:
    """The lines `probe` prints for one source."""
    lines = [f"{report['source']} ({report['kind']}, fetch = {report['fetch']})"]
    if report.get("robots"):
        lines.append(f"  {report['robots']}")
    for number, ex in enumerate(report["exchanges"], 1):
        lines.append(
            f"  {number:>2}. {ex.method} {ex.url} -> HTTP {ex.status}, "
            f"{len(ex.body):,} bytes: {verdict(ex)}"
        )
    if not report["exchanges"]:
        lines.append("  no request was answered")
    if report["error"] is not None:
        lines.append(f"  result: {_error_line(report['error'])}")
    records: list[Record] = report["records"]
    listing: Listing | None = report["listing"]
    if listing is not None and listing.page_text is not None:
        lines.append(f"  page text: {len(listing.page_text):,} characters")
    lines.append(
        f"  records parsed: {len(records)}"
        + ("" if listing is None or listing.complete else " (list read in part)")
    )
    if not report["details"]:
        lines.append("  (detail pages not read; --details reads them as a check does)")
    for name, count in missing_fields(records):
        lines.append(f"  missing or empty: {name} in {count} of {len(records)} records")
    lines += [_sample_line(record) for record in records[:samples]]
    return lines


def _error_line(error: BaseException) -> str:
    """``blocked: …`` for a block, else the error's type and message."""
    blocked = type(error).__name__ in ("Blocked", "BrowserUnavailable")
    return f"{'blocked' if blocked else type(error).__name__}: {error}"


def _sample_line(record: Record) -> str:
    """One sample record: title | date | status | URL | fields."""
    fields = ", ".join(f"{k}={v}" for k, v in sorted(record.fields.items()))
    parts = [record.title, record.date or "-", record.status or "-", record.url]
    return "  - " + " | ".join(parts + ([fields] if fields else []))


def verdict(ex: Exchange) -> str:
    """The block detector's verdict on one response, with its reason."""
    reason = detect_block(ex.status, ex.headers, ex.body, ex.url, ex.expect)
    if reason:
        return f"BLOCKED ({reason})"
    if ex.status >= 400:
        return f"error (HTTP {ex.status})"
    if 300 <= ex.status < 400:
        return f"redirect to {ex.headers.get('location') or ex.headers.get('Location') or '?'}"
    return "content"


def missing_fields(records: list[Record]) -> list[tuple[str, int]]:
    """(field, how many records lack it or have it empty), for fields any record has."""
    if not records:
        return []
    names = list(dict.fromkeys(k for r in records for k in r.fields))
    lacking: Counter[str] = Counter()
    for record in records:
        for name in _CORE:
            if not getattr(record, name):
                lacking[name] += 1
        for name in names:
            if not (record.fields.get(name) or "").strip():
                lacking[name] += 1
    return [(n, lacking[n]) for n in (*_CORE, *names) if lacking[n]]


def write_evidence(report: dict[str, Any], directory: Path) -> list[Path]:
    """Write bodies, headers, the screenshot and summary.json; the paths written."""
    directory.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    summary: list[dict[str, Any]] = []
    for number, ex in enumerate(report["exchanges"], 1):
        stem = f"{number:02d}-{ex.status}"
        body, headers = directory / f"{stem}.body", directory / f"{stem}.headers.json"
        body.write_bytes(ex.body)
        headers.write_text(
            json.dumps(
                {
                    "method": ex.method,
                    "url": ex.url,
                    "status": ex.status,
                    "headers": dict(ex.headers),
                },
                ensure_ascii=False,
                indent=2,
            ),
            encoding="utf-8",
        )
        written += [body, headers]
        summary.append(
            {
                "file": body.name,
                "method": ex.method,
                "url": ex.url,
                "status": ex.status,
                "bytes": len(ex.body),
                "verdict": verdict(ex),
            }
        )
    if report["screenshot"]:
        shot = directory / "screenshot.png"
        shot.write_bytes(report["screenshot"])
        written.append(shot)
    error = report["error"]
    data = {
        "source": report["source"],
        "kind": report["kind"],
        "fetch": report["fetch"],
        "error": None if error is None else str(error),
        "requests": summary,
        "records": len(report["records"]),
        "missing": dict(missing_fields(report["records"])),
        "samples": [r.as_dict() for r in report["records"][:5]],
    }
    path = directory / "summary.json"
    path.write_text(json.dumps(data, ensure_ascii=False, indent=2), encoding="utf-8")
    written.append(path)
    return written


def _use_log(fetcher: object, log: ExchangeLog) -> None:
    """Give the fetcher (and both halves of "auto") the probe's larger log."""
    for part in (fetcher, getattr(fetcher, "http", None), getattr(fetcher, "browser", None)):
        if part is not None and exchanges_of(part) is not None:
            setattr(part, "exchanges", log)  # noqa: B010 - any fetcher kind


def _screenshot(fetcher: object) -> bytes | None:
    """A PNG of the browser's last page, when a browser was used."""
    import tempfile

    browser = getattr(fetcher, "browser", fetcher)
    take = getattr(browser, "screenshot", None)
    if not callable(take):
        return None
    with tempfile.TemporaryDirectory() as scratch:
        path = Path(scratch) / "shot.png"
        try:
            if not take(str(path)):
                return None
        except SourceError:
            return None
        return path.read_bytes()


def show_source(config: str, name: str, *, as_json: bool, body_file: Path | None) -> None:
    """`regwatch sources SOURCE`: the source's health and its last failure's evidence."""
    from monitor.app import open_context
    from monitor.cli.main import out
    from monitor.pipeline.evidence import describe, evidence_for
    from monitor.status import status_of

    ctx = open_context(config)
    item = ctx.config.source(name)
    status = status_of(ctx.store, [(item.name, item.kind, item.cron or item.every or "")])[0]
    kept = evidence_for(ctx.store, name)
    if body_file is not None:
        if kept is None:
            from monitor.errors import RegwatchError

            raise RegwatchError(f"source {name!r} has no failed run with evidence yet")
        body_file.write_bytes(kept.body)
    if as_json:
        status["evidence"] = (
            None
            if kept is None
            else {
                "at": kept.at.isoformat(),
                "method": kept.method,
                "url": kept.url,
                "status": kept.status,
                "headers": kept.headers,
                "size": kept.size,
                "truncated": kept.truncated,
                "verdict": kept.verdict,
                "excerpt": kept.body[:2000].decode("utf-8", errors="replace"),
            }
        )
        out.print(json.dumps(status, ensure_ascii=False, default=str), markup=False)
        return
    out.print(
        f"{item.name} ({item.kind}, fetch = {item.fetch}): "
        f"{status['last_outcome'] or 'never run'}, {status['consecutive_failures']} "
        f"failures in a row, last ok {status['last_ok_at'] or '-'}",
        markup=False,
    )
    if status["last_error"]:
        out.print(f"last error: {status['last_error']}", markup=False)
    if kept is None:
        out.print("no failed run has kept evidence", markup=False)
        return
    for line in describe(kept):
        out.print(line, markup=False)
    out.print(
        f"(regwatch sources {name} --evidence FILE writes the whole body; "
        "regwatch probe shows what the site answers now)",
        markup=False,
    )
