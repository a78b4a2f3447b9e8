"""Errors raised by the diff package.

The tree::

    DiffingError                anything the diff package refuses to do
    └── InvalidPattern          a user "ignore" regex does not compile
                                (also a ValueError)

Diffing is pure computation: bad arguments from code (a negative count, a
``remove_after`` below 1) raise plain ``ValueError``. ``InvalidPattern`` is
the one a user can cause, through ``ignore = [...]`` in the configuration;
the config loader can call ``diffing.normalise.compile_ignore`` to report it
at start-up.
"""

from __future__ import annotations


class DiffingError(Exception):
    """Base class of the errors of the diff package."""


class InvalidPattern(DiffingError, ValueError):
    """A noise pattern given by the user is not a valid regular expression."""

    def __init__(self, pattern: str, reason: str) -> None:
        super().__init__(f"invalid ignore pattern {pattern!r}: {reason}")
        self.pattern = pattern
        self.reason = reason
