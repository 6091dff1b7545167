"""The connection every query takes, whichever database holds the store (SQLite or PostgreSQL).

`Connection`, `Cursor` and `Row` are protocols: a `sqlite3.Connection` is one as it is, and the PostgreSQL store's
`engmetrics.store.postgres.PgConnection` is one too (it translates the SQLite SQL the queries are written in,
`engmetrics.store.dialect`). Queries annotate their connection `Connection` and their rows `Row`, never a
driver's class, so one function serves both stores.

Errors keep the DB-API hierarchy as `sqlite3` defines it: the PostgreSQL store raises subclasses of
`sqlite3.IntegrityError`, `sqlite3.OperationalError` and `sqlite3.DatabaseError` (below), so ``except
sqlite3.IntegrityError`` catches a duplicate key on both stores.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any, Literal, Protocol

Dialect = Literal["sqlite", "postgresql"]
"""The SQL dialect of a store."""

Params = Sequence[Any] | Mapping[str, Any]
"""Statement parameters: positional (``?``) or named (``:name``)."""


class Row(Protocol):
    """A result row: by position (``row[0]``) or by column name (``row["name"]``), iterable, with ``keys()``."""

    def __getitem__(self, key: int | str, /) -> Any: ...

    def __len__(self) -> int: ...

    def __iter__(self) -> Iterator[Any]: ...

    def keys(self) -> list[str]: ...


class Cursor(Protocol):
    """The result of one statement."""

    @property
    def rowcount(self) -> int: ...

    @property
    def lastrowid(self) -> int | None: ...

    def fetchone(self) -> Any: ...

    def fetchall(self) -> list[Any]: ...

    def __iter__(self) -> Iterator[Any]: ...


class Connection(Protocol):
    """What queries use of a connection: statements with parameters (``?`` or ``:name`` placeholders)."""

    def execute(self, sql: str, parameters: Params = ..., /) -> Cursor: ...

    def executemany(self, sql: str, parameters: Iterable[Params], /) -> Cursor: ...


def dialect_of(conn: Connection) -> Dialect:
    """Which database ``conn`` talks to."""
    return "sqlite" if isinstance(conn, sqlite3.Connection) else "postgresql"


class IntegrityError(sqlite3.IntegrityError):
    """A constraint was violated in the PostgreSQL store (a duplicate key, a missing referenced row)."""


class OperationalError(sqlite3.OperationalError):
    """The PostgreSQL server could not do what was asked (connection lost, lock timeout, serialization)."""


class DatabaseError(sqlite3.DatabaseError):
    """Any other error of the PostgreSQL store (bad SQL, a type the column does not take)."""
