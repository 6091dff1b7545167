"""The health area's interface: the overall engineering health score and the risk signals (Scrums'
``/v1/intelligence/health`` and ``/v1/intelligence/risk``)."""

from __future__ import annotations

from abc import ABC, abstractmethod

from engmetrics.areas.health.models import HealthQuery, HealthReport, RiskQuery, RiskReport
from engmetrics.operations import Tool, operation

GET_HEALTH_TOOL = Tool(
    title="Engineering health",
    toolset="health",
    description="""\
An overall engineering health score 0–100 (green ≥ 75, amber ≥ 50, red below) with context: each contributing \
signal (the scorecard's: DORA figures, PR review time, test-touch ratio, test coverage, code churn, open incident \
rate, custom metrics with thresholds) with its value, status, weight and points, the same over the previous period \
of equal length, the score change, and which signals changed status. Weights: ENGMETRICS_HEALTH_WEIGHTS.

Use it for "how healthy is our engineering?", "what got better or worse since last month?".
Arguments: period (default last_30_days) or from/to; repo or team.
Example: get_health(repo="webapp") → {"score": 78, "status": "green", "previous_score": 71, "score_change": 7, \
"signals": [{"metric": "change_failure_rate", "value": 3.8, "status": "green", "weight": 2.0, ...}], "changed": \
["lead time: amber → green"]}
""",
)

GET_RISK_SIGNALS_TOOL = Tool(
    title="Risk signals",
    toolset="health",
    description="""\
Engineering risks found in the period (against the previous one of equal length), most severe first, each with \
severity (low, medium, high), evidence (the numbers) and a recommended action: change failure rate rising while \
deployment frequency rises; review time growing; PRs stuck ≥ 72 h; batch size growing; knowledge concentration \
(one person made ≥ 80% of the last 90 days' changes to a part of the code); coverage falling; AI-assisted \
commits' share rising while the failure rate rises. `checked` lists \
what was looked for — an empty `risks` means none was found; say so.

Use it for "what should we worry about?", "any risks in the payments repo?".
Arguments: period (default last_30_days) or from/to; repo or team.
Example: get_risk_signals(repo="webapp") → {"risks": [{"type": "knowledge_concentration", "severity": "high", \
"title": "One person made most changes to webapp:src/billing", "evidence": ["ada@example.com made 19 of the 20 \
commits ..."], "recommended_action": "Spread knowledge ..."}], "checked": [...]}
""",
)


class HealthApi(ABC):
    """The engineering health score and risk signals."""

    @operation("GET", "/intelligence/health", tool=GET_HEALTH_TOOL)
    @abstractmethod
    async def get_health(self, q: HealthQuery) -> HealthReport:
        """Overall engineering health 0–100 with its signals, weights and changes."""

    @operation("GET", "/intelligence/risk", tool=GET_RISK_SIGNALS_TOOL)
    @abstractmethod
    async def get_risk_signals(self, q: RiskQuery) -> RiskReport:
        """Engineering risks with evidence, severity and a recommended action."""
