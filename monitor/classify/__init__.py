"""Classifying regulator documents by ATMP class (docs/taxonomy.md).

``classify(title, text=..., status=..., doc_type=...)`` says whether a title
concerns cell and gene therapy, which modalities it names, its China / EU / US /
Japan classes, its scope (CGT, horizontal or none), its document type, status
and disciplines, and the words that decided it (and whether each was in the
title or the text). The rules and bilingual lexicons live in
``monitor/lexicon/*.toml``; this package reads them once per process.
"""

from __future__ import annotations

from monitor.classify._engine import AMBIGUOUS_TYPES, ambiguous, classify, classify_many, locate
from monitor.classify._lexicon import LexiconError, load_lexicon
from monitor.classify._result import (
    CN,
    DISCIPLINES,
    DOC_TYPES,
    EU,
    JP,
    MODALITIES,
    SCOPES,
    STATUSES,
    US,
    Classification,
)

__all__ = [
    "AMBIGUOUS_TYPES",
    "CN",
    "DISCIPLINES",
    "DOC_TYPES",
    "EU",
    "JP",
    "MODALITIES",
    "SCOPES",
    "STATUSES",
    "US",
    "Classification",
    "LexiconError",
    "ambiguous",
    "classify",
    "classify_many",
    "load_lexicon",
    "locate",
]
