"""Importing work items (CSV or JSON) into the ``work_items`` table.

Columns/keys: ``id`` (required), ``completed_at`` (ISO 8601; empty for an open item), optional ``started_at``,
``team``, ``type``, ``title``, ``repo``. Re-importing the same file changes nothing; a row with the same id
and new values replaces the old one.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from engmetrics.errors import EngmetricsError, InvalidInput
from engmetrics.areas.forecast.models import WorkItemImport
from engmetrics.periods import parse_instant
from engmetrics.sources.events import read_records
from engmetrics.store.db import Store

_FIELDS = ("title", "team", "type", "repo", "started_at", "completed_at")


def _text(value: Any) -> str | None:
    if value is None:
        return None
    s = str(value).strip()
    return s or None


def _time(value: Any, name: str) -> int | None:
    text = _text(value)
    if text is None:
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return int(value)
    return int(parse_instant(text, param=name).timestamp())


def parse_item(rec: dict[str, Any]) -> tuple:
    """One record as a ``work_items`` row (id, title, team, type, repo, started_at, completed_at)."""
    if "__invalid__" in rec:
        raise InvalidInput("each item must be an object with at least an id")
    item_id = _text(rec.get("id"))
    if item_id is None:
        raise InvalidInput("id is required")
    started = _time(rec.get("started_at"), "started_at")
    completed = _time(rec.get("completed_at"), "completed_at")
    if started is not None and completed is not None and completed < started:
        raise InvalidInput("completed_at is before started_at")
    return (item_id, _text(rec.get("title")), _text(rec.get("team")), _text(rec.get("type")), _text(rec.get("repo")),
            started, completed)


def import_work_items(store: Store, path: Path) -> WorkItemImport:
    """Import ``path`` (.csv or .json) into the store in one transaction; bad rows are reported, not imported."""
    records = read_records(path)
    report = WorkItemImport(file=str(path), imported=0, unchanged=0, open_items=0)
    now = int(time.time())
    with store.tx() as conn:
        for line, rec in records:
            try:
                row = parse_item(rec)
            except EngmetricsError as exc:
                report.errors.append(f"line {line}: {exc.message}")
                continue
            old = conn.execute(
                f"SELECT {', '.join(_FIELDS)} FROM work_items WHERE id = ?", (row[0],)
            ).fetchone()
            if old is not None and tuple(old) == row[1:]:
                report.unchanged += 1
            else:
                conn.execute(
                    "INSERT INTO work_items(id, title, team, type, repo, started_at, completed_at, imported_at)"
                    " VALUES (?,?,?,?,?,?,?,?) ON CONFLICT(id) DO UPDATE SET title=excluded.title, team=excluded.team,"
                    " type=excluded.type, repo=excluded.repo, started_at=excluded.started_at,"
                    " completed_at=excluded.completed_at, imported_at=excluded.imported_at",
                    (*row, now),
                )
                report.imported += 1
            if row[6] is None:
                report.open_items += 1
    return report
