"""Every SQL statement of the custom-metrics area: the stored definitions (table ``custom_metrics``)."""

from __future__ import annotations

from dataclasses import dataclass
from engmetrics.store.connection import Connection


@dataclass(frozen=True)
class StoredMetric:
    """A stored custom metric: slug, label, unit, its definition as JSON, created (Unix seconds)."""

    slug: str
    label: str
    unit: str
    definition: str
    created_at: int


def save(conn: Connection, m: StoredMetric) -> None:
    """Insert or replace the custom metric ``m.slug``."""
    conn.execute(
        "INSERT INTO custom_metrics (slug, label, unit, definition, created_at) VALUES (?, ?, ?, ?, ?)"
        " ON CONFLICT (slug) DO UPDATE SET label = excluded.label, unit = excluded.unit,"
        " definition = excluded.definition",
        (m.slug, m.label, m.unit, m.definition, m.created_at),
    )


def get(conn: Connection, slug: str) -> StoredMetric | None:
    """The custom metric ``slug``, or None."""
    row = conn.execute("SELECT slug, label, unit, definition, created_at FROM custom_metrics WHERE slug = ?",
                       (slug,)).fetchone()
    return None if row is None else StoredMetric(*row)


def all_metrics(conn: Connection) -> list[StoredMetric]:
    """Every custom metric, by slug."""
    return [StoredMetric(*r) for r in conn.execute(
        "SELECT slug, label, unit, definition, created_at FROM custom_metrics ORDER BY slug")]


def delete(conn: Connection, slug: str) -> bool:
    """Delete ``slug``; True when it existed."""
    return conn.execute("DELETE FROM custom_metrics WHERE slug = ?", (slug,)).rowcount > 0
