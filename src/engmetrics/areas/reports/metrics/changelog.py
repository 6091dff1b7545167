"""The changelog: what shipped, per ISO week or per release, classified by `engmetrics.areas.reports.metrics.classify`.

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
- Categories come from the words and the files changed (`engmetrics.areas.reports.metrics.classify`, rule 5): the
  ``file_changes`` of each commit; a merged pull request stands for the files of the commits it brought in.
  A change that touched documentation only is docs, tests only is tests, CI or metadata only is other.
- Noise (merges, dependency bumps, release chores, translation syncs, bot commits) is counted in
  ``grouped`` and never listed. ``categories`` counts listed changes; ``breaking`` counts breaking
  changes, which also count in their own category.
"""

from __future__ import annotations

import re
import sqlite3
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from engmetrics.models import Period
from engmetrics.periods import iso
from engmetrics.areas.reports.metrics.classify import classify
from engmetrics.areas.reports.models import CategoryCounts, ChangelogEntry, ChangelogItem, NoiseGroup
from engmetrics.areas.reports.metrics.numbers import count
from engmetrics.sources.git_prs import pr_number
from engmetrics.store.db import repo_filter

MAX_ITEMS = 30
CATEGORY_ORDER = ("features", "improvements", "fixes", "security", "docs", "tests", "other")
WEEK_ID = re.compile(r"^week-of-(\d{4}-\d{2}-\d{2})$")


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
    paths: tuple[str, ...] | None = None  # the paths it changed (see `load_changes`); None: not loaded


def week_start(ts: int) -> datetime:
    """The Monday 00:00 UTC that starts the ISO week containing Unix time ``ts``."""
    d = datetime.fromtimestamp(ts, UTC).date()
    monday = d - timedelta(days=d.weekday())
    return datetime(monday.year, monday.month, monday.day, tzinfo=UTC)


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
    hidden: set[tuple[str, str]] = frozenset(),  # type: ignore[assignment]
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
        pr = pr_number(c.subject, c.body)
        is_merge = len(c.parents) > 1
        subject = c.subject
        number = None
        if pr is not None:
            number = pr[0]
            if pr[1] == "merge":  # "Merge pull request #N from …": the PR title is the body's first line
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
                sha=c.sha[:12], title=result.title or subject, category=result.category,  # type: ignore[arg-type]
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
        grouped=[NoiseGroup(kind=k, count=v) for k, v in sorted(noise.items())],  # type: ignore[arg-type]
    )


# ---- loading from the store ------------------------------------------------------------------------


def week_starts(conn: sqlite3.Connection, repo_ids: list[int] | None, since_ts: int | None) -> list[datetime]:
    """Starts of the ISO weeks that have commits (newest first)."""
    where, args = repo_filter(repo_ids, "c.repo_id")
    if since_ts is not None:
        where += " AND c.committer_time >= ?"
        args.append(since_ts)
    weeks = {week_start(r[0]) for r in conn.execute(f"SELECT c.committer_time FROM commits c WHERE 1=1{where}", args)}
    return sorted(weeks, reverse=True)


def load_commits(
    conn: sqlite3.Connection, repo_ids: list[int] | None, start_ts: int, end_ts: int
) -> list[CommitRow]:
    """Commits with committer time in ``[start_ts, end_ts)``, newest first."""
    where, args = repo_filter(repo_ids, "c.repo_id")
    rows = conn.execute(
        "SELECT r.name, c.sha, c.subject, c.body, c.author_name, c.author_email, c.committer_time, c.parents"
        f" FROM commits c JOIN repositories r ON r.id = c.repo_id WHERE c.committer_time >= ? AND c.committer_time < ?{where}"
        " ORDER BY c.committer_time DESC, c.sha",
        [start_ts, end_ts, *args],
    ).fetchall()
    return [CommitRow(r[0], r[1], r[2] or "", r[3] or "", r[4], r[5], r[6], tuple((r[7] or "").split())) for r in rows]


def pr_merge_members(conn: sqlite3.Connection, commits: Iterable[CommitRow]) -> dict[tuple[str, str], list[str]]:
    """For each pull-request merge commit among ``commits``, keyed (repo, sha): the shas it brought in
    (reachable from its second parent and not from its first)."""
    # A commit with two parents is a merge whatever its subject: "Merge pull request #N …" or "Title (#N)".
    merges = [c for c in commits if len(c.parents) > 1 and pr_number(c.subject, c.body) is not None]
    if not merges:
        return {}
    from engmetrics.areas.dora.queries import load_graph

    members: dict[tuple[str, str], list[str]] = {}
    graphs: dict[str, object] = {}
    for m in merges:
        if m.repo not in graphs:
            rid = conn.execute("SELECT id FROM repositories WHERE name = ?", (m.repo,)).fetchone()[0]
            graphs[m.repo] = load_graph(conn, rid)
        graph = graphs[m.repo]
        p1, p2 = graph.index.get(m.parents[0]), graph.index.get(m.parents[1])  # type: ignore[attr-defined]
        if p1 is None or p2 is None:
            continue
        only_branch, _ = graph.paint(p2, p1)  # type: ignore[attr-defined]
        members[(m.repo, m.sha)] = [graph.shas[i] for i in only_branch]  # type: ignore[attr-defined]
    return members


def changed_paths(conn: sqlite3.Connection, repo: str, shas: Iterable[str]) -> dict[str, set[str]]:
    """The paths (and renamed-from paths) each of ``shas`` changed in repository ``repo`` (stored ``file_changes``)."""
    wanted = sorted(set(shas))
    row = conn.execute("SELECT id FROM repositories WHERE name = ?", (repo,)).fetchone()
    out: dict[str, set[str]] = {}
    if row is None:
        return out
    for i in range(0, len(wanted), 500):
        chunk = wanted[i:i + 500]
        for sha, path, old in conn.execute(
            f"SELECT sha, path, old_path FROM file_changes WHERE repo_id = ? AND sha IN ({','.join('?' * len(chunk))})",
            (row[0], *chunk),
        ):
            out.setdefault(sha, set()).update(p for p in (path, old) if p)
    return out


def load_changes(conn: sqlite3.Connection, commits: Sequence[CommitRow]) -> tuple[list[CommitRow], set[tuple[str, str]]]:
    """``commits`` with the paths each changed (a PR merge commit: those of the commits it brought in), and the
    (repo, sha) of commits a listed PR merge stands for (not listed again): what `build_entry` takes."""
    members = pr_merge_members(conn, commits)
    by_repo: dict[str, set[str]] = {}
    for c in commits:
        by_repo.setdefault(c.repo, set()).add(c.sha)
    for (repo, _), shas in members.items():
        by_repo[repo].update(shas)
    paths = {repo: changed_paths(conn, repo, shas) for repo, shas in by_repo.items()}
    out = []
    for c in commits:
        mine = paths[c.repo].get(c.sha, set())
        for sha in members.get((c.repo, c.sha), ()):
            mine = mine | paths[c.repo].get(sha, set())
        out.append(replace(c, paths=tuple(sorted(mine))))
    hidden = {(repo, sha) for (repo, _), shas in members.items() for sha in shas}
    return out, hidden


def week_entry(conn: sqlite3.Connection, repo_ids: list[int] | None, start: datetime, now: datetime | None = None) -> ChangelogEntry:
    """The changelog entry for the ISO week starting ``start``."""
    start_ts = int(start.timestamp())
    end_ts = int((start + timedelta(days=7)).timestamp())
    commits, hidden = load_changes(conn, load_commits(conn, repo_ids, start_ts, end_ts))
    return build_entry(week_id(start), week_title(start, now), start_ts, end_ts, commits, hidden)


def release_rows(conn: sqlite3.Connection, repo_ids: list[int] | None, since_ts: int | None) -> list[sqlite3.Row]:
    """Successful production deployments (newest first) with repository name, tag and previous deployment time."""
    where, args = repo_filter(repo_ids, "d.repo_id")
    if since_ts is not None:
        where += " AND d.deployed_at >= ?"
        args.append(since_ts)
    return conn.execute(
        "SELECT d.id, d.sha, d.tag, d.deployed_at, r.name AS repo, (SELECT max(p.deployed_at) FROM deployments p"
        " WHERE p.repo_id = d.repo_id AND p.deployed_at < d.deployed_at AND p.status = 'success'"
        " AND p.environment IN ('production','prod')) AS prev_at FROM deployments d JOIN repositories r ON r.id = d.repo_id"
        f" WHERE d.status = 'success' AND d.environment IN ('production','prod'){where} ORDER BY d.deployed_at DESC, d.id",
        args,
    ).fetchall()


def release_entry(conn: sqlite3.Connection, row: sqlite3.Row) -> ChangelogEntry:
    """The changelog entry for one deployment: the commits it shipped."""
    rows = conn.execute(
        "SELECT r.name, c.sha, c.subject, c.body, c.author_name, c.author_email, c.committer_time, c.parents"
        " FROM deployment_changes dc JOIN deployments d ON d.id = dc.deployment_id JOIN commits c"
        " ON c.repo_id = d.repo_id AND c.sha = dc.sha JOIN repositories r ON r.id = d.repo_id"
        " WHERE dc.deployment_id = ? ORDER BY c.committer_time DESC, c.sha",
        (row["id"],),
    ).fetchall()
    commits, hidden = load_changes(
        conn, [CommitRow(r[0], r[1], r[2] or "", r[3] or "", r[4], r[5], r[6], tuple((r[7] or "").split())) for r in rows]
    )
    title = row["tag"] or f"Deployment {row['sha'][:7]}"
    start = row["prev_at"] if row["prev_at"] is not None else min((c.committer_time for c in commits), default=row["deployed_at"])
    return build_entry(
        release_id(row["repo"], row["tag"], row["sha"]), title, start, row["deployed_at"] + 1, commits, hidden,
        published_ts=row["deployed_at"],
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
    lines = [f"# {entry.title}", "", f"Published {entry.published_at[:10]} · {', '.join(entry.repos) or 'no repositories'}"
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
    if entry.items_total > len(entry.items):
        lines += [f"…and {count(entry.items_total - len(entry.items), 'more change')}.", ""]
    if entry.grouped:
        lines.append(f"Not listed: {grouped_text(entry.grouped)}.")
    return "\n".join(lines).rstrip() + "\n"
