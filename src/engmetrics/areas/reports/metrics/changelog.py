"""The changelog: what shipped, per ISO week or per release, classified by `classify` (pure: the commits come
from the area's queries, what a merge brought in from the DORA area).

- **Week entries** (default): commits whose committer time falls in the ISO week (Monday 00:00 UTC to the
  next Monday), id ``week-of-YYYY-MM-DD`` (the Monday), title "Week of Feb 10" (with the year when it is
  not the current one), ``published_at`` = the newest commit's committer time.
- **Release entries**: the changes each deployment shipped (`deployment_changes`, i.e. ``git rev-list
  prev..this``), id ``release-<repo>-<tag>`` (or the deployment's short sha without a tag), title the tag,
  ``published_at`` = the deployment time.
- A pull request merged with a merge commit is listed once, under its PR title (the merge commit's first
  body line after "Merge pull request #N …", or its subject "Title (#N)"), and the commits it brought in
  (reachable from the second parent, not the first) are not listed again. A squash merge (a one-parent
  commit whose subject ends ``(#N)``) is listed as that commit with its PR number.
- Categories come from the words and the files changed (`classify`, rule 5): the ``file_changes`` of each
  commit; a merged pull request stands for the files of the commits it brought in. A change that touched
  documentation only is docs, tests only is tests, CI or metadata only is other.
- Noise (merges, dependency bumps, release chores, translation syncs, bot commits) is counted in
  ``grouped`` and never listed. ``categories`` counts listed changes; ``breaking`` counts breaking
  changes, which also count in their own category.

Times are Unix seconds (UTC).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence, Set
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from engmetrics.areas.reports.metrics.classify import classify
from engmetrics.areas.reports.metrics.numbers import count
from engmetrics.areas.reports.models import CategoryCounts, ChangelogEntry, ChangelogItem, NoiseGroup
from engmetrics.models import Period
from engmetrics.periods import iso

MAX_ITEMS = 30
CATEGORY_ORDER = ("features", "improvements", "fixes", "security", "docs", "tests", "other")
WEEK_ID = re.compile(r"^week-of-(\d{4}-\d{2}-\d{2})$")

Key = tuple[str, str]
"""A commit across repositories: (repository name, sha)."""


@dataclass(frozen=True, slots=True)
class CommitRow:
    """A stored commit as the changelog needs it. Times are Unix seconds."""

    repo: str
    sha: str
    subject: str
    body: str
    author_name: str
    author_email: str
    committer_time: int
    parents: tuple[str, ...]
    paths: tuple[str, ...] | None = None  # the paths it changed (see `with_paths`); None: not loaded
    # The pull request its message names and the form naming it (`engmetrics.commits.pr_number`).
    pr: tuple[int, str] | None = None


@dataclass(frozen=True, slots=True)
class Release:
    """A successful production deployment as a changelog entry: ``prev_at`` is the time of the repository's
    previous one (None for its first). Times are Unix seconds."""

    id: str
    sha: str
    tag: str | None
    deployed_at: int
    repo: str
    prev_at: int | None


def week_start(ts: int) -> datetime:
    """The Monday 00:00 UTC that starts the ISO week containing Unix time ``ts``."""
    d = datetime.fromtimestamp(ts, UTC).date()
    monday = d - timedelta(days=d.weekday())
    return datetime(monday.year, monday.month, monday.day, tzinfo=UTC)


def week_starts(times: Iterable[int]) -> list[datetime]:
    """Starts of the ISO weeks holding any of ``times`` (Unix seconds), newest first."""
    return sorted({week_start(t) for t in times}, reverse=True)


def week_bounds(start: datetime) -> tuple[int, int]:
    """``[start, start + 7 days)`` of the week starting ``start``, in Unix seconds."""
    return int(start.timestamp()), int((start + timedelta(days=7)).timestamp())


def week_id(start: datetime) -> str:
    """``week-of-2025-02-10`` for the week starting ``start``."""
    return f"week-of-{start.date().isoformat()}"


def week_title(start: datetime, now: datetime | None = None) -> str:
    """"Week of Feb 10" (", 2024" appended when not the current year)."""
    now = now or datetime.now(UTC)
    title = f"Week of {start.strftime('%b')} {start.day}"
    return title if start.year == now.year else f"{title}, {start.year}"


def slug(text: str) -> str:
    """Lower-case, url-safe form of ``text`` (letters, digits, '.', '-')."""
    return re.sub(r"[^a-z0-9.]+", "-", text.lower()).strip("-") or "x"


def release_id(repo: str, tag: str | None, sha: str) -> str:
    """``release-<repo>-<tag>`` (or ``-<sha7>`` without a tag)."""
    return f"release-{slug(repo)}-{slug(tag) if tag else sha[:7]}"


def build_entry(
    entry_id: str,
    title: str,
    start_ts: int,
    end_ts: int,
    commits: Sequence[CommitRow],
    hidden: Set[Key] = frozenset(),
    published_ts: int | None = None,
) -> ChangelogEntry:
    """One entry from its commits: classify, group noise, count categories, list at most 30 items.

    ``hidden`` holds (repo, sha) of commits brought in by a listed PR merge (not listed again).
    """
    counts: Counter[str] = Counter()
    noise: Counter[str] = Counter()
    items: list[ChangelogItem] = []
    for c in commits:
        if (c.repo, c.sha) in hidden:
            continue
        is_merge = len(c.parents) > 1
        subject = c.subject
        number = None
        if c.pr is not None:
            number = c.pr[0]
            if c.pr[1] == "merge":  # "Merge pull request #N from …": the PR title is the body's first line
                first = next((line.strip() for line in c.body.splitlines() if line.strip()), "")
                subject, is_merge = (first or c.subject), False
            elif is_merge:  # a merge commit titled "PR title (#N)" (GitHub's merge button, edited title)
                is_merge = False
        result = classify(subject, c.body, author=f"{c.author_name} <{c.author_email}>", is_merge=is_merge,
                          paths=c.paths)
        if result.noise:
            noise[result.noise] += 1
            continue
        counts[result.category] += 1
        if result.breaking:
            counts["breaking"] += 1
        items.append(
            ChangelogItem(
                sha=c.sha[:12], title=result.title or subject, category=result.category,
                breaking=result.breaking, scope=result.scope, pr_number=number, author=c.author_name, repo=c.repo,
            )
        )
    items.sort(key=lambda i: (not i.breaking, CATEGORY_ORDER.index(i.category)))
    newest = max((c.committer_time for c in commits), default=end_ts)
    return ChangelogEntry(
        id=entry_id,
        title=title,
        url=f"/changelog/{entry_id}",
        published_at=iso(published_ts if published_ts is not None else newest) or "",
        period=Period(from_=iso(start_ts) or "", to=iso(end_ts) or "", label=entry_id),
        repos=sorted({c.repo for c in commits}),
        categories=CategoryCounts(**counts),
        items=items[:MAX_ITEMS],
        items_total=len(items),
        grouped=[NoiseGroup(kind=k, count=v) for k, v in sorted(noise.items())],
    )


def pr_merges(commits: Iterable[CommitRow]) -> list[CommitRow]:
    """The pull-request merge commits among ``commits``: two or more parents and a message naming a PR
    ("Merge pull request #N …" or "Title (#N)"); what each brought in is `git rev-list p1..p2`."""
    return [c for c in commits if len(c.parents) > 1 and c.pr is not None]


def with_paths(
    commits: Sequence[CommitRow], members: Mapping[Key, Sequence[str]], paths: Mapping[str, Mapping[str, Set[str]]]
) -> tuple[list[CommitRow], set[Key]]:
    """``commits`` with the paths each changed (a PR merge commit: those of the commits it brought in), and the
    (repo, sha) of the commits a PR merge among them stands for (not listed again): what `build_entry` takes.

    ``members``: for a PR merge (repo, sha), the shas it brought in; ``paths``: {repo: {sha: paths changed}}.
    """
    out = []
    hidden: set[Key] = set()
    for c in commits:
        known = paths.get(c.repo, {})
        mine = set(known.get(c.sha, ()))
        for sha in members.get((c.repo, c.sha), ()):
            mine |= known.get(sha, set())
            hidden.add((c.repo, sha))
        out.append(replace(c, paths=tuple(sorted(mine))))
    return out, hidden


def week_entry(start: datetime, commits: Sequence[CommitRow], hidden: Set[Key], now: datetime | None = None) -> ChangelogEntry:
    """The changelog entry for the ISO week starting ``start`` from its commits (`with_paths`)."""
    start_ts, end_ts = week_bounds(start)
    return build_entry(week_id(start), week_title(start, now), start_ts, end_ts, commits, hidden)


def release_entry(release: Release, commits: Sequence[CommitRow], hidden: Set[Key]) -> ChangelogEntry:
    """The changelog entry for one deployment from the commits it shipped (`with_paths`)."""
    title = release.tag or f"Deployment {release.sha[:7]}"
    start = release.prev_at if release.prev_at is not None else min(
        (c.committer_time for c in commits), default=release.deployed_at
    )
    return build_entry(
        release_id(release.repo, release.tag, release.sha), title, start, release.deployed_at + 1, commits, hidden,
        published_ts=release.deployed_at,
    )


_HEADINGS = {"features": "Features", "improvements": "Improvements", "fixes": "Fixes", "security": "Security",
             "docs": "Documentation", "tests": "Tests", "other": "Other"}
#: How a count of each category reads: count(n, noun) → "1 feature", "2 fixes", "1 breaking change".
COUNT_NOUNS = {"features": "feature", "improvements": "improvement", "fixes": "fix", "breaking": "breaking change",
               "security": "security change", "docs": "documentation change", "tests": "test change",
               "other": "other change"}
#: How a count of each group of unlisted changes reads: "1 bot commit", "2 merges", "3 dependency updates".
NOISE_NOUNS = {"merges": "merge", "dependencies": "dependency update", "release_chores": "release chore",
               "translations": "translation update", "bots": "bot commit"}


def category_counts_text(c: CategoryCounts) -> list[str]:
    """The non-zero counts of an entry, each pluralised: ['2 features', '1 fix', '1 test change']."""
    return [count(getattr(c, k), noun) for k, noun in COUNT_NOUNS.items() if getattr(c, k)]


def grouped_text(groups: Iterable[NoiseGroup]) -> str:
    """The unlisted changes as words: '1 bot commit, 2 merges'."""
    return ", ".join(count(g.count, NOISE_NOUNS[g.kind]) for g in groups)


def entry_markdown(entry: ChangelogEntry) -> str:
    """The entry as Markdown: title, date, counts, items under category headings, grouped noise."""
    counts = ", ".join(category_counts_text(entry.categories))
    repos = "repositories not given" if entry.repos is None else (", ".join(entry.repos) or "no repositories")
    lines = [f"# {entry.title}", "", f"Published {entry.published_at[:10]} · {repos}"
             f" · {counts or 'no listed changes'}", ""]
    breaking = [i for i in entry.items if i.breaking]
    if breaking:
        lines += ["## Breaking changes", ""] + [f"- {i.title}" for i in breaking] + [""]
    for cat in CATEGORY_ORDER:
        items = [i for i in entry.items if i.category == cat]
        if not items:
            continue
        lines += [f"## {_HEADINGS[cat]}", ""]
        for i in items:
            pr = f" (#{i.pr_number})" if i.pr_number else ""
            scope = f"**{i.scope}**: " if i.scope else ""
            lines.append(f"- {scope}{i.title}{pr} — {i.author or 'unknown'}, `{i.sha[:7]}`")
        lines.append("")
    if entry.items_total is not None and entry.items_total > len(entry.items):
        lines += [f"…and {count(entry.items_total - len(entry.items), 'more change')}.", ""]
    if entry.grouped:
        lines.append(f"Not listed: {grouped_text(entry.grouped)}.")
    return "\n".join(lines).rstrip() + "\n"
