"""Errors raised while fetching and parsing a source.

The tree::

    SourceError                 anything that went wrong with one source
    ├── FetchError              the site could not be read (network, HTTP, size)
    │   ├── Blocked             a bot challenge, a block page, HTML where JSON
    │   │                       was expected: the site refused the robot
    │   │   └── BrowserUnavailable  the site needs a browser and none can run
    │   └── TooLarge            the body went over the configured byte cap
    └── ParseError              the bytes arrived but do not have the expected shape
        └── LayoutChanged       the page parsed, but the list we know is not there

None of these ever means "documents removed": the pipeline records them as a
source health event and keeps the last good state.
"""

from __future__ import annotations


class SourceError(Exception):
    """Base class of everything a source can raise."""

    def __init__(self, message: str, *, url: str | None = None, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.url = url
        self.hint = hint

    def __str__(self) -> str:
        text = self.message
        if self.url:
            text = f"{text} ({self.url})"
        if self.hint:
            text = f"{text}; {self.hint}"
        return text


class FetchError(SourceError):
    """The site could not be read: connection, timeout, HTTP error status."""

    def __init__(
        self,
        message: str,
        *,
        url: str | None = None,
        status: int | None = None,
        hint: str | None = None,
    ) -> None:
        super().__init__(message, url=url, hint=hint)
        self.status = status


class Blocked(FetchError):
    """The site answered with a bot challenge or a block page instead of content."""


class BrowserUnavailable(Blocked):
    """The site needs a browser (``fetch = "browser"`` or ``"auto"``) but Chromium or
    the ``playwright`` package is missing, or Chromium would not start."""


class TooLarge(FetchError):
    """The response body exceeded the configured byte cap."""


class ParseError(SourceError):
    """The response does not have the structure the adapter expects."""


class LayoutChanged(ParseError):
    """The page parsed but the expected list is missing: the site changed its layout."""
