"""The plain value the rest of regwatch hands to notifiers: an ``Alert``.

notifiers imports no other project package; ``monitor`` builds Alerts from
its stored changes and deliveries.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

# What happened, in the user's words. ``kind`` drives the headline.
ALERT_KINDS = (
    "added",  # a new document
    "draft",  # a new draft open for comment (see comment_deadline)
    "changed",  # metadata or attachment text revised
    "finalised",  # a draft's final version was published
    "withdrawn",  # the regulator withdrew / repealed it
    "removed",  # gone from the list for two healthy runs
    "page_changed",  # a watched page's text changed
    "health",  # a source has failed N times in a row
    "recovered",  # a failing source works again
    "reminder",  # a comment deadline is near
    "baseline",  # first run of a source: one summary line
    "test",  # `regwatch notify test`
)


@dataclass(frozen=True)
class Alert:
    """One thing to tell people about. All fields are plain data."""

    id: str
    kind: str
    source: str
    regulator: str
    jurisdiction: str
    title: str
    url: str = ""
    detected_at: datetime | None = None
    change_kind: str = ""  # stored kind: added/changed/removed/page_changed/health
    status: str = "unknown"  # draft / final / withdrawn / unknown
    relevant: bool | None = None
    cn: tuple[str, ...] = ()
    eu: tuple[str, ...] = ()
    us: tuple[str, ...] = ()
    jp: tuple[str, ...] = ()  # Japan's PMD Act class (再生医療等製品)
    scope: str = ""  # cgt / horizontal / none ("" = not classified)
    modalities: tuple[str, ...] = ()
    doc_type: str = ""
    disciplines: tuple[str, ...] = ()
    evidence: tuple[str, ...] = ()
    # where the attachment's words were, when they (not the title) made it relevant:
    # 'attachment "附件1.pdf" p.2: "腺相关病毒"'
    found_in: tuple[str, ...] = ()
    fields_changed: tuple[str, ...] = ()
    diff_excerpt: str = ""
    comment_deadline: date | None = None
    days_left: int | None = None  # for reminders
    detail: str = ""  # health: the last error; baseline: the summary
    extra: dict[str, str] = field(default_factory=dict)
    failures: int = 0  # health: consecutive failed checks
