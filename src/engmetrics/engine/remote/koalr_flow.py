"""Koalr's flow endpoints mapped onto the flow area's models: ``GET /flow`` → get_flow_metrics, ``/review-metrics``
→ get_review_metrics, ``/value-stream`` → get_value_stream, ``/pull-requests`` (page/pageSize) → list_pull_requests,
``/teams`` → list_teams. ``team`` becomes Koalr's ``teamId`` where the endpoint takes one.

Koalr's figures are kept as sent; the seed states no units for these, so the readings taken are (each said in the
result's notes): cycleTime and the value-stream stages in days (×24 = hours here; they only add up with the rest
of Koalr's figures that way), review times in hours, flowEfficiency a ratio 0–1, ``…Secs`` seconds. Which
statistic a time is (median or mean) Koalr does not say except for the ``avg…`` review times: the others fill the
median. What Koalr does not send is null.
"""

from __future__ import annotations

from pydantic import BaseModel

from engmetrics.areas.flow.models import (
    FlowMetrics,
    FlowQuery,
    PullRequestList,
    PullRequestQuery,
    ReviewMetrics,
    StageFigure,
    TeamInfo,
    TeamList,
    ValueStream,
)
from engmetrics.engine.remote.koalr_client import MAX_PAGE_SIZE, DaysWindow, KoalrClient, KoalrPage, KoalrTeam, refuse
from engmetrics.engine.remote.units import exact
from engmetrics.models import Model
from engmetrics.operations import Operation

_HOURS_PER_DAY = 24.0
_MISSING = StageFigure(median_hours=None, p85_hours=None, mean_hours=None, count=None)


class KoalrFlowBody(Model):
    """GET /api/v1/flow."""

    cycleTime: float | None = None  # noqa: N815 - Koalr's names
    throughput: int | None = None
    wipCount: int | None = None  # noqa: N815
    flowEfficiency: float | None = None  # noqa: N815


class KoalrReviews(Model):
    """GET /api/v1/review-metrics."""

    avgReviewCycleTime: float | None = None  # noqa: N815
    avgFirstResponseTime: float | None = None  # noqa: N815
    totalReviewed: int | None = None  # noqa: N815


class KoalrValueStream(Model):
    """GET /api/v1/value-stream."""

    ideaToCommit: float | None = None  # noqa: N815
    commitToMerge: float | None = None  # noqa: N815
    mergeToDeploy: float | None = None  # noqa: N815
    totalLeadTime: float | None = None  # noqa: N815


class KoalrPullRequest(Model):
    """One pull request of GET /api/v1/pull-requests."""

    id: str | None = None
    number: int
    title: str
    repo: str
    author: str | None = None
    mergedAt: str | None = None  # noqa: N815
    cycleTimeSecs: float | None = None  # noqa: N815
    riskScore: float | None = None  # noqa: N815


def _days_stage(days: float | None) -> StageFigure:
    """A Koalr time in days as a stage whose median is that time in hours (count unknown)."""
    return StageFigure(median_hours=exact(days, _HOURS_PER_DAY), p85_hours=None, mean_hours=None, count=None)


def _sent(pairs: tuple[tuple[str, float | int | None], ...]) -> str:
    """'cycleTime 2.4, throughput 18' for the figures Koalr sent."""
    return ", ".join(f"{name} {value:g}" for name, value in pairs if value is not None) or "no figures"


def _source(path: str, span: DaysWindow, team_id: str | None) -> str:
    return f"Koalr's GET /api/v1{path}?days={span.days}" + (f"&teamId={team_id}" if team_id else "")


class KoalrFlow:
    """Koalr's flow, review, value-stream, pull-request and team endpoints as flow-area operations."""

    def __init__(self, api: KoalrClient) -> None:
        self.api = api

    async def flow_metrics(self, op: Operation, q: FlowQuery) -> BaseModel:
        """get_flow_metrics from ``GET /api/v1/flow`` (days, teamId)."""
        if q.repo:
            raise refuse("Koalr", "give flow metrics per repository",
                         "GET /api/v1/flow takes a team (teamId) but no repository. Pass team instead of repo.")
        span = self.api.days(q)
        team_id = await self.api.team_id(q.team)
        data = await self.api.get("/flow", params={"days": span.days, **({"teamId": team_id} if team_id else {})})
        f = self.api.parse(KoalrFlowBody, data, "/flow")
        return FlowMetrics(
            period=span.period, repo=None, team=q.team, cycle_time=_days_stage(f.cycleTime), cycle_time_definition=None,
            coding_time=_MISSING, pickup_time=_MISSING, review_time=_MISSING, deploy_time=_MISSING,
            throughput=f.throughput, throughput_per_week=None, wip_count=f.wipCount, flow_efficiency=f.flowEfficiency,
            size_distribution=None, size_median_lines=None, merged_not_deployed=None, data_source=None,
            notes=[
                f"From {_source('/flow', span, team_id)}, as sent: "
                + _sent((("cycleTime", f.cycleTime), ("throughput", f.throughput), ("wipCount", f.wipCount),
                         ("flowEfficiency", f.flowEfficiency))) + ".",
                "Koalr states no units: cycleTime read as days (×24 = cycle_time.median_hours; Koalr does not say "
                "which statistic or where its cycle ends), throughput as PRs merged in the window, wipCount as PRs "
                "open now, flowEfficiency as a ratio 0–1.",
                "Koalr sends no stage split (coding, pickup, review, deploy), no P85 or mean, no PR sizes and no "
                "previous window: they are null.",
            ],
        )

    async def review_metrics(self, op: Operation, q: FlowQuery) -> BaseModel:
        """get_review_metrics from ``GET /api/v1/review-metrics`` (days, teamId)."""
        if q.repo:
            raise refuse("Koalr", "give review metrics per repository",
                         "GET /api/v1/review-metrics takes a team (teamId) but no repository. Pass team instead of repo.")
        span = self.api.days(q)
        team_id = await self.api.team_id(q.team)
        data = await self.api.get("/review-metrics",
                                  params={"days": span.days, **({"teamId": team_id} if team_id else {})})
        r = self.api.parse(KoalrReviews, data, "/review-metrics")
        return ReviewMetrics(
            period=span.period, repo=None, team=q.team, avg_review_cycle_time=r.avgReviewCycleTime,
            median_review_cycle_time=None, avg_first_response_time=r.avgFirstResponseTime,
            median_first_response_time=None, total_reviewed=r.totalReviewed, reviews=None, comments_per_review=None,
            rework_commits_per_pr=None, rework_percent=None, merged=None, unreviewed_merges=None,
            unreviewed_merge_percent=None, reviewer_load=None, data_source=None,
            notes=[
                f"From {_source('/review-metrics', span, team_id)}, as sent: "
                + _sent((("avgReviewCycleTime", r.avgReviewCycleTime), ("avgFirstResponseTime", r.avgFirstResponseTime),
                         ("totalReviewed", r.totalReviewed))) + ".",
                "Koalr states no units: avgReviewCycleTime and avgFirstResponseTime read as hours (means, as their "
                "names say); Koalr does not define where its review cycle starts and ends.",
                "Koalr sends no medians, review count, depth, rework, unreviewed merges or reviewer load: they are null.",
            ],
        )

    async def value_stream(self, op: Operation, q: FlowQuery) -> BaseModel:
        """get_value_stream from ``GET /api/v1/value-stream`` (days only)."""
        if q.repo or q.team:
            raise refuse("Koalr", "give the value stream per repository or team",
                         "GET /api/v1/value-stream covers the whole organisation (it takes days only). Drop repo and team.")
        span = self.api.days(q)
        data = await self.api.get("/value-stream", params={"days": span.days})
        v = self.api.parse(KoalrValueStream, data, "/value-stream")
        return ValueStream(
            period=span.period, repo=None, team=None, idea_to_commit=_days_stage(v.ideaToCommit),
            commit_to_merge=_days_stage(v.commitToMerge), merge_to_deploy=_days_stage(v.mergeToDeploy),
            total_lead_time=exact(v.totalLeadTime, _HOURS_PER_DAY), merged=None,
            notes=[
                f"From Koalr's GET /api/v1/value-stream?days={span.days}, as sent: "
                + _sent((("ideaToCommit", v.ideaToCommit), ("commitToMerge", v.commitToMerge),
                         ("mergeToDeploy", v.mergeToDeploy), ("totalLeadTime", v.totalLeadTime))) + ".",
                "Koalr states no units: every stage read as days (×24 = hours here; each fills the stage's median, "
                "and totalLeadTime, their sum, is total_lead_time).",
                "Koalr sends no P85, mean or PR counts per stage and no merged count: they are null.",
            ],
        )

    async def pull_requests(self, op: Operation, q: PullRequestQuery) -> BaseModel:
        """list_pull_requests from ``GET /api/v1/pull-requests`` (days, teamId, page, pageSize); state 'merged',
        author and repo are filtered here."""
        if q.state in ("open", "closed"):
            raise refuse("Koalr", f"list {q.state} pull requests",
                         "its pull requests carry mergedAt only (no open or closed state). Ask for state='merged' or all.")
        span = self.api.days(q)
        team_id = await self.api.team_id(q.team)
        params: dict[str, str | int] = {"days": span.days}
        if team_id:
            params["teamId"] = team_id
        author = (q.author or "").casefold()
        filtered = bool(q.state == "merged" or author or q.repo)

        def keep(p: KoalrPullRequest) -> dict[str, object] | None:
            if q.state == "merged" and not p.mergedAt:
                return None
            if author and author not in (p.author or "").casefold():
                return None
            if q.repo and p.repo != q.repo and p.repo.split("/")[-1] != q.repo.split("/")[-1]:
                return None
            return {"repo": p.repo, "number": p.number, "title": p.title, "author": p.author,
                    "state": "merged" if p.mergedAt else None, "source": None, "merged_at": p.mergedAt,
                    "reviews": None, "cycle_hours": exact(p.cycleTimeSecs, 1 / 3600), "risk_score": p.riskScore}

        got = await self.api.pages("/pull-requests", params, q, KoalrPage[KoalrPullRequest], keep,
                                   page_size=MAX_PAGE_SIZE if filtered else q.limit)
        notes = [f"From {_source('/pull-requests', span, team_id)} (page by page): cycleTimeSecs (seconds) ÷ 3600 is "
                 "cycle_hours (Koalr does not say where its cycle starts and ends), riskScore is Koalr's 0–100 "
                 "score as sent; a PR with mergedAt is merged, one without has no state (Koalr does not say whether "
                 "it is open or closed). Koalr sends no review count, stage times or sizes (null)."]
        if filtered:
            notes.append("state, author and repo are filtered here (Koalr takes none of them), so total is null.")
        return PullRequestList.model_validate({"items": got.items, "total": None if filtered else got.total,
                                               "cursor": got.cursor, "notes": notes})

    async def teams(self, op: Operation) -> BaseModel:
        """list_teams from ``GET /api/v1/teams`` (also refreshes the engine's cache of team ids)."""
        teams: list[KoalrTeam] = await self.api.teams(refresh=True)
        return TeamList(
            teams=[TeamInfo(name=t.name or t.id, id=t.id, repos=None, people=None, member_count=t.memberCount,
                            created_at=t.createdAt) for t in teams],
            total=len(teams),
            notes=["Koalr's teams (GET /api/v1/teams): pass a team's name (or id) as `team` to get_flow_metrics, "
                   "get_review_metrics, list_pull_requests, list_deployments, forecast_delivery and forecast_backlog. "
                   "Koalr sends no repositories or people per team (null)."],
        )
