"""forecast_delivery and forecast_backlog: calibrated Monte Carlo forecasts from weekly throughput."""


from typing import Annotated, Any, Literal

from mcp.server.mcpserver import MCPServer
from mcp_types import ToolAnnotations
from pydantic import Field

from engmetrics.forecast.models import BacklogForecast, BacklogForecastQuery, DeliveryForecast, DeliveryForecastQuery
from engmetrics.queries import validate
from engmetrics.server.errors import user_errors
from engmetrics.server.params import TeamArg
from engmetrics.server.runtime import Runtime

ForecastRepoArg = Annotated[
    str | None,
    Field(description="Repository name (see list_repositories), or several separated by commas; all when omitted"),
]
ItemSourceArg = Annotated[
    Literal["auto", "prs", "commits", "work_items"] | None,
    Field(description="What counts as a finished item: prs (merged pull requests), commits (first-parent commits on "
          "the default branch), work_items (imported), auto (default: PRs if any, else commits)"),
]
StartDateArg = Annotated[str | None, Field(description="ISO date work starts (default today, UTC)")]
HolidaysArg = Annotated[list[str] | None, Field(description="ISO dates with no work, e.g. ['2026-12-25']")]
HistoryArg = Annotated[int | None, Field(description="Weeks of throughput history to sample, 4–260 (default 26)")]
SplitArg = Annotated[float | None, Field(description="Extra items each item grows into, e.g. 0.2 (default 0)")]
GrowthArg = Annotated[float | None, Field(description="Items added to the scope per week (default 0)")]

DELIVERY = """\
Monte Carlo delivery forecast from the team's real weekly throughput (merged PRs, first-parent commits or imported \
work items): "when will these N items be done?" (give `items` → P50/P85/P95 completion dates) or "how many items \
by <date>?" (give `by_date` → item counts that will be done with 50/85/95% confidence). P85 means it comes true 85% \
of the time: the simulation (10,000 runs, stationary block bootstrap of weeks, which keeps runs of busy and quiet \
weeks) is corrected by a backtest on this same history, and `reliability` shows how often past forecasts came true \
at 4 and 12 weeks, next to classic i.i.d. sampling. Dates are working days (Mon–Fri, minus `holidays`).

Use it for "when will we finish the 20 items left?", "how many items can we ship by March 1?".
Arguments: items or by_date (one of them); repo or team to scope; confidence_levels (default [50, 85, 95]); \
start_date; holidays; item_source; history_weeks (default 26); split_rate and scope_growth_per_week for items \
that split or scope that grows. P50 ≤ P85 ≤ P95 always (dates; item counts the other way). Report the `warnings` \
with the dates: a stale history (no item in the last 8 weeks: the data looks stopped), a short or thin one, a very \
wide range, an answer far from the history's pace, no calibration.
Example: forecast_delivery(items=20, repo="webapp") → {"p50": "2026-04-10", "p85": "2026-04-24", \
"p95": "2026-05-06", "simulations": 10000, "throughput": {"mean_per_week": 6.1, ...}, "reliability": \
{"rows": [{"method": "calibrated", "horizon_weeks": 12, "levels": [{"confidence_percent": 85, "hit_percent": 86.2, ...}]}]}}
"""

BACKLOG = """\
How long until a backlog is empty, from the team's real weekly throughput: weekly_throughput_p50/p85 (items per \
week in the history), weeks_to_empty {p50, p85, p95} and the dates it is empty by (`empty_by`), from a calibrated \
Monte Carlo (see forecast_delivery). P85 means 85% of the time the backlog is empty by then.

Use it for "how long until the backlog is cleared?", "when is the backlog empty at this pace?".
Arguments: backlog_size (items; default: the open work items imported with `engmetrics forecast import-items`); \
repo or team to scope; item_source; start_date; holidays; history_weeks; split_rate; scope_growth_per_week. \
Report its `warnings` (stale, short or thin history, very wide range) with the answer.
Example: forecast_backlog(backlog_size=68, repo="webapp") → {"weekly_throughput_p50": 7, "weekly_throughput_p85": 12, \
"backlog_size": 68, "weeks_to_empty": {"p50": 10.2, "p85": 12.8, "p95": 14.0}, "empty_by": {"p85": "2026-06-12", ...}}
"""


def register(mcp: MCPServer[Any], rt: Runtime) -> None:
    """Add forecast_delivery and forecast_backlog."""

    @user_errors
    async def forecast_delivery(
        items: Annotated[int | None, Field(description="Number of items to finish (positive); gives dates")] = None,
        by_date: Annotated[str | None, Field(description="Future ISO date; gives item counts done by then")] = None,
        repo: ForecastRepoArg = None,
        team: TeamArg = None,
        start_date: StartDateArg = None,
        confidence_levels: Annotated[
            list[int] | None, Field(description="Confidence levels in percent, 1–99 (default [50, 85, 95])")
        ] = None,
        item_source: ItemSourceArg = None,
        history_weeks: HistoryArg = None,
        holidays: HolidaysArg = None,
        split_rate: SplitArg = None,
        scope_growth_per_week: GrowthArg = None,
    ) -> DeliveryForecast:
        q = validate(
            DeliveryForecastQuery, items=items, by_date=by_date, repo=repo, team=team, start_date=start_date,
            confidence_levels=confidence_levels, item_source=item_source, history_weeks=history_weeks,
            holidays=holidays, split_rate=split_rate, scope_growth_per_week=scope_growth_per_week,
        )
        await rt.ready()
        return await rt.engine.forecast.forecast_delivery(q)

    @user_errors
    async def forecast_backlog(
        backlog_size: Annotated[
            int | None, Field(description="Items in the backlog (default: open imported work items)")
        ] = None,
        repo: ForecastRepoArg = None,
        team: TeamArg = None,
        start_date: StartDateArg = None,
        item_source: ItemSourceArg = None,
        history_weeks: HistoryArg = None,
        holidays: HolidaysArg = None,
        split_rate: SplitArg = None,
        scope_growth_per_week: GrowthArg = None,
    ) -> BacklogForecast:
        q = validate(
            BacklogForecastQuery, backlog_size=backlog_size, repo=repo, team=team, start_date=start_date,
            item_source=item_source, history_weeks=history_weeks, holidays=holidays, split_rate=split_rate,
            scope_growth_per_week=scope_growth_per_week,
        )
        await rt.ready()
        return await rt.engine.forecast.forecast_backlog(q)

    annotations = ToolAnnotations(read_only_hint=True, idempotent_hint=True, open_world_hint=False)
    mcp.add_tool(forecast_delivery, name="forecast_delivery", title="Delivery forecast", description=DELIVERY,
                 annotations=annotations)
    mcp.add_tool(forecast_backlog, name="forecast_backlog", title="Backlog forecast", description=BACKLOG,
                 annotations=annotations)
