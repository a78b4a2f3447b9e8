"""The store: migrations keep history across upgrades, blobs are stored once,
SQLite runs in WAL mode, and a bad URL is a clear StoreError."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from alembic import command
from alembic.config import Config as AlembicConfig
from sqlalchemy import create_engine

from monitor.errors import ConfigError, StoreError
from monitor.store import Store
from monitor.store.db import MIGRATIONS

ROOT = Path(__file__).resolve().parents[1]


def head_revision() -> str:
    from alembic.config import Config as AlembicConfig
    from alembic.script import ScriptDirectory

    from monitor.store.db import MIGRATIONS

    config = AlembicConfig()
    config.set_main_option("script_location", str(MIGRATIONS))
    head = ScriptDirectory.from_config(config).get_current_head()
    assert head is not None
    return head


def test_an_old_database_is_upgraded_without_losing_history(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    engine = create_engine(url)
    config = AlembicConfig()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0001")
    db = sqlite3.connect(tmp_path / "old.db")
    db.execute(
        "insert into source (name, kind, url, jurisdiction, schedule, consecutive_failures,"
        " last_outcome, last_error, health_alerted, healthy_runs, last_record_count,"
        " validators) values ('cde', 'cde', '', 'CN', '', 0, '', '', 0, 1, 5, '{}')"
    )
    db.execute(
        "insert into document (source_id, key, title, url, jurisdiction, first_seen,"
        " last_seen, state, missing_runs, record, fingerprint, lineage, status,"
        " attachments, classification, relevant) values (1, 'k1', '细胞治疗', '', 'CN',"
        " '2026-01-01 00:00:00', '2026-01-01 00:00:00', 'active', 0, '{}', '', '',"
        " 'final', '{}', '{}', 1)"
    )
    db.commit()
    db.close()
    engine.dispose()

    store = Store(url)  # upgrades to head on open
    db = sqlite3.connect(tmp_path / "old.db")
    assert db.execute("select version_num from alembic_version").fetchone()[0] == head_revision()
    columns = {row[1] for row in db.execute("pragma table_info(document)")}
    assert "attachments_checked_at" in columns
    assert db.execute("select title from document").fetchall() == [("细胞治疗",)]
    assert db.execute("pragma journal_mode").fetchone()[0] == "wal"
    Store(url)  # opening again is a no-op
    assert [t for t in store.tables() if not t.startswith("search_")] == [
        "alembic_version",
        "blob",
        "change",
        "classification",
        "delivery",
        "document",
        "failure_evidence",
        "run",
        "source",
        "store_identity",
        "version",
    ]
    assert {"search_entry", "search_fts", "search_short"} <= set(store.tables())


def test_blobs_are_stored_once_and_compressed(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'b.db'}")
    body = ("国家药监局关于发布细胞治疗产品指导原则的通告 " * 500).encode("utf-8")
    with store.session(write=True) as session:
        first = store.put_blob(session, body)
        second = store.put_blob(session, body)
    assert first == second and store.blob_count() == 1
    with store.session() as session:
        assert store.get_blob(session, first) == body
    db = sqlite3.connect(tmp_path / "b.db")
    stored = db.execute("select length(data), size from blob").fetchone()
    assert stored[0] < stored[1] / 10


def test_a_database_that_cannot_be_opened_is_a_store_error(tmp_path: Path) -> None:
    (tmp_path / "dir.db").mkdir()
    with pytest.raises(StoreError, match="cannot open the database"):
        Store(f"sqlite:///{tmp_path / 'dir.db'}")


def test_an_unreachable_postgresql_server_is_a_store_error_without_the_password() -> None:
    pytest.importorskip("psycopg", reason="needs the [postgres] extra (psycopg)")
    with pytest.raises(StoreError) as error:
        Store("postgresql+psycopg://regwatch:s3cret@127.0.0.1:1/none")
    assert "s3cret" not in str(error.value)
    assert "\n" not in str(error.value)


@pytest.mark.parametrize(
    ("url", "says"),
    [
        (
            "mysql://regwatch:s3cret@127.0.0.1/regwatch",
            "mysql:// is not a database regwatch supports",
        ),
        ("postgresql+asyncpg://h/db", "postgresql+asyncpg:// is not a database regwatch supports"),
        ("oracle+nosuchdriver://h/db", "is not a database regwatch supports"),
        ("not a url", "not a database URL"),
    ],
)
def test_an_unsupported_store_url_is_a_config_error_naming_the_key(url: str, says: str) -> None:
    with pytest.raises(ConfigError) as error:
        Store(url)
    assert error.value.exit_code == 2
    assert error.value.message.startswith("[store].url: ")
    assert says in error.value.message and "use sqlite:///" in error.value.message
    assert "s3cret" not in error.value.message


# Run the real CLI in a fresh interpreter in which ``import psycopg`` fails, as
# on an install without the [postgres] extra.
_WITHOUT_PSYCOPG = """
import sys

class NoPsycopg:
    def find_spec(self, name, path=None, target=None):
        if name == "psycopg" or name.startswith("psycopg."):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None

sys.meta_path.insert(0, NoPsycopg())
sys.modules.pop("psycopg", None)
from monitor.cli.main import app
sys.argv = ["regwatch", *sys.argv[1:]]
app()
"""


def regwatch_without_psycopg(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", _WITHOUT_PSYCOPG, *args],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
    )


def write_store_config(tmp_path: Path, url: str) -> Path:
    path = tmp_path / "regwatch.toml"
    path.write_text(f'[http]\ndelay = 0\n\n[store]\nurl = "{url}"\n', encoding="utf-8")
    return path


def test_a_postgresql_url_without_psycopg_names_the_key_and_the_fix(tmp_path: Path) -> None:
    config = write_store_config(tmp_path, "postgresql+psycopg://regwatch:s3cret@127.0.0.1:1/none")
    for args in (["check"], ["changes"], ["run"]):
        result = regwatch_without_psycopg(*args, "--config", str(config))
        assert result.returncode == 2, (args, result.stderr)
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1, result.stderr
        assert f"{config}:5: [store].url: PostgreSQL needs the psycopg driver" in lines[0]
        assert "pip install 'regwatch[postgres]'" in lines[0]
        assert "internal error" not in result.stderr and "s3cret" not in result.stderr


def test_the_psycopg_blocker_really_blocks() -> None:
    """The harness above would prove nothing if psycopg were importable in it."""
    probe = subprocess.run(
        [
            sys.executable,
            "-c",
            _WITHOUT_PSYCOPG.split("from monitor.cli.main")[0] + "import psycopg\n",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
    )
    assert probe.returncode != 0 and "No module named 'psycopg'" in probe.stderr


def test_a_mysql_url_is_a_config_error_at_the_command_line(tmp_path: Path) -> None:
    config = write_store_config(tmp_path, "mysql://regwatch:s3cret@127.0.0.1/regwatch")
    result = subprocess.run(
        [sys.executable, "-m", "monitor.cli.main", "check", "--config", str(config)],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
    )
    assert result.returncode == 2, result.stderr
    assert result.stderr.strip() == (
        f"error: {config}:5: [store].url: mysql:// is not a database regwatch supports "
        "— use sqlite:///regwatch.db or postgresql+psycopg://user:pass@host/db"
    )


def test_0003_turns_mirror_details_into_the_mirror_of_column(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    engine = create_engine(url)
    config = AlembicConfig()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0002")
    db = sqlite3.connect(tmp_path / "old.db")
    db.execute(
        "insert into source (name, kind, url, jurisdiction, schedule, consecutive_failures,"
        " last_outcome, last_error, health_alerted, healthy_runs, last_record_count,"
        " validators) values ('cde', 'cde', '', 'CN', '', 0, '', '', 0, 1, 5, '{}')"
    )
    for key in ("k1", "k2", "k3"):
        db.execute(
            "insert into document (source_id, key, title, url, jurisdiction, first_seen,"
            " last_seen, state, missing_runs, record, fingerprint, lineage, status,"
            " attachments, classification, relevant) values (1, ?, 't', '', 'CN',"
            " '2026-01-01 00:00:00', '2026-01-01 00:00:00', 'active', 0, '{}', '', '',"
            " 'final', '{}', '{}', 1)",
            (key,),
        )
    for document, detail in [(1, ""), (2, "mirror:1"), (3, "mirror:document:1"), (3, "kept")]:
        db.execute(
            "insert into change (source_id, document_id, kind, event, detected_at, title,"
            " url, jurisdiction, fields_changed, excerpt, detail, classification,"
            " relevant, cn, eu, us, modalities, doc_type, status) values (1, ?, 'added',"
            " 'added', '2026-01-01 00:00:00', 't', '', 'CN', '[]', '', ?, '{}', 1, '', '',"
            " '', '', '', 'final')",
            (document, detail),
        )
    db.commit()
    db.close()
    engine.dispose()
    Store(url)
    db = sqlite3.connect(tmp_path / "old.db")
    rows = db.execute("select document_id, detail, mirror_of from change order by id").fetchall()
    assert rows == [(1, "", None), (2, "", 1), (3, "", 1), (3, "kept", None)]
