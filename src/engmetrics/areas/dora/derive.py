"""Derive a repository's effective deployments, what each shipped, and which failed.

Reads the stored events (commits, tags, deployment_events, incidents) and rewrites the derived tables
``deployments`` and ``deployment_changes`` for one repository in one transaction. Running it twice
gives the same rows (idempotent); a crash leaves the previous rows.

Rules (definitions in `engmetrics.areas.dora.metrics`):

- **Effective deployments**: the repository's explicit ``deployment_events`` if it has any (any
  environment or status — they take precedence over tags); otherwise its release tags (the tag rule,
  `metrics.tags.is_release_tag`, default semantic versions without pre-releases), each as id
  ``tag:<repo_id>:<tag>``, environment ``production``, status ``success``, ``deployed_at`` = the tag's
  time, source ``tag``. Several release tags on one commit are one deployment (the earliest tag; tie:
  the name sorting first). Event shas given as unique prefixes are resolved to full shas.
- **Changes**: per sequence of successful deployments of the same service and environment, in time
  order, the commits reachable from each and from no earlier one (`metrics.graph.assign_changes`). ``change_count`` is stored for every deployment;
  a failed-status deployment shipped nothing (0). Only DORA deployments (successful, production) get
  rows in ``deployment_changes`` (sha, author_time, lead_time_hours = (deployed_at − author_time)/3600,
  stored as computed, negative values included — the metric drops non-positive ones), and the first
  deployment of a sequence gets none: it counts for frequency, not for lead time.
- **Failures and rework**: `metrics.failures.mark_failures` over the DORA deployments with the files each reverted
  commit changed (a revert of a docs/tests/CI/metadata-only commit marks nothing) and the repository's
  incidents (plus incidents without a repository; those are attributed by time only when the store holds a single repository). Failed-status and non-production deployments are stored but
  never counted by the DORA figures.
"""

from __future__ import annotations

import logging
import time

from engmetrics.areas.dora import queries
from engmetrics.areas.dora.metrics.failures import DeploymentRecord, is_dora_deployment, mark_failures
from engmetrics.areas.dora.metrics.graph import CommitGraph, assign_changes
from engmetrics.areas.dora.metrics.tags import compile_tag_pattern
from engmetrics.store.db import Store
from engmetrics.store.connection import Connection

log = logging.getLogger(__name__)


def tag_deployments(tags: list[tuple[str, str, int]], repo_id: int, repo_name: str,
                    tag_pattern: str | None) -> list[DeploymentRecord]:
    """One deployment per commit carrying release tags ``(name, sha, tag_time)``: the earliest tag (tie: the
    name sorting first), at the tag's time."""
    rx = compile_tag_pattern(tag_pattern)
    by_sha: dict[str, tuple[int, str]] = {}
    for name, sha, tag_time in tags:
        if rx.fullmatch(name.strip()) is None:
            continue
        key = (int(tag_time), name)
        if sha not in by_sha or key < by_sha[sha]:
            by_sha[sha] = key
    return [
        DeploymentRecord(
            id=f"tag:{repo_id}:{name}", repo=repo_name, sha=sha, deployed_at=tag_time, environment="production",
            status="success", source="tag", tag=name,
        )
        for sha, (tag_time, name) in by_sha.items()
    ]


def compute_repository(
    conn: Connection, repo_id: int, tag_pattern: str | None = None
) -> tuple[list[DeploymentRecord], CommitGraph]:
    """The repository's effective deployments with changes, lead times and failure marks (nothing written).

    Deployments come back in time order (``deployed_at``, then id).
    """
    repo_name = queries.repository_name(conn, repo_id)
    graph = queries.load_graph(conn, repo_id)
    records = queries.event_deployments(conn, repo_id, repo_name, graph)
    if not records:
        records = tag_deployments(queries.tags(conn, repo_id), repo_id, repo_name, tag_pattern)
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

    reverted = sorted({t for ts in graph.revert_targets.values() for t in ts})
    marked = mark_failures(
        records,
        graph,
        queries.incidents_for(conn, repo_id, repo_name),
        changed_paths=queries.changed_paths(conn, repo_id, reverted),
        tag_pattern=tag_pattern,
        time_attribution_without_repo=queries.repository_count(conn) == 1,
    )
    return marked, graph


def derive_in(conn: Connection, repo_id: int, tag_pattern: str | None = None) -> tuple[list[DeploymentRecord], CommitGraph]:
    """Rebuild one repository's derived deployments inside the caller's open transaction ``conn`` (so a write of
    events and its derivation commit together: no reader sees the one without the other); the records and graph."""
    records, graph = compute_repository(conn, repo_id, tag_pattern)
    queries.replace_derived(conn, repo_id, records, graph)
    return records, graph


def derive_repository(store: Store, repo_id: int, tag_pattern: str | None = None) -> int:
    """Rebuild ``deployments`` and ``deployment_changes`` for one repository in one transaction.

    Returns the number of DORA deployments (successful, production) now derived for it. Raises
    `NotFound` for an unknown repository and `InvalidInput` for an invalid ``tag_pattern``.
    """
    started = time.perf_counter()
    with store.tx() as c:
        records, graph = derive_in(c, repo_id, tag_pattern)
    counted = sum(1 for d in records if is_dora_deployment(d.environment, d.status))
    log.info(
        "derived repo %s: %d deployments (%d counted) over %d commits in %.2fs",
        repo_id, len(records), counted, len(graph), time.perf_counter() - started,
    )
    return counted


def derive_all(store: Store, tag_pattern: str | None = None) -> dict[int, int]:
    """`derive_repository` for every repository; returns {repo_id: DORA deployments}."""
    return {repo_id: derive_repository(store, repo_id, tag_pattern) for repo_id in queries.repository_ids(store.read())}
