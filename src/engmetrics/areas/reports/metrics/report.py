"""Reports: computed facts → the narrative in Markdown, from a template (`formats` turns it into Slack mrkdwn,
email-safe HTML or HTML).

The narrative is written from the audience's template (``prompts/templates/report-<audience>.md``, read by
`engmetrics.areas.reports.templates`; placeholders such as ``{headline}`` filled with sentences built here
from the facts; every figure is written by `numbers.fmt`). Each audience has its own emphasis:

- **team**: headline DORA numbers with ratings and trends, what shipped (category counts and the listed
  changes), risks (incidents and failed deployments), insights, and what to watch (amber/red signals).
- **leaders**: outcomes and trends only — headline numbers, what shipped as counts (no commit lists), risk
  counts, the top insights, what to watch.
- **customers**: new features, improvements and fixes in plain words; nothing internal (no metrics,
  incidents, authors or shas).

Polishing: a client's model may rewrite the Markdown from the same facts; `check_polish` accepts the
rewrite only when every number in it appears in the facts (`numbers.unsupported_numbers`), otherwise
the template text stands.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from engmetrics.areas.reports.metrics.changelog import COUNT_NOUNS, grouped_text
from engmetrics.areas.reports.metrics.numbers import count, fmt, unsupported_numbers
from engmetrics.areas.reports.models import Audience, ChangelogEntry, Insight, Signal
from engmetrics.areas.dora.models import DoraReport, Incident, MetricFigure
from engmetrics.periods import Window

_FIGURES = (
    ("deployment_frequency", "Deployment frequency"),
    ("lead_time", "Lead time for changes"),
    ("change_failure_rate", "Change failure rate"),
    ("mttr", "Failed deployment recovery time"),
)
_TITLES = {"team": "Engineering Update", "leaders": "Engineering Summary", "customers": "What's New"}


@dataclass
class ReportFacts:
    """Everything a report may say, computed by the reports service."""

    audience: Audience
    window: Window
    scope: str
    dora: DoraReport
    changes: ChangelogEntry
    incidents: list[Incident] = field(default_factory=list)
    incidents_total: int | None = 0
    signals: list[Signal] = field(default_factory=list)
    insights: list[Insight] = field(default_factory=list)
    now: datetime = field(default_factory=lambda: datetime.now(UTC))


# ---- sentences from facts --------------------------------------------------------------------------


def period_words(window: Window, now: datetime | None = None) -> str:
    """'Feb 1–15', 'Jan 28 – Feb 10' (', 2024' when not the current year); the end is inclusive."""
    now = now or datetime.now(UTC)
    a = window.start.date()
    b = (window.end - timedelta(seconds=1)).date()
    if a == b:
        text = f"{a.strftime('%b')} {a.day}"
    elif (a.year, a.month) == (b.year, b.month):
        text = f"{a.strftime('%b')} {a.day}–{b.day}"
    else:
        text = f"{a.strftime('%b')} {a.day} – {b.strftime('%b')} {b.day}"
    return text if b.year == now.year else f"{text}, {b.year}"


def _figure_line(label: str, fig: MetricFigure, year: int, with_rating: bool = True) -> str:
    if fig.value is None:
        return f"- **{label}**: no data in this period"
    parts = [fmt(fig.value, fig.unit)]
    extra = []
    if with_rating and fig.rating:
        extra.append(f"{fig.rating} for DORA {year}")
    if fig.trend_direction == "stable":
        extra.append("stable vs the previous period")
    elif fig.trend and fig.trend_direction:
        extra.append(f"{fig.trend} vs the previous period, {fig.trend_direction}")
    return f"- **{label}**: {parts[0]}" + (f" ({'; '.join(extra)})" if extra else "")


def headline(facts: ReportFacts) -> str:
    """Bullets of the four DORA figures (value, rating, trend) and the deployment count."""
    d = facts.dora
    lines = [_figure_line(label, getattr(d, key), d.benchmark_year) for key, label in _FIGURES]
    lines.append(
        f"- **Deployments**: {d.deployment_frequency.deployments} to production, "
        f"{d.change_failure_rate.failed_deployments} marked failed"
    )
    return "\n".join(lines)


def _counts_sentence(entry: ChangelogEntry) -> str:
    c = entry.categories
    parts = [count(getattr(c, key), noun) for key, noun in COUNT_NOUNS.items() if key != "breaking" and getattr(c, key)]
    if not parts:
        return "No changes were listed in this period."
    text = ", ".join(parts[:-1]) + (" and " if len(parts) > 1 else "") + parts[-1]
    if c.breaking:
        text += f", including {count(c.breaking, 'breaking change')}"
    return text[:1].upper() + text[1:] + "."


#: The label of a listed change in the team report: "- Fix: …", "- Docs: …", "- Tests: …".
_ITEM_LABELS = {"features": "Feature", "improvements": "Improvement", "fixes": "Fix", "security": "Security",
                "docs": "Docs", "tests": "Tests", "other": "Other"}


def shipped(facts: ReportFacts, limit: int = 10) -> str:
    """Category counts, then up to ``limit`` listed changes (team audience)."""
    entry = facts.changes
    lines = [_counts_sentence(entry)]
    if entry.items:
        lines.append("")
        for item in entry.items[:limit]:
            mark = " (breaking)" if item.breaking else ""
            pr = f" (#{item.pr_number})" if item.pr_number else ""
            lines.append(f"- {_ITEM_LABELS[item.category]}: {item.title}{pr}{mark}")
        more = (entry.items_total if entry.items_total is not None else len(entry.items)) - min(limit, len(entry.items))
        if more > 0:
            lines.append(f"- …and {more} more")
    if entry.grouped:
        lines.append("")
        lines.append(f"Not listed: {grouped_text(entry.grouped)}.")
    return "\n".join(lines)


def risks(facts: ReportFacts) -> str:
    """Incidents open during the period and failed deployments, with their signals."""
    lines = []
    for inc in facts.incidents[:5]:
        sev = f" ({inc.severity})" if inc.severity else ""
        state = "still open" if inc.status == "open" else f"resolved in {fmt(inc.duration_hours, 'hours')}"
        lines.append(f"- Incident {inc.id}{sev}: {inc.title} — {state}")
    total = facts.incidents_total
    if total is not None and total > 5:
        lines.append(f"- …and {count(total - 5, 'more incident')}")
    for f in facts.dora.change_failure_rate.failures[:5]:
        rec = "not yet recovered" if f.recovery_hours is None else f"recovered in {fmt(f.recovery_hours, 'hours')}"
        lines.append(f"- Failed deployment {f.deployment_id} ({f.signal}: {f.evidence}), {rec}")
    return "\n".join(lines) if lines else "No incidents and no failed deployments in this period."


def risks_summary(facts: ReportFacts) -> str:
    """Counts of incidents (open ones) and failed deployments, no detail (leaders)."""
    open_ = sum(1 for i in facts.incidents if i.status == "open")
    failed = facts.dora.change_failure_rate.failed_deployments
    if not facts.incidents_total and not failed:
        return "No incidents and no failed deployments in this period."
    return (
        f"{count(facts.incidents_total, 'incident')} ({open_} still open) and {count(failed, 'failed deployment')} "
        "in this period."
    )


def insights_text(facts: ReportFacts, limit: int = 3) -> str:
    """The top insights as bullets (title: body)."""
    if not facts.insights:
        return "Nothing unusual in the weekly series."
    return "\n".join(f"- **{i.title}**: {i.body}" for i in facts.insights[:limit])


def watch(facts: ReportFacts) -> str:
    """Amber and red scorecard signals, with why."""
    flagged = [s for s in facts.signals if s.status in ("amber", "red")]
    if not flagged:
        return "Every signal is green."
    names = {"deployment_frequency": "Deployment frequency", "lead_time": "Lead time", "change_failure_rate":
             "Change failure rate", "mttr": "Recovery time", "pr_review_time": "PR review time",
             "test_touch_ratio": "Test-touch ratio"}
    return "\n".join(f"- **{names.get(s.metric, s.metric)}** ({s.status}): {s.reason}" for s in flagged)


def summary(facts: ReportFacts) -> str:
    """One sentence with deployments, shipped features/fixes and incidents."""
    d = facts.dora
    c = facts.changes.categories
    deploys = d.deployment_frequency.deployments
    freq = fmt(d.deployment_frequency.value, "deploys_per_week") if d.deployment_frequency.value is not None else None
    text = f"Over {period_words(facts.window, facts.now)}, {facts.scope} made {count(deploys, 'production deployment')}"
    text += f" ({freq})" if freq else ""
    text += f", shipped {count(c.features, 'feature')} and {count(c.fixes, 'fix')}"
    text += f", and had {count(facts.incidents_total, 'incident')}."
    return text


def _plain_list(entry: ChangelogEntry, category: str, empty: str) -> str:
    items = [i for i in entry.items if i.category == category]
    return "\n".join(f"- {i.title}" for i in items[:12]) if items else empty


def placeholders(facts: ReportFacts) -> dict[str, str]:
    """Every placeholder a template may use, filled from the facts."""
    title = f"{_TITLES[facts.audience]} — {period_words(facts.window, facts.now)}"
    c = facts.changes.categories
    return {
        "title": title,
        "period": period_words(facts.window, facts.now),
        "scope": facts.scope,
        "summary": summary(facts),
        "headline": headline(facts),
        "shipped": shipped(facts),
        "shipped_summary": _counts_sentence(facts.changes),
        "risks": risks(facts),
        "risks_summary": risks_summary(facts),
        "insights": insights_text(facts, 3),
        "insights_top": insights_text(facts, 2),
        "watch": watch(facts),
        "customer_intro": (
            f"Here is what changed from {period_words(facts.window, facts.now)}."
            if (c.features or 0) + (c.improvements or 0) + (c.fixes or 0) else f"A quiet stretch from {period_words(facts.window, facts.now)}: no user-facing changes."
        ),
        "features": _plain_list(facts.changes, "features", "Nothing new this time."),
        "improvements": _plain_list(facts.changes, "improvements", "No improvements to mention."),
        "fixes": _plain_list(facts.changes, "fixes", "No fixes to mention."),
    }


def compose(facts: ReportFacts, template: str) -> tuple[str, str]:
    """(title, Markdown) of the report for the facts' audience, from its ``template`` (Markdown with
    ``{placeholder}`` fields, see `placeholders`; an unknown field is left empty)."""
    values = placeholders(facts)
    text = template.format_map(defaultdict(str, values))
    text = re.sub(r"\n{3,}", "\n\n", text).strip() + "\n"
    return values["title"], text


def fact_lines(facts: ReportFacts) -> list[str]:
    """The facts as short lines: what a polished text may cite (and what the model is given)."""
    d = facts.dora
    lines = [f"Period: {period_words(facts.window, facts.now)} ({facts.window.start.date()} to {(facts.window.end - timedelta(seconds=1)).date()})",
             f"Scope: {facts.scope}", f"DORA benchmark year: {d.benchmark_year}"]
    for key, label in _FIGURES:
        fig = getattr(d, key)
        lines.append(f"{label}: {fmt(fig.value, fig.unit)}; rating {fig.rating}; previous {fmt(fig.previous_value, fig.unit)}; trend {fig.trend}")
    lines.append(f"Deployments: {d.deployment_frequency.deployments}; failed: {d.change_failure_rate.failed_deployments}")
    c = facts.changes.categories
    lines.append("Changes: " + ", ".join(count(getattr(c, key), noun) for key, noun in COUNT_NOUNS.items()))
    lines.append(f"Incidents: {facts.incidents_total}")
    return lines


# ---- polishing -------------------------------------------------------------------------------------


POLISH_SYSTEM = (
    "You edit engineering reports. Rewrite the draft so it reads like a thoughtful engineering lead wrote it: "
    "clear, direct, no hype. Keep the Markdown structure (headings, bullets). Use ONLY numbers that appear in the "
    "facts or the draft, written exactly as there; add no new figures, dates or percentages. Answer with the "
    "report in Markdown only."
)


def polish_request(audience: Audience, draft: str, facts: list[str]) -> str:
    """The user message asking a model to polish ``draft`` for ``audience`` from ``facts``."""
    focus = {
        "team": "the engineering team: be specific about what shipped and what needs attention",
        "leaders": "engineering leadership: outcomes and trends, short, no commit lists",
        "customers": "customers: plain words about features and fixes, nothing internal",
    }[audience]
    return "Audience: " + focus + "\n\nFacts:\n" + "\n".join(f"- {f}" for f in facts) + "\n\nDraft:\n\n" + draft


def check_polish(text: str, draft: str, facts: list[str]) -> list[str]:
    """Numbers in a polished ``text`` that are in neither the draft nor the facts (empty: accept it)."""
    return unsupported_numbers(text, [draft, *facts])
