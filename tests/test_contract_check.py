"""The change engine's contract, for every built-in adapter, through the real
HTTP fetcher, the real pipeline and a real SQLite file (issue 9):

- every listing says how much of the source it shows (``Listing.coverage``);
- a removal behind 304 is reported after the second healthy miss;
- a record that leaves the adapter's window is never "removed";
- a move of the source to another host name gives no add/remove/change;
- two documents with one title are two alerts (never one "mirror");
- one broken detail page leaves the source healthy, the item kept.

The generic adapters get the same checks in ``tests/test_check_path.py``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from monitor.config import Config
from monitor.history import ChangeFilter, list_changes
from monitor.pipeline.check import Pipeline
from monitor.replica.ema import EmaDocument
from monitor.replica.registry import ReplicaCase, cases, serve
from monitor.replica.server import Request, Response
from monitor.store import Store
from sources.types import Coverage
from tests.helpers.contract import collect, source_config
from tests.sites import Conditional

# every case of monitor/replica/registry.py with the "change" check; each needs a
# removal hook (REMOVE) and a same-title hook (SAME_TITLE) below
CASES = cases("change")
IDS = [case.name for case in CASES]


def _drop_ema(replica: Any, key: str) -> None:
    del replica.docs[key.split(" at ")[0]]
    replica._edited()


REMOVE: dict[str, Callable[[Any, str], None]] = {
    "cde": lambda r, key: r.remove(key.split(":")[-1]),  # "opinion:<id>"
    "nmpa": lambda r, key: r.remove(key),
    "fda-guidance": lambda r, key: r.withdraw(key),
    "fda-cber-cgt": lambda r, key: r.withdraw(key),
    "federal-register": lambda r, key: r.notices.pop(key),
    "ema-documents": _drop_ema,
    "rss": _drop_ema,
}


Site = tuple[ReplicaCase, Any, Conditional, Any]  # case, replica, ETag wrapper, server


@pytest.fixture(params=CASES, ids=IDS)
def conditional_site(request: pytest.FixtureRequest) -> Iterator[Site]:
    apps: list[Conditional] = []

    def wrap(replica: Any) -> Conditional:
        apps.append(Conditional(replica))
        return apps[-1]

    with serve(request.param, wrap=wrap) as running:
        yield running.case, running.replica, apps[0], running.server


def _config(tmp_path: Path, raw: dict[str, Any]) -> Config:
    return source_config(tmp_path, raw)


def _events(store: Store) -> list[str]:
    return sorted(
        c["event"] for c in list_changes(store, ChangeFilter(limit=10_000)) if c["kind"] != "health"
    )


def test_every_listing_declares_its_coverage(
    conditional_site: Site,
) -> None:
    case, replica, _app, server = conditional_site
    listing = collect(case, replica, server.url)
    assert isinstance(listing.coverage, Coverage)
    assert case.name in REMOVE, "give the new case a removal hook in REMOVE here"
    assert case.name in SAME_TITLE, "give the new case a same-title hook in SAME_TITLE here"


def test_a_removal_behind_304_is_reported_after_the_second_healthy_miss(
    conditional_site: Site, tmp_path: Path
) -> None:
    case, replica, _app, server = conditional_site
    config = _config(tmp_path, case.source(replica, server.url))
    store = Store(config.store.url)
    pipeline = Pipeline(config, store)
    source = config.sources[0]
    first = collect(case, replica, server.url)
    # the newest record: inside every window, so its absence is a real one
    gone = max(first.records, key=lambda r: (r.date or "", r.key))
    assert pipeline.check(source).outcome == "baseline"
    REMOVE[case.name](replica, gone.key)
    outcomes = [pipeline.check(source).outcome for _ in range(3)]
    assert "failed" not in outcomes and "blocked" not in outcomes
    removed = [
        c for c in list_changes(store, ChangeFilter(limit=10_000)) if c["event"] == "removed"
    ]
    assert len(removed) == 1 and removed[0]["title"] == gone.title
    assert outcomes == ["unchanged", "changed", "unchanged"]
    assert _events(store) == ["removed"]


def test_a_move_to_another_host_name_is_no_change(conditional_site: Site, tmp_path: Path) -> None:
    case, replica, _app, server = conditional_site
    store_config = _config(tmp_path, case.source(replica, server.url))
    store = Store(store_config.store.url)
    assert Pipeline(store_config, store).check(store_config.sources[0]).outcome == "baseline"
    moved = _config(tmp_path, case.settings(replica, server.url.replace("127.0.0.1", "localhost")))
    pipeline = Pipeline(moved, store)
    outcomes = [pipeline.check(moved.sources[0]).outcome for _ in range(3)]
    assert outcomes == ["unchanged"] * 3
    assert _events(store) == []


WINDOW_CASES = [case for case in CASES if case.name in ("federal-register", "rss")]


@pytest.mark.parametrize("case", WINDOW_CASES, ids=[c.name for c in WINDOW_CASES])
def test_a_record_leaving_the_window_is_never_removed(case: ReplicaCase, tmp_path: Path) -> None:
    with serve(case) as running:
        replica, server, raw = running.replica, running.server, running.source
        config = _config(tmp_path, raw)
        store = Store(config.store.url)
        first = collect(case, replica, server.url)
        assert first.coverage in (Coverage.WINDOW, Coverage.NEWEST)
        oldest = min(first.records, key=lambda r: (r.date or "", r.key))
        assert Pipeline(config, store).check(config.sources[0]).outcome == "baseline"
        if case.name == "federal-register":
            # the window moves on: a shorter `days` is the same as weeks passing
            assert oldest.date is not None
            newest = max(r.date or "" for r in first.records)
            raw = {**raw, "days": max(1, _days_since(oldest.date) - 1)}
            assert newest > oldest.date
        else:
            REMOVE[case.name](replica, oldest.key)  # the feed's oldest item drops off
        narrowed = _config(tmp_path, raw)
        pipeline = Pipeline(narrowed, store)
        for _ in range(3):
            assert pipeline.check(narrowed.sources[0]).outcome in ("unchanged", "changed")
        assert "removed" not in _events(store)


def _days_since(iso: str) -> int:
    from datetime import date

    return (date.today() - date.fromisoformat(iso)).days


def _fda_twice(replica: Any, title: str, **kwargs: Any) -> None:
    for suffix in ("", "-reissued"):  # one title, two documents (two slugs)
        slug = replica.add_guidance(title, **kwargs)
        doc = replica.docs.pop(slug)
        doc.slug = slug + suffix
        replica.docs[doc.slug] = doc


def _cde_twice(replica: Any, title: str) -> None:
    for suffix in ("a", "b"):  # the replica's ids hash the title: give each its own
        record = replica.add_guideline(title, "20261120", listing="domestic")
        del replica.guidelines[record.id]
        record.id += suffix
        for file in record.files:  # and its own files and 文号: sharing one is one document
            file.id += suffix
        record.doc_number = f"2026年第{90 + len(suffix + record.id) % 7 + ord(suffix)}号"
        replica.guidelines[record.id] = record


class _DuplicateAlias(EmaDocument):
    """Drupal gives a second page with one title the alias ``<slug>-0``."""

    @property
    def slug(self) -> str:
        return EmaDocument.slug.fget(self) + "-0"  # type: ignore[attr-defined,no-any-return]


def _ema_twice(replica: Any, title: str) -> None:
    replica.add_document(title)
    replica.docs[replica.add_document(title)].__class__ = _DuplicateAlias


SAME_TITLE: dict[str, Callable[[Any, str], object]] = {
    "cde": _cde_twice,
    "nmpa": lambda r, t: [r.add_article("ggtg", t, day) for day in ("2026-11-25", "2026-11-26")],
    "fda-guidance": lambda r, t: _fda_twice(r, t),
    "fda-cber-cgt": lambda r, t: _fda_twice(r, t, cgt_label="Guidance for Industry"),
    "federal-register": lambda r, t: [r.announce(t) for _ in "ab"],
    "ema-documents": _ema_twice,
    "rss": _ema_twice,
}


def test_two_documents_with_one_title_are_two_alerts(
    conditional_site: Site, tmp_path: Path
) -> None:
    case, replica, _app, server = conditional_site
    config = _config(tmp_path, case.source(replica, server.url))
    store = Store(config.store.url)
    pipeline = Pipeline(config, store)
    assert pipeline.check(config.sources[0]).outcome == "baseline"
    title = (
        "细胞治疗产品说明书撰写指导原则"
        if case.name in ("cde", "nmpa")
        else "Labeling for Cellular Therapy Products"
    )
    SAME_TITLE[case.name](replica, title)
    getattr(replica, "_edited", lambda: None)()
    pipeline.check(config.sources[0])
    new = [
        c
        for c in list_changes(store, ChangeFilter(limit=10_000))
        if c["kind"] == "added" and title in c["title"]
    ]
    assert len(new) == 2 and all(c["mirror_of"] is None for c in new)


# adapters that read a detail page per record, and how to recognise one
DETAIL_PAGES = {"cde": "/zdyz/domesticinfopage", "nmpa": "/xxgk/"}


@pytest.mark.parametrize("kind", sorted(DETAIL_PAGES))
def test_one_broken_detail_page_leaves_the_source_healthy(kind: str, tmp_path: Path) -> None:
    case = next(c for c in CASES if c.name == kind)
    broken: list[str] = []

    def wrap(replica: Any) -> Callable[[Request], Response]:
        def app(request: Request) -> Response:
            path = request.path
            is_detail = (
                DETAIL_PAGES[kind] in path
                and not path.endswith(("/", "index.html"))
                and "index_" not in path
            )
            if is_detail and (not broken or broken[0] == path):
                broken[:1] = [path]
                return Response(status=500, body="<html>Internal Server Error</html>")
            answer: Response = replica(request)
            return answer

        return app

    with serve(case, wrap=wrap) as running:
        replica, server = running.replica, running.server
        config = _config(tmp_path, running.source)
        store = Store(config.store.url)
        result = Pipeline(config, store).check(config.sources[0])
        every = collect(case, replica, server.url)
    assert broken, "no detail page was read"
    assert result.outcome == "baseline", result.error
    assert result.records == len(every.records)  # the broken item is kept from the list
