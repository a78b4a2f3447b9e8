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
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

import soupsieve
from bs4 import BeautifulSoup, Tag
from lxml import etree
from lxml import html as lxml_html

__all__ = [
    "Spec",
    "absolute_url",
    "canonical_url",
    "check_css",
    "check_spec",
    "clean_text",
    "fragment_attr",
    "fragment_text",
    "make_soup",
    "node_text",
    "parse_spec",
    "select_nodes",
    "select_value",
    "select_values",
]

_ATTR = re.compile(r"^[A-Za-z_:][-A-Za-z0-9_:.]*$")
_XML_PROLOG = re.compile(r"^\s*(?:<\?xml[^>]*\?>\s*)+", re.IGNORECASE)
_SPACE = re.compile(r"\s+")
_SELF = frozenset({"", ".", ":scope"})  # the element itself, e.g. the list item
_TAG = re.compile(r"<[^>]*>")
_BR = "\ue000"  # marks a <br> until the text is assembled (private-use character)
# Query parameters and path parameters that carry a session, not a document.
_SESSION_PARAMS = frozenset(
    {
        "jsessionid",
        "phpsessid",
        "sid",
        "sessionid",
        "session_id",
        "aspsessionid",
        "cfid",
        "cftoken",
        "_",
        "_t",
    }
)
_PATH_SESSION = re.compile(r";(?:jsessionid|phpsessid|sessionid)=[^/?#]*", re.IGNORECASE)


@dataclass(frozen=True)
class Spec:
    """A parsed selector spec: ``css`` (may be empty: the element itself) and ``attr``."""

    css: str
    attr: str | None = None

    def __str__(self) -> str:
        return f"{self.css}@{self.attr}" if self.attr else self.css


def parse_spec(spec: str) -> Spec:
    """Split ``"a.next@href"`` into ``Spec("a.next", "href")``."""
    css, sep, attr = spec.strip().rpartition("@")
    if sep and _ATTR.match(attr.strip()):
        return Spec(css.strip(), attr.strip())
    return Spec(spec.strip(), None)


def check_css(selector: str) -> str:
    """Raise ``ValueError`` naming the problem when ``selector`` is not valid CSS."""
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
    markup = _XML_PROLOG.sub("", markup.lstrip("\ufeff"), count=1)
    if "<" not in markup:
        markup = f"<p>{html.escape(markup, quote=False)}</p>"
    return BeautifulSoup(markup, "lxml")


def clean_text(text: str) -> str:
    """Collapse runs of whitespace (including non-breaking spaces) into one space."""
    return _SPACE.sub(" ", text.replace("\xa0", " ").replace("\u3000", " ")).strip()


def node_text(node: Tag) -> str:
    """The visible text of one element, whitespace collapsed."""
    return clean_text(node.get_text(" "))


def select_nodes(node: Tag, spec: Spec | str) -> list[Tag]:
    """The elements ``spec`` points at under ``node`` (``node`` itself for ``"."``/``"@attr"``)."""
    spec = parse_spec(spec) if isinstance(spec, str) else spec
    if spec.css in _SELF:
        return [node]
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


def fragment_text(value: str) -> str:
    """Plain text of a value that may be an HTML fragment (FDA's JSON style).

    Entities are unescaped, tags stripped, ``<br>`` becomes ``"; "`` (FDA joins
    several offices with ``<br><br>``), all other whitespace collapsed. A tag
    between two CJK characters adds no space (``《<em>药品</em>注册管理办法》``, a
    search highlight, reads as one word); elsewhere text on both sides of a tag
    is separated by one space.
    """
    if "<" not in value and "&" not in value:
        return clean_text(value)
    root = _fragment(value)
    if root is None:
        return clean_text(html.unescape(_TAG.sub(" ", value)))
    for br in root.iter("br"):
        br.tail = _BR + (br.tail or "")
    parts = (clean_text(part) for part in _join(root.itertext()).split(_BR))
    return "; ".join(part for part in parts if part)


def fragment_attr(value: str, attr: str) -> str | None:
    """The first ``attr`` (e.g. ``href``) of any element in an HTML fragment."""
    if "<" not in value:
        return None
    root = _fragment(value)
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


_CONTROLS = re.compile(r"[\x00-\x1f\x7f]")

def absolute_url(base: str, href: str | None) -> str | None:
    """``href`` resolved against ``base``: an http(s) URL, or None (empty, ``#``, and every
    other scheme: ``javascript:``, ``mailto:``, ``data:``...). Control characters are
    stripped first, the way browsers read a link, so ``\x01javascript:`` is caught."""
    if not href:
        return None
    href = _CONTROLS.sub("", html.unescape(href)).strip()
    if not href or href == "#":
        return None
    joined = urljoin(base, href)
    if urlsplit(joined).scheme.lower() not in ("http", "https"):
        return None
    return joined


def canonical_url(url: str, *, keep_fragment: bool = False) -> str:
    """``url`` without session tokens (``;jsessionid=…``, ``?sid=…``) and, unless
    ``keep_fragment``, without its ``#fragment``; scheme and host lower-cased."""
    parts = urlsplit(url)
    path = _PATH_SESSION.sub("", parts.path)
    pairs = parse_qsl(parts.query, keep_blank_values=True)
    kept = [(k, v) for k, v in pairs if not _is_session_param(k)]
    query = parts.query if len(kept) == len(pairs) else urlencode(kept)
    fragment = parts.fragment if keep_fragment else ""
    return urlunsplit((parts.scheme.lower(), parts.netloc.lower(), path, query, fragment))


def _is_session_param(name: str) -> bool:
    lowered = name.lower()
    return lowered in _SESSION_PARAMS or lowered.startswith("utm_")
