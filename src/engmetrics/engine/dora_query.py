"""Load the derived deployments of a window (and the one before) and summarise them as a `DoraReport`."""

from __future__ import annotations

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
        f" d.recovery_hours, d.lead_times FROM deployments d JOIN repositories r ON r.id = d.repo_id WHERE {where}",
        args,
    ).fetchall()
    return [
        DeploymentRecord(
            id=r[0], repo=r[1], sha=r[2], deployed_at=r[3], environment=r[4], status=r[5], service=r[6],
            source=r[7], tag=r[8], lead_times_hours=_EMPTY if r[16] is None else np.frombuffer(r[16], dtype="<f8"),
            is_hotfix=bool(r[10]),
            has_revert=bool(r[11]), failed=bool(r[12]), failure_signal=r[13], failure_evidence=r[14],
            recovery_hours=r[15],
        )
        for r in rows
    ]


def dora_report(
    store: Store,
    window: Window,
    repo_ids: list[int] | None,
    benchmark_year: int,
    repo: str | None = None,
    team: str | None = None,
    tag_pattern: str | None = None,
) -> DoraReport:
    """The DORA report for ``window`` over ``repo_ids`` (None: all), trended against the previous window."""
    previous = window.previous()
    records = load_deployments(store, previous.start_ts, window.end_ts, repo_ids)
    from engmetrics.engine.features.flow import apply_pr_lead_times

    definition = apply_pr_lead_times(store, records)  # PR data: first commit → deployment (DevLake)
    report = summarize(records, window, previous, benchmark_year, repo=repo, team=team, tag_pattern=tag_pattern)
    if definition is not None:
        report.lead_time.definition = definition
        report.notes.append("Lead time follows PRs: first commit of each PR a deployment shipped → that deployment.")
    return report
