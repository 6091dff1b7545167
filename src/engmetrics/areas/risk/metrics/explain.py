"""Explaining a score, signal by signal, and the public description of the model that gave it.

With L the change's calibrated log-odds and L₀ those of a typical change (every feature at the repository's
median), each signal j adds cⱼ = βⱼ·(zⱼ − z₀ⱼ) to the log-odds (z: standardised log features). The score S (a
percentile, 0–100) differs from the typical change's S₀ by S − S₀, shared out in proportion to the cⱼ
(integrated gradients along the straight path from the typical change, which for a monotone function of a
linear score is exactly this share), so baseline + Σ contributions = score.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from engmetrics.areas.risk.metrics.changes import AddedLines
from engmetrics.areas.risk.metrics.features import FEATURES, Floats
from engmetrics.areas.risk.metrics.model import RiskModel
from engmetrics.areas.risk.models import AddedLines as AddedLinesRow
from engmetrics.areas.risk.models import RiskModelInfo


class Explanation(NamedTuple):
    """A change's calibrated probability (0–1), score (0–100), the typical change's score, and the points each
    signal adds (they sum to score − baseline)."""

    probability: float
    score: float
    baseline: float
    points: dict[str, float]


def explain(model: RiskModel, x: Floats) -> Explanation:
    """The `Explanation` of one feature row ``x`` (a row of `FEATURES`)."""
    X = x.reshape(1, -1)
    typical = np.asarray(model.typical if model.typical else np.zeros(len(FEATURES))).reshape(1, -1)
    z, z0 = model.standardise(X)[0], model.standardise(typical)[0]
    c = np.asarray(model.coef) * (z - z0)
    p = float(model.proba(X)[0])
    score = float(model.percentile(p))
    base = float(model.percentile(float(model.proba(typical)[0])))
    total = float(c.sum())
    share = (score - base) / total if abs(total) > 1e-9 else 0.0
    points = {name: float(ci * share) for name, ci in zip(model.features, c, strict=True)}
    return Explanation(p, score, base, points)


def model_info(model: RiskModel) -> RiskModelInfo:
    """The public description of a model."""
    note = None
    if model.kind == "prior":
        note = (f"Too little labelled history to train ({model.trained_on} changes, {model.inducing} bug-inducing; "
                "needs 100 and 10): the documented prior model is used.")
    return RiskModelInfo(kind=model.kind, trained_on=model.trained_on, inducing=model.inducing,
                         auc=None if model.auc is None else round(model.auc, 3), note=note)


def added_lines_rows(added: AddedLines) -> list[AddedLinesRow]:
    """What a change adds per (file kind, file type), code first, then most lines first."""
    rows = [AddedLinesRow(file_type=t, kind=k, lines=v[0], files=v[1], counted_as_code=k == "source")
            for (k, t), v in added.by_type.items() if v[0] > 0]
    return sorted(rows, key=lambda r: (not r.counted_as_code, -r.lines, r.file_type))


def top_signals(model: RiskModel, x: Floats, n: int = 2) -> list[str]:
    """Names of the ``n`` signals adding the most points to a change's score (positive ones only)."""
    points = explain(model, x).points
    return [k for k, v in sorted(points.items(), key=lambda kv: -kv[1]) if v > 0][:n]
