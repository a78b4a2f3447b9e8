"""Errors of the core. The CLI turns each into one line and an exit code.

The tree::

    RegwatchError               anything the core reports to a user
    ├── ConfigError             the configuration file is wrong (names file, key, fix)   exit 2
    ├── StoreError              the database cannot be opened, migrated or written     exit 3
    │   └── ServiceLocked       another service already holds this database           exit 3
    ├── UsageError              a command-line value that is not valid                exit 2
    └── NotFound                a change, document or route id that does not exist     exit 4

``regwatch notify test`` exits 5 when the notification service refused its alert.

Source failures are ``sources.errors.SourceError`` (fetch, blocked, parse):
they are recorded as source health, not raised to the user.
"""

from __future__ import annotations


class RegwatchError(Exception):
    exit_code = 1

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ConfigError(RegwatchError):
    exit_code = 2

    def __init__(
        self,
        message: str,
        *,
        path: str | None = None,
        key: str | None = None,
        line: int | None = None,
        fix: str | None = None,
    ) -> None:
        where = path or ("<config>" if line else "")
        if line:
            where = f"{where}:{line}"
        text = f"{where + ': ' if where else ''}{key + ': ' if key else ''}{message}"
        if fix:
            text = f"{text} — {fix}"
        super().__init__(text)
        self.path, self.key, self.line, self.fix = path, key, line, fix


class StoreError(RegwatchError):
    exit_code = 3


class ServiceLocked(StoreError):
    pass


class NotFound(RegwatchError):
    exit_code = 4


class UsageError(RegwatchError):
    """A command-line value that cannot be used (names the option and the valid values)."""

    exit_code = 2
