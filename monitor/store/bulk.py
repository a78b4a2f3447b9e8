"""Inserting many rows with Core and getting their ids back, in order.

PostgreSQL: SQLAlchemy 2 sends an executemany with ``RETURNING`` as batched
multi-row ``INSERT … RETURNING`` ("insertmanyvalues") and, with
``sort_by_parameter_order``, gives the ids in the order of the parameters.

SQLite: SQLAlchemy sends that request one row per statement (SQLite does not
promise the order of ``RETURNING`` rows), each with its own round of Python
around it. Here the rows go in one plain ``executemany`` and the ids are the
range that ends at ``last_insert_rowid()``: SQLite gives a row inserted
without an id one more than the largest in the table, and no other
connection writes between the rows of one statement (it holds the database's
write lock until the transaction ends). The range is checked: a table at the
largest rowid (where SQLite picks ids at random) raises rather than returning
wrong ids.
"""

from __future__ import annotations

import functools
import operator
from collections.abc import Callable, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Dialect

from monitor.store.raw import sqlite_connection


def insert_ids(
    connection: Connection, table: sa.Table, rows: Sequence[dict[str, Any]]
) -> list[int]:
    """Insert ``rows`` into ``table``; the new rows' ids, in the order of ``rows``."""
    if not rows:
        return []
    if connection.dialect.name == "sqlite":
        return _sqlite_ids(connection, table, rows)
    if connection.dialect.insert_executemany_returning_sort_by_parameter_order:
        statement = table.insert().returning(table.c.id, sort_by_parameter_order=True)
        return [int(row[0]) for row in connection.execute(statement, list(rows))]
    return one_by_one(connection, table, rows)


def one_by_one(
    connection: Connection, table: sa.Table, rows: Sequence[dict[str, Any]]
) -> list[int]:
    """One insert per row (a database without sorted ``RETURNING``; and the
    reference the bulk paths are tested against)."""
    ids = []
    for row in rows:
        key = connection.execute(table.insert(), row).inserted_primary_key
        assert key is not None
        ids.append(int(key[0]))
    return ids


def _sqlite_ids(
    connection: Connection, table: sa.Table, rows: Sequence[dict[str, Any]]
) -> list[int]:
    """One executemany; the ids are the ``len(rows)`` rowids up to the last one."""
    _sqlite_insert(connection, table, rows)
    name = connection.dialect.identifier_preparer.format_table(table)
    query = f"SELECT last_insert_rowid(), max(rowid) FROM {name}"
    dbapi = sqlite_connection(connection)
    found = dbapi.execute(query).fetchone() if dbapi else connection.exec_driver_sql(query).one()
    last, highest = found
    first = int(last) - len(rows) + 1
    if highest != last or first < 1:  # pragma: no cover - SQLite's rowid ceiling
        raise RuntimeError(f"{table.name}: new ids are not the {len(rows)} up to {last}")
    return list(range(first, int(last) + 1))


def _sqlite_insert(connection: Connection, table: sa.Table, rows: Sequence[dict[str, Any]]) -> None:
    """``connection.execute(table.insert(), rows)``, the statement compiled once
    per table and set of columns and the values passed through the columns'
    own bind processors here: SQLAlchemy's executemany builds each row's
    parameters in Python (a third of a baseline's insert CPU). Rows whose
    columns differ, or that leave out a column with a computed default, take
    SQLAlchemy's way."""
    names = tuple(rows[0])
    prepared = _prepared(connection.dialect, table, names)
    if prepared is None or any(len(row) != len(names) for row in rows):
        connection.execute(table.insert(), list(rows))
        return
    sql, processors, defaults = prepared
    # the processed columns (times, dates, flags) hold a few values, the same
    # for many rows (a run's ``now``): each is processed once per call (equal
    # values are processed alike: an aware time becomes UTC, a flag 0 or 1)
    done: list[dict[Any, Any]] = [{} for _ in processors]
    values: list[tuple[Any, ...]] = []
    pick = operator.itemgetter(*names)  # one C call per row (a tuple, or one value)
    one = len(names) == 1
    try:
        for row in rows:
            value = [pick(row), *defaults] if one else [*pick(row), *defaults]
            for (at, process), seen in zip(processors, done, strict=True):
                given = value[at]
                try:
                    value[at] = seen[given]
                except KeyError:
                    value[at] = seen[given] = process(given)
                except TypeError:  # unhashable: processed as it is
                    value[at] = process(given)
            values.append(tuple(value))
    except KeyError:  # a row with other columns
        connection.execute(table.insert(), list(rows))
        return
    execute_many(connection, sql, values)


def execute_many(connection: Connection, sql: str, values: Sequence[Sequence[Any]]) -> None:
    """``connection.exec_driver_sql(sql, values)``, on SQLite straight on the
    ``sqlite3`` connection in the same transaction (``raw.over``)."""
    dbapi = sqlite_connection(connection)
    if dbapi is None:
        connection.exec_driver_sql(sql, values)
    else:
        dbapi.executemany(sql, values)


@functools.lru_cache(maxsize=64)
def _prepared(
    dialect: Dialect, table: sa.Table, names: tuple[str, ...]
) -> tuple[str, list[tuple[int, Callable[[Any], Any]]], list[Any]] | None:
    """(INSERT with one ``?`` per column, (place, bind processor) of the columns
    that have one, the constant defaults of the columns ``names`` leaves out);
    None when a name is no column or a left-out column's default is computed
    (SQLAlchemy's insert runs it)."""
    if dialect.paramstyle != "qmark" or not set(names) <= set(table.columns.keys()):
        return None
    defaults: list[Any] = []
    others: list[str] = []
    for column in table.columns:
        if column.name in names or column.default is None:
            continue
        if not column.default.is_scalar:
            return None
        others.append(column.name)
        defaults.append(column.default.arg)  # type: ignore[attr-defined]
    columns = [table.columns[name] for name in (*names, *others)]
    quote = dialect.identifier_preparer.quote
    sql = (
        f"INSERT INTO {dialect.identifier_preparer.format_table(table)} "
        f"({', '.join(quote(c.name) for c in columns)}) "
        f"VALUES ({', '.join('?' for _ in columns)})"
    )
    processors = [(at, c.type._cached_bind_processor(dialect)) for at, c in enumerate(columns)]
    return sql, [(at, process) for at, process in processors if process is not None], defaults
