"""Diffing: what changed between two runs of a source, without the noise.

- ``diffing.normalise``: noise removal before comparing or hashing
  (``normalise_text``, ``normalise_record``, ``fingerprint``, ``DEFAULT_NOISE``).
- ``diffing.records``: record-set diff (``diff`` → ``RecordDiff``: added,
  changed, missing, removed after two healthy absences, returned) and
  ``collapsed`` to tell a broken run from a real one.
- ``diffing.text``: line-then-token text diff, fine-grained for Chinese
  (``diff`` → ``TextDiff`` with ``unified()``, ``html()``, ``excerpt()``).
- ``diffing.render``: markup helpers and record-change tables.

This package imports only ``sources.types`` from the project.
"""

from __future__ import annotations

from diffing.errors import DiffingError, InvalidPattern
from diffing.normalise import (
    DEFAULT_NOISE,
    clean_url,
    fingerprint,
    normalise_record,
    normalise_text,
)
from diffing.records import FieldChange, RecordChange, RecordDiff, collapsed
from diffing.records import diff as diff_records
from diffing.render import render_change_html, render_change_text, summarise
from diffing.text import Op, TextDiff, tokenize
from diffing.text import diff as diff_text

__all__ = [
    "DEFAULT_NOISE",
    "DiffingError",
    "FieldChange",
    "InvalidPattern",
    "Op",
    "RecordChange",
    "RecordDiff",
    "TextDiff",
    "clean_url",
    "collapsed",
    "diff_records",
    "diff_text",
    "fingerprint",
    "normalise_record",
    "normalise_text",
    "render_change_html",
    "render_change_text",
    "summarise",
    "tokenize",
]
