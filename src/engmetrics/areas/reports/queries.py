"""Every SQL statement of the reports area: the commits a changelog entry holds (by week or by release) and the
paths they changed, the data of the scorecard's non-DORA signals, change sizes, and the stored reports.

Reads return typed records (`CommitRow`, `Release`, `StoredReport`) or plain values in the documented units.
Times are Unix seconds (UTC).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from engmetrics.areas.reports.metrics.changelog import CommitRow, Release
from engmetrics.areas.reports.models import Audience, Report, ReportFormat
from engmetrics.models import Period
from engmetrics.periods import Window, iso
from engmetrics.commits import pr_number
from engmetrics.store.db import repo_filter
from engmetrics.store.connection import Connection, Row

_CHUNK = 500  # shas per IN (…) list, well under SQLite's variable limit
_PRODUCTION = "d.status = 'success' AND d.environment IN ('production','prod')"
_COMMIT_COLUMNS = "r.name, c.sha, c.subject, c.body, c.author_name, c.author_email, c.committer_time, c.parents"


def _commit(r: Row | tuple[Any, ...]) -> CommitRow:
    subject, body = r[2] or "", r[3] or ""
    return CommitRow(r[0], r[1], subject, body, r[4], r[5], r[6], tuple((r[7] or "").split()), pr=pr_number(subject, body))


# ---- changelog ---------------------------------------------------------------------------------------------


def commit_times(conn: Connection, repo_ids: list[int] | None, since_ts: int | None) -> list[int]:
    """Committer times of the commits of ``repo_ids`` (None: every repository), at or after ``since_ts``."""
    where, args = repo_filter(repo_ids, "c.repo_id")
    if since_ts is not None:
        where += " AND c.committer_time >= ?"
        args.append(since_ts)
    return [r[0] for r in conn.execute(f"SELECT c.committer_time FROM commits c WHERE 1=1{where}", args)]


def commits_in(conn: Connection, repo_ids: list[int] | None, start_ts: int, end_ts: int) -> list[CommitRow]:
    """Commits with committer time in ``[start_ts, end_ts)``, newest first."""
    where, args = repo_filter(repo_ids, "c.repo_id")
    rows = conn.execute(
        f"SELECT {_COMMIT_COLUMNS} FROM commits c JOIN repositories r ON r.id = c.repo_id"
        f" WHERE c.committer_time >= ? AND c.committer_time < ?{where} ORDER BY c.committer_time DESC, c.sha",
        [start_ts, end_ts, *args],
    ).fetchall()
    return [_commit(r) for r in rows]


def releases(conn: Connection, repo_ids: list[int] | None, since_ts: int | None) -> list[Release]:
    """Successful production deployments (newest first), each with the time of its repository's previous one."""
    where, args = repo_filter(repo_ids, "d.repo_id")
    if since_ts is not None:
        where += " AND d.deployed_at >= ?"
        args.append(since_ts)
    rows = conn.execute(
        "SELECT d.id, d.sha, d.tag, d.deployed_at, r.name, (SELECT max(p.deployed_at) FROM deployments p"
        " WHERE p.repo_id = d.repo_id AND p.deployed_at < d.deployed_at AND p.status = 'success'"
        " AND p.environment IN ('production','prod')) FROM deployments d JOIN repositories r ON r.id = d.repo_id"
        f" WHERE {_PRODUCTION}{where} ORDER BY d.deployed_at DESC, d.id",
        args,
    ).fetchall()
    return [Release(id=r[0], sha=r[1], tag=r[2], deployed_at=r[3], repo=r[4], prev_at=r[5]) for r in rows]


def release_commits(conn: Connection, deployment_id: str) -> list[CommitRow]:
    """The commits a deployment shipped (``deployment_changes``), newest first."""
    rows = conn.execute(
        f"SELECT {_COMMIT_COLUMNS} FROM deployment_changes dc JOIN deployments d ON d.id = dc.deployment_id"
        " JOIN commits c ON c.repo_id = d.repo_id AND c.sha = dc.sha JOIN repositories r ON r.id = d.repo_id"
        " WHERE dc.deployment_id = ? ORDER BY c.committer_time DESC, c.sha",
        (deployment_id,),
    ).fetchall()
    return [_commit(r) for r in rows]


def repository_id(conn: Connection, name: str) -> int | None:
    """The id of the stored repository called ``name``, or None."""
    row = conn.execute("SELECT id FROM repositories WHERE name = ?", (name,)).fetchone()
    return None if row is None else int(row[0])


def changed_paths(conn: Connection, repo: str, shas: Iterable[str]) -> dict[str, set[str]]:
    """The paths (and renamed-from paths) each of ``shas`` changed in repository ``repo`` (stored ``file_changes``)."""
    wanted = sorted(set(shas))
    rid = repository_id(conn, repo)
    out: dict[str, set[str]] = {}
    if rid is None:
        return out
    for i in range(0, len(wanted), _CHUNK):
        chunk = wanted[i:i + _CHUNK]
        for sha, path, old in conn.execute(
            f"SELECT sha, path, old_path FROM file_changes WHERE repo_id = ? AND sha IN ({','.join('?' * len(chunk))})",
            (rid, *chunk),
        ):
            out.setdefault(sha, set()).update(p for p in (path, old) if p)
    return out


# ---- scorecard signals and series ----------------------------------------------------------------------------


def pr_review_hours(conn: Connection, window: Window, repo_ids: list[int] | None) -> list[float]:
    """Hours from opening (or ready-for-review) to merge of each PR merged in ``window`` with a known opening
    time, ascending; empty without such PRs (or with a ``pull_requests`` table of another shape)."""
    where, args = repo_filter(repo_ids, "repo_id")
    try:
        rows = conn.execute(
            "SELECT (merged_at - coalesce(ready_at, created_at)) / 3600.0 FROM pull_requests WHERE merged_at >= ?"
            f" AND merged_at < ? AND created_at IS NOT NULL AND merged_at >= coalesce(ready_at, created_at){where}"
            " ORDER BY 1",
            [window.start_ts, window.end_ts, *args],
        ).fetchall()
    except sqlite3.Error:  # a table of another shape: no signal rather than a failure
        return []
    return [float(r[0]) for r in rows]


def authored_commit_paths(conn: Connection, window: Window, repo_ids: list[int] | None) -> list[list[str]]:
    """For each non-merge commit authored in ``window``: the paths it changed (empty when none are stored)."""
    where, args = repo_filter(repo_ids, "c.repo_id")
    rows = conn.execute(
        "SELECT c.repo_id, c.sha, f.path FROM commits c LEFT JOIN file_changes f ON f.repo_id = c.repo_id AND f.sha = c.sha"
        f" WHERE c.author_time >= ? AND c.author_time < ? AND instr(c.parents, ' ') = 0{where}",
        [window.start_ts, window.end_ts, *args],
    ).fetchall()
    by_commit: dict[tuple[int, str], list[str]] = {}
    for repo_id, sha, path in rows:
        paths = by_commit.setdefault((repo_id, sha), [])
        if path:
            paths.append(path)
    return list(by_commit.values())


# ---- stored reports -------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class StoredReport:
    """A stored report: the public model, its Markdown draft and the facts its numbers may come from."""

    report: Report
    markdown: str
    facts: list[str]


def _visible(repos: Sequence[str] | None) -> tuple[str, list[Any]]:
    """SQL restricting stored reports to those about one of ``repos`` or about no repository in particular
    (None: every report)."""
    if repos is None:
        return "", []
    return f" AND (repo IS NULL OR repo IN ({','.join('?' * len(repos))}))", list(repos)


def save_report(conn: Connection, *, report_id: str, audience: Audience, format: ReportFormat, title: str,
                markdown: str, content: str, word_count: int, window: Window, repo: str | None, team: str | None,
                polished: bool, facts: list[str], created_at: int) -> None:
    """Store (or replace) a ready report."""
    conn.execute(
        "INSERT OR REPLACE INTO reports(id, status, audience, format, title, markdown, content, word_count,"
        " period_from, period_to, period_label, repo, team, polished, facts, created_at)"
        " VALUES (?, 'ready', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (report_id, audience, format, title, markdown, content, word_count, window.start_ts, window.end_ts,
         window.label, repo, team, int(polished), json.dumps(facts), created_at),
    )


def read_report(conn: Connection, report_id: str, repos: Sequence[str] | None) -> StoredReport | None:
    """The stored report ``report_id`` if it is about one of ``repos`` or none in particular (None: any)."""
    only, args = _visible(repos)
    row = conn.execute(
        "SELECT id, status, audience, format, title, content, created_at, word_count, period_from, period_to,"
        f" period_label, repo, team, polished, facts, markdown FROM reports WHERE id = ?{only}",
        (report_id, *args),
    ).fetchone()
    if row is None:
        return None
    facts = json.loads(row[14])
    report = Report(
        id=row[0], status=row[1], audience=row[2], format=row[3], title=row[4], content=row[5],
        created_at=iso(row[6]) or "", word_count=row[7],
        period=Period(from_=iso(row[8]) or "", to=iso(row[9]) or "", label=row[10]),
        repo=row[11], team=row[12], polished=bool(row[13]), numbers=facts,
    )
    return StoredReport(report=report, markdown=row[15], facts=facts)


def report_ids(conn: Connection, limit: int, repos: Sequence[str] | None) -> list[str]:
    """The newest stored report ids (at most ``limit``) visible for ``repos`` (see `read_report`)."""
    only, args = _visible(repos)
    return [r[0] for r in conn.execute(
        f"SELECT id FROM reports WHERE 1=1{only} ORDER BY created_at DESC LIMIT ?", (*args, limit))]


def set_polished(conn: Connection, report_id: str, content: str, word_count: int) -> None:
    """Replace a stored report's content by its polished version."""
    conn.execute("UPDATE reports SET content = ?, word_count = ?, polished = 1 WHERE id = ?",
                 (content, word_count, report_id))
