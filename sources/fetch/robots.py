"""robots.txt: what a site asks robots not to fetch, read once per host a day.

``RobotsCache`` (one per ``HostGate``, so shared by every fetcher of a
process) keeps each origin's (scheme, host, port) rules for ``TTL`` seconds
(a day); ``HttpFetcher`` asks it before every request except robots.txt
itself, and a disallowed URL is refused with ``Disallowed`` (a
``FetchError``): the check becomes a health event, "robots.txt of HOST
disallows PATH", never an alert about documents.

What a robots.txt answer means (RFC 9309, section 2.3.1):

- 2xx: its rules apply;
- 4xx (404 missing, 410, 401/403 too): no rules, everything is allowed;
- 5xx, a timeout, a block page: allowed, and logged as a warning (a refused
  connection is logged at debug: the page request fails next and says so);
  asked again after ``RETRY_UNREACHABLE`` seconds (an hour), not a
  day. RFC 9309 would disallow everything here; regwatch does not, because a
  regulator whose robots.txt stalls would otherwise go silent with nothing
  said (the page itself still fails visibly if the site is down).

Which rules apply: the group whose ``User-agent`` names regwatch's product
token (the ``user_agent`` setting up to its first ``/``, matched like
``urllib.robotparser``: case-insensitive, the group's name contained in the
token), else the ``*`` group; groups naming the same agent are merged.
Within a group the longest matching ``Allow``/``Disallow`` path wins, ``Allow``
on a tie, with ``*`` (any characters) and a final ``$`` (end of URL) as RFC
9309 says; the path includes the query string. (``urllib.robotparser`` reads
``*`` literally and takes the first rule that matches, so it would let
GOV.UK's ``Disallow: /search/all*`` through.) ``Crawl-delay`` of that group
raises the host's delay between requests (``HostGate.set_delay``), capped at
``max_wait``.

The browser fetcher does not read robots.txt: it is a person's browser,
opened by the person who runs regwatch, on a page they chose to watch.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import unquote, urlsplit

from sources.errors import FetchError

log = logging.getLogger("regwatch.robots")

TTL = 24 * 3600.0  # seconds a robots.txt is trusted: re-read daily
RETRY_UNREACHABLE = 3600.0  # seconds before asking again after a 5xx or no answer
MAX_BYTES = 500_000  # RFC 9309: at least 500 KiB must be parsed; the rest is ignored


class Disallowed(FetchError):
    """The site's robots.txt asks robots like regwatch not to fetch this URL."""


@dataclass(frozen=True)
class Rules:
    """The rules of one group: (allow?, path pattern) and the crawl delay."""

    rules: tuple[tuple[bool, str], ...] = ()
    crawl_delay: float | None = None

    def allows(self, url: str) -> bool:
        """Whether the URL's path (and query) may be fetched: longest match wins."""
        target = _path_of(url)
        best_length, allowed = -1, True
        for allow, pattern in self.rules:
            if not pattern:
                continue  # an empty Disallow disallows nothing
            if _matches(pattern, target):
                length = len(pattern)
                if length > best_length or (length == best_length and allow):
                    best_length, allowed = length, allow
        return allowed

    def disallowed_rule(self, url: str) -> str:
        """The rule that disallows ``url`` (for the message), or ""."""
        target = _path_of(url)
        found = [p for allow, p in self.rules if not allow and p and _matches(p, target)]
        return max(found, key=len) if found else ""


ALLOW_ALL = Rules()


@dataclass
class _Group:
    agents: list[str] = field(default_factory=list)
    rules: list[tuple[bool, str]] = field(default_factory=list)
    crawl_delay: float | None = None


def parse(text: str, agent: str) -> Rules:
    """The rules of ``text`` that apply to the product token ``agent``."""
    groups = _groups(text)
    token = agent.split("/", 1)[0].strip().lower()
    mine = [g for g in groups if any(a != "*" and a and a in token for a in g.agents)]
    chosen = mine or [g for g in groups if "*" in g.agents]
    rules = tuple(rule for g in chosen for rule in g.rules)
    delays = [g.crawl_delay for g in chosen if g.crawl_delay is not None]
    return Rules(rules=rules, crawl_delay=max(delays) if delays else None)


def _groups(text: str) -> list[_Group]:
    """The groups of a robots.txt: consecutive User-agent lines open one, the
    rules after them belong to it (rules before any User-agent line to nobody)."""
    groups: list[_Group] = []
    current: _Group | None = None
    in_agents = False
    for raw in text[:MAX_BYTES].splitlines():
        line = raw.split("#", 1)[0].strip()
        if ":" not in line:
            continue
        name, value = (part.strip() for part in line.split(":", 1))
        name = name.lower()
        if name == "user-agent":
            if current is None or not in_agents:
                current = _Group()
                groups.append(current)
            current.agents.append(value.lower())
            in_agents = True
        elif current is not None:
            in_agents = False
            _add_line(current, name, value)
    return groups


def _add_line(group: _Group, name: str, value: str) -> None:
    if name in ("allow", "disallow"):
        group.rules.append((name == "allow", _normalise_pattern(value)))
    elif name == "crawl-delay":
        try:
            group.crawl_delay = max(0.0, float(value))
        except ValueError:
            pass  # an unreadable delay is no delay


def _normalise_pattern(value: str) -> str:
    """Rules and paths are compared percent-decoded (``%2F`` and ``/`` alike)."""
    return unquote(value)


def _path_of(url: str) -> str:
    parts = urlsplit(url)
    return unquote(parts.path or "/") + (f"?{unquote(parts.query)}" if parts.query else "")


def _matches(pattern: str, path: str) -> bool:
    anchored = pattern.endswith("$")
    body = pattern[:-1] if anchored else pattern
    regex = ".*".join(re.escape(piece) for piece in body.split("*"))
    return re.match(regex + ("$" if anchored else ""), path) is not None


def origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


# What fetching robots.txt gave: (status, body) or an exception message.
RobotsFetch = Callable[[str], tuple[int, bytes]]


class RobotsCache:
    """Each origin's robots.txt rules, fetched on first use and kept ``TTL`` s.

    ``fetch(url) -> (status, body)`` reads one robots.txt (raising
    ``FetchError`` when there was no usable answer). ``clock`` is
    ``time.monotonic`` unless a test gives another. Thread-safe: two fetchers
    asking for one host at once read it once.
    """

    def __init__(self, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._host_locks: dict[str, threading.Lock] = {}
        self._rules: dict[str, tuple[float, Rules]] = {}  # origin -> (expires, rules)

    def rules_for(self, url: str, agent: str, fetch: RobotsFetch) -> Rules:
        origin = origin_of(url)
        with self._lock:
            host_lock = self._host_locks.setdefault(origin, threading.Lock())
        with host_lock:
            cached = self._rules.get(origin)
            if cached is not None and cached[0] > self._clock():
                return cached[1]
            rules, keep = self._read(origin, agent, fetch)
            self._rules[origin] = (self._clock() + keep, rules)
            return rules

    def _read(self, origin: str, agent: str, fetch: RobotsFetch) -> tuple[Rules, float]:
        url = f"{origin}/robots.txt"
        try:
            status, body = fetch(url)
        except FetchError as exc:
            if exc.status is not None and 400 <= exc.status < 500:
                return ALLOW_ALL, TTL  # no robots.txt: everything allowed
            # a host that refuses connections fails its page request too, which says
            # so: the robots.txt attempt is only noted; anything else is a warning
            level = logging.DEBUG if exc.message.startswith("network error") else logging.WARNING
            said = "robots.txt of %s not read (%s): allowed, asked again in an hour"
            log.log(level, said, origin, exc)
            return ALLOW_ALL, RETRY_UNREACHABLE
        if 400 <= status < 500:
            return ALLOW_ALL, TTL
        if status >= 300:
            log.warning("robots.txt of %s answered HTTP %d: allowed for now", origin, status)
            return ALLOW_ALL, RETRY_UNREACHABLE
        return parse(body.decode("utf-8", errors="replace"), agent), TTL
