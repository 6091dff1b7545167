"""The activity area over the local store: the feed and contributor summaries."""

from __future__ import annotations

import difflib
from collections.abc import Mapping

from engmetrics.areas.activity import queries
from engmetrics.areas.activity.api import ActivityApi, FeedPart
from engmetrics.areas.context import AreaService, Context
from engmetrics.errors import NotFound
from engmetrics.areas.activity.models import ActivityFeed, ContributorSummary
from engmetrics.models import Period
from engmetrics.periods import iso, resolve_window
from engmetrics.areas.activity.models import ActivityQuery, ContributorQuery
from engmetrics.queries import decode_cursor


class ActivityService(AreaService, ActivityApi):
    """The feed's parts are given by the engine: the core ones and those of other areas (PR events)."""

    def __init__(self, ctx: Context, parts: Mapping[str, FeedPart]) -> None:
        super().__init__(ctx)
        self.parts = dict(parts)

    async def get_activity(self, q: ActivityQuery) -> ActivityFeed:
        window = resolve_window(q.period, q.from_, q.to)
        repo_ids = self.scope_repo_ids(q.repo, q.team)
        offset = decode_cursor(q.cursor)
        return await self.store.run(
            lambda: queries.activity_page(self.store.read(), self.parts, window, repo_ids, q.type, q.author, q.limit, offset)
        )

    async def get_contributor_summary(self, q: ContributorQuery) -> ContributorSummary:
        window = resolve_window(q.period, q.from_, q.to)
        repo_ids = self.scope_repo_ids(None)

        def work() -> ContributorSummary:
            conn = self.store.read()
            emails = queries.identity_emails(conn, q.contributor.strip().lower(), repo_ids)
            if not emails:
                close = difflib.get_close_matches(q.contributor, queries.known_identities(conn, repo_ids), n=3, cutoff=0.6)
                hint = f" Did you mean {', '.join(repr(c) for c in close)}?" if close else ""
                where = ("any synced repository" if self.ctx.served_ids is None
                         else f"the served repositories ({self.ctx.served_names()})")
                raise NotFound(
                    f"No commits by {q.contributor!r} in {where}.{hint} Pass an author email or name "
                    "exactly as it appears in git log.",
                    param="contributor",
                )
            f = queries.contributor_figures(conn, emails, window.start_ts, window.end_ts, repo_ids)
            merged, reviewed = queries.contributor_pr_counts(
                conn, self.ctx.directory, emails, window.start_ts, window.end_ts, repo_ids
            )
            return ContributorSummary(
                contributor=emails[0],
                names=f.names,
                emails=emails,
                period=window.label,
                period_window=Period.of(window),
                commits=f.commits,
                lines_added=f.lines_added,
                lines_removed=f.lines_removed,
                files_touched=f.files_touched,
                repos=f.repos,
                prs_merged=merged,
                prs_reviewed=reviewed,
                deploy_contributions=f.deploy_contributions,
                first_commit_at=iso(f.first_commit_at),
                last_commit_at=iso(f.last_commit_at),
            )

        return await self.store.run(work)
