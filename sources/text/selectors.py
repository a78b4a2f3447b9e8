"""CSS selectors with an attribute suffix, and the HTML helpers around them.

A *selector spec* is a CSS selector, optionally followed by ``@attribute``:

- ``"a"``            the text of the first ``<a>`` (whitespace collapsed);
- ``"a@href"``       the ``href`` attribute of the first ``<a>``;
- ``"a[title]@title"`` the ``title`` attribute of the first ``<a title=…>``;
- ``"@data-id"``     an attribute of the element itself (the list item);
- ``"."``            the text of the element itself (e.g. a date written in
                     the item's own text: ``"Title; Draft Guidance 12/2023"``).

The same ``@`` suffix is used by ``json-list`` for values that are HTML
fragments: ``"title@href"`` is the ``href`` inside the ``title`` field.

URLs found through a spec are made absolute against the page they came from;
``canonical_url`` drops the fragment and session tokens so that a record key
built from a link does not change from one visit to the next.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

import cssselect
from cssselect import parser as css
from lxml import etree
from lxml import html as lxml_html

from sources.text.urls import absolute_url, canonical_url

if TYPE_CHECKING:  # Beautiful Soup and soupsieve are imported where a page is read
    # with them: a warm check reads none, and importing them costs a tenth of its CPU
    from bs4 import BeautifulSoup, Tag

__all__ = [
    "Spec",
    "absolute_url",
    "canonical_url",
    "check_css",
    "check_spec",
    "clean_text",
    "containers_empty",
    "css_xpath",
    "fragment_attr",
    "fragment_text",
    "lxml_safe",
    "make_soup",
    "node_text",
    "parse_spec",
    "parse_tree",
    "select_nodes",
    "select_value",
    "select_values",
    "tree_text",
]

_ATTR = re.compile(r"^[A-Za-z_:][-A-Za-z0-9_:.]*$")
_XML_PROLOG = re.compile(r"^\s*(?:<\?xml[^>]*\?>\s*)+", re.IGNORECASE)
_SPACE = re.compile(r"\s+")
_SELF = frozenset({"", ".", ":scope"})  # the element itself, e.g. the list item
_TAG = re.compile(r"<[^>]*>")
_BR = "\ue000"  # marks a <br> until the text is assembled (private-use character)
_ENTITY = re.compile(r"&(?:#\d+|#x[0-9a-fA-F]+|[A-Za-z][A-Za-z0-9]*);")
_SCREEN_READER = frozenset({"sr-only", "visually-hidden"})


@dataclass(frozen=True)
class Spec:
    """A parsed selector spec: ``css`` (may be empty: the element itself) and ``attr``."""

    css: str
    attr: str | None = None

    def __str__(self) -> str:
        return f"{self.css}@{self.attr}" if self.attr else self.css


@lru_cache(maxsize=1024)
def parse_spec(spec: str) -> Spec:
    """Split ``"a.next@href"`` into ``Spec("a.next", "href")``."""
    css, sep, attr = spec.strip().rpartition("@")
    if sep and _ATTR.match(attr.strip()):
        return Spec(css.strip(), attr.strip())
    return Spec(spec.strip(), None)


# Tags, classes and ids joined by spaces or ">" (".list ul li", "span", "div#main>a")
# are valid CSS as written: check_css passes them without soupsieve, whose first
# compile builds its own patterns (a fifth of a warm ``regwatch check``'s start-up).
_WS = "[ \t\r\n\f]"
_IDENT = "-?[A-Za-z_][-A-Za-z0-9_]*"
_COMPOUND = f"(?:(?:[A-Za-z][-A-Za-z0-9]*|\\*)(?:[.#]{_IDENT})*|(?:[.#]{_IDENT})+)"
_SIMPLE_CSS = re.compile(f"{_WS}*{_COMPOUND}(?:{_WS}*>{_WS}*{_COMPOUND}|{_WS}+{_COMPOUND})*{_WS}*")


@lru_cache(maxsize=1024)
def check_css(selector: str) -> str:
    """Raise ``ValueError`` naming the problem when ``selector`` is not valid CSS."""
    if _SIMPLE_CSS.fullmatch(selector):
        return selector
    import soupsieve

    try:
        soupsieve.compile(selector)
    except (soupsieve.SelectorSyntaxError, ValueError, TypeError) as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ValueError(f"invalid CSS selector {selector!r}: {first}") from None
    return selector


def check_spec(spec: str) -> str:
    """Raise ``ValueError`` when the CSS part of a selector spec is not valid."""
    parsed = parse_spec(spec)
    if not parsed.css and not parsed.attr:
        raise ValueError('empty selector (use "." for the element itself)')
    if parsed.css not in _SELF:
        check_css(parsed.css)
    return spec


def make_soup(markup: str) -> BeautifulSoup:
    """Parse HTML leniently (lxml): broken markup never raises.

    A leading XML prolog is dropped first: XHTML pages carry one, and Beautiful
    Soup would otherwise warn that it is parsing XML as HTML.
    """
    from bs4 import BeautifulSoup

    return BeautifulSoup(_prepared(markup), "lxml")


def _prepared(markup: str) -> str:
    markup = _XML_PROLOG.sub("", markup.lstrip("\ufeff"), count=1)
    if "<" not in markup:
        markup = f"<p>{html.escape(markup, quote=False)}</p>"
    return markup


def clean_text(text: str) -> str:
    """Collapse runs of whitespace (including non-breaking and ideographic
    spaces: every character ``str.isspace`` knows) into one space."""
    return " ".join(text.split())


def node_text(node: Tag) -> str:
    """The visible text of one element, whitespace collapsed."""
    return clean_text(node.get_text(" "))


def select_nodes(node: Tag, spec: Spec | str) -> list[Tag]:
    """The elements ``spec`` points at under ``node`` (``node`` itself for ``"."``/``"@attr"``)."""
    spec = parse_spec(spec) if isinstance(spec, str) else spec
    if spec.css in _SELF:
        return [node]
    from bs4 import Tag

    return [found for found in node.select(spec.css) if isinstance(found, Tag)]


def _value(node: Tag, spec: Spec) -> str | None:
    if spec.attr is None:
        text = node_text(node)
        return text or None
    raw = node.get(spec.attr)
    if raw is None:
        return None
    value = clean_text(" ".join(raw) if isinstance(raw, list) else str(raw))
    return value or None


def select_value(node: Tag, spec: Spec | str) -> str | None:
    """The first non-empty value ``spec`` finds under ``node``, or None."""
    spec = parse_spec(spec) if isinstance(spec, str) else spec
    for match in select_nodes(node, spec):
        value = _value(match, spec)
        if value:
            return value
    return None


def select_values(node: Tag, spec: Spec | str) -> list[str]:
    """Every non-empty value ``spec`` finds under ``node``, in document order."""
    spec = parse_spec(spec) if isinstance(spec, str) else spec
    values = (_value(match, spec) for match in select_nodes(node, spec))
    return [value for value in values if value]


_CJK = re.compile(r"[\u3000-\u303f\u3040-\u30ff\u3400-\u9fff\uf900-\ufaff\uff00-\uffef]")


def _join(texts: Iterable[str]) -> str:
    """Text nodes joined by one space, or by nothing between two CJK characters."""
    out = ""
    for text in texts:
        if out and text and not (_CJK.match(out[-1]) and _CJK.match(text[0])):
            out += " "
        out += text
    return out


def fragment_text(value: object, *, breaks: str = "; ", drop_hidden: bool = False) -> str:
    """Plain text of a value that may be an HTML fragment (FDA's JSON style).

    Entities are unescaped (twice when the site escaped them twice:
    ``Q&amp;amp;A``), tags stripped, with ``drop_hidden`` screen-reader-only
    elements (``class="sr-only"`` / ``visually-hidden``) dropped (FDA's own
    pages label links that way), ``<br>`` (one or more)
    becomes ``breaks`` (``"; "``: FDA joins several offices with
    ``<br><br>``), all other whitespace collapsed. A tag between two CJK
    characters adds no space (``《<em>药品</em>注册管理办法》``, a search
    highlight, reads as one word); elsewhere text on both sides of a tag is
    separated by one space. None is "".
    """
    return breaks.join(fragment_list(value, blocks=False, drop_hidden=drop_hidden))


def fragment_list(value: object, *, blocks: bool = True, drop_hidden: bool = False) -> list[str]:
    """The non-empty parts of a fragment, as ``fragment_text`` reads them, that
    ``<br>`` separates — and, with ``blocks``, the ends of ``<p>`` and ``<li>``."""
    if value is None:
        return []
    return list(_fragment_parts(str(value), blocks, drop_hidden))


@lru_cache(maxsize=4096)  # pure; catalogue fields repeat (centres, offices, types)
def _fragment_parts(text: str, blocks: bool, drop_hidden: bool) -> tuple[str, ...]:
    if "<" not in text and "&" not in text:
        parts = [text]
    else:
        root = _fragment(text)
        if root is None:
            parts = [html.unescape(_TAG.sub(" ", text))]
        else:
            parts = _join(_text_nodes(root, blocks, drop_hidden)).split(_BR)
    out = []
    for part in parts:
        if _ENTITY.search(part):  # escaped twice: what a reader sees is one level down
            part = html.unescape(part)
        part = clean_text(part)
        if part:
            out.append(part)
    return tuple(out)


def _text_nodes(root: lxml_html.HtmlElement, blocks: bool, drop_hidden: bool) -> list[str]:
    hidden = [
        el
        for el in (root.iter() if drop_hidden else ())
        if isinstance(el.tag, str) and _SCREEN_READER & set((el.get("class") or "").split())
    ]
    for element in hidden:
        if element.getparent() is not None:
            element.drop_tree()  # keeps the text after it
    for element in root.iter("br", "p", "li") if blocks else root.iter("br"):
        element.tail = _BR + (element.tail or "")
    return list(root.itertext())


def fragment_attr(value: object, attr: str) -> str | None:
    """The first ``attr`` (e.g. ``href``) of any element in an HTML fragment."""
    if value is None or "<" not in str(value):
        return None
    root = _fragment(str(value))
    for element in root.iter() if root is not None else ():
        found = element.get(attr) if isinstance(element.tag, str) else None
        if found and found.strip():
            return clean_text(found)
    return None


def _fragment(value: str) -> lxml_html.HtmlElement | None:
    # lxml directly, not Beautiful Soup: a JSON file can hold thousands of fragments.
    try:
        return lxml_html.fragment_fromstring(value, create_parent="div")
    except (etree.LxmlError, ValueError):
        return None


# -- lxml without Beautiful Soup -------------------------------------------------
#
# The same parse as ``make_soup`` (libxml2's HTML parser, fed in the chunks
# Beautiful Soup feeds it), read with XPath instead of Beautiful Soup's Python
# tree: about 10x less CPU for a list page. ``css_xpath`` only accepts the
# selectors whose XPath matches exactly what soupsieve matches; for any other
# the caller keeps the Beautiful Soup path.

_FEED_CHUNK = 512  # bs4's LXMLTreeBuilder.CHUNK_SIZE
# Beautiful Soup gives the text inside these its own string classes, which
# get_text() leaves out (unless asked on such an element itself).
_STRING_CONTAINERS = frozenset({"script", "style", "template", "rt", "rp"})
# Attributes Beautiful Soup splits into lists, and attributes whose values
# soupsieve compares case-insensitively in HTML: value selectors on them stay
# with soupsieve.
_LIST_ATTRIBUTES = frozenset(
    {
        "class",
        "dropzone",
        "accesskey",
        "rel",
        "rev",
        "headers",
        "accept-charset",
        "archive",
        "sizes",
        "sandbox",
        "for",
    }
)
_PSEUDOS = frozenset(
    {"first-child", "last-child", "only-child", "first-of-type", "last-of-type", "only-of-type"}
)
_NTH = frozenset({"nth-child", "nth-last-child", "nth-of-type", "nth-last-of-type"})
_OPERATORS = frozenset({"exists", "=", "^=", "$=", "*=", "|="})
# Beautiful Soup splits class on every character Python's \s matches; XPath
# cannot name the control characters among them, so a page holding one of
# those keeps the Beautiful Soup path (``lxml_safe``).
_WHITESPACE = "".join(c for c in map(chr, (0x85, *range(0xA0, 0x3001))) if c.isspace())
# ... and so does a page with a <template>, whose contents soupsieve keeps apart.
# Two searches, "<template" written out in both cases: one alternation, or
# IGNORECASE, leaves re no first character to skip by (a tenth of the CPU of
# a list page). No character but these letters matches them case-insensitively.
_NOT_FOR_LXML = (re.compile("[\x0b\x0c\x1c-\x1f]"), re.compile("<[tT][eE][mM][pP][lL][aA][tT][eE]"))
_DEEP = etree.XPath("boolean(/" + "/".join(["*"] * 250) + ")")


class _Translator(cssselect.HTMLTranslator):
    def xpath_class(self, class_selector: css.Class) -> cssselect.xpath.XPathExpr:
        xpath = self.xpath(class_selector.selector)
        classes = (
            f"translate(@class, {self.xpath_literal(_WHITESPACE)}, "
            f"{self.xpath_literal(' ' * len(_WHITESPACE))})"
        )
        return self.xpath_attrib_includes(xpath, classes, class_selector.class_name)


def _plain(tree: object) -> bool:
    """True when every part of a parsed selector means the same to soupsieve."""
    if isinstance(tree, css.Element):
        return tree.namespace is None
    if isinstance(tree, css.Class | css.Hash):
        return _plain(tree.selector)
    if isinstance(tree, css.Attrib):
        return _plain_attrib(tree)
    if isinstance(tree, css.Pseudo):
        return tree.ident.lower() in _PSEUDOS and _plain(tree.selector)
    if isinstance(tree, css.Function):
        return tree.name.lower() in _NTH and _plain(tree.selector)
    if isinstance(tree, css.Negation):
        return (
            not isinstance(tree.subselector, css.CombinedSelector)
            and _plain(tree.selector)
            and _plain(tree.subselector)
        )
    if isinstance(tree, css.CombinedSelector):
        return (
            tree.combinator in (" ", ">", "+", "~")
            and _plain(tree.selector)
            and _plain(tree.subselector)
        )
    return False


def _plain_attrib(tree: css.Attrib) -> bool:
    """An attribute test means the same to soupsieve when it has no namespace
    or flag, a known operator, and (unless it tests existence) compares a
    non-empty value of an attribute that is neither a word list nor matched
    case-insensitively by soupsieve."""
    if tree.namespace is not None or tree.flag is not None or tree.operator not in _OPERATORS:
        return False
    if tree.operator != "exists" and not _plain_value(tree):
        return False
    return _plain(tree.selector)


def _plain_value(tree: css.Attrib) -> bool:
    name = tree.attrib.lower()
    from soupsieve.css_parser import HTML_CASE_INSENSITIVE_ATTRIBUTES

    if name in _LIST_ATTRIBUTES or name in HTML_CASE_INSENSITIVE_ATTRIBUTES:
        return False
    return bool(tree.value and tree.value.value)


@lru_cache(maxsize=1024)
def css_xpath(selector: str) -> etree.XPath | None:
    """The XPath (over a whole document) for a CSS selector, or None when the
    selector uses something soupsieve and cssselect read differently."""
    try:
        parsed = css.parse(selector)
        if not parsed or any(s.pseudo_element or not _plain(s.parsed_tree) for s in parsed):
            return None
        translator = _Translator()
        return etree.XPath(" | ".join(translator.selector_to_xpath(s) for s in parsed))
    except (cssselect.SelectorError, cssselect.xpath.ExpressionError, etree.XPathError):
        return None


def lxml_safe(markup: str) -> bool:
    """True when ``parse_tree`` + ``css_xpath`` read ``markup`` exactly like Beautiful Soup."""
    return not any(pattern.search(markup) for pattern in _NOT_FOR_LXML)


def parse_tree(markup: str) -> etree._Element | None:
    """``make_soup``'s parse as an lxml tree (the root ``<html>``); never raises.

    None when lxml cannot stand in for Beautiful Soup here (a tree nested so
    deep that libxml2 stops building it)."""
    markup = _prepared(markup)
    parser = etree.HTMLParser(recover=True)
    try:
        for start in range(0, len(markup), _FEED_CHUNK):
            parser.feed(markup[start : start + _FEED_CHUNK])
        root: etree._Element | None = parser.close()
    except etree.LxmlError:
        return None
    if root is not None and _DEEP(root):
        return None  # libxml2 stops building a tree at depth 256; Beautiful Soup does not
    return root


def containers_empty(root: etree._Element) -> bool:
    """True when no string container (``<script>``, ``<style>``, ``<template>``,
    ``<rt>``, ``<rp>``) of the tree holds an element: then no element lies
    inside one, and ``tree_text`` need not look at an element's ancestors."""
    return not any(
        isinstance(child.tag, str)  # an element, not a comment
        for container in root.iter(*_STRING_CONTAINERS)
        for child in container
    )


def tree_text(node: etree._Element, *, containers_empty: bool = False) -> str:
    """``node_text`` for an lxml element: the strings ``get_text`` would join.
    ``containers_empty``: the caller knows ``containers_empty(root)`` of its tree."""
    tag = node.tag if isinstance(node.tag, str) else ""
    wanted = tag if tag in _STRING_CONTAINERS else ""
    inside = wanted
    if not inside and not containers_empty:
        inside = next((a.tag for a in node.iterancestors() if a.tag in _STRING_CONTAINERS), "")
    if not len(node) and inside == wanted:  # a leaf (most titles and dates): its own text
        return clean_text(node.text or "")
    parts: list[str] = []
    _strings(node, inside, wanted, parts)
    return clean_text(" ".join(parts))


def _strings(node: etree._Element, inside: str, wanted: str, parts: list[str]) -> None:
    if inside == wanted and node.text:
        parts.append(node.text)
    for child in node:
        if isinstance(child.tag, str):  # comments and processing instructions never count
            _strings(child, child.tag if child.tag in _STRING_CONTAINERS else inside, wanted, parts)
        if inside == wanted and child.tail:
            parts.append(child.tail)
