"""The health score: a weighted mean of signal points (green 100, amber 60, red 20) over the signals that have a
status, rounded to an integer 0–100; green at ≥ 75, amber at ≥ 50, red below.

Default weights (ENGMETRICS_HEALTH_WEIGHTS changes any; 0 leaves a signal out): change_failure_rate 2,
mttr 1.5, open_incident_rate 1.5, deployment_frequency 1, lead_time 1, pr_review_time 1, test_coverage 1,
task_throughput 1, test_touch_ratio 0.5, code_churn 0.5; a custom metric on the scorecard 1.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

POINTS = {"green": 100, "amber": 60, "red": 20}
DEFAULT_WEIGHTS: dict[str, float] = {
    "change_failure_rate": 2.0, "mttr": 1.5, "open_incident_rate": 1.5, "deployment_frequency": 1.0,
    "lead_time": 1.0, "pr_review_time": 1.0, "test_coverage": 1.0, "task_throughput": 1.0,
    "test_touch_ratio": 0.5, "code_churn": 0.5,
}
OTHER_WEIGHT = 1.0
GREEN_SCORE = 75
AMBER_SCORE = 50


def weights(overrides: Mapping[str, float] | None) -> dict[str, float]:
    """The default weights with ``overrides`` applied (negative weights count as 0)."""
    return {**DEFAULT_WEIGHTS, **{k: max(0.0, float(v)) for k, v in (overrides or {}).items()}}


def weight_of(metric: str, table: Mapping[str, float]) -> float:
    """A signal's weight (`OTHER_WEIGHT` for a metric not in the table)."""
    return table.get(metric, OTHER_WEIGHT)


def score(signals: Sequence[tuple[str | None, float]]) -> int | None:
    """Σ weight × points ÷ Σ weight over the (status, weight) pairs with a status and a positive weight, rounded;
    None when there are none."""
    scored = [(POINTS[s], w) for s, w in signals if s is not None and w > 0]
    total = sum(w for _, w in scored)
    return round(sum(p * w for p, w in scored) / total) if total else None


def band(value: int | None) -> str | None:
    """green ≥ 75, amber ≥ 50, red below; None without a score."""
    if value is None:
        return None
    return "green" if value >= GREEN_SCORE else "amber" if value >= AMBER_SCORE else "red"
