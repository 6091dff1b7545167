"""Vectorised Monte Carlo over weekly throughput, and reading forecasts off its quantile curves.

Vocabulary (units are items and weeks throughout):

- A *path* is one simulated future: the items completed in each of the next ``H`` weeks.
- *Cumulative throughput* ``S_h`` is the items completed by the end of week ``h`` (1-based).
- A forecast *at confidence p* (e.g. 85 %) is a statement that comes true with probability ``p``:
  "at least ``X_p(h)`` items by week ``h``", where ``X_p(h)`` is the ``(1 − p)`` quantile of ``S_h``
  (the pessimistic side). "``N`` items done by week ``h``" is the same event as ``S_h ≥ N``, so the
  P85 completion week is the first ``h`` with ``X_85(h) ≥ N`` — one quantile curve answers both
  "when will N be done" and "how many by a date".

Sampling:

- ``"iid"``: each future week is a past week drawn uniformly with replacement (the classic
  throughput Monte Carlo). It ignores that busy and quiet weeks come in runs, so its ranges are
  too narrow.
- ``"stationary"`` (default): the stationary bootstrap of Politis & Romano (1994): runs of
  consecutive past weeks (circularly wrapped) with geometrically distributed lengths of mean
  ``mean_block`` weeks, which keeps the autocorrelation of throughput within a run.
"""

from __future__ import annotations

from typing import Literal

import numpy as np

Sampling = Literal["stationary", "iid"]
DEFAULT_MEAN_BLOCK_WEEKS = 4.0


def sample_indices(
    lengths: np.ndarray, runs: int, horizon: int, rng: np.random.Generator, sampling: Sampling,
    mean_block: float = DEFAULT_MEAN_BLOCK_WEEKS,
) -> np.ndarray:
    """Indices into each history, shape ``(len(lengths), runs, horizon)``; history ``i`` has ``lengths[i]`` weeks.

    For ``"stationary"``, a run of consecutive weeks restarts at a random week with probability
    ``1 / mean_block`` each week (and always in week 1); for ``"iid"`` every week is drawn afresh.
    """
    n = np.asarray(lengths, dtype=np.int64).reshape(-1, 1, 1)
    shape = (n.shape[0], runs, horizon)
    starts = (rng.random(shape) * n).astype(np.int64)
    if sampling == "iid" or mean_block <= 1:
        return starts
    restart = rng.random(shape) < (1.0 / mean_block)
    restart[:, :, 0] = True
    t = np.arange(horizon, dtype=np.int64)
    last = np.maximum.accumulate(np.where(restart, t, 0), axis=2)
    begin = np.take_along_axis(starts, last, axis=2)
    return (begin + (t - last)) % n


def simulate_paths(
    history: np.ndarray, horizon: int, runs: int, rng: np.random.Generator, sampling: Sampling = "stationary",
    mean_block: float = DEFAULT_MEAN_BLOCK_WEEKS, capacity: np.ndarray | None = None,
) -> np.ndarray:
    """Simulated weekly throughput, shape ``(runs, horizon)``, items per week.

    ``history`` is items per past week (oldest first, zero weeks included). ``capacity`` (length
    ``horizon``) scales each future week by its share of working days (1.0 for a full week).
    """
    hist = np.asarray(history, dtype=np.float64)
    idx = sample_indices(np.array([hist.size]), runs, horizon, rng, sampling, mean_block)[0]
    paths: np.ndarray = hist[idx]
    if capacity is not None:
        paths = paths * np.asarray(capacity, dtype=np.float64)[None, :]
    return paths


def quantile_curves(paths: np.ndarray, confidences: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(curves, median): ``curves[i, h-1]`` = items done by week ``h`` with probability ``confidences[i]``.

    ``curves[i]`` is the ``1 − confidences[i]`` quantile of cumulative throughput (inverted CDF, so
    ``P(S_h ≥ curve) ≥ confidence`` holds exactly on the simulated sample); ``median`` is ``S_h``'s median.
    """
    cum = np.cumsum(paths, axis=-1)
    levels = np.concatenate([1.0 - np.asarray(confidences, dtype=np.float64), [0.5]])
    q = np.quantile(cum, levels, axis=paths.ndim - 2, method="inverted_cdf")
    return q[:-1], q[-1]


def monotone(curve: np.ndarray) -> np.ndarray:
    """A cumulative-items curve made non-negative and non-decreasing along its last axis."""
    return np.maximum.accumulate(np.maximum(curve, 0.0), axis=-1)


def completion_week(curve: np.ndarray, items: float, growth_per_week: float = 0.0) -> float | None:
    """Weeks (fractional) until ``curve`` first covers ``items`` plus ``growth_per_week`` per week; None if never.

    ``curve[h-1]`` is cumulative items by the end of week ``h``. Within the week where the curve
    crosses the requirement, the crossing is interpolated linearly (so 20 items at exactly 5 a week
    take 4.0 weeks).
    """
    h = np.arange(1, curve.size + 1, dtype=np.float64)
    deficit = curve - (items + growth_per_week * h)
    hits = np.nonzero(deficit >= -1e-9)[0]
    if hits.size == 0:
        return None
    k = int(hits[0])
    before = deficit[k - 1] if k > 0 else -float(items)
    step = deficit[k] - before
    fraction = 1.0 if step <= 0 else float(np.clip(-before / step, 0.0, 1.0))
    if fraction <= 0.0:  # already covered at the start of the week: it finishes in the week before
        fraction = 1e-9
    return k + fraction


def items_by_week(curve: np.ndarray, weeks: float) -> float:
    """Cumulative items at fractional week ``weeks`` on ``curve`` (linear within a week; 0 at week 0)."""
    if weeks <= 0:
        return 0.0
    full = int(np.floor(weeks))
    frac = weeks - full

    def at(h: int) -> float:
        return 0.0 if h <= 0 else float(curve[min(h, curve.size) - 1])

    return at(full) + frac * (at(full + 1) - at(full))


def block_length_for(weeks: int) -> float:
    """Mean block length (weeks) of the stationary bootstrap over ``weeks`` of history: 4, less below 8 weeks."""
    return float(max(1.0, min(DEFAULT_MEAN_BLOCK_WEEKS, weeks / 2)))


def lag1_autocorrelation(history: np.ndarray) -> float | None:
    """Lag-1 autocorrelation of weekly throughput (−1…1); None for fewer than 4 weeks or constant throughput."""
    x = np.asarray(history, dtype=np.float64)
    if x.size < 4:
        return None
    d = x - x.mean()
    denom = float((d * d).sum())
    if denom == 0:
        return None
    return float((d[1:] * d[:-1]).sum() / denom)
