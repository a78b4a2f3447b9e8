"""Test stores: a throwaway PostgreSQL database, and an Alembic step on a store."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from alembic import command
from alembic.config import Config as AlembicConfig
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from monitor.store.db import MIGRATIONS


@contextmanager
def fresh_pg_database(server_url: str, prefix: str = "regwatch_t") -> Iterator[str]:
    """The URL of a new, empty database on ``server_url``'s server; dropped afterwards
    (its open connections ended first)."""
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    admin = create_engine(
        make_url(server_url).set(database="postgres"), isolation_level="AUTOCOMMIT"
    )
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(server_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(
                text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n"),
                {"n": name},
            )
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()


def alembic_step(url: str, revision: str, *, down: bool = False) -> None:
    """Upgrade (or downgrade, ``down``) the store at ``url`` to ``revision``."""
    engine = create_engine(url)
    config = AlembicConfig()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        (command.downgrade if down else command.upgrade)(config, revision)
    engine.dispose()
