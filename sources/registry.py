"""The adapter registry: ``kind = "…"`` in a ``[[source]]`` table picks a class.

Each adapter declares its settings as a pydantic model (subclass of
``SourceSettings``), a docstring a user can read, and splits I/O
(``collect``, given a ``Fetcher``) from parsing (pure functions of bytes).
Register with ``@register``; ``regwatch sources`` prints the registry.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from typing import ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, field_validator

from sources.types import Fetcher, Listing, Record


class SourceSettings(BaseModel):
    """Settings every ``[[source]]`` table accepts, whatever its kind."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
    kind: str
    url: str | None = None
    base_url: str | None = None
    every: str | None = None
    cron: str | None = None
    fetch: Literal["http", "browser", "auto"] = "http"
    jurisdiction: str | None = None
    regulator: str | None = None
    enabled: StrictBool = True  # true/false: "yes" is a typo, not a value
    attachments: StrictBool = True
    recheck_days: float = Field(default=7.0, ge=0.0)  # re-read CGT attachments (0: never)
    recheck_per_run: int = Field(default=5, ge=0)
    # attachments read a run to classify titles that say too little (0: never)
    ambiguous_per_run: int = Field(default=3, ge=0)
    ignore: list[str] = Field(default_factory=list)
    collapse_ratio: float = Field(default=0.5, ge=0.0, le=1.0)
    # more sites a redirect may lead to ("host", "host:port" or a URL); see sources.netpolicy
    allow_redirects_to: list[str] = Field(default_factory=list)

    @field_validator("allow_redirects_to")
    @classmethod
    def _sites(cls, value: list[str]) -> list[str]:
        from sources.netpolicy import NetworkPolicy

        NetworkPolicy(allow_redirects_to=tuple(value))  # raises ValueError naming the entry
        return value


class Adapter(ABC):
    """One kind of source. Subclasses set ``kind``, ``Settings`` and a docstring."""

    kind: ClassVar[str]
    Settings: ClassVar[type[SourceSettings]] = SourceSettings
    jurisdiction: ClassVar[str] = ""
    regulator: ClassVar[str] = ""
    default_base_url: ClassVar[str | None] = None

    def __init__(self, settings: SourceSettings) -> None:
        self.settings = settings

    @property
    def base_url(self) -> str:
        base = self.settings.base_url or self.default_base_url or self.settings.url or ""
        return base.rstrip("/")

    @abstractmethod
    def collect(self, fetcher: Fetcher, known: Mapping[str, Record]) -> Listing:
        """Fetch what the source publishes and return it as a ``Listing``.

        ``known`` holds the records of the last healthy run by key, so an
        adapter that enriches records from detail pages can reuse what it
        already has for list entries that did not change, instead of
        fetching every detail page on every run.
        """

    @classmethod
    def summary(cls) -> str:
        doc = (cls.__doc__ or "").strip()
        return doc.splitlines()[0] if doc else cls.kind


_REGISTRY: dict[str, type[Adapter]] = {}


def register(cls: type[Adapter]) -> type[Adapter]:
    """Class decorator: make ``cls`` available under ``cls.kind``."""
    if cls.kind in _REGISTRY and _REGISTRY[cls.kind] is not cls:
        raise ValueError(f"adapter kind {cls.kind!r} registered twice")
    _REGISTRY[cls.kind] = cls
    return cls


def adapter_for(kind: str) -> type[Adapter]:
    _load_builtins()
    try:
        return _REGISTRY[kind]
    except KeyError:
        known = ", ".join(sorted(_REGISTRY))
        raise KeyError(f"unknown source kind {kind!r}; known kinds: {known}") from None


def kinds() -> dict[str, type[Adapter]]:
    _load_builtins()
    return dict(sorted(_REGISTRY.items()))


def _load_builtins() -> None:
    # Explicit list, not folder scanning: importing a module runs its @register.
    import sources.builtin  # noqa: F401
