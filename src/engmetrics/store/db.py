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
        self._migrate_features(conn)
        return len(MIGRATIONS)

    def _migrate_features(self, conn: sqlite3.Connection) -> None:
        """Apply each feature's own migrations (modules `engmetrics.store.schema_<feature>`), versioned apart."""
        for feature, steps in feature_migrations().items():
            row = conn.execute("SELECT version FROM feature_schema WHERE feature = ?", (feature,)).fetchone()
            done = row[0] if row else 0
            if done > len(steps):
                raise DataError(
                    f"The database at {self.path} has {feature} schema version {done}, newer than this engmetrics. "
                    "Upgrade engmetrics or use another ENGMETRICS_DB."
                )
            for number in range(done, len(steps)):
                with self.tx() as c:
                    for statement in steps[number]:
                        c.execute(statement)
                    c.execute(
                        "INSERT INTO feature_schema(feature, version) VALUES (?, ?)"
                        " ON CONFLICT(feature) DO UPDATE SET version = excluded.version",
                        (feature, number + 1),
                    )

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


def repo_filter(repo_ids: list[int] | None, column: str = "repo_id") -> tuple[str, list[Any]]:
    """SQL ``" AND <column> IN (?, …)"`` and its arguments restricting rows to ``repo_ids``; ``("", [])`` for
    None (every repository)."""
    if repo_ids is None:
        return "", []
    return f" AND {column} IN ({','.join('?' * len(repo_ids))})", list(repo_ids)


def feature_migrations() -> dict[str, list[list[str]]]:
    """Migrations of each feature area: every module ``engmetrics.store.schema_<feature>`` with ``MIGRATIONS``."""
    import importlib
    import pkgutil

    import engmetrics.store as pkg

    found: dict[str, list[list[str]]] = {}
    for info in sorted(pkgutil.iter_modules(pkg.__path__), key=lambda m: m.name):
        if info.name.startswith("schema_"):
            module = importlib.import_module(f"engmetrics.store.{info.name}")
            found[info.name.removeprefix("schema_")] = module.MIGRATIONS
    return found


def open_store(path: Path | str) -> Store:
    """Open (creating folders and schema as needed) the store at ``path``."""
    p = Path(path).expanduser()
    if str(p) != ":memory:":
        p.parent.mkdir(parents=True, exist_ok=True)
    store = Store(p)
    store.migrate()
    return store
