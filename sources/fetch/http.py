"""The polite plain-HTTP fetcher: ``HttpFetcher`` implements ``sources.types.Fetcher``.

What it does for every request:

- **Politeness.** A ``HostGate`` (shared by every fetcher of a process) lets
  at most ``per_host`` requests run against one host at a time and keeps
  ``delay`` seconds between two request starts to the same host. Retries and
  redirect hops go through the gate too.
- **robots.txt** (``sources.fetch.robots``, ``[http] robots``, default on):
  each site's robots.txt is read once a day per process; a URL it disallows
  for regwatch's User-Agent token (or ``*``) is not fetched (``Disallowed``,
  a health event for the check), and its ``Crawl-delay`` raises the host's
  delay. A missing robots.txt (4xx) allows everything; one that times out or
  answers 5xx allows everything too and is logged, then asked again in an hour.
- **A descriptive User-Agent**, timeouts, and a streamed download capped at
  ``max_bytes`` (``TooLarge``), counted after decompression.
- **Deadlines** (``sources.fetch.netpolicy``): ``timeout`` bounds each socket
  operation; ``deadline`` bounds one request as a whole (connect, headers,
  body, all redirect hops); ``check_deadline`` bounds everything one fetcher
  (one check) does, waiting for the host gate included. Past either, the
  request is abandoned (the gate slot released) with ``DeadlineExceeded``,
  which is not retried.
- **Network policy** (``sources.fetch.netpolicy``): redirects stay on the site
  of the request or of the source (``allow_redirects_to`` adds more);
  link-local/metadata/reserved addresses are refused at connect time;
  loopback/private ones unless the source itself is local.
- **Conditional GET.** ``conditional=True`` sends ``If-None-Match`` /
  ``If-Modified-Since`` from ``validators`` (URL -> ``{"etag", "last_modified"}``),
  which is updated after each 200; the caller persists it. A 304 comes back
  as ``Fetched(status=304, body=b"")``.
- **Retries** on 429, 500-504, connection errors, timeouts and truncated
  bodies, with exponential back-off (``backoff * 2**n``, capped at
  ``max_wait``). ``Retry-After`` (seconds or an HTTP date) is honoured and
  holds back every request to that host, not just this one; when a server
  asks for more than ``max_wait`` the fetcher gives up at once rather than
  come back early.
- **Block recognition** (``sources.fetch.blocks``): Ruishu 202/412 challenges,
  Akamai's apology redirect (caught before it is followed), browser-check
  pages, 403 block pages, HTML where JSON or XML was expected -> ``Blocked``.
- **Decoding** (``sources.text.decode``): ``Fetched.encoding`` is set so that
  ``Fetched.text`` is right for GBK / GB18030 / BOM / meta-charset pages.

- **One client for many fetchers.** ``SharedClient`` holds one ``httpx.Client``
  (one SSL context, one keep-alive connection pool) that every fetcher of a
  pipeline uses, across sources and checks: a client's CA bundle (read at its
  first https connection, ``sources.fetch.tls``) costs more than a request on
  a fast site. Cookies stay per fetcher (per check of one source): the
  shared client keeps none, and does not even read ``Set-Cookie``.

Errors: ``FetchError`` (with ``status`` when there was one), ``Blocked``,
``TooLarge``.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Mapping
from types import TracebackType
from typing import Self
from urllib.parse import urlencode

import httpx
from pydantic import BaseModel, ConfigDict, Field

from sources.errors import Blocked, FetchError, TooLarge
from sources.fetch.blocks import BROWSER_HINT, detect_block
from sources.fetch.client import new_client
from sources.fetch.exchanges import ExchangeLog
from sources.fetch.netpolicy import DeadlineExceeded, NetworkPolicy, scope
from sources.fetch.politeness import HostGate, host_of, retry_after_seconds
from sources.fetch.robots import Disallowed, Rules
from sources.text.decode import charset_from_content_type, decode_html, json_encoding
from sources.types import Expect, Fetched

__all__ = ["HostGate", "HttpFetcher", "HttpSettings", "SharedClient"]

log = logging.getLogger(__name__)

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
MAX_REDIRECTS = 10

_ACCEPT: dict[str, str] = {
    "html": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
    "json": "application/json, text/javascript, */*;q=0.1",
    "xml": "application/rss+xml, application/atom+xml, application/xml;q=0.9, "
    "text/xml;q=0.9, */*;q=0.1",
    "bytes": "*/*",
}


class HttpSettings(BaseModel):
    """The ``[http]`` table of the configuration."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    user_agent: str = Field(
        default="regwatch/0.1 (+https://github.com/regwatch/regwatch)", min_length=1
    )
    timeout: float = Field(default=30, gt=0)
    max_bytes: int = Field(default=50_000_000, gt=0)
    delay: float = Field(default=2.0, ge=0)
    per_host: int = Field(default=1, ge=1)
    concurrency: int = Field(default=8, ge=1)
    retries: int = Field(default=3, ge=0)
    backoff: float = Field(default=2.0, ge=0)
    max_wait: float = Field(default=300, ge=0)
    deadline: float = Field(default=120, gt=0, description="seconds for one whole request")
    check_deadline: float = Field(default=1800, gt=0, description="seconds for one check")
    robots: bool = Field(
        default=True,
        description="read each site's robots.txt (once a day) and fetch nothing it disallows "
        "for regwatch; its Crawl-delay raises the site's delay (false: ignore robots.txt)",
    )


_SETS_COOKIE = {"set-cookie", "set-cookie2"}  # the headers CookieJar reads cookies from


class SharedClient:
    """One ``httpx.Client`` (one SSL context, one connection pool) for many
    ``HttpFetcher``s with the same ``[http]`` settings; thread-safe. Close it
    when the last fetcher is done; closing a fetcher leaves it open."""

    def __init__(
        self, settings: HttpSettings, *, transport: httpx.BaseTransport | None = None
    ) -> None:
        self.settings = settings
        self.client = new_client(settings.user_agent, settings.timeout, transport)

    def close(self) -> None:
        self.client.close()


class _Retry(Exception):
    """Internal: this attempt failed in a way worth another try."""

    def __init__(self, error: FetchError, wait: float | None = None) -> None:
        super().__init__(str(error))
        self.error = error
        self.wait = wait


class HttpFetcher:
    """Reads sites over plain HTTP, politely. Thread-safe; one ``httpx.Client``.

    ``validators`` maps URL -> ``{"etag": …, "last_modified": …}``; pass the
    stored state in and persist ``fetcher.validators`` after a run.
    ``politeness`` shares a ``HostGate`` between fetchers (default: a gate of
    this fetcher's own). ``policy``: the source's ``NetworkPolicy`` (default:
    redirects stay on the request's site, local addresses only for local
    URLs). ``shared`` lends the fetcher a ``SharedClient`` (default: a client
    of its own, closed with the fetcher); cookies are the fetcher's own either
    way. ``transport`` is the httpx seam for tests; the default transport
    enforces the policy and the deadlines at connect and read time.
    The check deadline counts from the fetcher's creation: one fetcher per check.
    """

    def __init__(
        self,
        settings: HttpSettings,
        *,
        validators: dict[str, dict[str, str]] | None = None,
        politeness: HostGate | None = None,
        transport: httpx.BaseTransport | None = None,
        policy: NetworkPolicy | None = None,
        shared: SharedClient | None = None,
    ) -> None:
        self.settings = settings
        self.policy = policy or NetworkPolicy()
        self.check_end = time.monotonic() + settings.check_deadline
        self.validators: dict[str, dict[str, str]] = validators if validators is not None else {}
        self.gate = politeness or HostGate(settings)
        self._lock = threading.Lock()
        self._robots_reading = threading.local()
        self.exchanges = ExchangeLog()  # what was received, for probe and evidence
        self.cookies = httpx.Cookies()  # this fetcher's own, even on a shared client
        self._owns_client = shared is None
        self._client = (
            new_client(settings.user_agent, settings.timeout, transport)
            if shared is None
            else shared.client
        )
        self._timeouts = self._client.timeout.as_dict()  # the extension httpcore reads

    # -- the Fetcher protocol -------------------------------------------------

    def get(
        self,
        url: str,
        *,
        params: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        expect: Expect = "html",
        conditional: bool = False,
    ) -> Fetched:
        """GET ``url``; see the module docstring for what can be raised."""
        request = self._request(
            "GET", url, self._headers(expect, headers), params=dict(params) if params else None
        )
        key = str(request.url)
        if conditional:
            self._add_validators(request, key)
        fetched = self._fetch(request, expect)
        if fetched.status == 200:
            self._store_validators(key, fetched.headers)
        return fetched

    def post(
        self,
        url: str,
        *,
        data: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        expect: Expect = "json",
    ) -> Fetched:
        """POST a form (``application/x-www-form-urlencoded; charset=UTF-8``)."""
        merged = self._headers(expect, headers)
        content = b""
        if data is not None:
            content = urlencode(list(data.items())).encode("utf-8")
            if not any(k.lower() == "content-type" for k in merged):
                merged["Content-Type"] = "application/x-www-form-urlencoded; charset=UTF-8"
        request = self._request("POST", url, merged, content=content)
        return self._fetch(request, expect)

    def close(self) -> None:
        if self._owns_client:
            self._client.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- internals ------------------------------------------------------------

    def _request(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str],
        *,
        params: Mapping[str, str] | None = None,
        content: bytes | None = None,
    ) -> httpx.Request:
        """The request ``Client.build_request`` makes: the client's headers
        (User-Agent, Accept-Encoding, …) with ``headers`` over them, the client's
        timeouts; built directly, without merging the base URL, params and cookies
        the client never has (0.4x the CPU). A URL httpx cannot read (a broken
        link on a page) is a ``FetchError``."""
        merged = self._client.headers.copy()
        for name, value in headers.items():
            merged[name] = value
        try:
            request = httpx.Request(
                method,
                url,
                params=params,
                headers=merged,
                content=content,
                extensions={"timeout": self._timeouts},
            )
        except (httpx.InvalidURL, UnicodeError) as exc:  # UnicodeError: a bad IDNA host
            raise FetchError(f"not a valid URL: {exc}", url=url) from None
        if not request.url.is_absolute_url:  # no scheme or no host: never sent
            raise FetchError(
                "not a valid URL: a request URL needs http:// or https:// and a host", url=url
            )
        return request

    def _headers(self, expect: Expect, extra: Mapping[str, str] | None) -> dict[str, str]:
        merged = {"Accept": _ACCEPT[expect]}
        for key, value in (extra or {}).items():
            for existing in [k for k in merged if k.lower() == key.lower()]:
                del merged[existing]
            merged[key] = value
        return merged

    def _add_validators(self, request: httpx.Request, key: str) -> None:
        with self._lock:
            stored = dict(self.validators.get(key) or {})
        if stored.get("etag") and "if-none-match" not in request.headers:
            request.headers["If-None-Match"] = stored["etag"]
        if stored.get("last_modified") and "if-modified-since" not in request.headers:
            request.headers["If-Modified-Since"] = stored["last_modified"]

    def _store_validators(self, key: str, headers: Mapping[str, str]) -> None:
        found = {
            name: value
            for name, value in (
                ("etag", headers.get("etag")),
                ("last_modified", headers.get("last-modified")),
            )
            if value
        }
        with self._lock:
            if found:
                self.validators[key] = found
            else:
                self.validators.pop(key, None)

    def robots_rules(self, url: str) -> Rules | None:
        """The robots.txt rules for ``url``'s site (read on first use, cached on the
        gate), or None when ``[http] robots`` is off."""
        if not self.settings.robots:
            return None
        return self.gate.robots.rules_for(url, self.settings.user_agent, self._read_robots)

    def _read_robots(self, url: str) -> tuple[int, bytes]:
        """One attempt at ``url`` (a robots.txt): no retries, the usual deadlines."""
        self._robots_reading.active = True  # its own redirect hops are not checked
        try:
            request = self._request("GET", url, {"Accept": "text/plain"})
            fetched = self._follow(request, "bytes", self.policy.local_ok(request.url))
        except _Retry as retry:
            raise retry.error from None
        finally:
            self._robots_reading.active = False
        return fetched.status, fetched.body

    def _check_robots(self, url: httpx.URL) -> None:
        if not self.settings.robots or getattr(self._robots_reading, "active", False):
            return
        target = str(url)
        rules = self.robots_rules(target)
        if rules is None:
            return
        if rules.crawl_delay is not None:
            self.gate.set_delay(host_of(url), min(rules.crawl_delay, self.settings.max_wait))
        if not rules.allows(target):
            path = url.raw_path.decode("ascii", errors="replace")
            raise Disallowed(
                f"robots.txt of {url.host} disallows {path} "
                f"(Disallow: {rules.disallowed_rule(target)}); not fetched "
                "(choose a page it allows, or set [http] robots = false)",
                url=target,
            )

    def _fetch(self, request: httpx.Request, expect: Expect) -> Fetched:
        attempts = self.settings.retries + 1
        local = self.policy.local_ok(request.url)
        self._check_robots(request.url)
        for attempt in range(attempts):
            try:
                return self._follow(request, expect, local)
            except _Retry as retry:
                last = retry.error
                if attempt + 1 >= attempts:
                    break
                wait = retry.wait
                if wait is None:
                    wait = min(self.settings.backoff * 2**attempt, self.settings.max_wait)
                elif wait > self.settings.max_wait:
                    raise FetchError(
                        f"{last.message}; the server asks to retry after {wait:.0f} s, "
                        f"more than max_wait ({self.settings.max_wait:.0f} s)",
                        url=last.url,
                        status=last.status,
                    ) from None
                log.info("retrying in %.1f s: %s", wait, last)
                self.gate.defer(host_of(last.url or request.url), wait)
        raise FetchError(
            f"{last.message} (gave up after {attempts} attempt{'s' * (attempts > 1)})",
            url=last.url,
            status=last.status,
        )

    def _follow(self, request: httpx.Request, expect: Expect, local: bool | str) -> Fetched:
        """One attempt: send, follow redirects by hand (on the site only), check, decode."""
        deadline = min(time.monotonic() + self.settings.deadline, self.check_end)
        for _ in range(MAX_REDIRECTS + 1):
            status, headers, body, next_request = self._send(request, deadline, local, expect)
            url = str(request.url)
            reason = detect_block(status, headers, body, url, expect)
            if reason:
                raise Blocked(reason, url=url, status=status, hint=BROWSER_HINT)
            if next_request is None:
                return self._finish(url, status, headers, body, expect)
            self.policy.check_redirect(request.url, next_request.url)
            self._check_robots(next_request.url)
            request = next_request
        raise FetchError(f"more than {MAX_REDIRECTS} redirects", url=str(request.url))

    def _overdue(self, url: str) -> DeadlineExceeded:
        if time.monotonic() >= self.check_end:
            return DeadlineExceeded(
                f"the check ran past its deadline (http.check_deadline = "
                f"{self.settings.check_deadline:g} s); abandoned",
                url=url,
            )
        return DeadlineExceeded(
            f"the response took longer than its deadline (http.deadline = "
            f"{self.settings.deadline:g} s: connect, headers and body together); abandoned",
            url=url,
        )

    def _send(
        self,
        request: httpx.Request,
        deadline: float,
        local: bool | str,
        expect: Expect = "html",
    ) -> tuple[int, httpx.Headers, bytes, httpx.Request | None]:
        url = str(request.url)
        if time.monotonic() >= deadline:
            raise self._overdue(url)
        try:
            with (
                self.gate.slot(host_of(request.url), timeout=deadline - time.monotonic()),
                scope(deadline, allow_local=local),
            ):
                with self._lock:  # (an empty jar has no header to add)
                    if self.cookies.jar:
                        self.cookies.set_cookie_header(request)
                response = self._client.send(request, stream=True)
                try:
                    if _SETS_COOKIE & response.headers.keys():
                        with self._lock:
                            self.cookies.extract_cookies(response)
                    body = self._read_body(response, url, deadline)
                finally:
                    response.close()
        except TimeoutError:  # no turn at the host gate before the deadline
            raise self._overdue(url) from None
        except httpx.TimeoutException as exc:
            if time.monotonic() >= deadline:
                raise self._overdue(url) from None
            raise _Retry(FetchError(f"timed out ({type(exc).__name__})", url=url)) from exc
        except httpx.RemoteProtocolError as exc:
            raise _Retry(
                FetchError(
                    f"the connection closed before the whole response arrived: {exc}", url=url
                )
            ) from exc
        except (httpx.ConnectError, httpx.ReadError, httpx.WriteError) as exc:
            raise _Retry(
                FetchError(f"network error: {exc or type(exc).__name__}", url=url)
            ) from exc
        except httpx.HTTPError as exc:
            raise FetchError(f"HTTP client error: {exc}", url=url) from exc
        status = response.status_code
        self.exchanges.add(request.method, url, status, response.headers, body, expect)
        if status in RETRY_STATUSES:
            if detect_block(status, response.headers, body, url, "html") is None:
                phrase = response.reason_phrase or ""
                raise _Retry(
                    FetchError(f"HTTP {status} {phrase}".strip(), url=url, status=status),
                    wait=retry_after_seconds(response.headers.get("retry-after")),
                )
        next_request = response.next_request if response.is_redirect else None
        return status, response.headers, body, next_request

    def _read_body(self, response: httpx.Response, url: str, deadline: float) -> bytes:
        """The streamed body, within ``max_bytes`` (declared or counted) and the deadline."""
        cap = self.settings.max_bytes
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > cap:
            raise TooLarge(
                f"the response is {int(declared):,} bytes, over max_bytes ({cap:,})",
                url=url,
                status=response.status_code,
            )
        chunks: list[bytes] = []
        size = 0
        for chunk in response.iter_bytes():
            size += len(chunk)
            if size > cap:
                raise TooLarge(
                    f"the response went over max_bytes ({cap:,} bytes)",
                    url=url,
                    status=response.status_code,
                )
            chunks.append(chunk)
            if time.monotonic() >= deadline:
                raise self._overdue(url)
        return b"".join(chunks)

    def _finish(
        self, url: str, status: int, headers: httpx.Headers, body: bytes, expect: Expect
    ) -> Fetched:
        if status == 304:
            return Fetched(url=url, status=304, headers=headers, body=b"")
        if 300 <= status < 400:
            raise FetchError(f"HTTP {status} redirect without a Location", url=url, status=status)
        if status >= 400:
            phrase = httpx.codes.get_reason_phrase(status)
            raise FetchError(f"HTTP {status} {phrase}".strip(), url=url, status=status)
        content_type = headers.get("content-type")
        if expect == "bytes":
            encoding = charset_from_content_type(content_type) or "utf-8"
        elif expect == "json":
            encoding = json_encoding(body, content_type)
        else:
            _, encoding = decode_html(body, content_type)
        return Fetched(url=url, status=status, headers=headers, body=body, encoding=encoding)
