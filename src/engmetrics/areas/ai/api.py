"""The AI-impact area's interface: how much of the code AI writes and what it does to stability; Copilot usage in
Koalr's shape; the AI sources' sync and imports."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path

from engmetrics.areas.ai.models import AiImpact, AiImpactQuery, AiSyncReport, CopilotQuery, CopilotUsage
from engmetrics.areas.repos.models import ImportReport
from engmetrics.operations import Tool, operation
from engmetrics.periods import Bucket, Window

GET_AI_IMPACT_TOOL = Tool(
    title="AI-assisted code and its impact",
    toolset="ai",
    description="""\
How much of the code AI writes, and whether AI-assisted changes fare worse. Over the non-merge commits authored in \
a window: `ai_share_of_lines_percent` (AI lines from Cursor's tracking data ÷ lines added; null without tracking \
data), `ai_assisted_commits_percent` (commits with AI lines or an AI co-author trailer such as "Co-authored-by: \
Claude"), by source (tab, composer, trailer_only), by tool, by person and team, and `adoption` (people with \
AI-assisted commits ÷ people who committed). `stability` groups the changes into none / some (under 50% AI lines) / \
mostly (50%+ or trailer-marked), each with its bug-inducing rate (SZZ), reverted rate, share shipped in failed \
deployments and median review time, with 95% intervals and the difference to `none`; `summary` says in plain words \
whether a difference is significant or the groups are too small. It is an association, never a cause: say so. \
`copilot` has GitHub Copilot's adoption, acceptance and estimated hours saved when its data is synced.

Use it for "how much of our code is AI-written?", "is AI hurting our stability?", "who uses AI?". For the trend \
week by week, get_metric_series(metric="ai_share_of_lines" | "ai_assisted_commits" | "ai_adoption").
Arguments: period (default last_30_days) or from/to; repo or team; author (a person's email, login or id).
Example: get_ai_impact(period="last_90_days", repo="webapp") → {"commits": 412, "ai_share_of_lines_percent": 23.4, \
"ai_assisted_commits_percent": 38.1, "adoption": {"people": 6, "ai_people": 4, "adoption_percent": 66.67}, \
"stability": {"groups": [{"group": "none", "changes": 255, "bug_inducing": {"percent": 8.2, "ci_percent": [5.4, \
12.2]}, ...}], "summary": ["Changes mostly written with AI were bug-inducing in 11.0% ... not a significant \
difference ...", ...]}, ...}
""",
)


class AiApi(ABC):
    """AI-assisted code: shares, adoption, stability by AI share, Copilot usage; the AI sources."""

    @operation("GET", "/ai/impact", tool=GET_AI_IMPACT_TOOL)
    @abstractmethod
    async def get_ai_impact(self, q: AiImpactQuery) -> AiImpact:
        """AI share of lines and commits, by source, person and team, adoption, and stability by AI share."""

    @operation("GET", "/copilot")
    @abstractmethod
    async def get_copilot(self, q: CopilotQuery) -> CopilotUsage:
        """GitHub Copilot adoption rate, acceptance rate and estimated hours saved (Koalr's /copilot shape)."""

    # ---- in process only (other areas, the CLI) -----------------------------------------------------------

    @abstractmethod
    async def impact_for_window(self, window: Window, repo_ids: list[int] | None, repo: str | None = None,
                                team: str | None = None) -> AiImpact:
        """`get_ai_impact` for an exact window and repository ids (what reports and insights build on)."""

    @abstractmethod
    async def metric_series(self, buckets: Sequence[Bucket], repo_ids: list[int] | None,
                            metrics: Sequence[str]) -> dict[str, list[float | None]]:
        """Per AI metric of ``metrics`` (`AI_SERIES_METRICS`: ai_share_of_lines, ai_assisted_commits, ai_adoption,
        in percent), its value in each bucket over the commits authored in it (None for an empty bucket)."""

    @abstractmethod
    async def import_tracking(self, path: str | Path, kind: str) -> ImportReport:
        """Import Cursor tracking data from a file: ``kind`` 'ai-commits' or 'ai-changes' (CSV or JSON)."""

    @abstractmethod
    async def sync_sources(self, on_wait: Callable[[str, float], Awaitable[None]] | None = None, *,
                           use_csv: bool = False, user: str | None = None) -> AiSyncReport:
        """Bring the AI sources up to date: Cursor's AI Code Tracking API (ENGMETRICS_CURSOR_API_KEY) and GitHub
        Copilot's usage metrics (ENGMETRICS_COPILOT_ORG or _ENTERPRISE); ``on_wait`` hears of every rate-limit wait."""
