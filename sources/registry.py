"""The adapter registry: ``kind = "…"`` in a ``[[source]]`` table picks a class.

Each adapter declares its settings as a pydantic model (subclass of
``SourceSettings``), a docstring a user can read, and splits I/O
(``collect``, given a ``Fetcher``) from parsing (pure functions of bytes).
Register with ``@register``; ``regwatch sources`` prints the registry.
"""

from __future__ import annotations

import importlib
import inspect
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from typing import ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, field_validator

from sources.types import Coverage, Fetcher, FromSetting, Listing, Record, Regulator


class SourceSettings(BaseModel):
    """Settings every ``[[source]]`` table accepts, whatever its kind."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(
        min_length=1,
        pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$",
        description="the source's unique name (letters, digits, `_.-`); alerts and history use it",
    )
    kind: str = Field(description="the adapter kind (one of the kinds listed here)")
    url: str | None = Field(
        default=None, description="the page, feed or API to read (required by generic kinds)"
    )
    base_url: str | None = Field(
        default=None,
        description="another host standing in for the real one (a mirror, a proxy, a replica)",
    )
    every: str | None = Field(
        default=None, description='check interval, e.g. "6h" or "30m" (default 6h)'
    )
    cron: str | None = Field(
        default=None, description="a cron schedule instead of `every`, e.g. `0 8 * * 1-5`"
    )
    fetch: Literal["http", "browser", "auto"] = Field(
        default="http",
        description='"http", "browser" (Chromium) or "auto" (the browser once HTTP is blocked)',
    )
    jurisdiction: str | None = Field(
        default=None,
        description="jurisdiction code stored with each change (CN, US, EU…); default: the kind's",
    )
    regulator: str | None = Field(
        default=None, description="the regulator's name in alerts; default: the kind's label"
    )
    # true/false: "yes" is a typo, not a value
    enabled: StrictBool = Field(default=True, description="false: configured but never checked")
    attachments: StrictBool = Field(
        default=True, description="download attachments of CGT documents to read their text"
    )
    recheck_days: float = Field(
        default=7.0,
        ge=0.0,
        description="days between re-reads of a CGT document's attachments (0: never)",
    )
    recheck_per_run: int = Field(
        default=5, ge=0, description="at most this many attachment re-reads per check"
    )
    ambiguous_per_run: int = Field(
        default=3,
        ge=0,
        description="records a check whose title says too little get their attachments' first "
        "pages read to classify them (0: never); the others wait and later checks read them, "
        "within the same budget",
    )
    ignore: list[str] = Field(
        default_factory=list, description="regexes of noise to drop from texts before diffing"
    )
    collapse_ratio: float = Field(
        default=0.5,
        ge=0.0,
        le=1.0,
        description="fewer records than this share of the last count: a site problem, not removals",
    )
    allow_redirects_to: list[str] = Field(
        default_factory=list,
        description='more sites a redirect may lead to ("host", "host:port" or a URL)',
    )

    @field_validator("allow_redirects_to")
    @classmethod
    def _sites(cls, value: list[str]) -> list[str]:
        from sources.fetch.netpolicy import NetworkPolicy

        NetworkPolicy(allow_redirects_to=tuple(value))  # raises ValueError naming the entry
        return value


class Adapter(ABC):
    """One kind of source. Every subclass declares, on itself and typed
    ``ClassVar`` (``@register`` checks it):

    - ``kind``: the ``kind = "…"`` users write;
    - ``regulator``: a ``Regulator`` (bilingual label), or None for a generic
      kind (the source's ``regulator`` setting names it);
    - ``jurisdiction``: ``"CN"``, ``"US"``, ``"EU"``…, or ``""`` for a generic
      kind (the ``jurisdiction`` setting);
    - ``coverage``: how much of the source a listing shows (``Coverage``), or
      ``FromSetting("listing")`` when a setting chooses;
    - ``Settings``: its settings model (every field with a ``description``);
    - a docstring whose first line says what it reads.
    """

    # The defaults below serve an unregistered adapter (a test's); ``@register``
    # requires each one declared on the subclass itself.
    kind: ClassVar[str]
    regulator: ClassVar[Regulator | None] = None
    jurisdiction: ClassVar[str] = ""
    coverage: ClassVar[Coverage | FromSetting] = Coverage.COMPLETE
    Settings: ClassVar[type[SourceSettings]] = SourceSettings
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


# attribute -> (what it must be, a check of the value)
_SHAPE: dict[str, tuple[str, Callable[[object], bool]]] = {
    "kind": ("a non-empty str", lambda v: isinstance(v, str) and bool(v.strip())),
    "regulator": ("a Regulator or None", lambda v: v is None or isinstance(v, Regulator)),
    "jurisdiction": ('a str ("" for a generic kind)', lambda v: isinstance(v, str)),
    "coverage": (
        "a Coverage or a FromSetting",
        lambda v: isinstance(v, Coverage | FromSetting),
    ),
    "Settings": (
        "a subclass of SourceSettings",
        lambda v: isinstance(v, type) and issubclass(v, SourceSettings),
    ),
}


def check_shape(cls: type[Adapter]) -> None:
    """Raise ``TypeError`` naming the class and the attribute when ``cls`` does
    not declare the adapter shape (see ``Adapter``) on itself."""
    name = f"{cls.__module__}.{cls.__qualname__}"
    if not (cls.__dict__.get("__doc__") or "").strip():
        raise TypeError(f"adapter {name}: add a docstring (its first line says what it reads)")
    annotations = inspect.get_annotations(cls)
    for attr, (what, valid) in _SHAPE.items():
        if attr not in cls.__dict__:
            raise TypeError(f"adapter {name}: declare {attr} on the class ({what})")
        if "ClassVar" not in str(annotations.get(attr, "")):
            raise TypeError(f"adapter {name}: annotate {attr} as ClassVar[...]")
        if not valid(cls.__dict__[attr]):
            value = cls.__dict__[attr]
            raise TypeError(f"adapter {name}: {attr} must be {what}, not {value!r}")


def register(cls: type[Adapter]) -> type[Adapter]:
    """Class decorator: check ``cls``'s declared shape and make it available
    under ``cls.kind``."""
    check_shape(cls)
    if cls.kind in _REGISTRY and _REGISTRY[cls.kind] is not cls:
        raise ValueError(f"adapter kind {cls.kind!r} registered twice")
    _REGISTRY[cls.kind] = cls
    return cls


def regulator_label(kind: str) -> str | None:
    """The alert label of a built-in kind's regulator; None for a generic or unknown kind."""
    adapter = _REGISTRY.get(kind) or _load_builtin(kind)
    return adapter.regulator.label if adapter is not None and adapter.regulator else None


def adapter_for(kind: str) -> type[Adapter]:
    adapter = _REGISTRY.get(kind) or _load_builtin(kind)
    if adapter is None:
        _load_builtins()  # the message lists every kind
        known = ", ".join(sorted(_REGISTRY))
        raise KeyError(f"unknown source kind {kind!r}; known kinds: {known}")
    return adapter


def kinds() -> dict[str, type[Adapter]]:
    _load_builtins()
    return dict(sorted(_REGISTRY.items()))


def _load_builtin(kind: str) -> type[Adapter] | None:
    """Import the one module that registers the built-in ``kind`` (None: not built in).

    One module, not all: a check of html-list sources never imports the CDE,
    NMPA, FDA or EMA parsers (about a quarter of ``regwatch check``'s start-up)."""
    from sources.adapters.builtin import MODULES

    module = MODULES.get(kind)
    if module is None:
        return None
    importlib.import_module(module)
    return _REGISTRY.get(kind)


def _load_builtins() -> None:
    # Explicit list, not folder scanning: importing a module runs its @register.
    from sources.adapters.builtin import MODULES

    for module in sorted(set(MODULES.values())):
        importlib.import_module(module)
