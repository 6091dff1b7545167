"""The AI-impact area over the local store: `AiApi` implemented with `queries`, the pure `metrics`, and the AI sources
(Cursor's API and imports, GitHub Copilot's reports)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from datetime import timedelta
from pathlib import Path

from engmetrics.ai_markers import markers_for
from engmetrics.areas.ai import queries
from engmetrics.areas.ai.api import AiApi
from engmetrics.areas.ai.metrics.copilot import CopilotDayTotals, copilot_figures, koalr_shape
from engmetrics.areas.ai.metrics.shares import (
    AI_SERIES_METRICS,
    CommitFacts,
    adoption,
    by_key,
    by_source,
    by_tool,
    series_value,
    shares,
)
from engmetrics.areas.ai.metrics.stability import Outcome, stability
from engmetrics.areas.ai.models import (
    AcceptedChanges,
    Adoption,
    AiImpact,
    AiImpactQuery,
    AiSyncReport,
    CopilotFigures,
    CopilotQuery,
    CopilotSync,
    CopilotUsage,
    EndpointSync,
    PersonShare,
    ShareFigures,
    SourceShare,
    TeamShare,
)
from engmetrics.areas.context import AreaService, Context
from engmetrics.areas.repos.models import ImportReport
from engmetrics.areas.risk.api import RiskApi
from engmetrics.bots import is_bot
from engmetrics.errors import InvalidInput
from engmetrics.models import Period
from engmetrics.periods import Bucket, Window, resolve_window, utcnow
from engmetrics.sources.copilot.sync import CopilotScope, sync_copilot
from engmetrics.sources.cursor.client import CursorClient
from engmetrics.sources.cursor.imports import import_tracking
from engmetrics.sources.cursor.sync import sync_cursor
from engmetrics.sources.github.client import GitHubClient
from engmetrics.sources.github.config import resolve_api_url, resolve_token
from engmetrics.store.connection import Connection

PEOPLE_SHOWN = 10
MODELS_SHOWN = 5
WaitFn = Callable[[str, float], Awaitable[None]]


class AiService(AreaService, AiApi):
    """AI-assisted code from the store: tracking data, AI trailers, Copilot days, and change risk's SZZ labels
    (brought up to date through `RiskApi.ensure_fix_labels` before a stability comparison)."""

    def __init__(self, ctx: Context, risk: RiskApi) -> None:
        super().__init__(ctx)
        self.risk = risk

    # ---- the commits of a question ---------------------------------------------------------------------------

    def _person_of(self, email: str) -> str:
        return self.ctx.directory.person_of(email) or email

    def _facts(self, conn: Connection, start: int, end: int, repo_ids: list[int] | None, team: str | None,
               author: str | None) -> list[tuple[queries.CommitRow, CommitFacts]]:
        """The window's non-merge commits in scope (the team's people, the author, when given) with their facts."""
        rows = queries.window_commits(conn, start, end, repo_ids)
        directory = self.ctx.directory
        markers = markers_for(tuple(self.settings.ai_markers) or None)
        members = directory.members(directory.team(team)) if team else None
        if team and not directory.team(team).people:
            members = None
        who = self._person_of(author.strip().lower()) if author else None
        keys = [(r.repo_id, r.sha) for r in rows]
        tracked = queries.tracking(conn, keys)
        teams = list(directory.teams.values())
        out = []
        for r in rows:
            person = self._person_of(r.author_email)
            if (members is not None and person not in members) or (who is not None and person != who):
                continue
            t = tracked.get((r.repo_id, r.sha))
            in_teams = tuple(tm.name for tm in teams
                             if (not tm.repos or r.repo in tm.repos)
                             and (not tm.people or person in directory.members(tm)))
            facts = CommitFacts(
                repo=r.repo, sha=r.sha, person=person, is_bot=is_bot(r.author_name) or is_bot(r.author_email),
                time=r.author_time, lines_added=r.lines_added,
                tab_lines=None if t is None else t.tab_lines, composer_lines=None if t is None else t.composer_lines,
                tool=markers.tool_of(r.message, r.trailers, f"{r.author_name} {r.author_email}"), teams=in_teams,
            )
            out.append((r, facts))
        return out

    @staticmethod
    def _outcomes(conn: Connection, rows: Sequence[queries.CommitRow]) -> list[Outcome]:
        keys = [(r.repo_id, r.sha) for r in rows]
        labelled = queries.labelled_repos(conn, (r.repo_id for r in rows))
        inducing = queries.inducing(conn, [k for k in keys if k[0] in labelled])
        non_product = queries.non_product(conn, keys)
        reverted = queries.reverted(conn, keys)
        shipped = queries.shipped(conn, keys)
        reviews = queries.review_hours(conn, keys)
        return [Outcome(
            inducing=(k in inducing) if k[0] in labelled and k not in non_product else None, reverted=k in reverted,
            shipped=k in shipped,
            failed_deployment=shipped.get(k, False), review_hours=reviews.get(k),
        ) for k in keys]

    # ---- get_ai_impact --------------------------------------------------------------------------------------

    async def get_ai_impact(self, q: AiImpactQuery) -> AiImpact:
        window = resolve_window(q.period, q.from_, q.to)
        repo_ids = self.scope_repo_ids(q.repo, q.team)
        repo = self.resolve_repo(q.repo).name if q.repo else None
        await self.risk.ensure_fix_labels(repo_ids)
        return await self.store.run(self._impact, window, repo_ids, repo, q.team, q.author)

    async def impact_for_window(self, window: Window, repo_ids: list[int] | None, repo: str | None = None,
                                team: str | None = None) -> AiImpact:
        await self.risk.ensure_fix_labels(repo_ids)
        return await self.store.run(self._impact, window, repo_ids, repo, team, None)

    def _impact(self, window: Window, repo_ids: list[int] | None, repo: str | None, team: str | None,
                author: str | None) -> AiImpact:
        conn = self.store.read()
        pairs = self._facts(conn, window.start_ts, window.end_ts, repo_ids, team, author)
        rows = [r for r, _ in pairs]
        facts = [f for _, f in pairs]
        outcomes = self._outcomes(conn, rows)
        total = shares(facts)
        people = sorted(by_key([f for f in facts if not f.is_bot], "person").items(),
                        key=lambda kv: (-len(kv[1]), kv[0]))
        teams = by_key(facts, "team")
        unmatched = queries.unmatched_tracking_rows(conn)
        copilot = self._copilot(conn, window)
        accepted = self._accepted(conn, window, author)
        ad = adoption(facts)
        return AiImpact(
            **_share_fields(facts).model_dump(), period=Period.of(window), repo=repo, team=team, author=author,
            by_source=[SourceShare(source=s.source, commits=s.commits, lines_added=s.lines_added,
                                   share_of_lines_percent=s.share_of_lines_percent,
                                   share_of_commits_percent=s.share_of_commits_percent) for s in by_source(facts)],
            by_tool=by_tool(facts),
            adoption=Adoption(people=ad.people, ai_people=ad.ai_people, adoption_percent=ad.adoption_percent),
            by_person=[PersonShare(person=p, **_share_fields(fs).model_dump()) for p, fs in people[:PEOPLE_SHOWN]],
            by_team=[TeamShare(team=t, **_share_fields(teams[t]).model_dump()) for t in sorted(teams)],
            stability=stability(list(zip(facts, outcomes, strict=True))),
            copilot=copilot, accepted_changes=accepted, tracking_rows_unmatched=unmatched,
            notes=self._notes(conn, total.commits, total.commits_with_tracking_data, unmatched, len(people)),
        )

    @staticmethod
    def _notes(conn: Connection, commits: int, tracked: int, unmatched: int, people: int) -> list[str]:
        notes = []
        if not commits:
            notes.append("No non-merge commit was authored in this window (in this scope): there is nothing to measure.")
        elif not queries.has_tracking_data(conn):
            notes.append("No AI code tracking data is stored, so the AI share of lines is unknown and AI-assisted "
                         "commits are those with an AI trailer only: a lower bound. Set ENGMETRICS_CURSOR_API_KEY and "
                         "run `engmetrics ai sync`, or `engmetrics import ai-commits FILE`.")
        elif not tracked:
            notes.append("None of these commits has tracking data: the AI share of lines is unknown; AI-assisted "
                         "commits are those with an AI trailer only.")
        elif tracked < commits:
            notes.append(f"{tracked} of {commits} commits have tracking data; the others count as without AI lines "
                         "(they may have had some), so the AI share of lines is a lower bound.")
        if unmatched:
            notes.append(f"{unmatched} tracking row(s) name no commit in the store (not synced yet, or from other "
                         "repositories): they are left out until their commits are synced.")
        if people > PEOPLE_SHOWN:
            notes.append(f"by_person shows the {PEOPLE_SHOWN} people with the most commits of {people}.")
        return notes

    def _copilot_scope(self, found: dict[str, list[CopilotDayTotals]]) -> str | None:
        if self.settings.copilot_org:
            return f"org:{self.settings.copilot_org}"
        if self.settings.copilot_enterprise:
            return f"enterprise:{self.settings.copilot_enterprise}"
        return max(found, key=lambda s: (len(found[s]), s)) if found else None

    def _copilot(self, conn: Connection, window: Window) -> CopilotFigures | None:
        days = queries.copilot_days(conn, window.start_ts, window.end_ts)
        scope = self._copilot_scope(days)
        if scope is None or scope not in days:
            return None
        return copilot_figures(scope, days[scope], queries.copilot_seats(conn).get(scope),
                               self.settings.copilot_minutes_per_line)

    def _accepted(self, conn: Connection, window: Window, author: str | None) -> AcceptedChanges | None:
        changes = queries.accepted_changes(conn, window.start_ts, window.end_ts)
        if author:
            who = self._person_of(author.strip().lower())
            changes = [c for c in changes if c.user_email and self._person_of(c.user_email) == who]
        if not changes:
            return None
        by_source: dict[str, int] = {}
        by_model: dict[str, int] = {}
        for c in changes:
            by_source[c.source] = by_source.get(c.source, 0) + c.lines_added
            by_model[c.model or "unknown"] = by_model.get(c.model or "unknown", 0) + c.lines_added
        top = dict(sorted(by_model.items(), key=lambda kv: (-kv[1], kv[0]))[:MODELS_SHOWN])
        return AcceptedChanges(changes=len(changes), lines_added=sum(c.lines_added for c in changes),
                               lines_added_by_source=dict(sorted(by_source.items())), lines_added_by_model=top)

    # ---- Koalr's /copilot --------------------------------------------------------------------------------------

    async def get_copilot(self, q: CopilotQuery) -> CopilotUsage:
        now = utcnow()
        window = Window(now - timedelta(days=q.days), now, f"last_{q.days}_days")
        return koalr_shape(await self.store.run(lambda: self._copilot(self.store.read(), window)))

    # ---- series ------------------------------------------------------------------------------------------------

    async def metric_series(self, buckets: Sequence[Bucket], repo_ids: list[int] | None,
                            metrics: Sequence[str]) -> dict[str, list[float | None]]:
        wanted = [m for m in metrics if m in AI_SERIES_METRICS]
        if not buckets or not wanted:
            return {m: [] for m in wanted}

        def work() -> dict[str, list[float | None]]:
            facts = [f for _, f in self._facts(self.store.read(), buckets[0].start_ts, buckets[-1].end_ts, repo_ids,
                                               None, None)]
            per = [[f for f in facts if b.start_ts <= f.time < b.end_ts] for b in buckets]
            return {m: [series_value(m, fs) for fs in per] for m in wanted}

        return await self.store.run(work)

    # ---- sources -----------------------------------------------------------------------------------------------

    async def import_tracking(self, path: str | Path, kind: str) -> ImportReport:
        kinds = {"ai-commits": "commits", "ai-changes": "changes", "commits": "commits", "changes": "changes"}
        if kind not in kinds:
            raise InvalidInput("kind must be 'ai-commits' or 'ai-changes'", param="kind")
        what = "commits" if kinds[kind] == "commits" else "changes"
        outcome = await self.store.run(import_tracking, self.store, Path(path), what)
        return ImportReport(kind=f"ai-{what}", file=str(path), imported=outcome.imported, unchanged=outcome.unchanged,
                            errors=outcome.errors)

    async def sync_sources(self, on_wait: WaitFn | None = None, *, use_csv: bool = False,
                           user: str | None = None) -> AiSyncReport:
        s = self.settings
        report = AiSyncReport()
        now = utcnow()
        key = s.cursor_api_key.get_secret_value().strip() if s.cursor_api_key else ""
        if key:
            async with CursorClient(key, s.cursor_api_url, on_wait=on_wait, max_wait=s.ai_max_wait_seconds) as client:
                outcomes, unmatched = await sync_cursor(self.store, client, now=now,
                                                        first_sync_days=s.cursor_first_sync_days, user=user,
                                                        use_csv=use_csv)
                report.rate_limit_waits += client.stats.waits
                report.waited_seconds += client.stats.waited_seconds
            report.cursor = [EndpointSync(endpoint=o.endpoint, start=o.start, rows=o.rows, imported=o.imported,
                                          unchanged=o.unchanged, errors=o.errors[:20]) for o in outcomes]
            report.tracking_rows_unmatched = unmatched
        else:
            report.notes.append("Cursor: no ENGMETRICS_CURSOR_API_KEY, skipped (imports still work: `engmetrics import "
                                "ai-commits FILE`).")
        scope = (CopilotScope("org", s.copilot_org) if s.copilot_org
                 else CopilotScope("enterprise", s.copilot_enterprise) if s.copilot_enterprise else None)
        if scope is not None:
            async with GitHubClient(resolve_token(s), resolve_api_url(s), on_wait=on_wait,
                                    max_wait=s.github_max_wait_seconds) as gh:
                got = await sync_copilot(self.store, gh, scope, now=now)
                report.waited_seconds += gh.stats.waited_seconds
            report.copilot = CopilotSync(scope=got.scope, reports=got.reports, days_written=got.days_written,
                                         days_unchanged=got.days_unchanged, last_day=got.last_day, seats=got.seats)
            report.notes += got.notes
        else:
            report.notes.append("Copilot: no ENGMETRICS_COPILOT_ORG or ENGMETRICS_COPILOT_ENTERPRISE, skipped.")
        report.waited_seconds = round(report.waited_seconds, 1)
        return report


def _share_fields(facts: Sequence[CommitFacts]) -> ShareFigures:
    """The `ShareFigures` of ``facts``."""
    s = shares(facts)
    return ShareFigures(
        commits=s.commits, commits_with_tracking_data=s.commits_with_tracking_data, lines_added=s.lines_added,
        ai_lines_added=s.ai_lines_added, ai_share_of_lines_percent=s.ai_share_of_lines_percent,
        ai_assisted_commits=s.ai_assisted_commits, ai_assisted_commits_percent=s.ai_assisted_commits_percent,
    )
