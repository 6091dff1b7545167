"""What a bulk load into the store does differently: secondary indexes built once at the end, no WAL
checkpoints on the way.

A first load into empty tables (git history, GitHub pull requests) drops their secondary indexes and
builds them once in its final transaction rather than row by row. The indexes' SQL is read from the
schema and kept in the ``kv`` table under the loader's key while they are absent, so a load that dies in
between (even killed) has them rebuilt by the next run.

On PostgreSQL neither applies: rows go in with COPY into indexed tables (dropping an index there would lock the
table against every other worker), and there is no WAL checkpoint to hold back.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

from engmetrics.store.connection import Connection, dialect_of


def indexes_deferred(conn: Connection, key: str) -> bool:
    """Whether indexes dropped under ``key`` are waiting to be rebuilt."""
    return conn.execute("SELECT 1 FROM kv WHERE key = ?", (key,)).fetchone() is not None


def restore_deferred_indexes(conn: Connection, key: str) -> bool:
    """Recreate the indexes a bulk load dropped under ``key`` (no-op when none are pending); True if any were."""
    row = conn.execute("SELECT value FROM kv WHERE key = ?", (key,)).fetchone()
    if row is None:
        return False
    for sql in json.loads(row[0]):
        conn.execute(sql.replace("CREATE INDEX ", "CREATE INDEX IF NOT EXISTS ", 1))
    conn.execute("DELETE FROM kv WHERE key = ?", (key,))
    return True


def defer_indexes(conn: Connection, names: Iterable[str], key: str) -> bool:
    """Drop the named indexes for a bulk load, keeping their SQL in `kv` under ``key`` (same transaction).

    `restore_deferred_indexes(conn, key)` rebuilds them; whoever defers must also call it at the start of
    its next run, so that indexes dropped by a killed process come back. True if any were dropped.
    """
    if dialect_of(conn) != "sqlite":
        return False
    names = tuple(names)
    marks = ",".join("?" * len(names))
    found = conn.execute(
        f"SELECT name, sql FROM sqlite_master WHERE type = 'index' AND name IN ({marks}) AND sql IS NOT NULL", names,
    ).fetchall()
    if not found:
        return False
    pending = conn.execute("SELECT value FROM kv WHERE key = ?", (key,)).fetchone()
    sqls = (json.loads(pending[0]) if pending else []) + [r[1] for r in found]
    conn.execute(
        "INSERT INTO kv(key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
        (key, json.dumps(sqls)),
    )
    for name, _ in found:
        conn.execute(f'DROP INDEX IF EXISTS "{name}"')
    return True


@contextmanager
def paused_checkpoints(conn: Connection) -> Iterator[None]:
    """No automatic WAL checkpoint on ``conn`` inside the block (each one an fsync and a second copy of the
    pages); the setting is restored on the way out, and the next commit checkpoints the whole WAL once. Nothing on
    PostgreSQL."""
    if dialect_of(conn) != "sqlite":
        yield
        return
    checkpoint_pages = conn.execute("PRAGMA wal_autocheckpoint").fetchone()[0]
    conn.execute("PRAGMA wal_autocheckpoint = 0")
    try:
        yield
    finally:
        conn.execute(f"PRAGMA wal_autocheckpoint = {int(checkpoint_pages)}")
