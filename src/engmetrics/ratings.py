"""DORA performance levels (elite / high / medium / low) for a named year of the DORA report.

Sources
-------
- **2024**: *Accelerate State of DevOps Report 2024* (DORA / Google Cloud), software delivery
  performance levels table, p. 13 — https://services.google.com/fh/files/misc/2024_final_dora_report.pdf
  (also summarised at https://octopus.com/blog/2024-devops-performance-clusters):

  ========  ===========================  =====================================  ======  ======================
  level     change lead time             deployment frequency                   CFR     failed dep. recovery
  ========  ===========================  =====================================  ======  ======================
  elite     less than one day            on demand (multiple deploys per day)   5%      less than one hour
  high      between 1 day and 1 week     between once per day and once per week 20%     less than one day
  medium    between 1 week and 1 month   between once per week and once a month 10%     less than one day
  low       between 1 month and 6 months between once a month and once / 6 mo.  40%     between 1 week and 1 month
  ========  ===========================  =====================================  ======  ======================

- **2023**: *Accelerate State of DevOps Report 2023*, "How do you compare?" performance levels
  table — https://dora.dev/research/2023/dora-report/
  (summarised at https://octopus.com/blog/software-delivery-performance-clusters-2023):

  ========  ===========================  =====================================  ======  ======================
  level     change lead time             deployment frequency                   CFR     failed dep. recovery
  ========  ===========================  =====================================  ======  ======================
  elite     less than one day            on demand (multiple deploys per day)   5%      less than one hour
  high      between 1 day and 1 week     between once per day and once per week 10%     less than one day
  medium    between 1 week and 1 month   between once per week and once a month 15%     between 1 day and 1 week
  low       between 1 week and 1 month   between once per week and once a month 64%     between 1 month and 6 months
  ========  ===========================  =====================================  ======  ======================

How a single measured value is rated
------------------------------------
The report's levels are clusters over all four metrics together; to rate *one* metric we turn each
level's published band into a threshold and give a value **the best level whose threshold it meets**
(``value >= threshold`` for deployment frequency, where higher is better; ``value <= threshold`` for
lead time, change failure rate and recovery time, where lower is better). A value exactly at a
threshold gets the better level. ``low`` takes everything else. Units and conversions:

- deployment frequency in deploys per week: "on demand / multiple per day" → at least 7 per week (daily
  or more); "once per week" → 1; "once per month" → 7 / 30.4375 ≈ 0.23 per week.
- lead time and recovery time in hours: one hour → 1, one day → 24, one week → 168, one month → 730.5.
- change failure rate in percent: the level's published percentage is its upper bound.

Where the published table is not monotone, thresholds are made monotone by never letting a worse level's
threshold be stricter than a better one's (a running maximum from elite downwards, for lower-is-better
metrics). Consequences, documented rather than hidden:

- 2024 change failure rate: medium's published 10% is lower than high's 20%, so the effective bands are
  elite ≤ 5%, high ≤ 20%, low above; **medium is never given for CFR in 2024**.
- 2024 recovery time: high and medium share "less than one day", so medium is never given; values from
  one day up to one week (a gap in the table) are rated low.
- 2023 deployment frequency and lead time: low shares medium's band, so those values rate medium and
  low is only given beyond the band (less than once a month, more than a month).

Deployment rework rate (DORA 2024's fifth metric) has no published levels and gets no rating.
"""

from __future__ import annotations

from dataclasses import dataclass

from engmetrics.errors import InvalidInput
from engmetrics.models import Rating

SUPPORTED_YEARS: tuple[int, ...] = (2023, 2024)
DEFAULT_YEAR = 2024

HOUR = 1.0
DAY_HOURS = 24.0
WEEK_HOURS = 168.0
MONTH_DAYS = 365.25 / 12  # 30.4375
MONTH_HOURS = MONTH_DAYS * 24.0  # 730.5
DAILY_PER_WEEK = 7.0
WEEKLY_PER_WEEK = 1.0
MONTHLY_PER_WEEK = 7.0 / MONTH_DAYS  # ≈ 0.23

RATED_METRICS: tuple[str, ...] = ("deployment_frequency", "lead_time", "change_failure_rate", "mttr")
UNRATED_METRICS: tuple[str, ...] = ("rework_rate",)
_ALIASES = {
    "deployment_frequency": "deployment_frequency",
    "deploy_frequency": "deployment_frequency",
    "deploys_per_week": "deployment_frequency",
    "lead_time": "lead_time",
    "lead_time_for_changes": "lead_time",
    "change_lead_time": "lead_time",
    "change_failure_rate": "change_failure_rate",
    "change_fail_rate": "change_failure_rate",
    "cfr": "change_failure_rate",
    "mttr": "mttr",
    "recovery_time": "mttr",
    "failed_deployment_recovery_time": "mttr",
    "time_to_restore": "mttr",
    "rework_rate": "rework_rate",
    "deployment_rework_rate": "rework_rate",
}
_ORDER: tuple[Rating, ...] = ("elite", "high", "medium", "low")


@dataclass(frozen=True, slots=True)
class TierBound:
    """One performance level of one metric in one report year.

    ``threshold`` is the effective bound used by `rate` (in the metric's unit; None for ``low``, which
    takes everything else); ``published`` is the report's wording for the level.
    """

    rating: Rating
    threshold: float | None
    published: str


@dataclass(frozen=True, slots=True)
class MetricScale:
    """The levels of one metric for one report year, best first."""

    metric: str
    year: int
    unit: str
    higher_is_better: bool
    tiers: tuple[TierBound, ...]

    def meets(self, value: float, threshold: float | None) -> bool:
        """Whether ``value`` meets ``threshold`` in this metric's direction (None: always)."""
        if threshold is None:
            return True
        return value >= threshold if self.higher_is_better else value <= threshold


# (published wording, raw threshold) per level, elite → low; low's threshold is None (catch-all).
_RAW: dict[int, dict[str, list[tuple[str, float | None]]]] = {
    2023: {
        "deployment_frequency": [
            ("On demand (multiple deploys per day)", DAILY_PER_WEEK),
            ("Between once per day and once per week", WEEKLY_PER_WEEK),
            ("Between once per week and once per month", MONTHLY_PER_WEEK),
            ("Between once per week and once per month", None),
        ],
        "lead_time": [
            ("Less than one day", DAY_HOURS),
            ("Between one day and one week", WEEK_HOURS),
            ("Between one week and one month", MONTH_HOURS),
            ("Between one week and one month", None),
        ],
        "change_failure_rate": [("5%", 5.0), ("10%", 10.0), ("15%", 15.0), ("64%", None)],
        "mttr": [
            ("Less than one hour", HOUR),
            ("Less than one day", DAY_HOURS),
            ("Between one day and one week", WEEK_HOURS),
            ("Between one month and six months", None),
        ],
    },
    2024: {
        "deployment_frequency": [
            ("On demand (multiple deploys per day)", DAILY_PER_WEEK),
            ("Between once per day and once per week", WEEKLY_PER_WEEK),
            ("Between once per week and once per month", MONTHLY_PER_WEEK),
            ("Between once per month and once every six months", None),
        ],
        "lead_time": [
            ("Less than one day", DAY_HOURS),
            ("Between one day and one week", WEEK_HOURS),
            ("Between one week and one month", MONTH_HOURS),
            ("Between one month and six months", None),
        ],
        "change_failure_rate": [("5%", 5.0), ("20%", 20.0), ("10%", 10.0), ("40%", None)],
        "mttr": [
            ("Less than one hour", HOUR),
            ("Less than one day", DAY_HOURS),
            ("Less than one day", DAY_HOURS),
            ("Between one week and one month", None),
        ],
    },
}
_UNITS = {
    "deployment_frequency": "deploys_per_week",
    "lead_time": "hours",
    "change_failure_rate": "percent",
    "mttr": "hours",
}


def check_year(year: int | None) -> int:
    """``year`` if it is a supported report year (None → `DEFAULT_YEAR`); else `InvalidInput`."""
    if year is None:
        return DEFAULT_YEAR
    if year not in SUPPORTED_YEARS:
        years = ", ".join(str(y) for y in SUPPORTED_YEARS)
        raise InvalidInput(
            f"benchmark_year {year} is not supported; use one of {years} (default {DEFAULT_YEAR}).",
            param="benchmark_year",
        )
    return year


def canonical_metric(metric: str) -> str:
    """The canonical metric name for ``metric`` or an alias ('recovery_time' → 'mttr'); `InvalidInput` if unknown."""
    key = metric.strip().lower().replace("-", "_").replace(" ", "_")
    if key not in _ALIASES:
        known = ", ".join(RATED_METRICS + UNRATED_METRICS)
        raise InvalidInput(f"Unknown DORA metric {metric!r}; use one of {known}.", param="metric")
    return _ALIASES[key]


def _build(metric: str, year: int) -> MetricScale:
    higher = metric == "deployment_frequency"
    tiers: list[TierBound] = []
    running: float | None = None
    for rating, (published, raw) in zip(_ORDER, _RAW[year][metric], strict=True):
        threshold = raw
        if raw is not None and running is not None:
            # Monotone envelope: a worse level is never stricter than a better one.
            threshold = min(raw, running) if higher else max(raw, running)
        if threshold is not None:
            running = threshold
        tiers.append(TierBound(rating, threshold, published))
    return MetricScale(metric, year, _UNITS[metric], higher, tuple(tiers))


_SCALES: dict[tuple[str, int], MetricScale] = {(m, y): _build(m, y) for y in SUPPORTED_YEARS for m in RATED_METRICS}


def tier_bounds(metric: str, year: int | None = DEFAULT_YEAR) -> MetricScale | None:
    """The levels of ``metric`` for report ``year`` (best first, with effective thresholds), or None for
    the rework rate, which has no published levels. Unknown year or metric → `InvalidInput`."""
    y = check_year(year)
    m = canonical_metric(metric)
    if m in UNRATED_METRICS:
        return None
    return _SCALES[(m, y)]


def rate(metric: str, value: float | None, year: int | None = DEFAULT_YEAR) -> Rating | None:
    """The DORA level of ``value`` (in the metric's unit: deploys/week, hours, percent) for report ``year``.

    None when ``value`` is None or the metric has no levels (rework rate). A value exactly at a
    threshold gets the better level.
    """
    scale = tier_bounds(metric, year)
    if scale is None or value is None:
        return None
    for tier in scale.tiers:
        if scale.meets(value, tier.threshold):
            return tier.rating
    return "low"  # pragma: no cover - low's threshold is None


def next_tier(metric: str, value: float | None, year: int | None = DEFAULT_YEAR) -> TierBound | None:
    """The next better level that ``value`` could actually reach, with the threshold to reach; None at
    elite, without a value, or for unrated metrics. Levels that `rate` never gives are skipped."""
    scale = tier_bounds(metric, year)
    if scale is None or value is None:
        return None
    current = rate(metric, value, year)
    index = _ORDER.index(current)
    for tier in reversed(scale.tiers[:index]):
        if tier.threshold is not None and rate(metric, tier.threshold, year) == tier.rating:
            return tier
    return None


def distance_to_next_tier(metric: str, value: float | None, year: int | None = DEFAULT_YEAR) -> float | None:
    """How far ``value`` is from the next reachable level's threshold, in the metric's unit (always ≥ 0);
    None at elite, without a value, or for unrated metrics."""
    tier = next_tier(metric, value, year)
    if tier is None or tier.threshold is None or value is None:
        return None
    return abs(value - tier.threshold)
