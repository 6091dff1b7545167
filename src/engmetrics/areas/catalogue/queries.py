"""Every SQL statement of the catalogue area: coverage reports (writes and reads), and the per-event reads its
metrics and the per-event series are computed from (commits and their files, deployments and what they shipped,
pull requests, incidents, imported work items). Times are Unix seconds (UTC). Portable SQL (`?` placeholders,
standard functions) for both store dialects.
"""

from __future__ import annotations

from collections.abc import Sequence

from engmetrics.areas.catalogue.metrics.catalogue import CoverageReport, FileChurn
from engmetrics.areas.catalogue.models import Event
from engmetrics.store.db import repo_filter
from engmetrics.store.connection import Connection, dialect_of

PRODUCTION_ENVIRONMENTS = ("prod", "production")
"""Environments DORA counts as production (the DORA area's definition; tests check a count of deployments here
equals get_dora's)."""
NON_MERGE = "c.parents NOT LIKE '% %'"


def _marks(values: Sequence[object]) -> str:
    return ",".join("?" * len(values))


def _table_exists(conn: Connection, name: str) -> bool:
    if dialect_of(conn) == "postgresql":  # each dialect's catalogue (CONTRIBUTING, "SQL that runs on both stores")
        sql = "SELECT 1 FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = ?"
    else:
        sql = "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?"
    return conn.execute(sql, (name,)).fetchone() is not None


def repo_names(conn: Connection, repo_ids: list[int] | None) -> list[str]:
    """Names of the repositories ``repo_ids`` (None: every one), sorted."""
    where, args = repo_filter(repo_ids, "id")
    return sorted(r[0] for r in conn.execute(f"SELECT name FROM repositories WHERE 1=1{where}", args))


# ---- coverage -------------------------------------------------------------------------------------------


def find_commit(conn: Connection, repo_id: int, sha: str) -> tuple[str, int] | None:
    """(full sha, committer time) of the stored commit ``sha`` (full, or a prefix of at least 7), else None."""
    if len(sha) >= 40:
        row = conn.execute("SELECT sha, committer_time FROM commits WHERE repo_id = ? AND sha = ?", (repo_id, sha)).fetchone()
    else:
        rows = conn.execute("SELECT sha, committer_time FROM commits WHERE repo_id = ? AND sha LIKE ? LIMIT 2",
                            (repo_id, sha + "%")).fetchall()
        row = rows[0] if len(rows) == 1 else None
    return None if row is None else (str(row[0]), int(row[1]))


def save_coverage(conn: Connection, report_id: str, repo_id: int, sha: str | None, measured_at: int,
                  fmt: str, lines_valid: int, lines_covered: int, branches_valid: int | None,
                  branches_covered: int | None, files: int, imported_at: int) -> bool:
    """Store (or replace) one coverage report; True when it replaced an earlier one with the same id."""
    existed = conn.execute("SELECT 1 FROM coverage_reports WHERE id = ?", (report_id,)).fetchone() is not None
    conn.execute(
        "INSERT INTO coverage_reports (id, repo_id, sha, measured_at, format, lines_valid, lines_covered,"
        " branches_valid, branches_covered, files, imported_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
        " ON CONFLICT (id) DO UPDATE SET sha = excluded.sha, measured_at = excluded.measured_at,"
        " format = excluded.format, lines_valid = excluded.lines_valid, lines_covered = excluded.lines_covered,"
        " branches_valid = excluded.branches_valid, branches_covered = excluded.branches_covered,"
        " files = excluded.files, imported_at = excluded.imported_at",
        (report_id, repo_id, sha, measured_at, fmt, lines_valid, lines_covered, branches_valid, branches_covered,
         files, imported_at),
    )
    return existed


def coverage_reports(conn: Connection, start: int, end: int, repo_ids: list[int] | None) -> list[CoverageReport]:
    """Coverage reports measured in ``[start, end)``."""
    where, args = repo_filter(repo_ids)
    rows = conn.execute(
        "SELECT repo_id, measured_at, lines_valid, lines_covered, branches_valid, branches_covered FROM coverage_reports"
        f" WHERE measured_at >= ? AND measured_at < ?{where}", [start, end, *args],
    ).fetchall()
    return [CoverageReport(int(r[0]), int(r[1]), int(r[2]), int(r[3]), r[4], r[5]) for r in rows]


# ---- the catalogue's own metrics ------------------------------------------------------------------------


def file_churn(conn: Connection, start: int, end: int, repo_ids: list[int] | None) -> list[FileChurn]:
    """Each text file changed by a non-merge commit authored in ``[start, end)``: (author time, added, deleted)."""
    where, args = repo_filter(repo_ids, "c.repo_id")
    rows = conn.execute(
        "SELECT c.author_time, f.additions, f.deletions FROM commits c JOIN file_changes f"
        " ON f.repo_id = c.repo_id AND f.sha = c.sha"
        f" WHERE c.author_time >= ? AND c.author_time < ? AND {NON_MERGE} AND f.additions IS NOT NULL{where}",
        [start, end, *args],
    ).fetchall()
    return [FileChurn(int(r[0]), int(r[1]), int(r[2] or 0)) for r in rows]


def incident_starts(conn: Connection, start: int, end: int, repo_ids: list[int] | None) -> list[int]:
    """Start times of the incidents started in ``[start, end)`` (incidents of no repository: only unscoped)."""
    where, args = repo_filter(repo_ids)
    return [int(r[0]) for r in conn.execute(
        f"SELECT started_at FROM incidents WHERE started_at >= ? AND started_at < ?{where}", [start, end, *args])]


def has_incidents(conn: Connection, repo_ids: list[int] | None) -> bool:
    """Whether the store holds any incident at all for the scope (ever; incidents of no repository: only
    unscoped) — without one, an incident rate of 0 would claim a calm nobody measured."""
    where, args = repo_filter(repo_ids)
    return conn.execute(f"SELECT 1 FROM incidents WHERE 1=1{where} LIMIT 1", args).fetchone() is not None


def service_count(conn: Connection, repo_ids: list[int] | None) -> int:
    """How many services the scope has ever had: each incident's or deployment's service, else its repository."""
    where_i, args_i = repo_filter(repo_ids, "i.repo_id")
    where_d, args_d = repo_filter(repo_ids, "d.repo_id")
    rows = conn.execute(
        "SELECT coalesce(i.service, r.name, 'unassigned') FROM incidents i LEFT JOIN repositories r ON r.id = i.repo_id"
        f" WHERE 1=1{where_i} UNION SELECT coalesce(d.service, r.name) FROM deployments d"
        f" JOIN repositories r ON r.id = d.repo_id WHERE 1=1{where_d}",
        [*args_i, *args_d],
    ).fetchall()
    return len({r[0] for r in rows})


def _work_item_scope(team: str | None, repos: list[str] | None) -> tuple[str, list[object]]:
    if team:
        return " AND lower(team) = lower(?)", [team]
    if repos is not None:
        return (f" AND repo IN ({_marks(repos)})", list(repos)) if repos else (" AND 1=0", [])
    return "", []


def work_item_completions(conn: Connection, start: int, end: int, team: str | None,
                          repos: list[str] | None) -> list[int]:
    """Completion times of the work items of ``team`` (or of the repositories ``repos``; None: every item)
    completed in ``[start, end)``; empty when no work item was ever imported."""
    if not _table_exists(conn, "work_items"):
        return []
    where, args = _work_item_scope(team, repos)
    return [int(r[0]) for r in conn.execute(
        f"SELECT completed_at FROM work_items WHERE completed_at >= ? AND completed_at < ?{where}", [start, end, *args])]


def team_count(conn: Connection, team: str | None, repos: list[str] | None) -> int:
    """How many teams the scope's work items name (items without a team: one team, 'unassigned'); 0 without
    any item."""
    if not _table_exists(conn, "work_items"):
        return 0
    where, args = _work_item_scope(team, repos)
    return len({r[0] for r in conn.execute(f"SELECT coalesce(team, 'unassigned') FROM work_items WHERE 1=1{where}", args)})


def pr_review_events(conn: Connection, start: int, end: int, repo_ids: list[int] | None) -> list[tuple[int, float]]:
    """(merge time, hours from opening or ready-for-review to merge) of the PRs merged in ``[start, end)`` with a
    known opening time."""
    return [(e.at, e.value) for e in review_time_events(conn, start, end, repo_ids) if e.value is not None]


def commit_size_events(conn: Connection, start: int, end: int, repo_ids: list[int] | None) -> list[tuple[int, float]]:
    """(author time, lines added + deleted) of the non-merge commits authored in ``[start, end)``."""
    where, args = repo_filter(repo_ids, "c.repo_id")
    return [(int(r[0]), float(r[1])) for r in conn.execute(
        f"SELECT c.author_time, c.additions + c.deletions FROM commits c WHERE c.author_time >= ? AND c.author_time < ?"
        f" AND {NON_MERGE}{where}", [start, end, *args])]


# ---- per-event series -----------------------------------------------------------------------------------


def _paths(conn: Connection, keys: set[tuple[int, str]]) -> dict[tuple[int, str], list[str]]:
    """Changed paths of each (repo id, sha)."""
    out: dict[tuple[int, str], list[str]] = {}
    by_repo: dict[int, list[str]] = {}
    for repo_id, sha in keys:
        by_repo.setdefault(repo_id, []).append(sha)
    for repo_id, shas in by_repo.items():
        for i in range(0, len(shas), 500):
            chunk = shas[i:i + 500]
            for sha, path in conn.execute(
                f"SELECT sha, path FROM file_changes WHERE repo_id = ? AND sha IN ({_marks(chunk)})", [repo_id, *chunk]
            ):
                out.setdefault((repo_id, sha), []).append(path)
    return out


def deployment_events(conn: Connection, start: int, end: int, repo_ids: list[int] | None,
                      environments: Sequence[str] | None) -> list[Event]:
    """Successful deployments in ``[start, end)`` in ``environments`` (None: the production ones), value = commits
    shipped."""
    envs = [e.lower() for e in environments] if environments else list(PRODUCTION_ENVIRONMENTS)
    where, args = repo_filter(repo_ids, "d.repo_id")
    rows = conn.execute(
        "SELECT d.deployed_at, d.change_count, r.name, d.environment, d.service FROM deployments d"
        " JOIN repositories r ON r.id = d.repo_id WHERE d.deployed_at >= ? AND d.deployed_at < ?"
        f" AND d.status = 'success' AND lower(d.environment) IN ({_marks(envs)}){where}",
        [start, end, *envs, *args],
    ).fetchall()
    return [Event(int(r[0]), float(r[1]), repo=r[2], environment=r[3]) for r in rows]


def lead_time_events(conn: Connection, start: int, end: int, repo_ids: list[int] | None,
                     with_paths: bool) -> list[Event]:
    """Each commit shipped by a successful production deployment in ``[start, end)`` with a positive lead time:
    value = its lead time (hours), at the deployment's time; author = the commit's author email."""
    where, args = repo_filter(repo_ids, "d.repo_id")
    envs = list(PRODUCTION_ENVIRONMENTS)
    rows = conn.execute(
        "SELECT d.deployed_at, dc.lead_time_hours, r.name, d.environment, c.author_email, d.repo_id, dc.sha"
        " FROM deployments d JOIN deployment_changes dc ON dc.deployment_id = d.id"
        " JOIN repositories r ON r.id = d.repo_id"
        " LEFT JOIN commits c ON c.repo_id = d.repo_id AND c.sha = dc.sha"
        " WHERE d.deployed_at >= ? AND d.deployed_at < ? AND d.status = 'success'"
        f" AND lower(d.environment) IN ({_marks(envs)}) AND dc.lead_time_hours > 0{where}",
        [start, end, *envs, *args],
    ).fetchall()
    paths = _paths(conn, {(int(r[5]), str(r[6])) for r in rows}) if with_paths else {}
    return [Event(int(r[0]), float(r[1]), repo=r[2], environment=r[3], author=r[4],
                  paths=tuple(paths.get((int(r[5]), str(r[6])), ()))) for r in rows]


def _pr_events(conn: Connection, start: int, end: int, repo_ids: list[int] | None, begin: str) -> list[Event]:
    if not _table_exists(conn, "pull_requests"):
        return []
    where, args = repo_filter(repo_ids, "p.repo_id")
    rows = conn.execute(
        f"SELECT p.merged_at, (p.merged_at - {begin}) / 3600.0, r.name, coalesce(p.author, p.author_email)"
        " FROM pull_requests p JOIN repositories r ON r.id = p.repo_id"
        f" WHERE p.merged_at >= ? AND p.merged_at < ? AND {begin} IS NOT NULL AND p.merged_at >= {begin}{where}",
        [start, end, *args],
    ).fetchall()
    return [Event(int(r[0]), float(r[1]), repo=r[2], author=r[3]) for r in rows]


def pr_cycle_events(conn: Connection, start: int, end: int, repo_ids: list[int] | None) -> list[Event]:
    """PRs merged in ``[start, end)``: value = hours from their first commit to the merge."""
    return _pr_events(conn, start, end, repo_ids, "p.first_commit_at")


def review_time_events(conn: Connection, start: int, end: int, repo_ids: list[int] | None) -> list[Event]:
    """PRs merged in ``[start, end)`` with an opening time: value = hours from opening (or ready) to merge."""
    return _pr_events(conn, start, end, repo_ids, "coalesce(p.ready_at, p.created_at)")


def incident_events(conn: Connection, start: int, end: int, repo_ids: list[int] | None) -> list[Event]:
    """Incidents started in ``[start, end)``: value = hours to resolution (None while open)."""
    where, args = repo_filter(repo_ids, "i.repo_id")
    rows = conn.execute(
        "SELECT i.started_at, (i.resolved_at - i.started_at) / 3600.0, r.name, i.service FROM incidents i"
        f" LEFT JOIN repositories r ON r.id = i.repo_id WHERE i.started_at >= ? AND i.started_at < ?{where}",
        [start, end, *args],
    ).fetchall()
    return [Event(int(r[0]), None if r[1] is None else float(r[1]), repo=r[2], environment=r[3]) for r in rows]


def commit_events(conn: Connection, start: int, end: int, repo_ids: list[int] | None,
                  with_paths: bool) -> list[Event]:
    """Non-merge commits authored in ``[start, end)``: value = lines added + deleted."""
    where, args = repo_filter(repo_ids, "c.repo_id")
    rows = conn.execute(
        "SELECT c.author_time, c.additions + c.deletions, r.name, c.author_email, c.repo_id, c.sha FROM commits c"
        f" JOIN repositories r ON r.id = c.repo_id WHERE c.author_time >= ? AND c.author_time < ? AND {NON_MERGE}{where}",
        [start, end, *args],
    ).fetchall()
    paths = _paths(conn, {(int(r[4]), str(r[5])) for r in rows}) if with_paths else {}
    return [Event(int(r[0]), float(r[1]), repo=r[2], author=r[3], paths=tuple(paths.get((int(r[4]), str(r[5])), ())))
            for r in rows]


def work_item_events(conn: Connection, start: int, end: int, team: str | None,
                     repos: list[str] | None) -> list[Event]:
    """Work items completed in ``[start, end)``: value = hours from start to completion (None without a start)."""
    if not _table_exists(conn, "work_items"):
        return []
    where, args = _work_item_scope(team, repos)
    rows = conn.execute(
        "SELECT completed_at, (completed_at - started_at) / 3600.0, repo, team FROM work_items"
        f" WHERE completed_at >= ? AND completed_at < ?{where}", [start, end, *args],
    ).fetchall()
    return [Event(int(r[0]), None if r[1] is None else float(r[1]), repo=r[2], team=r[3]) for r in rows]
