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
How much of the code AI writes and whether AI-assisted changes fare worse: `ai_share_of_lines_percent` (Cursor \
tracking's AI lines ÷ lines added), `ai_assisted_commits_percent` (AI lines or an AI co-author trailer), by \
source, tool, person, team; `adoption`; `stability` (no / some / mostly-AI changes: bug-inducing, reverted, failed \
rates with 95% intervals; `summary` in words). An association, never a cause: say so.
Use it for "how much of our code is AI-written?", "is AI hurting our stability?", "who uses AI?".
Example: get_ai_impact(period="last_90_days") → {"ai_share_of_lines_percent": 23.4, "ai_assisted_commits_percent": \
38.1, "stability": {"summary": [...]}, ...}
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
