"""Load the derived deployments of a window (and the one before) and summarise them as a `DoraReport`."""

from __future__ import annotations

import sqlite3
from collections import defaultdict

import numpy as np

from engmetrics.metrics.dora import PRODUCTION_ENVIRONMENTS, DeploymentRecord, summarize
from engmetrics.models import DoraReport
from engmetrics.periods import Window
from engmetrics.store.db import Store, repo_filter

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


def pr_lead_times(conn: sqlite3.Connection, records: list[DeploymentRecord]) -> dict[str, list[float]] | None:
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


def repos_without_incidents(conn: sqlite3.Connection, records: list[DeploymentRecord]) -> list[str]:
    """Names of the repositories among ``records`` for which the store holds no incident at all (neither one
    naming the repository nor one without a repository)."""
    if conn.execute("SELECT 1 FROM incidents WHERE repo_id IS NULL LIMIT 1").fetchone() is not None:
        return []
    with_incidents = {
        r[0] for r in conn.execute("SELECT DISTINCT r.name FROM incidents i JOIN repositories r ON r.id = i.repo_id")
    }
    return sorted({r.repo for r in records} - with_incidents)


def dora_report(
    store: Store,
    window: Window,
    repo_ids: list[int] | None,
    benchmark_year: int,
    repo: str | None = None,
    team: str | None = None,
    tag_pattern: str | None = None,
) -> DoraReport:
    """The DORA report for ``window`` over ``repo_ids`` (None: all), trended against the previous window.

    Lead time is per commit; the pull-request view is `lead_time.by_pull_request`, over the same deployments.
    """
    previous = window.previous()
    records = load_deployments(store, previous.start_ts, window.end_ts, repo_ids)
    conn = store.read()
    current = [r for r in records if window.start_ts <= r.deployed_at < window.end_ts]
    return summarize(
        records, window, previous, benchmark_year, repo=repo, team=team, tag_pattern=tag_pattern,
        pr_lead_times=pr_lead_times(conn, records),
        without_incident_data=repos_without_incidents(conn, current),
    )
