"""Inserting many rows with Core and getting their ids back, in order.

SQLAlchemy 2 sends an executemany with ``RETURNING`` as batched multi-row
``INSERT … RETURNING`` ("insertmanyvalues") and, with
``sort_by_parameter_order``, gives the ids in the order of the parameters, on
PostgreSQL and on SQLite 3.35 or newer. An older SQLite has no ``RETURNING``:
there each row is its own insert (slower, the same rows and ids).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection


def insert_ids(
    connection: Connection, table: sa.Table, rows: Sequence[dict[str, Any]]
) -> list[int]:
    """Insert ``rows`` into ``table``; the new rows' ids, in the order of ``rows``."""
    if not rows:
        return []
    if connection.dialect.insert_executemany_returning_sort_by_parameter_order:
        statement = table.insert().returning(table.c.id, sort_by_parameter_order=True)
        return [int(row[0]) for row in connection.execute(statement, list(rows))]
    ids = []
    for row in rows:
        key = connection.execute(table.insert(), row).inserted_primary_key
        assert key is not None
        ids.append(int(key[0]))
    return ids
