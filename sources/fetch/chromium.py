"""Finding and starting the system Chromium for ``sources.fetch.browser``.

Chromium is the distribution's package (``apt-get install chromium``), found
as ``browser.chromium_path``, else ``$REGWATCH_CHROMIUM``, else ``chromium`` /
``chromium-browser`` on ``PATH``. Playwright (the ``browser`` extra) drives
it; Playwright's own browser downloads are never used.

A real window by default (issue 11). Plain headless Chromium is reported
blocked at CDE (HTTP 202 and endless navigation), while a headed browser
under a virtual display got through (public reports collected in
docs/sources.md, "Evidence checked 2026-12": CDE/NMPA Ruishu notes,
RSSHub ``lib/routes/cde`` and its issue #13053). So ``headless = false`` is
the default: Chromium opens a window. When there is no ``DISPLAY`` (a server,
a container, a systemd unit), regwatch starts Debian's ``Xvfb`` itself on a
free display number, waits until Xvfb reports it ready (``-displayfd``, no
fixed sleep) and stops it with the browser.

The profile is persistent, one directory per site under
``browser.profile_dir`` (default ``$REGWATCH_STATE_DIR/browser``, else
``$XDG_STATE_HOME/regwatch/browser``, else ``~/.local/state/regwatch/browser``):
the challenge cookies live between runs as in a person's browser. A profile
is used by one Chromium at a time; when another check holds it, a throw-away
profile is used for that check (logged).

The User-Agent is Chromium's own, unchanged (a person's browser, nothing
more: no faked UA or ``navigator`` properties). Flags (``LAUNCH_ARGS``) keep
Chromium from opening background connections of its own (updates, sync,
field trials, QUIC probes) on a machine whose network is closed;
``--no-sandbox`` is added only when running as root, where Chromium's
sandbox cannot start (deploy/ runs as a normal user, sandbox on).
"""

from __future__ import annotations

import fcntl
import logging
import os
import select
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO, TYPE_CHECKING

from pydantic import BaseModel, ConfigDict, Field

from sources.errors import BrowserUnavailable

if TYPE_CHECKING:
    from playwright.sync_api import BrowserContext, Page, Playwright, Route

Refusal = Callable[[str, bool], str | None]
"""``refuse(url, top_level_navigation)``: why the browser must not make a request, or None."""

__all__ = [
    "INSTALL_HINT",
    "LAUNCH_ARGS",
    "BrowserSettings",
    "Chromium",
    "VirtualDisplay",
    "browser_available",
    "chromium_path",
    "launch_args",
    "profile_root",
]

INSTALL_HINT = (
    "install Chromium (apt-get install chromium) and the 'browser' extra "
    "(pip install regwatch[browser])"
)
XVFB_HINT = "install Xvfb (apt-get install xvfb), or set [browser] headless = true"
LAUNCH_ARGS: tuple[str, ...] = (
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)
# Not downloaded: a person's browser would, but the fetcher never looks at them.
_SKIPPED_RESOURCES = frozenset({"image", "media", "font"})
_XVFB_READY = 60.0  # seconds Xvfb may take to report its display (xkbcomp, a loaded machine)
_LAUNCH_TIMEOUT = 60.0  # seconds Chromium may take to start (a loaded machine), at least

log = logging.getLogger(__name__)


class BrowserSettings(BaseModel):
    """The ``[browser]`` table of the configuration.

    ``timeout``: seconds for one page visit or one in-page call, challenge
    included; ``wait_after_load``: extra seconds after the page's load event
    (for pages that keep working after it); ``headless``: false (the default)
    opens a real window, on a virtual display when there is none;
    ``profile_dir``: where the per-site profiles live; ``persistent = false``
    uses a fresh profile for every check.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    chromium_path: str | None = None
    timeout: float = Field(default=45, gt=0)
    wait_after_load: float = Field(default=0, ge=0)
    headless: bool = False
    profile_dir: str | None = None
    persistent: bool = True


def chromium_path(settings: BrowserSettings | None = None) -> str | None:
    """The Chromium executable to use, or None when there is none."""
    configured = (settings.chromium_path if settings else None) or os.environ.get(
        "REGWATCH_CHROMIUM"
    )
    candidates = [configured] if configured else ["chromium", "chromium-browser"]
    for candidate in candidates:
        found = shutil.which(candidate)
        if found:
            return found
    return None


def browser_available(settings: BrowserSettings | None = None) -> str | None:
    """Chromium's path when both it and the ``playwright`` package are there, else None."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return None
    return chromium_path(settings)


def launch_args() -> list[str]:
    """The Chromium flags used (``--no-sandbox`` only when running as root)."""
    args = list(LAUNCH_ARGS)
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        args.insert(0, "--no-sandbox")
    return args


def profile_root(settings: BrowserSettings) -> Path:
    """The directory holding one Chromium profile per site."""
    if settings.profile_dir:
        return Path(settings.profile_dir).expanduser()
    state = os.environ.get("REGWATCH_STATE_DIR")
    if state:
        return Path(state) / "browser"
    xdg = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(xdg) / "regwatch" / "browser"


class VirtualDisplay:
    """An ``Xvfb`` server on a free display number, started and stopped by regwatch."""

    def __init__(self, process: subprocess.Popen[bytes], display: str) -> None:
        self.process = process
        self.display = display

    @classmethod
    def start(cls) -> VirtualDisplay:
        """Start Xvfb and return once it accepts clients (it writes its display to a pipe)."""
        xvfb = shutil.which("Xvfb")
        if xvfb is None:
            raise BrowserUnavailable(
                "a browser window needs a display and Xvfb is not installed", hint=XVFB_HINT
            )
        read_end, write_end = os.pipe()
        errors = tempfile.TemporaryFile()  # what Xvfb says, for the message if it fails
        try:
            process = subprocess.Popen(
                [
                    xvfb,
                    "-displayfd",
                    str(write_end),
                    "-screen",
                    "0",
                    "1366x900x24",
                    "-nolisten",
                    "tcp",
                ],
                pass_fds=(write_end,),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=errors,
                start_new_session=True,
            )
        finally:
            os.close(write_end)
        with os.fdopen(read_end, "rb") as pipe:
            number = _read_display(pipe, process)
        if number is None:
            exited = process.poll()
            process.kill()
            process.wait()
            errors.seek(0)
            said = [line.strip() for line in errors.read().decode(errors="replace").splitlines()]
            errors.close()
            why = (
                f"Xvfb exited (status {exited}) before reporting a display"
                + (f": {said[-1][:200]}" if said and said[-1] else "")
                if exited is not None
                else f"Xvfb did not start a display within {_XVFB_READY:g} s"
            )
            raise BrowserUnavailable(why, hint=XVFB_HINT)
        errors.close()
        return cls(process, f":{number}")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def _read_display(pipe: IO[bytes], process: subprocess.Popen[bytes]) -> str | None:
    """The display number Xvfb writes once it is ready, or None (exited / too slow)."""
    deadline = time.monotonic() + _XVFB_READY
    text = b""
    while b"\n" not in text:
        left = deadline - time.monotonic()
        if left <= 0:
            return None
        ready, _, _ = select.select([pipe], [], [], left)
        if not ready:
            return None
        chunk = os.read(pipe.fileno(), 64)
        if not chunk:  # Xvfb exited before reporting
            return None
        text += chunk
    number = text.split(b"\n", 1)[0].strip()
    return number.decode() if number.isdigit() and process.poll() is None else None


class Chromium:
    """One running Chromium with one (persistent) browser context and one page.

    ``Chromium.start`` raises ``BrowserUnavailable`` (with ``INSTALL_HINT``)
    when Chromium or Playwright is missing or Chromium will not start.
    """

    def __init__(self, playwright: Playwright) -> None:
        self.playwright = playwright
        self.context: BrowserContext | None = None
        self.page: Page | None = None
        self.display: VirtualDisplay | None = None
        self.profile: Path | None = None
        self.pid: int | None = None
        self._lock: IO[str] | None = None
        self._scratch: tempfile.TemporaryDirectory[str] | None = None
        self.refuse: Refusal | None = None
        self.refused: list[str] = []  # why requests were aborted, newest last

    def _route(self, route: Route) -> None:
        request = route.request
        if self.refuse is not None:
            try:
                top = request.is_navigation_request() and request.frame.parent_frame is None
            except Exception:  # noqa: BLE001 - a worker's request has no frame
                top = False
            why = self.refuse(request.url, top)
            if why:
                log.warning("browser: refused %s: %s", request.url[:200], why)
                self.refused = [*self.refused[-9:], why]
                route.abort("blockedbyclient")
                return
        _skip_heavy(route)

    @classmethod
    def start(cls, settings: BrowserSettings, site: str, refuse: Refusal | None = None) -> Chromium:
        """Start Chromium for ``site`` (a host name: it names the profile directory).

        ``refuse(url, navigation)`` says why a request must not be made (the
        source's network policy), or None; a refused request is aborted before it
        leaves the browser and its reason kept in ``refused``."""
        path = chromium_path(settings)
        if path is None:
            where = settings.chromium_path or os.environ.get("REGWATCH_CHROMIUM")
            what = f"Chromium not found at {where!r}" if where else "Chromium is not installed"
            raise BrowserUnavailable(f"no browser to read this site: {what}", hint=INSTALL_HINT)
        try:
            from playwright.sync_api import Error, sync_playwright
        except ImportError:
            raise BrowserUnavailable(
                "no browser to read this site: the playwright package is missing",
                hint=INSTALL_HINT,
            ) from None
        try:
            playwright = sync_playwright().start()
        except Error as exc:  # e.g. called inside a running asyncio loop
            raise BrowserUnavailable(f"Playwright could not start: {_first_line(exc)}") from None
        session = cls(playwright)
        session.refuse = refuse
        try:
            env: dict[str, str | float | bool] = dict(os.environ)
            if not settings.headless and not os.environ.get("DISPLAY"):
                session.display = VirtualDisplay.start()
                env["DISPLAY"] = session.display.display
            session.context = playwright.chromium.launch_persistent_context(
                str(session._profile(settings, site)),
                executable_path=path,
                headless=settings.headless,
                args=launch_args(),
                env=env,
                timeout=max(settings.timeout, _LAUNCH_TIMEOUT) * 1000,
                service_workers="block",
                accept_downloads=False,
            )
            session.context.route("**/*", session._route)
            pages = session.context.pages
            session.page = pages[0] if pages else session.context.new_page()
        except Error as exc:
            session.close()
            raise BrowserUnavailable(
                f"Chromium ({path}) could not start: {_first_line(exc)}", hint=INSTALL_HINT
            ) from None
        except BaseException:
            session.close()
            raise
        return session

    def _profile(self, settings: BrowserSettings, site: str) -> Path:
        """The site's profile directory, locked for this Chromium; else a scratch one."""
        if settings.persistent:
            directory = profile_root(settings) / _safe(site)
            directory.mkdir(parents=True, exist_ok=True, mode=0o700)
            handle = open(directory / ".regwatch.lock", "w")  # held until close
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                handle.close()
                log.info("browser profile %s is in use; this check uses a fresh one", directory)
            else:
                self._lock, self.profile = handle, directory
                return directory
        self._scratch = tempfile.TemporaryDirectory(prefix="regwatch-browser-")
        self.profile = Path(self._scratch.name)
        return self.profile

    def alive(self) -> bool:
        if self.page is None or self.context is None:
            return False
        try:
            return not self.page.is_closed()
        except Exception:  # noqa: BLE001 - a crashed browser
            return False

    def close(self) -> None:
        if self.context is not None:
            try:
                self.context.close()
            except Exception as exc:  # noqa: BLE001 - a crashed browser is already gone
                log.debug("closing Chromium: %s", exc)
        self.context = self.page = None
        try:
            self.playwright.stop()
        except Exception as exc:  # noqa: BLE001
            log.debug("stopping Playwright: %s", exc)
        if self.display is not None:
            self.display.stop()
            self.display = None
        if self._lock is not None:
            self._lock.close()
            self._lock = None
        if self._scratch is not None:
            self._scratch.cleanup()
            self._scratch = None


def _safe(site: str) -> str:
    return "".join(c if c.isalnum() or c in "-._" else "_" for c in site) or "site"


def _skip_heavy(route: Route) -> None:
    if route.request.resource_type in _SKIPPED_RESOURCES:
        route.abort()
    else:
        route.continue_()


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
