"""Load and validate ``regwatch.toml``.

Every table is a pydantic model with ``extra="forbid"``, so a misspelt key
is reported by name. ``${NAME}`` in any string is replaced by the environment
variable NAME (a missing variable is an error naming it). Errors carry the
file, the line where the key sits when it can be found, and what to do.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from monitor.errors import ConfigError
from monitor.store.db import URL_KEY, url_problem
from notifiers import redact
from notifiers.routes import Route
from sources.fetch.browser import BrowserSettings
from sources.fetch.http import HttpSettings
from sources.registry import SourceSettings, adapter_for

DEFAULT_PATH = "regwatch.toml"
_SECRET_TABLES = frozenset({"store", "source", "notify"})
_ENV = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|m|h|d)\s*$")


class StoreSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    url: str = "sqlite:///regwatch.db"


class HealthSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    alert_after: int = Field(default=3, ge=1)


class DeliverySettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    max_attempts: int = Field(default=8, ge=1)
    backoff: float = Field(default=30.0, gt=0, description="seconds before the first retry")
    max_backoff: float = Field(default=6 * 3600.0, gt=0)
    reminders: list[int] = Field(default_factory=lambda: [7, 1])
    every: str = "1m"
    summary_over: int = Field(
        default=20,
        ge=0,
        description=(
            "a check with more alerts than this for one route sends that route one summary "
            "alert instead (0: never summarise)"
        ),
    )

    @field_validator("every")
    @classmethod
    def _every(cls, value: str) -> str:
        if parse_duration(value) <= 0:
            raise ValueError(f"{value!r} is not a positive duration like '30s' or '1m'")
        return value


class ServiceSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    timezone: str = "UTC"
    listen: str = "127.0.0.1:8470"
    web: str = Field(default="off", description='the read-only web UI: "127.0.0.1:8471" or "off"')
    log_format: Literal["text", "json"] = "text"
    jitter: float = Field(default=0.1, ge=0, le=0.5, description="fraction of the interval")
    keep_days: int = Field(default=180, ge=1, description="raw snapshots kept this long")
    keep_versions: int = Field(default=5, ge=1, description="…and at least this many per source")

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"unknown time zone {value!r} (use an IANA name like Asia/Shanghai)"
            ) from None
        return value


@dataclass
class Config:
    path: str
    store: StoreSettings = field(default_factory=StoreSettings)
    http: HttpSettings = field(default_factory=HttpSettings)
    browser: BrowserSettings = field(default_factory=BrowserSettings)
    health: HealthSettings = field(default_factory=HealthSettings)
    delivery: DeliverySettings = field(default_factory=DeliverySettings)
    service: ServiceSettings = field(default_factory=ServiceSettings)
    sources: list[SourceSettings] = field(default_factory=list)
    routes: list[Route] = field(default_factory=list)

    def source(self, name: str) -> SourceSettings:
        for source in self.sources:
            if source.name == name:
                return source
        known = ", ".join(s.name for s in self.sources) or "none configured"
        raise ConfigError(f"no source named {name!r} (configured: {known})", path=self.path)

    def route(self, name: str) -> Route:
        for route in self.routes:
            if route.name == name:
                return route
        known = ", ".join(r.name for r in self.routes) or "none configured"
        raise ConfigError(
            f"no [[notify]] route named {name!r} (configured: {known})", path=self.path
        )


def parse_duration(text: str) -> float:
    """``"6h"`` → 21600.0 seconds. Units: s, m, h, d."""
    match = _DURATION.match(text)
    if not match:
        raise ValueError(f"{text!r} is not a duration like '30m', '6h' or '1d'")
    number, unit = float(match.group(1)), match.group(2)
    return number * {"s": 1, "m": 60, "h": 3600, "d": 86400}[unit]


def load(
    path: str | os.PathLike[str] = DEFAULT_PATH, env: Mapping[str, str] | None = None
) -> Config:
    """Read, expand and validate a configuration file."""
    file = Path(path)
    shown = str(file)
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(
            "file not found", path=shown, fix="create one with `regwatch init` or pass --config"
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read: {exc}", path=shown) from None
    return loads(text, path=shown, env=env)


def loads(text: str, *, path: str = "<config>", env: Mapping[str, str] | None = None) -> Config:
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        line = _line_of_toml_error(str(exc))
        raise ConfigError(f"not valid TOML: {exc}", path=path, line=line) from None
    environ = os.environ if env is None else env
    raw = {
        key: _expand(value, environ, path, secret=key in _SECRET_TABLES)
        for key, value in raw.items()
    }
    locator = _Locator(text)
    known = {"store", "http", "browser", "health", "delivery", "service", "source", "notify"}
    for key in raw:
        if key not in known:
            raise ConfigError(
                f"unknown table or key {key!r}",
                path=path,
                key=key,
                line=locator.top_key(key),
                fix=f"known tables: {', '.join(sorted(known))}",
            )
    config = Config(path=path)
    tables: list[tuple[str, type[BaseModel]]] = [
        ("store", StoreSettings),
        ("http", HttpSettings),
        ("browser", BrowserSettings),
        ("health", HealthSettings),
        ("delivery", DeliverySettings),
        ("service", ServiceSettings),
    ]
    for name, model in tables:
        value = raw.get(name, {})
        if not isinstance(value, dict):
            raise ConfigError(f"[{name}] must be a table", path=path, key=name)
        setattr(
            config, name, _validate(model, value, path, f"[{name}]", locator.table(name), locator)
        )
    problem = url_problem(config.store.url)
    if problem is not None:
        raise ConfigError(
            problem[0],
            path=path,
            key=URL_KEY,
            fix=problem[1],
            line=locator.key_after(locator.table("store"), "url"),
        )
    config.sources = _load_sources(raw.get("source", []), path, locator)
    config.routes = _load_routes(raw.get("notify", []), path, locator)
    for route in config.routes:
        for source_name in route.match.sources:
            if source_name not in {s.name for s in config.sources}:
                raise ConfigError(
                    f"match.sources names {source_name!r}, which is not a configured source",
                    path=path,
                    key=f"[[notify]] {route.name}",
                )
    return config


def _load_sources(items: Any, path: str, locator: _Locator) -> list[SourceSettings]:
    if not isinstance(items, list):
        raise ConfigError("use [[source]] (an array of tables)", path=path, key="source")
    sources: list[SourceSettings] = []
    seen: set[str] = set()
    for index, item in enumerate(items):
        start = locator.array_item("source", index)
        where = f"[[source]] #{index + 1}"
        settings = _source(item, path, where, start, locator)
        _check_source(settings, path, where, start, locator)
        if settings.name in seen:
            raise ConfigError(
                f"two sources are named {settings.name!r}",
                path=path,
                key=f"{where}.name",
                line=start,
                fix="names must be unique",
            )
        seen.add(settings.name)
        sources.append(settings)
    return sources


def _source(
    item: Any, path: str, where: str, start: int | None, locator: _Locator
) -> SourceSettings:
    """One [[source]] table validated by its kind's settings model."""
    kind = item.get("kind")
    if not kind:
        raise ConfigError(
            "missing 'kind'",
            path=path,
            key=where,
            line=start,
            fix='set kind = "…"; `regwatch sources` lists the kinds',
        )
    try:
        adapter = adapter_for(str(kind))
    except KeyError as exc:
        raise ConfigError(
            str(exc.args[0]),
            path=path,
            key=f"{where}.kind",
            line=locator.key_after(start, "kind"),
        ) from None
    settings = _validate(adapter.Settings, item, path, where, start, locator)
    assert isinstance(settings, SourceSettings)
    return settings


def _check_source(
    settings: SourceSettings, path: str, where: str, start: int | None, locator: _Locator
) -> None:
    """What the settings model cannot check alone: one schedule, a positive
    ``every``, a valid ``cron``, ``ignore`` patterns that compile."""
    if settings.every and settings.cron:
        raise ConfigError(
            "set either 'every' or 'cron', not both",
            path=path,
            key=f"{where} ({settings.name})",
            line=start,
        )
    if settings.every:
        try:
            if parse_duration(settings.every) <= 0:
                raise ValueError(f"{settings.every!r} is not a positive duration like '6h'")
        except ValueError as exc:
            raise ConfigError(
                str(exc),
                path=path,
                key=f"{where}.every",
                line=locator.key_after(start, "every"),
            ) from None
    if settings.cron:
        from apscheduler.triggers.cron import CronTrigger

        try:
            CronTrigger.from_crontab(settings.cron)
        except ValueError as exc:
            raise ConfigError(
                f"bad cron expression: {exc}",
                path=path,
                key=f"{where}.cron",
                line=locator.key_after(start, "cron"),
            ) from None
    for pattern in settings.ignore:
        try:
            re.compile(pattern)
        except re.error as exc:
            raise ConfigError(
                f"bad regular expression {pattern!r}: {exc}",
                path=path,
                key=f"{where}.ignore",
                line=locator.key_after(start, "ignore"),
            ) from None


def _load_routes(items: Any, path: str, locator: _Locator) -> list[Route]:
    if not isinstance(items, list):
        raise ConfigError("use [[notify]] (an array of tables)", path=path, key="notify")
    routes: list[Route] = []
    for index, item in enumerate(items):
        start = locator.array_item("notify", index)
        route = _validate(Route, item, path, f"[[notify]] #{index + 1}", start, locator)
        assert isinstance(route, Route)
        if route.name in {r.name for r in routes}:
            raise ConfigError(
                f"two routes are named {route.name!r}", path=path, key="[[notify]].name", line=start
            )
        routes.append(route)
    return routes


def _validate(
    model: type[BaseModel],
    value: dict[str, Any],
    path: str,
    where: str,
    start: int | None,
    locator: _Locator | None = None,
) -> BaseModel:
    try:
        return model.model_validate(value)
    except ValidationError as exc:
        error = exc.errors()[0]
        loc = ".".join(str(part) for part in error["loc"])
        message = error["msg"]
        if error["type"] == "extra_forbidden":
            allowed = ", ".join(sorted(model.model_fields))
            message, fix = "unknown key", f"allowed keys here: {allowed}"
        elif error["type"] == "missing":
            message, fix = "required key is missing", None
        else:
            fix = None
        line = locator.key_after(start, loc) if locator else start
        raise ConfigError(
            message, path=path, key=f"{where}.{loc}" if loc else where, line=line, fix=fix
        ) from None


def _expand(value: Any, env: Mapping[str, str], path: str, *, secret: bool = False) -> Any:
    """``${NAME}`` -> the environment's value; in the tables of ``_SECRET_TABLES`` the
    value is registered with ``notifiers.redact`` so no output ever shows it."""
    if isinstance(value, str):

        def replace(match: re.Match[str]) -> str:
            name = match.group(1)
            if name not in env:
                raise ConfigError(
                    f"environment variable ${{{name}}} is not set",
                    path=path,
                    fix=f"export {name}=… before starting regwatch",
                )
            if secret:
                redact.register(env[name], f"${{{name}}}")
            return env[name]

        return _ENV.sub(replace, value)
    if isinstance(value, list):
        return [_expand(v, env, path, secret=secret) for v in value]
    if isinstance(value, dict):
        return {k: _expand(v, env, path, secret=secret) for k, v in value.items()}
    return value


def _line_of_toml_error(message: str) -> int | None:
    match = re.search(r"line (\d+)", message)
    return int(match.group(1)) if match else None


class _Locator:
    """Finds the line of a table or key in the TOML text (tomllib keeps no positions)."""

    def __init__(self, text: str) -> None:
        self.lines = text.splitlines()
        self._items: dict[str, list[int]] = {}  # name -> the lines of its [[name]] headers

    def table(self, name: str) -> int | None:
        return self._find(re.compile(rf"^\s*\[\s*{re.escape(name)}\s*\]"))

    def top_key(self, name: str) -> int | None:
        return self._find(re.compile(rf"^\s*(\[+\s*)?{re.escape(name)}\b"))

    def array_item(self, name: str, index: int) -> int | None:
        hits = self._items.get(name)
        if hits is None:  # found once: a config of 10,000 sources asks 10,000 times
            pattern = re.compile(rf"^\s*\[\[\s*{re.escape(name)}\s*\]\]")
            hits = [n for n, line in enumerate(self.lines, 1) if pattern.match(line)]
            self._items[name] = hits
        return hits[index] if index < len(hits) else None

    def key_after(self, start: int | None, loc: str) -> int | None:
        """The line of ``loc``'s first part inside the table starting at ``start``."""
        if not loc:
            return start
        pattern = re.compile(rf"^\s*\"?{re.escape(loc.split('.')[0])}\"?\s*=")
        begin = start or 1
        for number in range(begin, len(self.lines) + 1):
            line = self.lines[number - 1]
            if number > begin and line.lstrip().startswith("["):
                break
            if pattern.match(line):
                return number
        return start

    def _find(self, pattern: re.Pattern[str]) -> int | None:
        for number, line in enumerate(self.lines, 1):
            if pattern.match(line):
                return number
        return None
