"""Risk signals as pure computations over figures of the period and of the previous period of equal length.

- **cfr_rising_with_frequency**: change failure rate up more than 5% (relative; or from 0 to above 0) while
  deployment frequency is also up more than 5%. high when the rate is ≥ 15%, else medium.
- **review_time_growing**: median PR review time (opened → merged) up ≥ 25% and at least 4 h. high at ≥ 100% up.
- **prs_stuck**: open PRs waiting ≥ 72 h (list_stuck_pull_requests). high at ≥ 5, medium at ≥ 2, else low.
- **batch_size_growing**: median change size (lines per non-merge commit) up ≥ 25% and at least 50 lines.
  high at ≥ 100% up.
- **knowledge_concentration**: over the last 90 days, in a part of the code (a source file's directory, its
  first two levels, e.g. ``src/payments``) changed by at least 10 commits, one person made ≥ 80% of them.
  high at ≥ 95%. At most the 5 largest such parts.
- **coverage_falling**: test coverage down ≥ 2 percentage points. high at ≥ 5 points.
- **ai_share_rising_stability_falling**: the share of AI-assisted commits (the AI area's ``ai_assisted_commits``,
  percent of non-merge commits) up ≥ 5 percentage points while the change failure rate rises (any increase).
  high when the rate is ≥ 15%, else medium. An association, not a cause.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from engmetrics.areas.health.models import RiskSignal
from engmetrics.filekinds import is_source
from engmetrics.trends import r2

KNOWLEDGE_MIN_COMMITS = 10
KNOWLEDGE_SHARE = 0.8
KNOWLEDGE_HIGH_SHARE = 0.95
KNOWLEDGE_DAYS = 90
STUCK_HOURS = 72.0


def change_pct(now: float | None, before: float | None) -> float | None:
    """Relative change in percent (2 decimals); None when either is missing or ``before`` is 0."""
    if now is None or before is None or before == 0:
        return None
    return r2((now - before) / abs(before) * 100.0)


def _fmt(v: float | None, unit: str) -> str:
    return "n/a" if v is None else f"{v:g}{unit}"


def cfr_with_frequency(cfr: float | None, cfr_before: float | None, freq: float | None,
                       freq_before: float | None) -> RiskSignal | None:
    """Change failure rate (percent) rising while deployment frequency (per week) rises."""
    if cfr is None or cfr_before is None or freq is None or freq_before is None:
        return None
    cfr_up = (cfr > 0 and cfr_before == 0) or ((change_pct(cfr, cfr_before) or 0) > 5)
    freq_up = (change_pct(freq, freq_before) or 0) > 5
    if not (cfr_up and freq_up):
        return None
    return RiskSignal(
        id="cfr_rising_with_frequency", type="cfr_rising_with_frequency", severity="high" if cfr >= 15 else "medium",
        title="Change failure rate rising while deployment pace rises",
        evidence=[f"Change failure rate {_fmt(cfr_before, '%')} → {_fmt(cfr, '%')}.",
                  f"Deployment frequency {_fmt(freq_before, '/week')} → {_fmt(freq, '/week')} "
                  f"({change_pct(freq, freq_before):+g}%)."],
        recommended_action="Check whether the release pace has outrun review and tests: look at the failed "
                           "deployments (get_dora), add checks where they failed, and keep batches small.",
        metrics_referenced=["change_failure_rate", "deployment_frequency"],
    )


def growing(kind: str, metric: str, now: float | None, before: float | None, floor: float, unit: str,
            title: str, action: str) -> RiskSignal | None:
    """A figure up ≥ 25% (and at least ``floor``): review time or batch size growing."""
    pct = change_pct(now, before)
    if pct is None or now is None or pct < 25 or now < floor:
        return None
    return RiskSignal(
        id=kind, type=kind, severity="high" if pct >= 100 else "medium", title=title,
        evidence=[f"Median {metric.replace('_', ' ')} {_fmt(before, unit)} → {_fmt(now, unit)} ({pct:+g}%)."],
        recommended_action=action, metrics_referenced=[metric],
    )


def stuck(prs: Sequence[tuple[str, int, str, float]]) -> RiskSignal | None:
    """Open PRs waiting ≥ 72 h: each (repository, number, reason, hours waiting), longest first."""
    if not prs:
        return None
    n = len(prs)
    lines = [f"{r}#{num}: {reason.replace('_', ' ')} for {hours:g} h." for r, num, reason, hours in prs[:3]]
    return RiskSignal(
        id="prs_stuck", type="prs_stuck", severity="high" if n >= 5 else "medium" if n >= 2 else "low",
        title=f"{n} pull request{'s' if n != 1 else ''} stuck for {STUCK_HOURS:g} h or more",
        evidence=[f"{n} open PRs have waited at least {STUCK_HOURS:g} h.", *lines],
        recommended_action="Assign reviewers to the oldest PRs, or close the ones no longer needed "
                           "(list_stuck_pull_requests shows why each waits).",
        metrics_referenced=["pr_review_time"],
    )


def coverage_falling(now: float | None, before: float | None) -> RiskSignal | None:
    """Test coverage (percent) down ≥ 2 points."""
    if now is None or before is None or before - now < 2:
        return None
    drop = r2(before - now) or 0.0
    return RiskSignal(
        id="coverage_falling", type="coverage_falling", severity="high" if drop >= 5 else "medium",
        title="Test coverage falling", evidence=[f"Line coverage {before:g}% → {now:g}% ({-drop:g} points)."],
        recommended_action="Ask for tests with the changes that lowered coverage; make coverage of changed lines "
                           "a review check.", metrics_referenced=["test_coverage"],
    )


@dataclass(frozen=True)
class Touch:
    """One commit's change to one file: repository, commit, author (person), path."""

    repo: str
    sha: str
    author: str
    path: str


def code_area(path: str) -> str:
    """The part of the code a path belongs to: its directory's first two levels ('src/payments'), '.' at the top."""
    parts = path.split("/")[:-1]
    return "/".join(parts[:2]) if parts else "."


def knowledge_concentration(touches: Iterable[Touch], limit: int = 5) -> list[RiskSignal]:
    """Parts of the code (source files only) changed by ≥ 10 commits where one person made ≥ 80% of them."""
    commits: dict[tuple[str, str], dict[str, str]] = {}
    for t in touches:
        if is_source(t.path):
            commits.setdefault((t.repo, code_area(t.path)), {})[t.sha] = t.author
    found = []
    for (repo, area), by_sha in commits.items():
        if len(by_sha) < KNOWLEDGE_MIN_COMMITS:
            continue
        (who, count), = Counter(by_sha.values()).most_common(1)
        share = count / len(by_sha)
        if share >= KNOWLEDGE_SHARE:
            found.append((len(by_sha), repo, area, who, count, share))
    found.sort(key=lambda f: (-f[0], f[1], f[2]))
    return [
        RiskSignal(
            id=f"knowledge_concentration:{repo}:{area}", type="knowledge_concentration",
            severity="high" if share >= KNOWLEDGE_HIGH_SHARE else "medium",
            title=f"One person made most changes to {repo}:{area}",
            evidence=[f"{who} made {count} of the {total} commits ({round(100 * share)}%) that changed {area} in "
                      f"{repo} in the last {KNOWLEDGE_DAYS} days."],
            recommended_action=f"Spread knowledge of {area}: pair on its next changes, have someone else review "
                               "them, and write down how it works.",
            metrics_referenced=["knowledge_concentration"],
        )
        for total, repo, area, who, count, share in found[:limit]
    ]


def ai_stability_risk(ai_share: float | None, ai_share_before: float | None, cfr: float | None,
                      cfr_before: float | None) -> RiskSignal | None:
    """AI-assisted commits' share (percent of commits, the AI area's ``ai_assisted_commits``) up ≥ 5 points while
    the change failure rate (percent) rises; high when the rate is 15% or more. An association, not a cause."""
    if ai_share is None or ai_share_before is None or cfr is None or cfr_before is None:
        return None
    if ai_share - ai_share_before < 5 or cfr <= cfr_before:
        return None
    return RiskSignal(
        id="ai_share_rising_stability_falling", type="ai_share_rising_stability_falling",
        severity="high" if cfr >= 15 else "medium", title="AI share rising while stability falls",
        evidence=[f"AI-assisted commits {_fmt(ai_share_before, '%')} → {_fmt(ai_share, '%')} of commits.",
                  f"Change failure rate {_fmt(cfr_before, '%')} → {_fmt(cfr, '%')} (an association, not a cause)."],
        recommended_action="Compare AI-assisted changes with the others (get_ai_impact's stability by AI share) and "
                           "review how they are checked before they ship.",
        metrics_referenced=["ai_assisted_commits", "change_failure_rate"],
    )


SEVERITY_ORDER = {"high": 0, "medium": 1, "low": 2}
