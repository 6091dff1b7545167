"""Open the store a configuration names: a PostgreSQL database (``database_url``) or the SQLite file (``path``),
its folders and schema created as needed."""

from __future__ import annotations

from pathlib import Path

from engmetrics.store.db import SqliteStore, Store


def open_store(path: Path | str, database_url: str | None = None) -> Store:
    """Open (creating folders and schema as needed) the store: the PostgreSQL database at ``database_url`` when
    given, else the SQLite file at ``path``."""
    if database_url:
        from engmetrics.store.postgres import PostgresStore  # lazy: psycopg loads only for a PostgreSQL store

        pg = PostgresStore(database_url)
        try:
            pg.migrate()
        except BaseException:
            pg.close()
            raise
        return pg
    p = Path(path).expanduser()
    if str(p) != ":memory:":
        p.parent.mkdir(parents=True, exist_ok=True)
    store = SqliteStore(p)
    store.migrate()
    return store
