"""Versioned schema. Each migration is a list of SQL statements applied in one transaction.

Times are Unix seconds (UTC) in INTEGER columns. Never edit a released migration: append a new one.
Feature areas (risk, PRs, reports…) keep their tables in ``store/schema_<feature>.py`` with their own
``MIGRATIONS`` list, versioned separately in the ``feature_schema`` table.
"""

from __future__ import annotations

MIGRATIONS: list[list[str]] = [
    # 1: the core — repositories, git history, tags, deployments, incidents, sync cursors.
    [
        """CREATE TABLE repositories (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL UNIQUE,
            path TEXT NOT NULL UNIQUE,
            default_branch TEXT,
            added_at INTEGER NOT NULL,
            last_synced_at INTEGER
        )""",
        """CREATE TABLE commits (
            repo_id INTEGER NOT NULL REFERENCES repositories(id) ON DELETE CASCADE,
            sha TEXT NOT NULL,
            author_name TEXT NOT NULL,
            author_email TEXT NOT NULL,
            author_time INTEGER NOT NULL,
            committer_name TEXT NOT NULL,
            committer_email TEXT NOT NULL,
            committer_time INTEGER NOT NULL,
            parents TEXT NOT NULL,          -- space-separated parent shas ('' for a root commit)
            subject TEXT NOT NULL,
            body TEXT NOT NULL,
            trailers TEXT NOT NULL,         -- JSON list of [key, value]
            additions INTEGER NOT NULL,     -- text lines added over all files (binary files count 0)
            deletions INTEGER NOT NULL,
            files_changed INTEGER NOT NULL,
            PRIMARY KEY (repo_id, sha)
        ) WITHOUT ROWID""",
        "CREATE INDEX commits_by_time ON commits(repo_id, committer_time)",
        "CREATE INDEX commits_by_author ON commits(author_email, author_time)",
        """CREATE TABLE file_changes (
            repo_id INTEGER NOT NULL,
            sha TEXT NOT NULL,
            path TEXT NOT NULL,
            old_path TEXT,                  -- set for renames/copies
            additions INTEGER,              -- NULL for binary files
            deletions INTEGER
        )""",
        "CREATE INDEX file_changes_by_commit ON file_changes(repo_id, sha)",
        "CREATE INDEX file_changes_by_path ON file_changes(repo_id, path)",
        """CREATE TABLE tags (
            repo_id INTEGER NOT NULL REFERENCES repositories(id) ON DELETE CASCADE,
            name TEXT NOT NULL,
            sha TEXT NOT NULL,              -- the tagged commit
            tag_time INTEGER NOT NULL,      -- tagger date (annotated) or the commit's committer date
            annotated INTEGER NOT NULL,
            PRIMARY KEY (repo_id, name)
        ) WITHOUT ROWID""",
        """CREATE TABLE deployment_events (
            id TEXT PRIMARY KEY,
            repo_id INTEGER NOT NULL REFERENCES repositories(id) ON DELETE CASCADE,
            sha TEXT NOT NULL,
            environment TEXT NOT NULL,
            status TEXT NOT NULL,
            deployed_at INTEGER NOT NULL,
            service TEXT,
            source TEXT NOT NULL            -- cli | import | github
        )""",
        "CREATE INDEX deployment_events_by_repo ON deployment_events(repo_id, deployed_at)",
        """CREATE TABLE incidents (
            id TEXT PRIMARY KEY,
            repo_id INTEGER REFERENCES repositories(id) ON DELETE CASCADE,
            title TEXT NOT NULL,
            severity TEXT,
            started_at INTEGER NOT NULL,
            resolved_at INTEGER,
            deployment_id TEXT,
            sha TEXT,
            service TEXT,
            source TEXT NOT NULL
        )""",
        "CREATE INDEX incidents_by_time ON incidents(started_at)",
        # Derived: the effective deployments of each repository (explicit events if it has any, else tags),
        # what each shipped, and which failed. Rebuilt by `engmetrics.areas.dora.derive` after every sync/import.
        """CREATE TABLE deployments (
            id TEXT PRIMARY KEY,
            repo_id INTEGER NOT NULL REFERENCES repositories(id) ON DELETE CASCADE,
            sha TEXT NOT NULL,
            environment TEXT NOT NULL,
            status TEXT NOT NULL,
            deployed_at INTEGER NOT NULL,
            service TEXT,
            source TEXT NOT NULL,           -- tag | event
            tag TEXT,
            change_count INTEGER NOT NULL DEFAULT 0,
            is_hotfix INTEGER NOT NULL DEFAULT 0,
            has_revert INTEGER NOT NULL DEFAULT 0,
            failed INTEGER NOT NULL DEFAULT 0,
            failure_signal TEXT,            -- incident | revert | hotfix
            failure_evidence TEXT,
            recovery_hours REAL
        )""",
        "CREATE INDEX deployments_by_time ON deployments(deployed_at)",
        "CREATE INDEX deployments_by_repo ON deployments(repo_id, deployed_at)",
        """CREATE TABLE deployment_changes (
            deployment_id TEXT NOT NULL,
            sha TEXT NOT NULL,
            author_time INTEGER NOT NULL,
            lead_time_hours REAL NOT NULL
        )""",
        "CREATE INDEX deployment_changes_by_deployment ON deployment_changes(deployment_id)",
        "CREATE INDEX deployment_changes_by_sha ON deployment_changes(sha)",
        """CREATE TABLE sync_cursors (
            repo_id INTEGER NOT NULL REFERENCES repositories(id) ON DELETE CASCADE,
            source TEXT NOT NULL,
            cursor TEXT NOT NULL,
            updated_at INTEGER NOT NULL,
            PRIMARY KEY (repo_id, source)
        )""",
        """CREATE TABLE kv (
            key TEXT PRIMARY KEY,
            value TEXT NOT NULL
        )""",
        # Feature areas version their own tables (modules store/schema_<feature>.py), tracked here.
        """CREATE TABLE feature_schema (
            feature TEXT PRIMARY KEY,
            version INTEGER NOT NULL
        )""",
    ],
    # 2: each derived deployment carries its changes' lead times (hours, float64 little-endian) so a DORA
    # window reads one row per deployment instead of one per change.
    [
        "ALTER TABLE deployments ADD COLUMN lead_times BLOB",
    ],
    # 3: rework also counts deployments made while an incident attributed to an earlier deployment was open.
    [
        "ALTER TABLE deployments ADD COLUMN during_incident INTEGER NOT NULL DEFAULT 0",
    ],
    # 4: the failed deployments of a DORA window are found without reading the others (a partial index: both
    # SQLite and PostgreSQL have them).
    [
        "CREATE INDEX deployments_failed ON deployments(deployed_at) WHERE failed <> 0",
    ],
]
