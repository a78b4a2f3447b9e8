"""Parsers fuzzed with hypothesis: random bytes and mutated replica pages.

Every parse function of every adapter in ``sources/`` (and ``sources.text.decode``,
``sources.fetch.blocks``, ``sources.text.documents``, dates and deadlines) gets random
input and real replica pages with bytes cut, inserted, replaced and
repeated. Allowed outcomes: a valid result, or a ``SourceError`` subclass —
never another exception (which the pipeline would log as an internal error).
A last group runs whole adapters (``collect``) through the real HTTP fetcher
over an in-memory transport whose answers are mutated.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from datetime import date
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from monitor.replica.registry import cases
from monitor.replica.server import Request
from sources.adapters import cde, ema, fda, federal_register, html_list, json_list, nmpa, page, rss
from sources.errors import SourceError
from sources.fetch import blocks
from sources.fetch.http import HttpFetcher, HttpSettings
from sources.registry import adapter_for
from sources.text import decode, documents, msdoc
from sources.text.dates import parse_date
from sources.text.deadlines import extract_deadline
from sources.types import Listing, Record
from tests.helpers.fuzz import BASE, mutated, pages, text

# bs4 *warns* (it does not raise) when a fragment looks like XML or like a file name;
# only pytest's filterwarnings=error would turn that into an exception.
pytestmark = [
    pytest.mark.filterwarnings("ignore::bs4.XMLParsedAsHTMLWarning"),
    pytest.mark.filterwarnings("ignore::bs4.MarkupResemblesLocatorWarning"),
]

EXAMPLES = int(os.environ.get("REGWATCH_FUZZ_EXAMPLES", "60"))  # per parser and input kind
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def survives(call: Callable[[], Any]) -> Any:
    """Run ``call``; a SourceError is a fine answer, anything else escapes."""
    try:
        return call()
    except SourceError:
        return None


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda inner: (
        st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=12), inner, max_size=6)
    ),
    max_leaves=30,
)


# -- each parse function on random bytes and on mutated pages ----------------------------------------------

HTML_LIST = html_list.HtmlListSettings(
    name="x",
    kind="html-list",
    url=BASE + "/list",
    item=".list ul li",
    title="a",
    link="a@href",
    date="span",
)
JSON_LIST = json_list.JsonListSettings(
    name="x",
    kind="json-list",
    url=BASE + "/api",
    records="data.records",
    title="title",
    link="url",
    date="issueDate",
    pages_path="data.pages",
    page_param="pageNum",
)
PAGE = page.PageSettings(name="x", kind="page", url=BASE + "/page", region="div.container")

# name -> (page key, parser of bytes)
PARSERS: dict[str, tuple[str, Callable[[bytes], Any]]] = {
    "cde.parse_list_page": (
        "cde-api",
        lambda b: cde.parse_list_page(_json_or_text(b), BASE + "/zdyz/getDomesticGuideList"),
    ),
    "cde.parse_detail": ("cde-detail", lambda b: cde.parse_detail(text(b), BASE + "/d", BASE)),
    "cde.parse_notice": (
        "cde-notice",
        lambda b: cde.parse_notice(text(b), BASE + "/n", BASE, "2026-11-01"),
    ),
    "nmpa.parse_column_page": (
        "nmpa-column",
        lambda b: nmpa.parse_column_page(
            text(b), BASE + "/xxgk/ggtg/index.html", BASE, "/xxgk/ggtg/"
        ),
    ),
    "nmpa.parse_article": (
        "nmpa-article",
        lambda b: nmpa.parse_article(text(b), BASE + "/xxgk/ggtg/a.html", "2026-11-01"),
    ),
    "fda.parse_guidance_json": ("fda-json", lambda b: fda.parse_guidance_json(b, BASE)),
    "fda.parse_cber_cgt_page": ("fda-cber", lambda b: fda.parse_cber_cgt_page(b, BASE)),
    "ema.parse_documents_json": ("ema-json", lambda b: ema.parse_documents_json(b, BASE)),
    "federal_register.parse_notice_page": (
        "fr-json",
        lambda b: federal_register.parse_notice_page(b),
    ),
    "html_list.parse_list": (
        "nmpa-column-utf8",
        lambda b: html_list.parse_list(text(b), BASE + "/list", HTML_LIST),
    ),
    "json_list.parse_records": (
        "cde-api",
        lambda b: json_list.parse_records(_json_or_text(b), BASE + "/api", JSON_LIST),
    ),
    "json_list.total_pages": (
        "cde-api",
        lambda b: json_list.total_pages(_json_or_text(b), JSON_LIST),
    ),
    "rss.parse_feed": ("ema-rss", lambda b: rss.parse_feed(b, BASE + "/feed.xml")),
    "page.page_text": ("nmpa-article", lambda b: page.page_text(text(b), PAGE, BASE)),
    "documents.extract_text": ("ema-pdf", lambda b: documents.extract_text(b, filename="x.pdf")),
    "msdoc.doc_text": ("word-doc", lambda b: msdoc.doc_text(b)),
}


def _json_or_text(data: bytes) -> Any:
    try:
        return json.loads(data.decode("utf-8", errors="replace"))
    except ValueError:
        return data.decode("utf-8", errors="replace")


@pytest.mark.parametrize("name", sorted(PARSERS))
@FUZZ
@given(data=st.data())
def test_parsers_survive_random_bytes(name: str, data: st.DataObject) -> None:
    _, parser = PARSERS[name]
    survives(lambda: parser(data.draw(st.binary(max_size=3000))))


@pytest.mark.parametrize("name", sorted(PARSERS))
@FUZZ
@given(data=st.data())
def test_parsers_survive_mutated_replica_pages(name: str, data: st.DataObject) -> None:
    key, parser = PARSERS[name]
    survives(lambda: parser(data.draw(mutated(pages()[key]))))


@pytest.mark.parametrize("name", sorted(PARSERS))
def test_the_unmutated_pages_parse(name: str) -> None:
    """The fuzzed pages are real: each parser reads its page (so mutations start from
    something that works)."""
    key, parser = PARSERS[name]
    result = parser(pages()[key])
    assert result is not None


@FUZZ
@given(payload=json_values)
def test_json_parsers_survive_any_json_shape(payload: Any) -> None:
    survives(lambda: cde.parse_list_page(payload, BASE))
    survives(lambda: json_list.parse_records(payload, BASE, JSON_LIST))
    survives(lambda: json_list.total_pages(payload, JSON_LIST))
    raw = json.dumps(payload).encode()
    survives(lambda: fda.parse_guidance_json(raw, BASE))
    survives(lambda: ema.parse_documents_json(raw, BASE))
    survives(lambda: federal_register.parse_notice_page(raw))


@FUZZ
@given(
    body=st.binary(max_size=4000),
    content_type=st.one_of(
        st.none(),
        st.sampled_from(
            [
                "text/html",
                "text/html; charset=gbk",
                "text/html; charset=utf-8",
                "application/json; charset=iso-8859-1",
                "text/html; charset=bogus",
                "text/html; charset=",
            ]
        ),
        st.text(max_size=40),
    ),
)
def test_decoding_never_raises(body: bytes, content_type: str | None) -> None:
    text_out, encoding = decode.decode_html(body, content_type)
    assert isinstance(text_out, str) and encoding
    assert body.decode(decode.json_encoding(body, content_type), errors="replace") is not None
    decode.sniff_declared(body)
    decode.charset_from_content_type(content_type)


@FUZZ
@given(
    status=st.integers(100, 599),
    body=st.binary(max_size=3000),
    headers=st.dictionaries(
        st.sampled_from(["Content-Type", "Location", "Set-Cookie", "Server", "content-type"]),
        st.text(max_size=60),
        max_size=4,
    ),
    expect=st.sampled_from(["html", "json", "xml", "bytes"]),
)
def test_block_detection_never_raises(
    status: int, body: bytes, headers: dict[str, str], expect: Any
) -> None:
    reason = blocks.detect_block(status, headers, body, BASE + "/x", expect)
    assert reason is None or isinstance(reason, str)


@FUZZ
@given(data=st.data(), kind=st.sampled_from(["x.pdf", "x.docx", "x.doc", "x.html", "x.txt", ""]))
def test_documents_survive_random_and_mutated_files(data: st.DataObject, kind: str) -> None:
    body = data.draw(st.one_of(st.binary(max_size=3000), mutated(pages()["ema-pdf"])))
    documents.sniff_kind(body, kind)
    result = survives(lambda: documents.extract_text(body, filename=kind))
    assert result is None or isinstance(result, str)


@FUZZ
@given(words=st.text(max_size=200), day=st.dates())
def test_dates_and_deadlines_survive_any_text(words: str, day: date) -> None:
    value = parse_date(words)
    assert value is None or len(value) == 10
    found = extract_deadline(words, day)
    assert found is None or isinstance(found, date)


# -- whole adapters over a mutating transport --------------------------------------------------------------


# replica options for the fuzzed adapters: lists long enough to page, GBK on one column
SIZES: dict[str, dict[str, Any]] = {
    "nmpa": {"gbk": ["ggtg"]},
    "fda-guidance": {"size": 40},
    "fda-cber-cgt": {"size": 40},
    "ema-documents": {"size": 120},
    "rss": {"size": 600},  # enough open consultations for a feed of several items
    "federal-register": {"size": 30},
}


def _replicas() -> dict[str, tuple[Any, dict[str, Any]]]:
    """Every case of monitor/replica/registry.py with the "fuzz" check: its replica and
    its source table on ``BASE``."""
    out = {}
    for case in cases("fuzz"):
        replica = case.make(**SIZES.get(case.name, {}))
        out[case.name] = (replica, case.source(replica, BASE))
    return out


REPLICAS = _replicas()


class MutatingTransport(httpx.BaseTransport):
    """Answers from a replica app; the ``victim``-th response gets mutated."""

    def __init__(self, app: Any, data: st.DataObject | None, victim: int) -> None:
        self.app, self.data, self.victim, self.count = app, data, victim, 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        url = request.url
        query = {k: v for k, v in url.params.items()}
        answer = self.app(
            Request(
                method=request.method,
                path=url.path,
                query=query,
                headers=dict(request.headers),
                body=request.read(),
                base=BASE,
                raw_query=url.query.decode(),
            )
        )
        body = answer.payload()
        if self.count == self.victim and self.data is not None and body:
            body = self.data.draw(mutated(body))
        self.count += 1
        headers = {"Content-Type": answer.content_type, **answer.headers}
        return httpx.Response(answer.status, headers=headers, content=body)


@pytest.mark.parametrize("kind", sorted(REPLICAS))
def test_adapters_read_the_unmutated_replicas(kind: str) -> None:
    replica, table = REPLICAS[kind]
    adapter_type = adapter_for(table["kind"])
    adapter = adapter_type(adapter_type.Settings.model_validate(table))
    fetcher = HttpFetcher(
        HttpSettings(delay=0, retries=0, timeout=5),
        transport=MutatingTransport(replica, None, victim=-1),
    )
    try:
        listing = adapter.collect(fetcher, {})
    finally:
        fetcher.close()
    if table["kind"] == "page":  # one region's text, no records
        assert listing.page_text and not listing.records
    else:
        assert len(listing.records) >= 3


@pytest.mark.parametrize("kind", sorted(REPLICAS))
@settings(
    max_examples=max(10, EXAMPLES // 2),
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(data=st.data())
def test_adapters_survive_a_mutated_answer(kind: str, data: st.DataObject) -> None:
    import copy

    replica, table = REPLICAS[kind]
    replica = copy.deepcopy(replica)  # replicas count visits: each example starts alike
    adapter_type = adapter_for(table["kind"])
    adapter = adapter_type(adapter_type.Settings.model_validate(table))
    victim = data.draw(st.integers(0, 6))
    fetcher = HttpFetcher(
        HttpSettings(delay=0, retries=0, timeout=5),
        transport=MutatingTransport(replica, data, victim),
    )
    try:
        listing = survives(lambda: adapter.collect(fetcher, {}))
    finally:
        fetcher.close()
    if listing is not None:
        assert isinstance(listing, Listing)
        assert all(isinstance(r, Record) and r.key for r in listing.records)
