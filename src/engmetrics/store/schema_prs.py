"""Tables of the pull-request feature: PRs (from GitHub or rebuilt from git), reviews, review comments,
PR commits, GitHub releases, the ETags of conditional GitHub requests, and the GitHub deployments that
wait for a final status.

GitHub's ids are 64-bit: review and review-comment ids are text (GraphQL's ``fullDatabaseId``, a
string), release and deployment ids SQLite integers (64-bit).

Times are Unix seconds (UTC). ``pull_requests.source`` says where a row came from: ``github`` rows are
authoritative and never overwritten by ``git`` (reconstructed) rows.
"""

from __future__ import annotations

MIGRATIONS: list[list[str]] = [
    [
        """CREATE TABLE pull_requests (
            repo_id INTEGER NOT NULL REFERENCES repositories(id) ON DELETE CASCADE,
            number INTEGER NOT NULL,
            source TEXT NOT NULL,               -- github | git
            title TEXT NOT NULL,
            author TEXT,                        -- GitHub login, else the author email (lowercase)
            author_email TEXT,                  -- email of the first commit's author, when known
            state TEXT NOT NULL,                -- open | merged | closed
            draft INTEGER NOT NULL DEFAULT 0,
            created_at INTEGER,                 -- opened (NULL when rebuilt from git)
            ready_at INTEGER,                   -- marked ready for review (drafts), when known
            first_commit_at INTEGER,            -- earliest author time of its commits
            last_commit_at INTEGER,             -- latest committer time of its commits
            merged_at INTEGER,
            closed_at INTEGER,
            updated_at INTEGER,
            base TEXT,
            head TEXT,
            additions INTEGER,
            deletions INTEGER,
            changed_files INTEGER,
            commit_count INTEGER,
            labels TEXT NOT NULL DEFAULT '[]',  -- JSON list of names
            merge_sha TEXT,                     -- the commit that landed on the base branch
            head_sha TEXT,
            issue_created_at INTEGER,           -- creation of the earliest linked (closing) issue
            PRIMARY KEY (repo_id, number)
        )""",
        "CREATE INDEX pull_requests_by_merge ON pull_requests(repo_id, merge_sha)",
        "CREATE INDEX pull_requests_by_merged ON pull_requests(merged_at)",
        "CREATE INDEX pull_requests_by_state ON pull_requests(state, created_at)",
        """CREATE TABLE pr_reviews (
            repo_id INTEGER NOT NULL,
            number INTEGER NOT NULL,
            id TEXT NOT NULL,
            reviewer TEXT,                      -- GitHub login (lowercase)
            state TEXT NOT NULL,                -- approved | changes_requested | commented | dismissed
            submitted_at INTEGER NOT NULL,
            comments INTEGER NOT NULL DEFAULT 0,
            PRIMARY KEY (repo_id, number, id)
        )""",
        "CREATE INDEX pr_reviews_by_time ON pr_reviews(submitted_at)",
        """CREATE TABLE pr_commits (
            repo_id INTEGER NOT NULL,
            number INTEGER NOT NULL,
            sha TEXT NOT NULL,
            author_email TEXT,
            authored_at INTEGER NOT NULL,
            committed_at INTEGER NOT NULL,
            PRIMARY KEY (repo_id, number, sha)
        )""",
        """CREATE TABLE github_releases (
            repo_id INTEGER NOT NULL,
            id INTEGER NOT NULL,
            tag TEXT NOT NULL,
            name TEXT,
            created_at INTEGER,
            published_at INTEGER,
            prerelease INTEGER NOT NULL DEFAULT 0,
            draft INTEGER NOT NULL DEFAULT 0,
            PRIMARY KEY (repo_id, id)
        )""",
        """CREATE TABLE github_etags (
            repo_id INTEGER NOT NULL,
            endpoint TEXT NOT NULL,             -- pulls | deployments | releases | issues
            etag TEXT NOT NULL,
            stored_at INTEGER NOT NULL,
            PRIMARY KEY (repo_id, endpoint)
        )""",
    ],
    [
        # Review comments (who, when, where), one row each; a PR's rows are replaced whenever it is re-synced.
        """CREATE TABLE pr_review_comments (
            repo_id INTEGER NOT NULL,
            number INTEGER NOT NULL,
            id TEXT NOT NULL,                   -- GitHub's id of the comment (GraphQL fullDatabaseId)
            review_id TEXT,                     -- pr_reviews.id of the review it belongs to, when known
            author TEXT,                        -- GitHub login (lowercase)
            created_at INTEGER NOT NULL,
            path TEXT,                          -- file commented on, when given
            PRIMARY KEY (repo_id, number, id)
        )""",
    ],
    [
        # PRs rebuilt from git before a two-parent commit titled "… (#N)" was read as a merge (it was taken
        # for a squash, so its first commit was the merge itself): drop them and their cursor so the next sync
        # rebuilds them. GitHub rows are untouched.
        "DELETE FROM pr_commits WHERE EXISTS (SELECT 1 FROM pull_requests p WHERE p.repo_id = pr_commits.repo_id"
        " AND p.number = pr_commits.number AND p.source = 'git')",
        "DELETE FROM pull_requests WHERE source = 'git'",
        "DELETE FROM sync_cursors WHERE source = 'git:prs'",
    ],
    [
        # GitHub deployments whose newest status is not final yet (pending, queued, in_progress, waiting…):
        # each sync checks their statuses again (conditionally) and imports them once final.
        """CREATE TABLE github_pending_deployments (
            repo_id INTEGER NOT NULL REFERENCES repositories(id) ON DELETE CASCADE,
            id INTEGER NOT NULL,                -- GitHub's deployment id (64-bit)
            sha TEXT NOT NULL,
            environment TEXT NOT NULL,
            created_at INTEGER,                 -- the deployment's creation (Unix seconds)
            state TEXT NOT NULL,                -- its newest status's state ('' when it has none yet)
            etag TEXT,                          -- of its statuses' answer, when one page held them all
            checked_at INTEGER NOT NULL,
            PRIMARY KEY (repo_id, id)
        )""",
    ],
]
