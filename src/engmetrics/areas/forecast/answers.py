"""Answering forecast questions from a weekly throughput history (pure: arrays in, models out; items and
weeks, times in Unix seconds UTC).

The method (``METHOD``): simulate ``runs`` futures by the stationary bootstrap of the last ``window``
weeks; take the quantile curves of cumulative throughput; correct each confidence level by the
conformal correction learnt from forecasts at every past origin of the same history, then order the
levels (see `engmetrics.areas.forecast.metrics.calibration`); read completion weeks or item counts off the corrected
curves. Because the curves never cross (a more confident level never promises more items by any week),
P50 ≤ P85 ≤ P95 for dates and weeks, and the reverse for item counts by a date, at any start date.
Warnings (stale, short or thin history, very wide ranges, answers far from the history's pace) come from
`engmetrics.areas.forecast.metrics.caveats`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

import numpy as np

from engmetrics.areas.forecast.metrics.backtest import walk_forward
from engmetrics.areas.forecast.metrics.calendar import WorkCalendar
from engmetrics.areas.forecast.metrics.calibration import (
    CALIBRATION_RUNS,
    MIN_ORIGIN_HISTORY_WEEKS,
    apply_corrections,
    current_corrections,
    forecast_origins,
)
from engmetrics.areas.forecast.metrics.caveats import (
    STALE_WEEKS,
    history_warnings,
    pace_items_warning,
    pace_weeks_warning,
    trailing_empty_weeks,
    wide_items_warning,
    wide_weeks_warning,
)
from engmetrics.areas.forecast.metrics.simulate import (
    block_length_for,
    completion_week,
    items_by_week,
    lag1_autocorrelation,
    monotone,
    quantile_curves,
    simulate_paths,
)
from engmetrics.areas.forecast.metrics.throughput import WEEK_SECONDS
from engmetrics.areas.forecast.models import (
    DEFAULT_CONFIDENCES,
    BacklogForecast,
    BacklogForecastQuery,
    BacklogSource,
    BacktestQuery,
    BacktestReport,
    BacktestRow,
    CountedSource,
    DeliveryForecast,
    DeliveryForecastQuery,
    EmptyBy,
    FanPoint,
    ForecastOptions,
    ForecastPoint,
    Reliability,
    ThroughputSummary,
    WeeksToEmpty,
)
from engmetrics.errors import InvalidInput
from engmetrics.models import Period
from engmetrics.periods import iso

METHOD = "stationary block bootstrap (mean block 4 weeks) + adaptive conformal calibration on this history"
METHOD_UNCALIBRATED = "stationary block bootstrap (mean block 4 weeks), uncalibrated"
CALIBRATION_HORIZON_WEEKS = 26
CALIBRATION_LOOKBACK_WEEKS = 156
RELIABILITY_HORIZONS = [4, 12]
MAX_HORIZON_WEEKS = 520


def summarize(weekly: np.ndarray, source: CountedSource, as_of: int) -> ThroughputSummary:
    """A `ThroughputSummary` of ``weekly`` (items per week, oldest first) ending at ``as_of`` (Unix seconds)."""
    w = np.asarray(weekly, dtype=np.float64)
    start = as_of - w.size * WEEK_SECONDS
    return ThroughputSummary(
        item_source=source,
        weeks=int(w.size),
        window=Period(from_=iso(start) or "", to=iso(as_of) or "", label=f"last {w.size} weeks"),
        items=int(w.sum()),
        non_empty_weeks=int((w > 0).sum()),
        mean_per_week=round(float(w.mean()), 2) if w.size else 0.0,
        median_per_week=round(float(np.median(w)), 2) if w.size else 0.0,
        p15_per_week=round(float(np.quantile(w, 0.15)), 2) if w.size else 0.0,
        p85_per_week=round(float(np.quantile(w, 0.85)), 2) if w.size else 0.0,
        lag1_autocorrelation=None if (a := lag1_autocorrelation(w)) is None else round(a, 3),
        recent_weeks=[int(x) for x in w[-26:]],
    )


@dataclass
class Curves:
    """Quantile curves of cumulative items (L, H) at ``confidences`` (0…1), with how they were made."""

    confidences: np.ndarray
    curves: np.ndarray
    calibrated: bool
    method: str
    reliability: Reliability
    warnings: list[str] = field(default_factory=list)


def forecast_curves(
    weekly: np.ndarray, *, window: int, horizon: int, confidences: np.ndarray, runs: int, seed: int,
    capacity: np.ndarray | None = None, calibrate: bool = True, reliability: bool = True,
) -> Curves:
    """Calibrated quantile curves for the next ``horizon`` weeks from the full weekly history ``weekly``.

    The simulation samples the last ``window`` weeks; calibration and reliability use every origin of
    the (up to ``CALIBRATION_LOOKBACK_WEEKS`` + ``window``) weeks given. ``confidences`` must increase;
    the curves are non-decreasing along the horizon and never cross between levels.
    """
    rng = np.random.default_rng(seed)
    conf = np.asarray(confidences, dtype=np.float64)
    recent = np.asarray(weekly[-window:], dtype=np.float64)
    paths = simulate_paths(recent, horizon, runs, rng, "stationary", block_length_for(recent.size), capacity)
    raw, median = quantile_curves(paths, conf)
    warnings: list[str] = []
    rows: list[BacktestRow] = []
    calibrated = False
    curves = raw
    if calibrate or reliability:
        hc = min(horizon, CALIBRATION_HORIZON_WEEKS)
        cal_rng = np.random.default_rng(seed + 1)
        boot = forecast_origins(weekly, conf, window=window, horizon=max(hc, *RELIABILITY_HORIZONS),
                                runs=CALIBRATION_RUNS, rng=cal_rng)
        if calibrate:
            full = current_corrections(boot, horizon)
            if full is None:
                warnings.append(
                    "Not enough history to calibrate (needs about "
                    f"{MIN_ORIGIN_HISTORY_WEEKS + 20} weeks): the ranges are the raw bootstrap's and may be too narrow."
                )
            else:
                curves = monotone(apply_corrections(raw, median, full))
                calibrated = True
        if reliability:
            rows = walk_forward(weekly, window=window, horizons=RELIABILITY_HORIZONS, confidences=conf,
                                runs=CALIBRATION_RUNS, rng=cal_rng, methods=("calibrated", "iid"), boot=boot)
    note = None if rows else "Too little history for a backtest (about 30 weeks are needed)."
    return Curves(conf, curves, calibrated, METHOD if calibrated else METHOD_UNCALIBRATED,
                  Reliability(rows=rows, note=note), warnings)


def dates_for(weeks: float | None, calendar: WorkCalendar) -> str | None:
    """The ISO working day fractional ``weeks`` lands on, per ``calendar`` (`WorkCalendar`); None for None."""
    if weeks is None:
        return None
    d: date | None = calendar.date_at(weeks)
    return d.isoformat() if d else None


BACKTEST_MAX_WEEKS = 520


@dataclass
class ForecastHistory:
    """What the store gave a forecast: weekly items (oldest first) ending at ``as_of`` (Unix seconds, midnight UTC)."""

    weekly: np.ndarray
    source: CountedSource
    as_of: int
    start: date
    today: date
    open_items: int = 0
    last_item: int | None = None  # the newest item's completion time before as_of (Unix seconds)

    def warnings(self, q: ForecastOptions) -> list[str]:
        """Stale, short and thin-history warnings for a forecast sampling ``q.history_weeks`` of this history."""
        return history_warnings(self.weekly, history_weeks=q.history_weeks, as_of=self.as_of, start=self.start,
                                last_item=self.last_item)


def _calendar(h: ForecastHistory, q: ForecastOptions) -> WorkCalendar:
    holidays = frozenset(parse_iso_day(d, "holidays") for d in q.holidays)
    return WorkCalendar(start=h.start, weekdays=frozenset(q.working_days), holidays=holidays)


def parse_iso_day(value: str, param: str) -> date:
    """An ISO date ``YYYY-MM-DD``; `InvalidInput` naming ``param`` otherwise."""
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise InvalidInput(f"{param}: {value!r} is not an ISO date; send YYYY-MM-DD, e.g. '2026-03-01'.",
                           param=param) from None


def _completion_weeks(
    h: ForecastHistory, q: ForecastOptions, conf: np.ndarray, need: float, calendar: WorkCalendar, reliability: bool,
) -> tuple[list[float | None], Curves]:
    """Fractional completion weeks per confidence level (None beyond ``MAX_HORIZON_WEEKS``), and the curves."""
    window = np.asarray(h.weekly[-q.history_weeks :], dtype=np.float64)
    net = max(float(window.mean()) - q.scope_growth_per_week, 0.05)
    horizon = int(min(MAX_HORIZON_WEEKS, max(8, math.ceil(3 * need / net) + 4)))
    while True:
        curves = forecast_curves(
            h.weekly, window=q.history_weeks, horizon=horizon, confidences=conf, runs=q.simulations, seed=q.seed,
            capacity=calendar.capacity(horizon), calibrate=q.calibrate, reliability=reliability,
        )
        weeks = [completion_week(c, need, q.scope_growth_per_week) for c in curves.curves]
        if all(w is not None for w in weeks) or horizon >= MAX_HORIZON_WEEKS:
            return weeks, curves
        horizon = min(MAX_HORIZON_WEEKS, horizon * 2)


def _net_pace(h: ForecastHistory, q: ForecastOptions) -> float:
    """Mean items per week of the sampled window net of scope growth (no holidays), items per week."""
    window = np.asarray(h.weekly[-q.history_weeks :], dtype=np.float64)
    return float(window.mean()) - q.scope_growth_per_week if window.size else 0.0


def _beyond_note(weeks: list[float | None]) -> list[str]:
    if any(w is None for w in weeks):
        return [f"Some levels would take more than {MAX_HORIZON_WEEKS} weeks (10 years): shown as null."]
    return []


FAN_MAX_POINTS = 26
"""The forecast fan has at most this many weeks (a longer one is sampled every few weeks, its last week kept)."""


def forecast_fan(curves: Curves, calendar: WorkCalendar, weeks: float, split_rate: float = 0.0) -> list[FanPoint]:
    """The fan of ``curves``: per week ahead up to ``weeks`` (rounded up), the items done at 50/85/95% confidence
    (null for a level not among the curves' confidences), in items of the question (``split_rate`` removed)."""
    last = min(max(1, math.ceil(weeks - 1e-9)), curves.curves.shape[-1])
    step = max(1, math.ceil(last / FAN_MAX_POINTS))
    chosen = sorted({*range(step, last + 1, step), last})
    levels = {int(round(c * 100)): i for i, c in enumerate(curves.confidences)}

    def at(level: int, week: int) -> float | None:
        i = levels.get(level)
        return None if i is None else round(float(curves.curves[i][week - 1]) / (1.0 + split_rate), 1)

    points = []
    for week in chosen:
        day = calendar.date_at(float(week))
        points.append(FanPoint(week=week, date=day.isoformat() if day else None, p50=at(50, week), p85=at(85, week),
                               p95=at(95, week)))
    return points


def delivery_forecast(h: ForecastHistory, q: DeliveryForecastQuery) -> DeliveryForecast:
    """Answer forecast_delivery: completion dates for ``q.items`` or item counts by ``q.by_date``."""
    conf = np.array(q.confidence_levels, dtype=np.float64) / 100.0
    calendar = _calendar(h, q)
    after: list[str] = []  # warnings about the answer, after those about the history and the calibration
    points: list[ForecastPoint] = []
    pick: dict[int, str | int | None]  # P50/P85/P95: dates, or item counts by a date
    if q.items is not None:
        need = q.items * (1.0 + q.split_rate)
        weeks, curves = _completion_weeks(h, q, conf, need, calendar, reliability=True)
        for level, w in zip(q.confidence_levels, weeks, strict=True):
            points.append(ForecastPoint(confidence_percent=level, date=dates_for(w, calendar),
                                        weeks=None if w is None else round(w, 2)))
        pick = {p.confidence_percent: p.date for p in points}
        at = {p.confidence_percent: p for p in points}
        if 50 in at:
            after += pace_weeks_warning(need, _net_pace(h, q), at[50].weeks)
        if 50 in at and 85 in at:
            after += wide_weeks_warning(at[50].weeks, at[85].weeks, at[85].date)
        after += _beyond_note(weeks)
        known = [w for w in weeks if w is not None]
        fan = forecast_fan(curves, calendar, max(known) if known else float(curves.curves.shape[-1]), q.split_rate)
    else:
        by = parse_iso_day(q.by_date or "", "by_date")
        if by < h.today:
            raise InvalidInput(f"by_date {by.isoformat()} is in the past: send a future date, e.g. "
                               f"'{(h.today.replace(day=1) + timedelta(days=62)).replace(day=1).isoformat()}'.",
                               param="by_date")
        if by < h.start:
            raise InvalidInput(f"by_date {by.isoformat()} is before start_date {h.start.isoformat()}: send a later date.",
                               param="by_date")
        weeks_float = calendar.weeks_until(by)
        horizon = max(1, math.ceil(weeks_float))
        curves = forecast_curves(
            h.weekly, window=q.history_weeks, horizon=horizon, confidences=conf, runs=q.simulations, seed=q.seed,
            capacity=calendar.capacity(horizon), calibrate=q.calibrate,
        )
        for level, c in zip(q.confidence_levels, curves.curves, strict=True):
            done = items_by_week(c, weeks_float) / (1.0 + q.split_rate)
            points.append(ForecastPoint(confidence_percent=level, items=int(math.floor(done + 1e-9)),
                                        weeks=round(weeks_float, 2)))
        counts = {p.confidence_percent: p.items for p in points}
        pick = dict(counts)
        if 50 in counts:
            pace = _net_pace(h, q) / (1.0 + q.split_rate)
            after += pace_items_warning(pace, weeks_float, counts[50], by.isoformat())
        if 50 in counts and 85 in counts:
            after += wide_items_warning(counts[50], counts[85], by.isoformat())
        fan = forecast_fan(curves, calendar, weeks_float, q.split_rate)
    return DeliveryForecast(
        items=q.items, by_date=q.by_date, start_date=h.start.isoformat(), repo=q.repo, team=q.team,
        p50=pick.get(50), p85=pick.get(85), p95=pick.get(95), forecasts=points, simulations=q.simulations,
        method=curves.method, calibrated=curves.calibrated, throughput=summarize(h.weekly[-q.history_weeks :], h.source, h.as_of),
        reliability=curves.reliability, warnings=h.warnings(q) + curves.warnings + after, fan=fan,
    )


def backlog_forecast(h: ForecastHistory, q: BacklogForecastQuery) -> BacklogForecast:
    """Answer forecast_backlog: weeks (and dates) until the backlog is empty at P50/P85/P95."""
    origin: BacklogSource = "argument" if q.backlog_size else "work_items"
    size = q.backlog_size or h.open_items
    if not size:
        raise InvalidInput(
            "backlog_size is required: pass the number of items in the backlog (e.g. 68), or import open work items "
            "(no completed_at) with `engmetrics forecast import-items FILE`.", param="backlog_size",
        )
    conf = np.array([0.5, 0.85, 0.95])
    calendar = _calendar(h, q)
    weeks, curves = _completion_weeks(h, q, conf, size * (1.0 + q.split_rate), calendar, reliability=False)
    window = np.asarray(h.weekly[-q.history_weeks :], dtype=np.float64)
    r = [None if w is None else round(w, 2) for w in weeks]
    d = [dates_for(w, calendar) for w in weeks]
    after = pace_weeks_warning(size * (1.0 + q.split_rate), _net_pace(h, q), r[0]) + wide_weeks_warning(r[0], r[1], d[1])
    return BacklogForecast(
        backlog_size=int(size), backlog_source=origin, start_date=h.start.isoformat(), repo=q.repo, team=q.team,
        weekly_throughput_p50=round(float(np.quantile(window, 0.5)), 2),
        weekly_throughput_p85=round(float(np.quantile(window, 0.85)), 2),
        weeks_to_empty=WeeksToEmpty(p50=r[0], p85=r[1], p95=r[2]), empty_by=EmptyBy(p50=d[0], p85=d[1], p95=d[2]),
        simulations=q.simulations, method=curves.method, calibrated=curves.calibrated,
        throughput=summarize(window, h.source, h.as_of),
        warnings=h.warnings(q) + curves.warnings + after + _beyond_note(weeks),
    )


def backtest_report(h: ForecastHistory, q: BacktestQuery) -> BacktestReport:
    """Answer forecast backtest: walk-forward hit rates and pinball loss per horizon, for every method.

    ``h`` holds only the weeks before the backtest's as-of day (``h.as_of``): nothing later is seen, neither
    by the forecasts at past origins nor as their outcomes.
    """
    conf = np.array(DEFAULT_CONFIDENCES, dtype=np.float64) / 100.0
    rows = walk_forward(h.weekly, window=q.history_weeks, horizons=q.horizons, confidences=conf,
                        runs=q.simulations, rng=np.random.default_rng(q.seed))
    notes = []
    missing = sorted(set(q.horizons) - {r.horizon_weeks for r in rows})
    if missing:
        notes.append(f"Too little history to backtest horizons {missing} (weeks): each needs about "
                     f"{MIN_ORIGIN_HISTORY_WEEKS + 15} weeks plus the horizon.")
    empty = trailing_empty_weeks(h.weekly)
    as_of = datetime.fromtimestamp(h.as_of, UTC).date().isoformat()
    if empty >= STALE_WEEKS:
        notes.append(f"Stale history: no item was completed in the {empty} weeks before {as_of}, so the data looks "
                     "stopped; the latest origins are scored against those empty weeks. Set as_of to the week the "
                     "data stopped to backtest the history before it.")
    notes.append("Origins overlap, so neighbouring forecasts are not independent: the 95% intervals are optimistic.")
    return BacktestReport(
        repo=q.repo, team=q.team, as_of=as_of, throughput=summarize(h.weekly, h.source, h.as_of),
        history_weeks=q.history_weeks, simulations_per_origin=q.simulations, rows=rows, notes=notes,
    )
