"""Time-ordered rolling evaluation of change-risk models on a repository's own history.

Changes whose labels are known (older than the label horizon) are sorted by time and cut into
``splits + 1`` consecutive chunks of equal size. Split i trains on the changes before chunk i — leaving
out those within the label horizon of the cut, and counting as bug-inducing only the changes whose fix
was committed before the cut — and tests on chunk i with every label known today. Nothing is fitted on
test data. Each metric is computed on each split's test changes and averaged over the splits (as Zeng et
al. 2021 do: scores of models fitted on different training sets are not comparable across splits, so
pooling them would penalise a model for its scale, not its ranking). Each mean has a bootstrap 95%
interval: replicate b resamples every split's test changes (seeded, the same resample for every model),
computes the metric per split and averages over splits; the interval is the 2.5–97.5 percentiles of the
replicates (300 unless the request says otherwise: `RiskEvaluationQuery.bootstrap`; no interval below 10). Splits whose test changes are all of one class are left out.

Metrics:

- ``auc``: area under the ROC curve (ties count half).
- ``brier``: mean of (probability − label)², label 1 = bug-inducing (null for a ranking without probabilities).
- ``recall_at_20_effort``: share of the bug-inducing test changes found when reviewing changes in the
  model's order (riskiest first, smaller first on ties) until 20% of the total effort is spent; effort =
  lines added + deleted (at least 1).
- ``popt``: 1 − (area(optimal) − area(model)) ÷ (area(optimal) − area(worst)) under the effort–recall
  curve; the optimal order reviews bug-inducing changes first, smallest first; the worst the reverse.
- ``auc_vs_lapredict``: the model's AUC minus LApredict's, per split, averaged; its interval is paired
  (the same resamples for both models), so it says whether a gap is more than resampling noise.

Models compared: ``engmetrics`` (every feature; see `model.train_engmetrics`), ``kamei`` (Kamei et al.'s 14 features, same fitting),
``lapredict`` (logistic regression on lines added alone, Zeng et al. 2021) and ``size`` (lines added +
deleted as the ranking, no probability).

Signal checks (`CHECKED_SIGNALS`, e.g. ``ai_share``): whether one signal earns its place. The engmetrics model is
fitted again without it on the same splits; ``auc_gain`` is the mean over splits of AUC(with) − AUC(without), with
the paired bootstrap interval (same resamples). It helps when the interval lies above 0, hurts when below, and
otherwise makes no measurable difference; a signal no change carries (all 0) cannot help.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from engmetrics.areas.risk.metrics.features import FEATURES, KAMEI, Floats
from engmetrics.areas.risk.metrics.model import train, train_engmetrics

DAY = 86400
DEFAULT_SPLITS = 5
MODELS = ("engmetrics", "lapredict", "kamei", "size")
CHECKED_SIGNALS = ("ai_share",)
"""Signals whose contribution `evaluate` measures (the model refitted without each)."""
_LA, _LD = FEATURES.index("la"), FEATURES.index("ld")
Indices = npt.NDArray[np.intp]


def label_horizon_seconds(times: Floats) -> int:
    """Seconds at the end of a history whose labels are not known yet: 90 days, at most 20% of the span."""
    if len(times) < 2:
        return 0
    return int(min(90 * DAY, 0.2 * float(times.max() - times.min())))


def auc(score: Floats, y: Floats) -> float | None:
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


def brier(p: Floats | None, y: Floats) -> float | None:
    """Mean squared error of probabilities against 0/1 labels."""
    if p is None or len(y) == 0:
        return None
    return float(np.mean((p - y) ** 2))


def _effort_curve(order: Indices, effort: Floats, y: Floats) -> tuple[Floats, Floats]:
    e = np.concatenate([[0.0], np.cumsum(effort[order])]) / effort.sum()
    r = np.concatenate([[0.0], np.cumsum(y[order])]) / max(y.sum(), 1)
    return e, r


def _area(e: Floats, r: Floats) -> float:
    return float(np.sum((e[1:] - e[:-1]) * (r[1:] + r[:-1]) / 2))


def effort_metrics(score: Floats, effort: Floats, y: Floats) -> tuple[float | None, float | None]:
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


def _ci(values: Sequence[float | None]) -> list[float] | None:
    """The 2.5–97.5 percentiles of the bootstrap values (None ones left out); None with fewer than 10."""
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
    auc_per_split: list[float | None] = field(default_factory=list)
    auc_vs_lapredict: float | None = None
    auc_vs_lapredict_ci: list[float] | None = None


@dataclass
class SignalCheck:
    """What one signal adds to the engmetrics model: changes carrying it (value > 0) and the AUC it gains."""

    name: str
    changes_with_signal: int
    auc_gain: float | None = None
    auc_gain_ci: list[float] | None = None

    @property
    def verdict(self) -> str:
        """'helps', 'hurts', 'no measurable difference', 'absent' (no change carries it) or 'unknown'."""
        if not self.changes_with_signal:
            return "absent"
        if self.auc_gain is None:
            return "unknown"
        if self.auc_gain_ci is None:
            return "no measurable difference"
        if self.auc_gain_ci[0] > 0:
            return "helps"
        if self.auc_gain_ci[1] < 0:
            return "hurts"
        return "no measurable difference"


@dataclass
class Evaluation:
    """What `evaluate` measured: changes considered, bug-inducing among them, splits run, each model's scores."""

    changes: int
    labelled_inducing: int
    splits: int
    models: list[ModelScores] = field(default_factory=list)
    signal_checks: list[SignalCheck] = field(default_factory=list)
    test_changes: int = 0
    why_no_splits: str | None = None  # when ``splits`` is 0: what was missing, in a sentence


Predictor = Callable[[Floats, Floats, Floats], tuple[Floats, Floats | None]]


def _predictors() -> dict[str, Predictor]:
    def fitted(features: tuple[str, ...] | None, without: tuple[str, ...] = ()) -> Predictor:
        def run(Xtr: Floats, ytr: Floats, Xte: Floats) -> tuple[Floats, Floats | None]:
            m = train_engmetrics(Xtr, ytr, without) if features is None else train(Xtr, ytr, features)
            p = m.proba(Xte)
            return p, p

        return run

    def size(Xtr: Floats, ytr: Floats, Xte: Floats) -> tuple[Floats, Floats | None]:
        return Xte[:, _LA] + Xte[:, _LD], None

    checks = {f"without_{s}": fitted(None, (s,)) for s in CHECKED_SIGNALS}
    return {"engmetrics": fitted(None), "lapredict": fitted(("la",)), "kamei": fitted(KAMEI), "size": size, **checks}


def evaluate(X: Floats, times: Floats, fixed_at: Floats, *, splits: int = DEFAULT_SPLITS,
             bootstrap: int, seed: int = 0, models: tuple[str, ...] = MODELS) -> Evaluation:
    """Rolling evaluation of every model in `MODELS`.

    ``X``: features (rows of `FEATURES`) of changes sorted by time; ``times``: their Unix times;
    ``fixed_at``: for each change, the Unix time its first fix was committed (``inf`` when never fixed);
    ``bootstrap``: resamples for the intervals (0: none).
    """
    horizon = label_horizon_seconds(times)
    known = times <= (times.max() - horizon) if len(times) else np.zeros(0, dtype=bool)
    X, times, fixed_at = X[known], times[known], fixed_at[known]
    y_all = np.isfinite(fixed_at).astype(np.float64)
    n = len(times)
    result = Evaluation(changes=n, labelled_inducing=int(y_all.sum()), splits=0)
    if n < 40 or y_all.sum() < 5:
        result.models = [ModelScores(m, None, None, None, None, None, None, None, None) for m in MODELS]
        days = horizon / DAY
        if n < 40:
            result.why_no_splits = (f"only {n} change(s) have known labels (older than the last {days:.0f} days, "
                                    "whose later fixes may not have happened yet); the evaluation needs 40")
        else:
            result.why_no_splits = (f"only {int(y_all.sum())} of the {n} changes with known labels are bug-inducing "
                                    "(a later fix was traced to them); the evaluation needs 5")
        return result
    bounds = np.linspace(0, n, splits + 2).astype(int)
    checked = [s for s in CHECKED_SIGNALS if "engmetrics" in models]
    predictors = {k: v for k, v in _predictors().items() if k in models or k in {f"without_{s}" for s in checked}}
    names = list(predictors)
    rng = np.random.default_rng(seed)
    # name -> metric -> one value per split; and the same per bootstrap replicate (replicate b resamples
    # every split's test changes, with the same indices for every model, and averages over the splits).
    per_split: dict[str, dict[str, list[float | None]]] = {m: {k: [] for k in ("auc", "brier", "r20", "popt")} for m in names}
    per_boot: dict[str, dict[str, list[list[float | None]]]] = {m: {k: [] for k in ("auc", "brier", "r20", "popt")} for m in names}
    for i in range(1, splits + 1):
        lo, hi = bounds[i], bounds[i + 1]
        if hi <= lo:
            continue
        cut = times[lo]
        train_mask = times[:lo] < cut - horizon
        Xtr = X[:lo][train_mask]
        ytr = (fixed_at[:lo][train_mask] < cut).astype(np.float64)
        yte = y_all[lo:hi]
        if ytr.sum() < 3 or (len(ytr) - ytr.sum()) < 3 or yte.sum() == 0 or yte.sum() == len(yte):
            continue
        Xte = X[lo:hi]
        effort = np.maximum(Xte[:, _LA] + Xte[:, _LD], 1.0)
        samples = [rng.integers(0, len(yte), len(yte)) for _ in range(bootstrap)]
        for name, predict in predictors.items():
            score, p = predict(Xtr, ytr, Xte)
            r20, popt = effort_metrics(score, effort, yte)
            got = per_split[name]
            got["auc"].append(auc(score, yte))
            got["brier"].append(brier(p, yte))
            got["r20"].append(r20)
            got["popt"].append(popt)
            boot: dict[str, list[float | None]] = {"auc": [], "brier": [], "r20": [], "popt": []}
            for s in samples:
                boot["auc"].append(auc(score[s], yte[s]))
                boot["brier"].append(brier(p[s] if p is not None else None, yte[s]))
                br, bp = effort_metrics(score[s], effort[s], yte[s])
                boot["r20"].append(br)
                boot["popt"].append(bp)
            for k, v in boot.items():
                per_boot[name][k].append(v)
        result.test_changes += hi - lo
        result.splits += 1
    if not result.splits:
        result.models = [ModelScores(m, None, None, None, None, None, None, None, None) for m in names
                         if not m.startswith("without_")]
        result.why_no_splits = (f"none of the {splits} time-ordered splits had at least 3 bug-inducing and 3 clean "
                                f"changes to train on and both kinds to test on ({int(y_all.sum())} of {n} changes "
                                "with known labels are bug-inducing)")
        return result

    def mean(values: Sequence[float | None]) -> float | None:
        vals = [v for v in values if v is not None]
        return round(float(np.mean(vals)), 4) if vals else None

    def interval(rows: Sequence[Sequence[float | None]]) -> list[float] | None:
        if not rows or not rows[0]:
            return None
        return _ci([mean([row[b] for row in rows]) for b in range(len(rows[0]))])

    def paired(name: str) -> tuple[float | None, list[float] | None]:
        """Mean over splits of (AUC of ``name`` − AUC of lapredict), and its paired bootstrap interval."""
        if "lapredict" not in per_split or name == "lapredict":
            return None, None
        mine, la = per_split[name]["auc"], per_split["lapredict"]["auc"]
        diff = mean([None if a is None or b is None else a - b for a, b in zip(mine, la, strict=True)])
        rows = [[None if a is None or b is None else a - b for a, b in zip(ra, rb, strict=True)]
                for ra, rb in zip(per_boot[name]["auc"], per_boot["lapredict"]["auc"], strict=True)]
        return diff, interval(rows)

    for signal in checked:
        col = FEATURES.index(signal)
        with_it, without = per_split["engmetrics"]["auc"], per_split[f"without_{signal}"]["auc"]
        gain = mean([None if a is None or b is None else a - b for a, b in zip(with_it, without, strict=True)])
        rows = [[None if a is None or b is None else a - b for a, b in zip(ra, rb, strict=True)]
                for ra, rb in zip(per_boot["engmetrics"]["auc"], per_boot[f"without_{signal}"]["auc"], strict=True)]
        result.signal_checks.append(SignalCheck(signal, int((X[:, col] > 0).sum()), gain, interval(rows)))
    for name in names:
        if name.startswith("without_"):
            continue
        got, replicates = per_split[name], per_boot[name]
        vs_la, vs_la_ci = paired(name)
        result.models.append(ModelScores(
            name=name,
            auc=mean(got["auc"]), auc_ci=interval(replicates["auc"]),
            brier=mean(got["brier"]), brier_ci=interval(replicates["brier"]),
            recall_at_20_effort=mean(got["r20"]), recall_at_20_effort_ci=interval(replicates["r20"]),
            popt=mean(got["popt"]), popt_ci=interval(replicates["popt"]),
            auc_per_split=[None if a is None else round(a, 4) for a in got["auc"]],
            auc_vs_lapredict=vs_la, auc_vs_lapredict_ci=vs_la_ci,
        ))
    return result
