"""The flow area over the local store: `FlowApi` implemented with `queries` (the PR timelines, the teams) and the
pure `metrics` (flow, reviews, value stream, stuck PRs, the PR listing). Durations in hours."""

from __future__ import annotations

import time

from engmetrics.areas.context import AreaService
from engmetrics.areas.flow import queries
from engmetrics.areas.flow.api import FlowApi
from engmetrics.areas.flow.metrics.flow import flow_figures
from engmetrics.areas.flow.metrics.listing import pull_request_listing
from engmetrics.areas.flow.metrics.reviews import review_figures
from engmetrics.areas.flow.metrics.stats import Stat
from engmetrics.areas.flow.metrics.stuck import StuckPR, StuckReason, stuck_prs
from engmetrics.areas.flow.metrics.timeline import (
    PersonOf,
    PullRequestRecord,
    coding_hours,
    cycle_hours,
    data_source,
    deploy_hours,
    pickup_hours,
    review_hours,
)
from engmetrics.areas.flow.metrics.value_stream import value_stream
from engmetrics.areas.flow.models import (
    FlowMetrics,
    FlowQuery,
    PullRequest,
    PullRequestList,
    PullRequestQuery,
    ReviewerLoadItem,
    ReviewMetrics,
    StageFigure,
    StuckPullRequest,
    StuckPullRequestList,
    StuckQuery,
    TeamList,
    ValueStream,
)
from engmetrics.models import Period
from engmetrics.periods import iso, resolve_window
from engmetrics.queries import decode_cursor, encode_cursor
from engmetrics.teams import team_identities

NO_PR_DATA = (
    "No pull request data in scope: configure github_repos (with GITHUB_TOKEN) and run `engmetrics sync`, or merge "
    "with merge commits / '(#123)' squash subjects so git reveals PRs."
)
GIT_ONLY = (
    "Pull requests were rebuilt from git alone: open times and reviews are unknown, so coding, pickup and review "
    "figures are null. Configure github_repos with a token for them."
)


class FlowService(AreaService, FlowApi):
    """Flow, reviews, value stream, PR lists and teams from the stored PR timelines."""

    def _pr_scope(self, repo: str | None, team: str | None) -> tuple[list[int] | None, set[str] | None, PersonOf]:
        """The repository ids, the team's author identities (None: anyone) and the identity → person mapping."""
        repo_ids = self.scope_repo_ids(repo, team)
        return repo_ids, team_identities(self.ctx.directory, team), self.ctx.directory.person_of

    async def get_flow_metrics(self, q: FlowQuery) -> FlowMetrics:
        window = resolve_window(q.period, q.from_, q.to)
        repo_ids, idents, person_of = self._pr_scope(q.repo, q.team)
        prev = window.previous()

        def work() -> FlowMetrics:
            prs = queries.load_pull_requests(
                self.store, repo_ids, since=prev.start_ts, identities=idents, person_of=person_of
            )
            cur = flow_figures(prs, window.start_ts, window.end_ts)
            old = flow_figures(prs, prev.start_ts, prev.end_ts)
            source = data_source(prs)
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
                period=Period.of(window), repo=q.repo, team=q.team, cycle_time=_stage(cur.cycle_time),
                cycle_time_definition=cur.cycle_time_definition,
                coding_time=_stage(cur.coding), pickup_time=_stage(cur.pickup), review_time=_stage(cur.review),
                deploy_time=_stage(cur.deploy), throughput=cur.throughput, throughput_per_week=cur.throughput_per_week,
                wip_count=cur.wip_count, flow_efficiency=cur.flow_efficiency, size_distribution=cur.size_distribution,
                size_median_lines=cur.size_median, merged_not_deployed=cur.merged_not_deployed,
                previous_cycle_time_hours=old.cycle_time.median, previous_throughput=old.throughput,
                data_source=source, notes=notes,
            )

        return await self.store.run(work)

    async def get_review_metrics(self, q: FlowQuery) -> ReviewMetrics:
        window = resolve_window(q.period, q.from_, q.to)
        repo_ids, idents, person_of = self._pr_scope(q.repo, q.team)

        def work() -> ReviewMetrics:
            prs = queries.load_pull_requests(
                self.store, repo_ids, since=window.start_ts, identities=idents, person_of=person_of
            )
            f = review_figures(prs, window.start_ts, window.end_ts, person_of)
            source = data_source(prs)
            notes = []
            if source == "none":
                notes.append(NO_PR_DATA)
            elif source == "git":
                notes.append("Review data needs GitHub: git shows merged PRs but not their reviews. Configure github_repos.")
            return ReviewMetrics(
                period=Period.of(window), repo=q.repo, team=q.team,
                avg_review_cycle_time=f.review_cycle.mean, median_review_cycle_time=f.review_cycle.median,
                avg_first_response_time=f.first_response.mean, median_first_response_time=f.first_response.median,
                total_reviewed=f.total_reviewed, reviews=f.reviews, comments_per_review=f.comments_per_review,
                rework_commits_per_pr=f.rework_commits_per_pr, rework_percent=f.rework_share_percent, merged=f.merged,
                unreviewed_merges=f.unreviewed_merges, unreviewed_merge_percent=f.unreviewed_merge_percent,
                reviewer_load=[ReviewerLoadItem(reviewer=x.reviewer, reviews=x.reviews, prs_reviewed=x.prs_reviewed)
                               for x in f.reviewer_load[:10]],
                data_source=source, notes=notes,
            )

        return await self.store.run(work)

    async def get_value_stream(self, q: FlowQuery) -> ValueStream:
        window = resolve_window(q.period, q.from_, q.to)
        repo_ids, idents, person_of = self._pr_scope(q.repo, q.team)

        def work() -> ValueStream:
            prs = queries.load_pull_requests(
                self.store, repo_ids, since=window.start_ts, identities=idents, person_of=person_of
            )
            v = value_stream(prs, window.start_ts, window.end_ts)
            notes = [] if prs else [NO_PR_DATA]
            if prs and v.idea_to_commit.count == 0:
                notes.append("idea_to_commit is null: no merged PR links an issue (GitHub 'closes #N') created before its first commit.")
            if prs and v.merge_to_deploy.count == 0:
                notes.append("merge_to_deploy is null: no PR merged in the window has reached a production deployment yet.")
            return ValueStream(
                period=Period.of(window), repo=q.repo, team=q.team, idea_to_commit=_stage(v.idea_to_commit),
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
            prs = queries.load_pull_requests(
                self.store, repo_ids, since=window.start_ts, identities=idents, person_of=person_of
            )
            listed = pull_request_listing(
                prs, window.start_ts, window.end_ts, state=state, author=q.author, person_of=person_of
            )
            page = listed[offset : offset + q.limit]
            nxt = offset + len(page)
            return PullRequestList(
                items=[_pr_model(p) for p in page], total=len(listed),
                cursor=encode_cursor(nxt) if nxt < len(listed) else None,
                notes=[] if listed or offset else [NO_PR_DATA if state == "all" else f"No {state} pull request in scope."],
            )

        return await self.store.run(work)

    async def list_stuck_pull_requests(self, q: StuckQuery) -> StuckPullRequestList:
        repo_ids, idents, person_of = self._pr_scope(q.repo, q.team)
        offset = decode_cursor(q.cursor)

        def work() -> StuckPullRequestList:
            now = int(time.time())
            prs = queries.load_pull_requests(self.store, repo_ids, since=now, identities=idents, person_of=person_of)
            stuck = stuck_prs(prs, now, q.min_hours)
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
        def work() -> TeamList:
            teams = queries.team_infos(self.store.read(), self.ctx.directory, self.ctx.served_ids)
            notes = [] if teams else ["No team is configured: add [teams.<name>] repos = [...] / people = [...] to engmetrics.toml."]
            notes += [f"Team {t.name}: {', '.join(t.unknown_repos)} not synced." for t in teams if t.unknown_repos]
            return TeamList(teams=teams, total=len(teams), notes=notes)

        return await self.store.run(work)


def _stage(s: Stat) -> StageFigure:
    return StageFigure(median_hours=s.median, p85_hours=s.p85, mean_hours=s.mean, count=s.count)


def _r(v: float | None) -> float | None:
    return None if v is None else round(v, 2)


def _pr_model(p: PullRequestRecord) -> PullRequest:
    return PullRequest(
        repo=p.repo, number=p.number, title=p.title[:200], author=p.author, state=p.state, draft=p.draft,
        source=p.source, created_at=iso(p.created_at), first_commit_at=iso(p.first_commit_at),
        first_review_at=iso(p.first_review_at), merged_at=iso(p.merged_at), closed_at=iso(p.closed_at),
        deployed_at=iso(p.deployed_at), additions=p.additions, deletions=p.deletions, reviews=len(p.others_reviews),
        coding_hours=_r(coding_hours(p)), pickup_hours=_r(pickup_hours(p)), review_hours=_r(review_hours(p)),
        deploy_hours=_r(deploy_hours(p)), cycle_hours=_r(cycle_hours(p)),
    )


_WHY: dict[StuckReason, str] = {
    "waiting_for_review": "No review by anyone but the author yet.",
    "approved_not_merged": "Approved but not merged.",
    "changes_requested": "Changes were requested and the author has not pushed since.",
    "waiting_for_re_review": "The author pushed after the last review; waiting for another look.",
}


def _stuck_model(s: StuckPR) -> StuckPullRequest:
    p = s.pr
    return StuckPullRequest(
        repo=p.repo, number=p.number, title=p.title[:200], author=p.author, reason=s.reason,
        why=f"{_WHY[s.reason]} Waiting {s.waiting_hours:.0f} h.", waiting_since=iso(s.since) or "",
        waiting_hours=s.waiting_hours, created_at=iso(p.created_at), reviews=len(p.others_reviews),
    )
