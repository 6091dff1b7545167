"""The health area's models: the engineering health score with its signals (Scrums' ``GET /v1/intelligence/health``)
and the risk signals with evidence and recommended actions (``GET /v1/intelligence/risk``)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from engmetrics.models import Model, Period, TrendDirection
from engmetrics.queries import Scope, WindowArgs

Status = Literal["green", "amber", "red"]
RiskSeverity = Literal["low", "medium", "high"]


class HealthQuery(WindowArgs, Scope):
    """Arguments of get_health."""


class HealthSignal(Model):
    """One signal of the health score: its value and status now and in the previous period, and its weight."""

    metric: str
    value: float | None = Field(description="In `unit`, over the period")
    unit: str
    status: Status | None = Field(description="green/amber/red by the scorecard's thresholds")
    points: int | None = Field(description="green 100, amber 60, red 20")
    weight: float = Field(description="Its weight in the score (ENGMETRICS_HEALTH_WEIGHTS)")
    previous_value: float | None = None
    previous_status: Status | None = None
    change: str | None = Field(default=None, description="Relative change of the value vs the previous period, e.g. '+12%'")
    trend: TrendDirection | None = None
    reason: str


class HealthReport(Model):
    """Overall engineering health 0–100 with the signals behind it and what changed since the previous period."""

    score: int | None = Field(description="Weighted mean of the signals' points (green 100, amber 60, red 20), "
                              "0–100; null without any signal")
    status: Status | None = Field(description="green ≥ 75, amber ≥ 50, red below")
    previous_score: int | None = Field(description="The same score over the previous period of equal length")
    score_change: int | None = Field(description="score − previous_score, points")
    signals: list[HealthSignal]
    changed: list[str] = Field(description="Signals whose status changed since the previous period, in words")
    period: Period
    previous_period: Period
    repo: str | None = None
    team: str | None = None
    computed_at: str
    notes: list[str] = Field(default_factory=list)


class RiskQuery(WindowArgs, Scope):
    """Arguments of get_risk_signals."""


class RiskSignal(Model):
    """One engineering risk with the numbers behind it and what to do."""

    id: str = Field(description="Stable id, e.g. 'knowledge_concentration:webapp:src/payments'")
    type: Literal["cfr_rising_with_frequency", "review_time_growing", "prs_stuck", "batch_size_growing",
                  "knowledge_concentration", "coverage_falling", "ai_share_rising_stability_falling"]
    severity: RiskSeverity
    title: str
    evidence: list[str] = Field(description="The figures that raised it, in sentences")
    recommended_action: str
    metrics_referenced: list[str]


class RiskReport(Model):
    """Risk signals, most severe first."""

    risks: list[RiskSignal]
    period: Period
    repo: str | None = None
    team: str | None = None
    computed_at: str
    checked: list[str] = Field(description="The risks looked for (a risk absent from `risks` was not found)")
    notes: list[str] = Field(default_factory=list)
