"""Tables of the team server: repository syncs as jobs (several sync workers share them) and the rate-limit windows
the API workers count in.

Times are Unix seconds (UTC) of the workers' clocks. Never edit a released migration: append a new one.

- ``sync_jobs``: one row per sync of one repository. ``state``: queued → running (a worker took it; its lease runs
  to ``lease_until`` and the worker renews it while it syncs) → done or failed. A running job whose lease ran out (its
  worker died) is taken again; ``attempts`` counts how often a worker took it. At most one job per repository is
  queued or running at a time (``sync_jobs_one_open``).
- ``api_rate_windows``: requests counted per bucket (an API key id, or ``anon:<address>``), per window kind (``m`` the
  short window, ``d`` the long one) and window number (start time ÷ length).
"""

from __future__ import annotations

MIGRATIONS: list[list[str]] = [
    [
        """CREATE TABLE sync_jobs (
            id INTEGER PRIMARY KEY,
            repo_id INTEGER NOT NULL REFERENCES repositories(id) ON DELETE CASCADE,
            state TEXT NOT NULL,            -- queued | running | done | failed
            worker TEXT,                    -- who took it last (host:pid:n)
            attempts INTEGER NOT NULL DEFAULT 0,
            enqueued_at INTEGER NOT NULL,
            started_at INTEGER,
            lease_until INTEGER,
            finished_at INTEGER,
            new_commits INTEGER,
            error TEXT
        )""",
        "CREATE UNIQUE INDEX sync_jobs_one_open ON sync_jobs(repo_id) WHERE state IN ('queued', 'running')",
        "CREATE INDEX sync_jobs_by_state ON sync_jobs(state, id)",
        """CREATE TABLE api_rate_windows (
            bucket TEXT NOT NULL,
            kind TEXT NOT NULL,             -- m | d
            number INTEGER NOT NULL,        -- the window's start time divided by its length
            used INTEGER NOT NULL,
            PRIMARY KEY (bucket, kind, number)
        )""",
    ],
]
