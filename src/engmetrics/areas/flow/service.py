"""The flow area over the local store: `FlowApi` implemented with `queries` and the pure `metrics.flow`."""

from __future__ import annotations

import time
from typing import Any, Literal

from engmetrics.areas.context import AreaService
from engmetrics.areas.flow.api import FlowApi
from engmetrics.areas.flow.models import (
    FlowMetrics,
    FlowQuery,
    PullRequest,
    PullRequestList,
    PullRequestQuery,
    ReviewerLoadItem,
    ReviewMetrics,
    StuckPullRequest,
    StuckPullRequestList,
    StuckQuery,
    TeamInfo,
    TeamList,
    ValueStream,
    stage,
)
from engmetrics.areas.flow.queries import load_pull_requests
from engmetrics.errors import NotFound
from engmetrics.areas.flow.metrics.flow import (
    PullRequestRecord,
    coding_hours,
    cycle_hours,
    deploy_hours,
    flow_figures,
    pickup_hours,
    review_hours,
    stuck_prs,
)
from engmetrics.areas.flow.metrics.reviews import review_figures
from engmetrics.areas.flow.metrics.value_stream import value_stream
from engmetrics.models import Period
from engmetrics.periods import iso, resolve_window
from engmetrics.queries import decode_cursor, encode_cursor
from engmetrics.store.repos import find_repository, list_repositories, team_repo_ids
from engmetrics.teams import Team, team_identities

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


class FlowService(AreaService, FlowApi):
    """Flow, reviews, value stream, PR lists and teams from the stored PR timelines."""

    def _pr_scope(self, repo: str | None, team: str | None) -> tuple[list[int] | None, set[str] | None, Any]:
        repo_ids = self.scope_repo_ids(repo, team)
        return repo_ids, team_identities(self.ctx.directory, team), self.ctx.directory.person_of

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
                period=Period.of(window), repo=q.repo, team=q.team, cycle_time=stage(cur.cycle_time),
                cycle_time_definition=cur.cycle_time_definition,  # type: ignore[arg-type]
                coding_time=stage(cur.coding), pickup_time=stage(cur.pickup), review_time=stage(cur.review),
                deploy_time=stage(cur.deploy), throughput=cur.throughput, throughput_per_week=cur.throughput_per_week,
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
            prs = load_pull_requests(self.store, repo_ids, since=window.start_ts, identities=idents, person_of=person_of)
            f = review_figures(prs, window.start_ts, window.end_ts, person_of)
            source = _data_source(prs)
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
                unreviewed_merges=f.unreviewed_merges,
                unreviewed_merge_percent=round(100.0 * f.unreviewed_merges / f.merged, 1) if f.merged else None,
                reviewer_load=[ReviewerLoadItem(reviewer=x.reviewer, reviews=x.reviews, prs_reviewed=x.prs_reviewed)
                               for x in f.reviewer_load[:10]],
                data_source=source, notes=notes,
            )

        return await self.store.run(work)

    async def get_value_stream(self, q: FlowQuery) -> ValueStream:
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
                period=Period.of(window), repo=q.repo, team=q.team, idea_to_commit=stage(v.idea_to_commit),
                commit_to_merge=stage(v.commit_to_merge), merge_to_deploy=stage(v.merge_to_deploy),
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
        def work() -> TeamList:
            rows = self._team_rows()
            notes = [] if rows else ["No team is configured: add [teams.<name>] repos = [...] / people = [...] to engmetrics.toml."]
            notes += [f"Team {r['name']}: {', '.join(r['unknown_repos'])} not synced." for r in rows if r["unknown_repos"]]
            return TeamList(teams=[TeamInfo(**r) for r in rows], total=len(rows), notes=notes)

        return await self.store.run(work)


    def _team_rows(self) -> list[dict[str, Any]]:
        """Each configured team as a dict: name, repos, people, member_count, unknown_repos (names not in the
        store); on an engine serving some repositories only, teams none of whose repositories is served are left out."""
        d = self.ctx.directory
        conn = self.store.read()
        known = {r.name for r in list_repositories(conn)}
        served = self.ctx.served_ids

        def is_served(t: Team) -> bool:
            if served is None:
                return True
            if not t.repos:
                return any(i in served for i in team_repo_ids(conn, d, t.name))
            for name in t.repos:
                try:
                    if find_repository(conn, name).id in served:
                        return True
                except NotFound:  # listed but not in the store (reported as unknown_repos)
                    continue
            return False

        return [
            {
                "name": t.name,
                "repos": list(t.repos),
                "people": sorted(d.members(t)),
                "member_count": len(d.members(t)),
                "unknown_repos": [r for r in t.repos if r not in known],
            }
            for t in sorted(d.teams.values(), key=lambda t: t.name.lower())
            if is_served(t)
        ]


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


