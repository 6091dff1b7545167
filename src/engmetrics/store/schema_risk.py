"""Tables of the risk feature: SZZ labels, the labelling cursor, and the trained model cache.

- ``risk_label_config``: per repository, the fix pattern and labeller version the labels were made with (a new
  pattern or version wipes them) and how many commits the store held when labelling last finished (the same
  count, and no fix left to retry: nothing to label).
- ``risk_szz_fixes``: every fix (or revert) commit git was asked about — the incremental cursor of SZZ:
  ``status`` 'labelled' (its links are stored; none when it blames nothing) or 'unreadable' (git reported
  missing or corrupt objects; ``error`` says what; retried when commits or objects arrive: ``objects_seen``
  holds ``git count-objects -v`` of the last run). A fix git failed on for another reason has no row: it is
  pending and retried on the next run.
- ``risk_szz_links``: fix → bug-inducing commit, with how many blamed lines link them.
- ``risk_models``: per repository, the trained model (JSON), the history fingerprint it was trained on,
  the feature matrix of its history (``.npz`` bytes) and the feature state after the last change (zlib JSON).
- ``risk_sloc``: source lines each non-merge commit added (lines of source files, not blank, not comment-only;
  -1 when git reported its objects missing), see `engmetrics.areas.risk.source_lines`. A commit git failed on for another
  reason has no row and is counted on the next run.
"""

from __future__ import annotations

MIGRATIONS: list[list[str]] = [
    [
        """CREATE TABLE risk_label_config (
            repo_id INTEGER PRIMARY KEY REFERENCES repositories(id) ON DELETE CASCADE,
            fix_pattern TEXT NOT NULL
        )""",
        """CREATE TABLE risk_szz_fixes (
            repo_id INTEGER NOT NULL REFERENCES repositories(id) ON DELETE CASCADE,
            sha TEXT NOT NULL,
            kind TEXT NOT NULL,             -- fix | revert
            fixed_at INTEGER NOT NULL,      -- the fix's committer time, Unix seconds
            inducing INTEGER NOT NULL,      -- how many inducing commits it names
            PRIMARY KEY (repo_id, sha)
        ) WITHOUT ROWID""",
        """CREATE TABLE risk_szz_links (
            repo_id INTEGER NOT NULL REFERENCES repositories(id) ON DELETE CASCADE,
            fix_sha TEXT NOT NULL,
            inducing_sha TEXT NOT NULL,
            lines INTEGER NOT NULL,         -- blamed lines (0 for a revert)
            PRIMARY KEY (repo_id, fix_sha, inducing_sha)
        ) WITHOUT ROWID""",
        "CREATE INDEX risk_szz_links_by_inducing ON risk_szz_links(repo_id, inducing_sha)",
        """CREATE TABLE risk_models (
            repo_id INTEGER PRIMARY KEY REFERENCES repositories(id) ON DELETE CASCADE,
            fingerprint TEXT NOT NULL,
            created_at INTEGER NOT NULL,
            model TEXT NOT NULL,            -- JSON of engmetrics.areas.risk.metrics.model.RiskModel
            matrix BLOB NOT NULL,           -- npz: shas, times, X (features of every change)
            state BLOB NOT NULL             -- zlib JSON of engmetrics.areas.risk.metrics.features.History
        )""",
    ],
    [
        """CREATE TABLE risk_sloc (
            repo_id INTEGER NOT NULL REFERENCES repositories(id) ON DELETE CASCADE,
            sha TEXT NOT NULL,
            added INTEGER NOT NULL,         -- source lines added; -1 unknown
            PRIMARY KEY (repo_id, sha)
        ) WITHOUT ROWID""",
    ],
    ["ALTER TABLE risk_label_config ADD COLUMN commits_seen INTEGER NOT NULL DEFAULT -1"],
    [
        # A fix git could not read (missing objects) is stored apart from a labelled one and retried.
        "ALTER TABLE risk_szz_fixes ADD COLUMN status TEXT NOT NULL DEFAULT 'labelled'",
        "ALTER TABLE risk_szz_fixes ADD COLUMN error TEXT",
        # Labels made by an older labeller (version 0: git exit statuses unchecked, every file blamed, bots'
        # and issue-closing commits taken for fixes) are wiped and made again on the next run.
        "ALTER TABLE risk_label_config ADD COLUMN version INTEGER NOT NULL DEFAULT 0",
        # `git count-objects -v` when labelling last finished: unreadable fixes are retried once it changes.
        "ALTER TABLE risk_label_config ADD COLUMN objects_seen TEXT NOT NULL DEFAULT ''",
        # Source lines are now lines of source files only (not docs, tests, generated or vendored files):
        # every commit is counted again.
        "DELETE FROM risk_sloc",
    ],
]
