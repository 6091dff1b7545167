"""Request and result models of the forecast operations (MCP tools' outputSchema, REST bodies, CLI --json)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator, model_validator

from engmetrics.models import Model, Period
from engmetrics.queries import Scope

ItemSource = Literal["auto", "prs", "commits", "work_items"]
CountedSource = Literal["prs", "commits", "work_items"]
"""What counted as an item once ``auto`` is resolved."""
BacktestMethod = Literal["calibrated", "bootstrap", "iid"]
BacklogSource = Literal["argument", "work_items"]
DEFAULT_CONFIDENCES = [50, 85, 95]


class ForecastOptions(Scope):
    """What counts as an item, how much history to learn from, and the calendar ahead."""

    repo: str | None = Field(default=None, description="Repository name, or several separated by commas; all when omitted")
    item_source: ItemSource = Field(
        default="auto",
        description="A finished item: prs (merged), commits (first-parent on the default branch), work_items (imported) or auto (PRs if any, else commits)",
    )
    history_weeks: int = Field(default=26, ge=4, le=260, description='Weeks of throughput history to sample, 4–260 (default 26)')
    simulations: int = Field(default=10_000, ge=100, le=100_000, description="Monte Carlo runs (default 10,000)")
    seed: int = Field(default=0, description="Random seed: the same question with the same seed gets the same answer")
    calibrate: bool = Field(default=True, description="Correct the quantiles by a backtest on this history")
    start_date: str | None = Field(default=None, description="ISO date work starts (default today, UTC)")
    holidays: list[str] = Field(default_factory=list, description="ISO dates with no work, e.g. ['2026-12-25']")
    working_days: list[int] = Field(
        default_factory=lambda: [0, 1, 2, 3, 4], description="Working weekdays, 0=Monday … 6=Sunday (default Mon–Fri)"
    )
    split_rate: float = Field(
        default=0.0, ge=0.0, le=5.0, description='Extra items each item grows into, e.g. 0.2 (default 0)'
    )
    scope_growth_per_week: float = Field(default=0.0, ge=0.0, description='Items added to the scope per week (default 0)')

    @field_validator("working_days")
    @classmethod
    def _weekdays(cls, v: list[int]) -> list[int]:
        if not v or any(d < 0 or d > 6 for d in v):
            raise ValueError("working_days must list weekdays 0 (Monday) … 6 (Sunday), e.g. [0, 1, 2, 3, 4]")
        return sorted(set(v))


class DeliveryForecastQuery(ForecastOptions):
    """Arguments of forecast_delivery: ``items`` (when will they be done) or ``by_date`` (how many by then)."""

    items: int | None = Field(default=None, description='Number of items to finish (positive); gives dates')
    by_date: str | None = Field(default=None, description='Future ISO date; gives item counts done by then')
    confidence_levels: list[int] = Field(
        default_factory=lambda: list(DEFAULT_CONFIDENCES), description='Confidence levels in percent, 1–99 (default [50, 85, 95])'
    )

    @field_validator("items")
    @classmethod
    def _positive(cls, v: int | None) -> int | None:
        if v is not None and v <= 0:
            raise ValueError("items must be a positive number of items to finish, e.g. 20")
        return v

    @field_validator("confidence_levels")
    @classmethod
    def _levels(cls, v: list[int]) -> list[int]:
        if not v or len(v) > 9 or any(x < 1 or x > 99 for x in v):
            raise ValueError("confidence_levels must be 1–9 percentages between 1 and 99, e.g. [50, 85, 95]")
        return sorted(set(v))

    @model_validator(mode="after")
    def _one_question(self) -> DeliveryForecastQuery:
        if (self.items is None) == (self.by_date is None):
            raise ValueError("give either items (how many to finish) or by_date (a future ISO date), not both or neither")
        return self


class BacklogForecastQuery(ForecastOptions):
    """Arguments of forecast_backlog."""

    backlog_size: int | None = Field(
        default=None, ge=1, description='Items in the backlog (default: open imported work items)'
    )


class BacktestQuery(ForecastOptions):
    """Arguments of the backtest: as-of date, horizons (weeks) and runs per origin."""

    as_of: str | None = Field(
        default=None,
        description="ISO date: backtest only the history before this day, as if run then (default today, UTC)",
    )
    horizons: list[int] = Field(default_factory=lambda: [4, 12], description="Horizons in weeks, 1–52")
    simulations: int = Field(default=2000, ge=100, le=20_000, description="Monte Carlo runs per origin (default 2,000)")

    @model_validator(mode="after")
    def _one_as_of(self) -> BacktestQuery:
        # start_date (inherited) used to set the backtest's end before as_of existed: it still does, alone.
        if self.as_of is not None and self.start_date is not None and self.as_of.strip() != self.start_date.strip():
            raise ValueError("give as_of (the day the backtest looks back from) and not a different start_date")
        return self

    @field_validator("horizons")
    @classmethod
    def _horizons(cls, v: list[int]) -> list[int]:
        if not v or len(v) > 8 or any(h < 1 or h > 52 for h in v):
            raise ValueError("horizons must be 1–8 week counts between 1 and 52, e.g. [4, 12]")
        return sorted(set(v))


class ThroughputSummary(Model):
    """The weekly throughput history a forecast sampled."""

    item_source: CountedSource = Field(description="What counted as a completed item")
    weeks: int = Field(description="Weeks of history sampled (zero weeks included)")
    window: Period = Field(description="The history's UTC window")
    items: int = Field(description="Items completed in the window")
    non_empty_weeks: int
    mean_per_week: float
    median_per_week: float
    p15_per_week: float = Field(description="15th percentile of weekly throughput, items")
    p85_per_week: float = Field(description="85th percentile of weekly throughput, items")
    lag1_autocorrelation: float | None = Field(
        description="Correlation of each week's throughput with the previous week's (runs of busy/quiet weeks)"
    )
    recent_weeks: list[int] = Field(description="Items per week, oldest first, the last (up to) 26 weeks")


class LevelHit(Model):
    """How often forecasts at one confidence level came true in a backtest."""

    confidence_percent: int
    hit_percent: float = Field(description="Share of origins where the forecast came true, percent")
    ci_low_percent: float = Field(description="Wilson 95% interval, low end, percent")
    ci_high_percent: float = Field(description="Wilson 95% interval, high end, percent")


class BacktestRow(Model):
    """One method at one horizon over every evaluated origin."""

    method: BacktestMethod = Field(
        description="'calibrated' (engmetrics' forecasts as it answers them: stationary bootstrap + walk-forward "
        "calibration, levels ordered), 'bootstrap' (the same without calibration), 'iid' (classic throughput "
        "Monte Carlo)"
    )
    horizon_weeks: int
    origins: int = Field(description="Past weeks a forecast was made from and checked")
    levels: list[LevelHit]
    pinball_loss_items: float = Field(description="Mean pinball (quantile) loss over the levels, items (lower is better)")
    pinball_loss_relative: float = Field(description="Pinball loss ÷ mean actual items at this horizon")


class Reliability(Model):
    """How forecasts like this one have fared on this team's own history (walk-forward backtest)."""

    rows: list[BacktestRow] = Field(description="Per horizon: the calibrated method and classic i.i.d. sampling")
    note: str | None = None


class ForecastPoint(Model):
    """The forecast at one confidence level."""

    confidence_percent: int
    date: str | None = Field(default=None, description="Completion date (ISO, a working day); null beyond 10 years")
    weeks: float | None = Field(default=None, description="Weeks from start_date to completion")
    items: int | None = Field(default=None, description="Items done by by_date with this confidence")


class FanPoint(Model):
    """The items done by the end of one week ahead, at 50%, 85% and 95% confidence (a more confident level
    promises fewer items): one step of the forecast fan."""

    week: int = Field(description="Weeks from start_date")
    date: str | None = Field(default=None, description="The week's last working day (ISO)")
    p50: float | None = None
    p85: float | None = None
    p95: float | None = None


class DeliveryForecast(Model):
    """When ``items`` will be done (dates) or how many will be done by ``by_date`` (counts). From a remote provider,
    what it does not send is null (see `warnings`)."""

    items: int | None
    by_date: str | None
    start_date: str | None
    repo: str | None
    team: str | None
    p50: str | int | None = Field(description="Date (items mode) or item count (by_date mode) at 50% confidence")
    p85: str | int | None = Field(description="Same at 85% confidence: comes true 85% of the time")
    p95: str | int | None = Field(description="Same at 95% confidence")
    forecasts: list[ForecastPoint] = Field(description="Every requested confidence level")
    simulations: int | None
    method: str | None = Field(description="Sampling and calibration used")
    calibrated: bool | None = Field(description="Whether a backtest correction was applied")
    throughput: ThroughputSummary | None
    reliability: Reliability | None
    warnings: list[str] = Field(default_factory=list)
    fan: list[FanPoint] = Field(
        default_factory=list, description="Cumulative items by each week ahead at P50/P85/P95 (at most 26 weeks)")


class WeeksToEmpty(Model):
    """Weeks until the backlog is empty at each confidence level."""

    p50: float | None
    p85: float | None
    p95: float | None


class EmptyBy(Model):
    """Dates the backlog is empty by, at each confidence level (ISO dates)."""

    p50: str | None
    p85: str | None
    p95: str | None


class BacklogForecast(Model):
    """How long until the backlog is empty, from weekly throughput. From a remote provider, what it does not send is
    null (see `warnings`)."""

    backlog_size: int
    backlog_source: BacklogSource | None = Field(description="Where backlog_size came from (null: the provider's own)")
    start_date: str | None
    repo: str | None
    team: str | None
    weekly_throughput_p50: float = Field(description="Median items per week in the history")
    weekly_throughput_p85: float = Field(description="85th percentile of items per week in the history")
    weeks_to_empty: WeeksToEmpty
    empty_by: EmptyBy
    simulations: int | None
    method: str | None
    calibrated: bool | None
    throughput: ThroughputSummary | None
    warnings: list[str] = Field(default_factory=list)


class BacktestReport(Model):
    """Calibration table: hit rates and pinball loss per horizon for each method."""

    repo: str | None
    team: str | None
    as_of: str = Field(description="The day the backtest looked back from (ISO date): no later item was used")
    throughput: ThroughputSummary = Field(description="The full history the backtest walked")
    history_weeks: int = Field(description="Weeks of history each past forecast sampled")
    simulations_per_origin: int
    rows: list[BacktestRow]
    notes: list[str] = Field(default_factory=list)


class WorkItemImport(Model):
    """The result of importing work items."""

    file: str
    imported: int = Field(description="Rows new or changed in the store")
    unchanged: int = Field(description="Rows already present exactly (re-import)")
    open_items: int = Field(description="Imported items with no completed_at (the backlog)")
    errors: list[str] = Field(default_factory=list, description="'line N: reason' for each rejected row")
