"""Derive a repository's effective deployments, what each shipped, and which failed.

Reads the stored events (commits, tags, deployment_events, incidents) and rewrites the derived tables
``deployments`` and ``deployment_changes`` for one repository in one transaction. Running it twice
gives the same rows (idempotent); a crash leaves the previous rows.

Rules (definitions in `engmetrics.metrics.dora`):

- **Effective deployments**: the repository's explicit ``deployment_events`` if it has any (any
  environment or status — they take precedence over tags); otherwise its release tags (the tag rule,
  `dora.is_release_tag`, default semantic versions without pre-releases), each as id
  ``tag:<repo_id>:<tag>``, environment ``production``, status ``success``, ``deployed_at`` = the tag's
  time, source ``tag``. Several release tags on one commit are one deployment (the earliest tag; tie:
  the name sorting first). Event shas given as unique prefixes are resolved to full shas.
- **Changes**: per sequence of successful deployments of the same service and environment, in time
  order, the commits reachable from each and from no earlier one (`dora.assign_changes`). ``change_count`` is stored for every deployment; a
  failed-status deployment shipped nothing (0). Only DORA deployments (successful, production) get
  rows in ``deployment_changes`` (sha, author_time, lead_time_hours = (deployed_at − author_time)/3600,
  stored as computed, negative values included — the metric drops non-positive ones), and the first
  deployment of a sequence gets none: it counts for frequency, not for lead time.
- **Failures and rework**: `dora.mark_failures` over the DORA deployments with the files each reverted
  commit changed (a revert of a docs/tests/CI/metadata-only commit marks nothing) and the repository's incidents (plus incidents without a repository; those are attributed by time only when
  the store holds a single repository). Failed-status and non-production deployments are stored but
  never counted by the DORA figures.
"""

from __future__ import annotations

import logging
import sqlite3
import time

import numpy as np

from engmetrics.errors import NotFound
from engmetrics.metrics.dora import (
    CommitGraph,
    DeploymentRecord,
    IncidentRecord,
    assign_changes,
    compile_tag_pattern,
    is_dora_deployment,
    mark_failures,
)
from engmetrics.store.db import Store

log = logging.getLogger(__name__)


def load_graph(conn: sqlite3.Connection, repo_id: int) -> CommitGraph:
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


def _event_deployments(conn: sqlite3.Connection, repo_id: int, repo_name: str, graph: CommitGraph) -> list[DeploymentRecord]:
    out = []
    for r in conn.execute(
        "SELECT id, sha, environment, status, deployed_at, service FROM deployment_events WHERE repo_id = ?",
        (repo_id,),
    ):
        sha = (r[1] or "").strip().lower()
        sha = graph.resolve(sha) or sha
        out.append(
            DeploymentRecord(
                id=r[0],
                repo=repo_name,
                sha=sha,
                deployed_at=int(r[4]),
                environment=(r[2] or "production").strip().lower(),
                status=(r[3] or "success").strip().lower(),
                service=r[5],
                source="event",
            )
        )
    return out


def _tag_deployments(
    conn: sqlite3.Connection, repo_id: int, repo_name: str, tag_pattern: str | None
) -> list[DeploymentRecord]:
    rx = compile_tag_pattern(tag_pattern)
    by_sha: dict[str, tuple[int, str]] = {}
    for name, sha, tag_time in conn.execute("SELECT name, sha, tag_time FROM tags WHERE repo_id = ?", (repo_id,)):
        if rx.fullmatch(name.strip()) is None:
            continue
        key = (int(tag_time), name)
        if sha not in by_sha or key < by_sha[sha]:
            by_sha[sha] = key
    return [
        DeploymentRecord(
            id=f"tag:{repo_id}:{name}",
            repo=repo_name,
            sha=sha,
            deployed_at=tag_time,
            environment="production",
            status="success",
            source="tag",
            tag=name,
        )
        for sha, (tag_time, name) in by_sha.items()
    ]


def _incidents(conn: sqlite3.Connection, repo_id: int, repo_name: str) -> list[IncidentRecord]:
    rows = conn.execute(
        "SELECT id, started_at, resolved_at, repo_id, deployment_id, sha, service FROM incidents "
        "WHERE repo_id = ? OR repo_id IS NULL",
        (repo_id,),
    ).fetchall()
    return [
        IncidentRecord(
            id=r[0],
            started_at=int(r[1]),
            resolved_at=None if r[2] is None else int(r[2]),
            repo=repo_name if r[3] is not None else None,
            deployment_id=r[4],
            sha=r[5],
            service=r[6],
        )
        for r in rows
    ]


def _reverted_paths(conn: sqlite3.Connection, repo_id: int, graph: CommitGraph) -> dict[str, list[str]]:
    """{sha: files it changed} for every commit some commit reverts (merges and unread diffs are absent, so
    they count as product changes)."""
    targets = sorted({t for ts in graph.revert_targets.values() for t in ts})
    out: dict[str, list[str]] = {}
    for k in range(0, len(targets), 500):
        chunk = targets[k : k + 500]
        for sha, path in conn.execute(
            f"SELECT sha, path FROM file_changes WHERE repo_id = ? AND sha IN ({','.join('?' * len(chunk))})",
            [repo_id, *chunk],
        ):
            out.setdefault(sha, []).append(path)
    return out


def compute_repository(
    conn: sqlite3.Connection, repo_id: int, tag_pattern: str | None = None
) -> tuple[list[DeploymentRecord], CommitGraph]:
    """The repository's effective deployments with changes, lead times and failure marks (nothing written).

    Deployments come back in time order (``deployed_at``, then id).
    """
    row = conn.execute("SELECT name FROM repositories WHERE id = ?", (repo_id,)).fetchone()
    if row is None:
        raise NotFound(f"No repository with id {repo_id}; run `engmetrics repos` to list them.")
    repo_name = row[0]
    graph = load_graph(conn, repo_id)
    records = _event_deployments(conn, repo_id, repo_name, graph)
    if not records:
        records = _tag_deployments(conn, repo_id, repo_name, tag_pattern)
    records.sort(key=lambda d: (d.deployed_at, d.id))

    # Change assignment per (service, environment) sequence of successful deployments.
    sequences: dict[tuple[str | None, str], list[int]] = {}
    for k, d in enumerate(records):
        if d.status == "success":
            sequences.setdefault((d.service, d.environment), []).append(k)
    shas = graph.shas
    author_times = graph.author_times
    for seq in sequences.values():
        shipped = assign_changes(graph, [records[k].sha for k in seq])
        for k, s in zip(seq, shipped, strict=True):
            d = records[k]
            d.changes = tuple(shas[c] for c in s.changes)
            d.first = s.first
            if not s.first and d.counts:
                at = d.deployed_at
                d.lead_times_hours = tuple((at - author_times[c]) / 3600.0 for c in s.changes)

    single_repo = conn.execute("SELECT COUNT(*) FROM repositories").fetchone()[0] == 1
    marked = mark_failures(
        records,
        graph,
        _incidents(conn, repo_id, repo_name),
        changed_paths=_reverted_paths(conn, repo_id, graph),
        tag_pattern=tag_pattern,
        time_attribution_without_repo=single_repo,
    )
    return marked, graph


def derive_repository(store: Store, repo_id: int, tag_pattern: str | None = None) -> int:
    """Rebuild ``deployments`` and ``deployment_changes`` for one repository in one transaction.

    Returns the number of DORA deployments (successful, production) now derived for it. Raises
    `NotFound` for an unknown repository and `InvalidInput` for an invalid ``tag_pattern``.
    """
    started = time.perf_counter()
    with store.tx() as c:
        records, graph = compute_repository(c, repo_id, tag_pattern)
        c.execute(
            "DELETE FROM deployment_changes WHERE deployment_id IN (SELECT id FROM deployments WHERE repo_id = ?)",
            (repo_id,),
        )
        c.execute("DELETE FROM deployments WHERE repo_id = ?", (repo_id,))
        c.executemany(
            "INSERT INTO deployments(id, repo_id, sha, environment, status, deployed_at, service, source, tag, "
            "change_count, is_hotfix, has_revert, during_incident, failed, failure_signal, failure_evidence, recovery_hours,"
            " lead_times) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (
                    d.id,
                    repo_id,
                    d.sha,
                    d.environment,
                    d.status,
                    d.deployed_at,
                    d.service,
                    d.source,
                    d.tag,
                    d.change_count,
                    int(d.is_hotfix),
                    int(d.has_revert),
                    int(d.during_incident),
                    int(d.failed),
                    d.failure_signal,
                    d.failure_evidence,
                    d.recovery_hours,
                    np.asarray(d.lead_times_hours, dtype="<f8").tobytes() if d.lead_times_hours else None,
                )
                for d in records
            ],
        )
        index = graph.index
        author_times = graph.author_times
        c.executemany(
            "INSERT INTO deployment_changes(deployment_id, sha, author_time, lead_time_hours) VALUES (?, ?, ?, ?)",
            [
                (d.id, sha, author_times[index[sha]], lead)
                for d in records
                if d.lead_times_hours
                for sha, lead in zip(d.changes, d.lead_times_hours, strict=True)
            ],
        )
    counted = sum(1 for d in records if is_dora_deployment(d.environment, d.status))
    log.info(
        "derived repo %s: %d deployments (%d counted) over %d commits in %.2fs",
        repo_id,
        len(records),
        counted,
        len(graph),
        time.perf_counter() - started,
    )
    return counted


def derive_all(store: Store, tag_pattern: str | None = None) -> dict[int, int]:
    """`derive_repository` for every repository; returns {repo_id: DORA deployments}."""
    ids = [r[0] for r in store.read().execute("SELECT id FROM repositories ORDER BY id").fetchall()]
    return {repo_id: derive_repository(store, repo_id, tag_pattern) for repo_id in ids}
