"""SQLite connection handling: WAL, foreign keys, migrations, and running blocking work off the event loop."""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import anyio.to_thread

from engmetrics.errors import DataError
from engmetrics.store.schema import MIGRATIONS

log = logging.getLogger(__name__)
T = TypeVar("T")


class Store:
    """One SQLite database file. Thread-safe: each thread gets its own connection.

    Use `tx()` for writes (one transaction: all or nothing) and `read()` for queries; from async code,
    `run(fn, *args)` runs ``fn(conn, *args)`` in a worker thread.
    """

    def __init__(self, path: Path | str) -> None:
        self.path = str(path)
        self._local = threading.local()
        self._write_lock = threading.Lock()
        self._all: list[sqlite3.Connection] = []
        self._all_lock = threading.Lock()

    def _connect(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            try:
                conn = sqlite3.connect(self.path, timeout=30.0, isolation_level=None, check_same_thread=False)
                conn.execute("PRAGMA journal_mode=WAL")
                conn.execute("PRAGMA synchronous=NORMAL")
                conn.execute("PRAGMA foreign_keys=ON")
                conn.execute("PRAGMA temp_store=MEMORY")
                conn.execute("PRAGMA cache_size=-65536")
            except sqlite3.DatabaseError as exc:
                raise DataError(
                    f"The engmetrics database at {self.path} cannot be opened ({exc}). "
                    "Move it aside and run `engmetrics sync` to rebuild it, or point ENGMETRICS_DB elsewhere."
                ) from None
            conn.row_factory = sqlite3.Row
            self._local.conn = conn
            with self._all_lock:
                self._all.append(conn)
        return conn

    @contextmanager
    def tx(self) -> Iterator[sqlite3.Connection]:
        """A write transaction (BEGIN IMMEDIATE … COMMIT); rolled back whole on any error."""
        conn = self._connect()
        with self._write_lock:
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            else:
                conn.execute("COMMIT")

    def read(self) -> sqlite3.Connection:
        """This thread's connection, for queries."""
        return self._connect()

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        """Run blocking ``fn(*args)`` in a worker thread and return its result."""
        return await anyio.to_thread.run_sync(fn, *args)

    def migrate(self) -> int:
        """Apply pending migrations; returns the schema version now in force."""
        conn = self._connect()
        try:
            version = conn.execute("PRAGMA user_version").fetchone()[0]
        except sqlite3.DatabaseError as exc:
            raise DataError(
                f"{self.path} is not an engmetrics database ({exc}). Move it aside or set ENGMETRICS_DB to a new path."
            ) from None
        if version > len(MIGRATIONS):
            raise DataError(
                f"The database at {self.path} has schema version {version}, newer than this engmetrics "
                f"({len(MIGRATIONS)}). Upgrade engmetrics or use another ENGMETRICS_DB."
            )
        for number in range(version, len(MIGRATIONS)):
            with self.tx() as c:
                for statement in MIGRATIONS[number]:
                    c.execute(statement)
                c.execute(f"PRAGMA user_version = {number + 1}")
            log.info("store %s migrated to schema version %d", self.path, number + 1)
        return len(MIGRATIONS)

    def close(self) -> None:
        """Close every connection this store opened."""
        with self._all_lock:
            for conn in self._all:
                try:
                    conn.close()
                except sqlite3.Error:  # pragma: no cover - closing is best effort
                    pass
            self._all.clear()
        self._local = threading.local()


def open_store(path: Path | str) -> Store:
    """Open (creating folders and schema as needed) the store at ``path``."""
    p = Path(path).expanduser()
    if str(p) != ":memory:":
        p.parent.mkdir(parents=True, exist_ok=True)
    store = Store(p)
    store.migrate()
    return store
