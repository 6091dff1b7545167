"""Repository registry queries: add, find by name or path, list."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path

from engmetrics.errors import NotFound
from engmetrics.teams import Directory, identities_of
from engmetrics.store.connection import Connection, Row


@dataclass(frozen=True, slots=True)
class RepoRow:
    """A repository row."""

    id: int
    name: str
    path: str
    default_branch: str | None
    last_synced_at: int | None


def _row(r: Row) -> RepoRow:
    return RepoRow(r["id"], r["name"], r["path"], r["default_branch"], r["last_synced_at"])


def add_repository(conn: Connection, path: str | Path, name: str | None = None) -> RepoRow:
    """Register a repository by its absolute path (idempotent); name defaults to the folder's name.

    A second repository whose folder name is taken gets ``name-2`` etc. unless ``name`` is given.
    """
    p = str(Path(path).resolve())
    existing = conn.execute("SELECT * FROM repositories WHERE path = ?", (p,)).fetchone()
    if existing:
        if name and existing["name"] != name:
            conn.execute("UPDATE repositories SET name = ? WHERE id = ?", (name, existing["id"]))
            existing = conn.execute("SELECT * FROM repositories WHERE id = ?", (existing["id"],)).fetchone()
        return _row(existing)
    base = name or Path(p).name or "repo"
    candidate, n = base, 1
    while conn.execute("SELECT 1 FROM repositories WHERE name = ?", (candidate,)).fetchone():
        if name:
            raise ValueError(f"a repository named {name!r} already exists at another path")
        n += 1
        candidate = f"{base}-{n}"
    cur = conn.execute(
        "INSERT INTO repositories(name, path, added_at) VALUES (?, ?, ?)", (candidate, p, int(time.time()))
    )
    assert cur.lastrowid is not None  # an INSERT always sets it
    return RepoRow(cur.lastrowid, candidate, p, None, None)


def list_repositories(conn: Connection) -> list[RepoRow]:
    """All repositories, by name."""
    return [_row(r) for r in conn.execute("SELECT * FROM repositories ORDER BY name")]


def repository_by_id(conn: Connection, repo_id: int) -> RepoRow | None:
    """The repository with this id, or None."""
    row = conn.execute("SELECT * FROM repositories WHERE id = ?", (repo_id,)).fetchone()
    return None if row is None else _row(row)


def find_repository(conn: Connection, name_or_path: str, among: Collection[int] | None = None) -> RepoRow:
    """The repository with this name or path, among the ids ``among`` (None: all); `NotFound` naming the
    known ones otherwise.

    Tried in order: the exact name, the path (as given or resolved), the name ignoring case or after an
    ``owner/`` prefix (the shortest such name).
    """
    only, args = ("", []) if among is None else (f" AND id IN ({','.join('?' * len(among))})", sorted(among))
    r = conn.execute(f"SELECT * FROM repositories WHERE name = ?{only}", (name_or_path, *args)).fetchone()
    if r is None:
        try:
            resolved = str(Path(name_or_path).expanduser().resolve())
        except (OSError, RuntimeError):
            resolved = name_or_path
        r = conn.execute(
            f"SELECT * FROM repositories WHERE (path = ? OR path = ?){only}", (name_or_path, resolved, *args)
        ).fetchone()
    if r is None:
        r = conn.execute(
            f"SELECT * FROM repositories WHERE (lower(name) = lower(?) OR name LIKE ?){only} ORDER BY length(name) LIMIT 2",
            (name_or_path, f"%/{name_or_path}", *args),
        ).fetchone()
    if r is None:
        known = [row.name for row in list_repositories(conn) if among is None or row.id in among]
        shown = name_or_path if len(name_or_path) <= 80 else name_or_path[:79] + "…"
        hint = (f"Known repositories: {', '.join(known)}. Call list_repositories to see them." if known
                else "No repository is synced yet: run `engmetrics sync --repo PATH`.")
        raise NotFound(f"Unknown repository {shown!r}. {hint}", param="repo")
    return _row(r)


def team_repo_ids(conn: Connection, directory: Directory, team: str) -> list[int]:
    """Repository ids of a team in the whole store: its listed repos, else the repositories its people
    committed to or opened pull requests in. (The engine narrows them to the repositories it serves.)"""
    t = directory.team(team)
    if t.repos:
        return sorted({find_repository(conn, r).id for r in t.repos})
    emails = sorted(identities_of(directory, directory.members(t)))
    marks = ",".join("?" * len(emails))
    ids = {r[0] for r in conn.execute(f"SELECT DISTINCT repo_id FROM commits WHERE lower(author_email) IN ({marks})", emails)}
    ids |= {r[0] for r in conn.execute(f"SELECT DISTINCT repo_id FROM pull_requests WHERE lower(author) IN ({marks})", emails)}
    return sorted(ids)


def stored_repository_names(db: Path) -> list[str]:
    """Names of the repositories in the store file at ``db``, sorted, read-only (nothing migrated or written).

    Empty when there is no store there yet, or it cannot be read (not migrated yet, locked, not a store): the
    engine says what is wrong when it opens it.
    """
    if not Path(db).is_file():
        return []
    try:
        conn = sqlite3.connect(f"file:{Path(db).resolve()}?mode=ro", uri=True, timeout=5)
        try:
            return [r[0] for r in conn.execute("SELECT name FROM repositories ORDER BY name")]
        finally:
            conn.close()
    except sqlite3.Error:
        return []
