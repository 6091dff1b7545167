"""The embedded SQLite store: schema, migrations and queries. Only the local engine and sources use it."""

from engmetrics.store.db import Store, open_store

__all__ = ["Store", "open_store"]
