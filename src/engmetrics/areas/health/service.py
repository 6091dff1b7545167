"""The health area over the other areas: the score weights the scorecard's signals (`ReportsApi`) now and over the
previous period; risks come from DORA figures (`DoraApi`), stuck PRs (`FlowApi`), catalogue series and the commits'
changed paths (`CatalogueApi`), judged by the pure `metrics`."""

from __future__ import annotations

from datetime import timedelta

from engmetrics.areas.ai.api import AiApi
from engmetrics.areas.catalogue.api import CatalogueApi
from engmetrics.areas.context import AreaService, Context
from engmetrics.areas.dora.api import DoraApi
from engmetrics.areas.flow.api import FlowApi
from engmetrics.areas.flow.models import StuckQuery
from engmetrics.areas.health.api import HealthApi
from engmetrics.areas.health.metrics import risks as rk
from engmetrics.areas.health.metrics.score import band, score, weight_of, weights
from engmetrics.areas.health.models import HealthQuery, HealthReport, HealthSignal, RiskQuery, RiskReport, RiskSignal
from engmetrics.areas.reports.api import ReportsApi
from engmetrics.areas.reports.models import Scorecard, ScorecardQuery
from engmetrics.models import Period
from engmetrics.periods import Bucket, Window, iso, resolve_window, utcnow
from engmetrics.trends import trend

POINTS = {"green": 100, "amber": 60, "red": 20}
CHECKED = ["cfr_rising_with_frequency", "review_time_growing", "prs_stuck", "batch_size_growing",
           "knowledge_concentration", "coverage_falling", "ai_share_rising_stability_falling"]


class HealthService(AreaService, HealthApi):
    """Health and risks from the DORA, flow, catalogue and reports areas."""

    def __init__(self, ctx: Context, dora: DoraApi, flow: FlowApi, catalogue: CatalogueApi, reports: ReportsApi,
                 ai: AiApi) -> None:
        super().__init__(ctx)
        self.ai = ai
        self.dora = dora
        self.flow = flow
        self.catalogue = catalogue
        self.reports = reports

    async def _card(self, q: HealthQuery | RiskQuery, window: Window) -> Scorecard:
        return await self.reports.get_scorecard(ScorecardQuery(
            repo=q.repo, team=q.team, from_=iso(window.start_ts), to=iso(window.end_ts - 1)))

    async def get_health(self, q: HealthQuery) -> HealthReport:
        window = resolve_window(q.period, q.from_, q.to)
        prev = window.previous()
        now_card, prev_card = await self._card(q, window), await self._card(q, prev)
        table = weights(self.settings.health_weights)
        before = {s.metric: s for s in prev_card.signals}
        signals, changed = [], []
        for s in now_card.signals:
            p = before.get(s.metric)
            w = weight_of(s.metric, table)
            change, pct = trend(s.value, p.value if p else None)
            signals.append(HealthSignal(
                metric=s.metric, value=s.value, unit=s.unit, status=s.status,
                points=POINTS[s.status] if s.status else None, weight=w, previous_value=p.value if p else None,
                previous_status=p.status if p else None, change=change, trend=s.trend, reason=s.reason,
            ))
            if p is not None and p.status and s.status and p.status != s.status:
                changed.append(f"{s.metric.replace('_', ' ')}: {p.status} → {s.status}")
        value = score([(s.status, s.weight) for s in signals])
        previous = score([(s.status, weight_of(s.metric, table)) for s in prev_card.signals])
        notes = list(now_card.notes)
        counted = [s for s in signals if s.status is not None and s.weight > 0]
        unknown = [s.metric.replace("_", " ") for s in signals if s.status is None and s.weight > 0]
        if value is not None and unknown:
            notes.append(f"The score rests on {len(counted)} of {len(counted) + len(unknown)} signals: no "
                         f"{', '.join(unknown)} in the window, so {'it is' if len(unknown) == 1 else 'they are'} "
                         "left out rather than counted.")
        return HealthReport(
            score=value, status=band(value), previous_score=previous,
            score_change=None if value is None or previous is None else value - previous, signals=signals,
            changed=changed, period=Period.of(window), previous_period=Period.of(prev), repo=now_card.repo,
            team=q.team, computed_at=iso(utcnow().timestamp()) or "", notes=notes,
        )

    async def get_risk_signals(self, q: RiskQuery) -> RiskReport:
        window = resolve_window(q.period, q.from_, q.to)
        prev = window.previous()
        repo_ids = self.scope_repo_ids(q.repo, q.team)
        repo = self.resolve_repo(q.repo).name if q.repo else None
        found: list[RiskSignal] = []

        dora = await self.dora.dora_for_window(window, repo_ids, self.settings.benchmark_year, repo, q.team)
        hit = rk.cfr_with_frequency(dora.change_failure_rate.value, dora.change_failure_rate.previous_value,
                                    dora.deployment_frequency.value, dora.deployment_frequency.previous_value)
        found += [hit] if hit else []

        bks = [Bucket("previous", prev.start_ts, prev.end_ts), Bucket("current", window.start_ts, window.end_ts)]
        series = await self.catalogue.metric_series(bks, repo_ids, q.team, ["pr_review_time", "change_size",
                                                                             "test_coverage"])
        (r0, r1), (c0, c1), (t0, t1) = series["pr_review_time"], series["change_size"], series["test_coverage"]
        a0, a1 = (await self.ai.metric_series(bks, repo_ids, ["ai_assisted_commits"]))["ai_assisted_commits"]
        for risk in (
            rk.growing("review_time_growing", "pr_review_time", r1, r0, 4.0, " h", "Review time growing",
                       "Find where PRs wait (get_flow_metrics: pickup vs review time), spread reviews across more "
                       "people and keep PRs small."),
            rk.growing("batch_size_growing", "change_size", c1, c0, 50.0, " lines", "Batch size growing",
                       "Split work into smaller changes: they review faster and fail less."),
            rk.coverage_falling(t1, t0),
            rk.ai_stability_risk(a1, a0, dora.change_failure_rate.value, dora.change_failure_rate.previous_value),
        ):
            found += [risk] if risk else []

        stuck = await self.flow.list_stuck_pull_requests(StuckQuery(repo=q.repo, team=q.team, min_hours=rk.STUCK_HOURS,
                                                                     limit=100))
        hit = rk.stuck([(p.repo, p.number, p.reason, p.waiting_hours) for p in stuck.items])
        found += [hit] if hit else []

        since = window.end - timedelta(days=rk.KNOWLEDGE_DAYS)
        commits = await self.catalogue.events("commits", int(since.timestamp()), window.end_ts, repo_ids, q.team,
                                              with_paths=True)
        directory = self.ctx.directory
        touches = [rk.Touch(e.repo or "", f"{e.repo}:{e.at}:{e.author}:{i}", directory.person_of(e.author) or
                            (e.author or "unknown"), path)
                   for i, e in enumerate(commits) for path in e.paths]
        found += rk.knowledge_concentration(touches)

        found.sort(key=lambda r: (rk.SEVERITY_ORDER[r.severity], r.id))
        return RiskReport(
            risks=found, period=Period.of(window), repo=repo, team=q.team, computed_at=iso(utcnow().timestamp()) or "",
            checked=CHECKED,
        )
