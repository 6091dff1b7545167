"""Benchmarks: each DORA figure against the published tiers of a named DORA report year.

Uses `engmetrics.ratings`: the tier is `rate` (the best level whose threshold the value meets),
the next tier is `next_tier` (the next better level actually reachable), and the distance is
`distance_to_next_tier` (|value − threshold|, in the metric's unit). Rework rate has no published tiers
and is left out.
"""

from __future__ import annotations

from engmetrics import ratings
from engmetrics.areas.reports.models import Benchmark, BenchmarkReport
from engmetrics.errors import InvalidInput
from engmetrics.areas.dora.models import DoraReport

SOURCES = {
    2023: "Accelerate State of DevOps Report 2023 (DORA), performance levels table",
    2024: "Accelerate State of DevOps Report 2024 (DORA), software delivery performance levels, p. 13",
}


def benchmarks(report: DoraReport, computed_at: str) -> BenchmarkReport:
    """The four rated DORA figures of ``report`` with tier, next tier and distance for its benchmark year."""
    year = report.benchmark_year
    out = []
    for metric, fig in (
        ("deployment_frequency", report.deployment_frequency),
        ("lead_time", report.lead_time),
        ("change_failure_rate", report.change_failure_rate),
        ("mttr", report.mttr),
    ):
        scale = ratings.tier_bounds(metric, year)
        assert scale is not None
        tier = ratings.rate(metric, fig.value, year)
        nxt = ratings.next_tier(metric, fig.value, year)
        published = next((t.published for t in scale.tiers if t.rating == tier), None)
        out.append(
            Benchmark(
                metric=metric, value=fig.value, unit=scale.unit, tier=tier, tier_published=published,
                next_tier=nxt.rating if nxt else None,
                next_tier_threshold=round(nxt.threshold, 2) if nxt and nxt.threshold is not None else None,
                distance_to_next_tier=None if (d := ratings.distance_to_next_tier(metric, fig.value, year)) is None else round(d, 2),
            )
        )
    return BenchmarkReport(
        year=year, source=SOURCES.get(year, f"DORA report {year}"), period=report.period, repo=report.repo,
        team=report.team, computed_at=computed_at, benchmarks=out,
    )


def tier_thresholds(metric: str, year: int) -> dict[str, float | None] | None:
    """{rating: effective threshold} for a DORA metric (None for metrics without published tiers)."""
    try:
        scale = ratings.tier_bounds(metric, year)
    except InvalidInput:  # not a DORA metric (change size) or not a report year
        return None
    if scale is None:
        return None
    return {t.rating: (None if t.threshold is None else round(t.threshold, 2)) for t in scale.tiers}
