"""The store: what every store offers (`Store`), and the SQLite one (`SqliteStore`: WAL, foreign keys, migrations,
blocking work run off the event loop). The PostgreSQL store is `engmetrics.store.postgres.PostgresStore`;
`engmetrics.store.open.open_store` opens either."""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
import weakref
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any, TypeVar

import anyio.to_thread

from engmetrics.errors import DataError, StoreBusy, StoreUnavailable
from engmetrics.store.connection import Connection, Dialect
from engmetrics.store.migrations import CORE as MIGRATIONS
from engmetrics.store.migrations import FEATURES

log = logging.getLogger(__name__)
T = TypeVar("T")


class _Lease:
    """A thread's hold on one pooled connection; when the thread ends, its locals go and so does this,
    and a `weakref.finalize` hands the connection back to the pool."""

    __slots__ = ("conn", "__weakref__")

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn


class Store(ABC):
    """A store: the schema (`engmetrics.store.migrations`) in one database, SQLite's file or a PostgreSQL database.

    Use `tx()` for writes (one transaction: all or nothing) and `read()` for queries; from async code,
    `run(fn, *args)` runs ``fn(*args)`` in a worker thread. Queries take the `Connection` either gives.
    """

    path: str
    """Where it is: the SQLite file, or the PostgreSQL URL without its password."""
    dialect: Dialect
    opened: int
    """Connections opened over the store's life."""

    @abstractmethod
    def tx(self) -> AbstractContextManager[Connection]:
        """A write transaction, rolled back whole on any error; `StoreBusy` when locks stay held too long."""

    @abstractmethod
    def read(self) -> Connection:
        """A connection for queries (this thread's)."""

    @abstractmethod
    def migrate(self) -> int:
        """Apply pending migrations; returns the core schema version now in force."""

    @abstractmethod
    def close(self) -> None:
        """Close every connection this store opened."""

    @property
    @abstractmethod
    def open_connections(self) -> int:
        """Connections open now."""

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        """Run blocking ``fn(*args)`` in a worker thread and return its result."""
        return await anyio.to_thread.run_sync(fn, *args)


class SqliteStore(Store):
    """One SQLite database file. Thread-safe: each thread uses its own connection from a bounded pool.

    Use `tx()` for writes (one transaction: all or nothing) and `read()` for queries; from async code,
    `run(fn, *args)` runs ``fn(conn, *args)`` in a worker thread.

    Connections: a thread gets one on first use and keeps it while it lives; when the thread ends (worker
    threads come and go), the connection goes back to the pool, which keeps at most ``max_idle`` of them
    open. So open connections (and their file handles and page caches) never exceed the threads alive
    plus ``max_idle``, however many requests a long-running server answers.
    """

    dialect: Dialect = "sqlite"

    def __init__(self, path: Path | str, *, max_idle: int = 4, busy_timeout_seconds: float = 30.0) -> None:
        self.path = str(path)
        self.max_idle = max_idle
        self.busy_timeout_seconds = busy_timeout_seconds  # how long a writer waits for another process's lock
        self._local = threading.local()
        self._write_lock = threading.Lock()
        self._pool_lock = threading.Lock()
        self._idle: list[sqlite3.Connection] = []
        self._all: set[sqlite3.Connection] = set()
        self.opened = 0  # connections opened over the store's life (the soak bench reads it)

    def _open(self) -> sqlite3.Connection:
        try:
            conn = sqlite3.connect(self.path, timeout=self.busy_timeout_seconds, isolation_level=None,
                                   check_same_thread=False)
        except sqlite3.Error as exc:
            raise self._unavailable(exc) from None
        try:
            _set_journal_wal(conn)
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("PRAGMA foreign_keys=ON")
            conn.execute("PRAGMA temp_store=MEMORY")
            conn.execute("PRAGMA cache_size=-65536")
        except sqlite3.DatabaseError as exc:
            conn.close()
            raise self._unavailable(exc) from None
        conn.row_factory = sqlite3.Row
        self.opened += 1
        return conn

    def _unavailable(self, exc: Exception) -> DataError:
        return StoreUnavailable(
            f"The engmetrics store at {self.path} cannot be opened ({exc}). To recover, move the file aside "
            f"(e.g. `mv {self.path} {self.path}.broken`, and its -wal and -shm files if present) and run "
            "`engmetrics sync` to rebuild it from your repositories (import deployments and incidents again), "
            "or use another store with `--db PATH` or ENGMETRICS_DB."
        )

    def _connect(self) -> sqlite3.Connection:
        lease: _Lease | None = getattr(self._local, "lease", None)  # thread-local: set by the first call in a thread
        if lease is not None:
            return lease.conn
        with self._pool_lock:
            conn = self._idle.pop() if self._idle else None
        if conn is None:
            conn = self._open()
            with self._pool_lock:
                self._all.add(conn)
        lease = _Lease(conn)
        weakref.finalize(lease, self._give_back, conn)
        self._local.lease = lease
        return conn

    def _give_back(self, conn: sqlite3.Connection) -> None:
        """Return a connection whose thread ended to the pool (or close it when the pool is full)."""
        with self._pool_lock:
            if conn not in self._all:  # closed meanwhile by close()
                return
            if len(self._idle) < self.max_idle:
                try:
                    if conn.in_transaction:
                        conn.rollback()
                except sqlite3.Error:
                    pass
                else:
                    self._idle.append(conn)
                    return
            self._all.discard(conn)
        try:
            conn.close()
        except sqlite3.Error:  # pragma: no cover - closing is best effort
            pass

    @property
    def open_connections(self) -> int:
        """Connections open now (in use by live threads, or idle in the pool)."""
        with self._pool_lock:
            return len(self._all)

    @contextmanager
    def tx(self) -> Iterator[sqlite3.Connection]:
        """A write transaction (BEGIN IMMEDIATE … COMMIT); rolled back whole on any error. `StoreBusy` when
        another process kept the store locked for all of ``busy_timeout_seconds``."""
        conn = self._connect()
        with self._write_lock:
            try:
                conn.execute("BEGIN IMMEDIATE")
            except sqlite3.OperationalError as exc:
                if "locked" in str(exc) or "busy" in str(exc):
                    raise StoreBusy(
                        f"The engmetrics store at {self.path} is busy (another engmetrics process is writing to it); "
                        "try again in a moment."
                    ) from None
                raise
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

    def migrate(self) -> int:
        """Apply pending migrations; returns the schema version now in force.

        Safe when several processes open a new store at once (first syncs, `serve`, `api` and `sync`
        starting together): the migrations run in one ``BEGIN IMMEDIATE`` transaction, so one process
        takes the write lock and applies them; the others wait for it (the busy timeout, 30 s by default), then read
        the versions again under the lock and find nothing left to do.
        """
        conn = self._connect()
        try:
            version: int = conn.execute("PRAGMA user_version").fetchone()[0]
            if version == len(MIGRATIONS) and not self._pending_features(conn):
                return version
        except sqlite3.DatabaseError as exc:
            raise self._unavailable(exc) from None
        self._check_not_newer(version)
        try:
            with self.tx() as c:
                version = c.execute("PRAGMA user_version").fetchone()[0]  # again, now that we hold the lock
                self._check_not_newer(version)
                for number in range(version, len(MIGRATIONS)):
                    for statement in MIGRATIONS[number]:
                        c.execute(statement)
                    c.execute(f"PRAGMA user_version = {number + 1}")
                    log.info("store %s migrated to schema version %d", self.path, number + 1)
                self._migrate_features(c)
        except (sqlite3.OperationalError, StoreBusy) as exc:
            if isinstance(exc, StoreBusy) or "locked" in str(exc) or "busy" in str(exc):
                raise DataError(
                    f"The engmetrics store at {self.path} stayed locked by another process for "
                    f"{self.busy_timeout_seconds:g} s while "
                    "engmetrics tried to prepare it; try again once that process is done."
                ) from None
            raise
        return len(MIGRATIONS)

    def _check_not_newer(self, version: int) -> None:
        if version > len(MIGRATIONS):
            raise DataError(
                f"The database at {self.path} has schema version {version}, newer than this engmetrics "
                f"({len(MIGRATIONS)}). Upgrade engmetrics or use another ENGMETRICS_DB."
            )

    def _pending_features(self, conn: sqlite3.Connection) -> bool:
        """Whether any feature area has migrations this store has not applied yet."""
        done = dict(conn.execute("SELECT feature, version FROM feature_schema").fetchall())
        return any(done.get(feature, 0) != len(steps) for feature, steps in FEATURES.items())

    def _migrate_features(self, conn: sqlite3.Connection) -> None:
        """Apply each feature's own migrations (modules `engmetrics.store.schema_<feature>`), versioned apart,
        inside the caller's write transaction."""
        for feature, steps in FEATURES.items():
            row = conn.execute("SELECT version FROM feature_schema WHERE feature = ?", (feature,)).fetchone()
            done = row[0] if row else 0
            if done > len(steps):
                raise DataError(
                    f"The database at {self.path} has {feature} schema version {done}, newer than this engmetrics. "
                    "Upgrade engmetrics or use another ENGMETRICS_DB."
                )
            for number in range(done, len(steps)):
                for statement in steps[number]:
                    conn.execute(statement)
                conn.execute(
                    "INSERT INTO feature_schema(feature, version) VALUES (?, ?)"
                    " ON CONFLICT(feature) DO UPDATE SET version = excluded.version",
                    (feature, number + 1),
                )

    def close(self) -> None:
        """Close every connection this store opened."""
        with self._pool_lock:
            conns = list(self._all)
            self._all.clear()
            self._idle.clear()
        for conn in conns:
            try:
                conn.close()
            except sqlite3.Error:  # pragma: no cover - closing is best effort
                pass
        self._local = threading.local()


def _set_journal_wal(conn: sqlite3.Connection) -> None:
    """Put the database in WAL mode (once per file; a no-op after). Switching needs a moment alone with
    the file, so when another process is busy creating the same new store this waits and retries (up to
    30 s) instead of failing with "database is locked"."""
    deadline = time.monotonic() + 30.0
    while True:
        try:
            if conn.execute("PRAGMA journal_mode").fetchone()[0].lower() != "wal":
                conn.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) and "busy" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def repo_filter(repo_ids: list[int] | None, column: str = "repo_id") -> tuple[str, list[Any]]:
    """SQL ``" AND <column> IN (?, …)"`` and its arguments restricting rows to ``repo_ids``; ``("", [])`` for
    None (every repository)."""
    if repo_ids is None:
        return "", []
    return f" AND {column} IN ({','.join('?' * len(repo_ids))})", list(repo_ids)
