"""Insights: observations computed from weekly metric series (pure functions over plain lists).

Rules (each insight's body states the numbers that fired it):

- **Sustained trend** (type ``trend``): the last 4 weekly values of a metric are all present and each of
  the 3 steps moved the same way by more than 5% (from 0, any change counts). Worsening by the metric's
  polarity → severity ``high`` when the total change is ≥ 50%, else ``medium``; improving → ``low``.
- **Anomaly** (type ``anomaly``): the latest week against the scope's own earlier weeks (at least 6 with a
  value). Robust z-score z = 0.6745·(x − median)/MAD (Iglewicz & Hoaglin); when MAD is 0, the mean
  absolute deviation ×1.2533 replaces it; when every earlier week had the same value, a change of 50% or
  more counts. Fires at |z| ≥ 3.5: severity ``high`` for |z| ≥ 6 in the bad direction, ``medium`` otherwise
  in the bad direction, ``low`` in the good direction.
- **Correlation** (type ``recommendation``): Spearman's ρ over weeks where both metrics have a value (at
  least 8). Deployment frequency vs change failure rate with ρ ≥ 0.6 → "pace may have outrun testing"
  (medium); change size vs lead time with ρ ≥ 0.6 → "smaller changes ship faster" (medium).
- **Benchmark** (type ``benchmark``): a DORA metric of the examined window rated ``low`` (medium severity)
  or ``medium`` (low severity) for the report year, with the distance to the next tier.
- **AI-assisted code** (type ``recommendation``), when the window has AI-assisted commits: their share, the AI share
  of lines (with tracking data), adoption, and the stability comparison in words (`AiImpact.stability`): severity
  ``medium`` when a group of AI-assisted changes was bug-inducing, reverted or shipped in failed deployments
  significantly more often than changes without AI, else ``low``. Always said as an association.

Insights are ordered by severity (high first), then anomaly, trend, benchmark, recommendation.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence

import numpy as np

from engmetrics import ratings
from engmetrics.areas.ai.models import AiImpact
from engmetrics.areas.dora.models import DoraReport
from engmetrics.areas.reports.models import Insight
from engmetrics.areas.reports.metrics.numbers import count, fmt, num
from engmetrics.areas.reports.metrics.series import HIGHER_IS_BETTER, NAMES, UNITS

TREND_STEPS = 3
STEP_PERCENT = 5.0
Z_THRESHOLD = 3.5
Z_HIGH = 6.0
MIN_HISTORY = 6
MIN_PAIRS = 8
RHO_THRESHOLD = 0.6
_SEVERITY = {"high": 0, "medium": 1, "low": 2}
_TYPE = {"anomaly": 0, "trend": 1, "benchmark": 2, "recommendation": 3}
TREND_METRICS = ("deployment_frequency", "lead_time", "change_failure_rate", "mttr", "change_size")


def _id(*parts: str) -> str:
    return "ins_" + hashlib.sha1(":".join(parts).encode()).hexdigest()[:10]


def step(prev: float, cur: float, higher_is_better: bool) -> str:
    """'improving', 'worsening' or 'stable' for one step (more than 5% relative; from 0 any change)."""
    if prev == 0:
        if cur == 0:
            return "stable"
        up = cur > 0
    else:
        change = (cur - prev) / abs(prev) * 100
        if abs(change) <= STEP_PERCENT:
            return "stable"
        up = change > 0
    return "improving" if up == higher_is_better else "worsening"


def robust_z(history: Sequence[float], x: float) -> float | None:
    """Robust z-score of ``x`` against ``history`` (MAD, else mean absolute deviation); None if both are 0."""
    h = np.asarray(history, dtype=float)
    med = float(np.median(h))
    mad = float(np.median(np.abs(h - med)))
    if mad > 0:
        return 0.6745 * (x - med) / mad
    meanad = float(np.mean(np.abs(h - med)))
    if meanad > 0:
        return (x - med) / (1.2533 * meanad)
    return None


def spearman(a: Sequence[float], b: Sequence[float]) -> float | None:
    """Spearman's rank correlation (average ranks for ties); None when either side is constant."""

    def ranks(v: Sequence[float]) -> np.ndarray:
        arr = np.asarray(v, dtype=float)
        order = arr.argsort(kind="mergesort")
        r = np.empty(len(arr))
        r[order] = np.arange(1, len(arr) + 1)
        for value in np.unique(arr):
            mask = arr == value
            r[mask] = r[mask].mean()
        return r

    ra, rb = ranks(a), ranks(b)
    if ra.std() == 0 or rb.std() == 0:
        return None
    return float(np.corrcoef(ra, rb)[0, 1])


def trend_insights(labels: Sequence[str], series: Mapping[str, Sequence[float | None]], scope: str, now: str) -> list[Insight]:
    """Sustained-trend insights (module rules)."""
    out = []
    for metric in TREND_METRICS:
        values = list(series.get(metric, ()))[-(TREND_STEPS + 1):]
        tail = [v for v in values if v is not None]
        if len(tail) < TREND_STEPS + 1:  # too short, or a week without a value inside the run
            continue
        higher = HIGHER_IS_BETTER.get(metric, False)
        steps = {step(a, b, higher) for a, b in zip(tail, tail[1:], strict=False)}
        if len(steps) != 1 or steps == {"stable"}:
            continue
        direction = steps.pop()
        unit, name = UNITS[metric], NAMES[metric]
        first, last = tail[0], tail[-1]
        total = None if first == 0 else abs(last - first) / abs(first) * 100
        verb = "increased" if last > first else "decreased"
        weeks = labels[-(TREND_STEPS + 1):]
        sequence = " → ".join(fmt(v, unit) for v in tail)
        body = (
            f"{name.capitalize()} for {scope} {verb} {count(TREND_STEPS, 'week')} running, from {fmt(first, unit)} in {weeks[0]} "
            f"to {fmt(last, unit)} in {weeks[-1]} ({sequence})."
        )
        if direction == "worsening":
            severity = "high" if total is None or total >= 50 else "medium"
            body += " Look at what changed in those weeks before it becomes the norm."
            title = f"{name.capitalize()} worsening {count(TREND_STEPS, 'week')} running"
        else:
            severity = "low"
            body += " Worth noting what the team did differently."
            title = f"{name.capitalize()} improving {count(TREND_STEPS, 'week')} running"
        out.append(Insight(id=_id("trend", metric, weeks[-1], scope), type="trend", severity=severity, title=title,
                           body=body, metrics_referenced=[metric], generated_at=now))
    return out


def anomaly_insights(labels: Sequence[str], series: Mapping[str, Sequence[float | None]], scope: str, now: str) -> list[Insight]:
    """Robust z-score anomalies of the latest week against the scope's own history (module rules)."""
    out = []
    for metric in TREND_METRICS:
        values = list(series.get(metric, ()))
        if not values or values[-1] is None:
            continue
        x = float(values[-1])
        history = [float(v) for v in values[:-1] if v is not None]
        if len(history) < MIN_HISTORY:
            continue
        med = float(np.median(history))
        z = robust_z(history, x)
        if z is None:
            if med == x or (med != 0 and abs(x - med) / abs(med) < 0.5):
                continue
            how = f"every one of the previous {count(len(history), 'week')} was {fmt(med, UNITS[metric])}"
            bad = step(med, x, HIGHER_IS_BETTER.get(metric, False)) == "worsening"
            severity = "medium" if bad else "low"
        else:
            if abs(z) < Z_THRESHOLD:
                continue
            how = f"robust z-score {num(z)} against a median of {fmt(med, UNITS[metric])} over the previous {count(len(history), 'week')}"
            higher = HIGHER_IS_BETTER.get(metric, False)
            bad = (z > 0) != higher
            severity = ("high" if abs(z) >= Z_HIGH else "medium") if bad else "low"
        name, unit = NAMES[metric], UNITS[metric]
        direction = "high" if x > med else "low"
        out.append(Insight(
            id=_id("anomaly", metric, labels[-1], scope), type="anomaly", severity=severity,
            title=f"Unusually {direction} {name} in {labels[-1]}",
            body=f"{name.capitalize()} for {scope} was {fmt(x, unit)} in {labels[-1]}; {how}.",
            metrics_referenced=[metric], generated_at=now,
        ))
    return out


_PAIRS = (
    ("deployment_frequency", "change_failure_rate",
     "Weeks with more deployments had higher change failure rates",
     "Review whether deployment pace has outrun testing and review."),
    ("change_size", "lead_time",
     "Larger changes took longer to reach production",
     "Smaller changes ship faster: consider splitting large pull requests."),
)


def correlation_insights(labels: Sequence[str], series: Mapping[str, Sequence[float | None]], scope: str, now: str) -> list[Insight]:
    """Spearman correlations between metric pairs over the weekly series (module rules)."""
    out = []
    for a, b, title, advice in _PAIRS:
        pairs = [(x, y) for x, y in zip(series.get(a, ()), series.get(b, ()), strict=False) if x is not None and y is not None]
        if len(pairs) < MIN_PAIRS:
            continue
        rho = spearman([p[0] for p in pairs], [p[1] for p in pairs])
        if rho is None or rho < RHO_THRESHOLD:
            continue
        out.append(Insight(
            id=_id("correlation", a, b, labels[-1] if labels else "", scope), type="recommendation", severity="medium",
            title=title,
            body=f"For {scope}, {NAMES[a]} and {NAMES[b]} moved together over {count(len(pairs), 'week')} (Spearman ρ {num(rho)}). {advice}",
            metrics_referenced=[a, b], generated_at=now,
        ))
    return out


def benchmark_insights(report: DoraReport, scope: str, now: str) -> list[Insight]:
    """DORA metrics of the window rated low (medium severity) or medium (low severity), with the next tier."""
    out = []
    year = report.benchmark_year
    figures = {
        "deployment_frequency": report.deployment_frequency, "lead_time": report.lead_time,
        "change_failure_rate": report.change_failure_rate, "mttr": report.mttr,
    }
    for metric, fig in figures.items():
        if fig.rating not in ("low", "medium") or fig.value is None:
            continue
        nxt = ratings.next_tier(metric, fig.value, year)
        unit = UNITS[metric]
        extra = ""
        if nxt is not None and nxt.threshold is not None:
            extra = f" Reaching {nxt.rating} needs {fmt(nxt.threshold, unit)} ({fmt(ratings.distance_to_next_tier(metric, fig.value, year), unit)} away)."
        out.append(Insight(
            id=_id("benchmark", metric, report.period.to[:10], scope), type="benchmark",
            severity="medium" if fig.rating == "low" else "low",
            title=f"{NAMES[metric].capitalize()} rates {fig.rating} against DORA {year}",
            body=f"{NAMES[metric].capitalize()} for {scope} was {fmt(fig.value, unit)} over {report.period.label}, "
                 f"the {fig.rating} tier of the DORA {year} report.{extra}",
            metrics_referenced=[metric], generated_at=now,
        ))
    return out


def ai_insight(impact: AiImpact, scope: str, now: str) -> Insight | None:
    """What AI-assisted code amounted to in the window and how it fared (None without AI-assisted commits)."""
    if not impact.ai_assisted_commits:
        return None
    worse = [g for g in impact.stability.groups if g.vs_none is not None and any(
        d.significant and (d.points or 0) > 0
        for d in (g.vs_none.bug_inducing, g.vs_none.reverted, g.vs_none.failed_deployment))]
    share = (f" AI wrote {num(impact.ai_share_of_lines_percent or 0.0)}% of the lines added (tracking data)."
             if impact.ai_share_of_lines_percent is not None else "")
    ad = impact.adoption
    people = (f" {ad.ai_people} of {count(ad.people, 'person', 'people')} ({num(ad.adoption_percent or 0.0)}%) made at least one."
              if ad.people else "")
    comparison = [s for s in impact.stability.summary if not s.startswith("These are associations")]
    body = (f"For {scope}, {num(impact.ai_assisted_commits_percent or 0.0)}% of commits ({impact.ai_assisted_commits} of "
            f"{impact.commits}) were AI-assisted over {impact.period.label} (AI lines in tracking data or an AI "
            f"co-author trailer).{share}{people} {' '.join(comparison[:2])} This is an association, not a cause.")
    title = ("AI-assisted changes fared worse than changes without AI" if worse
             else f"AI-assisted code: {num(impact.ai_assisted_commits_percent or 0.0)}% of commits")
    return Insight(
        id=_id("ai", impact.period.to[:10], scope), type="recommendation", severity="medium" if worse else "low",
        title=title, body=" ".join(body.split()),
        metrics_referenced=["ai_assisted_commits", "ai_share_of_lines", "ai_adoption"], generated_at=now,
    )


def compute_insights(
    labels: Sequence[str], series: Mapping[str, Sequence[float | None]], scope: str, now: str,
    report: DoraReport | None = None, extra: Sequence[Insight] = (),
) -> list[Insight]:
    """Every insight the rules give (and ``extra`` ones, such as `ai_insight`'s), most severe first."""
    found = (
        anomaly_insights(labels, series, scope, now)
        + trend_insights(labels, series, scope, now)
        + correlation_insights(labels, series, scope, now)
        + (benchmark_insights(report, scope, now) if report is not None else [])
        + list(extra)
    )
    return sorted(found, key=lambda i: (_SEVERITY[i.severity], _TYPE[i.type], i.title))
