"""Tables of the custom-metrics feature: metrics a team defines (slug, label, unit, JSON definition).

Times are Unix seconds (UTC). ``definition`` is the JSON of `engmetrics.areas.custom_metrics.models.Definition`.
"""

from __future__ import annotations

MIGRATIONS: list[list[str]] = [
    [
        """CREATE TABLE custom_metrics (
            slug TEXT PRIMARY KEY,
            label TEXT NOT NULL,
            unit TEXT NOT NULL,
            definition TEXT NOT NULL,
            created_at INTEGER NOT NULL
        )""",
    ],
]
