"""Tables of the coverage feature: imported test-coverage reports (`engmetrics import coverage FILE --repo R`).

One row per report: per commit (``--sha``, id ``<repo_id>:<sha>``) or per UTC day (id ``<repo_id>:day:<date>``);
importing again for the same commit or day replaces the row. Line and branch counts are totals over the report's
files. Times are Unix seconds (UTC).
"""

from __future__ import annotations

MIGRATIONS: list[list[str]] = [
    [
        """CREATE TABLE coverage_reports (
            id TEXT PRIMARY KEY,
            repo_id INTEGER NOT NULL REFERENCES repositories(id) ON DELETE CASCADE,
            sha TEXT,                           -- the measured commit, when given
            measured_at INTEGER NOT NULL,       -- the commit's committer time, else the report's own time
            format TEXT NOT NULL,               -- coverage_json | cobertura | lcov
            lines_valid INTEGER NOT NULL,
            lines_covered INTEGER NOT NULL,
            branches_valid INTEGER,             -- NULL when the report has no branch data
            branches_covered INTEGER,
            files INTEGER NOT NULL,
            imported_at INTEGER NOT NULL
        )""",
        "CREATE INDEX coverage_reports_by_time ON coverage_reports(repo_id, measured_at)",
    ],
]
