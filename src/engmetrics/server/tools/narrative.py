"""Narrative tools: get_changelog, get_scorecard, get_metric_series, get_insights, get_benchmarks,
generate_report (with optional polishing by the client's model, number-checked) and get_report."""

import logging
from typing import Annotated, Any, Literal

from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.server.mcpserver.resolve import Resolve, Sample
from mcp_types import CreateMessageResult, SamplingMessage, TextContent, ToolAnnotations
from pydantic import Field

from engmetrics.errors import EngmetricsError
from engmetrics.queries import validate
from engmetrics.reports.models import (
    SERIES_METRICS,
    BenchmarkQuery,
    BenchmarkReport,
    Changelog,
    ChangelogQuery,
    InsightList,
    InsightsQuery,
    MetricSeries,
    MetricSeriesQuery,
    Report,
    ReportId,
    ReportRequest,
    ReportStatus,
    Scorecard,
    ScorecardQuery,
)
from engmetrics.reports.report import POLISH_SYSTEM, polish_request
from engmetrics.server.errors import user_errors
from engmetrics.server.params import (
    CursorArg,
    FromArg,
    LimitArg,
    PeriodArg,
    RepoArg,
    TeamArg,
    ToArg,
    accepts_from,
)
from engmetrics.server.runtime import Runtime

log = logging.getLogger("engmetrics.server")

READ_ONLY = ToolAnnotations(read_only_hint=True, idempotent_hint=True, open_world_hint=False)
YearArg = Annotated[int | None, Field(description="DORA report year whose tiers rate the figures: 2023 or 2024 (default 2024)")]

CHANGELOG = """\
What shipped, as changelog entries newest first: one per ISO week (default) or per release tag, each with \
`id` (url-like, e.g. 'week-of-2025-02-10'), `title` ('Week of Feb 10' or the tag), `published_at` and \
`categories` counts (features, improvements, fixes, breaking, security, docs, tests, other), classified from \
conventional commits, gitmoji, PR titles and keywords, and from the files each change touched (documentation \
only → docs, tests only → tests, CI only → other); merges, dependency bumps, release chores, translation \
syncs and bot commits are counted in `grouped`, never listed.

Use it for "what shipped this week?", "release notes for v1.4", "how many fixes went out this month?". For one \
entry in full, read the resource changelog://<id> (or changelog://latest).
Arguments: limit (entries, default 20), cursor, repo or team, since (ISO date, '30d'), group_by ('week' or \
'release'), items_per_entry (listed changes kept per entry, 0–30, default 0 = counts only).
Example: get_changelog(limit=2, repo="webapp", items_per_entry=3) → {"entries": [{"id": "week-of-2025-02-10", \
"title": "Week of Feb 10", "categories": {"features": 3, "improvements": 5, "fixes": 2, ...}, "items": [...]}]}
"""

SCORECARD = """\
A health scorecard for a repository, a team or everything: `overall_score` 0–100 and one `signal` per metric \
(deployment frequency, lead time, change failure rate, recovery time; PR review time and test-touch ratio where \
data exists), each with `value`, `unit`, `status` green/amber/red and `trend` improving/stable/worsening. DORA \
signals: elite/high green, medium amber, low red for the benchmark year; a green signal that is worsening is \
amber. Each signal's `reason` states its thresholds.

Use it for "how healthy is the payments repo?", weekly reviews. Arguments: repo or team; period (default \
last_30_days) or from/to; benchmark_year.
Example: get_scorecard(repo="payments") → {"overall_score": 81, "signals": [{"metric": "lead_time", \
"value": 14.2, "unit": "hours", "status": "green", "trend": "improving"}, ...]}
"""

SERIES = """\
One metric over time, weekly (ISO weeks, '2026-W03') or monthly, with each bucket's trend against the previous \
one, the `period_average`, and the DORA tier thresholds (`benchmark_tiers`) for DORA metrics (the DORA report \
publishes tiers, not medians, so `benchmark_median` is null).

Use it to spot patterns or check whether a change worked. metric: """ + ", ".join(SERIES_METRICS) + """ \
(aliases such as recovery_time or cfr work). period (default last_90_days) or from/to; granularity weekly or \
monthly; repo or team.
Example: get_metric_series(metric="lead_time", from="2026-01-01", to="2026-04-01") → {"unit": "hours", \
"series": [{"week": "2026-W01", "value": 18.4, "trend": "stable"}, ...], "period_average": 17.1}
"""

INSIGHTS = """\
Observations computed from the weekly series over the last complete weeks (default 12): sustained trends \
(a metric worse three weeks running), anomalies against the scope's own history (robust z-score ≥ 3.5), \
correlations (deployment pace vs change failure rate, change size vs lead time; Spearman ρ ≥ 0.6), and DORA \
tiers worth noting. Each has `type` (anomaly, trend, recommendation, benchmark), `severity` (low, medium, \
high), `title`, a `body` with the numbers, and `metrics_referenced`. Most severe first.

Use it for "anything unusual lately?", "what should we look at?". Arguments: limit, cursor, repo or team, \
weeks (4–104), benchmark_year. An empty list means nothing crossed a threshold — say so.
Example: get_insights(repo="webapp", limit=5) → {"insights": [{"type": "trend", "severity": "medium", \
"title": "Change failure rate worsening 3 weeks running", "body": "...from 5% in 2026-W10 to 12% in 2026-W13..."}]}
"""

BENCHMARKS = """\
How the DORA figures compare with the DORA report's published performance tiers: for each of deployment \
frequency, lead time, change failure rate and recovery time, the `value`, the `tier` it falls in for the named \
report `year` (with the report's wording), the `next_tier`, its threshold and the `distance_to_next_tier` (in \
the metric's unit).

Use it for "how do we compare?", quarterly reviews. Arguments: year (2023 or 2024), period (default \
last_90_days) or from/to, repo or team.
Example: get_benchmarks(year=2024, repo="webapp") → {"benchmarks": [{"metric": "lead_time", "value": 78.0, \
"unit": "hours", "tier": "high", "next_tier": "elite", "next_tier_threshold": 24.0, "distance_to_next_tier": 54.0}]}
"""

GENERATE = """\
Write an engineering report for an audience, grounded in computed numbers: headline DORA figures with trends, \
what shipped (from the changelog), risks and incidents, insights, and what to watch. audience: 'team' (full \
detail), 'leaders' (outcomes and trends, no commit lists) or 'customers' (features and fixes in plain words, \
nothing internal). format: 'markdown', 'slack' (Slack mrkdwn), 'email' (email-safe HTML) or 'html'.

Answers at once with `report_id`, `status` ('ready') and the report (`content`, `word_count`); it is stored and \
readable later with get_report or the resource report://<report_id>. When this client supports sampling and \
polish is true, the client's model is asked to polish the prose from the same facts; the rewrite is used only \
if every number in it appears in the facts (`report.polished` says which text you got).
Arguments: audience, period (default last_14_days) or from/to, format, repo or team, polish.
Example: generate_report(audience="team", from="2025-02-01", to="2025-02-15", format="slack") → \
{"report_id": "rpt_3f2a9c0d1e4b", "status": "ready", "report": {"content": "*Engineering Update — Feb 1–15*...", \
"word_count": 312}}
"""

GET_REPORT = """\
A report made earlier by generate_report: its `content` in the format asked for, `word_count`, audience, period \
and whether the prose was polished by a model. Use it to fetch a report by id (also readable as the resource \
report://<report_id>). Argument: report_id (from generate_report).
Example: get_report(report_id="rpt_3f2a9c0d1e4b") → {"id": "rpt_3f2a9c0d1e4b", "status": "ready", \
"format": "slack", "content": "...", "word_count": 312}
"""


def _arguments(ctx: Context) -> dict[str, Any]:
    """The tools/call arguments as the client sent them (wire names, e.g. 'from')."""
    params = ctx.request_context.params or {}
    args = params.get("arguments") if hasattr(params, "get") else None
    return dict(args or {})


def _text_of(result: CreateMessageResult | None) -> str:
    if result is None:
        return ""
    content = result.content
    blocks = content if isinstance(content, list) else [content]
    return "\n".join(b.text for b in blocks if isinstance(b, TextContent)).strip()


def register(mcp: MCPServer[Any], rt: Runtime) -> None:
    """Add the narrative tools."""

    @user_errors
    async def get_changelog(
        limit: LimitArg = 20,
        cursor: CursorArg = None,
        repo: RepoArg = None,
        team: TeamArg = None,
        since: Annotated[str | None, Field(description="Only changes at or after this ISO date/time, '30d' or 'now'")] = None,
        group_by: Annotated[Literal["week", "release"], Field(description="'week' (ISO weeks) or 'release' (tags/deployments)")] = "week",
        items_per_entry: Annotated[int, Field(ge=0, le=30, description="Listed changes kept per entry, 0–30 (0: counts only)")] = 0,
    ) -> Changelog:
        q = validate(ChangelogQuery, limit=limit, cursor=cursor, repo=repo, team=team, since=since, group_by=group_by,
                     items_per_entry=items_per_entry)
        await rt.ready()
        return await rt.engine.reports.get_changelog(q)

    @user_errors
    async def get_scorecard(
        repo: RepoArg = None,
        team: TeamArg = None,
        period: PeriodArg = None,
        from_: FromArg = None,
        to: ToArg = None,
        benchmark_year: YearArg = None,
    ) -> Scorecard:
        q = validate(ScorecardQuery, repo=repo, team=team, period=period, from_=from_, to=to, benchmark_year=benchmark_year)
        await rt.ready()
        return await rt.engine.reports.get_scorecard(q)

    @user_errors
    async def get_metric_series(
        metric: Annotated[str, Field(description="One of " + ", ".join(SERIES_METRICS))],
        period: PeriodArg = None,
        from_: FromArg = None,
        to: ToArg = None,
        granularity: Annotated[Literal["weekly", "monthly"], Field(description="'weekly' (ISO weeks) or 'monthly'")] = "weekly",
        repo: RepoArg = None,
        team: TeamArg = None,
    ) -> MetricSeries:
        q = validate(MetricSeriesQuery, metric=metric, period=period, from_=from_, to=to, granularity=granularity,
                     repo=repo, team=team)
        await rt.ready()
        return await rt.engine.reports.get_metric_series(q)

    @user_errors
    async def get_insights(
        limit: LimitArg = 20,
        cursor: CursorArg = None,
        repo: RepoArg = None,
        team: TeamArg = None,
        weeks: Annotated[int, Field(ge=4, le=104, description="Complete ISO weeks of history examined, 4–104 (default 12)")] = 12,
        benchmark_year: YearArg = None,
    ) -> InsightList:
        q = validate(InsightsQuery, limit=limit, cursor=cursor, repo=repo, team=team, weeks=weeks, benchmark_year=benchmark_year)
        await rt.ready()
        return await rt.engine.reports.get_insights(q)

    @user_errors
    async def get_benchmarks(
        year: YearArg = None,
        period: PeriodArg = None,
        from_: FromArg = None,
        to: ToArg = None,
        repo: RepoArg = None,
        team: TeamArg = None,
    ) -> BenchmarkReport:
        q = validate(BenchmarkQuery, year=year, period=period, from_=from_, to=to, repo=repo, team=team)
        await rt.ready()
        return await rt.engine.reports.get_benchmarks(q)

    # ---- generate_report: resolvers run before the body (the SDK asks the client's model in between) ----

    async def _generated(ctx: Context) -> ReportStatus:
        args = _arguments(ctx)
        try:
            q = validate(
                ReportRequest, audience=args.get("audience"), period=args.get("period"), from_=args.get("from"),
                to=args.get("to"), format=args.get("format"), repo=args.get("repo"), team=args.get("team"),
            )
            await rt.ready()
            return await rt.engine.reports.generate_report(q)
        except EngmetricsError as exc:
            raise ToolError(exc.message) from None
        except ToolError:
            raise
        except Exception:
            log.exception("generate_report failed unexpectedly")
            raise ToolError(
                "engmetrics hit an internal error in generate_report; the server log (stderr) has the details."
            ) from None

    async def _polish(
        ctx: Context, polish: bool, generated: Annotated[ReportStatus, Resolve(_generated)]
    ) -> Sample | None:
        caps = ctx.client_capabilities
        if not polish or generated.report is None or caps is None or caps.sampling is None or rt.engine.kind != "local":
            return None
        draft = await rt.engine.reports.report_markdown(generated.report_id)
        text = polish_request(generated.report.audience, draft, generated.report.numbers)
        return Sample(
            [SamplingMessage(role="user", content=TextContent(type="text", text=text))],
            max_tokens=2000, system_prompt=POLISH_SYSTEM, temperature=0.3,
        )

    @user_errors
    async def generate_report(
        audience: Annotated[
            Literal["team", "leaders", "customers"],
            Field(description="'team' (full detail), 'leaders' (outcomes, trends) or 'customers' (features, fixes)"),
        ] = "team",
        period: PeriodArg = None,
        from_: FromArg = None,
        to: ToArg = None,
        format: Annotated[
            Literal["markdown", "slack", "email", "html"],
            Field(description="'markdown', 'slack' (mrkdwn), 'email' (email-safe HTML) or 'html'"),
        ] = "markdown",
        repo: RepoArg = None,
        team: TeamArg = None,
        polish: Annotated[bool, Field(description="Let the client's model polish the prose (numbers checked)")] = True,
        *,
        generated: Annotated[ReportStatus, Resolve(_generated)] = None,  # type: ignore[assignment]
        polished: Annotated[CreateMessageResult | None, Resolve(_polish)] = None,
    ) -> ReportStatus:
        status = generated
        text = _text_of(polished)
        if text and rt.engine.kind == "local":
            report, unsupported = await rt.engine.reports.polish_report(status.report_id, text)
            notes = list(status.notes)
            if unsupported:
                notes.append(
                    "The client's model rewrote the report but cited numbers not in the facts "
                    f"({', '.join(unsupported[:5])}); the template text was kept."
                )
            else:
                notes.append("Polished by the client's model; every number checked against the facts.")
            status = ReportStatus(report_id=report.id, status=report.status, estimated_seconds=0, report=report, notes=notes)
        return status

    @user_errors
    async def get_report(
        report_id: Annotated[str, Field(description="The report_id generate_report answered with, e.g. 'rpt_3f2a9c0d1e4b'")],
    ) -> Report:
        q = validate(ReportId, report_id=report_id)
        await rt.ready()
        return await rt.engine.reports.get_report(q)

    mcp.add_tool(get_changelog, name="get_changelog", title="Changelog", description=CHANGELOG, annotations=READ_ONLY)
    mcp.add_tool(accepts_from(get_scorecard), name="get_scorecard", title="Scorecard", description=SCORECARD,
                 annotations=READ_ONLY)
    mcp.add_tool(accepts_from(get_metric_series), name="get_metric_series", title="Metric series", description=SERIES,
                 annotations=READ_ONLY)
    mcp.add_tool(get_insights, name="get_insights", title="Insights", description=INSIGHTS, annotations=READ_ONLY)
    mcp.add_tool(accepts_from(get_benchmarks), name="get_benchmarks", title="DORA benchmarks", description=BENCHMARKS,
                 annotations=READ_ONLY)
    mcp.add_tool(
        accepts_from(generate_report), name="generate_report", title="Generate report", description=GENERATE,
        annotations=ToolAnnotations(read_only_hint=False, destructive_hint=False, idempotent_hint=True, open_world_hint=False),
    )
    mcp.add_tool(get_report, name="get_report", title="Get report", description=GET_REPORT, annotations=READ_ONLY)
