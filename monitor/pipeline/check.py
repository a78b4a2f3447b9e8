"""Check one source: fetch → parse → diff → classify → store, in one transaction.

The pipeline is the only place that knows the order. A source that fails,
is blocked, or whose list collapses leaves its documents untouched and is
recorded as a health event; one broken source never stops the others.

This module decides the path: an unchanged page with nothing due is written
with plain SQL (``warm``, ``batch``); anything else is planned here and
written by ``writes.Writes`` through the ORM, imported only then.
"""

from __future__ import annotations

import json
import logging
import time
import weakref
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from diffing import records as record_diff
from monitor.config import Config
from monitor.errors import StoreError
from monitor.pipeline import warm
from monitor.pipeline.batch import GROUP_RUNS, GROUP_SECONDS, Prefetch, WarmBatch
from monitor.pipeline.identity import MAX_HOSTS, moved_state, relative_key, site_hosts
from monitor.pipeline.plan import (
    KnownRecords,
    Plan,
    add_backlog,
    add_rechecks,
    classify_plan,
    listing_hash,
    make_plan,
    read_files,
)
from monitor.pipeline.recording import RecordingFetcher
from monitor.pipeline.results import CheckResult, give_up_on_host, log_result, unreachable
from monitor.store import Store
from monitor.store.db import utcnow
from monitor.store.records import record_dict
from sources.errors import Blocked, LayoutChanged, SourceError
from sources.fetch.fetchers import make_fetcher
from sources.fetch.http import HostGate, SharedClient
from sources.fetch.netpolicy import NetworkPolicy
from sources.registry import Adapter, SourceSettings, adapter_for
from sources.types import Fetcher, Listing, Record

if TYPE_CHECKING:
    # what the full path writes with: imported when a check takes it (a warm run of a
    # SQLite store imports no SQLAlchemy, ``monitor.store.raw``)
    from sqlmodel import Session

    from monitor.pipeline.context import CheckContext
    from monitor.pipeline.writes import Writes
    from monitor.store.models import DocumentRow, SourceRow

log = logging.getLogger("regwatch.check")

REMOVE_AFTER = 2  # healthy runs in a row a record must be missing to be "removed"
FetcherFactory = Callable[[SourceSettings, dict[str, dict[str, str]]], Fetcher]


class Pipeline:
    """Runs checks for the sources of one configuration against one store."""

    def __init__(
        self,
        config: Config,
        store: Store,
        *,
        fetcher_factory: FetcherFactory | None = None,
        now: Callable[[], datetime] = utcnow,
    ) -> None:
        self.config = config
        self.store = store
        self.now = now
        self.gate = HostGate(config.http)
        # one SSL context and connection pool for every check; closed with the pipeline
        self.http_client = SharedClient(config.http)
        weakref.finalize(self, self.http_client.close)
        self.fetcher_factory = fetcher_factory or self._default_fetcher
        self._policies: dict[tuple[str, tuple[str, ...]], NetworkPolicy] = {}
        self._local_hosts: dict[str, bool] = {}  # host name: resolves to local addresses
        self.group_runs = GROUP_RUNS  # runs ``check_all`` writes in one transaction
        self.group_seconds = GROUP_SECONDS  # the longest a run waits in ``check_all``'s batch
        self._writer: Writes | None = None

    def _default_fetcher(
        self, settings: SourceSettings, validators: dict[str, dict[str, str]]
    ) -> Fetcher:
        base_url = adapter_for(settings.kind)(settings).base_url
        key = (base_url, tuple(settings.allow_redirects_to))
        policy = self._policies.get(key)
        if policy is None:  # one name lookup per source and pipeline, not per check
            policy = NetworkPolicy.for_source(*key, resolved=self._local_hosts)
            self._policies[key] = policy
        return make_fetcher(
            settings.fetch,
            self.config.http,
            self.config.browser,
            validators=validators,
            politeness=self.gate,
            policy=policy,
            shared=self.http_client,
        )

    # -- many sources ----------------------------------------------------------

    def check_all(self, names: Iterable[str] | None = None) -> list[CheckResult]:
        """Check sources in parallel, one worker per host, ``http.concurrency`` hosts at once."""
        wanted = set(names) if names is not None else None
        sources = [
            s for s in self.config.sources if s.enabled and (wanted is None or s.name in wanted)
        ]
        by_host: dict[str, list[SourceSettings]] = {}
        configured: dict[str, dict[str, str]] = {}
        for source in sources:
            adapter = adapter_for(source.kind)(source)
            host = urlsplit(adapter.base_url).hostname or source.name
            by_host.setdefault(host, []).append(source)
            configured[source.name] = _configured(source, adapter)
        results: dict[str, CheckResult] = {}
        prefetch = Prefetch.load(self.store, configured)  # every source's row in one read

        def run_host(host: str, group: list[SourceSettings]) -> None:
            batch = WarmBatch(self.store, prefetch, self.group_runs, self.group_seconds)
            try:
                for number, source in enumerate(group):
                    results[source.name] = self.check(source, batch=batch)
                    batch.tick()
                    if unreachable(results[source.name]) and number + 1 < len(group):
                        give_up_on_host(host, group[number + 1 :], results)
                        return
            finally:
                batch.flush()  # the group's last unchanged runs and baselines

        workers = max(1, min(self.config.http.concurrency, len(by_host)))
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="check") as pool:
            list(pool.map(run_host, by_host.keys(), by_host.values()))
        return [results[s.name] for s in sources]

    # -- one source ------------------------------------------------------------

    def check(self, settings: SourceSettings, *, batch: WarmBatch | None = None) -> CheckResult:
        """Check one source; with ``batch`` (``check_all``), from the prefetched row,
        an unchanged run waiting in the batch to be written with others."""
        started, cpu = time.monotonic(), time.process_time()
        result = self._check(settings, batch)
        result.seconds = time.monotonic() - started
        result.cpu_ms = (time.process_time() - cpu) * 1000
        if result.outcome != "waiting":  # a baseline in ``batch`` is logged once written
            log_result(result)
        return result

    def _check(self, settings: SourceSettings, batch: WarmBatch | None) -> CheckResult:
        """fetch → (same listing? count absences) → plan → read → classify → write."""
        adapter = adapter_for(settings.kind)(settings)
        started_at = self.now()
        source, previous_url = self._source_state(settings, adapter, batch)
        validators = json.loads(source.validators or "{}")
        fetcher = RecordingFetcher(
            self.fetcher_factory(settings, validators),
            # the same page as the last healthy listing is read as a 304 (no parse);
            # the keys also depend on the host names, checked once the page is in
            same_page=source.page_digest if source.healthy_runs and source.listing_hash else "",
            salt=settings.model_dump_json(),
        )

        def hosts() -> frozenset[str]:
            return site_hosts(
                [
                    settings.url,
                    adapter.base_url,
                    previous_url,
                    source.moved_to,
                    *(f.url for f in fetcher.responses),
                ]
            ) | set(source.hosts.split())

        def load() -> dict[str, DocumentRow]:
            if batch is not None and source.id in batch.prefetch.empty:
                return {}  # a first run: no documents yet (the prefetch asked)
            return self._load(source.id, hosts())

        known = KnownRecords(load, hosts)
        try:
            listing = adapter.collect(fetcher, known)
            own, now = hosts(), self.now()
            unchanged = warm.UnchangedRun(
                source,
                started_at=started_at,
                now=now,
                responses=fetcher.responses,
                validators=fetcher.validators,
                page_digest=fetcher.page_digest,
                hosts=" ".join(sorted(own)[:MAX_HOSTS]),
                moved_to=source.moved_to,
            )
            if self._store_warm(settings, adapter, listing, fetcher, (unchanged, own), batch):
                # nothing due: the unchanged run, written lean
                return CheckResult(
                    source=settings.name, outcome="unchanged", records=source.last_record_count
                )
            from monitor.pipeline.baselines import WaitingBaseline
            from monitor.pipeline.context import CheckContext
            from monitor.store.models import RunRow

            row = source.row()
            ctx = CheckContext(
                settings=settings,
                adapter=adapter,
                source=row,
                run=RunRow(source_id=row.id or 0, started_at=started_at),
                now=now,
                baseline=row.healthy_runs == 0,
                hosts=own,
            )
            listing, same = self._same_page(ctx, listing, fetcher, known)
            documents, plan, digest = self._plan(ctx, listing, known, same)
            if plan is not None:
                # downloads and text extraction happen here, before the write lock is taken
                read_files(
                    plan, fetcher, adapter.base_url, {r.key: r for r in listing.records}, documents
                )
                classify_plan(plan)
            if batch is not None and ctx.baseline:  # written with the group (``batch``)
                written = (documents, listing, plan, digest)
                return WaitingBaseline.wait(self, batch, ctx, source, written, fetcher)
            if batch is not None:
                batch.flush()  # the runs before this one get the lower ids
            with self.store.session(write=True) as session:
                return self.writes().store_listing(
                    session, ctx, documents, listing, plan, digest, fetcher
                )
        except SourceError as exc:
            outcome = "blocked" if isinstance(exc, Blocked) else "failed"
            return self.writes().store_failure(
                settings, source, outcome, str(exc), fetcher, started_at, batch
            )
        except StoreError:  # the database, not the source: the caller reports it
            raise
        except Exception as exc:  # an adapter bug must not stop the other sources
            log.exception("internal error checking %s", settings.name)
            return self.writes().store_failure(
                settings,
                source,
                "failed",
                f"internal error: {type(exc).__name__}: {exc}",
                fetcher,
                started_at,
                batch,
            )
        finally:
            fetcher.close()

    def _same_page(
        self, ctx: CheckContext, listing: Listing, fetcher: RecordingFetcher, known: KnownRecords
    ) -> tuple[Listing, tuple[dict[str, DocumentRow], Plan] | None]:
        """The listing, and the same-listing plan when the page is the one the last
        healthy listing was read from (None: diff the listing)."""
        if fetcher.stood_in is None:
            return listing, None
        source = ctx.source
        same = self._same_listing_plan(ctx.settings, source, ctx.adapter.base_url, ctx.now)
        # a listed document due for a re-read needs its record from the page, a
        # new host name the full path once (see below): parse the page after all
        listed = any(doc.missing_runs == 0 for doc in same[0].values())
        if listed or not ctx.hosts <= set(source.hosts.split()):
            return ctx.adapter.collect(fetcher.replay(), known), None
        return listing, same

    def _plan(
        self,
        ctx: CheckContext,
        listing: Listing,
        known: KnownRecords,
        same: tuple[dict[str, DocumentRow], Plan] | None,
    ) -> tuple[dict[str, DocumentRow], Plan | None, str]:
        """(documents, plan, listing digest) for this listing: a page source has no
        plan; the last healthy run's listing (or a 304) is the same-listing plan; any
        other listing is diffed against the stored documents."""
        settings, source, own = ctx.settings, ctx.source, ctx.hosts
        base_url = ctx.adapter.base_url

        seen: dict[str, str] = {}  # each URL made relative once (a key is also its URL)

        def canonical(url: str) -> str:
            found = seen.get(url)
            if found is None:
                found = seen[url] = relative_key(url, own)
            return found

        if listing.page_text is not None:
            return known.documents(), None, ""
        listing.records = [
            r if (key := canonical(r.key)) == r.key else replace(r, key=key)
            for r in listing.records
        ]
        digest = ""
        if not listing.not_modified:
            self._check_collapse(source, settings, listing)
            digest = listing_hash(listing, canonical, settings.ignore)
        if listing.not_modified or (
            digest and digest == source.listing_hash and own <= set(source.hosts.split())
        ):
            # the last healthy run's listing (a new host name takes the full path once,
            # so stored records get their new URLs)
            documents, plan = same or self._same_listing_plan(settings, source, base_url, ctx.now)
            return documents, plan, digest
        documents = known.documents()
        plan = make_plan(
            settings, base_url, documents, known.records(), listing, ctx.now, canonical
        )
        if plan.unread:
            log.info(
                "%s: %d ambiguous title(s) classified by title alone (over ambiguous_per_run = %d)",
                settings.name,
                plan.unread,
                settings.ambiguous_per_run,
            )
        return documents, plan, digest

    def _load(self, source_id: int | None, hosts: frozenset[str]) -> dict[str, DocumentRow]:
        """The active documents by key, stored keys mapped to keys relative to the
        source (databases from before that rule keep matching)."""
        with self.store.session() as session:
            rows = _active_documents(session, source_id)
        documents: dict[str, DocumentRow] = {}
        for key, doc in sorted(rows.items(), key=lambda item: item[1].id or 0):
            relative = relative_key(key, hosts)
            if relative in documents:
                relative = key  # two stored keys meet: keep the older one's
            if relative != key:
                doc.key = relative  # renamed in place when the run is written
            documents[relative] = doc
        return documents

    def _same_listing_plan(
        self,
        settings: SourceSettings,
        source: SourceRow,
        base_url: str,
        now: datetime,
    ) -> tuple[dict[str, DocumentRow], Plan]:
        """The plan of a run whose listing is the last healthy run's (a 304, or the
        same digest): no diff, no document load; records missing last time are
        still missing, and count."""
        from sqlmodel import col, select

        from monitor.store.models import DocumentRow

        with self.store.session() as session:
            missing = session.exec(
                select(DocumentRow).where(
                    DocumentRow.source_id == source.id,
                    DocumentRow.state != "removed",
                    col(DocumentRow.missing_runs) > 0,
                )
            ).all()
            due = warm.due_rows(session, settings, source, now)
            waiting = warm.pending_rows(session, settings, source)
        documents = {doc.key: doc for doc in [*missing, *due, *waiting]}
        diff = record_diff.RecordDiff()
        for doc in missing:
            if doc.missing_runs + 1 >= REMOVE_AFTER:
                diff.removed.append(Record.from_dict(record_dict(doc)))
            else:
                diff.missing[doc.key] = doc.missing_runs + 1
        plan = Plan(diff=diff)
        add_rechecks(plan, settings, base_url, due, set(), now)
        add_backlog(plan, settings, base_url, waiting, {r.key for r in diff.removed})
        return documents, plan

    def _source_state(
        self, settings: SourceSettings, adapter: Adapter, batch: WarmBatch | None
    ) -> tuple[warm.SourceState, str]:
        """The source's row, updated from the configuration, and the URL it had
        (from ``batch``'s prefetch when it has the row)."""
        wanted = _configured(settings, adapter)
        values = batch.prefetch.rows.get(settings.name) if batch is not None else None
        if values is not None and all(values[key] == value for key, value in wanted.items()):
            return warm.SourceState(values), str(values["url"])
        if batch is not None:
            batch.flush()  # a write of its own follows
        with self.store.raw(write=True) as raw:
            known = warm.source_state(raw, settings.name, wanted)  # one read, no ORM
            if known is not None:
                return known
            warm.add_sources(raw, {settings.name: wanted})  # a new source
            added = warm.source_state(raw, settings.name, wanted)
        assert added is not None  # written in the same transaction
        return added[0], ""

    def _check_collapse(
        self, source: SourceRow, settings: SourceSettings, listing: Listing
    ) -> None:
        count = len({r.key for r in listing.records})
        if source.healthy_runs and record_diff.collapsed(
            source.last_record_count, count, ratio=settings.collapse_ratio
        ):
            raise LayoutChanged(
                f"the list collapsed from {source.last_record_count} to {count} records; "
                "treated as a site problem, not as removals"
            )

    # -- unchanged -------------------------------------------------------------

    def _store_warm(
        self,
        settings: SourceSettings,
        adapter: Adapter,
        listing: Listing,
        fetcher: RecordingFetcher,
        run_hosts: tuple[warm.UnchangedRun, frozenset[str]],
        batch: WarmBatch | None,
    ) -> bool:
        """The same page, nothing due: the unchanged run in three statements
        (``warm``), or waiting in ``batch``; False where the full path must write it
        (a new host name, a "moved" notice or a recovery owed, a document missing
        or due)."""
        run, own = run_hosts
        source = run.source
        if fetcher.stood_in is None or not listing.not_modified:
            return False
        if source.health_alerted or not own <= set(source.hosts.split()):
            return False
        configured = settings.url or adapter.base_url
        run.moved_to, notice = moved_state(configured, source.moved_to, fetcher)
        if notice:
            return False
        if batch is None:
            with self.store.raw(write=True) as raw:
                return warm.store_unchanged(raw, settings, run)
        if not batch.nothing_due(settings, run):
            return False
        batch.add(run)
        return True

    # -- the full path's writes (monitor/pipeline/writes.py) ---------------------

    def writes(self) -> Writes:
        """The full path's writer, imported and made on first use (it imports the ORM)."""
        if self._writer is None:
            from monitor.pipeline.writes import Writes

            self._writer = Writes(self)
        return self._writer


def _configured(settings: SourceSettings, adapter: Adapter) -> dict[str, str]:
    """The source row's fields the configuration sets."""
    return {
        "kind": settings.kind,
        "url": settings.url or adapter.base_url,
        "jurisdiction": settings.jurisdiction or adapter.jurisdiction,
        "schedule": settings.cron or settings.every or "",
    }


def _active_documents(session: Session, source_id: int | None) -> dict[str, DocumentRow]:
    from sqlmodel import select

    from monitor.store.models import DocumentRow

    rows = session.exec(
        select(DocumentRow).where(
            DocumentRow.source_id == source_id, DocumentRow.state != "removed"
        )
    ).all()
    return {row.key: row for row in rows}
