"""The risk area's interface: score a change, list a window's riskiest changes."""

from __future__ import annotations

from abc import ABC, abstractmethod

from engmetrics.areas.risk.models import (
    RiskEvaluation,
    RiskEvaluationQuery,
    RiskScore,
    RiskScoreQuery,
    RiskyChangeList,
    RiskyChangesQuery,
)
from engmetrics.operations import Tool, operation


SCORE_PR_RISK_TOOL = Tool(
    title='Change risk score',
    toolset="risk",
    description="""\
How risky is a change (branch, range, commit or pull request)? A 0–100 score (riskier than that share of this \
repository's past changes), a tier, the probability it brings a bug later fixed, a recommendation, and each \
signal's value, points and typical value, with a sentence for those that matter (code lines added, spread, \
history, author experience, tests, hotspots, sensitive paths). Docs/tests/CI-only changes score 0. A long range \
lists its riskiest commits, more by cursor.
Use it for "how risky is my branch?" (no arguments), "PR 1847?" (pr_number), "commit abc123?" (commit); give one \
of commit, base/head, pr_number.
Example: score_pr_risk(repo="api", pr_number=1847) → {"risk_score": 91, "tier": "high", "recommendation": "High \
risk: …", "signals": {...}}
""",
)

LIST_RISKY_CHANGES_TOOL = Tool(
    title='Riskiest recent changes',
    toolset="risk",
    description="""\
The riskiest commits of a window, riskiest first: 0–100 score, tier, the signals adding most points, and whether a \
later fix was traced to it.
Use it for "which recent changes should we double-check?", "our riskiest commits last month?".
Example: list_risky_changes(period="last_30_days", repo="api", limit=5) → {"items": [{"sha": "1a2b…", \
"risk_score": 97, "tier": "critical", "top_signals": ["la", "nf"], "later_fixed": false}], "total": 84, "cursor": \
"..."}
""",
)


class RiskApi(ABC):
    """Change risk: score a change, list the riskiest changes."""

    @operation("POST", "/pr-risk/score", tool=SCORE_PR_RISK_TOOL)
    @abstractmethod
    async def score_pr_risk(self, q: RiskScoreQuery) -> RiskScore:
        """Risk 0–100 of a change (branch, range, commit or PR), explained signal by signal."""

    @operation("GET", "/risk/changes", tool=LIST_RISKY_CHANGES_TOOL)
    @abstractmethod
    async def list_risky_changes(self, q: RiskyChangesQuery) -> RiskyChangeList:
        """The riskiest changes of a window, riskiest first."""

    # ---- in process only (the CLI, other areas) ----------------------------------------------------------

    @abstractmethod
    async def evaluate_risk(self, q: RiskEvaluationQuery) -> RiskEvaluation:
        """The risk model's measured accuracy on the repository's own past (time-ordered splits), against
        LApredict, Kamei and size alone."""

    @abstractmethod
    async def ensure_fix_labels(self, repo_ids: list[int] | None) -> None:
        """Trace the fixes of these repositories (None: every served one) to the commits that induced them (SZZ),
        labelling only what is new since the last time; a repository git cannot read is skipped. What the AI area's
        stability comparison reads."""
