"""Record-set diff: what was added, changed and removed between two runs.

A source's run yields a list of records with stable keys. ``diff`` compares
it with the records of the last healthy run and says, by key:

- **added**: a key never seen before;
- **changed**: a known key whose normalised content differs, with the list of
  fields that changed (``title``, ``url``, ``date``, ``status``,
  ``attachments``, ``fields.<name>``);
- **missing**: a known key absent from this run, counted in consecutive
  healthy runs; still an active document;
- **removed**: a key absent for ``remove_after`` consecutive healthy runs
  (two by default): one bad page never "deletes" a document;
- **returned**: a key that was missing and is back (not an "added");
- **refreshed**: a known record whose text differs only by noise or by the
  scheme/host of its URLs (``canonical``): no change, but worth storing.

The diff is order independent, and noise (whitespace, full-width brackets,
session ids in URLs, attachment order) never counts as a change: records are
compared after ``diffing.normalise.normalise_record``.

Duplicate keys in one run (a pinned item listed twice) are merged, not an
error: the richest record (most attachments and fields, then the longest
title) is kept, ties broken by fingerprint so that the choice does not
depend on the order of the list. Their keys are listed in
``RecordDiff.duplicates``.

``collapsed`` tells a broken run (zero or far fewer records than last time)
from a real one; the pipeline turns it into a health event, never removals.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace

from diffing.normalise import fingerprint, normalise_attachment, normalise_record
from sources.types import Attachment, Record


@dataclass(frozen=True)
class FieldChange:
    """One field of a record that changed (None: absent or empty).

    ``name`` is ``title``, ``url``, ``date``, ``status``, ``attachments`` or
    ``fields.<name>``. Values are the adapter's text with whitespace
    collapsed (the comparison itself is on normalised text). For
    ``attachments`` old/new list one file a line, ``name <url>``, sorted.
    """

    name: str
    old: str | None
    new: str | None

    @property
    def label(self) -> str:
        """The field name a user reads (``fields.docket`` → ``docket``)."""
        return self.name.removeprefix("fields.")


@dataclass(frozen=True)
class RecordChange:
    """A known record whose content changed. ``old``/``new`` are the records as
    the adapter produced them; ``fields`` lists what changed (normalised)."""

    old: Record
    new: Record
    fields: tuple[FieldChange, ...]
    added_attachments: tuple[Attachment, ...] = ()
    removed_attachments: tuple[Attachment, ...] = ()

    @property
    def key(self) -> str:
        return self.new.key

    @property
    def names(self) -> tuple[str, ...]:
        """Names of the changed fields, in display order."""
        return tuple(change.name for change in self.fields)

    def field(self, name: str) -> FieldChange | None:
        """The change of one field (``"title"``, ``"fields.docket"``), if any."""
        for change in self.fields:
            if change.name == name:
                return change
        return None


@dataclass
class RecordDiff:
    """The result of one record-set diff (see the module doc)."""

    added: list[Record] = field(default_factory=list)
    changed: list[RecordChange] = field(default_factory=list)
    removed: list[Record] = field(default_factory=list)
    missing: dict[str, int] = field(default_factory=dict)
    returned: list[str] = field(default_factory=list)
    duplicates: list[str] = field(default_factory=list)
    unchanged: int = 0
    refreshed: list[Record] = field(default_factory=list)

    @property
    def has_changes(self) -> bool:
        """True when something was added, changed or removed."""
        return bool(self.added or self.changed or self.removed)


def _ignored(name: str, ignore_fields: Collection[str]) -> bool:
    return name in ignore_fields or name.removeprefix("fields.") in ignore_fields


def _shown(value: str | None) -> str | None:
    """A value as the user sees it: original text, whitespace collapsed."""
    if value is None:
        return None
    return " ".join(value.split()) or None


def _attachments_text(attachments: Iterable[Attachment]) -> str | None:
    lines = sorted(f"{a.name} <{a.url}>".strip() for a in attachments)
    return "\n".join(lines) or None


def _attachment_changes(
    old: Record, new: Record, ignore: Sequence[str]
) -> tuple[tuple[Attachment, ...], tuple[Attachment, ...]]:
    """(added, removed) attachments, compared as sets of normalised files."""
    old_files = {normalise_attachment(a, ignore): a for a in old.attachments}
    new_files = {normalise_attachment(a, ignore): a for a in new.attachments}
    added = tuple(a for k, a in new_files.items() if k not in old_files)
    removed = tuple(a for k, a in old_files.items() if k not in new_files)
    return added, removed


def _canonical(record: Record, canonical: Callable[[str], str] | None) -> Record:
    if canonical is None:
        return record
    return replace(
        record,
        url=canonical(record.url),
        attachments=tuple(
            Attachment(url=canonical(a.url), name=a.name) for a in record.attachments
        ),
    )


def compare(
    old: Record,
    new: Record,
    *,
    ignore: Sequence[str] = (),
    ignore_fields: Collection[str] = ("updated",),
    canonical: Callable[[str], str] | None = None,
) -> RecordChange | None:
    """Compare two versions of one record; None when they are the same after
    normalisation (changes in ``ignore_fields`` alone do not count).

    Records are compared normalised; the ``FieldChange`` values show the
    original text with whitespace collapsed. ``canonical`` maps URLs to the
    form compared (the pipeline drops the scheme and the source's own host,
    so a site moving to https changes no record).
    """
    if old == new:
        return None
    a = normalise_record(_canonical(old, canonical), ignore)
    b = normalise_record(_canonical(new, canonical), ignore)
    changes: list[FieldChange] = []
    for name in ("title", "url", "date", "status"):
        if getattr(a, name) != getattr(b, name) and not _ignored(name, ignore_fields):
            changes.append(
                FieldChange(name, _shown(getattr(old, name)), _shown(getattr(new, name)))
            )
    added: tuple[Attachment, ...] = ()
    removed: tuple[Attachment, ...] = ()
    if a.attachments != b.attachments and not _ignored("attachments", ignore_fields):
        added, removed = _attachment_changes(old, new, ignore)
        before, after = _attachments_text(old.attachments), _attachments_text(new.attachments)
        changes.append(FieldChange("attachments", before, after))
    for name in sorted(set(a.fields) | set(b.fields)):
        if a.fields.get(name) != b.fields.get(name) and not _ignored(
            f"fields.{name}", ignore_fields
        ):
            before_f, after_f = _field_value(old, name), _field_value(new, name)
            changes.append(FieldChange(f"fields.{name}", before_f, after_f))
    if not changes:
        return None
    return RecordChange(old, new, tuple(changes), added, removed)


def _field_value(record: Record, name: str) -> str | None:
    for key, value in record.fields.items():
        if key.strip() == name:
            return _shown(value)
    return None


def _richness(record: Record) -> tuple[int, int, str, str]:
    filled = sum(1 for v in record.fields.values() if v.strip())
    filled += bool(record.date) + bool(record.status) + len(record.attachments)
    raw = json.dumps(record.as_dict(), ensure_ascii=False, sort_keys=True)
    return (filled, len(record.title.strip()), fingerprint(record, ignore_fields=()), raw)


def merge_duplicates(records: Sequence[Record]) -> tuple[dict[str, Record], list[str]]:
    """Records by key, duplicates merged (see the module doc), and the sorted
    list of keys that occurred more than once."""
    by_key: dict[str, Record] = {}
    duplicates: set[str] = set()
    for record in records:
        known = by_key.get(record.key)
        if known is None:
            by_key[record.key] = record
            continue
        duplicates.add(record.key)
        if known != record and _richness(record) > _richness(known):
            by_key[record.key] = record
    return by_key, sorted(duplicates)


def diff(
    previous: Mapping[str, Record],
    current: Sequence[Record],
    *,
    missing: Mapping[str, int] | None = None,
    remove_after: int = 2,
    ignore_fields: Collection[str] = ("updated",),
    ignore: Sequence[str] = (),
    canonical: Callable[[str], str] | None = None,
) -> RecordDiff:
    """Diff the records of a healthy run against the active records of the last.

    ``previous`` maps key → record for every document still active (including
    those currently missing); ``missing`` holds the counts the last diff
    returned in ``RecordDiff.missing``. A key absent from ``current`` goes to
    ``missing`` with its new count, or to ``removed`` once that count reaches
    ``remove_after``. ``ignore`` holds extra noise regexes (the source's
    ``ignore`` setting); ``ignore_fields`` field names whose changes do not
    count (``"updated"`` means ``fields.updated``); ``canonical`` as for
    ``compare``.

    Call this only for healthy runs: check ``collapsed`` first.
    """
    if remove_after < 1:
        raise ValueError(f"remove_after must be at least 1, got {remove_after}")
    was_missing = missing or {}
    by_key, duplicates = merge_duplicates(current)
    result = RecordDiff(duplicates=duplicates)
    for key in sorted(by_key):
        record = by_key[key]
        old = previous.get(key)
        if old is None:
            result.added.append(record)
            continue
        if was_missing.get(key, 0) > 0:
            result.returned.append(key)
        change = compare(
            old, record, ignore=ignore, ignore_fields=ignore_fields, canonical=canonical
        )
        if change is None:
            result.unchanged += 1
            if old != record:
                result.refreshed.append(record)
        else:
            result.changed.append(change)
    for key in sorted(previous.keys() - by_key.keys()):
        count = was_missing.get(key, 0) + 1
        if count >= remove_after:
            result.removed.append(previous[key])
        else:
            result.missing[key] = count
    return result


def collapsed(
    previous_count: int, current_count: int, *, ratio: float = 0.5, min_previous: int = 4
) -> bool:
    """True when a run that fetched and parsed fine still looks broken.

    That is: zero records where the last healthy run had some, or fewer than
    ``ratio × previous_count`` records (judged only when the last run had at
    least ``min_previous``, so that 2 → 1 on a tiny list is not a collapse).
    ``ratio = 0`` turns the ratio test off.
    """
    if previous_count < 0 or current_count < 0:
        raise ValueError("record counts cannot be negative")
    if not 0.0 <= ratio <= 1.0:
        raise ValueError(f"ratio must be between 0 and 1, got {ratio}")
    if current_count == 0:
        return previous_count > 0
    return previous_count >= min_previous and current_count < ratio * previous_count
