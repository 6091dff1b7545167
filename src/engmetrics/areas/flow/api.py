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
    toolset="flow",
    description="""\
Flow metrics from pull requests in a window: cycle time (median, P85 hours; first commit → production) split into \
coding, pickup, review and deploy time; throughput (PRs merged), wip_count, flow_efficiency (0–1) and PR sizes, \
with the previous window's cycle time and throughput. Git-only data leaves coding/pickup/review null with a note: \
report that, don't guess.
Use it for "where does the time go between commit and production?", "how many PRs do we merge a week?".
Example: get_flow_metrics(team="platform") → {"cycle_time": {"median_hours": 30.5, "p85_hours": 80.1}, \
"throughput": 18, "wip_count": 6, ...}
""",
)

GET_REVIEW_METRICS_TOOL = Tool(
    title='Code review metrics',
    toolset="flow",
    description="""\
Code review in a window (needs GitHub data): mean hours opened → merge of reviewed PRs and to the first review by \
someone else, PRs reviewed, comments per review, commits after the first review, unreviewed merges and reviewer \
load per person (top 10). Self-reviews never count.
Use it for "what's our review turnaround?", "who carries the review load?".
Example: get_review_metrics(period="last_month", repo="webapp") → {"avg_review_cycle_time": 6.1, \
"avg_first_response_time": 1.8, "unreviewed_merges": 3, ...}
""",
)

GET_VALUE_STREAM_TOOL = Tool(
    title='Value stream',
    toolset="flow",
    description="""\
Value stream of the PRs merged in a window, hours per stage (median, P85, mean, count): idea → first commit \
(linked issue), first commit → merge, merge → production; total_lead_time sums the medians.
Use it for "where is the bottleneck from idea to production?".
Example: get_value_stream(period="last_quarter") → {"commit_to_merge": {"median_hours": 26.4, ...}, \
"total_lead_time": 112.8, ...}
""",
)

LIST_PULL_REQUESTS_TOOL = Tool(
    title='Pull requests',
    toolset="flow",
    description="""\
Pull requests opened, merged or closed in a window (or still open), newest activity first, with coding, pickup, \
review, deploy and cycle hours.
Use it for "which PRs did Ada merge last week?", "open PRs in webapp", "which PR took longest to deploy?".
Example: list_pull_requests(state="merged", author="ada", period="last_7_days", limit=5) → {"items": [{"repo": \
"webapp", "number": 1847, "cycle_hours": 30.2, ...}], "total": 12, "cursor": "..."}
""",
)

LIST_STUCK_PULL_REQUESTS_TOOL = Tool(
    title='Stuck pull requests',
    toolset="flow",
    description="""\
Open, non-draft pull requests waiting longest (needs GitHub data), with why: waiting_for_review, \
approved_not_merged, changes_requested, waiting_for_re_review, and hours waiting.
Use it for "which PRs are stuck?", "what waits on review in the Platform team?".
Example: list_stuck_pull_requests(team="platform") → {"items": [{"number": 412, "reason": "waiting_for_review", \
"waiting_hours": 73.1, ...}], ...}
""",
)

LIST_TEAMS_TOOL = Tool(
    title='Teams',
    toolset="flow",
    description="""\
The teams of engmetrics.toml with their repositories and people. Pass a name as `team` to any metrics tool.
Use it for "which teams are there?" or before asking a metric by team.
Example: list_teams() → {"teams": [{"name": "platform", "repos": ["api"], "people": ["ada"], "member_count": 1}]}
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
