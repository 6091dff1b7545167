"""Deployments and incidents as plain records, and which deployments failed or were rework (`mark_failures`)."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

import numpy as np
import numpy.typing as npt

from engmetrics.areas.dora.metrics.graph import CommitGraph
from engmetrics.areas.dora.metrics.tags import is_patch_release
from engmetrics.commits import is_fix, is_revert
from engmetrics.filekinds import is_product
from engmetrics.areas.dora.models import FailureSignal

FloatArray = npt.NDArray[np.float64]
"""Lead times as stored (float64, hours): what `queries.load_deployment_columns` reads back."""

HOTFIX_WINDOW_HOURS = 72.0
PRODUCTION_ENVIRONMENTS = frozenset({"production", "prod"})


def is_dora_deployment(environment: str | None, status: str | None) -> bool:
    """Whether a deployment counts for DORA: status 'success' in a production environment."""
    return (status or "").lower() == "success" and (environment or "").strip().lower() in PRODUCTION_ENVIRONMENTS


@dataclass(slots=True)
class DeploymentRecord:
    """A deployment with what it shipped and how it was marked. Times are Unix seconds.

    ``changes`` are the shas shipped (empty for unknown commits); ``lead_times_hours`` holds
    (deployed_at − author_time)/3600 per change — empty for the first deployment of a sequence.
    The failure fields are filled by `mark_failures`.
    """

    id: str
    repo: str
    sha: str
    deployed_at: int
    environment: str = "production"
    status: str = "success"
    service: str | None = None
    source: str = "tag"
    tag: str | None = None
    changes: tuple[str, ...] = ()
    lead_times_hours: Sequence[float] | FloatArray = ()
    first: bool = False
    is_hotfix: bool = False
    has_revert: bool = False
    during_incident: bool = False
    failed: bool = False
    failure_signal: FailureSignal | None = None
    failure_evidence: str | None = None
    failure_start: int | None = None
    recovery_hours: float | None = None

    @property
    def counts(self) -> bool:
        """Whether it is a DORA deployment (successful, production)."""
        return is_dora_deployment(self.environment, self.status)

    @property
    def unplanned(self) -> bool:
        """Rework: it ships a remedy (a revert of an earlier deployment's product change, a hotfix release)
        or was made while an incident attributed to an earlier deployment was open."""
        return self.is_hotfix or self.has_revert or self.during_incident

    @property
    def rework_signal(self) -> str | None:
        """Why it is rework: 'revert', 'hotfix' or 'incident' (the first that applies), else None."""
        if self.has_revert:
            return "revert"
        if self.is_hotfix:
            return "hotfix"
        return "incident" if self.during_incident else None

    @property
    def change_count(self) -> int:
        """Number of commits shipped."""
        return len(self.changes)


@dataclass(frozen=True, slots=True)
class IncidentRecord:
    """A production incident. ``repo`` None means "not tied to a repository"."""

    id: str
    started_at: int
    resolved_at: int | None = None
    repo: str | None = None
    deployment_id: str | None = None
    sha: str | None = None
    service: str | None = None


@dataclass(slots=True)
class _Mark:
    signal: FailureSignal
    evidence: str
    start: int
    recovery_hours: float | None
    restored_at: float  # for choosing between revert and hotfix: earliest restore wins (inf if none)


def _hours(seconds: float) -> float:
    return seconds / 3600.0


def _sequence_key(d: DeploymentRecord) -> tuple[str, str | None]:
    return (d.repo, d.service)


def is_product_change(paths: Sequence[str] | None) -> bool:
    """Whether a commit that changed ``paths`` is a product change: at least one file that is not
    documentation, tests, CI configuration or repository metadata (`engmetrics.filekinds`). Unknown files
    (None: a merge commit, or a commit whose diff was not read) count as a product change."""
    if paths is None:
        return True
    return any(is_product(p) for p in paths)


def mark_failures(
    deployments: Sequence[DeploymentRecord],
    graph: CommitGraph | None = None,
    incidents: Sequence[IncidentRecord] = (),
    *,
    changed_paths: Mapping[str, Sequence[str]] | None = None,
    hotfix_window_hours: float = HOTFIX_WINDOW_HOURS,
    tag_pattern: str | None = None,
    time_attribution_without_repo: bool = True,
) -> list[DeploymentRecord]:
    """New records (same order) with failures and rework marks set. Only DORA deployments (successful,
    production) are marked; others come back unchanged apart from cleared marks.

    ``changed_paths`` maps a commit sha to the files it changed (only reverted commits are looked up); a
    commit absent from it counts as a product change (`is_product_change`).

    A deployment D fails when:

    (a) **incident** — an incident is attributed to it: explicitly by ``deployment_id`` (any known
        deployment), else by its root-cause ``sha`` being among the deployment's changes (the earliest
        deployment that shipped it), else by time: the latest deployment of the incident's
        repository (and service, when both name one) at or before the incident's start — i.e. the
        incident started after it and before the next one. Incidents without a repository are
        attributed by time only when ``time_attribution_without_repo``. Several incidents on one
        deployment: the earliest-started decides. Failure start = incident start; recovery =
        resolved − started in hours, None while open.
    (b) **revert** — a commit that D shipped is reverted (each "This reverts commit <sha>" line of a message
        counts) by a commit shipped by a LATER deployment R of the same repository/service, and the reverted
        commit is a product change. A revert of a commit D did not ship — made inside a PR before it
        merged, shipped together with its target, or naming a commit not in the history (squashed away) —
        marks nothing; neither does a revert not yet deployed. Recovery = R − D.
    (c) **hotfix** — the next deployment of the same repository/service, within ``hotfix_window_hours``
        (72 h), is a hotfix: for tags, a patch release of it (same major.minor, higher patch) whose
        changes are all fixes or reverts; for deployments without a tag, one whose shipped changes are
        all fixes or reverts. Neutral (ignored, but not enough alone): merge commits, and reverts of a
        change shipped by an older deployment (the revert rule blames that one).
        Recovery = the hotfix deployment − the failed one.

    The incident signal decides over the others; between revert and hotfix, the one restoring first
    (tie: revert).

    **Rework** (DORA 2024's deployment rework rate): a deployment that ships a remedy — ``has_revert``: it
    ships the revert of an earlier deployment's product change, as in (b); ``is_hotfix``: it is a hotfix
    release, as in (c); ``during_incident``: it was made while an incident attributed to an earlier
    deployment of the same repository/service was open (started at or before it, not resolved before it).
    A planned release that merely contains a revert is not rework.
    """
    records = [
        replace(
            d,
            is_hotfix=False,
            has_revert=False,
            during_incident=False,
            failed=False,
            failure_signal=None,
            failure_evidence=None,
            failure_start=None,
            recovery_hours=None,
        )
        for d in deployments
    ]
    counted = [k for k, d in enumerate(records) if d.counts]
    marks: dict[int, _Mark] = {}
    paths = changed_paths or {}

    # Sequences of DORA deployments per repository/service, in time order.
    sequences: dict[tuple[str, str | None], list[int]] = {}
    for k in sorted(counted, key=lambda k: (records[k].deployed_at, records[k].id)):
        sequences.setdefault(_sequence_key(records[k]), []).append(k)

    def offer(k: int, mark: _Mark) -> None:
        old = marks.get(k)
        if old is None or mark.restored_at < old.restored_at or (
            mark.restored_at == old.restored_at and mark.signal == "revert" and old.signal == "hotfix"
        ):
            marks[k] = mark

    if graph is not None:
        reverts = graph.revert_targets
        for seq in sequences.values():
            # sha → position in the sequence of the first deployment shipping it
            first_ship: dict[str, int] = {}
            for pos, k in enumerate(seq):
                for sha in records[k].changes:
                    first_ship.setdefault(sha, pos)
            # (b) reverts shipped by a later deployment than the one that shipped their target
            for pos, k in enumerate(seq):
                d = records[k]
                for sha in d.changes:
                    ci = graph.index.get(sha)
                    if ci is None:
                        continue
                    for target in reverts.get(ci, ()):
                        tpos = first_ship.get(target)
                        if tpos is None or tpos >= pos or not is_product_change(paths.get(target)):
                            continue
                        d.has_revert = True
                        fd = records[seq[tpos]]
                        offer(
                            seq[tpos],
                            _Mark("revert", sha, fd.deployed_at, _hours(d.deployed_at - fd.deployed_at), d.deployed_at),
                        )
            # (c) hotfixes
            window = hotfix_window_hours * 3600.0
            for pos in range(1, len(seq)):
                prev_d, d = records[seq[pos - 1]], records[seq[pos]]
                if d.first or not d.changes or not 0 <= d.deployed_at - prev_d.deployed_at <= window:
                    continue
                if d.tag is not None or prev_d.tag is not None:
                    if not is_patch_release(prev_d.tag, d.tag, tag_pattern):
                        continue
                if not _all_fixes(graph, d.changes, first_ship, pos - 1):
                    continue
                d.is_hotfix = True
                offer(
                    seq[pos - 1],
                    _Mark(
                        "hotfix",
                        d.tag or d.id,
                        prev_d.deployed_at,
                        _hours(d.deployed_at - prev_d.deployed_at),
                        d.deployed_at,
                    ),
                )

    # (a) incidents decide
    by_id = {d.id: k for k, d in enumerate(records)}
    ship_index: dict[str, int] = {}
    for k in sorted(counted, key=lambda k: (records[k].deployed_at, records[k].id)):
        for sha in records[k].changes:
            ship_index.setdefault(sha, k)
    repos = {records[k].repo for k in counted}
    incident_marks: dict[int, IncidentRecord] = {}
    attributed: list[tuple[int, IncidentRecord]] = []
    for inc in sorted(incidents, key=lambda x: (x.started_at, x.id)):
        blamed = _attribute(inc, records, counted, by_id, ship_index, repos, graph, time_attribution_without_repo)
        if blamed is None:
            continue
        attributed.append((blamed, inc))
        incident_marks.setdefault(blamed, inc)
    for k, inc in incident_marks.items():
        recovery = None if inc.resolved_at is None else max(0.0, _hours(inc.resolved_at - inc.started_at))
        marks[k] = _Mark("incident", inc.id, inc.started_at, recovery, inc.resolved_at or math.inf)

    # Rework: deployed while an incident attributed to an earlier deployment of the same sequence was open.
    for blamed, inc in attributed:
        culprit = records[blamed]
        if not culprit.counts:
            continue
        closes = math.inf if inc.resolved_at is None else inc.resolved_at
        for k in sequences.get(_sequence_key(culprit), ()):
            d = records[k]
            if (d.deployed_at, d.id) > (culprit.deployed_at, culprit.id) and inc.started_at <= d.deployed_at < closes:
                d.during_incident = True

    for k, mark in marks.items():
        d = records[k]
        if not d.counts and mark.signal != "incident":
            continue
        d.failed = True
        d.failure_signal = mark.signal
        d.failure_evidence = mark.evidence
        d.failure_start = mark.start
        d.recovery_hours = None if mark.recovery_hours is None else round(mark.recovery_hours, 4)
    return records


def _all_fixes(graph: CommitGraph, changes: Sequence[str], first_ship: Mapping[str, int], prev_pos: int) -> bool:
    """Whether ``changes`` make a hotfix of the deployment at ``prev_pos``: every change is a fix or a
    revert, with at least one that is not neutral. Neutral: merge commits, and reverts of changes all
    shipped by another deployment than ``prev_pos`` (that deployment is blamed by the revert rule)."""
    seen = False
    reverts = graph.revert_targets
    for sha in changes:
        ci = graph.index.get(sha)
        if ci is None:
            return False
        if graph.is_merge(ci):
            continue
        targets = reverts.get(ci, ())
        if targets and all(first_ship.get(t, prev_pos) != prev_pos for t in targets):
            continue
        if ci in reverts or is_revert(graph.subjects[ci]) or is_fix(graph.subjects[ci]):
            seen = True
            continue
        return False
    return seen


def _attribute(
    inc: IncidentRecord,
    records: list[DeploymentRecord],
    counted: list[int],
    by_id: Mapping[str, int],
    ship_index: Mapping[str, int],
    repos: set[str],
    graph: CommitGraph | None,
    time_attribution_without_repo: bool,
) -> int | None:
    if inc.deployment_id and inc.deployment_id in by_id:
        return by_id[inc.deployment_id]
    if inc.repo is not None and inc.repo not in repos:
        return None
    if inc.sha:
        sha = graph.resolve(inc.sha) if graph is not None else inc.sha.lower()
        if sha and sha in ship_index:
            return ship_index[sha]
    if inc.deployment_id:
        return None  # it names a deployment we do not have: never guess one by time
    if inc.repo is None and not time_attribution_without_repo:
        return None
    best: int | None = None
    for k in counted:
        d = records[k]
        if inc.repo is not None and d.repo != inc.repo:
            continue
        if inc.service and d.service and inc.service != d.service:
            continue
        if d.deployed_at <= inc.started_at and (
            best is None or (d.deployed_at, d.id) > (records[best].deployed_at, records[best].id)
        ):
            best = k
    return best
