"""The risk area's interface: score a change, list a window's riskiest changes."""

from __future__ import annotations

from abc import ABC, abstractmethod


from engmetrics.operations import operation
from engmetrics.risk.models import (
    RiskEvaluation,
    RiskScore,
    RiskScoreQuery,
    RiskyChangeList,
    RiskyChangesQuery,
)


class RiskApi(ABC):
    """Change risk: score a change, list the riskiest changes."""

    @operation("POST", "/pr-risk/score")
    @abstractmethod
    async def score_pr_risk(self, q: RiskScoreQuery) -> RiskScore:
        """Risk 0–100 of a change (branch, range, commit or PR), explained signal by signal."""

    @operation("GET", "/risk/changes")
    @abstractmethod
    async def list_risky_changes(self, q: RiskyChangesQuery) -> RiskyChangeList:
        """The riskiest changes of a window, riskiest first."""

    # ---- in process only (the CLI) ---------------------------------------------------------------------

    @abstractmethod
    async def evaluate_risk(self, repo: str, *, bootstrap: int | None = None) -> RiskEvaluation:
        """The risk model's measured accuracy on the repository's own past (time-ordered splits)."""
