"""Every SQL statement of the DORA area: the events a repository's deployments are derived from and the derived
rows (`derive`), the deployments of a window with their lead times, PR lead times, and the lists.

Reads return typed records (`DeploymentRecord`, `IncidentRecord`, `CommitGraph`), the deployments of a window as
columns or already counted by the database (`DeploymentColumns`, `WindowDeployments`), or the public models.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from engmetrics.areas.dora.metrics.columns import DeploymentColumns, IntArray, WindowDeployments
from engmetrics.areas.dora.metrics.failures import DeploymentRecord, FloatArray, IncidentRecord
from engmetrics.areas.dora.metrics.graph import CommitGraph
from engmetrics.areas.dora.metrics.figures import PRODUCTION_ENVIRONMENTS
from engmetrics.errors import NotFound
from engmetrics.areas.dora.models import Deployment, Incident
from engmetrics.periods import iso
from engmetrics.queries import encode_cursor
from engmetrics.store.db import repo_filter
from engmetrics.store.connection import Connection, Row, dialect_of

_EMPTY: FloatArray = np.empty(0, dtype="<f8")
_NO_TIMES: IntArray = np.empty(0, dtype=np.int64)


def _dora_deployments(start_ts: int, end_ts: int, repo_ids: list[int] | None) -> tuple[str, list[Any]]:
    """The ``WHERE`` clause (over ``deployments d``) of the DORA deployments with ``deployed_at`` in
    ``[start_ts, end_ts)`` in ``repo_ids`` (None: all), and its parameters."""
    scope, args = repo_filter(repo_ids, "d.repo_id")
    where = "d.deployed_at >= ? AND d.deployed_at < ?" + scope
    where += f" AND d.status = 'success' AND d.environment IN ({','.join('?' * len(PRODUCTION_ENVIRONMENTS))})"
    return where, [start_ts, end_ts, *args, *sorted(PRODUCTION_ENVIRONMENTS)]


_FAILED_ONLY = ("d.id", "r.name", "d.sha", "d.environment", "d.status", "d.service", "d.source", "d.tag")
"""The columns `load_deployment_columns` reads for failed deployments only (NULL for the others)."""


def load_deployment_columns(conn: Connection, start_ts: int, end_ts: int,
                            repo_ids: list[int] | None) -> DeploymentColumns:
    """Successful production deployments with ``deployed_at`` in ``[start_ts, end_ts)`` as columns (for figures over
    many buckets): one statement, one row per deployment with only what the figures use (its stored lead times as
    one float64 array, in hours), the failed ones whole. No PR lead times."""
    where, args = _dora_deployments(start_ts, end_ts, repo_ids)
    rows = conn.execute(
        "SELECT d.deployed_at, d.lead_times, d.is_hotfix, d.has_revert, d.during_incident, d.failed, d.failure_signal,"
        " d.failure_evidence, d.recovery_hours, "
        + ", ".join(f"CASE WHEN d.failed <> 0 THEN {c} END" for c in _FAILED_ONLY)
        + f" FROM deployments d JOIN repositories r ON r.id = d.repo_id WHERE {where}",
        args,
    ).fetchall()
    if not rows:
        return DeploymentColumns(_NO_TIMES, np.empty(0, dtype=np.bool_), _EMPTY, _NO_TIMES)
    deployed_at, blobs, hotfix, revert, incident, failed, *_ = zip(*rows, strict=True)
    at = np.array(deployed_at, dtype=np.int64)
    unplanned = (np.array(hotfix, dtype=np.int64) | np.array(revert, dtype=np.int64) | np.array(incident, dtype=np.int64)) != 0
    lengths = np.fromiter((0 if b is None else len(b) // 8 for b in blobs), dtype=np.int64, count=len(blobs))
    leads = np.frombuffer(b"".join(b for b in blobs if b is not None), dtype="<f8")
    failures = tuple(
        DeploymentRecord(
            id=r[9], repo=r[10], sha=r[11], deployed_at=r[0], environment=r[12], status=r[13], service=r[14],
            source=r[15], tag=r[16], lead_times_hours=_EMPTY if r[1] is None else np.frombuffer(r[1], dtype="<f8"),
            is_hotfix=bool(r[2]), has_revert=bool(r[3]), during_incident=bool(r[4]), failed=True, failure_signal=r[6],
            failure_evidence=r[7], recovery_hours=r[8],
        )
        for r, f in zip(rows, failed, strict=True)
        if f
    )
    return DeploymentColumns(
        deployed_at=at, unplanned=unplanned, lead_times=leads,
        lead_deployed_at=np.repeat(at, lengths), failures=failures,
    )


_UTC_DAY = "(d.deployed_at - (d.deployed_at % 86400 + 86400) % 86400) / 86400"
"""The UTC day of ``d.deployed_at`` (days since 1970, floored also before it: ``%`` and ``/`` truncate on both stores)."""


def count_windows(conn: Connection, windows: Sequence[tuple[int, int]],
                  repo_ids: list[int] | None) -> list[WindowDeployments]:
    """The DORA deployments of each of the disjoint ``windows`` (``[start_ts, end_ts)``), counted by the database in
    one statement: one row per window and UTC day with its deployment count, rework count and every stored lead
    time of those deployments as one float64 array, and one row per failed deployment, whole. With the PR lead times
    of each window (`pr_lead_times`), or None for every window when the repositories of the deployments in
    ``[earliest start, latest end)`` have no PR data (`has_pull_requests`). The arrays are concatenated by each
    store's own aggregate (SQLite: ``group_concat`` of the blobs, kept as bytes by ``CAST … AS BLOB``; PostgreSQL:
    ``string_agg`` of ``bytea``)."""
    if not windows:
        return []
    ordered = sorted(windows)
    if any(a[1] > b[0] for a, b in zip(ordered, ordered[1:])):
        raise ValueError(f"windows overlap: {windows}")
    lo, hi = min(w[0] for w in windows), max(w[1] for w in windows)
    where, args = _dora_deployments(lo, hi, repo_ids)
    which = " ".join(f"WHEN d.deployed_at >= ? AND d.deployed_at < ? THEN {k}" for k in range(len(windows)))
    leads = (
        "CAST(group_concat(d.lead_times, '') AS BLOB)" if dialect_of(conn) == "sqlite"
        else "string_agg(d.lead_times, ''::bytea)"
    )
    window_of = f"CASE {which} ELSE -1 END"
    window_args = [t for w in windows for t in w]
    rows = conn.execute(
        # the failed deployments whole (``n`` 0: they are counted below with the others) …
        f"SELECT {window_of} AS w, {_UTC_DAY} AS utc_day, d.id, 0 AS n, 0 AS unplanned, d.lead_times, d.deployed_at,"
        " r.name, d.sha, d.environment, d.status, d.service, d.source, d.tag, d.is_hotfix, d.has_revert,"
        " d.during_incident, d.failure_signal, d.failure_evidence, d.recovery_hours"
        f" FROM deployments d JOIN repositories r ON r.id = d.repo_id WHERE {where} AND d.failed <> 0"
        # … and every deployment counted, per window and UTC day
        f" UNION ALL SELECT {window_of} AS w, {_UTC_DAY} AS utc_day, NULL, count(*),"
        " sum(CASE WHEN d.is_hotfix <> 0 OR d.has_revert <> 0 OR d.during_incident <> 0 THEN 1 ELSE 0 END),"
        f" {leads}, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL"
        f" FROM deployments d WHERE {where} GROUP BY w, utc_day",
        [*window_args, *args, *window_args, *args],
    ).fetchall()
    with_prs = has_pull_requests(conn, lo, hi, repo_ids)
    counted = []
    for k, (start_ts, end_ts) in enumerate(windows):
        mine = [r for r in rows if r[0] == k and r[2] is None]
        failed = [r for r in rows if r[0] == k and r[2] is not None]
        counted.append(WindowDeployments(
            deployments=sum(int(r[3]) for r in mine),
            days=len({r[1] for r in mine}),
            unplanned=sum(int(r[4]) for r in mine),
            lead_times=np.frombuffer(b"".join(r[5] for r in mine if r[5] is not None), dtype="<f8"),
            failures=tuple(
                DeploymentRecord(
                    id=r[2], repo=r[7], sha=r[8], deployed_at=r[6], environment=r[9], status=r[10], service=r[11],
                    source=r[12], tag=r[13], lead_times_hours=_EMPTY if r[5] is None else np.frombuffer(r[5], dtype="<f8"),
                    is_hotfix=bool(r[14]), has_revert=bool(r[15]), during_incident=bool(r[16]), failed=True,
                    failure_signal=r[17], failure_evidence=r[18], recovery_hours=r[19],
                )
                for r in failed
            ),
            pr_lead_times=pr_lead_times(conn, start_ts, end_ts, repo_ids) if with_prs else None,
        ))
    return counted


def has_pull_requests(conn: Connection, start_ts: int, end_ts: int, repo_ids: list[int] | None) -> bool:
    """Whether the repositories of the DORA deployments with ``deployed_at`` in ``[start_ts, end_ts)`` have PR data
    (a PR with its merge commit known)."""
    scope, scope_args = repo_filter(repo_ids, "r.id")
    where, args = _dora_deployments(start_ts, end_ts, None)
    found = conn.execute(  # per repository (a few hundred): a PR of its, and a deployment (deployments_by_repo)
        f"SELECT 1 FROM repositories r WHERE 1=1{scope}"
        " AND EXISTS (SELECT 1 FROM pull_requests p WHERE p.repo_id = r.id AND p.merge_sha IS NOT NULL)"
        f" AND EXISTS (SELECT 1 FROM deployments d WHERE d.repo_id = r.id AND {where}) LIMIT 1",
        [*scope_args, *args],
    ).fetchone()
    return found is not None


def pr_lead_times(conn: Connection, start_ts: int, end_ts: int, repo_ids: list[int] | None) -> FloatArray:
    """For the DORA deployments with ``deployed_at`` in ``[start_ts, end_ts)``: the hours from each PR's first commit
    to the deployment that shipped its merge (or squash) commit."""
    where, args = _dora_deployments(start_ts, end_ts, repo_ids)
    rows = conn.execute(
        "SELECT d.deployed_at, p.first_commit_at FROM deployments d"
        " JOIN deployment_changes dc ON dc.deployment_id = d.id"
        " JOIN pull_requests p ON p.repo_id = d.repo_id AND p.merge_sha = dc.sha"
        f" WHERE {where} AND p.first_commit_at IS NOT NULL",
        args,
    ).fetchall()
    if not rows:
        return _EMPTY
    deployed_at, first = (np.array(c, dtype=np.int64) for c in zip(*rows, strict=True))
    return (deployed_at - first) / 3600.0  # as (deployed_at - first) / 3600.0 per row: exact int64, one division


def first_commit_time(conn: Connection, repo_ids: list[int] | None) -> int | None:
    """The committer time of the oldest stored commit in ``repo_ids`` (None: every repository), or None."""
    where, args = repo_filter(repo_ids)
    value = conn.execute(f"SELECT min(committer_time) FROM commits WHERE 1=1{where}", args).fetchone()[0]
    return None if value is None else int(value)


def repos_without_incidents(conn: Connection, start_ts: int, end_ts: int, repo_ids: list[int] | None) -> list[str]:
    """Names of the repositories with a DORA deployment in ``[start_ts, end_ts)`` (in ``repo_ids``; None: all) for
    which the store holds no incident at all (neither one naming the repository nor one without a repository)."""
    if conn.execute("SELECT 1 FROM incidents WHERE repo_id IS NULL LIMIT 1").fetchone() is not None:
        return []
    scope, scope_args = repo_filter(repo_ids, "r.id")
    where, args = _dora_deployments(start_ts, end_ts, None)
    rows = conn.execute(  # per repository, its first deployment in the window (deployments_by_repo)
        f"SELECT r.name FROM repositories r WHERE 1=1{scope}"
        " AND NOT EXISTS (SELECT 1 FROM incidents i WHERE i.repo_id = r.id)"
        f" AND EXISTS (SELECT 1 FROM deployments d WHERE d.repo_id = r.id AND {where})",
        [*scope_args, *args],
    ).fetchall()
    return sorted(r[0] for r in rows)


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
