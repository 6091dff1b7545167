"""The one context every area service of a local engine works over: settings, store, served scope, teams.

A server started for some repositories (`serve --repo`, ENGMETRICS_REPOS, the work tree it started in,
`api --repo`) answers for those only, however many its store holds. The scope lives here and every
operation goes through it: `resolve_repo` finds served repositories only (NotFound naming them),
`scope_repo_ids` defaults to them and narrows teams to them, and a question without ``repo`` is about the
one served repository when there is one (`with_served_default`, applied to every operation by the engine).
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Iterable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import anyio.to_thread
from anyio.abc import TaskGroup
from pydantic import BaseModel

from engmetrics.config import Settings
from engmetrics.errors import NotFound
from engmetrics.served import whole_store_sentence
from engmetrics.store.db import Store
from engmetrics.store.repos import RepoRow, find_repository, list_repositories, team_repo_ids
from engmetrics.teams import Directory, load_directory

T = TypeVar("T")
Q = TypeVar("Q", bound=BaseModel)


@dataclass
class Context:
    """Settings, the store and the served scope, shared by the area services of one local engine."""

    settings: Settings
    store: Store
    served_ids: frozenset[int] | None = None  # None: every repository in the store (see serve_only)
    _directory: Directory | None = field(default=None, repr=False)
    task_group: TaskGroup | None = field(default=None, repr=False)
    """Where background work runs (webhook deliveries, backfills) while a server is up; None in one-shot commands."""

    def spawn(self, fn: Callable[[], Coroutine[Any, Any, None]]) -> bool:
        """Start ``fn()`` in the background task group; False (nothing started) when there is none."""
        if self.task_group is None:
            return False
        self.task_group.start_soon(fn)
        return True

    async def run(self, fn: Callable[..., T], *args: object) -> T:
        """Run blocking ``fn(*args)`` (store reads, git) in a worker thread and return its result."""
        return await anyio.to_thread.run_sync(fn, *args)

    # ---- teams ------------------------------------------------------------------------------------

    @property
    def directory(self) -> Directory:
        """Teams and people configured in the settings (engmetrics.toml)."""
        if self._directory is None:
            self._directory = load_directory(self.settings.teams or {}, self.settings.people or {})
        return self._directory

    # ---- the served repositories -----------------------------------------------------------------

    def serve_only(self, rows: Iterable[RepoRow]) -> None:
        """Answer for these repositories only (registered rows); every repository of the store otherwise."""
        self.served_ids = frozenset(r.id for r in rows)

    def served_repositories(self) -> list[RepoRow]:
        """The repositories this engine answers for, by name: the served ones, or every one in the store."""
        rows = list_repositories(self.store.read())
        return rows if self.served_ids is None else [r for r in rows if r.id in self.served_ids]

    def served_names(self) -> str:
        """The served repositories' names, comma-separated ("none" when there are none)."""
        return ", ".join(r.name for r in self.served_repositories()) or "none"

    def scope_sentence(self) -> str:
        """What this engine answers for, in a sentence (for instructions and error messages)."""
        rows = self.served_repositories()
        if self.served_ids is None:
            return whole_store_sentence(self.settings.db, [r.name for r in rows])
        named = ", ".join(f"{r.name} ({r.path})" for r in rows)
        one = len(rows) == 1
        return (
            f"This server answers only for {named}. Tools called without `repo` answer for "
            f"{'it' if one else 'all of them together'}; other repositories in the store are not served."
        )

    def with_served_default(self, q: Q) -> Q:
        """``q`` with ``repo`` set to the one served repository when it names neither a repository nor a team."""
        if self.served_ids is None or len(self.served_ids) != 1:
            return q
        if "repo" not in type(q).model_fields or getattr(q, "repo", None) or getattr(q, "team", None):
            return q
        rows = self.served_repositories()
        return q.model_copy(update={"repo": rows[0].name}) if rows else q

    def resolve_repo(self, name_or_path: str) -> RepoRow:
        """The served repository with this name or path (`NotFound` naming the served ones)."""
        conn = self.store.read()
        if self.served_ids is None:
            return find_repository(conn, name_or_path)
        try:
            return find_repository(conn, name_or_path, among=self.served_ids)
        except NotFound:
            raise NotFound(
                f"Repository {name_or_path!r} is not served here: this server answers only for {self.served_names()} "
                "(the repositories it was started with). Omit `repo`, or pass one of those; to ask about another "
                "repository, start engmetrics with --repo for it too.",
                param="repo",
            ) from None

    def scope_repo_ids(self, repo: str | None, team: str | None = None) -> list[int] | None:
        """Repository ids a question covers: one repository, a team's (its served ones), or every served one
        (None when every repository of the store is served)."""
        if team:
            ids = team_repo_ids(self.store.read(), self.directory, team)
            if self.served_ids is not None:
                ids = [i for i in ids if i in self.served_ids]
                if not ids:
                    raise NotFound(
                        f"Team {team!r} has no repository served here: this server answers only for "
                        f"{self.served_names()}. Ask about one of those, or start engmetrics with --repo for the "
                        "team's repositories.",
                        param="team",
                    )
            return ids
        if repo:
            return [self.resolve_repo(repo).id]
        return None if self.served_ids is None else sorted(self.served_ids)


ProgressFn = Callable[[float, float | None, str | None], Coroutine[Any, Any, None]]
"""Progress callback of long work: (done, total or None, message)."""


class AreaService:
    """Base of a local area service: the shared `Context`, with shortcuts to what services use most."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    @property
    def store(self) -> Store:
        """The engine's store."""
        return self.ctx.store

    @property
    def settings(self) -> Settings:
        """The engine's settings."""
        return self.ctx.settings

    def resolve_repo(self, name_or_path: str) -> RepoRow:
        """`Context.resolve_repo`."""
        return self.ctx.resolve_repo(name_or_path)

    def scope_repo_ids(self, repo: str | None, team: str | None = None) -> list[int] | None:
        """`Context.scope_repo_ids`."""
        return self.ctx.scope_repo_ids(repo, team)

    def served_repositories(self) -> list[RepoRow]:
        """`Context.served_repositories`."""
        return self.ctx.served_repositories()
