"""Calibration: forecasts at past origins, their errors, and the corrections that make stated odds true.

At every past *origin* week ``t`` (with at least ``min_history`` weeks before it) the simulator forecasts
from the ``window`` weeks before ``t`` only, exactly as it would have on that day; what happened in the
weeks after ``t`` is the *actual* cumulative throughput ``A_t(h)``.

The correction is split conformal prediction on a scale-free score. For confidence ``p`` and horizon
``h`` the score of origin ``t`` is::

    e_t = (X_p,t(h) − A_t(h)) / max(median_t(h), 1)

(how far, in units of the forecast's median, reality fell short of the promised ``X_p``). With the
``n`` scores known so far, ``c = `` the ``⌈(n+1)·p⌉``-th smallest score, and the calibrated forecast is
``X_p(h) − c · max(median(h), 1)``: by construction "at least this many" would have held in a fraction
``p`` of past origins. Horizons with too few scores reuse the correction of the longest horizon that
has enough (the score is relative to the median, so the correction grows with it).

Each level is calibrated on its own scores, so on its own the corrected levels can cross (a P95 that
promises more items, or an earlier date, than P85). The last step of the calibration makes them a
monotone set (`ordered_levels`): with levels in increasing confidence, each corrected quantile is the
cumulative minimum of itself and every lower level's, i.e. a level's adjustment is raised just enough that it
never promises more than a less confident level. This only ever makes a level more cautious than its own
calibration, so each level comes true at least as often as its calibration alone would (a one-sided form of
the rearrangement of Chernozhukov, Fernández-Val & Galichon 2010), and the backtest scores these ordered
forecasts, the ones engmetrics answers with.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engmetrics.areas.forecast.metrics.simulate import Sampling, block_length_for, quantile_curves, sample_indices

MIN_ORIGIN_HISTORY_WEEKS = 10
MIN_SCORES = 15
CALIBRATION_RUNS = 1000


@dataclass
class OriginForecasts:
    """Raw forecasts at past origins (all arrays in items; ``h`` is 1-based, index ``h − 1``)."""

    origins: np.ndarray  # (m,) week index t: weeks [t − window, t) known, weeks t, t+1, … forecast
    confidences: np.ndarray  # (L,) e.g. [0.5, 0.85, 0.95]
    curves: np.ndarray  # (L, m, H) X_p,t(h): items by week h with probability p
    median: np.ndarray  # (m, H) median cumulative items
    actual: np.ndarray  # (m, H) what happened; NaN where week t + h is not yet over


def forecast_origins(
    weekly: np.ndarray, confidences: np.ndarray, *, window: int, horizon: int, runs: int = CALIBRATION_RUNS,
    rng: np.random.Generator, sampling: Sampling = "stationary", min_history: int = MIN_ORIGIN_HISTORY_WEEKS,
    chunk: int = 32,
) -> OriginForecasts:
    """Forecast from every past origin with ``min_history`` weeks behind it and at least one week after it.

    ``weekly`` is items completed per week, oldest first (zero weeks kept). Vectorised across origins.
    """
    weekly = np.asarray(weekly, dtype=np.float64)
    conf = np.asarray(confidences, dtype=np.float64)
    if np.any(np.diff(conf) <= 0):
        raise ValueError(f"confidences must be strictly increasing, got {conf.tolist()}")
    n = weekly.size
    origins = np.arange(min(max(min_history, 1), n), n, dtype=np.int64)
    m = origins.size
    curves = np.zeros((conf.size, m, horizon))
    median = np.zeros((m, horizon))
    for lo in range(0, m, chunk):
        t = origins[lo : lo + chunk]
        lengths = np.minimum(t, window)
        block = block_length_for(int(lengths.min()))
        idx = sample_indices(lengths, runs, horizon, rng, sampling, block) + (t - lengths)[:, None, None]
        c, med = quantile_curves(weekly[idx], conf)
        curves[:, lo : lo + chunk] = c
        median[lo : lo + chunk] = med
    cum = np.concatenate([[0.0], np.cumsum(weekly)])
    ends = origins[:, None] + np.arange(1, horizon + 1)[None, :]
    actual = np.where(ends <= n, cum[np.minimum(ends, n)] - cum[origins][:, None], np.nan)
    return OriginForecasts(origins, conf, curves, median, actual)


def scale_of(median: np.ndarray) -> np.ndarray:
    """The unit scores are measured in: the forecast's median items, at least 1."""
    scale: np.ndarray = np.maximum(median, 1.0)
    return scale


def scores(of: OriginForecasts) -> np.ndarray:
    """Conformal scores ``(X_p − A) / scale``, shape (L, m, H); NaN where the outcome is unknown."""
    score: np.ndarray = (of.curves - of.actual[None]) / scale_of(of.median)[None]
    return score


def corrections(
    of: OriginForecasts, score: np.ndarray, *, known_by: int, horizons: np.ndarray | None = None,
    min_scores: int = MIN_SCORES, max_age_weeks: int | None = None,
) -> np.ndarray:
    """Corrections ``c`` (L, len(horizons)) from the scores whose outcome was known by week ``known_by``.

    An origin ``t`` counts for horizon ``h`` when ``t + h ≤ known_by`` (and, with ``max_age_weeks``,
    ``t ≥ known_by − max_age_weeks``). NaN where fewer than ``min_scores`` scores exist at that horizon and
    no shorter horizon has enough either. ``horizons`` are 1-based (default: all).
    """
    L, _, H = score.shape
    hs = np.arange(1, H + 1) if horizons is None else np.asarray(horizons, dtype=np.int64)
    out = np.full((L, hs.size), np.nan)
    recent = of.origins >= (known_by - max_age_weeks) if max_age_weeks else np.ones(of.origins.size, dtype=bool)
    # The longest horizon with enough scores decides the ones beyond it.
    fallback: np.ndarray | None = None
    cache: dict[int, np.ndarray | None] = {}

    def at(h: int) -> np.ndarray | None:
        if h not in cache:
            mask = recent & (of.origins + h <= known_by)
            vals = score[:, mask, h - 1]
            n = vals.shape[1]
            if n < min_scores:
                cache[h] = None
            else:
                ranks = np.minimum(np.ceil((n + 1) * of.confidences).astype(np.int64), n) - 1
                ordered = np.sort(vals, axis=1)
                cache[h] = ordered[np.arange(L), ranks]
        return cache[h]

    for j, h in enumerate(hs):
        c = at(int(h))
        if c is None:
            if fallback is None:
                for g in range(min(int(h), H) - 1, 0, -1):
                    fallback = at(g)
                    if fallback is not None:
                        break
            c = fallback
        if c is not None:
            out[:, j] = c
    return out


def ordered_levels(quantiles: np.ndarray) -> np.ndarray:
    """Non-crossing levels: the cumulative minimum along axis 0 (levels in increasing confidence), in items.

    ``quantiles[i]`` is "at least this many items" at the ``i``-th confidence; the result never promises more
    items at a higher confidence than at a lower one, lowering (never raising) the more confident levels.
    """
    return np.minimum.accumulate(np.asarray(quantiles, dtype=np.float64), axis=0)


def apply_corrections(curves: np.ndarray, median: np.ndarray, correction: np.ndarray) -> np.ndarray:
    """Calibrated curves ``X_p − c · scale``, never negative, levels ordered (`ordered_levels`), in items.

    ``curves`` has the levels (increasing confidence) on axis 0 and is broadcast with ``median`` over the
    remaining axes; NaN corrections leave ``X_p`` as is.
    """
    c = np.nan_to_num(correction, nan=0.0)
    return ordered_levels(np.maximum(curves - c * scale_of(median), 0.0))


ADAPT_RATE = 0.05


def _ranked(sorted_scores: np.ndarray, levels: np.ndarray) -> np.ndarray:
    """The conformal quantile of each row of ``sorted_scores`` (L, n) at ``levels`` (L,): rank ⌈(n+1)·p⌉, clipped."""
    n = sorted_scores.shape[1]
    ranks = np.clip(np.ceil((n + 1) * levels).astype(np.int64), 1, n) - 1
    ranked: np.ndarray = sorted_scores[np.arange(sorted_scores.shape[0]), ranks]
    return ranked


def adaptive_corrections(
    of: OriginForecasts, score: np.ndarray, horizon: int, *, rate: float = ADAPT_RATE, min_scores: int = MIN_SCORES,
    max_age_weeks: int | None = None,
) -> tuple[np.ndarray, np.ndarray | None]:
    """Walk-forward corrections at one horizon with adaptive levels (adaptive conformal inference).

    Walks the origins in time order. At origin ``t`` the scores known are those of origins ``t' ≤ t − h``;
    the correction is their conformal quantile at level ``p_t``. Each time an outcome becomes known, the
    level moves by ``rate · (miss − (1 − p))`` (Gibbs & Candès 2021): a miss widens the next forecasts,
    a hit narrows them a little, so the long-run hit rate tracks ``p`` even when throughput drifts.

    Returns (per-origin corrections (L, m), NaN before ``min_scores`` outcomes are known; the correction
    for a forecast made now, after the last origin, or None without enough outcomes).
    """
    L, m = int(score.shape[0]), int(score.shape[1])
    h = horizon
    target = of.confidences
    levels = target.copy()
    used = np.full((L, m), np.nan)
    if m == 0:
        return used, None
    first = int(of.origins[0])
    col = score[:, :, h - 1]
    actual = of.actual[:, h - 1]
    curves = of.curves[:, :, h - 1]
    scale = scale_of(of.median[:, h - 1])

    def known_prefix(now: int) -> int:
        return max(0, min(m, now - h - first + 1))

    done = 0
    for i in range(m + 1):
        now = int(of.origins[i]) if i < m else int(of.origins[-1]) + 1
        k = known_prefix(now)
        for j in range(done, k):  # outcomes that became known: update the levels
            if not np.isnan(used[0, j]):
                forecast = np.maximum(curves[:, j] - used[:, j] * scale[j], 0.0)
                miss = (actual[j] < forecast - 1e-9).astype(np.float64)
                levels = levels + rate * (miss - (1.0 - target))
        done = max(done, k)
        lo = max(0, k - max_age_weeks) if max_age_weeks else 0
        if k - lo < min_scores:
            continue
        fix = _ranked(np.sort(col[:, lo:k], axis=1), levels)
        if i < m:
            used[:, i] = fix
        else:
            return used, fix
    return used, None


CALIBRATION_GRID = (1, 2, 3, 4, 6, 8, 12, 16, 20, 26)


def current_corrections(
    of: OriginForecasts, horizon: int, *, rate: float = ADAPT_RATE, min_scores: int = MIN_SCORES,
    max_age_weeks: int | None = None,
) -> np.ndarray | None:
    """Corrections (L, horizon) for a forecast made now, after the last origin; None without enough history.

    Computed at the horizons of ``CALIBRATION_GRID`` up to ``horizon`` (and at most the origins' horizon),
    interpolated linearly between them; beyond the longest one with enough outcomes, that one's correction
    holds (it is relative to the forecast's median, so it grows with it). ``rate``, ``min_scores`` and
    ``max_age_weeks`` are `adaptive_corrections`'.
    """
    sc = scores(of)
    top = min(horizon, of.curves.shape[2])
    grid = [h for h in CALIBRATION_GRID if h <= top] or [top]
    found_h, found_c = [], []
    for h in grid:
        _, fix = adaptive_corrections(of, sc, h, rate=rate, min_scores=min_scores, max_age_weeks=max_age_weeks)
        if fix is not None:
            found_h.append(h)
            found_c.append(fix)
    if not found_h:
        return None
    cs = np.stack(found_c, axis=1)  # (L, g)
    hs = np.arange(1, horizon + 1)
    return np.stack([np.interp(hs, found_h, cs[i]) for i in range(cs.shape[0])])
