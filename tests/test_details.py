"""``sources.adapters.details.enrich``, the list+detail step ``cde`` and ``nmpa`` share.

A unit test of one function: the fetcher is a stub that answers from a dict
(the adapters' own tests run the same step against their replicas over HTTP).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace

import pytest

from sources.adapters.details import enrich
from sources.errors import Blocked, FetchError, ParseError
from sources.types import Expect, Fetched, Fetcher, Record

BASE = "https://site.example"


@dataclass
class StubFetcher:
    """Answers GETs from ``pages``; a value that is an exception is raised."""

    pages: dict[str, str | Exception]
    asked: list[str] = field(default_factory=list)

    def get(
        self,
        url: str,
        *,
        params: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        expect: Expect = "html",
        conditional: bool = False,
    ) -> Fetched:
        self.asked.append(url)
        page = self.pages[url]
        if isinstance(page, Exception):
            raise page
        return Fetched(url=url, status=200, headers={}, body=page.encode())

    def post(
        self,
        url: str,
        *,
        data: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        expect: Expect = "json",
    ) -> Fetched:
        raise AssertionError("no POST in this test")

    @property
    def validators(self) -> dict[str, dict[str, str]]:
        return {}

    def close(self) -> None:
        pass


class Pages:
    """Detail pages hold ``detail: <text>``; a page saying ``odd`` does not parse."""

    detail_name = "detail page"

    def reuse_detail(self, record: Record, old: Record | None) -> Record | None:
        if old is not None and old.title == record.title and "detail" in old.fields:
            return replace(record, fields={**record.fields, "detail": old.fields["detail"]})
        return None

    def skip_detail(self, record: Record) -> Record | None:
        return record if not record.url.startswith(BASE + "/") else None

    def keep_on_error(self, record: Record, old: Record | None) -> Record:
        if old is not None and "detail" in old.fields:
            return replace(record, fields={**record.fields, "detail": old.fields["detail"]})
        return record

    def read_detail(self, fetcher: Fetcher, record: Record) -> Record:
        text = fetcher.get(record.url).text
        if not text.startswith("detail: "):
            raise ParseError("no detail on the page", url=record.url)
        return replace(record, fields={**record.fields, "detail": text[8:]})


def entry(key: str, title: str = "", url: str | None = None) -> Record:
    return Record(key=key, title=title or key, url=url or f"{BASE}/{key}")


def test_new_entries_read_unchanged_reuse_elsewhere_skip() -> None:
    found = {r.key: r for r in (entry("new"), entry("same"), entry("far", url="https://x/a"))}
    known = {"same": replace(entry("same"), fields={"detail": "kept"})}
    fetcher = StubFetcher({f"{BASE}/new": "detail: fresh"})
    result = enrich(fetcher, found, known, Pages())
    assert fetcher.asked == [f"{BASE}/new"]
    assert result.tried == 1 and result.item_errors == []
    assert list(result.records) == ["new", "same", "far"]  # list order kept
    assert result.records["new"].fields["detail"] == "fresh"
    assert result.records["same"].fields["detail"] == "kept"
    assert "detail" not in result.records["far"].fields


def test_a_retitled_entry_is_read_again() -> None:
    found = {"a": entry("a", "new title")}
    known = {"a": replace(entry("a", "old title"), fields={"detail": "old"})}
    result = enrich(StubFetcher({f"{BASE}/a": "detail: new"}), found, known, Pages())
    assert result.records["a"].fields["detail"] == "new"


@pytest.mark.parametrize(
    "failure",
    [FetchError("HTTP 404", url=f"{BASE}/bad", status=404), "odd page"],
    ids=["http-error", "unparsable"],
)
def test_one_broken_page_degrades_only_its_entry(failure: str | Exception) -> None:
    found = {r.key: r for r in (entry("bad"), entry("good"))}
    known = {"bad": replace(entry("bad", "old"), fields={"detail": "last known"})}
    fetcher = StubFetcher({f"{BASE}/bad": failure, f"{BASE}/good": "detail: ok"})
    result = enrich(fetcher, found, known, Pages())
    assert result.tried == 2
    assert result.item_errors == [f"{BASE}/bad: its page could not be read"]
    assert result.records["bad"].fields["detail"] == "last known"
    assert result.records["good"].fields["detail"] == "ok"


@pytest.mark.parametrize(
    "failure",
    [Blocked("challenge page", url=f"{BASE}/a", status=412), FetchError("reset", url=BASE)],
    ids=["blocked", "network"],
)
def test_a_block_or_a_network_error_fails_the_run(failure: Exception) -> None:
    found = {"a": entry("a"), "b": entry("b")}
    fetcher = StubFetcher({f"{BASE}/a": failure, f"{BASE}/b": "detail: x"})
    with pytest.raises(type(failure)):
        enrich(fetcher, found, {}, Pages())
    assert fetcher.asked == [f"{BASE}/a"]  # nothing more is asked of a site in doubt
