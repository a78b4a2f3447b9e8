"""Migration 0013: a document's only version, when it reads as its row implies,
is no longer stored; every version read is the one read before.

A store built at 0011 with real rows (written by hand: the odd cases; written
by checks of a changing list, then taken down to 0011: SQLite and PostgreSQL)
is upgraded: exactly the implied versions go, and each document's versions
read as they did at 0011; the downgrade writes them back."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlmodel import Session, col, create_engine, select

from monitor.store import Store
from monitor.store.models import DocumentRow, SourceRow, VersionRow
from monitor.store.records import version_dict
from monitor.store.versions import versions_of
from tests.helpers.stores import alembic_step
from tests.test_migration_shared import _checked_store

FIRST = datetime(2026, 11, 2, 8, 0, tzinfo=UTC)
LATER = FIRST + timedelta(days=1)
_VERSIONS: Any = VersionRow.__table__  # type: ignore[attr-defined]


def _read(version: VersionRow, doc: DocumentRow) -> tuple[Any, ...]:
    try:
        record: Any = version_dict(version, doc)
    except ValueError:  # not JSON: compared as it is stored
        record = version.record
    return record, version.attachments, version.text_hash, version.seen_at


def _stored(url: str) -> dict[str, list[tuple[Any, ...]]]:
    """Each document's version rows as read (by key), the store at any revision."""
    engine = create_engine(url)
    with Session(engine) as session:
        docs = session.exec(select(DocumentRow).order_by(col(DocumentRow.id))).all()
        rows = session.exec(select(VersionRow).order_by(col(VersionRow.id))).all()
        found = {d.key: [_read(v, d) for v in rows if v.document_id == d.id] for d in docs}
    engine.dispose()
    return found


def _shown(url: str) -> dict[str, list[tuple[Any, ...]]]:
    """Each document's versions as the readers take them (``versions_of``)."""
    engine = create_engine(url)
    with Session(engine) as session:
        docs = session.exec(select(DocumentRow).order_by(col(DocumentRow.id))).all()
        found = {d.key: [_read(v, d) for v in versions_of(session, d)] for d in docs}
    engine.dispose()
    return found


def _version_rows(url: str) -> int:
    engine = create_engine(url)
    with engine.connect() as connection:
        count = connection.execute(sa.select(sa.func.count()).select_from(_VERSIONS)).scalar()
    engine.dispose()
    return int(count or 0)


# (key, the document's record, its versions: seen at, record, text hash)
CASES: list[tuple[str, str, list[tuple[datetime, str, str | None]]]] = [
    ("implied", '{"date":"2026-11-01"}', [(FIRST, '{"date":"2026-11-01"}', "h")]),
    ("implied-url", "{}", [(FIRST, '{"url":"https://x/implied-url"}', "h")]),
    ("seen-later", '{"date":"2026-11-01"}', [(LATER, '{"date":"2026-11-01"}', "h")]),
    (
        "two",
        '{"date":"2026-11-02"}',
        [(FIRST, '{"date":"2026-11-01"}', "h"), (LATER, '{"date":"2026-11-02"}', "h")],
    ),
    (
        "old-title",
        '{"date":"2026-11-01"}',
        [(FIRST, '{"title":"旧标题","date":"2026-11-01"}', "h")],
    ),
    ("no-record", "{}", [(FIRST, "{}", "h")]),  # a page's version: no record
    ("other-text", '{"date":"2026-11-01"}', [(FIRST, '{"date":"2026-11-01"}', "h0")]),
    ("not-json", "x", [(FIRST, "x", "h")]),
    ("none", '{"date":"2026-11-01"}', []),  # no version at all
]
GONE = {"implied", "implied-url"}


def _hand_written_0011(url: str) -> None:
    alembic_step(url, "0011")
    engine = create_engine(url)
    with Session(engine) as session:  # the ORM stores documents as 0011 does
        source = SourceRow(name="cde", kind="cde", jurisdiction="CN")
        session.add(source)
        session.flush()
        docs = []
        for key, record, _versions in CASES:
            doc = DocumentRow(
                source_id=source.id or 0,
                key=key,
                title="细胞治疗产品指导原则",
                url=f"https://x/{key}",
                first_seen=FIRST,
                last_seen=LATER,
                record=record,
                attachments='{"https://x/a.pdf":"h"}',
                text_hash="h",
            )
            session.add(doc)
            docs.append(doc)
        session.flush()
        for doc, (_key, _record, versions) in zip(docs, CASES, strict=True):
            for seen, record, text_hash in versions:  # Core: as the 0011 code wrote them
                session.connection().execute(
                    _VERSIONS.insert().values(
                        document_id=doc.id,
                        seen_at=seen,
                        record=record,
                        attachments=doc.attachments,
                        text_hash=text_hash,
                    )
                )
        session.commit()
    engine.dispose()


def test_0013_deletes_only_the_versions_their_rows_imply(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    _hand_written_0011(url)
    before = _stored(url)
    rows = _version_rows(url)
    alembic_step(url, "0013")
    after = _stored(url)
    assert {key for key, versions in after.items() if not versions} == GONE | {"none"}
    assert {k: v for k, v in after.items() if k not in GONE} == {
        k: v for k, v in before.items() if k not in GONE
    }
    assert _version_rows(url) == rows - len(GONE)
    shown = _shown(url)
    assert {k: v for k, v in shown.items() if k != "none"} == {
        k: v for k, v in before.items() if k != "none"
    }
    assert len(shown["none"]) == 1  # the version its row implies, as the code shows it
    alembic_step(url, "0011", down=True)
    assert _stored(url) == {**before, "none": shown["none"]}
    alembic_step(url, "0013")
    assert _stored(url) == after


def _assert_upgrade_reads_the_same(url: str, store: Store) -> None:
    shown = _shown(url)
    store.close()
    alembic_step(url, "0011", down=True)
    at_0011 = _stored(url)
    # at 0011 every document holds a row for each of its versions, as that code wrote
    assert at_0011 == shown and all(at_0011.values())
    single = sum(1 for versions in at_0011.values() if len(versions) == 1)
    rows = _version_rows(url)
    Store(url).close()  # upgrades to head on open
    assert _shown(url) == at_0011
    changed = sum(1 for versions in at_0011.values() if len(versions) > 1)
    assert changed and _version_rows(url) == rows - single


def test_0013_upgrades_a_checked_store_and_every_version_reads_the_same(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'regwatch.db'}"
    _assert_upgrade_reads_the_same(url, _checked_store(tmp_path, url))


@pytest.mark.postgres
def test_0013_on_postgres_upgrades_a_checked_store_and_reads_the_same(
    pg_url: str, tmp_path: Path
) -> None:
    _assert_upgrade_reads_the_same(pg_url, _checked_store(tmp_path, pg_url))
