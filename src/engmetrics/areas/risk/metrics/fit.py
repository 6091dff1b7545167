"""A repository's model from its labelled history: the rows it learns from, and the trained (or prior) model.

- **Rows**: the changes that can be labelled bug-inducing — not bots' changes (Dependabot, Renovate,
  pre-commit.ci…), and not changes that touch no product file (only documentation, tests, CI configuration or
  repository metadata: SZZ can never trace a bug to them). Both are still replayed into the history, as they
  did change the files. A row's label is the Unix time its first fix was committed (``inf``: never fixed).
- **Fit**: leaving out the changes within the label horizon at the end of the history (90 days, at most 20% of
  its span), whose labels are not known yet, engmetrics' model is trained when at least `MIN_CHANGES` changes
  and `MIN_INDUCING` bug-inducing and as many clean ones are left, its AUC measured by the rolling evaluation;
  otherwise the documented prior model is used (`engmetrics.areas.risk.metrics.model`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import NamedTuple

import numpy as np

from engmetrics.areas.risk.metrics.changes import Change, is_bot_change, is_product_change
from engmetrics.areas.risk.metrics.evaluation import evaluate, label_horizon_seconds
from engmetrics.areas.risk.metrics.features import Floats
from engmetrics.areas.risk.metrics.model import MIN_CHANGES, MIN_INDUCING, RiskModel, prior, train_engmetrics


class Rows(NamedTuple):
    """The rows a model learns from, oldest first: shas, Unix times, features (rows of `FEATURES`) and the time
    of each change's first fix (``inf`` when never fixed)."""

    shas: list[str]
    times: Floats
    X: Floats
    fixed_at: Floats


def training_rows(changes: Sequence[Change], shas: list[str], X: Floats, inducing: Mapping[str, int]) -> Rows:
    """The labelled rows of ``changes`` (replayed in order: ``shas``, features ``X``): bots' changes and those
    touching no product file left out; ``inducing``: inducing commit → its first fix's time."""
    times = np.array([c.time for c in changes], dtype=np.float64)
    keep = np.array([is_product_change(c) and not is_bot_change(c) for c in changes], dtype=bool)
    if len(changes) and not keep.all():
        shas = [s for s, k in zip(shas, keep, strict=True) if k]
        X, times = X[keep], times[keep]
    fixed_at = np.array([inducing.get(s, np.inf) for s in shas], dtype=np.float64)
    return Rows(shas, times, X, fixed_at)


def fit_repository(times: Floats, X: Floats, fixed_at: Floats) -> RiskModel:
    """The trained model (or the prior one when the labelled history is too small), with its measured AUC and the
    reference distribution of its scores."""
    horizon = label_horizon_seconds(times)
    known = times <= (times.max() - horizon) if len(times) else np.zeros(0, dtype=bool)
    y = np.isfinite(fixed_at[known]).astype(np.float64)
    if known.sum() >= MIN_CHANGES and y.sum() >= MIN_INDUCING and (len(y) - y.sum()) >= MIN_INDUCING:
        model = train_engmetrics(X[known], y)
        ev = evaluate(X, times, fixed_at, bootstrap=0, models=("engmetrics",))
        model.auc = ev.models[0].auc if ev.models else None
    else:
        model = prior(X)
        model.trained_on, model.inducing = int(known.sum()), int(y.sum())
    model.set_reference(X)
    return model
