"""Tables of the AI-impact feature: AI code tracking data (Cursor's commits and accepted changes), GitHub Copilot's
daily usage totals and seats, and the AI sources' incremental cursors.

- ``ai_commit_metrics``: one row per commit of the tracking data (Cursor's AI Code Tracking API or an import), keyed
  by the hash as given (lowercase, possibly abbreviated) and the repository name as given ('' when none). ``repo_id``
  and ``sha`` name the stored commit it matched (by full or abbreviated hash, in the repository of that name, else
  in any repository), NULL while none does (a commit not synced yet, or never in the store); unmatched rows are
  matched again after every sync. Lines are counts; ``commit_ts`` and ``created_at`` Unix seconds.
- ``ai_code_changes``: one row per accepted AI change (``changeId``): its source (TAB or COMPOSER), model, lines,
  ingestion time and file metadata (JSON; file names may be absent under privacy mode).
- ``copilot_days``: GitHub Copilot usage metrics per day and scope (``org:<name>`` or ``enterprise:<slug>``), from
  its daily and 28-day reports: active users, generations and acceptances, lines suggested and added.
- ``copilot_seats``: Copilot seats assigned per scope, when GitHub said so.
- ``ai_source_cursors``: per AI source (``cursor:commits``, ``cursor:changes``, ``copilot:<scope>``), the last
  day fully read (ISO date), for incremental syncs.
"""

from __future__ import annotations

MIGRATIONS: list[list[str]] = [
    [
        """CREATE TABLE ai_commit_metrics (
            commit_hash TEXT NOT NULL,
            repo_name TEXT NOT NULL,
            user_id TEXT,
            user_email TEXT,
            branch_name TEXT,
            is_primary_branch INTEGER,
            total_lines_added INTEGER NOT NULL,
            total_lines_deleted INTEGER NOT NULL,
            tab_lines_added INTEGER NOT NULL,
            tab_lines_deleted INTEGER NOT NULL,
            composer_lines_added INTEGER NOT NULL,
            composer_lines_deleted INTEGER NOT NULL,
            non_ai_lines_added INTEGER,
            non_ai_lines_deleted INTEGER,
            message TEXT,
            commit_ts INTEGER,
            created_at INTEGER,
            source TEXT NOT NULL,           -- cursor | import
            repo_id INTEGER,                -- the stored commit it matched; NULL while none
            sha TEXT,
            PRIMARY KEY (commit_hash, repo_name)
        )""",
        "CREATE INDEX ai_commit_metrics_by_commit ON ai_commit_metrics(repo_id, sha)",
        """CREATE TABLE ai_code_changes (
            change_id TEXT PRIMARY KEY,
            user_id TEXT,
            user_email TEXT,
            source TEXT NOT NULL,           -- TAB | COMPOSER
            model TEXT,
            total_lines_added INTEGER NOT NULL,
            total_lines_deleted INTEGER NOT NULL,
            created_at INTEGER NOT NULL,
            files INTEGER NOT NULL,
            metadata TEXT NOT NULL,         -- JSON list of file entries
            origin TEXT NOT NULL            -- cursor | import
        )""",
        "CREATE INDEX ai_code_changes_by_time ON ai_code_changes(created_at)",
        """CREATE TABLE copilot_days (
            scope TEXT NOT NULL,
            day TEXT NOT NULL,              -- YYYY-MM-DD (UTC)
            day_start INTEGER NOT NULL,     -- Unix seconds of the day's start
            daily_active_users INTEGER,
            weekly_active_users INTEGER,
            monthly_active_users INTEGER,
            code_generation_activity_count INTEGER NOT NULL,
            code_acceptance_activity_count INTEGER NOT NULL,
            loc_suggested_to_add_sum INTEGER NOT NULL,
            loc_added_sum INTEGER NOT NULL,
            loc_deleted_sum INTEGER NOT NULL,
            PRIMARY KEY (scope, day)
        )""",
        """CREATE TABLE copilot_seats (
            scope TEXT PRIMARY KEY,
            seats INTEGER NOT NULL,
            checked_at INTEGER NOT NULL
        )""",
        """CREATE TABLE ai_source_cursors (
            source TEXT PRIMARY KEY,
            cursor TEXT NOT NULL,
            updated_at INTEGER NOT NULL
        )""",
    ],
]
