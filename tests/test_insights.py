"""Insights that must and must not fire on planted series; benchmarks against the DORA tiers."""

from __future__ import annotations

import anyio

from engmetrics.areas.reports.metrics.insights import (
    anomaly_insights,
    compute_insights,
    correlation_insights,
    robust_z,
    spearman,
    trend_insights,
)
from engmetrics.areas.reports.models import BenchmarkQuery, InsightsQuery, MetricSeriesQuery

LABELS = [f"2026-W{i:02d}" for i in range(1, 13)]
NOW = "2026-04-01T00:00:00Z"


def test_sustained_worsening_trend_fires_and_flat_does_not() -> None:
    cfr = [5.0] * 8 + [5.0, 8.0, 12.0, 20.0]
    found = trend_insights(LABELS, {"change_failure_rate": cfr}, "webapp", NOW)
    assert len(found) == 1
    ins = found[0]
    assert ins.type == "trend" and ins.severity == "high" and ins.metrics_referenced == ["change_failure_rate"]
    assert "5% in 2026-W09" in ins.body and "20% in 2026-W12" in ins.body
    # Two rising steps only, or a stall inside the run, or a gap: nothing.
    assert not trend_insights(LABELS, {"change_failure_rate": [5.0] * 10 + [8.0, 12.0]}, "w", NOW)
    assert not trend_insights(LABELS, {"change_failure_rate": [5.0] * 8 + [5.0, 8.0, 8.2, 20.0]}, "w", NOW)
    assert not trend_insights(LABELS, {"change_failure_rate": [5.0] * 8 + [5.0, None, 12.0, 20.0]}, "w", NOW)


def test_improving_trend_respects_polarity() -> None:
    freq = [1.0] * 8 + [1.0, 2.0, 3.0, 4.0]
    found = trend_insights(LABELS, {"deployment_frequency": freq}, "w", NOW)
    assert found and found[0].severity == "low" and "improving" in found[0].title
    lead = [10.0] * 8 + [10.0, 11.0, 12.2, 13.5]
    found = trend_insights(LABELS, {"lead_time": lead}, "w", NOW)
    assert found and "worsening" in found[0].title and found[0].severity == "medium"


def test_anomaly_robust_z() -> None:
    history = [20.0, 22.0, 19.0, 21.0, 20.0, 23.0, 18.0, 20.0, 21.0, 22.0, 19.0]
    found = anomaly_insights(LABELS, {"lead_time": [*history, 60.0]}, "w", NOW)
    assert len(found) == 1 and found[0].type == "anomaly" and found[0].severity == "high"
    assert "robust z-score" in found[0].body and "60 h" in found[0].body
    assert not anomaly_insights(LABELS, {"lead_time": [*history, 24.0]}, "w", NOW)
    # Too little history: nothing.
    assert not anomaly_insights(LABELS[:5], {"lead_time": [20.0, 21.0, 19.0, 20.0, 90.0]}, "w", NOW)
    # A surprisingly good week is low severity.
    good = anomaly_insights(LABELS, {"lead_time": [*history, 1.0]}, "w", NOW)
    assert good and good[0].severity == "low"
    assert robust_z([1.0, 1.0, 1.0], 1.0) is None
    assert abs(robust_z([1.0, 2.0, 3.0, 4.0, 5.0], 3.0)) < 1e-9


def test_correlations_fire_only_when_strong() -> None:
    freq = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0]
    cfr = [2.0, 3.0, 3.5, 5.0, 6.0, 6.5, 8.0, 9.0, 11.0, 12.0]
    found = correlation_insights(LABELS[:10], {"deployment_frequency": freq, "change_failure_rate": cfr}, "w", NOW)
    assert len(found) == 1 and found[0].type == "recommendation"
    assert found[0].metrics_referenced == ["deployment_frequency", "change_failure_rate"] and "ρ 1" in found[0].body
    noise = [5.0, 1.0, 7.0, 2.0, 9.0, 3.0, 4.0, 8.0, 6.0, 5.5]
    assert not correlation_insights(LABELS[:10], {"deployment_frequency": freq, "change_failure_rate": noise}, "w", NOW)
    assert spearman([1, 2, 3], [3, 2, 1]) == -1.0
    assert spearman([1, 1, 1], [1, 2, 3]) is None


def test_quiet_series_give_no_insights() -> None:
    wobble = [10.0, 10.5, 9.8, 10.2, 10.1, 9.9, 10.0, 10.3, 9.7, 10.0, 10.1, 10.0]
    flat = {"deployment_frequency": wobble, "lead_time": wobble, "change_size": wobble[::-1]}
    assert compute_insights(LABELS, flat, "w", NOW) == []


def test_engine_insights_series_and_benchmarks(local_engine) -> None:
    from engmetrics import ratings

    async def go():  # type: ignore[no-untyped-def]
        ins = await local_engine.reports.get_insights(InsightsQuery(repo="sample", limit=2))
        series = await local_engine.reports.get_metric_series(MetricSeriesQuery(metric="recovery_time", period="last_90_days", repo="sample"))
        monthly = await local_engine.reports.get_metric_series(MetricSeriesQuery(metric="deployment_frequency", period="last_90_days", granularity="monthly"))
        bench = await local_engine.reports.get_benchmarks(BenchmarkQuery(year=2023, repo="sample"))
        return ins, series, monthly, bench

    ins, series, monthly, bench = anyio.run(go)
    assert ins.weeks_examined == 12 and len(ins.insights) <= 2
    severities = [i.severity for i in ins.insights]
    assert severities == sorted(severities, key=["high", "medium", "low"].index)
    assert series.metric == "mttr" and series.unit == "hours" and series.series[0].week.startswith("20")
    assert series.benchmark_median is None and series.benchmark_tiers["elite"] == 1.0
    assert all(p.week[4] == "-" and len(p.week) == 7 for p in monthly.series)
    assert any(p.value and p.value > 0 for p in monthly.series)
    assert bench.year == 2023 and len(bench.benchmarks) == 4
    for b in bench.benchmarks:
        assert b.tier == ratings.rate(b.metric, b.value, 2023)
        if b.next_tier_threshold is not None:
            assert abs(b.distance_to_next_tier - abs(b.value - b.next_tier_threshold)) < 0.02
