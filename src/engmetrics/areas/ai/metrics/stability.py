"""Stability by AI share: the window's changes grouped by how much of them AI wrote, each group's outcomes, and the
difference to changes without AI, with 95% intervals. Pure; rates in percent (2 decimals), times in hours.

Groups (`CommitFacts.group`): ``none`` (no AI line, no AI trailer), ``some`` (AI share under 50 %), ``mostly`` (50 %
or more, or an AI trailer). Per group:

- **bug-inducing rate**: changes a later fix was traced to by SZZ (change risk's labels) ÷ product changes (only
  those can be traced to: documentation-, test-, CI- or metadata-only changes are left out) whose repository has
  labels;
- **reverted rate**: changes a later commit reverted ("This reverts commit …") ÷ changes;
- **failed-deployment share**: changes shipped by a failed deployment ÷ changes shipped by any deployment;
- **review time**: median hours from a pull request's opening (or ready for review) to its merge, over the changes
  that came through one.

Intervals: Wilson score for a rate; Newcombe's hybrid score (method 10) for a difference of rates (group − none, in
percentage points); for review time, the distribution-free interval of the median (binomial order statistics) and,
for the difference, the Hodges–Lehmann shift (median of pairwise differences) with its Mann–Whitney interval. A
difference is significant when its interval excludes 0; a comparison needs at least `MIN_CHANGES` changes in both
groups (`MIN_REVIEWS` for review time), else the summary says the groups are too small. Whatever the numbers, they
are associations in this history, never causes.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from engmetrics.areas.ai.metrics.shares import GROUPS, CommitFacts, Group
from engmetrics.areas.ai.models import (
    Difference,
    Rate,
    Review,
    ReviewDifference,
    Stability,
    StabilityGroup,
    VersusNone,
)
from engmetrics.trends import r2

Z95 = 1.959963984540054
MIN_CHANGES = 10
MIN_REVIEWS = 5
WORDS: dict[Group, str] = {
    "none": "changes without AI",
    "some": "changes partly written with AI (under half their lines)",
    "mostly": "changes mostly written with AI (half their lines or more, or an AI trailer)",
}


@dataclass(frozen=True, slots=True)
class Outcome:
    """What became of one change."""

    inducing: bool | None  # a later fix was traced to it (SZZ); None: not a product change, or no labels
    reverted: bool
    shipped: bool  # shipped by a deployment
    failed_deployment: bool  # shipped by a failed deployment
    review_hours: float | None  # its pull request's opened (or ready) → merge, hours; None without one


# ---- intervals -----------------------------------------------------------------------------------------------


def wilson(k: int, n: int, z: float = Z95) -> tuple[float, float] | None:
    """Wilson score interval of the proportion k/n (0–1), or None when n is 0."""
    if n <= 0:
        return None
    p = k / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return max(0.0, centre - half), min(1.0, centre + half)


def newcombe(k1: int, n1: int, k2: int, n2: int, z: float = Z95) -> tuple[float, float, float] | None:
    """(p1 − p2, low, high): Newcombe's hybrid score interval of a difference of proportions (0–1 scale)."""
    a, b = wilson(k1, n1, z), wilson(k2, n2, z)
    if a is None or b is None:
        return None
    p1, p2 = k1 / n1, k2 / n2
    d = p1 - p2
    low = d - math.sqrt((p1 - a[0]) ** 2 + (b[1] - p2) ** 2)
    high = d + math.sqrt((a[1] - p1) ** 2 + (p2 - b[0]) ** 2)
    return d, low, high


def _binom_cdf_half(n: int, k: int) -> float:
    """P(X ≤ k) for X ~ Binomial(n, 1/2)."""
    return sum(math.comb(n, i) for i in range(0, k + 1)) / 2.0 ** n


def median_interval(values: Sequence[float]) -> tuple[float, float] | None:
    """Distribution-free 95% interval of the median: order statistics x(l) and x(n−l+1) (1-based) with l the largest
    rank such that P(Binomial(n, ½) ≤ l − 1) ≤ 2.5 %; None when n is too small (under 6)."""
    xs = sorted(values)
    n = len(xs)
    lo_rank = 0
    for rank in range(1, n + 1):
        if _binom_cdf_half(n, rank - 1) <= 0.025:
            lo_rank = rank
        else:
            break
    if lo_rank < 1:
        return None
    return xs[lo_rank - 1], xs[n - lo_rank]


def hl_shift(a: Sequence[float], b: Sequence[float]) -> float | None:
    """The Hodges–Lehmann shift of a − b: the median of all pairwise differences a_i − b_j (None when one is empty)."""
    return _median([x - y for x in a for y in b]) if a and b else None


def hodges_lehmann(a: Sequence[float], b: Sequence[float], z: float = Z95) -> tuple[float, float, float] | None:
    """(shift, low, high) of a − b: `hl_shift` and the interval between the C-th smallest and C-th largest pairwise
    difference, C = ⌊n·m/2 − z·√(n·m·(n+m+1)/12)⌋ (Mann–Whitney); None when a or b is empty or C would be under 1."""
    n, m = len(a), len(b)
    shift = hl_shift(a, b)
    if shift is None:
        return None
    diffs = sorted(x - y for x in a for y in b)
    nm = n * m
    c = math.floor(nm / 2 - z * math.sqrt(nm * (n + m + 1) / 12))
    if c < 1:
        return None
    return shift, diffs[c - 1], diffs[nm - c]


def _median(values: Sequence[float]) -> float | None:
    xs = sorted(values)
    if not xs:
        return None
    mid = len(xs) // 2
    return xs[mid] if len(xs) % 2 else (xs[mid - 1] + xs[mid]) / 2


# ---- groups ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Counts:
    changes: int
    labelled: int
    inducing: int
    reverted: int
    shipped: int
    failed: int
    reviews: list[float]


def _counts(outcomes: Sequence[Outcome]) -> _Counts:
    labelled = [o for o in outcomes if o.inducing is not None]
    shipped = [o for o in outcomes if o.shipped]
    return _Counts(
        changes=len(outcomes), labelled=len(labelled), inducing=sum(1 for o in labelled if o.inducing),
        reverted=sum(1 for o in outcomes if o.reverted), shipped=len(shipped),
        failed=sum(1 for o in shipped if o.failed_deployment),
        reviews=[o.review_hours for o in outcomes if o.review_hours is not None],
    )


def _pct(x: float) -> float:
    return r2(x * 100.0) or 0.0


def rate(k: int, n: int) -> Rate:
    """A `Rate` of k out of n with its Wilson interval."""
    ci = wilson(k, n)
    return Rate(count=k, of=n, percent=_pct(k / n) if n else None,
                ci_percent=None if ci is None else [_pct(ci[0]), _pct(ci[1])])


def difference(k1: int, n1: int, k2: int, n2: int) -> Difference:
    """Group (k1/n1) − none (k2/n2) in percentage points, with Newcombe's interval; not compared (null
    significance, no interval) when either group has fewer than `MIN_CHANGES`."""
    if not n1 or not n2:
        return Difference(points=None)
    points = _pct(k1 / n1 - k2 / n2)
    if n1 < MIN_CHANGES or n2 < MIN_CHANGES:
        return Difference(points=points)
    got = newcombe(k1, n1, k2, n2)
    assert got is not None
    _, low, high = got
    return Difference(points=points, ci_points=[_pct(low), _pct(high)], significant=low > 0 or high < 0)


def _review(values: Sequence[float]) -> Review:
    median = _median(values)
    ci = median_interval(values) if values else None
    return Review(changes=len(values), median_hours=r2(median),
                  ci_hours=None if ci is None else [r2(ci[0]) or 0.0, r2(ci[1]) or 0.0])


def _review_difference(group: Sequence[float], none: Sequence[float]) -> ReviewDifference:
    shift = hl_shift(group, none)
    got = hodges_lehmann(group, none)
    if shift is None or got is None or len(group) < MIN_REVIEWS or len(none) < MIN_REVIEWS:
        return ReviewDifference(shift_hours=r2(shift))
    _, low, high = got
    return ReviewDifference(shift_hours=r2(shift), ci_hours=[r2(low) or 0.0, r2(high) or 0.0],
                            significant=low > 0 or high < 0)


def stability(changes: Sequence[tuple[CommitFacts, Outcome]]) -> Stability:
    """The stability groups of ``changes`` (each commit with what became of it) and the summary sentences."""
    by_group: dict[Group, list[Outcome]] = {g: [] for g in GROUPS}
    for facts, outcome in changes:
        by_group[facts.group].append(outcome)
    counts = {g: _counts(v) for g, v in by_group.items()}
    none = counts["none"]
    groups = []
    for g in GROUPS:
        c = counts[g]
        vs = None
        if g != "none":
            vs = VersusNone(
                bug_inducing=difference(c.inducing, c.labelled, none.inducing, none.labelled),
                reverted=difference(c.reverted, c.changes, none.reverted, none.changes),
                failed_deployment=difference(c.failed, c.shipped, none.failed, none.shipped),
                review=_review_difference(c.reviews, none.reviews),
            )
        groups.append(StabilityGroup(
            group=g, changes=c.changes, bug_inducing=rate(c.inducing, c.labelled), reverted=rate(c.reverted, c.changes),
            failed_deployment=rate(c.failed, c.shipped), review=_review(c.reviews), vs_none=vs,
        ))
    return Stability(groups=groups, summary=summarise(groups, any_labels=any(c.labelled for c in counts.values())))


# ---- in words ----------------------------------------------------------------------------------------------------


def _fmt(v: float | None, signed: bool = False) -> str:
    if v is None:
        return "?"
    text = f"{v:+.1f}" if signed else f"{v:.1f}"
    return text.replace("-", "−")


def _compare(label: str, mine: Rate, theirs: Rate, diff: Difference, what: str) -> str:
    if diff.significant is None:
        return (f"Too few changes to compare how often {label} were {what}: {mine.of} against {theirs.of} without AI "
                f"(each group needs at least {MIN_CHANGES}).")
    ci = diff.ci_points or [0.0, 0.0]
    verdict = ("a significant difference" if diff.significant else
               "not a significant difference (the interval includes zero)")
    return (f"{label[0].upper()}{label[1:]} were {what} in {_fmt(mine.percent)}% of cases ({mine.count} of {mine.of}) "
            f"against {_fmt(theirs.percent)}% ({theirs.count} of {theirs.of}) without AI: {_fmt(diff.points, True)} "
            f"points (95% interval {_fmt(ci[0], True)} to {_fmt(ci[1], True)}), {verdict}.")


def summarise(groups: Sequence[StabilityGroup], *, any_labels: bool) -> list[str]:
    """Plain sentences for the comparisons of ``groups`` (none, some, mostly): each group's bug-inducing rate against
    changes without AI, its reverted and failed-deployment rates when they differ significantly, and the caveat that
    this is an association."""
    by = {g.group: g for g in groups}
    none = by["none"]
    ai = [by["some"], by["mostly"]]
    if not any(g.changes for g in ai):
        return ["No AI-assisted change in this window (no tracking data with AI lines, no AI trailer): nothing to "
                "compare."]
    if not none.changes:
        return ["Every change in this window is AI-assisted: there are no changes without AI to compare with."]
    out: list[str] = []
    if not any_labels:
        out.append("Bug-inducing rates need change risk's SZZ labels, which these repositories do not have yet "
                   "(`engmetrics sync` computes them).")
    for g in ai:
        if not g.changes or g.vs_none is None:
            continue
        label = WORDS[g.group]
        if any_labels:
            out.append(_compare(label, g.bug_inducing, none.bug_inducing, g.vs_none.bug_inducing,
                                "bug-inducing (a later fix was traced to them)"))
        for mine, theirs, diff, what in ((g.reverted, none.reverted, g.vs_none.reverted, "reverted"),
                                         (g.failed_deployment, none.failed_deployment, g.vs_none.failed_deployment,
                                          "shipped in a failed deployment")):
            if diff.significant:
                out.append(_compare(label, mine, theirs, diff, what))
        rd = g.vs_none.review
        if rd.significant:
            longer = "longer" if (rd.shift_hours or 0) > 0 else "shorter"
            ci = rd.ci_hours or [0.0, 0.0]
            out.append(f"Reviews of {label} took {longer}: a shift of {_fmt(rd.shift_hours, True)} h (95% interval "
                       f"{_fmt(ci[0], True)} to {_fmt(ci[1], True)} h) against changes without AI.")
    out.append("These are associations in this history, not causes: AI-assisted changes may differ in size, area, "
               "author or age (recent changes have had less time to be fixed or reverted).")
    return out
