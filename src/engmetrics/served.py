"""Which repositories a server (`engmetrics serve`, `engmetrics api`) answers for, decided once at start-up.

In order: the ``--repo`` paths; else ``ENGMETRICS_REPOS`` (or ``repos`` in engmetrics.toml); else, for
`serve`, the git work tree it was started in; else every repository already in the store. A server
started with repositories answers for those only (the engine enforces it: `LocalEngine.serve_only`),
even when its store holds others; one that serves the whole store says so on stderr and in its MCP
instructions, naming them.

This module is imported before the MCP handshake of `engmetrics serve`: it imports nothing heavy (no
engine, no SDK); the store's repository names are read only when the whole store is served.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from engmetrics.errors import DataError

if TYPE_CHECKING:  # settings (pydantic-settings) are not loaded before the handshake when --repo names the repositories
    from engmetrics.config import Settings

Origin = Literal["--repo", "ENGMETRICS_REPOS", "work tree", "store"]


@dataclass(frozen=True)
class ServedRepos:
    """What a server was asked to serve: repository paths (``PATH=NAME`` allowed), or none for the whole store."""

    paths: tuple[str, ...]
    origin: Origin

    @property
    def whole_store(self) -> bool:
        """Whether every repository in the store is served (no repository was named, no work tree)."""
        return not self.paths


def choose_served(settings: Settings | None, repos: list[str] | tuple[str, ...], *, work_tree: bool = True,
                  cwd: Path | None = None) -> ServedRepos:
    """The repositories to serve: ``repos`` (``--repo``), else ``settings.repos``, else (``work_tree``) the git
    work tree containing ``cwd`` (default: the current directory), else the whole store. ``settings`` may be
    None when ``repos`` is not empty (nothing else is read then)."""
    if repos:
        return ServedRepos(tuple(repos), "--repo")
    assert settings is not None, "settings are needed when no repository is named"
    if settings.repos:
        return ServedRepos(tuple(settings.repos), "ENGMETRICS_REPOS")
    if work_tree:
        from engmetrics.sources.git.repository import check_repository  # lazy: the git source loads only when no repo is named

        try:
            return ServedRepos((check_repository(str(cwd or Path.cwd())),), "work tree")
        except DataError:
            pass
    return ServedRepos((), "store")


def stored_names(db: Path) -> list[str]:
    """Names of the repositories in the store at ``db``, sorted (empty when there is no store yet)."""
    from engmetrics.store.repos import stored_repository_names  # lazy: only a whole-store server reads the store

    return stored_repository_names(db)


def whole_store_sentence(db: Path, names: list[str]) -> str:
    """'serving every repository in the store at PATH: a, b, c' as a sentence for people and agents."""
    listed = ", ".join(names) if names else "none yet (run `engmetrics sync --repo PATH` to add one)"
    return (
        f"This server answers for every repository in the store at {db}: {listed}. It was started with no --repo "
        "and not inside a git work tree; start it with --repo PATH (repeatable) to serve only those repositories."
    )


def served_sentence(served: ServedRepos, db: Path) -> str:
    """What a server serves, in one or two sentences (for its MCP instructions and stderr)."""
    if served.whole_store:
        return whole_store_sentence(db, stored_names(db))
    how = {"--repo": "given with --repo", "ENGMETRICS_REPOS": "listed in ENGMETRICS_REPOS",
           "work tree": "of the git work tree it was started in", "store": ""}[served.origin]
    paths = ", ".join(p for p in served.paths)
    one = len(served.paths) == 1
    return (
        f"This server answers only for the {'repository' if one else 'repositories'} {how}: {paths}. "
        f"Tools called without `repo` answer for {'it' if one else 'all of them together'}; other repositories "
        "in the store are not served."
    )
