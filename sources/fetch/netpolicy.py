"""Where regwatch may connect, and for how long: the network policy of a fetch.

A regulator's page is hostile input: its links and redirects may point
anywhere. This module decides, for every connection the HTTP fetcher opens:

- **Addresses never a regulator are refused, always**: link-local and the
  cloud metadata services (``169.254.0.0/16``, ``fe80::/10``,
  ``100.100.100.200``), unique-local IPv6 (``fc00::/7``, incl. ``fd00::/8``
  where ``fd00:ec2::254`` lives), ``0.0.0.0/8`` and ``::``, multicast,
  broadcast and reserved ranges. IPv4 mapped into IPv6 (``::ffff:a.b.c.d``,
  ``64:ff9b::/96``) is judged by its IPv4 address.
- **Loopback and private ranges** (``127/8``, ``10/8``, ``172.16/12``,
  ``192.168/16``, ``100.64/10``, ``::1``) only when the configured source
  itself is there (a local mirror, a test); see ``NetworkPolicy.allow_local``.
- The check is made **at connect time** on the addresses the connection
  really uses (the host name is resolved once, checked, and the socket
  connects to the checked address), so a DNS answer that changes between a
  check and the connection (DNS rebinding) cannot slip through.
- **Redirects** stay on the site (host and port; ``http`` -> ``https`` on the
  default ports counts as the same site) of the request, or of the source,
  unless the source lists more in ``allow_redirects_to``.
- **A total deadline** per request (connect, headers and body together) and
  per check: every socket read and write is given only the time left, so a
  server trickling one byte a second cannot hold a check past its deadline.

``guard_transport`` installs the checks into an ``httpx.HTTPTransport``; the
fetcher sets the rules of the request in flight with ``scope`` (a context
variable, so one shared client serves many sources with different rules).
"""

from __future__ import annotations

import ipaddress
import socket
import time
import typing
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import httpcore
import httpx

from sources.errors import FetchError
from sources.fetch.tls import lazy_context

__all__ = [
    "AddressRefused",
    "DeadlineExceeded",
    "NetworkPolicy",
    "RedirectRefused",
    "Scope",
    "address_kind",
    "guard_transport",
    "same_site",
    "scope",
    "site_of",
]

Site = tuple[str, int]
AddressKind = typing.Literal["public", "local", "forbidden"]

_DEFAULT_PORTS = {"http": 80, "https": 443}
_FORBIDDEN = [
    ipaddress.ip_network(n)
    for n in (
        "0.0.0.0/8",
        "169.254.0.0/16",
        "100.100.100.200/32",
        "192.0.0.0/24",
        "224.0.0.0/4",
        "240.0.0.0/4",
        "255.255.255.255/32",
        "::/128",
        "fe80::/10",
        "fc00::/7",
        "ff00::/8",
        "fec0::/10",
    )
]
_LOCAL = [
    ipaddress.ip_network(n)
    for n in (
        "127.0.0.0/8",
        "10.0.0.0/8",
        "172.16.0.0/12",
        "192.168.0.0/16",
        "100.64.0.0/10",
        "198.18.0.0/15",
        "::1/128",
    )
]
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


class AddressRefused(FetchError):
    """The host resolves to an address regwatch never connects to."""


class RedirectRefused(FetchError):
    """A redirect leaves the source's site, or is not http/https."""


class DeadlineExceeded(FetchError):
    """A request or a whole check ran past its deadline; it was abandoned."""


def address_kind(ip: str) -> AddressKind:
    """``"forbidden"`` (never connect), ``"local"`` (loopback/private) or ``"public"``."""
    addr: ipaddress.IPv4Address | ipaddress.IPv6Address = ipaddress.ip_address(ip.split("%")[0])
    if isinstance(addr, ipaddress.IPv6Address):
        if addr.ipv4_mapped is not None:
            addr = addr.ipv4_mapped
        elif addr in _NAT64:
            addr = ipaddress.IPv4Address(int(addr) & 0xFFFFFFFF)
    if any(addr in net for net in _FORBIDDEN if net.version == addr.version):
        return "forbidden"
    if any(addr in net for net in _LOCAL if net.version == addr.version):
        return "local"
    if addr.is_multicast or addr.is_reserved or addr.is_link_local or addr.is_unspecified:
        return "forbidden"
    return "local" if addr.is_private else "public"


def site_of(url: str | httpx.URL) -> Site | None:
    """``(host, port)`` of an http(s) URL, the port filled in; ``None`` for other schemes."""
    parts = urlsplit(str(url).strip())
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS or not parts.hostname:
        return None
    try:
        port = parts.port or _DEFAULT_PORTS[scheme]
    except ValueError:
        return None
    return parts.hostname.lower().rstrip("."), port


def same_site(url: str | httpx.URL, base: str | httpx.URL) -> bool:
    """True when ``url`` is http(s) on ``base``'s host and port (``http`` -> ``https``
    on the default ports counts as the same site)."""
    a, b = site_of(url), site_of(base)
    if a is None or b is None or a[0] != b[0]:
        return False
    return a[1] == b[1] or {a[1], b[1]} == {80, 443}


def _parse_site(entry: str) -> Site:
    text = entry.strip()
    found = site_of(text if "://" in text else f"https://{text}")
    if found is None:
        raise ValueError(f"not a host or URL: {entry!r}")
    if "://" not in text and ":" not in text.split("/")[0]:
        return found[0], 0  # any port of that host
    return found


def _resolve_local(url: str | None) -> bool:
    """True when ``url``'s host is (resolves to) a loopback or private address."""
    host = (site_of(url) or ("", 0))[0] if url else ""
    if not host:
        return False
    try:
        infos = socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        return False
    kinds = {address_kind(str(info[4][0])) for info in infos}
    return kinds == {"local"}


@dataclass(frozen=True)
class NetworkPolicy:
    """The network rules of one source.

    ``site``: the source's own site (from its ``base_url``/``url``); redirects
    may go there and to the request's own site. ``allow_redirects_to``: more
    sites a redirect may go to (``"host"`` = any port, ``"host:port"``, or a
    URL). ``allow_local``: may connect to loopback/private addresses; ``None``
    means "when the request's own URL is local" (a fetcher used without a
    source, as in tests and one-off commands).
    """

    site: str | None = None
    allow_redirects_to: tuple[str, ...] = ()
    allow_local: bool | None = None
    _extra: tuple[Site, ...] = field(default=(), repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_extra", tuple(_parse_site(e) for e in self.allow_redirects_to))

    @classmethod
    def for_source(
        cls,
        base_url: str | None,
        allow_redirects_to: Iterable[str] = (),
        *,
        resolved: dict[str, bool] | None = None,
    ) -> NetworkPolicy:
        """The policy of a configured source: local addresses only if it is local
        itself. ``resolved`` remembers the answer per host name, for the next
        source on the same host (many sources, one name lookup)."""
        if resolved is None:
            allow_local = _resolve_local(base_url)
        else:
            host = (site_of(base_url) or ("", 0))[0] if base_url else ""
            if host not in resolved:
                resolved[host] = _resolve_local(base_url)
            allow_local = resolved[host]
        return cls(
            site=base_url or None,
            allow_redirects_to=tuple(allow_redirects_to),
            allow_local=allow_local,
        )

    def local_ok(self, request_url: str | httpx.URL) -> bool | str:
        """May the request for ``request_url`` (and its redirects) reach local
        addresses: True/False, or the URL whose host decides, resolved only when
        a connection is really opened."""
        if self.allow_local is not None:
            return self.allow_local
        return str(request_url)

    def browser_refusal(self, url: str, *, navigation: bool, origin: str) -> str | None:
        """Why a browser must not make this request (None: it may).

        The browser follows redirects and runs the site's scripts itself, so the
        rules are applied to every request it makes: a top-level navigation stays
        on the site (as ``check_redirect``); no request goes to a link-local,
        metadata or reserved address, nor to a loopback/private one unless the
        source is local itself. ``data:``/``blob:`` sub-resources are not network
        requests and pass. Limit: Chromium follows an HTTP redirect without asking
        the route handler, so the target of a redirect is requested once and only
        then refused (``BrowserFetcher`` never uses what it returned); the browser's
        favicon request for that page bypasses the route handler too (Playwright
        filters favicon requests, microsoft/playwright#7493), so it may follow."""
        found = site_of(url)
        if found is None:
            return "a page that is not http(s)" if navigation else None
        if navigation:
            try:
                self.check_redirect(origin, url)
            except RedirectRefused as exc:
                return exc.message
        try:
            infos = socket.getaddrinfo(found[0], found[1], type=socket.SOCK_STREAM)
        except (OSError, UnicodeError):
            return None  # the browser's own lookup fails the same way: not ours to say
        kinds = {address_kind(str(info[4][0])) for info in infos}
        if "forbidden" in kinds:
            return f"{found[0]} is a link-local, metadata or reserved address: refused"
        if "local" in kinds:
            allowed = self.local_ok(origin)
            if isinstance(allowed, str):
                allowed = _resolve_local(allowed)
            if not allowed:
                return f"{found[0]} is a loopback or private address and the source is not local"
        return None

    def check_redirect(self, origin: str | httpx.URL, target: str | httpx.URL) -> None:
        """Raise ``RedirectRefused`` unless a redirect from ``origin`` to ``target`` may
        be followed."""
        found = site_of(target)
        if found is None:
            raise RedirectRefused(
                f"redirect to a non-http(s) URL refused: {str(target)[:200]}", url=str(origin)
            )
        if same_site(target, origin) or (self.site and same_site(target, self.site)):
            return
        if any(h == found[0] and p in (0, found[1]) for h, p in self._extra):
            return
        raise RedirectRefused(
            f"redirect to another site ({found[0]}:{found[1]}) refused",
            url=str(origin),
            hint="if the source really moved there, list it in the source's "
            f'allow_redirects_to = ["{found[0]}"]',
        )


@dataclass
class Scope:
    """The rules of the request in flight: a monotonic deadline and local access."""

    deadline: float
    allow_local: bool | str  # a URL: local when that URL's host is local
    expired: str = ""

    def local_ok(self) -> bool:
        if isinstance(self.allow_local, str):
            self.allow_local = _resolve_local(self.allow_local)
        return self.allow_local

    def left(self, what: str) -> float:
        remaining = self.deadline - time.monotonic()
        if remaining <= 0:
            self.expired = what
            raise httpcore.ReadTimeout(f"deadline passed during {what}")
        return remaining


_SCOPE: ContextVar[Scope | None] = ContextVar("regwatch_net_scope", default=None)


@contextmanager
def scope(deadline: float, *, allow_local: bool | str) -> Iterator[Scope]:
    """Run the requests of the block under these rules (see the module docstring)."""
    current = Scope(deadline=deadline, allow_local=allow_local)
    token = _SCOPE.set(current)
    try:
        yield current
    finally:
        _SCOPE.reset(token)


def _bound(timeout: float | None, what: str) -> float | None:
    current = _SCOPE.get()
    if current is None:
        return timeout
    left = current.left(what)
    return left if timeout is None else min(timeout, left)


class _DeadlineStream(httpcore.NetworkStream):
    """A socket stream whose every read and write gets at most the time left."""

    def __init__(self, inner: httpcore.NetworkStream) -> None:
        self._inner = inner

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._inner.read(max_bytes, _bound(timeout, "read"))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, _bound(timeout, "write"))

    def close(self) -> None:
        self._inner.close()

    def start_tls(
        self,
        ssl_context: typing.Any,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.NetworkStream:
        return _DeadlineStream(
            self._inner.start_tls(ssl_context, server_hostname, _bound(timeout, "TLS handshake"))
        )

    def get_extra_info(self, info: str) -> typing.Any:
        return self._inner.get_extra_info(info)


def _local_ok(current: Scope | None) -> bool:
    return current.local_ok() if current is not None else False


class GuardedBackend(httpcore.SyncBackend):
    """Resolves, checks the addresses against the policy in scope, then connects."""

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: typing.Iterable[typing.Any] | None = None,
    ) -> httpcore.NetworkStream:
        current = _SCOPE.get()
        try:
            infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except (OSError, UnicodeError) as exc:
            raise httpcore.ConnectError(f"cannot resolve {host}: {exc}") from exc
        addresses = []
        for info in infos:
            ip = str(info[4][0])
            kind = address_kind(ip)
            if kind == "forbidden" or (kind == "local" and not _local_ok(current)):
                what = (
                    "a link-local, metadata or reserved address"
                    if kind == "forbidden"
                    else "a loopback or private address, and the source is not local"
                )
                raise AddressRefused(
                    f"refused to connect to {host}: it resolves to {ip}, {what}",
                    url=f"{host}:{port}",
                )
            addresses.append(ip)
        error: Exception = httpcore.ConnectError(f"no address for {host}")
        for ip in dict.fromkeys(addresses):
            try:
                stream = super().connect_tcp(
                    ip, port, _bound(timeout, "connect"), local_address, socket_options
                )
            except httpcore.ConnectError as exc:
                error = exc
                continue
            return _DeadlineStream(stream)
        raise error


def guard_transport(transport: httpx.HTTPTransport | None = None) -> httpx.HTTPTransport:
    """An ``httpx.HTTPTransport`` (a new one, or ``transport``) whose connections go
    through ``GuardedBackend``: address checks and deadlines. A transport through a
    proxy is returned as it is (the proxy decides where it connects)."""
    # the CA bundle is read on the first https connection, not here (sources.fetch.tls)
    transport = transport or httpx.HTTPTransport(verify=lazy_context())
    pool = getattr(transport, "_pool", None)
    if isinstance(pool, httpcore.ConnectionPool):
        pool._network_backend = GuardedBackend()
    return transport
