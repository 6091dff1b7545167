"""The PostgreSQL store: the same schema, migrations and queries as SQLite's, over a psycopg connection pool.

`PostgresStore` is a `Store` (``tx()``, ``read()``, ``run()``, ``migrate()``) for a team server: several API
workers and sync workers on one or more hosts share it. `PgConnection` is the store's `Connection`: it translates
each statement from SQLite's dialect once (`engmetrics.store.dialect`, cached), binds parameters as SQLite
takes them (booleans as integers), and hands back rows readable by position or by name. Bulk writes use COPY
(`copy_rows`, `copy_upsert`).

- Reads outside a transaction borrow a pooled connection for one statement (autocommit: each statement sees
  what was committed when it started, as SQLite's reads do); inside this thread's open ``tx()`` they use its
  connection, so a transaction reads its own writes.
- Migrations run under a transaction-scoped advisory lock, so workers starting together apply them once.
- Every table holding data (not the API's bookkeeping, the sync jobs or caches) notifies ``engmetrics_data_changed``
  when a transaction that wrote to it commits; API workers listen and drop their cached answers (`watch_changes`).
- Numbers: integer sums arrive as ``int``, other numerics as ``float`` (never ``Decimal``); blobs as ``bytes``.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import AsyncIterator, Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import psycopg
import psycopg.errors
from psycopg.adapt import Loader
from psycopg_pool import ConnectionPool, PoolTimeout

from engmetrics.errors import DataError, StoreBusy, StoreUnavailable
from engmetrics.store.connection import DatabaseError, Dialect, IntegrityError, OperationalError, Params
from engmetrics.store.db import Store
from engmetrics.store.dialect import Catalog, TableInfo, Translated, UntranslatableSql, to_postgres
from engmetrics.store.migrations import CORE, FEATURES

log = logging.getLogger(__name__)

CHANGES_CHANNEL = "engmetrics_data_changed"
"""The NOTIFY channel a committed write to a data table signals on."""

NOT_DATA = frozenset({
    "engmetrics_schema", "feature_schema", "kv", "api_keys", "api_idempotency", "api_rate_windows", "sync_jobs",
    "risk_models",
})
"""Tables whose writes change no answer (bookkeeping, caches): no change notification."""

_MIGRATION_LOCK = 0x656E676D6574  # pg_advisory_xact_lock key of migrations ("engmet")


def redacted(url: str) -> str:
    """``url`` without its password (for messages and logs)."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.rsplit("@", 1)
    return urlunsplit(parts._replace(netloc=f"{parts.username}:***@{netloc[-1]}"))


class PgRow:
    """A result row: by position or by column name (case-insensitive, as `sqlite3.Row`), iterable, ``keys()``."""

    __slots__ = ("_values", "_index")

    def __init__(self, values: Sequence[Any], index: dict[str, int]) -> None:
        self._values = values
        self._index = index

    def __getitem__(self, key: int | str, /) -> Any:
        if isinstance(key, str):
            try:
                return self._values[self._index[key.lower()]]
            except KeyError:
                raise IndexError(f"No item with that key: {key!r}") from None
        return self._values[key]

    def __len__(self) -> int:
        return len(self._values)

    def __iter__(self) -> Iterator[Any]:
        return iter(self._values)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, PgRow):
            return tuple(self._values) == tuple(other._values)
        return NotImplemented

    def __hash__(self) -> int:
        return hash(tuple(self._values))

    def keys(self) -> list[str]:
        """The column names, in order."""
        names = [""] * len(self._index)
        for name, i in self._index.items():
            names[i] = name
        return names

    def __repr__(self) -> str:
        return f"PgRow({tuple(self._values)!r})"


def _row_factory(cursor: psycopg.Cursor[Any]) -> Callable[[Sequence[Any]], PgRow]:
    index: dict[str, int] = {}
    for i, column in enumerate(cursor.description or ()):
        index.setdefault(column.name.lower(), i)

    def make(values: Sequence[Any]) -> PgRow:
        return PgRow(values, index)

    return make


class _NumericLoader(Loader):
    """``numeric`` (PostgreSQL's answer to ``sum`` over integers, ``avg``…) as ``int`` when whole, else ``float``."""

    def load(self, data: Any) -> int | float:
        text = bytes(data).decode()
        if text.lstrip("-").isdigit():
            return int(text)
        return float(text)


class PgCursor:
    """A statement's result, fetched whole: rows, ``rowcount``, ``lastrowid`` (the key an INSERT was given)."""

    def __init__(self, rows: list[PgRow], rowcount: int, lastrowid: int | None = None) -> None:
        self._rows = rows
        self._at = 0
        self._rowcount = rowcount
        self._lastrowid = lastrowid

    @property
    def rowcount(self) -> int:
        """Rows the statement changed (-1 when unknown)."""
        return self._rowcount

    @property
    def lastrowid(self) -> int | None:
        """The key the database gave the row an INSERT added (tables with an identity key), else None."""
        return self._lastrowid

    def fetchone(self) -> Any:
        """The next row, or None."""
        if self._at >= len(self._rows):
            return None
        self._at += 1
        return self._rows[self._at - 1]

    def fetchall(self) -> list[Any]:
        """The remaining rows."""
        rows = self._rows[self._at :]
        self._at = len(self._rows)
        return rows

    def __iter__(self) -> Iterator[Any]:
        return self

    def __next__(self) -> Any:
        row = self.fetchone()
        if row is None:
            raise StopIteration
        return row


def _value(v: Any) -> Any:
    """A parameter as SQLite takes it: a boolean as 0/1, a memoryview as bytes."""
    if isinstance(v, bool):
        return int(v)
    if isinstance(v, memoryview):
        return bytes(v)
    return v


def _bind(parameters: Params) -> Sequence[Any] | Mapping[str, Any]:
    """Parameters as SQLite takes them (`_value`)."""
    if isinstance(parameters, Mapping):
        return {k: _value(v) for k, v in parameters.items()}
    return [_value(v) for v in parameters]


PORTABLE_SQL = "write it so both stores accept it (CONTRIBUTING.md, \"SQL that runs on both stores\")"
"""What a statement PostgreSQL refuses is asked to become: the messages below end with it."""


def _mapped(exc: psycopg.Error, sql: str | None = None) -> Exception:
    """A psycopg error as the store's DB-API error (subclasses of sqlite3's, `engmetrics.store.connection`).

    A statement PostgreSQL refuses as written (a syntax error, an unknown function or column, a type mismatch: SQL
    that runs on SQLite only) is named in the message, as the store sent it, with PostgreSQL's hint and where to read
    how to write it for both stores. Parameters are never in the message."""
    message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    if isinstance(exc, psycopg.IntegrityError):
        return IntegrityError(message)
    if isinstance(exc, psycopg.OperationalError):
        return OperationalError(message)
    if sql is not None and isinstance(exc, psycopg.ProgrammingError | psycopg.DataError | psycopg.NotSupportedError):
        hint = exc.diag.message_hint if exc.diag is not None else None
        statement = " ".join(sql.split())
        statement = statement if len(statement) <= 300 else statement[:300] + " …"
        return DatabaseError(f"PostgreSQL refused a statement: {message}" + (f" ({hint})" if hint else "")
                             + f". Statement as translated for PostgreSQL: {statement} — {PORTABLE_SQL}.")
    return DatabaseError(message)


class PgConnection:
    """A `Connection` to the PostgreSQL store: one pooled connection (a transaction's), or the pool itself (reads
    outside a transaction borrow a connection per statement)."""

    def __init__(self, store: PostgresStore, raw: psycopg.Connection[Any] | None) -> None:
        self._store = store
        self._raw = raw

    @contextmanager
    def _connection(self) -> Iterator[psycopg.Connection[Any]]:
        if self._raw is not None:
            yield self._raw
        else:
            with self._store.borrow() as raw:
                yield raw

    def execute(self, sql: str, parameters: Params = (), /) -> PgCursor:
        """Run one statement (SQLite's dialect, translated) and fetch its rows."""
        tr = self._store.translate(sql)
        with self._connection() as raw:
            try:
                cur = raw.execute(tr.sql, _bind(parameters), prepare=False)
                rows: list[PgRow] = cur.fetchall() if cur.description is not None else []
            except psycopg.Error as exc:
                raise _mapped(exc, tr.sql) from exc
        if tr.returns_id:
            return PgCursor([], cur.rowcount, int(rows[0][0]) if rows else None)
        return PgCursor(rows, cur.rowcount)

    def executemany(self, sql: str, parameters: Iterable[Params], /) -> PgCursor:
        """Run one statement once per parameter set (pipelined)."""
        tr = self._store.translate(sql)
        batch = [_bind(p) for p in parameters]
        if not batch:
            return PgCursor([], 0)
        with self._connection() as raw:
            try:
                with raw.cursor() as cur:
                    cur.executemany(tr.sql, batch)
                    return PgCursor([], cur.rowcount)
            except psycopg.Error as exc:
                raise _mapped(exc, tr.sql) from exc

    def copy_rows(self, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
        """Append ``rows`` to ``table`` with COPY (a duplicate key fails the whole copy); returns how many."""
        cols = ", ".join(f'"{c}"' for c in columns)
        n = 0
        with self._connection() as raw:
            try:
                with raw.cursor() as cur, cur.copy(f'COPY "{table}" ({cols}) FROM STDIN') as copy:
                    for row in rows:
                        copy.write_row([_value(v) for v in row])
                        n += 1
            except psycopg.Error as exc:
                raise _mapped(exc) from exc
        return n

    def copy_upsert(self, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]], *, replace: bool) -> int:
        """``INSERT OR REPLACE`` (``replace``) or ``INSERT OR IGNORE`` of many rows through COPY into a staging
        table: of rows with the same key the last wins (replace) or the first (ignore), as row-by-row inserts
        would leave them. Returns how many rows were given (after merging duplicates)."""
        info = self._store.catalog.table(table)
        if info is None or not info.primary_key:
            raise DatabaseError(f"copy_upsert into {table}: no primary key known")
        key_at = [list(columns).index(k) for k in info.primary_key]
        unique: dict[tuple[Any, ...], Sequence[Any]] = {}
        for row in rows:
            key = tuple(row[i] for i in key_at)
            if replace or key not in unique:
                unique[key] = row
        if not unique:
            return 0
        stage = f"engmetrics_stage_{table}"
        cols = ", ".join(f'"{c}"' for c in columns)
        with self._connection() as raw:
            try:
                raw.execute(f'CREATE TEMP TABLE IF NOT EXISTS "{stage}" (LIKE "{table}") ON COMMIT DELETE ROWS')
                raw.execute(f'TRUNCATE "{stage}"')
                with raw.cursor() as cur, cur.copy(f'COPY "{stage}" ({cols}) FROM STDIN') as copy:
                    for row in unique.values():
                        copy.write_row([_value(v) for v in row])
                conflict = ", ".join(f'"{c}"' for c in info.primary_key)
                rest = [c for c in info.columns if c not in info.primary_key]
                if replace and rest:
                    sets = ", ".join(f'"{c}" = EXCLUDED."{c}"' if c in columns else f'"{c}" = DEFAULT' for c in rest)
                    action = f"DO UPDATE SET {sets}"
                else:
                    action = "DO NOTHING"
                raw.execute(f'INSERT INTO "{table}" ({cols}) SELECT {cols} FROM "{stage}" ON CONFLICT ({conflict}) {action}')
                raw.execute(f'TRUNCATE "{stage}"')
            except psycopg.Error as exc:
                raise _mapped(exc) from exc
        return len(unique)


class PostgresStore(Store):
    """The store in a PostgreSQL database (``ENGMETRICS_DATABASE_URL``), for a team server.

    ``pool_size``: most connections this process opens (the pool grows to it under load).
    """

    dialect: Dialect = "postgresql"

    def __init__(self, url: str, *, pool_size: int = 16, busy_timeout_seconds: float = 30.0) -> None:
        self.url = url
        self.path = redacted(url)
        self.busy_timeout_seconds = busy_timeout_seconds
        self.catalog = Catalog()
        self._local = threading.local()
        self.opened = 0
        self.translate = lru_cache(maxsize=4096)(self._translate)
        try:  # once directly first: an unreachable server or a refused login is said at once, in its own words
            psycopg.connect(url, connect_timeout=int(min(busy_timeout_seconds, 10)) or 1).close()
        except psycopg.Error as exc:
            raise self._unavailable(exc) from None
        try:
            self.pool = ConnectionPool(url, min_size=1, max_size=pool_size, open=True, timeout=busy_timeout_seconds,
                                       kwargs={"autocommit": True, "row_factory": _row_factory},
                                       configure=self._configure, name="engmetrics")
            self.pool.wait(timeout=min(busy_timeout_seconds, 15.0))
        except (psycopg.Error, PoolTimeout) as exc:
            try:
                self.pool.close()
            except Exception:  # noqa: BLE001 - closing a pool that never opened is best effort
                pass
            raise self._unavailable(exc) from None

    def _configure(self, conn: psycopg.Connection[Any]) -> None:
        conn.adapters.register_loader("numeric", _NumericLoader)
        conn.execute(f"SET lock_timeout = {int(self.busy_timeout_seconds * 1000)}")
        self.opened += 1

    def _unavailable(self, exc: BaseException) -> DataError:
        detail = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        return StoreUnavailable(
            f"The PostgreSQL store at {self.path} cannot be reached ({detail}). Check that the server runs and that "
            "ENGMETRICS_DATABASE_URL (or --database-url) names a database this user may use, e.g. "
            "postgresql://engmetrics@db.internal:5432/engmetrics."
        )

    def _translate(self, sql: str) -> Translated:
        try:
            return to_postgres(sql, self.catalog)
        except UntranslatableSql as exc:
            statement = " ".join(sql.split())
            statement = statement if len(statement) <= 300 else statement[:300] + " …"
            raise DatabaseError(f"This SQL cannot run on the PostgreSQL store: {exc}. Statement: {statement} — "
                                f"{PORTABLE_SQL}.") from None

    @contextmanager
    def borrow(self) -> Iterator[psycopg.Connection[Any]]:
        """A pooled connection for a moment (autocommit); `StoreUnavailable` when none comes in time."""
        try:
            with self.pool.connection() as raw:
                yield raw
        except PoolTimeout as exc:
            raise self._unavailable(exc) from None
        except psycopg.OperationalError as exc:
            if "lock timeout" in str(exc):
                raise self._busy() from None
            raise

    def _busy(self) -> StoreBusy:
        return StoreBusy(f"The engmetrics store at {self.path} is busy (a lock was held for "
                         f"{self.busy_timeout_seconds:g} s); try again in a moment.")

    @property
    def open_connections(self) -> int:
        """Connections open now in the pool."""
        return int(self.pool.get_stats().get("pool_size", 0))

    @contextmanager
    def tx(self) -> Iterator[PgConnection]:
        """A transaction (BEGIN … COMMIT), rolled back whole on any error; reads in this thread use it meanwhile."""
        with self.borrow() as raw:
            conn = PgConnection(self, raw)
            self._local.tx = conn
            try:
                with raw.transaction():
                    yield conn
            except psycopg.errors.LockNotAvailable:
                raise self._busy() from None
            except psycopg.Error as exc:
                raise _mapped(exc) from exc
            finally:
                self._local.tx = None

    def read(self) -> PgConnection:
        """A connection for queries: this thread's open transaction's, else one borrowing per statement."""
        current: PgConnection | None = getattr(self._local, "tx", None)  # thread-local: set by tx()
        return current if current is not None else PgConnection(self, None)

    # ---- migrations ---------------------------------------------------------------------------------------

    def migrate(self) -> int:
        """Apply pending migrations (the core's, then each feature's) in one transaction under an advisory lock;
        returns the core schema version now in force."""
        try:
            with self.tx() as conn:
                raw = conn._raw
                assert raw is not None
                raw.execute("SELECT pg_advisory_xact_lock(%s)", (_MIGRATION_LOCK,))
                raw.execute("CREATE TABLE IF NOT EXISTS engmetrics_schema (version BIGINT NOT NULL)")
                row = raw.execute("SELECT version FROM engmetrics_schema").fetchone()
                version = int(row[0]) if row else 0
                if row is None:
                    raw.execute("INSERT INTO engmetrics_schema(version) VALUES (0)")
                if version > len(CORE):
                    raise DataError(f"The database at {self.path} has schema version {version}, newer than this "
                                    f"engmetrics ({len(CORE)}). Upgrade engmetrics or use another database.")
                for number in range(version, len(CORE)):
                    for statement in CORE[number]:
                        conn.execute(statement)
                    raw.execute("UPDATE engmetrics_schema SET version = %s", (number + 1,))
                    log.info("store %s migrated to schema version %d", self.path, number + 1)
                self._migrate_features(conn)
                self._notify_changes(raw)
                self.catalog.tables = _read_catalog(raw)
        except psycopg.Error as exc:
            raise self._unavailable(exc) from None
        self.translate.cache_clear()
        return len(CORE)

    def _migrate_features(self, conn: PgConnection) -> None:
        for feature, steps in FEATURES.items():
            row = conn.execute("SELECT version FROM feature_schema WHERE feature = ?", (feature,)).fetchone()
            done = int(row[0]) if row else 0
            if done > len(steps):
                raise DataError(f"The database at {self.path} has {feature} schema version {done}, newer than this "
                                "engmetrics. Upgrade engmetrics or use another database.")
            for number in range(done, len(steps)):
                for statement in steps[number]:
                    try:
                        conn.execute(statement)
                    except DatabaseError as exc:
                        raise DatabaseError(f"Migration {number + 1} of {feature!r} (store/migrations.py FEATURES) "
                                            f"failed on PostgreSQL: {exc}") from exc
                conn.execute(
                    "INSERT INTO feature_schema(feature, version) VALUES (?, ?)"
                    " ON CONFLICT(feature) DO UPDATE SET version = excluded.version",
                    (feature, number + 1),
                )

    @staticmethod
    def _notify_changes(raw: psycopg.Connection[Any]) -> None:
        """Every data table signals `CHANGES_CHANNEL` at the commit of a transaction that wrote to it."""
        raw.execute(
            "CREATE OR REPLACE FUNCTION engmetrics_data_changed() RETURNS trigger LANGUAGE plpgsql AS "
            f"$$ BEGIN PERFORM pg_notify('{CHANGES_CHANNEL}', ''); RETURN NULL; END $$"
        )
        tables = [r[0] for r in raw.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()"
            " AND table_type = 'BASE TABLE'").fetchall()]
        for table in tables:
            if table in NOT_DATA:
                continue
            raw.execute(
                f'CREATE OR REPLACE TRIGGER engmetrics_data_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON "{table}"'
                " FOR EACH STATEMENT EXECUTE FUNCTION engmetrics_data_changed()"
            )

    async def watch_changes(self) -> AsyncIterator[None]:
        """Yields each time another connection commits a change to a data table (and once when the watch had to
        reconnect, since changes may have been missed meanwhile). Runs until cancelled."""
        import anyio  # lazy: only API workers watch

        first = True
        while True:
            try:
                async with await psycopg.AsyncConnection.connect(self.url, autocommit=True) as aconn:
                    await aconn.execute(f"LISTEN {CHANGES_CHANNEL}")
                    if not first:
                        yield None
                    first = False
                    async for _ in aconn.notifies():
                        yield None
            except psycopg.Error as exc:
                log.warning("lost the change notifications of %s (%s); reconnecting", self.path, exc)
                await anyio.sleep(1.0)

    def close(self) -> None:
        """Close the pool and its connections."""
        self.pool.close()


def _read_catalog(raw: psycopg.Connection[Any]) -> dict[str, TableInfo]:
    """Columns (in order), primary keys and identity columns of the tables in the current schema."""
    columns: dict[str, list[str]] = {}
    identity: dict[str, str] = {}
    for table, column, is_identity in raw.execute(
        "SELECT table_name, column_name, is_identity FROM information_schema.columns"
        " WHERE table_schema = current_schema() ORDER BY table_name, ordinal_position"
    ).fetchall():
        columns.setdefault(table, []).append(column)
        if is_identity == "YES":
            identity[table] = column
    keys: dict[str, list[str]] = {}
    for table, column in raw.execute(
        "SELECT k.table_name, k.column_name FROM information_schema.table_constraints c"
        " JOIN information_schema.key_column_usage k ON k.constraint_name = c.constraint_name"
        " AND k.table_schema = c.table_schema AND k.table_name = c.table_name"
        " WHERE c.constraint_type = 'PRIMARY KEY' AND c.table_schema = current_schema()"
        " ORDER BY k.table_name, k.ordinal_position"
    ).fetchall():
        keys.setdefault(table, []).append(column)
    return {t: TableInfo(tuple(cols), tuple(keys.get(t, ())), identity.get(t)) for t, cols in columns.items()}
