"""Explicit deployment and incident events: `deploy record` and CSV/JSON imports.

Sources only write events; `derive` turns them into DORA inputs, in the same transaction (`import_records` and
`upsert_deployment` write inside the caller's). Writes are idempotent: the same event (same id, or for deployments
without an id the same repo+sha+environment+time) is stored once.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from engmetrics.errors import DataError, InvalidInput, NotFound
from engmetrics.periods import parse_instant
from engmetrics.store.repos import RepoRow, find_repository
from engmetrics.store.connection import Connection

DEPLOY_STATUSES = ("success", "failure")


@dataclass
class ImportOutcome:
    """Counts and per-row errors of an import ('line N: reason')."""

    imported: int = 0
    unchanged: int = 0
    errors: list[str] = field(default_factory=list)
    touched_repo_ids: set[int] = field(default_factory=set)


def deployment_id(repo_id: int, sha: str, environment: str, deployed_at: int) -> str:
    """A stable id for a deployment event that came without one."""
    digest = hashlib.sha1(f"{repo_id}|{sha}|{environment}|{deployed_at}".encode()).hexdigest()[:16]
    return f"dep_{digest}"


def _ts(value: Any, field_name: str) -> int:
    if value is None or (isinstance(value, str) and not value.strip()):
        raise InvalidInput(f"{field_name} is required (ISO 8601 time, e.g. 2025-02-14T15:30:00Z)")
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return int(value)
    if not isinstance(value, str):
        raise InvalidInput(f"{field_name} must be an ISO 8601 time, got {type(value).__name__}")
    return int(parse_instant(value, param=field_name).timestamp())


def _text(value: Any) -> str | None:
    if value is None:
        return None
    s = str(value).strip()
    return s or None


def upsert_deployment(
    conn: Connection,
    repo: RepoRow,
    *,
    sha: str,
    deployed_at: int,
    environment: str = "production",
    status: str = "success",
    service: str | None = None,
    event_id: str | None = None,
    source: str = "cli",
) -> tuple[str, bool]:
    """Insert or update one deployment event; returns (id, changed)."""
    sha = sha.strip()
    if not sha or any(c not in "0123456789abcdefABCDEF" for c in sha) or len(sha) < 4:
        raise InvalidInput(f"sha {sha!r} is not a commit hash (4–40 hex digits)")
    status = (status or "success").strip().lower()
    if status not in DEPLOY_STATUSES:
        raise InvalidInput(f"status {status!r} must be one of {', '.join(DEPLOY_STATUSES)}")
    environment = (environment or "production").strip().lower()
    sha = _full_sha(conn, repo.id, sha.lower())
    eid = event_id or deployment_id(repo.id, sha, environment, deployed_at)
    row = (repo.id, sha, environment, status, deployed_at, service, source)
    old = conn.execute(
        "SELECT repo_id, sha, environment, status, deployed_at, service, source FROM deployment_events WHERE id = ?",
        (eid,),
    ).fetchone()
    if old is not None and tuple(old) == row:
        return eid, False
    conn.execute(
        "INSERT OR REPLACE INTO deployment_events(id, repo_id, sha, environment, status, deployed_at, service, source)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (eid, *row),
    )
    return eid, True


def _full_sha(conn: Connection, repo_id: int, sha: str) -> str:
    """Expand an abbreviated sha against the stored commits (unchanged if unknown or ambiguous)."""
    if len(sha) == 40:
        return sha
    rows = conn.execute(
        "SELECT sha FROM commits WHERE repo_id = ? AND sha >= ? AND sha < ? LIMIT 2", (repo_id, sha, sha + "g")
    ).fetchall()
    return rows[0][0] if len(rows) == 1 else sha


def upsert_incident(conn: Connection, rec: dict[str, Any], *, source: str = "import") -> bool:
    """Insert or update one incident from a record; returns whether anything changed."""
    iid = _text(rec.get("id"))
    if not iid:
        raise InvalidInput("id is required")
    title = _text(rec.get("title"))
    if not title:
        raise InvalidInput("title is required")
    started = _ts(rec.get("started_at"), "started_at")
    resolved_raw = rec.get("resolved_at")
    resolved = None if _text(resolved_raw) is None else _ts(resolved_raw, "resolved_at")
    if resolved is not None and resolved < started:
        raise InvalidInput("resolved_at is before started_at")
    repo_id = None
    if _text(rec.get("repo")):
        repo_id = find_repository(conn, str(rec["repo"]).strip()).id
    sha = _text(rec.get("sha"))
    if sha is not None:
        sha = sha.lower()
        if repo_id is not None:
            sha = _full_sha(conn, repo_id, sha)
    row = (repo_id, title, _text(rec.get("severity")), started, resolved, _text(rec.get("deployment_id")), sha,
           _text(rec.get("service")), source)
    old = conn.execute(
        "SELECT repo_id, title, severity, started_at, resolved_at, deployment_id, sha, service, source"
        " FROM incidents WHERE id = ?",
        (iid,),
    ).fetchone()
    if old is not None and tuple(old) == row:
        return False
    conn.execute(
        "INSERT OR REPLACE INTO incidents(id, repo_id, title, severity, started_at, resolved_at, deployment_id, sha,"
        " service, source) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (iid, *row),
    )
    return True


def read_records(path: Path) -> list[tuple[int, dict[str, Any]]]:
    """Read a CSV or JSON (a list of objects) file as (line number, record) pairs, by extension."""
    if not path.is_file():
        raise DataError(f"File {path} does not exist.")
    suffix = path.suffix.lower()
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise DataError(f"Cannot read {path}: {exc}. Save it as UTF-8 CSV or JSON.") from None
    if suffix == ".json":
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise DataError(f"{path} is not valid JSON (line {exc.lineno}: {exc.msg}).") from None
        if isinstance(data, dict):
            for key in ("data", "items", "deployments", "incidents"):
                if isinstance(data.get(key), list):
                    data = data[key]
                    break
        if not isinstance(data, list):
            raise DataError(f"{path} must hold a JSON list of objects (or {{\"data\": [...]}}).")
        return [(i + 1, rec if isinstance(rec, dict) else {"__invalid__": rec}) for i, rec in enumerate(data)]
    if suffix in (".csv", ".tsv"):
        reader = csv.DictReader(io.StringIO(text), delimiter="\t" if suffix == ".tsv" else ",")
        if not reader.fieldnames:
            raise DataError(f"{path} has no header row.")
        # Line numbers as a person sees them in the file: the header is line 1.
        return [(reader.line_num, {k.strip().lower(): v for k, v in row.items() if k}) for row in reader]
    raise DataError(f"{path}: unknown file type {suffix or '(none)'}; use .csv or .json.")


def import_records(conn: Connection, path: Path, records: list[tuple[int, dict[str, Any]]],
                   kind: Literal["deployments", "incidents"]) -> ImportOutcome:
    """Write the deployments or incidents ``records`` read from ``path`` (`read_records`) inside the caller's open
    transaction ``conn``; each good row lands, each bad row is reported (rolled back alone, to a savepoint).

    The caller commits: with the derivation of what the rows change, so that no reader sees the events without it.
    """
    outcome = ImportOutcome()
    label = "record" if path.suffix.lower() == ".json" else "line"
    for line, rec in records:
        if "__invalid__" in rec:
            outcome.errors.append(f"{label} {line}: not an object")
            continue
        try:
            conn.execute("SAVEPOINT row")
            if kind == "deployments":
                repo_name = _text(rec.get("repo"))
                if not repo_name:
                    raise InvalidInput("repo is required (a repository name or path)")
                repo = find_repository(conn, repo_name)
                _, changed = upsert_deployment(
                    conn,
                    repo,
                    sha=_text(rec.get("sha")) or "",
                    deployed_at=_ts(rec.get("deployed_at"), "deployed_at"),
                    environment=_text(rec.get("environment")) or "production",
                    status=_text(rec.get("status")) or "success",
                    service=_text(rec.get("service")),
                    event_id=_text(rec.get("id")),
                    source="import",
                )
                outcome.touched_repo_ids.add(repo.id)
            else:
                changed = upsert_incident(conn, rec)
                rid = conn.execute("SELECT repo_id FROM incidents WHERE id = ?", (_text(rec.get("id")),)).fetchone()
                if rid and rid[0] is not None:
                    outcome.touched_repo_ids.add(rid[0])
            conn.execute("RELEASE row")
            if changed:
                outcome.imported += 1
            else:
                outcome.unchanged += 1
        except (InvalidInput, NotFound) as exc:
            conn.execute("ROLLBACK TO row")
            conn.execute("RELEASE row")
            outcome.errors.append(f"{label} {line}: {exc.message}")
    return outcome
