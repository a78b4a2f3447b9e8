"""``html-list`` reads pages with lxml + XPath when it can: the records must be
exactly those the Beautiful Soup + soupsieve reading gives.

Both readers run on the replicas' real pages with many selector settings, on
mutated pages and on random markup built to hit the corners (script, style,
template and ruby text, comments, processing instructions, ``<base>``, odd
whitespace in class names, deep nesting, selectors whose ancestors lie above
the list item).
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sources.adapters.html_list import (
    HtmlListSettings,
    ListPage,
    _parse,
    _selectors,
    _SoupReader,
    _TreeReader,
    parse_list,
)
from sources.text.selectors import css_xpath, lxml_safe, make_soup, parse_tree
from tests.helpers.fuzz import mutated, pages, text

pytestmark = [
    pytest.mark.filterwarnings("ignore::bs4.XMLParsedAsHTMLWarning"),
    pytest.mark.filterwarnings("ignore::bs4.MarkupResemblesLocatorWarning"),
]

BASE = "https://www.example.gov.cn/col/index.html"

SETTINGS: list[dict[str, Any]] = [
    {"item": ".list ul li", "date": "span"},
    {"item": "li", "title": ".", "link": "a@href", "date": "span", "key": "title"},
    {
        "item": "ul > li",
        "title": "a@title",
        "link": "a[href]@href",
        "status": "em",
        "fields": {"number": "span:first-child", "kind": "li > b"},
        "files": ["a[href$='.pdf']"],
    },
    {"item": "div.list li:nth-child(odd)", "title": ".list a", "next": "a.next", "key": "span"},
    {
        "item": "tr",
        "title": "td:nth-of-type(2)",
        "link": "td a@href",
        "date": "td:last-child",
        "files": ["a"],
    },
    {"item": "p, li", "title": "b, i", "link": "@data-href", "next": "a[title=t]@href"},
    {"item": ":not(div) > span", "title": ".", "link": "a@href"},
    {"item": "li", "title": "rt", "link": "a@href", "date": "script"},
    {"item": ".item", "title": "a:not(.hidden)", "link": "a@href", "date": "span ~ em"},
]


def _settings(table: dict[str, Any]) -> HtmlListSettings:
    return HtmlListSettings.model_validate({"name": "x", "kind": "html-list", "url": BASE, **table})


ALL = [_settings(table) for table in SETTINGS]


def both(markup: str, s: HtmlListSettings) -> tuple[ListPage, ListPage] | None:
    """Beautiful Soup's and lxml's reading, or None when lxml would not be used."""
    if not lxml_safe(markup) or any(css_xpath(css) is None for css in _selectors(s)):
        return None
    root = parse_tree(markup)
    if root is None:
        return None
    return _parse(_SoupReader(make_soup(markup)), BASE, s), _parse(_TreeReader(root), BASE, s)


def test_every_setting_here_takes_the_lxml_path() -> None:
    for s in ALL:
        assert all(css_xpath(css) is not None for css in _selectors(s)), s


@pytest.mark.parametrize(
    "selector",
    [
        "a:contains(x)",
        ":scope > a",
        "a[type=pdf]",
        "a[class=x]",
        "*:nth-of-type(2)",
        "p:not(.x p)",
        "a[href=x i]",
        "svg|a",
        "li::before",
        "a:hover",
        "li:nth-child(2 of .x)",
        "a[href^='']",
    ],
)
def test_selectors_soupsieve_reads_differently_keep_beautiful_soup(selector: str) -> None:
    assert css_xpath(selector) is None


@pytest.mark.parametrize(
    "name",
    ["nmpa-column", "nmpa-column-utf8", "nmpa-article", "cde-detail", "cde-notice", "fda-cber"],
)
def test_replica_pages_read_the_same(name: str) -> None:
    markup = text(pages()[name])
    for s in ALL:
        pair = both(markup, s)
        assert pair is not None
        assert pair[0] == pair[1], s.item


def test_the_nmpa_column_is_read_with_lxml_and_gives_its_records() -> None:
    markup = text(pages()["nmpa-column-utf8"])
    page = parse_list(markup, BASE, ALL[0])
    assert page.records and page == _parse(_SoupReader(make_soup(markup)), BASE, ALL[0])


def test_deep_nesting_and_control_spaces_stay_with_beautiful_soup() -> None:
    deep = "<div class=list><ul>" + "<div>" * 3000 + "<li><a href=d.html>四</a></li></ul>"
    assert parse_tree(deep) is None
    assert parse_list(deep, BASE, ALL[0]).records
    assert not lxml_safe("<li class='a\x0cb'>")


TAGS = [
    "div",
    "ul",
    "li",
    "a",
    "span",
    "b",
    "i",
    "em",
    "p",
    "td",
    "tr",
    "table",
    "script",
    "style",
    "template",
    "ruby",
    "rt",
    "rp",
    "base",
    "br",
    "link",
    "pre",
    "textarea",
]
CLASSES = [
    "list",
    "item",
    "next",
    "hidden",
    "list item",
    "list\u3000item",
    "item\xa0list",
    " list ",
    "LIST",
    "list\titem",
]


@st.composite
def markup(draw: st.DrawFn, depth: int = 0) -> str:
    parts: list[str] = []
    for _ in range(draw(st.integers(0, 4 if depth < 4 else 1))):
        kind = draw(st.sampled_from(["tag", "tag", "tag", "text", "comment", "pi", "entity"]))
        if kind == "text":
            parts.append(
                draw(
                    st.sampled_from(
                        [
                            "文件",
                            " ",
                            "\n  ",
                            "x y",
                            "\u3000",
                            "(2026-06-01)",
                            "2026年6月1日",
                            "&amp;",
                            "<",
                            "a\xa0b",
                        ]
                    )
                )
            )
        elif kind == "comment":
            parts.append(f"<!-- {draw(st.sampled_from(['c', '<li>', '--']))} -->")
        elif kind == "pi":
            parts.append("<?php echo 1 ?>")
        elif kind == "entity":
            parts.append(draw(st.sampled_from(["&nbsp;", "&#x4e00;", "&bogus;", "&#0;", "&lt;"])))
        else:
            tag = draw(st.sampled_from(TAGS))
            attrs = ""
            if draw(st.booleans()):
                attrs += f' class="{draw(st.sampled_from(CLASSES))}"'
            if draw(st.booleans()):
                attrs += (
                    f' href="{draw(st.sampled_from(["a.html", "/b.pdf", "#", " c.doc ", ""]))}"'
                )
            if draw(st.booleans()):
                attrs += f' title="{draw(st.sampled_from(["t", " ", "标题"]))}"'
            if draw(st.booleans()):
                attrs += ' data-href="x/y.html" rel="next"'
            inner = draw(markup(depth + 1))
            close = draw(st.sampled_from([f"</{tag}>", f"</{tag}>", ""]))
            parts.append(f"<{tag}{attrs}>{inner}{close}")
    return "".join(parts)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(page=markup(), which=st.integers(0, len(SETTINGS) - 1))
def test_random_markup_reads_the_same(page: str, which: int) -> None:
    pair = both(page, ALL[which])
    if pair is not None:
        assert pair[0] == pair[1]


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), which=st.integers(0, len(SETTINGS) - 1))
def test_mutated_pages_read_the_same(data: st.DataObject, which: int) -> None:
    page = text(data.draw(mutated(pages()["nmpa-column-utf8"])))
    pair = both(page, ALL[which])
    if pair is not None:
        assert pair[0] == pair[1]
