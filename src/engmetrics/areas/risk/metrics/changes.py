"""What a change is: its files and lines (`FileDelta`, `Change`, several commits `combine`d into one), what it
adds by file type (`AddedLines`), and the facts read off it alone: AI assistance, sensitive paths, whether it
touches a product file, whether a bot made it. Lines are counts of lines; times are Unix seconds.

- **AI-assisted**: AI-marked by `engmetrics.ai_markers` (a co-author trailer such as ``Co-authored-by: Claude
  <noreply@anthropic.com>``, ``Made-with: Cursor``, a "Generated with Claude Code" line, an AI author such as
  Copilot); its changed lines are all AI-assisted lines.
- **Sensitive paths**: migrations, dependency manifests and lock files, CI configuration (as
  `engmetrics.filekinds` classifies it), infrastructure, auth/security code.
- **Product change**: touches at least one file other than documentation, tests, CI configuration or repository
  metadata (`engmetrics.filekinds.is_product`).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from engmetrics.ai_markers import markers_for
from engmetrics.bots import is_bot
from engmetrics.filekinds import is_product, is_source, kind_of

SENSITIVE: dict[str, re.Pattern[str]] = {
    "migrations": re.compile(r"(^|/)(migrations?|migrate|alembic|flyway|liquibase)/|\.sql$", re.I),
    "dependencies": re.compile(
        r"(^|/)(package(-lock)?\.json|yarn\.lock|pnpm-lock\.yaml|requirements[^/]*\.(txt|in)|pyproject\.toml|"
        r"poetry\.lock|uv\.lock|Pipfile(\.lock)?|setup\.(py|cfg)|go\.(mod|sum)|Cargo\.(toml|lock)|"
        r"Gemfile(\.lock)?|pom\.xml|build\.gradle(\.kts)?|composer\.(json|lock))$",
        re.I,
    ),
    "infrastructure": re.compile(
        r"(^|/)Dockerfile[^/]*$|(^|/)docker-compose[^/]*$|\.tf$|\.tfvars$|(^|/)(terraform|k8s|kubernetes|helm|"
        r"charts|ansible|infra|deploy)/",
        re.I,
    ),
    "auth/security": re.compile(r"(auth|security|crypto|permission|password|secret|token|oauth|login|session|acl)", re.I),
}
@dataclass(slots=True)
class FileDelta:
    """One file of a change: its path (and old path for a rename), lines added/deleted (None: binary)."""

    path: str
    old_path: str | None
    added: int | None
    deleted: int | None

    @property
    def lines(self) -> int:
        """Lines changed (added + deleted); 0 for binary files."""
        return (self.added or 0) + (self.deleted or 0)


@dataclass
class Change:
    """A change: one commit, or several commits scored as one. ``time`` is Unix seconds (committer time)."""

    sha: str
    author_email: str
    author_name: str
    time: int
    message: str
    files: list[FileDelta]
    ai_lines: int = 0  # changed lines that come from AI-assisted commits
    shas: list[str] = field(default_factory=list)  # the commits in it (one for a commit)
    sloc_added: int | None = None  # source lines added (see `engmetrics.areas.risk.source_lines`); None: unknown

    @property
    def lines_added(self) -> int:
        """Lines added over its files (binary files count 0)."""
        return sum(f.added or 0 for f in self.files)

    @property
    def source_lines_added(self) -> int:
        """Source lines added; when they are not known, lines added to source files (by `engmetrics.filekinds`)."""
        if self.sloc_added is not None:
            return self.sloc_added
        return sum(f.added or 0 for f in self.files if is_source(f.path))


def is_ai_assisted(message: str, trailers: Sequence[Sequence[str]] = (), author: str = "") -> bool:
    """Whether a commit says it was made with an AI assistant: AI co-author trailers, "Generated with …" lines or an
    AI author, by the one rule of `engmetrics.ai_markers` (its default list of tools)."""
    return markers_for().is_marked(message, trailers, author)


def make_change(
    sha: str, author_email: str, author_name: str, time: int, message: str, trailers: Sequence[Sequence[str]],
    files: list[FileDelta], sloc_added: int | None = None,
) -> Change:
    """A `Change` for one commit (its AI-assisted lines found from the message and trailers).

    ``sloc_added``: its source lines added, if known (negative = unknown).
    """
    lines = sum(f.lines for f in files)
    ai = is_ai_assisted(message, trailers, f"{author_name} {author_email}")
    known = sloc_added if sloc_added is not None and sloc_added >= 0 else None
    return Change(sha, author_email.lower(), author_name, time, message, files, lines if ai else 0, [sha], known)


def combine(changes: Sequence[Change]) -> Change:
    """Several commits as one change: files merged (lines summed, renames followed), the author with the
    most changed lines, the earliest time, all messages."""
    if len(changes) == 1:
        return changes[0]
    files: dict[str, FileDelta] = {}
    by_author: dict[str, int] = {}
    names: dict[str, str] = {}
    for ch in sorted(changes, key=lambda c: c.time):
        for f in ch.files:
            prev = files.pop(f.old_path, None) if f.old_path else None
            prev = prev or files.pop(f.path, None)
            if prev is None:
                files[f.path] = FileDelta(f.path, f.old_path, f.added, f.deleted)
            else:
                add = None if prev.added is None and f.added is None else (prev.added or 0) + (f.added or 0)
                dele = None if prev.deleted is None and f.deleted is None else (prev.deleted or 0) + (f.deleted or 0)
                files[f.path] = FileDelta(f.path, prev.old_path or f.old_path, add, dele)
        lines = sum(f.lines for f in ch.files)
        by_author[ch.author_email] = by_author.get(ch.author_email, 0) + lines + 1
        names[ch.author_email] = ch.author_name
    author = max(by_author, key=lambda a: by_author[a])
    first = min(changes, key=lambda c: c.time)
    return Change(
        sha=first.sha,
        author_email=author,
        author_name=names[author],
        time=first.time,
        message="\n\n".join(c.message for c in changes),
        files=list(files.values()),
        ai_lines=sum(c.ai_lines for c in changes),
        shas=[s for c in changes for s in c.shas],
        sloc_added=sum(c.source_lines_added for c in changes),
    )


@dataclass
class AddedLines:
    """What one commit (or several) adds: source lines, and every file type's non-blank added lines.

    ``by_type`` maps (file kind, file type) — e.g. ("source", "Python"), ("docs", "Markdown") — to
    [lines, files]; for source files the lines are source lines (no comment-only lines).
    """

    source: int = 0
    by_type: dict[tuple[str, str], list[int]] = field(default_factory=dict)

    def add(self, other: AddedLines) -> None:
        """Add another commit's lines to these."""
        self.source += other.source
        for key, (lines, files) in other.by_type.items():
            got = self.by_type.setdefault(key, [0, 0])
            got[0] += lines
            got[1] += files


def subsystem(path: str) -> str:
    """The first path segment ('.' for a file at the root)."""
    head, sep, _ = path.partition("/")
    return head if sep else "."


def directory(path: str) -> str:
    """The parent folder ('' for the root)."""
    return path.rpartition("/")[0]


@functools.lru_cache(maxsize=65536)
def sensitive_kinds(path: str) -> tuple[str, ...]:
    """The sensitive-path categories a path falls in (CI configuration as `engmetrics.filekinds` says)."""
    ci = ("ci",) if kind_of(path) == "ci" else ()
    return ci + tuple(k for k, rx in SENSITIVE.items() if rx.search(path))


def is_product_change(ch: Change) -> bool:
    """Whether the change touches a product file (not only documentation, tests, CI configuration or repository
    metadata: `engmetrics.filekinds.is_product`). Only such a change can be labelled bug-inducing: SZZ blames
    lines of source files, and a revert marks the reverted change only when it changed the product."""
    return any(is_product(f.path) for f in ch.files)


def is_bot_change(ch: Change) -> bool:
    """Whether a bot (Dependabot, Renovate, pre-commit.ci, GitHub Actions…) authored the change."""
    return is_bot(ch.author_name) or is_bot(ch.author_email)
