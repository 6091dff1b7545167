"""Tables of the reports feature: generated reports, kept so that get_report and report:// can read them.

Times are Unix seconds (UTC). ``facts`` is the JSON list of fact lines the report may cite; ``markdown``
is the source text the formatted ``content`` was rendered from.
"""

from __future__ import annotations

MIGRATIONS: list[list[str]] = [
    [
        """CREATE TABLE reports (
            id TEXT PRIMARY KEY,
            status TEXT NOT NULL,               -- generating | ready | failed
            audience TEXT NOT NULL,
            format TEXT NOT NULL,
            title TEXT NOT NULL,
            markdown TEXT NOT NULL,
            content TEXT NOT NULL,
            word_count INTEGER NOT NULL,
            period_from INTEGER NOT NULL,
            period_to INTEGER NOT NULL,
            period_label TEXT NOT NULL,
            repo TEXT,
            team TEXT,
            polished INTEGER NOT NULL DEFAULT 0,
            facts TEXT NOT NULL DEFAULT '[]',
            created_at INTEGER NOT NULL
        )""",
        "CREATE INDEX reports_by_time ON reports(created_at)",
    ],
]
