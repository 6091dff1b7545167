"""Many rows into one table at once: ``executemany`` on SQLite, COPY on PostgreSQL.

`bulk_insert` appends rows (a duplicate key raises `sqlite3.IntegrityError` on both stores, failing the whole call);
`bulk_upsert` is ``INSERT OR REPLACE`` / ``INSERT OR IGNORE`` of many rows (on PostgreSQL: COPY into a staging table,
then one ``INSERT … SELECT … ON CONFLICT``).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence
from typing import Any

from engmetrics.store.connection import Connection


def bulk_insert(conn: Connection, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    """Append ``rows`` (values in ``columns`` order) to ``table``."""
    if isinstance(conn, sqlite3.Connection):
        marks = ",".join("?" * len(columns))
        conn.executemany(f"INSERT INTO {table}({', '.join(columns)}) VALUES ({marks})", rows)
        return
    from engmetrics.store.postgres import PgConnection  # lazy: psycopg loads only for a PostgreSQL store

    assert isinstance(conn, PgConnection), type(conn)
    conn.copy_rows(table, columns, rows)


def bulk_upsert(conn: Connection, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]], *,
                replace: bool) -> None:
    """Write ``rows`` into ``table``: a row whose primary key is stored replaces it (``replace``) or is left out."""
    if isinstance(conn, sqlite3.Connection):
        marks = ",".join("?" * len(columns))
        verb = "INSERT OR REPLACE" if replace else "INSERT OR IGNORE"
        conn.executemany(f"{verb} INTO {table}({', '.join(columns)}) VALUES ({marks})", rows)
        return
    from engmetrics.store.postgres import PgConnection  # lazy: psycopg loads only for a PostgreSQL store

    assert isinstance(conn, PgConnection), type(conn)
    conn.copy_upsert(table, columns, rows, replace=replace)
