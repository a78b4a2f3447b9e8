"""Matching many labelled patterns at once, fast.

One big alternation ``(?P<a>…)|(?P<b>…)|…`` is correct but slow in Python's
``re``: at every position of the text it tries every alternative. A
:class:`Matcher` gives the same leftmost-first, non-overlapping matches
(``finditer`` of the whole alternation, earlier alternatives winning at a
position) in a fraction of the time: it works out which characters each
pattern can start with, jumps to candidate positions with one character-class
search, and there tries only the patterns that can start with that character.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from functools import cached_property
from re import _constants as C  # type: ignore[attr-defined]
from re import _parser  # type: ignore[attr-defined]
from typing import Any, NamedTuple

_FLAGS = re.IGNORECASE
_SPACES = frozenset(" \t\n\r\f\v")
_DIGITS = frozenset("0123456789")
_MAX_RANGE = 512  # a wider character range counts as "any character"
_ALNUM = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")
_NO_ALNUM_BEFORE = "(?<![A-Za-z0-9])"


class Hit(NamedTuple):
    """One match: whose (its owner's index), which of its patterns, where."""

    owner: int
    pattern: int
    start: int
    end: int


def _cased(chars: set[str]) -> set[str]:
    return chars | {c.lower() for c in chars} | {c.upper() for c in chars if len(c.upper()) == 1}


def _class_chars(items: list[tuple[Any, Any]]) -> set[str] | None:
    out: set[str] = set()
    for op, av in items:
        if op is C.LITERAL:
            out.add(chr(av))
        elif op is C.RANGE and av[1] - av[0] <= _MAX_RANGE:
            out.update(chr(c) for c in range(av[0], av[1] + 1))
        elif op is C.CATEGORY and av is C.CATEGORY_SPACE:
            out |= _SPACES
        elif op is C.CATEGORY and av is C.CATEGORY_DIGIT:
            out |= _DIGITS
        else:
            return None
    return out


def _first_of_item(op: Any, av: Any) -> tuple[set[str] | None, bool]:
    """(characters the item can start with or None for "any", can it match empty)."""
    if op is C.LITERAL:
        return {chr(av)}, False
    if op is C.IN:
        return _class_chars(av), False
    if op is C.SUBPATTERN:
        return _first_of(av[3])
    if op is C.ATOMIC_GROUP:
        return _first_of(av)
    if op is C.BRANCH:
        chars: set[str] = set()
        empty = False
        for branch in av[1]:
            found, nullable = _first_of(branch)
            if found is None:
                return None, False
            chars |= found
            empty = empty or nullable
        return chars, empty
    if op in (C.MAX_REPEAT, C.MIN_REPEAT, C.POSSESSIVE_REPEAT):
        found, nullable = _first_of(av[2])
        return found, av[0] == 0 or nullable
    if op in (C.ASSERT, C.ASSERT_NOT, C.AT):
        return set(), True
    return None, False


def _first_of(items: Any) -> tuple[set[str] | None, bool]:
    chars: set[str] = set()
    for op, av in items:
        found, nullable = _first_of_item(op, av)
        if found is None:
            return None, False
        chars |= found
        if not nullable:
            return chars, False
    return chars, True


def first_chars(pattern: str) -> frozenset[str] | None:
    """The characters a match of ``pattern`` can start with (both cases), or
    None when it could start anywhere (or match the empty string)."""
    found, nullable = _first_of(_parser.parse(pattern, _FLAGS))
    if found is None or nullable:
        return None
    return frozenset(_cased(found))


def _trigger(firsts: list[frozenset[str] | None], anywhere: bool) -> re.Pattern[str]:
    """A search for the positions where some pattern can start. Patterns that
    start with an ASCII letter or digit start a word (see :func:`word_start`),
    so their characters count only where no letter or digit precedes."""
    if anywhere:
        return re.compile(r"(?s:.)")
    at_word: set[str] = set()
    inside: set[str] = set()
    for first in firsts:
        assert first is not None
        (at_word if first <= _ALNUM else inside).update(first)
    at_word -= inside
    parts = []
    if inside:
        parts.append("[" + "".join(re.escape(c) for c in sorted(inside)) + "]")
    if at_word:
        parts.append("(?<![A-Za-z0-9])[" + "".join(re.escape(c) for c in sorted(at_word)) + "]")
    return re.compile("|".join(parts) or r"(?!)")


def word_start(pattern: str) -> str:
    """``pattern``, anchored at a word start when every match begins with an
    ASCII letter or digit ("gene" must not match inside "oncogene")."""
    first = first_chars(pattern)
    if first and first <= _ALNUM and not pattern.startswith(_NO_ALNUM_BEFORE):
        return _NO_ALNUM_BEFORE + pattern
    return pattern


class Matcher:
    """Labelled patterns, matched as one leftmost-first alternation.

    ``entries`` are (owner, patterns): an owner is a cue or a negative cue, and
    a hit says which owner and which of its patterns matched. Earlier entries
    win when two patterns match at the same position.
    """

    def __init__(self, entries: Sequence[tuple[int, Sequence[str]]]) -> None:
        self._labels: dict[str, tuple[int, int]] = {}
        self._labelled: list[tuple[str, str, frozenset[str] | None]] = []
        for owner, patterns in entries:
            for number, pattern in enumerate(patterns):
                name = f"g{owner}_{number}"
                self._labels[name] = (owner, number)
                pattern = word_start(pattern)
                self._labelled.append((name, pattern, first_chars(pattern)))
        firsts = [first for _, _, first in self._labelled]
        self._trigger = _trigger(firsts, any(first is None for first in firsts))
        # per start character, the match method of the alternation of the
        # patterns that can start with it; compiled on first use
        self._by_char: dict[str, Callable[[str, int], re.Match[str] | None]] = {}

    def _compile(self, chosen: Iterable[tuple[str, str, frozenset[str] | None]]
                 ) -> re.Pattern[str]:
        return re.compile("|".join(f"(?P<{n}>{p})" for n, p, _ in chosen) or r"(?!)", _FLAGS)

    def _matcher_for(self, char: str) -> Callable[[str, int], re.Match[str] | None]:
        match = self._compile(item for item in self._labelled
                              if item[2] is None or char in item[2]).match
        self._by_char[char] = match
        return match

    @cached_property
    def alternation(self) -> re.Pattern[str]:
        """The plain alternation of every pattern (what :meth:`hits` is equal to)."""
        return self._compile(self._labelled)

    def label(self, group: str) -> tuple[int, int]:
        """(owner, pattern number) of a group name of :attr:`alternation`."""
        return self._labels[group]

    def hits(self, text: str) -> Iterator[Hit]:
        """Leftmost-first, non-overlapping hits, as ``self.alternation.finditer``."""
        labels, by_char = self._labels, self._by_char
        search = self._trigger.search
        pos, end = 0, len(text)
        while pos < end:
            found = search(text, pos)
            if found is None:
                return
            at = found.start()
            char = text[at]
            match = by_char.get(char) or self._matcher_for(char)
            m = match(text, at)
            if m is None or m.end() == at:
                pos = at + 1
                continue
            owner, number = labels[m.lastgroup or ""]
            yield Hit(owner, number, at, m.end())
            pos = m.end()


class RuleSet:
    """Ordered rules, each a list of patterns with a value ("draft", "guideline"):
    the first rule in order that matches anywhere decides."""

    def __init__(self, rules: Sequence[tuple[str, Sequence[str]]]) -> None:
        self.values = tuple(value for value, _ in rules)
        self.matcher = Matcher([(i, patterns) for i, (_, patterns) in enumerate(rules)])

    def first(self, text: str) -> tuple[str, tuple[int, int]] | None:
        """The value of the first matching rule and where its words are."""
        best: Hit | None = None
        for hit in self.matcher.hits(text):
            if best is None or hit.owner < best.owner:
                best = hit
        return None if best is None else (self.values[best.owner], (best.start, best.end))

    def every(self, text: str) -> set[str]:
        """The values of all rules that match."""
        return {self.values[hit.owner] for hit in self.matcher.hits(text)}
