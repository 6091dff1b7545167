"""The flow area's part of a repository's sync: pull requests from GitHub (when configured), then from git."""

from __future__ import annotations

import logging
import subprocess

import anyio
import anyio.from_thread

from engmetrics.areas.context import Context, ProgressFn
from engmetrics.areas.repos.api import StepOutcome
from engmetrics.config import Settings
from engmetrics.errors import EngmetricsError
from engmetrics.sources.github import GitHubClient, parse_slug, resolve_api_url, resolve_token, sync_github_repo
from engmetrics.sources.prs import rebuild_from_git
from engmetrics.store.repos import RepoRow

log = logging.getLogger(__name__)


def github_slug_for(settings: Settings, name: str, path: str) -> str | None:
    """The configured GitHub 'owner/name' for a stored repository: an explicit '=name', the same name, or origin."""
    entries = [parse_slug(e) for e in (settings.github_repos or [])]
    if not entries:
        return None
    for slug, local in entries:
        if local is not None and local == name:
            return slug
    for slug, local in entries:
        if local is None and slug.split("/", 1)[1].lower() == name.lower():
            return slug
    try:
        origin = subprocess.run(
            ["git", "-C", path, "config", "--get", "remote.origin.url"], capture_output=True, text=True, check=False, timeout=10
        ).stdout.strip().lower().removesuffix(".git")
    except (OSError, subprocess.SubprocessError):
        return None
    for slug, local in entries:
        if local is None and origin.endswith(slug.lower()) and origin[: -len(slug)][-1:] in ("/", ":"):
            return slug
    return None


def sync_pull_requests(ctx: Context, row: RepoRow, progress: ProgressFn | None = None) -> StepOutcome:
    """The sync step for one repository (runs in a worker thread): GitHub when configured, then git-only PRs.

    Fills ``pull_requests`` (written). GitHub's failures become notes ("GitHub owner/name: …", each with
    GitHub's message and what to do; `sync_github_repo` syncs each part on its own), and so does any
    unexpected error; the git sync stands either way.
    """
    notes: list[str] = []
    count = 0
    slug = github_slug_for(ctx.settings, row.name, row.path)
    if slug is not None:
        token = resolve_token(ctx.settings)
        if token is None:
            notes.append(f"GitHub {slug}: no token (set GITHUB_TOKEN or ENGMETRICS_GITHUB_TOKEN); PRs read from git only")
        else:

            async def report(message: str, left: float | None = None) -> None:
                if progress is not None:
                    await progress(0, None, message if left is None else f"{message} ({left:.0f} s left)")

            async def go() -> tuple[int, list[str]]:
                async with GitHubClient(
                    token, resolve_api_url(ctx.settings), on_wait=report,
                    max_wait=float(ctx.settings.github_max_wait_seconds),
                ) as client:
                    res = await sync_github_repo(
                        ctx.store, client, row.id, row.name, slug,
                        incident_label=ctx.settings.incident_label, progress=report,
                    )
                    log.info("GitHub %s: %d requests (%d conditional, %d not modified)", slug, client.stats.requests,
                             client.stats.conditional, client.stats.not_modified)
                    return res.pull_requests, res.notes

            try:
                try:
                    written, github_notes = anyio.from_thread.run(go)
                except RuntimeError as exc:
                    if "worker thread" not in str(exc).lower() and "event loop" not in str(exc).lower():
                        raise
                    written, github_notes = anyio.run(go)
                count += written
                notes += [f"GitHub {slug}: {note}" for note in github_notes]
            except Exception as exc:  # noqa: BLE001 — one line in the report; the git sync still stands
                leaf: BaseException = exc
                while isinstance(leaf, BaseExceptionGroup) and leaf.exceptions:
                    leaf = leaf.exceptions[0]
                if isinstance(leaf, EngmetricsError):
                    notes.append(f"GitHub {slug}: {leaf.message}")
                else:  # a bug: logged in full
                    log.error("GitHub sync of %s failed", slug, exc_info=leaf)
                    notes.append(f"GitHub {slug}: failed unexpectedly ({type(leaf).__name__}: {str(leaf)[:200]}); "
                                 "the log has the details")
    count += rebuild_from_git(ctx.store, row.id)
    return StepOutcome({"pull_requests": count}, notes)
