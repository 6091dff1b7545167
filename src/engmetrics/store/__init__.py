"""The store: schema, migrations and queries, in an embedded SQLite file or a PostgreSQL database (a team server).
Only the local engine and the sources use it."""

from engmetrics.store.db import SqliteStore, Store
from engmetrics.store.open import open_store

__all__ = ["SqliteStore", "Store", "open_store"]
