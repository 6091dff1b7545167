"""Tables of the alerts feature: alert definitions with their state, webhook deliveries and their attempts.

``alerts.fingerprint`` makes creation idempotent (the same definition is the same alert). The webhook secret is
stored encrypted in ``actions`` (Fernet, key from ENGMETRICS_ALERTS_KEY or a 0600 key file beside the store), never in clear.
A delivery is one notification of one transition (firing or resolved); each try is a row of
``alert_delivery_attempts`` (the delivery log). Times are Unix seconds (UTC). Never edit a released migration:
append a new one.

Several processes share the deliveries (API workers, sync workers, ``serve`` on one PostgreSQL store): a process sends
a delivery only after claiming it — ``claimed_by`` its name (``host:pid:n``, `engmetrics.store.claims`) and
``claim_until`` its lease — and releases the claim when it records the attempt (both NULL again). A claim whose lease
ran out (its process died mid-send) is claimed again.
"""

from __future__ import annotations

MIGRATIONS: list[list[str]] = [
    [
        """CREATE TABLE alerts (
            id TEXT PRIMARY KEY,
            fingerprint TEXT NOT NULL UNIQUE,
            metric TEXT NOT NULL,
            operator TEXT NOT NULL,             -- gt | gte | lt | lte | change_pct
            threshold REAL NOT NULL,
            window_days INTEGER NOT NULL,
            severity TEXT NOT NULL,             -- low | medium | high | critical
            repo TEXT,
            team TEXT,
            actions TEXT NOT NULL DEFAULT '[]', -- JSON [{"url": …, "secret": Fernet token or null}] (never in clear)
            state TEXT NOT NULL DEFAULT 'ok',   -- ok | firing | resolved
            last_value REAL,
            last_evaluated_at INTEGER,
            state_changed_at INTEGER,
            created_at INTEGER NOT NULL
        )""",
        """CREATE TABLE alert_deliveries (
            id TEXT PRIMARY KEY,
            alert_id TEXT NOT NULL,
            transition TEXT NOT NULL,           -- firing | resolved
            url TEXT NOT NULL,
            payload TEXT NOT NULL,              -- the JSON body sent (no secret in it)
            status TEXT NOT NULL,               -- pending | delivered | failed
            attempts INTEGER NOT NULL DEFAULT 0,
            next_attempt_at INTEGER NOT NULL,
            created_at INTEGER NOT NULL,
            delivered_at INTEGER
        )""",
        "CREATE INDEX alert_deliveries_by_status ON alert_deliveries(status, next_attempt_at)",
        """CREATE TABLE alert_delivery_attempts (
            delivery_id TEXT NOT NULL,
            attempt INTEGER NOT NULL,
            at INTEGER NOT NULL,
            status_code INTEGER,                -- the receiver's HTTP status; NULL when it did not answer
            error TEXT,                         -- why it failed (timeout, connection refused…), NULL on success
            PRIMARY KEY (delivery_id, attempt)
        )""",
    ],
    [
        "ALTER TABLE alert_deliveries ADD COLUMN claimed_by TEXT",  # the process sending it now (host:pid:n)
        "ALTER TABLE alert_deliveries ADD COLUMN claim_until INTEGER",  # its claim's lease (Unix seconds)
    ],
]
