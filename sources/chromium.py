"""Finding and starting the system Chromium for ``sources.browser``.

Chromium is the distribution's package (``apt-get install chromium``), found
as ``browser.chromium_path``, else ``$REGWATCH_CHROMIUM``, else ``chromium`` /
``chromium-browser`` on ``PATH``. Playwright (the ``browser`` extra) drives
it; Playwright's own browser downloads are never used.

Flags (``LAUNCH_ARGS``) keep Chromium from opening background connections of
its own (updates, sync, field trials, QUIC probes); ``--no-sandbox`` is added
only when running as root, where Chromium's sandbox cannot start.
"""

from __future__ import annotations

import logging
import os
import shutil
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict, Field

from sources.errors import BrowserUnavailable

if TYPE_CHECKING:
    from playwright.sync_api import Browser, BrowserContext, Page, Playwright, Route

__all__ = [
    "INSTALL_HINT",
    "LAUNCH_ARGS",
    "BrowserSettings",
    "Chromium",
    "browser_available",
    "chromium_path",
    "launch_args",
]

INSTALL_HINT = (
    "install Chromium (apt-get install chromium) and the 'browser' extra "
    "(pip install regwatch[browser])"
)
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

log = logging.getLogger(__name__)


class BrowserSettings(BaseModel):
    """The ``[browser]`` table of the configuration.

    ``timeout``: seconds for one page visit or one in-page call, challenge
    included; ``wait_after_load``: extra seconds after the page's load event
    (for pages that keep working after it); ``headless=False`` shows the window
    (debugging on a desktop).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    chromium_path: str | None = None
    timeout: float = Field(default=45, gt=0)
    wait_after_load: float = Field(default=0, ge=0)
    headless: bool = True


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


class Chromium:
    """One running Chromium with one browser context and one page.

    ``Chromium.start`` raises ``BrowserUnavailable`` (with ``INSTALL_HINT``)
    when Chromium or Playwright is missing or Chromium will not start. The
    User-Agent is Chromium's own followed by ``user_agent``.
    """

    def __init__(self, playwright: Playwright, browser: Browser) -> None:
        self.playwright = playwright
        self.browser = browser
        self.context: BrowserContext | None = None
        self.page: Page | None = None

    @classmethod
    def start(cls, settings: BrowserSettings, user_agent: str) -> Chromium:
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
        session: Chromium | None = None
        try:
            browser = playwright.chromium.launch(
                executable_path=path,
                headless=settings.headless,
                args=launch_args(),
                timeout=settings.timeout * 1000,
            )
            session = cls(playwright, browser)
            cdp = browser.new_browser_cdp_session()
            own_agent = str(cdp.send("Browser.getVersion")["userAgent"])
            cdp.detach()
            session.context = browser.new_context(
                user_agent=f"{own_agent} {user_agent}",
                service_workers="block",
                accept_downloads=False,
            )
            session.context.route("**/*", _skip_heavy)
            session.page = session.context.new_page()
        except Error as exc:
            if session is not None:
                session.close()
            else:
                playwright.stop()
            raise BrowserUnavailable(
                f"Chromium ({path}) could not start: {_first_line(exc)}", hint=INSTALL_HINT
            ) from None
        return session

    def alive(self) -> bool:
        return self.page is not None and self.browser.is_connected()

    def close(self) -> None:
        for closer in (self.context, self.browser):
            if closer is not None:
                try:
                    closer.close()
                except Exception as exc:  # noqa: BLE001 - a crashed browser is already gone
                    log.debug("closing Chromium: %s", exc)
        self.context = self.page = None
        self.playwright.stop()


def _skip_heavy(route: Route) -> None:
    if route.request.resource_type in _SKIPPED_RESOURCES:
        route.abort()
    else:
        route.continue_()


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
