"""A repository's checks and properties: is the path a git repository (and where is its top), which branch
is checked out and which is the default, is it a partial or a shallow clone."""

from __future__ import annotations

import os
from pathlib import Path

from engmetrics.errors import DataError
from engmetrics.sources.git.refs import Ref, read_refs
from engmetrics.sources.git.run import decode_text, git_error, run_git
from engmetrics.validation import path_exists, path_is


def check_repository(path: str) -> str:
    """The absolute top-level path of the work tree (or of the bare repository) containing ``path``.

    Raises `DataError` saying what to do when the path does not exist, git is missing, or it is not a
    git repository.
    """
    p = Path(path).expanduser()
    if not path_exists(p):
        raise DataError(f"The path {str(p)!r} does not exist. Give the path of a git repository (a clone).", param="repo")
    if not path_is(p, "dir"):
        raise DataError(f"The path {str(p)!r} is a file, not a folder. Give the folder of a git repository.", param="repo")
    try:
        proc = run_git(str(p), "rev-parse", "--is-bare-repository", "--absolute-git-dir")
    except FileNotFoundError:
        raise DataError("The `git` command was not found. Install git and make sure it is on PATH.") from None
    if proc.returncode != 0:
        reason = git_error(proc.stderr)
        if "dubious ownership" in reason or "safe.directory" in decode_text(proc.stderr):
            raise DataError(
                f"git refuses to read {str(p.resolve())!r} because another user owns it. Run "
                f"`git config --global --add safe.directory {p.resolve()}` and retry.",
                param="repo",
            )
        raise DataError(
            f"{str(p.resolve())!r} is not a git repository ({reason}). Give the folder of a clone "
            "(where `git status` works), or clone the repository first.",
            param="repo",
        )
    bare, git_dir = decode_text(proc.stdout).splitlines()[:2]
    if bare.strip() == "true":
        return str(Path(git_dir.strip()).resolve())
    top = run_git(str(p), "rev-parse", "--show-toplevel")
    if top.returncode != 0 or not top.stdout.strip():
        # Inside the .git folder of a non-bare repository: its work tree is the parent.
        return str(Path(git_dir.strip()).resolve().parent)
    return str(Path(decode_text(top.stdout).strip()).resolve())


def current_branch(path: str) -> str | None:
    """The checked-out branch's short name (also for an unborn branch); None when HEAD is detached."""
    proc = run_git(path, "symbolic-ref", "-q", "--short", "HEAD")
    name = decode_text(proc.stdout).strip()
    return name if proc.returncode == 0 and name else None


def default_branch(path: str) -> str | None:
    """origin/HEAD's branch, else the first of main/master/trunk that exists, else the current branch."""
    return default_branch_of(read_refs(path), path)


def default_branch_of(refs: list[Ref], path: str) -> str | None:
    """`default_branch` from refs already read."""
    by_name = {r.name: r for r in refs}
    origin_head = by_name.get("refs/remotes/origin/HEAD")
    if origin_head is not None and origin_head.symref.startswith("refs/remotes/origin/"):
        return origin_head.symref.removeprefix("refs/remotes/origin/")
    for name in ("main", "master", "trunk"):
        if f"refs/heads/{name}" in by_name or f"refs/remotes/origin/{name}" in by_name:
            return name
    return current_branch(path)


def is_partial_clone(path: str) -> bool:
    """Whether the repository is a partial clone (objects fetched on demand from a promisor remote)."""
    proc = run_git(path, "config", "--get-regexp", r"^(extensions\.partialclone|remote\..*\.promisor|remote\..*\.partialclonefilter)$")
    for line in decode_text(proc.stdout).splitlines():
        key, _, value = line.partition(" ")
        if key.endswith(".promisor") and value.strip().lower() not in ("true", "yes", "on", "1"):
            continue
        return True
    return False


def shallow_boundary(path: str) -> frozenset[str]:
    """The commits a shallow clone's history stops at (their parents are not in the repository); empty if
    it is not shallow."""
    proc = run_git(path, "rev-parse", "--git-path", "shallow")
    name = decode_text(proc.stdout).strip()
    if proc.returncode != 0 or not name:
        return frozenset()
    p = Path(name) if os.path.isabs(name) else Path(path) / name
    try:
        return frozenset(p.read_text(errors="replace").split())
    except OSError:
        return frozenset()
