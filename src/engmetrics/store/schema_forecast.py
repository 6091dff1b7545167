"""Tables of the forecast feature: imported work items (`engmetrics forecast import-items FILE`).

Times are Unix seconds (UTC). An item with ``completed_at`` NULL is open (part of the backlog).
"""

from __future__ import annotations

MIGRATIONS: list[list[str]] = [
    # 1: work items imported from CSV/JSON.
    [
        """CREATE TABLE work_items (
            id TEXT PRIMARY KEY,
            title TEXT,
            team TEXT,
            type TEXT,
            repo TEXT,
            started_at INTEGER,
            completed_at INTEGER,
            imported_at INTEGER NOT NULL
        )""",
        "CREATE INDEX work_items_by_completion ON work_items(completed_at)",
    ],
]
