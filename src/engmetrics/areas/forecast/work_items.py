"""Reading work-item files (CSV or JSON) into rows of the ``work_items`` table; `queries.save_work_items`
writes them.

Columns/keys: ``id`` (required), ``completed_at`` (ISO 8601, or Unix seconds in JSON; empty for an open item),
optional ``started_at``, ``team``, ``type``, ``title``, ``repo``. Re-importing the same file changes nothing; a
row with the same id and new values replaces the old one. Times are stored as Unix seconds (UTC).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import astuple, dataclass
from pathlib import Path

from engmetrics.errors import EngmetricsError, InvalidInput
from engmetrics.periods import parse_instant
from engmetrics.sources.events import read_records

WORK_ITEM_FIELDS = ("title", "team", "type", "repo", "started_at", "completed_at")
"""The stored columns besides ``id``, in `WorkItemRow.values` order."""


@dataclass(frozen=True)
class WorkItemRow:
    """One work item as stored (times in Unix seconds; ``completed_at`` None for an open item)."""

    id: str
    title: str | None
    team: str | None
    type: str | None
    repo: str | None
    started_at: int | None
    completed_at: int | None

    def values(self) -> tuple[str | int | None, ...]:
        """The stored columns besides ``id``, in `WORK_ITEM_FIELDS` order."""
        return astuple(self)[1:]


def _text(value: object) -> str | None:
    if value is None:
        return None
    s = str(value).strip()
    return s or None


def _time(value: object, name: str) -> int | None:
    text = _text(value)
    if text is None:
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return int(value)
    return int(parse_instant(text, param=name).timestamp())


def parse_item(rec: Mapping[str, object]) -> WorkItemRow:
    """One record as a `WorkItemRow`; `InvalidInput` saying what is wrong with it otherwise."""
    if "__invalid__" in rec:
        raise InvalidInput("each item must be an object with at least an id")
    item_id = _text(rec.get("id"))
    if item_id is None:
        raise InvalidInput("id is required")
    started = _time(rec.get("started_at"), "started_at")
    completed = _time(rec.get("completed_at"), "completed_at")
    if started is not None and completed is not None and completed < started:
        raise InvalidInput("completed_at is before started_at")
    return WorkItemRow(item_id, _text(rec.get("title")), _text(rec.get("team")), _text(rec.get("type")),
                       _text(rec.get("repo")), started, completed)


def read_work_items(path: Path) -> tuple[list[WorkItemRow], list[str]]:
    """The rows of ``path`` (.csv or .json) in file order, and ``'line N: reason'`` for each rejected record."""
    rows: list[WorkItemRow] = []
    errors: list[str] = []
    for line, rec in read_records(path):
        try:
            rows.append(parse_item(rec))
        except EngmetricsError as exc:
            errors.append(f"line {line}: {exc.message}")
    return rows, errors
