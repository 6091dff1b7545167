"""Cursor's AI Code Tracking records, read from the API's JSON (camelCase) or its CSV downloads (snake_case).

`commit_record` reads one ``AiCommitMetric``, `change_record` one ``AiCodeChangeMetric``; each raises
`InvalidInput` naming what is wrong with the row. Privacy mode is normal: a missing ``fileName``, ``message`` or
``branchName`` (or the literal "undefined"), a null ``isPrimaryBranch`` are read as unknown, not as errors.
Lines are counts (whole, non-negative); times are Unix seconds.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from engmetrics.errors import InvalidInput
from engmetrics.periods import parse_instant

_HASH = re.compile(r"[0-9a-f]{4,40}")
_CAMEL = re.compile(r"(?<=[a-z0-9])([A-Z])")
_UNKNOWN = ("", "undefined", "null", "none")


@dataclass(frozen=True, slots=True)
class AiCommitRecord:
    """One commit of the tracking data: lines by source (TAB completions, COMPOSER/agent diffs, not AI)."""

    commit_hash: str  # lowercase, 4–40 hex digits (may be abbreviated)
    repo_name: str  # '' when not given
    user_id: str | None
    user_email: str | None
    branch_name: str | None
    is_primary_branch: bool | None
    total_lines_added: int
    total_lines_deleted: int
    tab_lines_added: int
    tab_lines_deleted: int
    composer_lines_added: int
    composer_lines_deleted: int
    non_ai_lines_added: int | None
    non_ai_lines_deleted: int | None
    message: str | None
    commit_ts: int | None
    created_at: int | None


@dataclass(frozen=True, slots=True)
class AiChangeRecord:
    """One accepted AI change: its deterministic id, source (TAB, COMPOSER…), model, lines and files."""

    change_id: str
    user_id: str | None
    user_email: str | None
    source: str  # upper case: TAB | COMPOSER (others kept as given)
    model: str | None
    total_lines_added: int
    total_lines_deleted: int
    created_at: int
    metadata: list[Any]  # file entries; fileName may be absent (privacy mode)


def snake(key: str) -> str:
    """``commitHash`` → ``commit_hash`` (snake_case keys stay as they are), lowercase."""
    return _CAMEL.sub(r"_\1", key.strip()).lower()


def normalise(raw: Mapping[str, Any]) -> dict[str, Any]:
    """A record's keys in snake_case (the CSV's column names), values as given."""
    return {snake(str(k)): v for k, v in raw.items() if k is not None}


def _text(value: Any) -> str | None:
    if value is None:
        return None
    s = str(value).strip()
    return None if s.lower() in _UNKNOWN else s


def _count(rec: Mapping[str, Any], name: str, *, required: bool = False, default: int | None = 0) -> int | None:
    value = rec.get(name)
    if value is None or (isinstance(value, str) and value.strip().lower() in _UNKNOWN):
        if required:
            raise InvalidInput(f"{name} is required (a whole number of lines)")
        return default
    if isinstance(value, bool):
        raise InvalidInput(f"{name} must be a whole number of lines, got {value!r}")
    try:
        number = float(value) if isinstance(value, (int, float)) else float(str(value).strip())
    except ValueError:
        raise InvalidInput(f"{name} must be a whole number of lines, got {str(value)[:40]!r}") from None
    if number < 0 or number != int(number):
        raise InvalidInput(f"{name} must be a whole number of lines (0 or more), got {value!r}")
    return int(number)


def _bool(value: Any, name: str) -> bool | None:
    if value is None or isinstance(value, bool):
        return value
    s = str(value).strip().lower()
    if s in _UNKNOWN:
        return None
    if s in ("true", "1", "yes"):
        return True
    if s in ("false", "0", "no"):
        return False
    raise InvalidInput(f"{name} must be true or false, got {str(value)[:20]!r}")


def _time(value: Any, name: str, *, required: bool = False) -> int | None:
    if value is None or (isinstance(value, str) and value.strip().lower() in _UNKNOWN):
        if required:
            raise InvalidInput(f"{name} is required (an ISO 8601 time, e.g. 2025-07-30T14:12:03Z)")
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return int(value / 1000) if value > 1e11 else int(value)  # milliseconds or seconds
    return int(parse_instant(str(value), param=name).timestamp())


def commit_record(raw: Mapping[str, Any]) -> AiCommitRecord:
    """An ``AiCommitMetric`` (API JSON or CSV row); `InvalidInput` saying what is wrong with it."""
    rec = normalise(raw)
    commit_hash = (_text(rec.get("commit_hash")) or "").lower()
    if not commit_hash:
        raise InvalidInput("commit_hash (commitHash) is required")
    if not _HASH.fullmatch(commit_hash):
        raise InvalidInput(f"commit_hash {commit_hash[:50]!r} is not a commit hash (4–40 hex digits)")
    commit_ts = _time(rec.get("commit_ts"), "commit_ts")
    return AiCommitRecord(
        commit_hash=commit_hash,
        repo_name=_text(rec.get("repo_name")) or "",
        user_id=_text(rec.get("user_id")),
        user_email=(_text(rec.get("user_email")) or "").lower() or None,
        branch_name=_text(rec.get("branch_name")),
        is_primary_branch=_bool(rec.get("is_primary_branch"), "is_primary_branch"),
        total_lines_added=_count(rec, "total_lines_added", required=True) or 0,
        total_lines_deleted=_count(rec, "total_lines_deleted") or 0,
        tab_lines_added=_count(rec, "tab_lines_added") or 0,
        tab_lines_deleted=_count(rec, "tab_lines_deleted") or 0,
        composer_lines_added=_count(rec, "composer_lines_added") or 0,
        composer_lines_deleted=_count(rec, "composer_lines_deleted") or 0,
        non_ai_lines_added=_count(rec, "non_ai_lines_added", default=None),
        non_ai_lines_deleted=_count(rec, "non_ai_lines_deleted", default=None),
        message=_text(rec.get("message")),
        commit_ts=commit_ts,
        created_at=_time(rec.get("created_at"), "created_at"),
    )


def change_record(raw: Mapping[str, Any]) -> AiChangeRecord:
    """An ``AiCodeChangeMetric`` (API JSON or CSV row with ``metadata_json``); `InvalidInput` saying what is wrong."""
    rec = normalise(raw)
    change_id = _text(rec.get("change_id"))
    if not change_id:
        raise InvalidInput("change_id (changeId) is required")
    source = (_text(rec.get("source")) or "").upper()
    if not source:
        raise InvalidInput("source is required (TAB or COMPOSER)")
    metadata: Any = rec.get("metadata")
    if metadata is None and "metadata_json" in rec:
        text = _text(rec.get("metadata_json"))
        try:
            metadata = json.loads(text) if text else []
        except json.JSONDecodeError:
            raise InvalidInput("metadata_json is not a JSON list of file entries") from None
    if metadata is None:
        metadata = []
    if not isinstance(metadata, list):
        raise InvalidInput("metadata must be a list of file entries")
    return AiChangeRecord(
        change_id=change_id,
        user_id=_text(rec.get("user_id")),
        user_email=(_text(rec.get("user_email")) or "").lower() or None,
        source=source,
        model=_text(rec.get("model")),
        total_lines_added=_count(rec, "total_lines_added", required=True) or 0,
        total_lines_deleted=_count(rec, "total_lines_deleted") or 0,
        created_at=_time(rec.get("created_at"), "created_at", required=True) or 0,
        metadata=metadata,
    )
