"""Every SQL statement of the DORA area: the events a repository's deployments are derived from and the derived
rows (`derive`), the deployments of a window with their lead times, PR lead times, and the lists.

Reads return typed records (`DeploymentRecord`, `IncidentRecord`, `CommitGraph`) or the public models.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

import numpy as np

from engmetrics.areas.dora.metrics.failures import DeploymentRecord, IncidentRecord
from engmetrics.areas.dora.metrics.graph import CommitGraph
from engmetrics.areas.dora.metrics.figures import PRODUCTION_ENVIRONMENTS
from engmetrics.errors import NotFound
from engmetrics.areas.dora.models import Deployment, Incident
from engmetrics.periods import iso
from engmetrics.queries import encode_cursor
from engmetrics.store.db import Store, repo_filter
from engmetrics.store.connection import Connection, Row

_EMPTY = np.empty(0, dtype="<f8")


def load_deployments(store: Store, start_ts: int, end_ts: int, repo_ids: list[int] | None) -> list[DeploymentRecord]:
    """Successful production deployments with ``deployed_at`` in ``[start_ts, end_ts)``, lead times in hours."""
    conn = store.read()
    scope, args = repo_filter(repo_ids, "d.repo_id")
    where = "d.deployed_at >= ? AND d.deployed_at < ?" + scope
    args = [start_ts, end_ts, *args]
    where += f" AND d.status = 'success' AND d.environment IN ({','.join('?' * len(PRODUCTION_ENVIRONMENTS))})"
    args += sorted(PRODUCTION_ENVIRONMENTS)
    rows = conn.execute(
        "SELECT d.id, r.name, d.sha, d.deployed_at, d.environment, d.status, d.service, d.source, d.tag,"
        " d.change_count, d.is_hotfix, d.has_revert, d.failed, d.failure_signal, d.failure_evidence,"
        " d.recovery_hours, d.lead_times, d.during_incident"
        f" FROM deployments d JOIN repositories r ON r.id = d.repo_id WHERE {where}",
        args,
    ).fetchall()
    return [
        DeploymentRecord(
            id=r[0], repo=r[1], sha=r[2], deployed_at=r[3], environment=r[4], status=r[5], service=r[6],
            source=r[7], tag=r[8], lead_times_hours=_EMPTY if r[16] is None else np.frombuffer(r[16], dtype="<f8"),
            is_hotfix=bool(r[10]), has_revert=bool(r[11]), during_incident=bool(r[17]), failed=bool(r[12]),
            failure_signal=r[13], failure_evidence=r[14], recovery_hours=r[15],
        )
        for r in rows
    ]


def first_commit_time(conn: Connection, repo_ids: list[int] | None) -> int | None:
    """The committer time of the oldest stored commit in ``repo_ids`` (None: every repository), or None."""
    where, args = repo_filter(repo_ids)
    value = conn.execute(f"SELECT min(committer_time) FROM commits WHERE 1=1{where}", args).fetchone()[0]
    return None if value is None else int(value)


def pr_lead_times(conn: Connection, records: list[DeploymentRecord]) -> dict[str, list[float]] | None:
    """{deployment id: hours from each PR's first commit to that deployment} for the PRs whose merge (or
    squash) commit each deployment shipped; None when the repositories of ``records`` have no PR data."""
    ids = [r.id for r in records]
    if not ids:
        return None
    repos = sorted({r.repo for r in records})
    marks = ",".join("?" * len(repos))
    has_prs = conn.execute(
        "SELECT 1 FROM pull_requests p JOIN repositories r ON r.id = p.repo_id"
        f" WHERE r.name IN ({marks}) AND p.merge_sha IS NOT NULL LIMIT 1",
        repos,
    ).fetchone()
    if has_prs is None:
        return None
    leads: dict[str, list[float]] = defaultdict(list)
    for k in range(0, len(ids), 500):
        chunk = ids[k : k + 500]
        for dep_id, deployed_at, first in conn.execute(
            "SELECT dc.deployment_id, d.deployed_at, p.first_commit_at FROM deployment_changes dc"
            " JOIN deployments d ON d.id = dc.deployment_id"
            " JOIN pull_requests p ON p.repo_id = d.repo_id AND p.merge_sha = dc.sha"
            f" WHERE dc.deployment_id IN ({','.join('?' * len(chunk))}) AND p.first_commit_at IS NOT NULL",
            chunk,
        ):
            leads[dep_id].append((deployed_at - first) / 3600.0)
    return dict(leads)


def repos_without_incidents(conn: Connection, records: list[DeploymentRecord]) -> list[str]:
    """Names of the repositories among ``records`` for which the store holds no incident at all (neither one
    naming the repository nor one without a repository)."""
    if conn.execute("SELECT 1 FROM incidents WHERE repo_id IS NULL LIMIT 1").fetchone() is not None:
        return []
    with_incidents = {
        r[0] for r in conn.execute("SELECT DISTINCT r.name FROM incidents i JOIN repositories r ON r.id = i.repo_id")
    }
    return sorted({r.repo for r in records} - with_incidents)


# ---- lists -----------------------------------------------------------------------------------------------

_DEPLOY_SELECT = "SELECT d.*, r.name AS repo_name FROM deployments d JOIN repositories r ON r.id = d.repo_id"


@dataclass(frozen=True, slots=True)
class Page:
    """One page of rows, how many match in all, and the cursor of the next page (None at the end)."""

    rows: list[Row]
    total: int
    cursor: str | None


def _page(conn: Connection, table: str, select: str, where: str, args: list[Any], order: str,
          limit: int, offset: int) -> Page:
    """One page of ``select … WHERE 1=1{where} ORDER BY {order}``; ``table`` is the ``FROM`` clause the count
    runs over (same alias as ``select``'s)."""
    total = conn.execute(f"SELECT count(*) FROM {table} WHERE 1=1{where}", args).fetchone()[0]
    rows = conn.execute(f"{select} WHERE 1=1{where} ORDER BY {order} LIMIT ? OFFSET ?", [*args, limit, offset]).fetchall()
    nxt = offset + len(rows)
    return Page(rows, total, encode_cursor(nxt) if nxt < total else None)


def _median_lead(conn: Connection, deployment_id: str) -> float | None:
    vals: list[float] = [m[0] for m in conn.execute(
        "SELECT lead_time_hours FROM deployment_changes WHERE deployment_id = ? AND lead_time_hours > 0"
        " ORDER BY lead_time_hours",
        (deployment_id,),
    )]
    if not vals:
        return None
    n = len(vals)
    middle: float = vals[n // 2] if n % 2 else (vals[n // 2 - 1] + vals[n // 2]) / 2
    return round(middle, 2)


def _deployment(conn: Connection, r: Row) -> Deployment:
    return Deployment(
        id=r["id"],
        repo=r["repo_name"],
        sha=r["sha"],
        environment=r["environment"],
        status=r["status"],
        deployed_at=iso(r["deployed_at"]) or "",
        service=r["service"],
        source=r["source"],
        tag=r["tag"],
        change_count=r["change_count"],
        lead_time_hours_median=_median_lead(conn, r["id"]),
        failed=bool(r["failed"]),
        failure_signal=r["failure_signal"],
        unplanned=bool(r["is_hotfix"] or r["has_revert"] or r["during_incident"]),
        rework_signal=(
            "revert" if r["has_revert"] else "hotfix" if r["is_hotfix"] else "incident" if r["during_incident"] else None
        ),
    )


def deployments_by_ids(conn: Connection, ids: list[str]) -> list[Deployment]:
    """The deployments with these ids (any order)."""
    rows = conn.execute(f"{_DEPLOY_SELECT} WHERE d.id IN ({','.join('?' * len(ids))})", ids).fetchall()
    return [_deployment(conn, r) for r in rows]


def deployment_page(conn: Connection, start_ts: int, end_ts: int, repo_ids: list[int] | None,
                    environment: str | None, limit: int, offset: int) -> tuple[list[Deployment], int, str | None]:
    """Deployments with ``deployed_at`` in ``[start_ts, end_ts)``, newest first: (page, total, next cursor)."""
    where, args = repo_filter(repo_ids, "d.repo_id")
    where += " AND d.deployed_at >= ? AND d.deployed_at < ?"
    args += [start_ts, end_ts]
    if environment:
        where += " AND d.environment = ?"
        args.append(environment.lower())
    page = _page(conn, "deployments d", _DEPLOY_SELECT, where, args, "d.deployed_at DESC, d.id", limit, offset)
    return [_deployment(conn, r) for r in page.rows], page.total, page.cursor


def incident_page(conn: Connection, start_ts: int, end_ts: int, repo_ids: list[int] | None,
                  status: str | None, limit: int, offset: int) -> tuple[list[Incident], int, str | None]:
    """Incidents open at any time during ``[start_ts, end_ts)``, newest first: (page, total, next cursor)."""
    where, args = repo_filter(repo_ids, "i.repo_id")
    where += " AND i.started_at < ? AND (i.resolved_at IS NULL OR i.resolved_at >= ?)"
    args += [end_ts, start_ts]
    if status == "open":
        where += " AND i.resolved_at IS NULL"
    elif status == "resolved":
        where += " AND i.resolved_at IS NOT NULL"
    page = _page(
        conn, "incidents i",
        "SELECT i.*, r.name AS repo_name, (SELECT d.id FROM deployments d WHERE d.failure_signal = 'incident'"
        " AND d.failure_evidence = i.id LIMIT 1) AS attributed FROM incidents i"
        " LEFT JOIN repositories r ON r.id = i.repo_id",
        where, args, "i.started_at DESC, i.id", limit, offset,
    )
    items = [
        Incident(
            id=r["id"],
            title=r["title"],
            severity=r["severity"],
            status="open" if r["resolved_at"] is None else "resolved",
            started_at=iso(r["started_at"]) or "",
            resolved_at=iso(r["resolved_at"]),
            duration_hours=None if r["resolved_at"] is None else round((r["resolved_at"] - r["started_at"]) / 3600, 2),
            repo=r["repo_name"],
            deployment_id=r["deployment_id"] or r["attributed"],
            sha=r["sha"],
        )
        for r in page.rows
    ]
    return items, page.total, page.cursor


# ---- derivation (read the events of one repository, write what they derive) ------------------------------


def repository_name(conn: Connection, repo_id: int) -> str:
    """The repository's name; `NotFound` for an unknown id."""
    row = conn.execute("SELECT name FROM repositories WHERE id = ?", (repo_id,)).fetchone()
    if row is None:
        raise NotFound(f"No repository with id {repo_id}; run `engmetrics repos` to list them.")
    return str(row[0])


def repository_ids(conn: Connection) -> list[int]:
    """Every repository id, in order."""
    return [int(r[0]) for r in conn.execute("SELECT id FROM repositories ORDER BY id")]


def repository_count(conn: Connection) -> int:
    """How many repositories the store holds."""
    return int(conn.execute("SELECT COUNT(*) FROM repositories").fetchone()[0])


def load_graph(conn: Connection, repo_id: int) -> CommitGraph:
    """The repository's stored commits as a `CommitGraph`."""
    rows = conn.execute(
        "SELECT sha, parents, author_time, subject, body FROM commits WHERE repo_id = ? ORDER BY committer_time, sha",
        (repo_id,),
    ).fetchall()
    return CommitGraph.from_columns(
        [r[0] for r in rows],
        [r[1].split() if r[1] else () for r in rows],
        [r[2] for r in rows],
        [r[3] or "" for r in rows],
        [r[4] or "" for r in rows],
    )


def event_deployments(conn: Connection, repo_id: int, repo_name: str, graph: CommitGraph) -> list[DeploymentRecord]:
    """The repository's explicit deployment events (shas given as unique prefixes resolved to full shas)."""
    out = []
    for r in conn.execute(
        "SELECT id, sha, environment, status, deployed_at, service FROM deployment_events WHERE repo_id = ?",
        (repo_id,),
    ):
        sha = (r[1] or "").strip().lower()
        out.append(
            DeploymentRecord(
                id=r[0], repo=repo_name, sha=graph.resolve(sha) or sha, deployed_at=int(r[4]),
                environment=(r[2] or "production").strip().lower(), status=(r[3] or "success").strip().lower(),
                service=r[5], source="event",
            )
        )
    return out


def tags(conn: Connection, repo_id: int) -> list[tuple[str, str, int]]:
    """Every tag of the repository: (name, tagged commit sha, tag time)."""
    return [(r[0], r[1], int(r[2])) for r in conn.execute("SELECT name, sha, tag_time FROM tags WHERE repo_id = ?", (repo_id,))]


def incidents_for(conn: Connection, repo_id: int, repo_name: str) -> list[IncidentRecord]:
    """The repository's incidents and those tied to no repository (``repo`` None)."""
    rows = conn.execute(
        "SELECT id, started_at, resolved_at, repo_id, deployment_id, sha, service FROM incidents "
        "WHERE repo_id = ? OR repo_id IS NULL",
        (repo_id,),
    ).fetchall()
    return [
        IncidentRecord(
            id=r[0], started_at=int(r[1]), resolved_at=None if r[2] is None else int(r[2]),
            repo=repo_name if r[3] is not None else None, deployment_id=r[4], sha=r[5], service=r[6],
        )
        for r in rows
    ]


def changed_paths(conn: Connection, repo_id: int, shas: list[str]) -> dict[str, list[str]]:
    """{sha: files it changed} for ``shas`` (merges and unread diffs have no rows, so they are absent)."""
    out: dict[str, list[str]] = {}
    for k in range(0, len(shas), 500):
        chunk = shas[k : k + 500]
        for sha, path in conn.execute(
            f"SELECT sha, path FROM file_changes WHERE repo_id = ? AND sha IN ({','.join('?' * len(chunk))})",
            [repo_id, *chunk],
        ):
            out.setdefault(sha, []).append(path)
    return out


def replace_derived(conn: Connection, repo_id: int, records: list[DeploymentRecord], graph: CommitGraph) -> None:
    """Replace the repository's rows of ``deployments`` and ``deployment_changes`` by ``records`` (in the caller's
    transaction). Lead times are stored per change and, per deployment, as a float64 array."""
    conn.execute(
        "DELETE FROM deployment_changes WHERE deployment_id IN (SELECT id FROM deployments WHERE repo_id = ?)", (repo_id,)
    )
    conn.execute("DELETE FROM deployments WHERE repo_id = ?", (repo_id,))
    conn.executemany(
        "INSERT INTO deployments(id, repo_id, sha, environment, status, deployed_at, service, source, tag, "
        "change_count, is_hotfix, has_revert, during_incident, failed, failure_signal, failure_evidence, recovery_hours,"
        " lead_times) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            (
                d.id, repo_id, d.sha, d.environment, d.status, d.deployed_at, d.service, d.source, d.tag, d.change_count,
                int(d.is_hotfix), int(d.has_revert), int(d.during_incident), int(d.failed), d.failure_signal,
                d.failure_evidence, d.recovery_hours,
                np.asarray(d.lead_times_hours, dtype="<f8").tobytes() if len(d.lead_times_hours) else None,
            )
            for d in records
        ],
    )
    index = graph.index
    author_times = graph.author_times
    conn.executemany(
        "INSERT INTO deployment_changes(deployment_id, sha, author_time, lead_time_hours) VALUES (?, ?, ?, ?)",
        [
            (d.id, sha, author_times[index[sha]], lead)
            for d in records
            if len(d.lead_times_hours)
            for sha, lead in zip(d.changes, d.lead_times_hours, strict=True)
        ],
    )
