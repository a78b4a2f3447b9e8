"""Routes: which alerts go to which apprise URLs, now or in a digest.

One ``[[notify]]`` table of the configuration is one ``Route``::

    [[notify]]
    name = "cgt-china"
    urls = ["mailto://…", "wecombot://…"]
    match = { relevant = true, jurisdictions = ["CN"], atmp = ["cell_therapy"] }

``scope = ["cgt", "horizontal"]`` also takes the rules for all medicines or
all biologics (药品注册管理办法, GMP annexes, ICH guidelines) that are not CGT
documents themselves; ``atmp`` accepts Japan's classes (``human_cell_processed``,
``animal_cell_processed``) as well as China's, the EU's and the US's.
    mode = "digest"
    digest = "daily 09:00 Asia/Shanghai"

A change goes to every route whose ``match`` accepts it. Within ``match``
every filter that is given must accept the alert (AND); a list accepts any
of its values (OR); an empty list or ``None`` accepts everything.

Source-level alerts are opt-in: ``health``, ``recovered``, ``baseline`` and
``test`` alerts match only a route whose ``kinds`` names them (``health``
also brings the ``recovered`` that ends a failure), and for them
only ``kinds``, ``sources`` and ``jurisdictions`` apply (they have no
classification).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from notifiers import labels
from notifiers.render import check_templates
from notifiers.schedule import DigestSchedule, parse_digest
from notifiers.services import check_urls, privacy_url
from notifiers.types import ALERT_KINDS, Alert

__all__ = ["DigestSchedule", "Match", "Route", "parse_digest", "routes_for"]

# Alerts about a source rather than a document: sent only where asked for.
OPT_IN_KINDS = frozenset({"health", "recovered", "baseline", "test"})
STATUSES = ("draft", "final", "withdrawn", "unknown")
SCOPES = ("cgt", "horizontal", "none")


def _check_known(values: list[str], known: Sequence[str] | set[str], what: str) -> list[str]:
    unknown = [value for value in values if value not in known]
    if unknown:
        raise ValueError(
            f"unknown {what} {', '.join(repr(v) for v in unknown)}; "
            f"known: {', '.join(sorted(known))}"
        )
    return values


class Match(BaseModel):
    """The filter of one route. Empty means "every document alert"."""

    model_config = ConfigDict(extra="forbid")

    relevant: bool | None = None
    jurisdictions: list[str] = Field(default_factory=list)
    sources: list[str] = Field(default_factory=list)
    atmp: list[str] = Field(default_factory=list)
    modalities: list[str] = Field(default_factory=list)
    doc_types: list[str] = Field(default_factory=list)
    statuses: list[str] = Field(default_factory=list)
    kinds: list[str] = Field(default_factory=list)
    scope: list[str] = Field(default_factory=list)

    @field_validator("jurisdictions")
    @classmethod
    def _upper(cls, values: list[str]) -> list[str]:
        return [value.strip().upper() for value in values]

    @field_validator("atmp")
    @classmethod
    def _atmp(cls, values: list[str]) -> list[str]:
        return _check_known(values, labels.known_classes(), "ATMP class")

    @field_validator("modalities")
    @classmethod
    def _modalities(cls, values: list[str]) -> list[str]:
        return _check_known(values, set(labels.vocabulary("modalities")), "modality")

    @field_validator("doc_types")
    @classmethod
    def _doc_types(cls, values: list[str]) -> list[str]:
        return _check_known(values, set(labels.vocabulary("doc_types")), "document type")

    @field_validator("statuses")
    @classmethod
    def _statuses(cls, values: list[str]) -> list[str]:
        return _check_known(values, STATUSES, "status")

    @field_validator("scope")
    @classmethod
    def _scope(cls, values: list[str]) -> list[str]:
        return _check_known(values, SCOPES, "scope")

    @field_validator("kinds")
    @classmethod
    def _kinds(cls, values: list[str]) -> list[str]:
        return _check_known(values, ALERT_KINDS, "alert kind")

    def matches(self, alert: Alert) -> bool:
        """True when this filter accepts ``alert``."""
        if not self._kind_matches(alert):
            return False
        if self.jurisdictions and alert.jurisdiction.upper() not in self.jurisdictions:
            return False
        if self.sources and alert.source not in self.sources:
            return False
        if alert.kind in OPT_IN_KINDS:
            return True
        return self._document_matches(alert)

    def _kind_matches(self, alert: Alert) -> bool:
        """Opt-in kinds (health, …) need naming in ``kinds``; other alerts pass
        an empty ``kinds`` or one naming their kind or change kind."""
        if alert.kind in OPT_IN_KINDS:
            # "health" means the whole story of a failing source: failing and recovered
            return alert.kind in self.kinds or (
                alert.change_kind == "health" and "health" in self.kinds
            )
        return not self.kinds or alert.kind in self.kinds or alert.change_kind in self.kinds

    def _document_matches(self, alert: Alert) -> bool:
        """The filters on a document alert's classification."""
        if self.relevant is not None and alert.relevant is not self.relevant:
            return False
        if self.scope and alert.scope not in self.scope:
            return False
        if self.atmp and not set(self.atmp) & {*alert.cn, *alert.eu, *alert.us, *alert.jp}:
            return False
        if self.modalities and not set(self.modalities) & set(alert.modalities):
            return False
        if self.doc_types and alert.doc_type not in self.doc_types:
            return False
        return not (self.statuses and alert.status not in self.statuses)


class Route(BaseModel):
    """Where matching alerts go, and when (immediately or in a digest)."""

    model_config = ConfigDict(extra="forbid", hide_input_in_errors=True)

    name: str = Field(min_length=1)
    urls: list[str] = Field(min_length=1)
    match: Match = Field(default_factory=Match)
    mode: Literal["immediate", "digest"] = "immediate"
    digest: str | None = Field(default=None, validate_default=True)
    templates: str | None = None
    max_attempts: int = Field(default=8, ge=1, le=100)
    format: Literal["auto", "text", "markdown", "html"] = "auto"

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("name must not be blank")
        return value.strip()

    @field_validator("urls")
    @classmethod
    def _urls(cls, urls: list[str]) -> list[str]:
        errors = check_urls(urls)
        if errors:
            raise ValueError("; ".join(errors))
        return urls

    @field_validator("digest")
    @classmethod
    def _digest(cls, value: str | None, info: ValidationInfo) -> str | None:
        mode = info.data.get("mode", "immediate")
        if value is None:
            if mode == "digest":
                raise ValueError(
                    "required when mode = 'digest', e.g. digest = 'daily 09:00 Asia/Shanghai'"
                )
            return None
        if mode != "digest":
            raise ValueError(
                "a digest schedule is given but mode is 'immediate'; "
                "set mode = 'digest' or remove digest"
            )
        parse_digest(value)
        return value

    @field_validator("templates")
    @classmethod
    def _templates(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if not Path(value).is_dir():
            raise ValueError(f"templates directory {value!r} does not exist")
        problems = check_templates(value)
        if problems:
            raise ValueError("; ".join(problems))
        return value

    @property
    def schedule(self) -> DigestSchedule | None:
        """The parsed digest schedule (None for immediate routes)."""
        return parse_digest(self.digest) if self.digest else None

    def privacy_urls(self) -> list[str]:
        """Each URL in apprise's privacy form, for logs and CLI output."""
        return [privacy_url(url) for url in self.urls]


def routes_for(alert: Alert, routes: Sequence[Route]) -> list[Route]:
    """Every route whose filter accepts ``alert``, in configuration order."""
    return [route for route in routes if route.match.matches(alert)]
