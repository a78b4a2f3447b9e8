"""The list parse's shortcuts give what the plain code gives.

``absolute_url`` and ``canonical_url`` join (and canonicalise) a link's folder
once and append its last segment; ``clean_text`` splits on whitespace instead
of a regex; ``tree_text`` skips the ancestors when no string container holds
an element; ``lxml_safe`` spells out "<template" in both cases instead of
IGNORECASE. Each must answer exactly as the plain path does, whatever the text.
"""

from __future__ import annotations

import html
import re
import sys
from urllib.parse import urljoin, urlsplit

from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree

from sources.text import urls
from sources.text.selectors import (
    absolute_url,
    canonical_url,
    clean_text,
    containers_empty,
    lxml_safe,
    parse_tree,
    tree_text,
)

_CONTROLS = re.compile(r"[\x00-\x1f\x7f]")


def plain_absolute_url(base: str, href: str | None) -> str | None:
    """``absolute_url`` as it was: urljoin and urlsplit for every link."""
    if not href:
        return None
    href = _CONTROLS.sub("", html.unescape(href)).strip()
    if not href or href == "#":
        return None
    joined = urljoin(base, href)
    if urlsplit(joined).scheme.lower() not in ("http", "https"):
        return None
    return joined


# the characters URLs are made of, and those that change how they are read
url_parts = st.text(alphabet="aB1/.:?#;=&[]@%-_ \t\\", max_size=12)
hrefs = st.one_of(
    st.builds("".join, st.lists(st.sampled_from(["/", "//", ".", "..", "a", "B", ";x=1", ":"]))),
    st.builds(
        "{}{}{}".format,
        st.sampled_from(["", "/", "//", "http://", "HTTPS://Host", "mailto:", "../", "./", "a:"]),
        url_parts,
        url_parts,
    ),
)
bases = st.sampled_from(
    [
        "http://127.0.0.1/col1/index.html",
        "https://Example.org/a/b/",
        "http://h",
        "http://h/a;jsessionid=1/b?q=1#f",
        "ftp://h/a/",
        "http:///x",
    ]
)


@settings(max_examples=600)
@given(bases, hrefs)
def test_absolute_url_is_the_plain_urljoin(base: str, href: str) -> None:
    try:
        expected: str | type[ValueError] | None = plain_absolute_url(base, href)
    except ValueError:  # an unbalanced "[" in a host
        expected = ValueError
    try:
        got: str | type[ValueError] | None = absolute_url(base, href)
    except ValueError:
        got = ValueError
    assert got == expected


@settings(max_examples=600)
@given(bases, hrefs, st.booleans())
def test_canonical_url_is_the_plain_canonical_url(base: str, href: str, keep: bool) -> None:
    for url in (href, urljoin(base, href.replace("[", "").replace("]", ""))):
        try:
            expected: str | type[ValueError] = urls._canonical(url, keep)
        except ValueError:
            expected = ValueError
        try:
            got: str | type[ValueError] = canonical_url(url, keep_fragment=keep)
        except ValueError:
            got = ValueError
        assert got == expected, url


def test_a_list_page_link_is_its_folder_plus_its_name() -> None:
    base = "http://127.0.0.1/col3/index.html"
    href = "../../xxgk/ggtg/3/202600003019.html"
    assert absolute_url(base, href) == "http://127.0.0.1/xxgk/ggtg/3/202600003019.html"
    assert absolute_url(base, "//Other.org") == "http://Other.org"
    assert canonical_url("HTTP://Other.org") == "http://other.org"
    assert canonical_url("http://H/a;jsessionid=9/b.html") == "http://h/a/b.html"
    assert absolute_url(base, "javascript:x/y") is None


def test_clean_text_collapses_every_whitespace_character() -> None:
    spaces = "".join(c for c in map(chr, range(sys.maxunicode + 1)) if c.isspace())
    text = f"{spaces}a{spaces}b c\xa0\u3000d{spaces}"
    assert clean_text(text) == re.sub(r"\s+", " ", text).strip() == "a b c d"


markup_parts = st.sampled_from(
    [
        "<span>x</span>",
        "<a href='a'>标题 </a>",
        "<script>var a;</script>",
        "<template><b>t</b></template>",
        "<ruby>漢<rt><span>kan</span></rt></ruby>",
        "<style>p{}</style>",
        "<!-- c -->tail",
        " text ",
        "<br>",
    ]
)


@settings(max_examples=300)
@given(st.lists(markup_parts, min_size=1, max_size=8))
def test_tree_text_without_the_ancestors_is_tree_text(parts: list[str]) -> None:
    root = parse_tree(f"<html><body><ul><li>{''.join(parts)}</li></ul></body></html>")
    assert root is not None
    empty = containers_empty(root)
    for node in root.iter():
        if isinstance(node.tag, str):
            assert tree_text(node, containers_empty=empty) == tree_text(node)
    holds = any(len(el) for el in root.iter("script", "style", "template", "rt", "rp"))
    assert empty == (not holds)


def test_a_span_inside_rt_is_read_as_inside_it() -> None:
    root = etree.fromstring("<html><body><rt><span>kan</span></rt></body></html>")
    span, rt = root.find(".//span"), root.find(".//rt")
    assert span is not None and rt is not None
    assert not containers_empty(root)  # so the ancestors are looked at: rt's strings
    assert tree_text(span) == ""  # are left out, as Beautiful Soup's get_text does,
    assert tree_text(rt) == "kan"  # unless asked on rt itself


@settings(max_examples=300)
@given(
    st.lists(
        st.sampled_from(["<template>", "<TEMPLATE", "<TeMpLaTe ", "<templ", "\x0b", "\x1f", "<p>"])
        | st.sampled_from(["\u212a", "ſ", "ı", "İ", "细胞", "temp late", "<", " "]),
        max_size=6,
    ).map("".join)
)
def test_lxml_safe_is_the_plain_case_insensitive_search(markup: str) -> None:
    plain = re.compile("[\x0b\x0c\x1c-\x1f]|<template", re.IGNORECASE)
    assert lxml_safe(markup) == (plain.search(markup) is None)


def test_only_ascii_letters_match_the_letters_of_template() -> None:
    chars = "".join(chr(cp) for cp in range(sys.maxunicode + 1))
    for letter in "template":
        assert set(re.findall(letter, chars, re.IGNORECASE)) == {letter, letter.upper()}
