"""Engine operations for pull requests, reviews, flow, value stream and teams.

`FlowApi` declares the operations (with `@operation` for their REST route); `LocalFlow` implements
them for `LocalEngine` (it may use `self.store`, `self.settings`, `self.resolve_repo`, `self.scope_repo_ids`).
Definitions of the figures live in `engmetrics.metrics.flow`, `.reviews` and `.value_stream`.

This module also holds the PR feature's hooks into the core: the sync step (GitHub, then git-only
reconstruction), the activity feed's ``pr_opened``/``pr_merged``/``review`` parts, contributor PR counts,
and PR-based lead times for ``get_dora``.
"""

from __future__ import annotations

import logging
import sqlite3
import subprocess
import time
from collections import defaultdict
from typing import TYPE_CHECKING, Any, Literal

from pydantic import Field

from engmetrics.engine.activity import EXTRA_META_KEYS, EXTRA_PARTS
from engmetrics.engine.operations import operation
from engmetrics.metrics.flow import (
    PullRequestRecord,
    ReviewRecord,
    Stat,
    coding_hours,
    cycle_hours,
    deploy_hours,
    flow_figures,
    pickup_hours,
    review_hours,
    stuck_prs,
)
from engmetrics.models import Model, Period
from engmetrics.periods import Window, iso, resolve_window
from engmetrics.queries import Page, Scope, WindowArgs, decode_cursor, encode_cursor

if TYPE_CHECKING:
    from engmetrics.store.db import Store

log = logging.getLogger(__name__)

# ---------------------------------------------------------------------------------------------------
# Request and result models


class FlowQuery(WindowArgs, Scope):
    """Arguments of get_flow_metrics, get_review_metrics and get_value_stream."""


class PullRequestQuery(WindowArgs, Scope, Page):
    """Arguments of list_pull_requests."""

    state: Literal["open", "merged", "closed", "all"] | None = Field(default=None, description="Default: all")
    author: str | None = Field(default=None, description="GitHub login, email or person id (substring match)")


class StuckQuery(Scope, Page):
    """Arguments of list_stuck_pull_requests."""

    min_hours: float = Field(default=24.0, ge=0, le=24 * 365, description="Only PRs waiting at least this many hours")


class StageFigure(Model):
    """One duration statistic over PRs, hours."""

    median_hours: float | None = None
    p85_hours: float | None = None
    mean_hours: float | None = None
    count: int = Field(default=0, description="PRs with a value for this stage")


def _stage(s: Stat) -> StageFigure:
    return StageFigure(median_hours=s.median, p85_hours=s.p85, mean_hours=s.mean, count=s.count)


class FlowMetrics(Model):
    """Flow metrics for a window: PR cycle time and its stages, throughput, WIP, flow efficiency, PR sizes."""

    period: Period
    repo: str | None = None
    team: str | None = None
    cycle_time: StageFigure = Field(description="First commit → production (or → merge, see cycle_time_definition)")
    cycle_time_definition: Literal["first_commit_to_deploy", "first_commit_to_merge"]
    coding_time: StageFigure = Field(description="First commit → PR opened")
    pickup_time: StageFigure = Field(description="Opened (or ready for review) → first review by someone else")
    review_time: StageFigure = Field(description="First review by someone else → merge")
    deploy_time: StageFigure = Field(description="Merge → first production deployment containing the merge")
    throughput: int = Field(description="PRs merged in the window")
    throughput_per_week: float | None = None
    wip_count: int = Field(description="PRs open at the window's end (drafts included)")
    flow_efficiency: float | None = Field(description="Active time ÷ elapsed time (first commit → merge), ratio 0–1")
    size_distribution: dict[str, int] = Field(description="Merged PRs by lines changed: xs≤10, s≤100, m≤400, l≤1000, xl")
    size_median_lines: float | None = None
    merged_not_deployed: int = Field(description="PRs merged in the window with no production deployment yet")
    previous_cycle_time_hours: float | None = Field(default=None, description="Median cycle time, previous window")
    previous_throughput: int | None = None
    data_source: Literal["github", "git", "mixed", "none"] = Field(
        description="Where PR data came from: GitHub, git alone (no open time, no reviews), both, or none"
    )
    notes: list[str] = Field(default_factory=list)


class ReviewerLoadItem(Model):
    """One reviewer's load in the window."""

    reviewer: str = Field(description="Person id (identities merged) or GitHub login")
    reviews: int
    prs_reviewed: int


class ReviewMetrics(Model):
    """Code review metrics for a window."""

    period: Period
    repo: str | None = None
    team: str | None = None
    avg_review_cycle_time: float | None = Field(description="Mean hours opened/ready → merge, reviewed PRs merged in window")
    median_review_cycle_time: float | None = None
    avg_first_response_time: float | None = Field(description="Mean hours opened/ready → first review by someone else")
    median_first_response_time: float | None = None
    total_reviewed: int = Field(description="Distinct PRs reviewed (by someone other than the author) in the window")
    reviews: int = Field(description="Reviews submitted in the window (self-reviews excluded)")
    comments_per_review: float | None = Field(description="Review depth: review comments per review")
    rework_commits_per_pr: float | None = Field(description="Commits pushed after the first review, mean per reviewed merged PR")
    rework_percent: float | None = Field(description="Reviewed merged PRs with any commit after the first review, percent")
    merged: int
    unreviewed_merges: int = Field(description="PRs merged in the window without a review by someone else")
    unreviewed_merge_percent: float | None = None
    reviewer_load: list[ReviewerLoadItem] = Field(description="Top 10 reviewers by reviews in the window")
    data_source: Literal["github", "git", "mixed", "none"]
    notes: list[str] = Field(default_factory=list)


class ValueStream(Model):
    """Where the time goes from idea to production, over PRs merged in the window (hours)."""

    period: Period
    repo: str | None = None
    team: str | None = None
    idea_to_commit: StageFigure = Field(description="Linked issue created → first commit (PRs with a linked issue)")
    commit_to_merge: StageFigure = Field(description="First commit → merge")
    merge_to_deploy: StageFigure = Field(description="Merge → first production deployment containing it")
    total_lead_time: float | None = Field(description="Sum of the stage medians that have a value, hours")
    merged: int
    notes: list[str] = Field(default_factory=list)


class PullRequest(Model):
    """A pull request and its lifecycle (hours)."""

    repo: str
    number: int
    title: str
    author: str | None = None
    state: Literal["open", "merged", "closed"]
    draft: bool = False
    source: Literal["github", "git"]
    created_at: str | None = None
    first_commit_at: str | None = None
    first_review_at: str | None = None
    merged_at: str | None = None
    closed_at: str | None = None
    deployed_at: str | None = None
    additions: int | None = None
    deletions: int | None = None
    reviews: int = Field(description="Reviews by someone other than the author")
    coding_hours: float | None = None
    pickup_hours: float | None = None
    review_hours: float | None = None
    deploy_hours: float | None = None
    cycle_hours: float | None = Field(default=None, description="First commit → production")


class PullRequestList(Model):
    """A page of pull requests, newest activity first."""

    items: list[PullRequest]
    total: int
    cursor: str | None = None
    notes: list[str] = Field(default_factory=list)


class StuckPullRequest(Model):
    """An open PR waiting, and why."""

    repo: str
    number: int
    title: str
    author: str | None = None
    reason: Literal["waiting_for_review", "approved_not_merged", "changes_requested", "waiting_for_re_review"]
    why: str = Field(description="One sentence saying what it waits for")
    waiting_since: str
    waiting_hours: float
    created_at: str | None = None
    reviews: int


class StuckPullRequestList(Model):
    """Open PRs waiting longest first."""

    items: list[StuckPullRequest]
    total: int
    cursor: str | None = None
    min_hours: float
    notes: list[str] = Field(default_factory=list)


class TeamInfo(Model):
    """A team from engmetrics.toml."""

    name: str
    repos: list[str]
    people: list[str] = Field(description="Person ids (identities merged)")
    member_count: int
    unknown_repos: list[str] = Field(default_factory=list, description="Listed repos not in the store (not synced)")


class TeamList(Model):
    """Every configured team."""

    teams: list[TeamInfo]
    total: int
    notes: list[str] = Field(default_factory=list)


# ---------------------------------------------------------------------------------------------------
# Declarations


class FlowApi:
    """Declarations of the flow operations; each raises `Unsupported` unless an engine implements it."""

    @operation("GET", "/flow")
    async def get_flow_metrics(self, q: FlowQuery) -> FlowMetrics:
        """Flow metrics: PR cycle time and stages, throughput, WIP, flow efficiency, PR sizes."""
        raise self.unsupported("flow metrics")  # type: ignore[attr-defined]

    @operation("GET", "/review-metrics")
    async def get_review_metrics(self, q: FlowQuery) -> ReviewMetrics:
        """Code review metrics: review cycle, first response, depth, rework, unreviewed merges, load."""
        raise self.unsupported("review metrics")  # type: ignore[attr-defined]

    @operation("GET", "/value-stream")
    async def get_value_stream(self, q: FlowQuery) -> ValueStream:
        """Value stream: idea → commit → merge → deploy, hours."""
        raise self.unsupported("value stream metrics")  # type: ignore[attr-defined]

    @operation("GET", "/pull-requests")
    async def list_pull_requests(self, q: PullRequestQuery) -> PullRequestList:
        """Pull requests with their lifecycle, newest activity first, paginated."""
        raise self.unsupported("pull request lists")  # type: ignore[attr-defined]

    @operation("GET", "/pull-requests/stuck")
    async def list_stuck_pull_requests(self, q: StuckQuery) -> StuckPullRequestList:
        """Open PRs waiting longest for review or after approval, with why."""
        raise self.unsupported("stuck pull requests")  # type: ignore[attr-defined]

    @operation("GET", "/teams")
    async def list_teams(self) -> TeamList:
        """Teams defined in engmetrics.toml."""
        raise self.unsupported("teams")  # type: ignore[attr-defined]


# ---------------------------------------------------------------------------------------------------
# Loading PR timelines from the store

_DEPLOYED = (
    "(SELECT min(d.deployed_at) FROM deployment_changes dc JOIN deployments d ON d.id = dc.deployment_id"
    " WHERE dc.sha = p.merge_sha AND d.repo_id = p.repo_id AND d.status = 'success'"
    " AND d.environment IN ('production', 'prod'))"
)


def _in(column: str, values: list[Any]) -> tuple[str, list[Any]]:
    return f" AND {column} IN ({','.join('?' * len(values))})", list(values)


def load_pull_requests(
    store: Store,
    repo_ids: list[int] | None,
    *,
    since: int | None = None,
    identities: set[str] | None = None,
    person_of: Any = None,
) -> list[PullRequestRecord]:
    """PR timelines in scope: every open PR plus those merged/closed at or after ``since`` (Unix seconds).

    ``identities`` keeps PRs whose author (login or email) is one of them; ``person_of`` merges a person's
    identities so that reviews by the author under another identity count as self-reviews.
    """
    conn = store.read()
    where, args = "1=1", []
    if repo_ids is not None:
        w, a = _in("p.repo_id", repo_ids)
        where += w
        args += a
    if since is not None:
        where += " AND (p.state = 'open' OR coalesce(p.merged_at, p.closed_at, 0) >= ? OR p.created_at >= ?)"
        args += [since, since]
    rows = conn.execute(
        f"SELECT p.*, r.name AS repo_name, {_DEPLOYED} AS deployed_at FROM pull_requests p"
        f" JOIN repositories r ON r.id = p.repo_id WHERE {where}",
        args,
    ).fetchall()
    if identities is not None:
        idents = {i.lower() for i in identities}
        rows = [r for r in rows if (r["author"] or "") in idents or (r["author_email"] or "") in idents]
    if not rows:
        return []
    keys = {(r["repo_id"], r["number"]) for r in rows}
    reviews: dict[tuple[int, int], list[ReviewRecord]] = defaultdict(list)
    commits: dict[tuple[int, int], list[tuple[int, int]]] = defaultdict(list)
    rw, ra = ("", []) if repo_ids is None else _in("repo_id", repo_ids)
    for rid, num, reviewer, state, at, comments in conn.execute(
        f"SELECT repo_id, number, reviewer, state, submitted_at, comments FROM pr_reviews WHERE 1=1{rw}", ra
    ):
        if (rid, num) in keys:
            reviews[(rid, num)].append(ReviewRecord(reviewer, state, at, comments))
    for rid, num, authored, committed in conn.execute(
        f"SELECT repo_id, number, authored_at, committed_at FROM pr_commits WHERE 1=1{rw}", ra
    ):
        if (rid, num) in keys:
            commits[(rid, num)].append((authored, committed))
    out = []
    for r in rows:
        key = (r["repo_id"], r["number"])
        author = r["author"]
        aliases: frozenset[str] = frozenset()
        if person_of is not None and author:
            pid = person_of(author)
            aliases = frozenset({pid} | ({r["author_email"]} if r["author_email"] else set()))
        cm = commits.get(key, [])
        out.append(
            PullRequestRecord(
                repo=r["repo_name"], number=r["number"], title=r["title"], author=author, state=r["state"],
                draft=bool(r["draft"]), created_at=r["created_at"], ready_at=r["ready_at"],
                first_commit_at=r["first_commit_at"], merged_at=r["merged_at"], closed_at=r["closed_at"],
                deployed_at=r["deployed_at"], additions=r["additions"], deletions=r["deletions"],
                issue_created_at=r["issue_created_at"], source=r["source"], reviews=tuple(reviews.get(key, ())),
                commit_times=tuple(c for _, c in cm), author_times=tuple(a for a, _ in cm), author_aliases=aliases,
            )
        )
    if person_of is not None:
        for pr in out:
            if pr.reviews:
                pid = person_of(pr.author)
                pr.author_aliases = pr.author_aliases | frozenset(
                    r.reviewer for r in pr.reviews if r.reviewer and person_of(r.reviewer) == pid
                )
    return out


def _data_source(prs: list[PullRequestRecord]) -> Literal["github", "git", "mixed", "none"]:
    kinds = {p.source for p in prs}
    if not kinds:
        return "none"
    return "mixed" if len(kinds) > 1 else ("github" if "github" in kinds else "git")


NO_PR_DATA = (
    "No pull request data in scope: configure github_repos (with GITHUB_TOKEN) and run `engmetrics sync`, or merge "
    "with merge commits / '(#123)' squash subjects so git reveals PRs."
)
GIT_ONLY = (
    "Pull requests were rebuilt from git alone: open times and reviews are unknown, so coding, pickup and review "
    "figures are null. Configure github_repos with a token for them."
)


# ---------------------------------------------------------------------------------------------------
# Implementation


class LocalFlow:
    """The local engine's implementation of the flow operations."""

    store: Store
    settings: Any

    def _pr_scope(self, repo: str | None, team: str | None) -> tuple[list[int] | None, set[str] | None, Any]:
        from engmetrics.teams import directory, team_identities

        repo_ids = self.scope_repo_ids(repo, team)  # type: ignore[attr-defined]
        return repo_ids, team_identities(self, team), directory(self).person_of

    def _period(self, w: Window) -> Period:
        return Period(from_=iso(w.start_ts), to=iso(w.end_ts), label=w.label)

    async def get_flow_metrics(self, q: FlowQuery) -> FlowMetrics:
        window = resolve_window(q.period, q.from_, q.to)
        repo_ids, idents, person_of = self._pr_scope(q.repo, q.team)
        prev = window.previous()

        def work() -> FlowMetrics:
            prs = load_pull_requests(self.store, repo_ids, since=prev.start_ts, identities=idents, person_of=person_of)
            cur = flow_figures(prs, window.start_ts, window.end_ts)
            old = flow_figures(prs, prev.start_ts, prev.end_ts)
            source = _data_source(prs)
            notes = []
            if source == "none":
                notes.append(NO_PR_DATA)
            elif source == "git":
                notes.append(GIT_ONLY)
            if cur.cycle_time_definition == "first_commit_to_merge" and prs:
                notes.append("No PR in scope reached a production deployment: cycle time is first commit → merge.")
            if cur.throughput == 0 and prs:
                notes.append("No PR was merged in the window.")
            return FlowMetrics(
                period=self._period(window), repo=q.repo, team=q.team, cycle_time=_stage(cur.cycle_time),
                cycle_time_definition=cur.cycle_time_definition,  # type: ignore[arg-type]
                coding_time=_stage(cur.coding), pickup_time=_stage(cur.pickup), review_time=_stage(cur.review),
                deploy_time=_stage(cur.deploy), throughput=cur.throughput, throughput_per_week=cur.throughput_per_week,
                wip_count=cur.wip_count, flow_efficiency=cur.flow_efficiency, size_distribution=cur.size_distribution,
                size_median_lines=cur.size_median, merged_not_deployed=cur.merged_not_deployed,
                previous_cycle_time_hours=old.cycle_time.median, previous_throughput=old.throughput,
                data_source=source, notes=notes,
            )

        return await self.store.run(work)

    async def get_review_metrics(self, q: FlowQuery) -> ReviewMetrics:
        from engmetrics.metrics.reviews import review_figures

        window = resolve_window(q.period, q.from_, q.to)
        repo_ids, idents, person_of = self._pr_scope(q.repo, q.team)

        def work() -> ReviewMetrics:
            prs = load_pull_requests(self.store, repo_ids, since=window.start_ts, identities=idents, person_of=person_of)
            f = review_figures(prs, window.start_ts, window.end_ts, person_of)
            source = _data_source(prs)
            notes = []
            if source == "none":
                notes.append(NO_PR_DATA)
            elif source == "git":
                notes.append("Review data needs GitHub: git shows merged PRs but not their reviews. Configure github_repos.")
            return ReviewMetrics(
                period=self._period(window), repo=q.repo, team=q.team,
                avg_review_cycle_time=f.review_cycle.mean, median_review_cycle_time=f.review_cycle.median,
                avg_first_response_time=f.first_response.mean, median_first_response_time=f.first_response.median,
                total_reviewed=f.total_reviewed, reviews=f.reviews, comments_per_review=f.comments_per_review,
                rework_commits_per_pr=f.rework_commits_per_pr, rework_percent=f.rework_share_percent, merged=f.merged,
                unreviewed_merges=f.unreviewed_merges,
                unreviewed_merge_percent=round(100.0 * f.unreviewed_merges / f.merged, 1) if f.merged else None,
                reviewer_load=[ReviewerLoadItem(reviewer=x.reviewer, reviews=x.reviews, prs_reviewed=x.prs_reviewed)
                               for x in f.reviewer_load[:10]],
                data_source=source, notes=notes,
            )

        return await self.store.run(work)

    async def get_value_stream(self, q: FlowQuery) -> ValueStream:
        from engmetrics.metrics.value_stream import value_stream

        window = resolve_window(q.period, q.from_, q.to)
        repo_ids, idents, person_of = self._pr_scope(q.repo, q.team)

        def work() -> ValueStream:
            prs = load_pull_requests(self.store, repo_ids, since=window.start_ts, identities=idents, person_of=person_of)
            v = value_stream(prs, window.start_ts, window.end_ts)
            notes = [] if prs else [NO_PR_DATA]
            if prs and v.idea_to_commit.count == 0:
                notes.append("idea_to_commit is null: no merged PR links an issue (GitHub 'closes #N') created before its first commit.")
            if prs and v.merge_to_deploy.count == 0:
                notes.append("merge_to_deploy is null: no PR merged in the window has reached a production deployment yet.")
            return ValueStream(
                period=self._period(window), repo=q.repo, team=q.team, idea_to_commit=_stage(v.idea_to_commit),
                commit_to_merge=_stage(v.commit_to_merge), merge_to_deploy=_stage(v.merge_to_deploy),
                total_lead_time=v.total_lead_time, merged=v.merged, notes=notes,
            )

        return await self.store.run(work)

    async def list_pull_requests(self, q: PullRequestQuery) -> PullRequestList:
        window = resolve_window(q.period, q.from_, q.to)
        repo_ids, idents, person_of = self._pr_scope(q.repo, q.team)
        offset = decode_cursor(q.cursor)
        state = q.state or "all"

        def work() -> PullRequestList:
            prs = load_pull_requests(self.store, repo_ids, since=window.start_ts, identities=idents, person_of=person_of)
            if state != "all":
                prs = [p for p in prs if p.state == state]
            if q.author:
                needle = q.author.strip().lower()
                pid = person_of(needle)
                prs = [p for p in prs if needle in (p.author or "") or (p.author and person_of(p.author) == pid)]

            def last(p: PullRequestRecord) -> int:
                return max(t for t in (p.created_at, p.merged_at, p.closed_at, p.first_commit_at, 0) if t is not None)

            start, end = window.start_ts, window.end_ts
            prs = [p for p in prs if p.state == "open" and (p.created_at or 0) < end or start <= last(p) < end]
            prs.sort(key=lambda p: (-last(p), p.repo, -p.number))
            page = prs[offset : offset + q.limit]
            nxt = offset + len(page)
            return PullRequestList(
                items=[_pr_model(p) for p in page], total=len(prs), cursor=encode_cursor(nxt) if nxt < len(prs) else None,
                notes=[] if prs or offset else [NO_PR_DATA if state == "all" else f"No {state} pull request in scope."],
            )

        return await self.store.run(work)

    async def list_stuck_pull_requests(self, q: StuckQuery) -> StuckPullRequestList:
        repo_ids, idents, person_of = self._pr_scope(q.repo, q.team)
        offset = decode_cursor(q.cursor)

        def work() -> StuckPullRequestList:
            prs = load_pull_requests(self.store, repo_ids, since=int(time.time()), identities=idents, person_of=person_of)
            stuck = stuck_prs(prs, int(time.time()), q.min_hours)
            page = stuck[offset : offset + q.limit]
            nxt = offset + len(page)
            notes = []
            if not any(p.source == "github" for p in prs):
                notes.append("Open pull requests come from GitHub only: configure github_repos with a token to see them.")
            return StuckPullRequestList(
                items=[_stuck_model(s) for s in page], total=len(stuck),
                cursor=encode_cursor(nxt) if nxt < len(stuck) else None, min_hours=q.min_hours, notes=notes,
            )

        return await self.store.run(work)

    async def list_teams(self) -> TeamList:
        from engmetrics.teams import list_team_rows

        def work() -> TeamList:
            rows = list_team_rows(self)
            notes = [] if rows else ["No team is configured: add [teams.<name>] repos = [...] / people = [...] to engmetrics.toml."]
            notes += [f"Team {r['name']}: {', '.join(r['unknown_repos'])} not synced." for r in rows if r["unknown_repos"]]
            return TeamList(teams=[TeamInfo(**r) for r in rows], total=len(rows), notes=notes)

        return await self.store.run(work)


def _r(v: float | None) -> float | None:
    return None if v is None else round(v, 2)


def _pr_model(p: PullRequestRecord) -> PullRequest:
    return PullRequest(
        repo=p.repo, number=p.number, title=p.title[:200], author=p.author, state=p.state,  # type: ignore[arg-type]
        draft=p.draft, source=p.source,  # type: ignore[arg-type]
        created_at=iso(p.created_at), first_commit_at=iso(p.first_commit_at), first_review_at=iso(p.first_review_at),
        merged_at=iso(p.merged_at), closed_at=iso(p.closed_at), deployed_at=iso(p.deployed_at), additions=p.additions,
        deletions=p.deletions, reviews=len(p.others_reviews), coding_hours=_r(coding_hours(p)),
        pickup_hours=_r(pickup_hours(p)), review_hours=_r(review_hours(p)), deploy_hours=_r(deploy_hours(p)),
        cycle_hours=_r(cycle_hours(p)),
    )


_WHY = {
    "waiting_for_review": "No review by anyone but the author yet.",
    "approved_not_merged": "Approved but not merged.",
    "changes_requested": "Changes were requested and the author has not pushed since.",
    "waiting_for_re_review": "The author pushed after the last review; waiting for another look.",
}


def _stuck_model(s: Any) -> StuckPullRequest:
    p = s.pr
    return StuckPullRequest(
        repo=p.repo, number=p.number, title=p.title[:200], author=p.author, reason=s.reason,
        why=f"{_WHY[s.reason]} Waiting {s.waiting_hours:.0f} h.", waiting_since=iso(s.since) or "",
        waiting_hours=s.waiting_hours, created_at=iso(p.created_at), reviews=len(p.others_reviews),
    )


# ---------------------------------------------------------------------------------------------------
# Hooks into the core


def github_slug_for(settings: Any, name: str, path: str) -> str | None:
    """The configured GitHub 'owner/name' for a stored repository: an explicit '=name', the same name, or origin."""
    from engmetrics.sources.github import parse_slug

    entries = [parse_slug(e) for e in (getattr(settings, "github_repos", None) or [])]
    if not entries:
        return None
    for slug, local in entries:
        if local is not None and local == name:
            return slug
    for slug, local in entries:
        if local is None and slug.split("/", 1)[1].lower() == name.lower():
            return slug
    try:
        origin = subprocess.run(
            ["git", "-C", path, "config", "--get", "remote.origin.url"], capture_output=True, text=True, check=False, timeout=10
        ).stdout.strip().lower().removesuffix(".git")
    except (OSError, subprocess.SubprocessError):
        return None
    for slug, local in entries:
        if local is None and origin.endswith(slug.lower()) and origin[: -len(slug)][-1:] in ("/", ":"):
            return slug
    return None


def sync_pull_request_sources(engine: Any, row: Any, progress: Any = None) -> tuple[int, list[str]]:
    """The sync step for one repository (runs in a worker thread): GitHub when configured, then git-only PRs.

    Returns (pull requests written, notes). GitHub's failures become notes ("GitHub owner/name: …", each
    with GitHub's message and what to do; `sync_github_repo` syncs each part on its own), and so does any
    unexpected error; the git sync stands either way.
    """
    import anyio
    import anyio.from_thread

    from engmetrics.errors import EngmetricsError
    from engmetrics.sources.github import GitHubClient, resolve_api_url, resolve_token, sync_github_repo
    from engmetrics.sources.prs import rebuild_from_git

    notes: list[str] = []
    count = 0
    slug = github_slug_for(engine.settings, row.name, row.path)
    if slug is not None:
        token = resolve_token(engine.settings)
        if token is None:
            notes.append(f"GitHub {slug}: no token (set GITHUB_TOKEN or ENGMETRICS_GITHUB_TOKEN); PRs read from git only")
        else:

            async def report(message: str, left: float | None = None) -> None:
                if progress is not None:
                    await progress(0, None, message if left is None else f"{message} ({left:.0f} s left)")

            async def go() -> tuple[int, list[str]]:
                async with GitHubClient(
                    token, resolve_api_url(engine.settings), on_wait=report,
                    max_wait=float(getattr(engine.settings, "github_max_wait_seconds", 3600.0)),
                ) as client:
                    res = await sync_github_repo(
                        engine.store, client, row.id, row.name, slug,
                        incident_label=getattr(engine.settings, "incident_label", "incident"), progress=report,
                    )
                    log.info("GitHub %s: %d requests (%d conditional, %d not modified)", slug, client.stats.requests,
                             client.stats.conditional, client.stats.not_modified)
                    return res.pull_requests, res.notes

            try:
                try:
                    written, github_notes = anyio.from_thread.run(go)
                except RuntimeError as exc:
                    if "worker thread" not in str(exc).lower() and "event loop" not in str(exc).lower():
                        raise
                    written, github_notes = anyio.run(go)
                count += written
                notes += [f"GitHub {slug}: {note}" for note in github_notes]
            except Exception as exc:  # noqa: BLE001 — one line in the report; the git sync still stands
                leaf: BaseException = exc
                while isinstance(leaf, BaseExceptionGroup) and leaf.exceptions:
                    leaf = leaf.exceptions[0]
                if isinstance(leaf, EngmetricsError):
                    notes.append(f"GitHub {slug}: {leaf.message}")
                else:  # a bug: logged in full
                    log.error("GitHub sync of %s failed", slug, exc_info=leaf)
                    notes.append(f"GitHub {slug}: failed unexpectedly ({type(leaf).__name__}: {str(leaf)[:200]}); "
                                 "the log has the details")
    count += rebuild_from_git(engine.store, row.id)
    return count, notes


def contributor_pr_counts(engine: Any, conn: sqlite3.Connection, emails: list[str], window: Window,
                          repo_ids: list[int] | None = None) -> tuple[int | None, int | None]:
    """(PRs merged, PRs reviewed) in the window by a contributor's emails and their configured aliases, in
    ``repo_ids`` (None: every repository); None without data."""
    if conn.execute("SELECT 1 FROM pull_requests LIMIT 1").fetchone() is None:
        return None, None
    from engmetrics.teams import directory

    d = directory(engine)
    idents = {e.lower() for e in emails}
    for e in list(idents):
        person = d.people.get(d.person_of(e) or "")
        if person is not None:
            idents |= person.identities
    marks = ",".join("?" * len(idents))
    from engmetrics.store.db import repo_filter

    in_repos, repo_args = repo_filter(repo_ids, "repo_id")
    in_reviewed, _ = repo_filter(repo_ids, "v.repo_id")
    merged = conn.execute(
        f"SELECT count(*) FROM pull_requests WHERE (author IN ({marks}) OR author_email IN ({marks}))"
        f" AND merged_at >= ? AND merged_at < ?{in_repos}",
        [*idents, *idents, window.start_ts, window.end_ts, *repo_args],
    ).fetchone()[0]
    if conn.execute("SELECT 1 FROM pr_reviews LIMIT 1").fetchone() is None:
        return merged, None
    reviewed = conn.execute(
        f"SELECT count(*) FROM (SELECT DISTINCT v.repo_id, v.number FROM pr_reviews v JOIN pull_requests p"
        f" ON p.repo_id = v.repo_id AND p.number = v.number WHERE v.reviewer IN ({marks})"
        f" AND coalesce(p.author, '') NOT IN ({marks}) AND v.submitted_at >= ? AND v.submitted_at < ?"
        f"{in_reviewed})",
        [*idents, *idents, window.start_ts, window.end_ts, *repo_args],
    ).fetchone()[0]
    return merged, reviewed


EXTRA_PARTS.update(
    {
        "pr_opened": (
            "SELECT p.created_at AS ts, 'act_pr_opened_' || p.repo_id || '_' || p.number AS id, 'pr_opened' AS type,"
            " p.source AS source, 'Opened #' || p.number || ': ' || p.title AS title, p.author AS author, r.name AS repo,"
            " p.number AS m1, p.additions AS m2, p.deletions AS m3 FROM pull_requests p JOIN repositories r"
            " ON r.id = p.repo_id WHERE p.created_at >= :start AND p.created_at < :end {repo:p.repo_id} {pr_author}"
        ),
        "pr_merged": (
            "SELECT p.merged_at AS ts, 'act_pr_merged_' || p.repo_id || '_' || p.number AS id, 'pr_merged' AS type,"
            " p.source AS source, 'Merged #' || p.number || ': ' || p.title AS title, p.author AS author, r.name AS repo,"
            " p.number AS m1, p.merge_sha AS m2, p.commit_count AS m3 FROM pull_requests p JOIN repositories r"
            " ON r.id = p.repo_id WHERE p.merged_at >= :start AND p.merged_at < :end {repo:p.repo_id} {pr_author}"
        ),
        "review": (
            "SELECT p.submitted_at AS ts, 'act_review_' || p.repo_id || '_' || p.number || '_' || p.rid AS id,"
            " 'review' AS type, 'github' AS source, 'Reviewed #' || p.number || ': ' || p.title AS title,"
            " p.author AS author, r.name AS repo, p.number AS m1, p.state AS m2, p.comments AS m3 FROM"
            " (SELECT v.repo_id, v.number, v.id AS rid, v.reviewer AS author, v.state, v.comments, v.submitted_at,"
            " pr.title FROM pr_reviews v JOIN pull_requests pr ON pr.repo_id = v.repo_id AND pr.number = v.number) p"
            " JOIN repositories r ON r.id = p.repo_id WHERE p.submitted_at >= :start AND p.submitted_at < :end"
            " {repo:p.repo_id} {pr_author}"
        ),
    }
)
EXTRA_META_KEYS.update(
    {
        "pr_opened": ("number", "additions", "deletions"),
        "pr_merged": ("number", "merge_sha", "commits"),
        "review": ("number", "state", "comments"),
    }
)

