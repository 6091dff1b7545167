"""Tables of the REST API: API keys (hashes only, never the secret) and idempotent POST responses.

Times are Unix seconds (UTC). Never edit a released migration: append a new one.
"""

from __future__ import annotations

MIGRATIONS: list[list[str]] = [
    # 1: API keys and idempotency records.
    [
        """CREATE TABLE api_keys (
            id TEXT PRIMARY KEY,            -- 'key_…', public
            name TEXT NOT NULL,
            secret_hash TEXT NOT NULL UNIQUE, -- sha256 hex of the secret; the secret itself is never stored
            hint TEXT NOT NULL,             -- last 4 characters of the secret, to recognise it
            scopes TEXT NOT NULL,           -- JSON list of scopes
            plan TEXT NOT NULL,             -- rate-limit plan: free, pro, enterprise
            api_version TEXT NOT NULL,      -- Engmetrics-Version the key is pinned to
            created_at INTEGER NOT NULL,
            last_used_at INTEGER,
            revoked_at INTEGER
        )""",
        """CREATE TABLE api_idempotency (
            key_id TEXT NOT NULL,
            idempotency_key TEXT NOT NULL,
            fingerprint TEXT NOT NULL,      -- sha256 of method, path and canonical body
            status INTEGER NOT NULL,
            body BLOB NOT NULL,
            created_at INTEGER NOT NULL,
            PRIMARY KEY (key_id, idempotency_key)
        )""",
        "CREATE INDEX api_idempotency_by_time ON api_idempotency(created_at)",
    ],
]
