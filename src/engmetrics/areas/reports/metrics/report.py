"""Reports: computed facts → narrative from a template → Markdown, Slack mrkdwn, email-safe HTML or HTML.

The narrative is written from ``prompts/templates/report-<audience>.md`` (placeholders such as
``{headline}`` filled with sentences built here from the facts; every figure is written by
`engmetrics.areas.reports.metrics.numbers.fmt`). Each audience has its own emphasis:

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

import html
import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from pathlib import Path

from engmetrics.models import DoraReport, Incident
from engmetrics.periods import Window
from engmetrics.areas.reports.models import ChangelogEntry, Insight, Signal
from engmetrics.areas.reports.metrics.changelog import COUNT_NOUNS, grouped_text
from engmetrics.areas.reports.metrics.numbers import count, fmt, num, unsupported_numbers

_FIGURES = (
    ("deployment_frequency", "Deployment frequency"),
    ("lead_time", "Lead time for changes"),
    ("change_failure_rate", "Change failure rate"),
    ("mttr", "Failed deployment recovery time"),
)
_TITLES = {"team": "Engineering Update", "leaders": "Engineering Summary", "customers": "What's New"}
_DEFAULT_TEMPLATES = {
    "team": "# {title}\n\n{summary}\n\n## Headline numbers\n\n{headline}\n\n## What shipped\n\n{shipped}\n\n"
    "## Risks and incidents\n\n{risks}\n\n## Insights\n\n{insights}\n\n## What to watch\n\n{watch}\n",
    "leaders": "# {title}\n\n{summary}\n\n## Delivery outcomes\n\n{headline}\n\n## Delivered\n\n{shipped_summary}\n\n"
    "## Risks\n\n{risks_summary}\n\n## Trends\n\n{insights_top}\n\n## What to watch\n\n{watch}\n",
    "customers": "# {title}\n\n{customer_intro}\n\n## New\n\n{features}\n\n## Improved\n\n{improvements}\n\n"
    "## Fixed\n\n{fixes}\n",
}


@dataclass
class ReportFacts:
    """Everything a report may say, computed by the engine."""

    audience: str
    window: Window
    scope: str
    dora: DoraReport
    changes: ChangelogEntry
    incidents: list[Incident] = field(default_factory=list)
    incidents_total: int = 0
    signals: list[Signal] = field(default_factory=list)
    insights: list[Insight] = field(default_factory=list)
    now: datetime = field(default_factory=lambda: datetime.now(UTC))


# ---- templates ----------------------------------------------------------------------------------------


def prompts_dir() -> Path | None:
    """The prompts folder: ``engmetrics/_prompts`` in an installed package, else the checkout's ``prompts/``."""
    here = Path(__file__).resolve()
    for candidate in (here.parents[3] / "_prompts", here.parents[5] / "prompts"):
        if candidate.is_dir():
            return candidate
    return None


@lru_cache(maxsize=8)
def template(audience: str) -> str:
    """The report template for ``audience`` (prompts/templates/report-<audience>.md, else the built-in one)."""
    base = prompts_dir()
    if base is not None:
        path = base / "templates" / f"report-{audience}.md"
        if path.is_file():
            return path.read_text(encoding="utf-8")
    return _DEFAULT_TEMPLATES[audience]


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


def _figure_line(label: str, fig, year: int, with_rating: bool = True) -> str:  # type: ignore[no-untyped-def]
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
        more = entry.items_total - min(limit, len(entry.items))
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
    if facts.incidents_total > 5:
        lines.append(f"- …and {count(facts.incidents_total - 5, 'more incident')}")
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
            if c.features + c.improvements + c.fixes else f"A quiet stretch from {period_words(facts.window, facts.now)}: no user-facing changes."
        ),
        "features": _plain_list(facts.changes, "features", "Nothing new this time."),
        "improvements": _plain_list(facts.changes, "improvements", "No improvements to mention."),
        "fixes": _plain_list(facts.changes, "fixes", "No fixes to mention."),
    }


def compose(facts: ReportFacts) -> tuple[str, str]:
    """(title, Markdown) of the report for the facts' audience, from its template."""
    values = placeholders(facts)
    text = template(facts.audience).format_map(defaultdict(str, values))
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


def polish_request(audience: str, draft: str, facts: list[str]) -> str:
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


# ---- formats ----------------------------------------------------------------------------------------------

_BOLD = re.compile(r"\*\*(.+?)\*\*")
_LINK = re.compile(r"\[([^\]]+)\]\(([^)\s]+)\)")


def _blocks(markdown: str) -> list[tuple[str, list[str]]]:
    """The Markdown subset we write: ('h1'|'h2'|'h3'|'ul'|'p', lines)."""
    out: list[tuple[str, list[str]]] = []
    for raw in markdown.splitlines():
        line = raw.rstrip()
        if not line.strip():
            out.append(("blank", []))
            continue
        if m := re.match(r"^(#{1,3})\s+(.*)$", line):
            out.append((f"h{len(m.group(1))}", [m.group(2)]))
        elif m := re.match(r"^\s*[-*•]\s+(.*)$", line):
            if out and out[-1][0] == "ul":
                out[-1][1].append(m.group(1))
            else:
                out.append(("ul", [m.group(1)]))
        elif out and out[-1][0] == "p":
            out[-1][1].append(line.strip())
        else:
            out.append(("p", [line.strip()]))
    return [b for b in out if b[0] != "blank"]


def _inline_html(text: str) -> str:
    t = html.escape(text, quote=False)
    t = _BOLD.sub(r"<strong>\1</strong>", t)
    return _LINK.sub(lambda m: f'<a href="{html.escape(m.group(2))}">{m.group(1)}</a>', t)


def to_slack(markdown: str) -> str:
    """Slack mrkdwn: *bold* headings and emphasis, • bullets, <url|text> links, &<> escaped."""
    out = []
    for kind, lines in _blocks(markdown):
        esc = [line.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;") for line in lines]
        esc = [_LINK.sub(lambda m: f"<{m.group(2)}|{m.group(1)}>", _BOLD.sub(r"*\1*", line)) for line in esc]
        if kind.startswith("h"):
            out.append(f"*{esc[0].replace('*', '')}*")
        elif kind == "ul":
            out.append("\n".join(f"• {line}" for line in esc))
        else:
            out.append(" ".join(esc))
    return "\n\n".join(out) + "\n"


def to_html(markdown: str, title: str) -> str:
    """A standalone HTML document."""
    body = []
    for kind, lines in _blocks(markdown):
        if kind.startswith("h"):
            body.append(f"<{kind}>{_inline_html(lines[0])}</{kind}>")
        elif kind == "ul":
            body.append("<ul>\n" + "\n".join(f"  <li>{_inline_html(x)}</li>" for x in lines) + "\n</ul>")
        else:
            body.append(f"<p>{_inline_html(' '.join(lines))}</p>")
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{html.escape(title)}</title>\n</head>\n<body>\n" + "\n".join(body) + "\n</body>\n</html>\n"
    )


def to_email(markdown: str, title: str) -> str:
    """Email-safe HTML: one presentation table, inline styles only, no <style>, <script> or external assets."""
    font = "font-family:Arial,Helvetica,sans-serif;color:#1f2328;"
    styles = {"h1": "font-size:22px;margin:0 0 12px;", "h2": "font-size:17px;margin:20px 0 8px;",
              "h3": "font-size:15px;margin:16px 0 6px;"}
    rows = []
    for kind, lines in _blocks(markdown):
        if kind.startswith("h"):
            rows.append(f'<{kind} style="{font}{styles[kind]}">{_inline_html(lines[0])}</{kind}>')
        elif kind == "ul":
            items = "".join(f'<li style="margin:0 0 4px;">{_inline_html(x)}</li>' for x in lines)
            rows.append(f'<ul style="{font}font-size:14px;line-height:20px;margin:0 0 12px;padding-left:20px;">{items}</ul>')
        else:
            rows.append(f'<p style="{font}font-size:14px;line-height:20px;margin:0 0 12px;">{_inline_html(" ".join(lines))}</p>')
    return (
        f"<!DOCTYPE html>\n<html>\n<head>\n<meta charset=\"utf-8\">\n<title>{html.escape(title)}</title>\n</head>\n"
        '<body style="margin:0;padding:0;background:#ffffff;">\n'
        '<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0">\n<tr>\n'
        '<td style="padding:24px;max-width:640px;">\n' + "\n".join(rows) + "\n</td>\n</tr>\n</table>\n</body>\n</html>\n"
    )


def render(markdown: str, fmt_name: str, title: str) -> str:
    """The report in ``fmt_name``: markdown (as is), slack, email or html."""
    if fmt_name == "slack":
        return to_slack(markdown)
    if fmt_name == "html":
        return to_html(markdown, title)
    if fmt_name == "email":
        return to_email(markdown, title)
    return markdown


def word_count(markdown: str) -> int:
    """Words in the Markdown text, markup excluded."""
    plain = _LINK.sub(r"\1", markdown).replace("**", "")
    return len(re.findall(r"[A-Za-z0-9][\w'’.%/+-]*", plain))


__all__ = ["ReportFacts", "compose", "render", "word_count", "check_polish", "polish_request", "fact_lines", "num"]
