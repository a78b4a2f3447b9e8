"""Matching many labelled patterns at once, fast.

One big alternation ``(?P<a>…)|(?P<b>…)|…`` is correct but slow in Python's
``re``: at every position of the text it tries every alternative. A
:class:`Matcher` gives the same leftmost-first, non-overlapping matches
(``finditer`` of the whole alternation, earlier alternatives winning at a
position) in a fraction of the time: it works out which characters each
pattern can start with (three characters deep), jumps to candidate positions
with one search, and there tries only the patterns that can start with that
character.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
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


_MAX_PREFIXES = 4096
_MAX_DEPTH = 200


def _prefixes(items: list[tuple[Any, Any]], k: int, depth: int = 0) -> set[str] | None:
    """The strings of up to ``k`` characters that a match of ``items`` can start
    with (shorter ones where a match can end sooner), both cases; None when
    that cannot be worked out. Look-arounds are skipped (a superset is safe)."""
    if k == 0 or not items:
        return {""}
    if depth > _MAX_DEPTH:
        return None
    (op, av), rest = items[0], items[1:]
    if op is C.LITERAL or op is C.IN:
        chars = {chr(av)} if op is C.LITERAL else _class_chars(av)
        if chars is None:
            return {""}  # any character: nothing more is known from here
        return _each_then(chars, rest, k, depth)
    options = _continuations(op, av, rest)
    if options is None:
        return {""}  # any character, a back-reference...: nothing more is known
    out: set[str] = set()
    for option in options:
        found = _prefixes(option, k, depth + 1)
        if found is None:
            return None
        out |= found
        if len(out) > _MAX_PREFIXES:
            return None
    return out


def _each_then(chars: set[str], rest: list[tuple[Any, Any]], k: int, depth: int) -> set[str] | None:
    """One of ``chars`` (either case) followed by a start of ``rest``."""
    tails = _prefixes(rest, k - 1, depth + 1)
    if tails is None or len(chars) * len(tails) > _MAX_PREFIXES:
        return None
    return {c + t for c in _cased(chars) for t in tails}


def _continuations(
    op: Any, av: Any, rest: list[tuple[Any, Any]]
) -> list[list[tuple[Any, Any]]] | None:
    """The item lists a match can go on with when ``op`` (a group, a branch, a
    repeat, a look-around) comes first; None for an item that says nothing."""
    if op is C.SUBPATTERN:
        return [list(av[3]) + rest]
    if op is C.ATOMIC_GROUP:
        return [list(av) + rest]
    if op is C.BRANCH:
        return [list(branch) + rest for branch in av[1]]
    if op in (C.MAX_REPEAT, C.MIN_REPEAT, C.POSSESSIVE_REPEAT):
        low, high, item = av
        options = [rest] if low == 0 else []
        if high != 0:
            again = (op, (max(low - 1, 0), high if high is C.MAXREPEAT else high - 1, item))
            options.append([*item, again, *rest])
        return options
    if op in (C.ASSERT, C.ASSERT_NOT, C.AT):
        return [rest]
    return None


_DEPTH = 3  # characters of each pattern's start the trigger looks at


def starts(pattern: str) -> frozenset[str] | None:
    """The starts (up to ``_DEPTH`` characters) of a match of ``pattern``;
    shorter where a match can be that short or nothing more is known. None when
    a match could start with any character or be empty."""
    if pattern in _STARTS:
        return _STARTS[pattern]
    found = _starts(pattern)
    _STARTS[pattern] = found
    return found


# pattern -> its starts: the lexicon asks for each pattern's starts when it
# reads it (``word_start``) and again when a Matcher is built over it
_STARTS: dict[str, frozenset[str] | None] = {}


def _starts(pattern: str) -> frozenset[str] | None:
    items = list(_parser.parse(pattern, _FLAGS))
    for depth in range(_DEPTH, 0, -1):  # too many long starts: look less deep
        found = _prefixes(items, depth)
        if found is not None:
            return None if "" in found else frozenset(found)
    return None


def first_chars(pattern: str) -> frozenset[str] | None:
    """The characters a match of ``pattern`` can start with (both cases), or
    None when it could start anywhere (or match the empty string)."""
    found = starts(pattern)
    return None if found is None else frozenset(s[0] for s in found)


def _trigger(all_starts: list[frozenset[str] | None]) -> re.Pattern[str]:
    """A search for the positions where some pattern can start: its first
    character followed by what can follow it. Patterns that start with an
    ASCII letter or digit start a word (see :func:`word_start`), so those count
    only where no letter or digit precedes."""
    if any(found is None for found in all_starts):
        return re.compile(r"(?s:.)")
    follow: dict[str, set[str] | None] = {}
    word_only: dict[str, bool] = {}
    for found in all_starts:
        assert found is not None
        at_word = all(s[0] in _ALNUM for s in found)
        for s in found:
            word_only[s[0]] = word_only.get(s[0], True) and at_word
            known = follow.setdefault(s[0], set())
            if known is not None:
                if len(s) == 1:
                    follow[s[0]] = None
                else:
                    known.add(s[1:])
    # one literal-led alternative per character: re then skips to candidate
    # characters with its prefix charset and tries only the alternative of
    # the character found there
    parts = []
    for char in sorted(follow):
        part = re.escape(char)
        if word_only[char]:
            part += "(?<![A-Za-z0-9].)"
        after = follow[char]
        if after is not None:
            part += "(?=" + "|".join(re.escape(a) for a in sorted(after)) + ")"
        parts.append(part)
    return re.compile("|".join(parts) or r"(?!)")


def word_start(pattern: str) -> str:
    """``pattern``, anchored at a word start when every match begins with an
    ASCII letter or digit ("gene" must not match inside "oncogene")."""
    if pattern.startswith(_NO_ALNUM_BEFORE):
        return pattern
    found = starts(pattern)
    first = None if found is None else frozenset(s[0] for s in found)
    if first and first <= _ALNUM:
        anchored = _NO_ALNUM_BEFORE + pattern
        # a look-behind says nothing about what a match starts with (see
        # ``_continuations``): the anchored pattern has the same starts
        _STARTS.setdefault(anchored, found)
        return anchored
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
        self._firsts: list[frozenset[str] | None] = []
        for owner, patterns in entries:
            for number, pattern in enumerate(patterns):
                name = f"g{owner}_{number}"
                self._labels[name] = (owner, number)
                pattern = word_start(pattern)
                found = starts(pattern)
                self._labelled.append((name, pattern, found))
                self._firsts.append(None if found is None else frozenset(s[0] for s in found))
        # per start character, the match method of the alternation of the
        # patterns that can start with it; compiled on first use, and shared by
        # the characters that start the same patterns (a katakana or letter
        # class gives many such characters)
        self._by_char: dict[str, Callable[[str, int], re.Match[str] | None]] = {}
        self._by_set: dict[tuple[int, ...], Callable[[str, int], re.Match[str] | None]] = {}

    def _compile(self, chosen: Iterable[tuple[str, str, frozenset[str] | None]]) -> re.Pattern[str]:
        return re.compile("|".join(f"(?P<{n}>{p})" for n, p, _ in chosen) or r"(?!)", _FLAGS)

    def _matcher_for(self, char: str) -> Callable[[str, int], re.Match[str] | None]:
        chosen = tuple(i for i, first in enumerate(self._firsts) if first is None or char in first)
        match = self._by_set.get(chosen)
        if match is None:
            match = self._compile(self._labelled[i] for i in chosen).match
            self._by_set[chosen] = match
        self._by_char[char] = match
        return match

    @cached_property
    def _trigger(self) -> re.Pattern[str]:
        """The search for candidate positions (``_trigger``), compiled on first use:
        a process that never asks (the product-stem cues of a run whose titles
        name no stem, the metadata statuses of sources without any) skips it."""
        return _trigger([found for _, _, found in self._labelled])

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
                if not best.owner:
                    break  # the first rule: no later hit can come before it
        return None if best is None else (self.values[best.owner], (best.start, best.end))

    def every(self, text: str) -> set[str]:
        """The values of all rules that match."""
        return {self.values[hit.owner] for hit in self.matcher.hits(text)}


# Every character a Latin letter matches case-insensitively (the ASCII
# letters and İ ı ſ K, asserted in tests/test_classify_shortcuts.py)
_LATIN = re.compile("[a-z]", _FLAGS)
_LETTERS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")


@dataclass(frozen=True)
class Gate:
    """The ``[gate]`` patterns, as one yes/no search. Those whose every match
    starts with a Latin letter are searched apart, and only in a text with a
    character ``_LATIN`` finds: a Chinese title is asked one fast search
    instead of a case-insensitive scan of every position."""

    latin: re.Pattern[str]
    other: re.Pattern[str]

    @classmethod
    def of(cls, patterns: Sequence[str]) -> Gate:
        def latin(pattern: str) -> bool:
            first = first_chars(pattern)
            return first is not None and first <= _LETTERS

        def alternation(chosen: list[str]) -> re.Pattern[str]:
            return re.compile("|".join(chosen) or r"(?!)", _FLAGS)

        return cls(
            latin=alternation([p for p in patterns if latin(p)]),
            other=alternation([p for p in patterns if not latin(p)]),
        )

    def search(self, text: str) -> bool:
        """Whether the alternation of all the patterns matches anywhere in ``text``."""
        if self.other.search(text):
            return True
        return _LATIN.search(text) is not None and self.latin.search(text) is not None
