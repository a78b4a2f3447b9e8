"""Digest schedules: ``"daily 09:00 Asia/Shanghai"``, ``"weekly mon 09:00 Europe/Amsterdam"``.

The grammar (words are case-insensitive)::

    daily    HH:MM ZONE
    weekdays HH:MM ZONE                 Monday to Friday
    weekly   DAYS HH:MM ZONE            DAYS: mon,tue,… or monday,… comma-separated

ZONE is an IANA time zone (``Asia/Shanghai``, ``UTC``): a digest goes out at
that wall-clock time all year, across daylight-saving changes. A time that
does not exist on a spring-forward day (02:30 in Europe) moves forward by
the gap; a time that happens twice on a fall-back day fires the first time.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from notifiers.errors import DigestSpecError

DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_FULL_DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_EXAMPLE = "e.g. 'daily 09:00 Asia/Shanghai' or 'weekly mon 09:00 Europe/Amsterdam'"


@dataclass(frozen=True)
class DigestSchedule:
    """When a digest goes out: on ``days`` (0 = Monday) at ``hour:minute`` in ``zone``."""

    spec: str
    days: tuple[int, ...]
    hour: int
    minute: int
    zone: str

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.zone)

    def next_after(self, moment: datetime) -> datetime:
        """The first send time strictly after ``moment`` (aware), in the schedule's zone."""
        if moment.tzinfo is None or moment.utcoffset() is None:
            raise ValueError("next_after needs an aware datetime (with a time zone)")
        tz = self.tz
        local = moment.astimezone(tz)
        for offset in range(9):
            day = local.date() + timedelta(days=offset)
            if day.weekday() not in self.days:
                continue
            wall = datetime.combine(day, time(self.hour, self.minute), tzinfo=tz)
            # A non-existent wall time (DST gap) normalises forward by the gap.
            candidate = wall.astimezone(UTC).astimezone(tz)
            if candidate > moment:
                return candidate
        raise AssertionError("unreachable: every schedule has at least one day")  # pragma: no cover

    def cron_fields(self) -> dict[str, str | int]:
        """Keyword arguments for APScheduler's ``CronTrigger``."""
        if len(self.days) == 7:
            day_of_week = "*"
        else:
            day_of_week = ",".join(DAY_NAMES[day] for day in self.days)
        return {
            "day_of_week": day_of_week,
            "hour": self.hour,
            "minute": self.minute,
            "timezone": self.zone,
        }

    def describe(self) -> str:
        """``"daily at 09:00 (Asia/Shanghai)"``: for logs and the CLI."""
        if len(self.days) == 7:
            when = "daily"
        elif self.days == (0, 1, 2, 3, 4):
            when = "weekdays"
        else:
            when = "weekly on " + ", ".join(DAY_NAMES[day] for day in self.days)
        return f"{when} at {self.hour:02d}:{self.minute:02d} ({self.zone})"


def _parse_time(word: str, spec: str) -> tuple[int, int]:
    match = re.fullmatch(r"(\d{1,2}):(\d{2})", word)
    if not match or int(match.group(1)) > 23 or int(match.group(2)) > 59:
        raise DigestSpecError(f"digest {spec!r}: {word!r} is not a time HH:MM (00:00-23:59)")
    return int(match.group(1)), int(match.group(2))


def _parse_days(word: str, spec: str) -> tuple[int, ...]:
    days: set[int] = set()
    for name in word.lower().split(","):
        if name in DAY_NAMES:
            days.add(DAY_NAMES.index(name))
        elif name in _FULL_DAYS:
            days.add(_FULL_DAYS.index(name))
        else:
            raise DigestSpecError(
                f"digest {spec!r}: {name!r} is not a day; use mon, tue, wed, thu, fri, sat, sun"
            )
    return tuple(sorted(days))


def _parse_zone(word: str, spec: str) -> str:
    try:
        ZoneInfo(word)
    except (ZoneInfoNotFoundError, ValueError):
        raise DigestSpecError(
            f"digest {spec!r}: {word!r} is not a time zone; use an IANA name such as "
            "Asia/Shanghai, Europe/Amsterdam, America/New_York or UTC"
        ) from None
    return word


def parse_digest(spec: str) -> DigestSchedule:
    """Read a digest schedule; ``DigestSpecError`` (a ValueError) says what is wrong."""
    words = spec.split()
    if not words:
        raise DigestSpecError(f"digest is empty; {_EXAMPLE}")
    kind = words[0].lower()
    if kind in ("daily", "weekdays"):
        if len(words) != 3:
            raise DigestSpecError(f"digest {spec!r}: expected '{kind} HH:MM ZONE'; {_EXAMPLE}")
        days = tuple(range(7)) if kind == "daily" else (0, 1, 2, 3, 4)
        rest = words[1:]
    elif kind == "weekly":
        if len(words) != 4:
            raise DigestSpecError(f"digest {spec!r}: expected 'weekly DAYS HH:MM ZONE'; {_EXAMPLE}")
        days = _parse_days(words[1], spec)
        rest = words[2:]
    else:
        raise DigestSpecError(
            f"digest {spec!r}: starts with {words[0]!r}; use daily, weekdays or weekly; {_EXAMPLE}"
        )
    hour, minute = _parse_time(rest[0], spec)
    zone = _parse_zone(rest[1], spec)
    return DigestSchedule(spec=spec, days=days, hour=hour, minute=minute, zone=zone)
