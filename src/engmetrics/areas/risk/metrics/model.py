"""The risk model: a class-balanced logistic regression over standardised, log-transformed change features.

- Transform: each feature x ≥ 0 becomes log(1 + x), then is standardised with the training mean and
  standard deviation (a constant feature gets standard deviation 1).
- Fit: L2-penalised logistic regression by Newton's method, each class weighted so both carry half the
  total weight (class-balanced). engmetrics' model leaves the coefficient of source lines added
  (``sloc_added``: lines added that are not blank or comments) free and shrinks every other one with λ = 1000 (in units of the total sample weight, = the number of changes);
  the Kamei and LApredict baselines use λ = 1 on every coefficient. The intercept is never penalised.
- Calibration: balancing trains the model as if half the changes were risky, so the intercept is shifted by
  log(π / (1 − π)), π = the share of bug-inducing changes in the training data (prior correction, King & Zeng
  2001). The probability is then the calibrated chance that the change induces a bug later fixed.
- Score: the probability's percentile among the repository's own past changes (0–100; 80 = riskier than
  80% of them). Tiers: low < 50 ≤ medium < 80 ≤ high < 95 ≤ critical.
- Prior model (``kind="prior"``), used when a repository has fewer than 100 labelled changes or fewer than
  10 bug-inducing ones: fixed coefficients on the same standardised features (standardised on the
  repository's own changes). Their signs follow Kamei et al. 2013 (size, diffusion, fixes and file history
  raise risk; author experience lowers it), Zeng et al. 2021 (lines added is the strongest single
  signal) and Kim et al. 2007 (recently fixed files are fixed again); the magnitudes are set by
  engmetrics, not fitted, and the intercept gives a 20% base rate (mid-range of the defect-inducing
  shares Kamei et al. report).
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from typing import Literal

import numpy as np

from engmetrics.areas.risk.metrics.features import FEATURES, Floats
from engmetrics.areas.risk.models import Tier

TIERS: tuple[tuple[int, Tier], ...] = ((95, "critical"), (80, "high"), (50, "medium"), (0, "low"))
MIN_CHANGES = 100
MIN_INDUCING = 10
PRIOR_BASE_RATE = 0.2
PRIOR_COEFFICIENTS: dict[str, float] = {
    "ns": 0.15, "nd": 0.15, "nf": 0.3, "entropy": 0.2, "la": 0.3, "ld": 0.2, "lt": 0.1, "fix": 0.3,
    "ndev": 0.15, "age": -0.1, "nuc": 0.15, "exp": -0.2, "rexp": -0.1, "sexp": -0.1,
    "test_share": -0.1, "tests_touched": 0.0, "hotspot": 0.15, "coupling_missed": 0.1, "sensitive": 0.1,
    "ai_share": 0.0, "author_file_exp": -0.15,
    "owner_coverage": -0.05, "owner_involved": -0.1, "recent_fixes": 0.2, "sloc_added": 0.4,
}


def tier(score: float) -> Tier:
    """The tier of a 0–100 score: low < 50 ≤ medium < 80 ≤ high < 95 ≤ critical."""
    return next(name for cut, name in TIERS if score >= cut)


def transform(X: Floats) -> Floats:
    """log(1 + x) of each (non-negative) feature."""
    return np.log1p(np.maximum(X, 0.0))


def fit_logistic(Z: Floats, y: Floats, *, l2: float | Floats = 1.0, balanced: bool = True,
                 iterations: int = 50) -> tuple[Floats, float]:
    """(coefficients, intercept) of an L2-penalised logistic regression by Newton's method.

    ``l2``: one penalty for every coefficient, or one per column of ``Z`` (the intercept is never penalised).
    ``balanced`` weights each class to half the total weight. ``Z`` should already be standardised.
    """
    n, d = Z.shape
    y = y.astype(np.float64)
    pos = float(y.sum())
    w = np.ones(n)
    if balanced and 0 < pos < n:
        w = np.where(y > 0, n / (2 * pos), n / (2 * (n - pos)))
    A = np.hstack([np.ones((n, 1)), Z])
    beta = np.zeros(d + 1)
    penalty = np.zeros(d + 1)
    penalty[1:] = l2
    for _ in range(iterations):
        p = 1.0 / (1.0 + np.exp(-np.clip(A @ beta, -35, 35)))
        grad = A.T @ (w * (y - p)) - penalty * beta
        hess = (A * (w * p * (1 - p))[:, None]).T @ A + np.diag(penalty) + 1e-9 * np.eye(d + 1)
        step = np.linalg.solve(hess, grad)
        beta += step
        if np.max(np.abs(step)) < 1e-7:
            break
    return beta[1:], float(beta[0])


@dataclass
class RiskModel:
    """A fitted (or prior) model over the features ``features`` (names from `FEATURES`)."""

    kind: Literal["trained", "prior"]
    features: list[str]
    mean: list[float]
    std: list[float]
    coef: list[float]
    intercept: float
    base_rate: float
    trained_on: int = 0
    inducing: int = 0
    auc: float | None = None
    reference: list[float] = field(default_factory=list)  # quantiles of past changes' probabilities
    typical: list[float] = field(default_factory=list)  # median of each feature over past changes
    fingerprint: str = ""

    def columns(self) -> list[int]:
        """Indices of this model's features in `FEATURES`."""
        return [FEATURES.index(f) for f in self.features]

    def standardise(self, X: Floats) -> Floats:
        """Standardised log features of full `FEATURES` rows."""
        return (transform(X[:, self.columns()]) - np.asarray(self.mean, dtype=np.float64)) / np.asarray(self.std, dtype=np.float64)

    def logit(self, X: Floats) -> Floats:
        """Calibrated log-odds of each row of ``X`` (rows of `FEATURES`)."""
        return self.standardise(X) @ np.asarray(self.coef, dtype=np.float64) + self.intercept

    def proba(self, X: Floats) -> Floats:
        """Calibrated probability (0–1) that each change induces a bug."""
        return 1.0 / (1.0 + np.exp(-np.clip(self.logit(X), -35, 35)))

    def percentile(self, p: Floats | float) -> Floats:
        """Share of past changes (0–100) with a lower probability than ``p`` (a 0-d array for one ``p``)."""
        ref = np.asarray(self.reference, dtype=np.float64)
        if ref.size == 0:
            return np.asarray(p, dtype=np.float64) * 100
        grid = np.linspace(0.0, 100.0, ref.size)
        return np.asarray(np.interp(p, ref, grid, left=0.0, right=100.0), dtype=np.float64)

    def set_reference(self, X: Floats) -> None:
        """Record the distribution of past changes' probabilities and typical feature values."""
        if len(X):
            self.reference = np.quantile(self.proba(X), np.linspace(0, 1, 201)).tolist()
            self.typical = np.median(X, axis=0).tolist()

    def to_json(self) -> str:
        """JSON of the model."""
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str) -> RiskModel:
        """A model saved by `to_json`."""
        return cls(**json.loads(text))


def _scaler(X: Floats, cols: list[int]) -> tuple[Floats, Floats]:
    T = transform(X[:, cols])
    mean = T.mean(axis=0) if len(T) else np.zeros(len(cols))
    std = T.std(axis=0) if len(T) else np.ones(len(cols))
    std[std < 1e-9] = 1.0
    return mean, std


def train(X: Floats, y: Floats, features: tuple[str, ...] | list[str] = FEATURES, *, l2: float = 1.0,
          free: tuple[str, ...] = ()) -> RiskModel:
    """A class-balanced, prior-corrected logistic regression on ``features`` of ``X`` (rows of `FEATURES`).

    Every coefficient has the L2 penalty ``l2`` except those of the ``free`` features (unpenalised).
    """
    cols = [FEATURES.index(f) for f in features]
    mean, std = _scaler(X, cols)
    Z = (transform(X[:, cols]) - mean) / std
    penalty = np.array([0.0 if f in free else l2 for f in features])
    coef, intercept = fit_logistic(Z, y, l2=penalty)
    pi = float(np.clip(y.mean(), 1e-4, 1 - 1e-4)) if len(y) else PRIOR_BASE_RATE
    return RiskModel(
        kind="trained", features=list(features), mean=mean.tolist(), std=std.tolist(), coef=coef.tolist(),
        intercept=intercept + math.log(pi / (1 - pi)), base_rate=pi, trained_on=len(y), inducing=int(y.sum()),
    )


ENGMETRICS_L2 = 2.0  # per training change
ENGMETRICS_L2_MAX = 1000.0
ENGMETRICS_FREE = ("sloc_added",)


def train_engmetrics(X: Floats, y: Floats, without: tuple[str, ...] = ()) -> RiskModel:
    """engmetrics' model: every feature (but those ``without`` names: how the evaluation checks what one signal adds),
    source lines added unpenalised, every other coefficient shrunk (λ = 1000).

    Lines added is the strongest and most stable single signal (Zeng et al. 2021); source lines added keeps
    only the added lines a later fix can be traced to (SZZ ignores blank and comment-only lines and
    whitespace edits), which ranks changes better still. The other signals enter as corrections that must
    earn their weight against a strong penalty, which keeps the model stable when a repository's early
    history differs from its present.
    """
    features = tuple(f for f in FEATURES if f not in without)
    return train(X, y, features, l2=min(ENGMETRICS_L2_MAX, ENGMETRICS_L2 * len(y)), free=ENGMETRICS_FREE)


def prior(X: Floats) -> RiskModel:
    """The prior model (documented coefficients), standardised on the repository's own changes ``X``."""
    cols = list(range(len(FEATURES)))
    mean, std = _scaler(X, cols)
    coef = [PRIOR_COEFFICIENTS[f] for f in FEATURES]
    return RiskModel(
        kind="prior", features=list(FEATURES), mean=mean.tolist(), std=std.tolist(), coef=coef,
        intercept=math.log(PRIOR_BASE_RATE / (1 - PRIOR_BASE_RATE)), base_rate=PRIOR_BASE_RATE,
    )
