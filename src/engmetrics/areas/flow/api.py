"""The flow area's interface: pull requests, reviews, flow, value stream and teams."""

from __future__ import annotations

from abc import ABC, abstractmethod

from engmetrics.areas.flow.models import (
    FlowMetrics,
    FlowQuery,
    PullRequestList,
    PullRequestQuery,
    ReviewMetrics,
    StuckPullRequestList,
    StuckQuery,
    TeamList,
    ValueStream,
)
from engmetrics.operations import Tool, operation


GET_FLOW_METRICS_TOOL = Tool(
    title='Flow metrics',
    description="""\
Flow metrics from pull requests for a time window: cycle time (median and P85 hours, first commit → production; \
first commit → merge when nothing was deployed, see cycle_time_definition) split into coding time (first commit \
→ PR opened), pickup time (opened → first review by someone else), review time (first review → merge) and deploy \
time (merge → production); throughput (PRs merged), wip_count (PRs open at the window's end), flow_efficiency \
(active time ÷ elapsed, 0–1) and the PR size distribution. Previous-window cycle time and throughput give the \
trend.

Use it for "where does the time go between commit and production?", "how is the Platform team's cycle time \
trending?", "how many PRs do we merge a week?".
Arguments: period (default last_30_days) or from/to; repo or team to narrow. With git data only (no GitHub), \
coding/pickup/review are null and `notes` says why — report that, don't guess.
Example: get_flow_metrics(period="last_30_days", team="platform") → {"cycle_time": {"median_hours": 30.5, \
"p85_hours": 80.1, ...}, "pickup_time": {"median_hours": 3.2, ...}, "throughput": 18, "wip_count": 6, \
"flow_efficiency": 0.41, ...}
""",
)

GET_REVIEW_METRICS_TOOL = Tool(
    title='Code review metrics',
    description="""\
Code review metrics for a time window: avg_review_cycle_time (mean hours opened → merge of reviewed PRs merged), \
avg_first_response_time (mean hours opened → first review by someone else), total_reviewed (PRs reviewed), \
review depth (comments_per_review), rework (commits pushed after the first review), unreviewed merges, and \
reviewer load per person (top 10). Self-reviews never count. Needs GitHub data (git alone has no reviews).

Use it for "what's our review turnaround?", "who is carrying the review load?", "how many PRs merge \
unreviewed?".
Arguments: period (default last_30_days) or from/to; repo or team.
Example: get_review_metrics(period="last_month", repo="webapp") → {"avg_review_cycle_time": 6.1, \
"avg_first_response_time": 1.8, "total_reviewed": 94, "unreviewed_merges": 3, "reviewer_load": [...]}
""",
)

GET_VALUE_STREAM_TOOL = Tool(
    title='Value stream',
    description="""\
Value stream over PRs merged in a window, in hours: idea_to_commit (linked issue created → first commit, when a \
PR closes an issue), commit_to_merge (first commit → merge), merge_to_deploy (merge → first production \
deployment containing it), and total_lead_time (sum of the stage medians). Each stage has median, P85, mean and \
count.

Use it for "where is the bottleneck from idea to production?".
Arguments: period (default last_30_days) or from/to; repo or team.
Example: get_value_stream(period="last_quarter") → {"idea_to_commit": {"median_hours": 76.8, ...}, \
"commit_to_merge": {"median_hours": 26.4, ...}, "merge_to_deploy": {"median_hours": 9.6, ...}, \
"total_lead_time": 112.8}
""",
)

LIST_PULL_REQUESTS_TOOL = Tool(
    title='Pull requests',
    description="""\
Pull requests with their lifecycle (coding, pickup, review, deploy and cycle hours), newest activity first, \
paginated. A PR is listed when it was opened, merged or closed in the window, or is still open.

Use it for "which PRs did Ada merge last week?", "show open PRs in webapp", "which PR took longest to deploy?".
Arguments: state (open | merged | closed | all, default all); author (GitHub login, email or person id from \
engmetrics.toml; substring); repo or team; period (default last_30_days) or from/to; limit (1–100, default 20) \
and cursor (from the previous page).
Example: list_pull_requests(state="merged", author="ada", period="last_7_days", limit=5) → {"items": [{"repo": \
"webapp", "number": 1847, "title": "...", "cycle_hours": 30.2, ...}], "total": 12, "cursor": "..."}
""",
)

LIST_STUCK_PULL_REQUESTS_TOOL = Tool(
    title='Stuck pull requests',
    description="""\
Open, non-draft pull requests waiting longest, with why: waiting_for_review (no review by anyone but the \
author), approved_not_merged, changes_requested (author has not pushed since), waiting_for_re_review (pushed \
after the last review). Each has waiting_hours and waiting_since. Needs GitHub data (git only knows merged PRs).

Use it for "which PRs are stuck?", "what's waiting on review in the Platform team?".
Arguments: repo or team; min_hours (default 24: only PRs waiting at least this long); limit and cursor.
Example: list_stuck_pull_requests(team="platform") → {"items": [{"repo": "api", "number": 412, "reason": \
"waiting_for_review", "why": "No review by anyone but the author yet. Waiting 73 h.", "waiting_hours": 73.1}], \
...}
""",
)

LIST_TEAMS_TOOL = Tool(
    title='Teams',
    description="""\
The teams defined in engmetrics.toml ([teams.<name>] repos = [...], people = [...]) with their repositories and \
people (person ids; one person's several emails/logins are merged via [people.<id>]). Pass a team's name as \
`team` to any metrics tool.

Use it for "which teams are there?" or before asking a metric by team.
Example: list_teams() → {"teams": [{"name": "platform", "repos": ["api", "infra"], "people": ["ada", "grace"], \
"member_count": 2}], "total": 1}
""",
)


class FlowApi(ABC):
    """Pull requests, reviews, flow and teams."""

    @operation("GET", "/flow", tool=GET_FLOW_METRICS_TOOL)
    @abstractmethod
    async def get_flow_metrics(self, q: FlowQuery) -> FlowMetrics:
        """Flow metrics: PR cycle time and stages, throughput, WIP, flow efficiency, PR sizes."""

    @operation("GET", "/review-metrics", tool=GET_REVIEW_METRICS_TOOL)
    @abstractmethod
    async def get_review_metrics(self, q: FlowQuery) -> ReviewMetrics:
        """Code review metrics: review cycle, first response, depth, rework, unreviewed merges, load."""

    @operation("GET", "/value-stream", tool=GET_VALUE_STREAM_TOOL)
    @abstractmethod
    async def get_value_stream(self, q: FlowQuery) -> ValueStream:
        """Value stream: idea → commit → merge → deploy, hours."""

    @operation("GET", "/pull-requests", tool=LIST_PULL_REQUESTS_TOOL)
    @abstractmethod
    async def list_pull_requests(self, q: PullRequestQuery) -> PullRequestList:
        """Pull requests with their lifecycle, newest activity first, paginated."""

    @operation("GET", "/pull-requests/stuck", tool=LIST_STUCK_PULL_REQUESTS_TOOL)
    @abstractmethod
    async def list_stuck_pull_requests(self, q: StuckQuery) -> StuckPullRequestList:
        """Open PRs waiting longest for review or after approval, with why."""

    @operation("GET", "/teams", tool=LIST_TEAMS_TOOL)
    @abstractmethod
    async def list_teams(self) -> TeamList:
        """Teams defined in engmetrics.toml."""
