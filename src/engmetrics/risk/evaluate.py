"""Time-ordered rolling evaluation of change-risk models on a repository's own history.

Changes whose labels are known (older than the label horizon) are sorted by time and cut into
``splits + 1`` consecutive chunks of equal size. Split i trains on the changes before chunk i — leaving
out those within the label horizon of the cut, and counting as bug-inducing only the changes whose fix
was committed before the cut — and tests on chunk i with every label known today. Nothing is fitted on
test data. Test predictions of all splits are pooled; each metric has a bootstrap 95% interval
(percentiles of 300 resamples of the pooled test changes, seeded).

Metrics:

- ``auc``: area under the ROC curve (ties count half).
- ``brier``: mean of (probability − label)², label 1 = bug-inducing (null for a ranking without probabilities).
- ``recall_at_20_effort``: share of the bug-inducing test changes found when reviewing changes in the
  model's order (riskiest first, smaller first on ties) until 20% of the total effort is spent; effort =
  lines added + deleted (at least 1).
- ``popt``: 1 − (area(optimal) − area(model)) ÷ (area(optimal) − area(worst)) under the effort–recall
  curve; the optimal order reviews bug-inducing changes first, smallest first; the worst the reverse.

Models compared: ``engmetrics`` (every feature; see `model.train_engmetrics`), ``kamei`` (Kamei et al.'s 14 features, same fitting),
``lapredict`` (logistic regression on lines added alone, Zeng et al. 2021) and ``size`` (lines added +
deleted as the ranking, no probability).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from engmetrics.risk.features import FEATURES, KAMEI
from engmetrics.risk.model import train, train_engmetrics

DAY = 86400
DEFAULT_SPLITS = 5
BOOTSTRAP = 300
MODELS = ("engmetrics", "lapredict", "kamei", "size")
_LA, _LD = FEATURES.index("la"), FEATURES.index("ld")


def label_horizon_seconds(times: np.ndarray) -> int:
    """Seconds at the end of a history whose labels are not known yet: 90 days, at most 20% of the span."""
    if len(times) < 2:
        return 0
    return int(min(90 * DAY, 0.2 * float(times.max() - times.min())))


def auc(score: np.ndarray, y: np.ndarray) -> float | None:
    """ROC AUC by ranks (ties averaged); None when a class is missing."""
    pos = int(y.sum())
    neg = len(y) - pos
    if pos == 0 or neg == 0:
        return None
    order = np.argsort(score, kind="mergesort")
    s = score[order]
    ranks = np.empty(len(s))
    ranks_sorted = np.arange(1, len(s) + 1, dtype=np.float64)
    _, start, counts = np.unique(s, return_index=True, return_counts=True)
    avg = start + (counts + 1) / 2.0
    ranks_sorted = np.repeat(avg, counts)
    ranks[order] = ranks_sorted
    return float((ranks[y > 0].sum() - pos * (pos + 1) / 2) / (pos * neg))


def brier(p: np.ndarray | None, y: np.ndarray) -> float | None:
    """Mean squared error of probabilities against 0/1 labels."""
    if p is None or len(y) == 0:
        return None
    return float(np.mean((p - y) ** 2))


def _effort_curve(order: np.ndarray, effort: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    e = np.concatenate([[0.0], np.cumsum(effort[order])]) / effort.sum()
    r = np.concatenate([[0.0], np.cumsum(y[order])]) / max(y.sum(), 1)
    return e, r


def _area(e: np.ndarray, r: np.ndarray) -> float:
    return float(np.sum((e[1:] - e[:-1]) * (r[1:] + r[:-1]) / 2))


def effort_metrics(score: np.ndarray, effort: np.ndarray, y: np.ndarray) -> tuple[float | None, float | None]:
    """(Recall@20%Effort, Popt) of ranking by ``score`` (higher first, smaller effort first on ties)."""
    if y.sum() == 0 or len(y) == 0:
        return None, None
    order = np.lexsort((effort, -score))
    e, r = _effort_curve(order, effort, y)
    recall20 = float(r[np.searchsorted(e, 0.2, side="right") - 1])
    best = np.lexsort((effort, -y))
    worst = np.lexsort((-effort, y))
    a_m, a_best, a_worst = _area(e, r), _area(*_effort_curve(best, effort, y)), _area(*_effort_curve(worst, effort, y))
    popt = 1.0 - (a_best - a_m) / (a_best - a_worst) if a_best > a_worst else None
    return recall20, popt


def _ci(values: list[float]) -> list[float] | None:
    vals = [v for v in values if v is not None]
    if len(vals) < 10:
        return None
    lo, hi = np.percentile(vals, [2.5, 97.5])
    return [round(float(lo), 4), round(float(hi), 4)]


@dataclass
class ModelScores:
    """One model's pooled test metrics and their bootstrap 95% intervals."""

    name: str
    auc: float | None
    auc_ci: list[float] | None
    brier: float | None
    brier_ci: list[float] | None
    recall_at_20_effort: float | None
    recall_at_20_effort_ci: list[float] | None
    popt: float | None
    popt_ci: list[float] | None


@dataclass
class Evaluation:
    """What `evaluate` measured: changes considered, bug-inducing among them, splits run, each model's scores."""

    changes: int
    labelled_inducing: int
    splits: int
    models: list[ModelScores] = field(default_factory=list)
    test_changes: int = 0


Predictor = Callable[[np.ndarray, np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray | None]]


def _predictors() -> dict[str, Predictor]:
    def fitted(features: tuple[str, ...] | None) -> Predictor:
        def run(Xtr: np.ndarray, ytr: np.ndarray, Xte: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
            m = train_engmetrics(Xtr, ytr) if features is None else train(Xtr, ytr, features)
            p = m.proba(Xte)
            return p, p

        return run

    def size(Xtr: np.ndarray, ytr: np.ndarray, Xte: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        return Xte[:, _LA] + Xte[:, _LD], None

    return {"engmetrics": fitted(None), "lapredict": fitted(("la",)), "kamei": fitted(KAMEI), "size": size}


def evaluate(X: np.ndarray, times: np.ndarray, fixed_at: np.ndarray, *, splits: int = DEFAULT_SPLITS,
             bootstrap: int = BOOTSTRAP, seed: int = 0, models: tuple[str, ...] = MODELS) -> Evaluation:
    """Rolling evaluation of every model in `MODELS`.

    ``X``: features (rows of `FEATURES`) of changes sorted by time; ``times``: their Unix times;
    ``fixed_at``: for each change, the Unix time its first fix was committed (``inf`` when never fixed).
    """
    horizon = label_horizon_seconds(times)
    known = times <= (times.max() - horizon) if len(times) else np.zeros(0, dtype=bool)
    X, times, fixed_at = X[known], times[known], fixed_at[known]
    y_all = np.isfinite(fixed_at).astype(np.float64)
    n = len(times)
    result = Evaluation(changes=n, labelled_inducing=int(y_all.sum()), splits=0)
    if n < 40 or y_all.sum() < 5:
        result.models = [ModelScores(m, None, None, None, None, None, None, None, None) for m in MODELS]
        return result
    bounds = np.linspace(0, n, splits + 2).astype(int)
    predictors = {k: v for k, v in _predictors().items() if k in models}
    pooled_names = list(predictors)
    pooled: dict[str, list[np.ndarray]] = {m: [] for m in MODELS}
    pooled_p: dict[str, list[np.ndarray] | None] = {m: [] for m in MODELS}
    test_idx: list[np.ndarray] = []
    for i in range(1, splits + 1):
        lo, hi = bounds[i], bounds[i + 1]
        if hi <= lo:
            continue
        cut = times[lo]
        train_mask = times[:lo] < cut - horizon
        Xtr = X[:lo][train_mask]
        ytr = (fixed_at[:lo][train_mask] < cut).astype(np.float64)
        if ytr.sum() < 3 or (len(ytr) - ytr.sum()) < 3:
            continue
        Xte = X[lo:hi]
        for name, predict in predictors.items():
            score, p = predict(Xtr, ytr, Xte)
            pooled[name].append(score)
            if p is None:
                pooled_p[name] = None
            elif pooled_p[name] is not None:
                pooled_p[name].append(p)  # type: ignore[union-attr]
        test_idx.append(np.arange(lo, hi))
        result.splits += 1
    if not test_idx:
        result.models = [ModelScores(m, None, None, None, None, None, None, None, None) for m in pooled_names]
        return result
    idx = np.concatenate(test_idx)
    y = y_all[idx]
    effort = np.maximum(X[idx, _LA] + X[idx, _LD], 1.0)
    result.test_changes = len(idx)
    rng = np.random.default_rng(seed)
    samples = [rng.integers(0, len(idx), len(idx)) for _ in range(bootstrap)]
    for name in pooled_names:
        score = np.concatenate(pooled[name])
        plist = pooled_p[name]
        p = np.concatenate(plist) if plist else None
        r20, popt = effort_metrics(score, effort, y)
        boot: dict[str, list] = {"auc": [], "brier": [], "r20": [], "popt": []}
        for s in samples:
            boot["auc"].append(auc(score[s], y[s]))
            boot["brier"].append(brier(p[s] if p is not None else None, y[s]))
            br, bp = effort_metrics(score[s], effort[s], y[s])
            boot["r20"].append(br)
            boot["popt"].append(bp)
        a = auc(score, y)
        b = brier(p, y)
        result.models.append(ModelScores(
            name=name,
            auc=None if a is None else round(a, 4), auc_ci=_ci(boot["auc"]),
            brier=None if b is None else round(b, 4), brier_ci=_ci(boot["brier"]) if p is not None else None,
            recall_at_20_effort=None if r20 is None else round(r20, 4), recall_at_20_effort_ci=_ci(boot["r20"]),
            popt=None if popt is None else round(popt, 4), popt_ci=_ci(boot["popt"]),
        ))
    return result
