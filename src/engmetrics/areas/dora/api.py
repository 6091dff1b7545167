"""The DORA area's interface: the DORA figures, deployments and incidents, and the events that feed them."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from pathlib import Path

from engmetrics.areas.dora.models import Deployment, DeploymentList, DoraReport, IncidentList
from engmetrics.areas.repos.models import ImportReport
from engmetrics.operations import Tool, operation
from engmetrics.periods import Bucket, Window
from engmetrics.areas.dora.models import DeploymentQuery, DoraQuery, IncidentQuery


GET_DORA_TOOL = Tool(
    title='DORA metrics',
    toolset="dora",
    description="""\
DORA metrics for a window: deployment frequency (per week), lead time for changes (median hours, commit → \
production), change failure rate (percent; each failed deployment with its signal: incident, revert, hotfix), \
recovery time (`mttr`, median hours) and rework rate, each rated for `benchmark_year`, with its trend against the \
previous window. A null figure comes with a note: report it, never guess.
Use it for "how are our DORA metrics?", "how often do we deploy?", "our change failure rate this quarter?".
Example: get_dora(period="last_quarter", repo="webapp") → {"deployment_frequency": {"value": 4.2, "unit": \
"deploys_per_week", "rating": "high", "trend": "+12%"}, ...}
""",
)

LIST_DEPLOYMENTS_TOOL = Tool(
    title='Deployments',
    toolset="delivery",
    description="""\
Deployments in a window, newest first: repo, sha, environment, time, release tag, commits shipped and their median \
lead time, whether it failed (signal: incident, revert, hotfix) or was rework. From deployment events, else \
release tags (v1.2.3).
Use it for "what did we ship last week?", "which deploys failed?".
Example: list_deployments(period="last_7_days", repo="webapp", limit=10) → {"items": [{"deployed_at": \
"2025-02-14T15:30:00Z", "tag": "v2.3.0", "change_count": 12, "failed": false, ...}], "total": 3, "cursor": null}
""",
)

LIST_INCIDENTS_TOOL = Tool(
    title='Incidents',
    toolset="delivery",
    description="""\
Production incidents open at any time in a window, newest first: title, severity, status, start and resolution \
times, duration (hours) and the deployment it is attributed to.
Use it for "what incidents did we have this month?", "is anything still open?" (status="open").
Example: list_incidents(period="last_30_days", status="open") → {"items": [{"id": "INC-12", "title": "Checkout \
errors", "status": "open", "deployment_id": "..."}], "total": 1, "cursor": null}
""",
)


class DoraApi(ABC):
    """DORA figures and the deployments and incidents behind them."""

    @operation("GET", "/metrics/dora", tool=GET_DORA_TOOL)
    @abstractmethod
    async def get_dora(self, q: DoraQuery) -> DoraReport:
        """The five DORA figures for a window."""

    @operation("GET", "/deployments", tool=LIST_DEPLOYMENTS_TOOL)
    @abstractmethod
    async def list_deployments(self, q: DeploymentQuery) -> DeploymentList:
        """Deployments in a window, newest first, paginated."""

    @operation("GET", "/incidents", tool=LIST_INCIDENTS_TOOL)
    @abstractmethod
    async def list_incidents(self, q: IncidentQuery) -> IncidentList:
        """Incidents in a window, newest first, paginated."""

    # ---- in process only (other areas, the CLI) -----------------------------------------------------

    @abstractmethod
    async def dora_for_window(self, window: Window, repo_ids: list[int] | None, benchmark_year: int,
                              repo: str | None = None, team: str | None = None) -> DoraReport:
        """`get_dora` for an exact window and repository ids (what reports and scorecards build on)."""

    @abstractmethod
    async def metric_series(self, buckets: Sequence[Bucket], repo_ids: list[int] | None,
                            metrics: Sequence[str]) -> dict[str, list[float | None]]:
        """Per DORA metric of ``metrics`` (`DORA_SERIES_METRICS`), its value in each bucket (units as in
        `get_dora`; deployment frequency 0 in an empty bucket once the scope has history)."""

    @abstractmethod
    async def commits_between(self, repo_id: int, ranges: Sequence[tuple[str, str]]) -> list[list[str] | None]:
        """For each ``(base, head)`` pair of full commit shas of repository ``repo_id``: the shas reachable from
        head and not from base (``git rev-list base..head``, merges included), None when either is not stored.
        What a pull request's merge commit brought in is ``(first parent, second parent)``."""

    @abstractmethod
    async def record_deployment(self, repo: str, sha: str, *, environment: str = "production", status: str = "success",
                                at: str | None = None, service: str | None = None) -> Deployment:
        """Store one deployment event (what a CD pipeline calls after a deploy) and re-derive its repository."""

    @abstractmethod
    async def import_events(self, path: str | Path, kind: str) -> ImportReport:
        """Import deployments or incidents (CSV or JSON) and re-derive the repositories they touch."""
