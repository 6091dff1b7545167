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
from engmetrics.operations import operation


class FlowApi(ABC):
    """Pull requests, reviews, flow and teams."""

    @operation("GET", "/flow")
    @abstractmethod
    async def get_flow_metrics(self, q: FlowQuery) -> FlowMetrics:
        """Flow metrics: PR cycle time and stages, throughput, WIP, flow efficiency, PR sizes."""

    @operation("GET", "/review-metrics")
    @abstractmethod
    async def get_review_metrics(self, q: FlowQuery) -> ReviewMetrics:
        """Code review metrics: review cycle, first response, depth, rework, unreviewed merges, load."""

    @operation("GET", "/value-stream")
    @abstractmethod
    async def get_value_stream(self, q: FlowQuery) -> ValueStream:
        """Value stream: idea → commit → merge → deploy, hours."""

    @operation("GET", "/pull-requests")
    @abstractmethod
    async def list_pull_requests(self, q: PullRequestQuery) -> PullRequestList:
        """Pull requests with their lifecycle, newest activity first, paginated."""

    @operation("GET", "/pull-requests/stuck")
    @abstractmethod
    async def list_stuck_pull_requests(self, q: StuckQuery) -> StuckPullRequestList:
        """Open PRs waiting longest for review or after approval, with why."""

    @operation("GET", "/teams")
    @abstractmethod
    async def list_teams(self) -> TeamList:
        """Teams defined in engmetrics.toml."""
