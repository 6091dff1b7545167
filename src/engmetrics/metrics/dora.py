"""DORA metrics as pure functions over plain dataclasses (no SQL, no MCP).

Definitions (DESIGN.md, "Definitions the numbers follow"):

- **Deployment**: a successful production deployment (``status == 'success'`` and an environment of
  ``production``/``prod``, see `is_dora_deployment`). Sources, in order of authority: explicit
  deployment events; otherwise release tags matching a pattern (`is_release_tag`), at the tag's time.
  Deployments with another status or environment are kept by `engmetrics.sources.derive` but never
  counted here.
- **Changes in a deployment**: the commits reachable from its commit and from no earlier deployment of
  the same repository/service (merges included) — `assign_changes`. On one release line this is
  ``git rev-list prev..this`` (`changes_between`); across interleaved release lines or after a rollback
  it avoids counting a commit twice. The first deployment of a repository/service ships everything
  reachable from it; it counts for frequency but contributes no lead times.
- **Deployment frequency**: deployments in the window ÷ the window's length in weeks; also distinct
  UTC days with a deployment ÷ weeks.
- **Lead time for changes**: per commit, the first deployment that ships it minus the commit's author time;
  median (and 85th percentile), in hours, over the commits shipped by deployments in the window; values
  ≤ 0 are dropped. Every shipped commit counts, PR or not. The pull-request view (a PR's first commit →
  the deployment that shipped its merge) is a separate figure (``pr_lead_times``), never a replacement.
- **Change failure rate**: failed deployments ÷ deployments in the window × 100. Failures are marked by
  `mark_failures` (incident, revert of a shipped product change, or hotfix signal). Without incident data
  it is a lower bound and says so.
- **Failed deployment recovery time**: median over failed deployments in the window with a known
  recovery, in hours: incident → resolved − started (None while open); revert/hotfix → the deployment
  that shipped the revert/hotfix − the failed deployment.
- **Deployment rework rate**: deployments that ship a remedy (the revert of an earlier deployment's
  product change, a hotfix release, or one made while an incident attributed to an earlier deployment was
  open) ÷ deployments × 100. A planned release that merely contains a revert is not rework.

Every figure is rounded to 2 decimals; a figure the data cannot give is None (null), never 0.
"""

from __future__ import annotations

import heapq
import math
import re
from bisect import bisect_left
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from functools import lru_cache

import numpy as np

from engmetrics.errors import InvalidInput
from engmetrics.filekinds import is_product
from engmetrics.metrics import ratings
from engmetrics.models import (
    ChangeFailureRate,
    DeploymentFailure,
    DeploymentFrequency,
    DoraReport,
    FailureSignal,
    LeadTime,
    Period,
    PullRequestLeadTime,
    RecoveryTime,
    ReworkRate,
    TrendDirection,
)
from engmetrics.periods import Window, iso

HOTFIX_WINDOW_HOURS = 72.0
STABLE_PERCENT = 5
MAX_FAILURES_LISTED = 20
PRODUCTION_ENVIRONMENTS = frozenset({"production", "prod"})

# --------------------------------------------------------------------------------------------------
# Release tags
# --------------------------------------------------------------------------------------------------

#: Default release-tag rule: an optional ``v``/``V`` or ``release-``/``release_``/``release/`` prefix
#: (itself optionally followed by ``v``), then 2 or 3 dot-separated numbers, and nothing after. Anything
#: with a suffix — ``-rc1``, ``rc1``, ``a1``, ``b2``, ``.dev0``, ``-alpha``, ``-beta``, ``-pre``,
#: ``-anything``, ``+build`` — is not a release (pre-releases excluded).
DEFAULT_TAG_PATTERN = r"(?:[vV]|release[-_/][vV]?)?(?P<major>\d+)\.(?P<minor>\d+)(?:\.(?P<patch>\d+))?"
DEFAULT_TAG_DESCRIPTION = "semantic versions such as v1.2.3 or 1.2 (pre-releases like -rc1, a1, b2, .dev0 excluded)"
_LOOSE_VERSION = re.compile(r"(\d+)\.(\d+)(?:\.(\d+))?")


@lru_cache(maxsize=64)
def compile_tag_pattern(pattern: str | None = None) -> re.Pattern[str]:
    """The compiled release-tag regex (None → `DEFAULT_TAG_PATTERN`); `InvalidInput` when it is not a regex.

    The whole tag name must match (``re.fullmatch``). A custom pattern replaces the default rule
    entirely, including the pre-release exclusion.
    """
    try:
        return re.compile(pattern or DEFAULT_TAG_PATTERN)
    except re.error as exc:
        raise InvalidInput(
            f"tag pattern {pattern!r} is not a valid regular expression ({exc}); "
            f"e.g. the default {DEFAULT_TAG_PATTERN!r}.",
            param="tag_pattern",
        ) from None


def is_release_tag(name: str, pattern: str | None = DEFAULT_TAG_PATTERN) -> bool:
    """Whether tag ``name`` is a release (a deployment when a repository has no explicit events).

    Default: ``v1.2.3``, ``1.2``, ``release-1.4.0`` are releases; ``v1.2.3-rc1``, ``1.2.0rc1``, ``2.0a1``,
    ``2.0b2``, ``1.0.dev0``, ``v1.0-beta``, ``v1.0.0-anything`` and non-versions are not.
    """
    return compile_tag_pattern(pattern).fullmatch(name.strip()) is not None


def parse_version(name: str, pattern: str | None = None) -> tuple[int, int, int] | None:
    """``(major, minor, patch)`` of a release tag (patch 0 when absent), or None.

    Uses the pattern's ``major``/``minor``/``patch`` groups when it has them, else the first
    ``N.N[.N]`` in the name.
    """
    m = compile_tag_pattern(pattern).fullmatch(name.strip())
    if m is not None and "major" in m.re.groupindex and m.group("major") is not None:
        patch = m.group("patch") if "patch" in m.re.groupindex else None
        return int(m.group("major")), int(m.group("minor") or 0), int(patch or 0)
    loose = _LOOSE_VERSION.search(name)
    if loose is None:
        return None
    return int(loose.group(1)), int(loose.group(2)), int(loose.group(3) or 0)


def is_patch_release(prev_name: str | None, name: str | None, pattern: str | None = None) -> bool:
    """Whether ``name`` is a patch release after ``prev_name``: same major.minor, higher patch."""
    if not prev_name or not name:
        return False
    a, b = parse_version(prev_name, pattern), parse_version(name, pattern)
    return a is not None and b is not None and a[:2] == b[:2] and b[2] > a[2]


# --------------------------------------------------------------------------------------------------
# Commit classification
# --------------------------------------------------------------------------------------------------

_FIX_CONVENTIONAL = re.compile(r"^\s*(?:fix|hotfix|bugfix|bug|patch)(?:\([^)]*\))?!?\s*:", re.IGNORECASE)
_FIX_WORD = re.compile(r"\b(?:fix|fixes|fixed|fixing|hotfix|hotfixes|bugfix|bugfixes|bug|bugs|patch|patched)\b", re.I)
_REVERTS = re.compile(r"This reverts commit ([0-9a-fA-F]{7,40})", re.IGNORECASE)
_REVERT_SUBJECT = re.compile(r"^\s*(?:Revert\s+\"|revert(?:\([^)]*\))?!?\s*:|Reapply\s+\"Revert)", re.IGNORECASE)


def is_fix(subject: str) -> bool:
    """Whether a commit subject describes a fix: conventional ``fix:``/``fix(x):``/``hotfix:``, or the
    words fix/fixes/fixed/hotfix/bugfix/bug/patch anywhere (case-insensitive)."""
    return bool(_FIX_CONVENTIONAL.match(subject) or _FIX_WORD.search(subject))


def reverted_sha(message: str) -> str | None:
    """The sha (7–40 hex digits, lower case) named by the first "This reverts commit <sha>." line, or None."""
    m = _REVERTS.search(message or "")
    return m.group(1).lower() if m else None


def reverted_shas(message: str) -> list[str]:
    """Every sha named by a "This reverts commit <sha>" line (a squash of several reverts names several),
    lower case, in order, without repeats."""
    return list(dict.fromkeys(m.group(1).lower() for m in _REVERTS.finditer(message or "")))


def is_revert(subject: str, message: str = "") -> bool:
    """Whether a commit is a revert: subject ``Revert "…"``/``revert:``, or a "This reverts commit" line."""
    return bool(_REVERT_SUBJECT.match(subject or "")) or reverted_sha(message) is not None


# --------------------------------------------------------------------------------------------------
# The commit graph and change assignment
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CommitInfo:
    """One commit as the DORA functions need it. Times are Unix seconds."""

    sha: str
    parents: tuple[str, ...] = ()
    author_time: int = 0
    subject: str = ""
    body: str = ""


class CommitGraph:
    """An in-memory parent graph of one repository's commits, indexed by integer.

    Parents not present (shallow history, missing objects) are ignored. Generation numbers
    (1 + the largest parent generation; roots 1) are computed on first need.
    """

    __slots__ = ("shas", "index", "parents", "author_times", "subjects", "bodies", "_generation", "_sorted", "_reverts")

    def __init__(self, commits: Iterable[CommitInfo]) -> None:
        rows = list(commits)
        self._setup(
            [c.sha for c in rows],
            [c.parents for c in rows],
            [c.author_time for c in rows],
            [c.subject for c in rows],
            [c.body for c in rows],
        )

    def _setup(
        self,
        shas: list[str],
        parent_shas: Sequence[Sequence[str]],
        author_times: list[int],
        subjects: list[str],
        bodies: list[str],
    ) -> None:
        self.shas = shas
        self.index = idx = {sha: i for i, sha in enumerate(shas)}
        get = idx.get
        self.parents = [
            () if not ps else (i,) if len(ps) == 1 and (i := get(ps[0])) is not None
            else tuple(j for p in ps if (j := get(p)) is not None)
            for ps in parent_shas
        ]
        self.author_times = author_times
        self.subjects = subjects
        self.bodies = bodies
        self._generation = None
        self._sorted = None
        self._reverts = None

    @classmethod
    def from_commits(cls, commits: Iterable[CommitInfo]) -> CommitGraph:
        """Build a graph from `CommitInfo` rows (any order)."""
        return cls(commits)

    @classmethod
    def from_columns(
        cls,
        shas: list[str],
        parents: Sequence[Sequence[str]],
        author_times: list[int],
        subjects: list[str],
        bodies: list[str],
    ) -> CommitGraph:
        """Build a graph from parallel lists (fast path for large histories; oldest first is fastest)."""
        graph = cls.__new__(cls)
        graph._setup(shas, parents, author_times, subjects, bodies)
        return graph

    def __len__(self) -> int:
        return len(self.shas)

    def __contains__(self, sha: object) -> bool:
        return sha in self.index

    def resolve(self, sha: str | None) -> str | None:
        """The full sha for ``sha`` or a unique prefix of at least 4 hex digits; None if unknown/ambiguous."""
        if not sha:
            return None
        s = sha.strip().lower()
        if s in self.index:
            return s
        if len(s) < 4:
            return None
        if self._sorted is None:
            self._sorted = sorted(self.shas)
        i = bisect_left(self._sorted, s)
        if i < len(self._sorted) and self._sorted[i].startswith(s):
            if i + 1 < len(self._sorted) and self._sorted[i + 1].startswith(s):
                return None
            return self._sorted[i]
        return None

    def message(self, i: int) -> str:
        """Subject and body of commit ``i``."""
        return f"{self.subjects[i]}\n\n{self.bodies[i]}"

    def is_merge(self, i: int) -> bool:
        """Whether commit ``i`` has two or more (known) parents."""
        return len(self.parents[i]) > 1

    @property
    def generation(self) -> list[int]:
        """Generation number per commit index (roots 1)."""
        if self._generation is None:
            gen = [0] * len(self.shas)
            parents = self.parents
            for start, ps in enumerate(parents):
                # One pass when parents come before children (oldest-first order); DFS otherwise.
                if not ps:
                    gen[start] = 1
                    continue
                g = 0
                for p in ps:
                    gp = gen[p]
                    if not gp:
                        break
                    if gp > g:
                        g = gp
                else:
                    gen[start] = g + 1
                    continue
                stack = [start]
                while stack:
                    node = stack[-1]
                    if gen[node]:
                        stack.pop()
                        continue
                    pending = [p for p in parents[node] if not gen[p]]
                    if pending:
                        stack.extend(pending)
                    else:
                        gen[node] = 1 + max((gen[p] for p in parents[node]), default=0)
                        stack.pop()
            self._generation = gen
        return self._generation

    def reachable(self, i: int, stop: bytearray | None = None) -> list[int]:
        """Indices of the commits reachable from ``i`` (itself included) and not in ``stop``.

        ``stop`` is a membership array (0/1 per index) closed under ancestry — the commits reachable from
        some other commit — so the result is exactly ``ancestors(i) − stop`` and the walk costs only
        the result's size. ``stop`` is left unchanged.
        """
        parents = self.parents
        if stop is None:
            mark = bytearray(len(self.shas))
            mark[i] = 1
            out = [i]
            stack = [i]
            while stack:
                for p in parents[stack.pop()]:
                    if not mark[p]:
                        mark[p] = 1
                        out.append(p)
                        stack.append(p)
            return out
        if stop[i]:
            return []
        stop[i] = 2
        out = [i]
        stack = [i]
        while stack:
            for p in parents[stack.pop()]:
                if not stop[p]:
                    stop[p] = 2
                    out.append(p)
                    stack.append(p)
        for n in out:
            stop[n] = 0
        return out

    @property
    def revert_targets(self) -> dict[int, tuple[str, ...]]:
        """For every commit with "This reverts commit <sha>" lines: the full shas it reverts that are in the
        graph (every line counts; a target not in the graph — e.g. a commit squashed away inside a PR — is
        left out, so the tuple may be empty). Computed once."""
        if self._reverts is None:
            targets: dict[int, tuple[str, ...]] = {}
            for ci, body in enumerate(self.bodies):
                if "evert" not in body and "EVERT" not in body:
                    continue  # cheap pre-filter: no "revert" in any case that git or people write
                named = reverted_shas(body)
                if not named:
                    continue
                targets[ci] = tuple(t for n in named if (t := self.resolve(n)) is not None)
            self._reverts = targets
        return self._reverts

    def paint(self, this: int, prev: int) -> tuple[list[int], list[int]]:
        """``(this..prev sides)``: commits reachable from ``this`` only, and from ``prev`` only.

        Git's paint-down walk with generation numbers: visit commits in decreasing generation, carrying
        flags "from this"/"from prev"; a commit carrying both is common and so are its ancestors; stop
        when only common commits are queued. Cost ∝ the commits between the two tips, not the history.
        """
        gen = self.generation
        parents = self.parents
        flags: dict[int, int] = {this: 1}
        flags[prev] = flags.get(prev, 0) | 2
        heap = [(-gen[this], this)]
        if prev != this:
            heap.append((-gen[prev], prev))
        heapq.heapify(heap)
        live = sum(1 for _, n in heap if flags[n] != 3)
        only_this: list[int] = []
        only_prev: list[int] = []
        while heap and live > 0:
            _, node = heapq.heappop(heap)
            f = flags[node]
            if f != 3:
                live -= 1
                (only_this if f == 1 else only_prev).append(node)
            for p in parents[node]:
                old = flags.get(p, 0)
                new = old | f
                if new == old:
                    continue
                flags[p] = new
                if old == 0:
                    heapq.heappush(heap, (-gen[p], p))
                    if new != 3:
                        live += 1
                elif new == 3 and old != 3:
                    live -= 1  # queued (not yet popped: its generation is lower) and now common
        return only_this, only_prev


def changes_between(graph: CommitGraph, this_sha: str, prev_sha: str | None) -> list[str]:
    """The shas reachable from ``this_sha`` and not from ``prev_sha`` (``git rev-list prev..this``, merges
    included); everything reachable when ``prev_sha`` is None. Unknown shas → `InvalidInput`."""
    this = graph.index.get(this_sha)
    if this is None:
        raise InvalidInput(f"commit {this_sha!r} is not in the stored history", param="sha")
    if prev_sha is None:
        out = graph.reachable(this)
        return [graph.shas[i] for i in out]
    prev = graph.index.get(prev_sha)
    if prev is None:
        raise InvalidInput(f"commit {prev_sha!r} is not in the stored history", param="sha")
    only_this, _ = graph.paint(this, prev)
    return [graph.shas[i] for i in only_this]


@dataclass(frozen=True, slots=True)
class Shipped:
    """What one deployment shipped: commit indices into the graph, and whether it was the first."""

    changes: tuple[int, ...]
    first: bool
    known: bool = True


def assign_changes(graph: CommitGraph, shas_in_time_order: Sequence[str | None]) -> list[Shipped]:
    """`Shipped` for each deployment of ONE repository/service sequence, in the order given (time order).

    A deployment ships the commits reachable from it and from **no earlier deployment of the sequence**.
    Where each deployment descends from the one before (one release line, the common case) this is
    exactly ``git rev-list prev..this``. Where it does not — two release lines whose tags interleave in
    time (v2.3.0, v1.9.5, v2.3.1), or a rollback and a redeploy — ``prev..this`` would count again every
    commit shipped since the lines forked (or since the rollback), inflating change counts and lead
    times; here a commit counts once, at the first deployment that shipped it. Cost ∝ the commits walked
    (a membership array of everything shipped so far). A deployment whose sha is not in the graph ships
    nothing (``known=False``). The first known deployment ships everything reachable and is flagged
    ``first`` (it contributes no lead times).
    """
    reached = bytearray(len(graph))
    seen_first = False
    out: list[Shipped] = []
    for sha in shas_in_time_order:
        i = graph.index.get(sha) if sha else None
        if i is None:
            out.append(Shipped((), False, False))
            continue
        changes = graph.reachable(i, reached)
        for c in changes:
            reached[c] = 1
        out.append(Shipped(tuple(changes), not seen_first))
        seen_first = True
    return out


# --------------------------------------------------------------------------------------------------
# Deployments, incidents and failure marking
# --------------------------------------------------------------------------------------------------


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
    lead_times_hours: tuple[float, ...] = ()
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
        target = _attribute(inc, records, counted, by_id, ship_index, repos, graph, time_attribution_without_repo)
        if target is None:
            continue
        attributed.append((target, inc))
        if target not in incident_marks:
            incident_marks[target] = inc
    for k, inc in incident_marks.items():
        recovery = None if inc.resolved_at is None else max(0.0, _hours(inc.resolved_at - inc.started_at))
        marks[k] = _Mark("incident", inc.id, inc.started_at, recovery, inc.resolved_at or math.inf)

    # Rework: deployed while an incident attributed to an earlier deployment of the same sequence was open.
    for target, inc in attributed:
        culprit = records[target]
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


# --------------------------------------------------------------------------------------------------
# Summary over a window
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class WindowFigures:
    """The raw figures for one window (unrounded, None where the data cannot give a value)."""

    deployments: int
    deploys_per_week: float | None
    deployment_days_per_week: float | None
    lead_time_median_hours: float | None
    lead_time_p85_hours: float | None
    lead_time_changes: int
    failed: int
    change_failure_rate_percent: float | None
    recovery_median_hours: float | None
    recovered: int
    unplanned: int
    rework_rate_percent: float | None
    failures: tuple[DeploymentRecord, ...] = field(default=())
    pr_lead_time_median_hours: float | None = None
    pr_lead_time_p85_hours: float | None = None
    pr_lead_time_prs: int = 0


def _positive(values: Iterable[Sequence[float]]) -> np.ndarray:
    arrays = [np.asarray(v, dtype=float) for v in values]
    leads = np.concatenate(arrays) if arrays else np.empty(0)
    return leads[leads > 0]


def window_figures(
    deployments: Iterable[DeploymentRecord],
    window: Window,
    pr_lead_times: Mapping[str, Sequence[float]] | None = None,
) -> WindowFigures:
    """The DORA figures of the DORA deployments with ``deployed_at`` in ``[window.start, window.end)``.

    Lead time is always per commit (``lead_times_hours``). ``pr_lead_times`` (deployment id → hours from
    each shipped PR's first commit to that deployment) gives the separate pull-request view; None: no PR data.
    """
    start, end = window.start_ts, window.end_ts
    inside = [d for d in deployments if d.counts and start <= d.deployed_at < end]
    n = len(inside)
    weeks = window.weeks
    if n == 0:
        return WindowFigures(0, None, None, None, None, 0, 0, None, None, 0, 0, None, ())
    days = {datetime.fromtimestamp(d.deployed_at, UTC).date() for d in inside}
    leads = _positive(d.lead_times_hours for d in inside)
    pr_leads = _positive(pr_lead_times.get(d.id, ()) for d in inside) if pr_lead_times is not None else np.empty(0)
    failed = [d for d in inside if d.failed]
    recoveries = np.array([d.recovery_hours for d in failed if d.recovery_hours is not None], dtype=float)
    unplanned = sum(1 for d in inside if d.unplanned)
    return WindowFigures(
        deployments=n,
        deploys_per_week=n / weeks if weeks > 0 else None,
        deployment_days_per_week=len(days) / weeks if weeks > 0 else None,
        lead_time_median_hours=float(np.median(leads)) if leads.size else None,
        lead_time_p85_hours=float(np.percentile(leads, 85)) if leads.size else None,
        lead_time_changes=int(leads.size),
        failed=len(failed),
        change_failure_rate_percent=100.0 * len(failed) / n,
        recovery_median_hours=float(np.median(recoveries)) if recoveries.size else None,
        recovered=int(recoveries.size),
        unplanned=unplanned,
        rework_rate_percent=100.0 * unplanned / n,
        failures=tuple(sorted(failed, key=lambda d: (d.deployed_at, d.id), reverse=True)),
        pr_lead_time_median_hours=float(np.median(pr_leads)) if pr_leads.size else None,
        pr_lead_time_p85_hours=float(np.percentile(pr_leads, 85)) if pr_leads.size else None,
        pr_lead_time_prs=int(pr_leads.size),
    )


def r2(value: float | None) -> float | None:
    """``value`` rounded to 2 decimals (None stays None)."""
    return None if value is None else round(value + 0.0, 2)


def trend(current: float | None, previous: float | None) -> tuple[str | None, float | None]:
    """``("+12%", 12.0)``: the relative change of ``current`` vs ``previous`` as an integer percent
    (half away from zero); ``(None, None)`` when either is None or ``previous`` is 0 (a relative
    change from nothing is undefined — no "new" marker is used)."""
    if current is None or previous is None or previous == 0:
        return None, None
    change = round((current - previous) / abs(previous) * 100.0, 9)  # no float noise at .5
    pct = int(math.floor(abs(change) + 0.5)) * (1 if change >= 0 else -1)
    return (f"+{pct}%" if pct > 0 else f"{pct}%"), float(pct)


def trend_direction(percent: float | None, higher_is_better: bool) -> TrendDirection | None:
    """'stable' within ±5% (inclusive), else 'improving'/'worsening' by the metric's polarity."""
    if percent is None:
        return None
    if abs(percent) <= STABLE_PERCENT:
        return "stable"
    return "improving" if (percent > 0) == higher_is_better else "worsening"


def _figure_fields(
    value: float | None, previous: float | None, metric: str | None, year: int, higher_is_better: bool
) -> dict[str, object]:
    v, p = r2(value), r2(previous)
    t, pct = trend(v, p)
    return {
        "value": v,
        "previous_value": p,
        "rating": ratings.rate(metric, v, year) if metric else None,
        "trend": t,
        "trend_direction": trend_direction(pct, higher_is_better),
    }


def _window_words(window: Window) -> str:
    return f"{iso(window.start_ts)} and {iso(window.end_ts)}"


def summarize(
    deployments: Sequence[DeploymentRecord],
    window: Window,
    previous: Window | None = None,
    benchmark_year: int | None = ratings.DEFAULT_YEAR,
    notes: Sequence[str] = (),
    *,
    repo: str | None = None,
    team: str | None = None,
    tag_pattern: str | None = None,
    pr_lead_times: Mapping[str, Sequence[float]] | None = None,
    without_incident_data: Sequence[str] = (),
) -> DoraReport:
    """The `DoraReport` for ``window`` (and the trend against ``previous``, default the window of equal
    length before it). ``deployments`` must cover both windows; only DORA deployments count.

    Deployment frequency (deploys/week) and deployment days per week; lead time median and p85 (hours,
    non-positive dropped, first deployments contribute none); change failure rate (percent) with the
    newest 20 failures; recovery median (hours, failures with a known recovery); rework rate (percent).
    Ratings from `engmetrics.metrics.ratings` for ``benchmark_year`` (rework rate: none). Trends are the
    relative change vs the previous window, as an integer percent; a figure that is null now or before
    (or 0 before) has no trend. A window without deployments gives nulls, not zeros, and a note.

    ``pr_lead_times`` (deployment id → PR lead times in hours; None without PR data) gives
    ``lead_time.by_pull_request``, a separate figure that never changes the per-commit lead time.
    ``without_incident_data`` names the repositories with no incident data: the change failure rate is then
    a lower bound (git signals only) and says so.
    """
    year = ratings.check_year(benchmark_year)
    previous = previous or window.previous()
    cur = window_figures(deployments, window, pr_lead_times)
    prev = window_figures(deployments, previous, pr_lead_times)
    out_notes = list(notes)
    if cur.deployments == 0:
        source = (
            f"release tags matching {tag_pattern!r}" if tag_pattern else f"release tags ({DEFAULT_TAG_DESCRIPTION})"
        )
        out_notes.append(
            f"No production deployments between {_window_words(window)}; deployments come from {source} "
            "or explicit events (`engmetrics deploy record`, CSV/JSON import), so every figure is null."
        )
    else:
        if cur.lead_time_median_hours is None:
            out_notes.append(
                "Lead time is null: no change with a positive lead time was shipped in the window "
                "(the first deployment of a repository has no lead times)."
            )
        if without_incident_data:
            names = ", ".join(sorted(without_incident_data))
            out_notes.append(
                f"No incident data for {names}: the change failure rate counts only git signals (reverts, "
                "hotfix releases) there, so it is a lower bound. Import incidents (`engmetrics import incidents`) "
                "or label GitHub issues to count incidents too."
            )
        if cur.failed == 0:
            out_notes.append("Recovery time is null: no failed deployments in the window.")
        elif cur.recovery_median_hours is None:
            out_notes.append("Recovery time is null: no failed deployment in the window has recovered yet.")

    freq = _figure_fields(cur.deploys_per_week, prev.deploys_per_week, "deployment_frequency", year, True)
    lead = _figure_fields(cur.lead_time_median_hours, prev.lead_time_median_hours, "lead_time", year, False)
    cfr = _figure_fields(cur.change_failure_rate_percent, prev.change_failure_rate_percent, "change_failure_rate", year, False)
    mttr = _figure_fields(cur.recovery_median_hours, prev.recovery_median_hours, "mttr", year, False)
    rework = _figure_fields(cur.rework_rate_percent, prev.rework_rate_percent, None, year, False)

    failures = [
        DeploymentFailure(
            deployment_id=d.id,
            repo=d.repo,
            deployed_at=iso(d.deployed_at) or "",
            signal=d.failure_signal or "incident",
            evidence=d.failure_evidence or "",
            recovery_hours=r2(d.recovery_hours),
        )
        for d in cur.failures[:MAX_FAILURES_LISTED]
    ]
    return DoraReport(
        period=_period(window),
        previous_period=_period(previous),
        repo=repo,
        team=team,
        benchmark_year=year,
        deployment_frequency=DeploymentFrequency(
            **freq, deployments=cur.deployments, deployment_days_per_week=r2(cur.deployment_days_per_week)
        ),
        lead_time=LeadTime(
            **lead,
            changes=cur.lead_time_changes,
            p85=r2(cur.lead_time_p85_hours),
            by_pull_request=None if pr_lead_times is None else _pr_lead_time(cur, prev),
        ),
        change_failure_rate=ChangeFailureRate(
            **cfr,
            failed_deployments=cur.failed,
            total_deployments=cur.deployments,
            failures=failures,
            lower_bound=bool(without_incident_data),
        ),
        mttr=RecoveryTime(**mttr, recovered=cur.recovered),
        rework_rate=ReworkRate(**rework, unplanned_deployments=cur.unplanned, total_deployments=cur.deployments),
        notes=out_notes,
    )


def _pr_lead_time(cur: WindowFigures, prev: WindowFigures) -> PullRequestLeadTime:
    value, previous = r2(cur.pr_lead_time_median_hours), r2(prev.pr_lead_time_median_hours)
    return PullRequestLeadTime(
        value=value,
        p85=r2(cur.pr_lead_time_p85_hours),
        pull_requests=cur.pr_lead_time_prs,
        previous_value=previous,
        trend=trend(value, previous)[0],
    )


def _period(window: Window) -> Period:
    return Period(from_=iso(window.start_ts) or "", to=iso(window.end_ts) or "", label=window.label)
