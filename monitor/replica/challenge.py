"""A JavaScript cookie challenge in front of any replica, like Ruishu (瑞数) on CDE and NMPA.

``JsCookieChallenge(app)`` wraps an App. A request without a valid cookie gets
the challenge instead of the app's answer:

- ``style="ruishu-202"`` (CDE): HTTP 202, cookies ``FSSBBIl1UgzbN7N80S`` (set by
  the server) and ``FSSBBIl1UgzbN7N80ST`` (computed by the page's script);
- ``style="ruishu-412"`` (NMPA): HTTP 412, cookies ``NfBCSins2OywS`` and
  ``NfBCSins2OywST``;
- ``style="captcha"``: HTTP 202 with a slider-CAPTCHA page that nobody gets
  through; its script reloads the page every second, forever.

The challenge page is about 25 KB: a ``<meta id="9DhefwqGPrzGxEp9hPaoag">``
holding a fresh signed token, ``$_ts`` / ``$_ts.nsd`` / ``$_ts.cd`` (a long
encoded-looking string) and a script that *computes* the cookie: it searches
for a counter ``n`` such that the FNV-1a hash of ``token + ":" + n`` has its top
``DIFFICULTY_BITS`` bits zero (a small proof of work, a few milliseconds in a
browser), sets ``<T cookie>=token.n36`` with ``path=/`` and reloads. No regular
expression over the page finds the answer; running the script does.

Pages the wrapped app serves as HTML get a second script, as Ruishu's do: it
hooks ``fetch`` and ``XMLHttpRequest`` so that every same-origin call carries
``MmEwMD=<hash of the T cookie and the path>`` in its query. A POST without a
valid ``MmEwMD`` gets the challenge too (set ``api_token=False`` to drop that
rule). So a plain HTTP client never gets data; a browser that loads the page
and calls the API from inside it does. The wrapped app never sees ``MmEwMD``.

``solve`` / ``api_token_for`` compute in Python what the scripts compute, so a
test can check the two agree; ``log`` lists ``(method, path, passed)`` per request.

``strict=True`` models the worst case the public record shows for the real
sites (docs/sources.md, "Evidence checked 2026-12": plain headless Playwright
blocked at CDE with 202 and endless navigation; a headed browser, or the
page's own jQuery XHR, got through; RSSHub's CDE/NMPA routes needing a
"clean" browser; Ruishu signing XHR with ``MmEwMD`` and nothing showing that
it signs ``fetch``):

- a User-Agent containing ``HeadlessChrome`` gets the challenge, always: its
  script reloads and the page never comes (the reported endless navigation);
- the page's hook signs ``XMLHttpRequest`` only; a script call (the browser's
  ``Sec-Fetch-Dest: empty``) without a valid ``MmEwMD`` gets ``400`` with the
  site's "非法url，被拒绝访问" page — so ``fetch()`` from the page is refused;
- the script sets its cookie with ``max-age=lifetime`` (the server's with
  ``Max-Age``, so both outlive a browser restart); the token carries
  its issue time, and a cookie older than ``lifetime`` seconds (by ``clock``)
  gets the challenge again, as does a cookie after ``max_requests`` admitted
  requests.

Unverified for the real site (modelled as the worst case): the exact status
for an unsigned call (400 here; 412 or the challenge are also reported), the
cookie lifetime and the request budget (unknown; tests choose them).
"""

from __future__ import annotations

import hashlib
import hmac
import random
import re
import secrets
import string
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Literal
from urllib.parse import urlsplit

from monitor.replica.server import App, Request, Response

Style = Literal["ruishu-202", "ruishu-412", "captcha"]

META_ID = "9DhefwqGPrzGxEp9hPaoag"
DIFFICULTY_BITS = 12
TOKEN_PARAM = "MmEwMD"
PAGE_SIZE = 25_000
_BASE36 = re.compile(r"[0-9a-z]{1,8}")


@dataclass(frozen=True)
class _StyleSpec:
    status: int
    server_cookie: str
    script_cookie: str


_STYLES: dict[str, _StyleSpec] = {
    "ruishu-202": _StyleSpec(202, "FSSBBIl1UgzbN7N80S", "FSSBBIl1UgzbN7N80ST"),
    "ruishu-412": _StyleSpec(412, "NfBCSins2OywS", "NfBCSins2OywST"),
    "captcha": _StyleSpec(202, "FSSBBIl1UgzbN7N80S", "FSSBBIl1UgzbN7N80ST"),
}

# The hash both sides use: 32-bit FNV-1a over the string's code units.
_FNV_JS = (
    "function _$h(s){var h=0x811c9dc5;for(var i=0;i<s.length;i++)"
    "{h^=s.charCodeAt(i);h=Math.imul(h,0x01000193)>>>0;}return h>>>0;}"
)


def fnv1a(text: str) -> int:
    """32-bit FNV-1a over the UTF-16 code units of ``text`` (ASCII in practice)."""
    value = 0x811C9DC5
    for unit in _code_units(text):
        value ^= unit
        value = (value * 0x01000193) & 0xFFFFFFFF
    return value


def _code_units(text: str) -> list[int]:
    raw = text.encode("utf-16-le")
    return [raw[i] | (raw[i + 1] << 8) for i in range(0, len(raw), 2)]


def proof_ok(token: str, counter: int) -> bool:
    """True when ``token:counter`` hashes with ``DIFFICULTY_BITS`` leading zero bits."""
    return fnv1a(f"{token}:{_base36(counter)}") >> (32 - DIFFICULTY_BITS) == 0


def solve(token: str) -> str:
    """The cookie value the challenge script computes for ``token``."""
    counter = 0
    while not proof_ok(token, counter):
        counter += 1
    return f"{token}.{_base36(counter)}"


def api_token_for(cookie_value: str, path: str) -> str:
    """The ``MmEwMD`` value the page's hook appends for a call to ``path``."""
    return format(fnv1a(f"{cookie_value}|{path}"), "08x")


def _base36(number: int) -> str:
    digits = string.digits + string.ascii_lowercase
    out = ""
    while True:
        number, rest = divmod(number, 36)
        out = digits[rest] + out
        if number == 0:
            return out


def _cookies(request: Request) -> dict[str, str]:
    jar: dict[str, str] = {}
    for part in (request.header("Cookie") or "").split(";"):
        name, sep, value = part.strip().partition("=")
        if sep:
            jar[name] = value
    return jar


class JsCookieChallenge:
    """Wrap ``app`` so that only clients that run the challenge script get through."""

    def __init__(
        self,
        app: App,
        style: Style = "ruishu-202",
        *,
        secret: str | None = None,
        api_token: bool = True,
        strict: bool = False,
        lifetime: float = 600.0,
        max_requests: int | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if style not in _STYLES:
            raise ValueError(f"unknown challenge style {style!r}; one of {sorted(_STYLES)}")
        self.app = app
        self.style = style
        self.spec = _STYLES[style]
        self.secret = (secret or secrets.token_hex(16)).encode()
        self.api_token = api_token
        self.strict = strict
        self.lifetime = lifetime
        self.max_requests = max_requests
        self.clock = clock
        self.uses: dict[str, int] = {}  # admitted requests per cookie (strict)
        self.log: list[tuple[str, str, bool]] = []
        self._lock = threading.Lock()
        self._padding = _padding(random.Random(style))

    # -- the token in the meta tag -------------------------------------------------

    def new_token(self) -> str:
        # the first 8 hex digits are the issue time (strict mode checks the lifetime)
        nonce = f"{int(self.clock()) & 0xFFFFFFFF:08x}" + secrets.token_hex(4)
        return nonce + self._sign(nonce)

    def _sign(self, nonce: str) -> str:
        return hmac.new(self.secret, nonce.encode(), hashlib.sha256).hexdigest()[:16]

    def cookie_valid(self, value: str) -> bool:
        """True when ``value`` is a token this server issued plus a correct proof."""
        token, _, counter = value.partition(".")
        if len(token) != 32 or not _BASE36.fullmatch(counter):
            return False
        if not hmac.compare_digest(token[16:], self._sign(token[:16])):
            return False
        if not proof_ok(token, int(counter, 36)):
            return False
        return not self.strict or self.clock() - int(token[:8], 16) <= self.lifetime

    # -- serving --------------------------------------------------------------------

    def __call__(self, request: Request) -> Response:
        passed, inner = self._admit(request)
        with self._lock:
            self.log.append((request.method, request.path, passed is True))
        if passed is None:
            return Response(status=400, body=_REFUSED, headers={"Cache-Control": "no-store"})
        if not passed:
            return self.challenge()
        response = self.app(inner)
        if response.content_type.startswith("text/html") and self.style != "captcha":
            response = replace(response, body=_inject(response.payload(), self._hook_script()))
        return response

    def _admit(self, request: Request) -> tuple[bool | None, Request]:
        """(True, the request without MmEwMD) to pass; False for the challenge;
        None for the 400 refusal of an unsigned script call (strict)."""
        if self.style == "captcha":
            return False, request
        if self.strict and "HeadlessChrome" in (request.header("User-Agent") or ""):
            return False, request
        jar = _cookies(request)
        value = jar.get(self.spec.script_cookie, "")
        if not self.cookie_valid(value) or jar.get(self.spec.server_cookie) != value[:32]:
            return False, request
        query = dict(request.query)
        token = query.pop(TOKEN_PARAM, None)
        verdict = self._token_verdict(request, value, token)
        if verdict is not True:
            return verdict, request
        if not self._within_quota(value):
            return False, request
        return True, replace(request, query=query)

    def _token_verdict(self, request: Request, value: str, token: str | None) -> bool | None:
        """Whether a request with a valid cookie passes the script-token check:
        True; False for the challenge; None for the strict 400 refusal."""
        full_path = urlsplit(request.base).path.rstrip("/") + request.path
        signed = token is not None and token == api_token_for(value, full_path)
        refused = None if self.strict else False
        if token is not None and not signed:
            return refused
        if self.strict and not signed and (request.header("Sec-Fetch-Dest") or "") == "empty":
            return None
        if token is None and request.method == "POST" and self.api_token:
            return refused
        return True

    def _within_quota(self, value: str) -> bool:
        """Count a use of cookie `value`; False once strict's max_requests are used."""
        if not self.strict or self.max_requests is None:
            return True
        with self._lock:
            self.uses[value] = used = self.uses.get(value, 0) + 1
        return used <= self.max_requests

    def challenge(self) -> Response:
        """The challenge page, with a fresh token and its server cookie."""
        token = self.new_token()
        if self.style == "captcha":
            solver = _CAPTCHA_SCRIPT
        else:
            solver = _SOLVER_SCRIPT % {
                "fnv": _FNV_JS,
                "meta": META_ID,
                "bits": 32 - DIFFICULTY_BITS,
                "name": ",".join(str(ord(c)) for c in self.spec.script_cookie),
                "age": f"; max-age={int(self.lifetime)}" if self.strict else "",
            }
        age = f"; Max-Age={int(self.lifetime)}" if self.strict else ""
        body = _PAGE % {
            "meta": META_ID,
            "token": token,
            "nsd": random.randint(10_000, 99_999),
            "cd": self._padding,
            "solver": solver,
            "captcha": _CAPTCHA_HTML if self.style == "captcha" else "",
        }
        return Response(
            status=self.spec.status,
            body=body,
            headers={
                "Set-Cookie": f"{self.spec.server_cookie}={token}; Path=/; HttpOnly{age}",
                "Cache-Control": "no-store",
            },
        )

    def _hook_script(self) -> bytes:
        script = _HOOK_SCRIPT % {
            "fnv": _FNV_JS,
            "name": self.spec.script_cookie,
            "param": TOKEN_PARAM,
            "fetch": "" if self.strict else _HOOK_FETCH,
        }
        return f"<script>{script}</script>".encode()


def _inject(body: bytes, script: bytes) -> bytes:
    match = re.search(rb"<head[^>]*>", body, re.IGNORECASE)
    at = match.end() if match else 0
    return body[:at] + script + body[at:]


def _padding(rng: random.Random) -> str:
    """A long string that looks like ``$_ts.cd``: encoded bytecode nobody reads."""
    alphabet = string.ascii_letters + string.digits + "_."
    size = PAGE_SIZE - 830  # the rest of the page is about this long
    return "".join(rng.choice(alphabet) for _ in range(size))


_PAGE = """<!DOCTYPE html>
<html><head>
<meta http-equiv="Content-Type" content="text/html; charset=utf-8">
<meta id="%(meta)s" content="%(token)s" r="m">
<script type="text/javascript" r="m">$_ts=window['$_ts'];if(!$_ts)$_ts={};$_ts.nsd=%(nsd)d;\
$_ts.cd="%(cd)s";</script>
<script type="text/javascript" r="m">%(solver)s</script>
</head><body>%(captcha)s</body></html>
"""

_SOLVER_SCRIPT = """(function(_$a,_$b){%(fnv)s\
var _$m=document.getElementById("%(meta)s").getAttribute("content"),_$n=0;\
while((_$h(_$m+":"+_$n.toString(36))>>>%(bits)d)!==0){_$n++;}\
document.cookie=String.fromCharCode(%(name)s)+"="+_$m+"."+_$n.toString(36)+"; path=/%(age)s";\
_$a[_$b]();})(window.location,"reload");"""

_CAPTCHA_SCRIPT = """(function(){setTimeout(function(){window.location.reload();},1000);})();"""

_CAPTCHA_HTML = """<div class="verify-wrap"><p>请拖动滑块完成验证</p>\
<div class="slider"><span class="handle">&gt;&gt;</span></div></div>"""

_REFUSED = "<html><body><h3>非法url，被拒绝访问</h3></body></html>"
_HOOK_FETCH = """var _$f=window.fetch;window.fetch=function(i,o){if(typeof i==="string"||\
i instanceof URL)i=_$t(String(i));return _$f.call(this,i,o);};"""

_HOOK_SCRIPT = """(function(){%(fnv)s\
function _$c(){var m=document.cookie.match(/(?:^|; )%(name)s=([^;]*)/);return m?m[1]:"";}\
function _$t(u){var a=new URL(u,window.location.href);if(a.origin!==window.location.origin)\
return a.href;a.searchParams.set("%(param)s",(_$h(_$c()+"|"+a.pathname)>>>0).toString(16)\
.padStart(8,"0"));return a.href;}%(fetch)s\
var _$o=XMLHttpRequest.prototype.open;XMLHttpRequest.prototype.open=function(m,u){\
arguments[1]=_$t(u);return _$o.apply(this,arguments);};})();"""
