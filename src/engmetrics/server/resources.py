"""MCP resources: changelog://latest, changelog://{entry_id}, scorecard://{name} (Markdown),
scorecard://{name}/json, report://{report_id}; with completion of template arguments (and of prompt
arguments such as repo, period, audience and format)."""

import logging
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ResourceError, ResourceNotFoundError
from mcp_types import Completion, CompletionArgument, CompletionContext, PromptReference, ResourceTemplateReference

from engmetrics.areas.reports.metrics.changelog import entry_markdown
from engmetrics.areas.reports.metrics.scorecard import scorecard_markdown
from engmetrics.areas.reports.models import ChangelogEntryQuery, ChangelogQuery, Report, ReportId, Scorecard, ScorecardQuery
from engmetrics.errors import EngmetricsError, NotFound
from engmetrics.periods import NAMED_PERIODS

from engmetrics.server.runtime import Runtime

log = logging.getLogger("engmetrics.server")
MAX_COMPLETIONS = 100


T = TypeVar("T")


async def _guard(coro: Awaitable[T]) -> T:
    """Run ``coro``; user errors become a `ResourceError` with their message (a `ResourceNotFoundError`, the
    spec's resource-not-found error, for a thing that does not exist), bugs a short one (logged)."""
    try:
        return await coro
    except NotFound as exc:
        raise ResourceNotFoundError(exc.message) from None
    except EngmetricsError as exc:
        raise ResourceError(exc.message) from None
    except ResourceError:
        raise
    except Exception:
        log.exception("resource read failed")
        raise ResourceError("engmetrics hit an internal error reading this resource; see the server log (stderr).") from None


def _filter(values: list[str], prefix: str) -> Completion:
    p = (prefix or "").lower()
    hits = [v for v in dict.fromkeys(values) if v.lower().startswith(p)]
    return Completion(values=hits[:MAX_COMPLETIONS], total=len(hits), has_more=len(hits) > MAX_COMPLETIONS)


def register_resources(mcp: MCPServer[Any], rt: Runtime) -> Callable[
    [PromptReference | ResourceTemplateReference, CompletionArgument, CompletionContext | None],
    Awaitable[Completion | None],
]:
    """Add the resources; the completion handler of their template arguments and of the prompts' arguments."""

    async def _entry(entry_id: str) -> str:
        await rt.ready()
        entry = await rt.engine.reports.get_changelog_entry(ChangelogEntryQuery(entry_id=entry_id))
        return entry_markdown(entry)

    @mcp.resource("changelog://latest", name="changelog-latest", title="Latest changelog entry",
                  description="What shipped in the newest week with changes, as Markdown (features, improvements, fixes…)",
                  mime_type="text/markdown")
    async def changelog_latest() -> str:
        return await _guard(_entry("latest"))

    @mcp.resource("changelog://{entry_id}", name="changelog-entry", title="Changelog entry",
                  description="One changelog entry as Markdown; ids like 'week-of-2025-02-10' or 'release-<repo>-<tag>' "
                  "(see get_changelog)", mime_type="text/markdown")
    async def changelog_entry(entry_id: str) -> str:
        return await _guard(_entry(entry_id))

    async def _scorecard_query(name: str) -> ScorecardQuery:
        """The scorecard of everything, of the team called ``name``, else of the repository ``name``."""
        if name in ("all", "*"):
            return ScorecardQuery()
        try:
            teams = {t.name for t in (await rt.engine.flow.list_teams()).teams}
        except EngmetricsError:  # an engine that cannot list teams (a remote vendor): a repository then
            teams = set()
        return ScorecardQuery(team=name) if name in teams else ScorecardQuery(repo=name)

    async def _scorecard(name: str) -> Scorecard:
        await rt.ready()
        return await rt.engine.reports.get_scorecard(await _scorecard_query(name))

    @mcp.resource("scorecard://{name}", name="scorecard", title="Scorecard (Markdown)",
                  description="Health scorecard of a repository, a team, or 'all' (last 30 days): signals green/amber/red "
                  "with trends", mime_type="text/markdown")
    async def scorecard_md(name: str) -> str:
        return scorecard_markdown(await _guard(_scorecard(name)))

    @mcp.resource("scorecard://{name}/json", name="scorecard-json", title="Scorecard (JSON)",
                  description="The same scorecard as JSON (the get_scorecard result)", mime_type="application/json")
    async def scorecard_json(name: str) -> str:
        card = await _guard(_scorecard(name))
        return card.model_dump_json(by_alias=True, indent=1)

    @mcp.resource("report://{report_id}", name="report", title="Generated report",
                  description="A report made by generate_report, in the format it was asked for", mime_type="text/plain")
    async def report(report_id: str) -> str:
        async def get() -> Report:
            await rt.ready()
            return await rt.engine.reports.get_report(ReportId(report_id=report_id))

        got = await _guard(get())
        if got.content is None:  # a remote provider still writing it
            return f"Report {got.id} is {got.status}: no content yet. Read it again in a little while."
        return got.content

    # ---- completion ----------------------------------------------------------------------------------

    async def _repo_names() -> list[str]:
        try:
            return [r.name for r in (await rt.engine.repos.list_repositories()).repositories]
        except Exception:
            return []

    async def _team_names() -> list[str]:
        try:
            return [t.name for t in (await rt.engine.flow.list_teams()).teams]  # the teams of the served repositories
        except Exception:
            return []

    async def _entry_ids() -> list[str]:
        ids = ["latest"]
        for group in ("week", "release"):
            try:
                page = await rt.engine.reports.get_changelog(ChangelogQuery(limit=20, group_by=group))
                ids += [e.id for e in page.entries]
            except Exception:
                pass
        return ids

    async def complete(ref: PromptReference | ResourceTemplateReference, argument: CompletionArgument,
                       context: CompletionContext | None) -> Completion | None:
        name, value = argument.name, argument.value or ""
        if isinstance(ref, ResourceTemplateReference):
            if ref.uri.startswith("changelog://"):
                return _filter(await _entry_ids(), value)
            if ref.uri.startswith("scorecard://"):
                return _filter(["all", *await _repo_names(), *await _team_names()], value)
            if ref.uri.startswith("report://"):
                try:
                    ids = await rt.engine.reports.report_ids()
                except EngmetricsError:  # a remote engine keeps no reports of its own
                    ids = []
                return _filter(ids, value)
            return None
        if isinstance(ref, PromptReference):
            options = {
                "repo": await _repo_names(),
                "team": await _team_names(),
                "period": list(NAMED_PERIODS),
                "audience": ["team", "leaders", "customers"],
                "format": ["markdown", "slack", "email", "html"],
            }
            if name in options:
                return _filter(options[name], value)
        return None

    _ = (changelog_latest, changelog_entry, scorecard_md, scorecard_json, report)
    return complete
