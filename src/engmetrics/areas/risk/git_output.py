"""Reading what git prints for change risk: the paths of a diff's sides, comment-only lines, git's error message
in one line, and whether it says objects are missing (a partial, shallow or damaged clone). `GitFailed` is the
error a labeller raises when git exits with an error; nothing is ever guessed from a failed git run."""

from __future__ import annotations

import re
import subprocess

from engmetrics.sources.git.run import decode_text

# A line whose text starts like a comment (#, //, /*, *, --, ;, %, <!--, docstring quotes): never a bug to blame.
COMMENT_LINE = re.compile(rb"^\s*(#|//|/\*|\*|--|;|%|<!--|\"\"\"|''')")
# What git says when an object it needs is not in the repository (a partial, shallow or damaged clone).
_MISSING = re.compile(
    r"unable to read|could not read|bad object|missing (blob|tree|commit|object)|invalid object|not a valid object|"
    r"is corrupt|object file .* is empty|bad tree object|did not receive expected object|promisor remote|"
    r"unknown revision|bad revision|not a valid commit|needed a single revision",
    re.I,
)


def is_missing_objects(message: str) -> bool:
    """Whether git's error message says an object it needed is missing or corrupt."""
    return bool(_MISSING.search(message))


def git_says(stderr: bytes | str) -> str:
    """git's error output in one line: its lines joined with '; ', hints and warnings left out."""
    text = decode_text(stderr) if isinstance(stderr, bytes) else stderr
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    kept = [ln for ln in lines if not ln.startswith(("hint:", "warning:"))] or lines
    return "; ".join(kept)


class GitFailed(Exception):
    """git exited with an error while labelling; ``missing`` when it said objects are missing or corrupt."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message.strip()[:300] or "git failed and said nothing"
        self.missing = is_missing_objects(message)


def check_exit(proc: subprocess.CompletedProcess[bytes], what: str) -> None:
    """Raise `GitFailed` when ``proc`` (git ``what``) did not exit with 0."""
    if proc.returncode != 0:
        raise GitFailed(f"git {what} exited with {proc.returncode}: {git_says(proc.stderr)}")


def unquote_path(name: bytes) -> str:
    """A path as git prints it in a diff (C-quoted when it holds special characters), as text."""
    if name.startswith(b'"') and name.endswith(b'"'):
        name = name[1:-1].decode("unicode_escape").encode("latin-1")
    return decode_text(name)


def side_path(name: bytes) -> str | None:
    """The path of a diff's ``--- a/x`` / ``+++ b/x`` name (None for /dev/null; quoted names unquoted)."""
    if name == b"/dev/null":
        return None
    text = unquote_path(name)
    return text[2:] if text[:2] in ("a/", "b/") else text
