"""Walk-forward backtest: would past forecasts have come true as often as they said?

At each past origin week ``t`` a forecast of the next ``h`` weeks is made from the weeks before ``t``
only, and compared with the items actually completed in weeks ``t … t+h−1``. A forecast at confidence
``p`` ("at least ``X_p`` items by week ``h``") *hits* when the actual count is ≥ ``X_p``; a calibrated
method hits at rate ≈ ``p``.

Methods compared on the same origins:

- ``calibrated``: stationary bootstrap + adaptive conformal correction computed, at each origin, only
  from earlier origins whose outcome was already known (``t' + h ≤ t``), with the levels ordered as in
  `engmetrics.areas.forecast.metrics.calibration.ordered_levels` — what engmetrics would have said then.
- ``bootstrap``: the stationary bootstrap alone.
- ``iid``: classic throughput Monte Carlo (past weeks drawn independently).

Reported per method and horizon: hit rate per level with a Wilson 95 % interval (origins overlap, so
the interval is optimistic), and the pinball loss: for the ``τ = 1 − p`` quantile forecast ``X`` of the
actual ``A``, ``max(τ·(A − X), (τ − 1)·(A − X))``, averaged over origins and levels, in items.
"""

from __future__ import annotations

import math

import numpy as np

from engmetrics.areas.forecast.metrics.calibration import (
    MIN_ORIGIN_HISTORY_WEEKS,
    MIN_SCORES,
    OriginForecasts,
    adaptive_corrections,
    apply_corrections,
    forecast_origins,
    scores,
)
from engmetrics.areas.forecast.models import BacktestMethod, BacktestRow, LevelHit

METHODS: tuple[BacktestMethod, ...] = ("calibrated", "bootstrap", "iid")


def wilson_interval(hits: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """Wilson score interval of a binomial proportion ``hits / n`` (fractions 0…1); (0, 1) when ``n`` is 0."""
    if n == 0:
        return 0.0, 1.0
    p = hits / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return max(0.0, centre - half), min(1.0, centre + half)


def pinball_loss(actual: np.ndarray, forecast: np.ndarray, tau: float) -> float:
    """Mean pinball loss of ``forecast`` as the ``tau`` quantile of ``actual`` (same unit as the data)."""
    u = np.asarray(actual, dtype=np.float64) - np.asarray(forecast, dtype=np.float64)
    return float(np.mean(np.maximum(tau * u, (tau - 1) * u))) if u.size else 0.0


def score_row(method: BacktestMethod, horizon: int, confidences: np.ndarray, forecast: np.ndarray, actual: np.ndarray) -> BacktestRow:
    """A `BacktestRow` from forecasts (L, n) at ``confidences`` and actual items (n,)."""
    n = actual.size
    levels = []
    losses = []
    for i, p in enumerate(confidences):
        hits = int(np.sum(actual >= forecast[i] - 1e-9))
        lo, hi = wilson_interval(hits, n)
        levels.append(
            LevelHit(
                confidence_percent=round(float(p) * 100),
                hit_percent=round(100 * hits / n, 1) if n else 0.0,
                ci_low_percent=round(100 * lo, 1),
                ci_high_percent=round(100 * hi, 1),
            )
        )
        losses.append(pinball_loss(actual, forecast[i], 1.0 - float(p)))
    loss = float(np.mean(losses)) if losses else 0.0
    mean_actual = float(actual.mean()) if n else 0.0
    return BacktestRow(
        method=method,
        horizon_weeks=horizon,
        origins=n,
        levels=levels,
        pinball_loss_items=round(loss, 3),
        pinball_loss_relative=round(loss / mean_actual, 4) if mean_actual > 0 else 0.0,
    )


def walk_forward(
    weekly: np.ndarray, *, window: int, horizons: list[int], confidences: np.ndarray, runs: int,
    rng: np.random.Generator, methods: tuple[BacktestMethod, ...] = METHODS, min_history: int = MIN_ORIGIN_HISTORY_WEEKS,
    min_scores: int = MIN_SCORES, max_age_weeks: int | None = None,
    boot: OriginForecasts | None = None,
) -> list[BacktestRow]:
    """Backtest rows (method × horizon) over every origin where the calibrated method could forecast.

    ``weekly``: items per week, oldest first. ``boot`` may pass stationary-bootstrap origin forecasts
    already computed (with at least ``max(horizons)`` weeks of horizon) to save the work.
    """
    weekly = np.asarray(weekly, dtype=np.float64)
    conf = np.asarray(confidences, dtype=np.float64)
    H = max(horizons)
    if boot is None or boot.curves.shape[2] < H:
        boot = forecast_origins(weekly, conf, window=window, horizon=H, runs=runs, rng=rng, min_history=min_history)
    iid = (
        forecast_origins(weekly, conf, window=window, horizon=H, runs=runs, rng=rng, sampling="iid", min_history=min_history)
        if "iid" in methods
        else None
    )
    sc = scores(boot)
    rows: list[BacktestRow] = []
    for h in horizons:
        used, _ = adaptive_corrections(boot, sc, h, min_scores=min_scores, max_age_weeks=max_age_weeks)
        ok = ~np.isnan(used[0]) & ~np.isnan(boot.actual[:, h - 1])
        if not ok.any():
            continue
        idx = np.nonzero(ok)[0]
        actual = boot.actual[idx, h - 1]
        raw = boot.curves[:, idx, h - 1]
        for method in methods:
            if method == "calibrated":
                fc = apply_corrections(raw, boot.median[idx, h - 1], used[:, idx])
            elif method == "bootstrap":
                fc = raw
            else:
                assert iid is not None
                fc = iid.curves[:, idx, h - 1]
            rows.append(score_row(method, h, conf, fc, actual))
    return rows
