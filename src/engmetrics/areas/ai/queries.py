"""Every SQL statement of the AI-impact area: a window's commits, their tracking data, and what became of them (SZZ
labels of change risk, reverts, deployments, pull-request review times); Copilot days and seats; accepted changes.

Reads take a connection (``store.read()``). They return typed records (`CommitRow`, `Tracking`, the area's
metrics' `CopilotDayTotals`). Times are Unix seconds; the SQL is portable (``?`` placeholders, standard functions).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from engmetrics.areas.ai.metrics.copilot import CopilotDayTotals
from engmetrics.commits import reverted_shas
from engmetrics.filekinds import is_product
from engmetrics.store.db import repo_filter
from engmetrics.store.connection import Connection

_CHUNK = 500
Key = tuple[int, str]
"""(repository id, full sha)."""


@dataclass(frozen=True, slots=True)
class CommitRow:
    """A non-merge commit of the window with what the AI figures read of it."""

    repo_id: int
    repo: str
    sha: str
    author_name: str
    author_email: str
    author_time: int
    lines_added: int
    message: str
    trailers: list[list[str]]


@dataclass(frozen=True, slots=True)
class Tracking:
    """A commit's tracking data: lines added via TAB completions and via COMPOSER/agent."""

    tab_lines: int
    composer_lines: int


def window_commits(conn: Connection, start: int, end: int, repo_ids: list[int] | None) -> list[CommitRow]:
    """The non-merge commits authored in ``[start, end)`` of ``repo_ids`` (None: every repository), oldest first."""
    where, args = repo_filter(repo_ids, "c.repo_id")
    rows = conn.execute(
        "SELECT c.repo_id, r.name, c.sha, c.author_name, c.author_email, c.author_time, c.additions, c.subject, c.body,"
        " c.trailers FROM commits c JOIN repositories r ON r.id = c.repo_id"
        f" WHERE c.author_time >= ? AND c.author_time < ? AND c.parents NOT LIKE '% %'{where}"
        " ORDER BY c.author_time, c.repo_id, c.sha",
        [start, end, *args],
    ).fetchall()
    out = []
    for rid, repo, sha, an, ae, at, added, subject, body, trailers in rows:
        try:
            pairs = [list(map(str, p)) for p in json.loads(trailers or "[]") if isinstance(p, list)]
        except (ValueError, TypeError):
            pairs = []
        out.append(CommitRow(int(rid), str(repo), str(sha), str(an), str(ae).lower(), int(at), int(added),
                             f"{subject}\n\n{body}" if body else str(subject), pairs))
    return out


def _by_repo(keys: Iterable[Key]) -> dict[int, list[str]]:
    out: dict[int, list[str]] = {}
    for rid, sha in keys:
        out.setdefault(rid, []).append(sha)
    return out


def _chunks(shas: Sequence[str]) -> Iterable[list[str]]:
    for k in range(0, len(shas), _CHUNK):
        yield list(shas[k:k + _CHUNK])


def tracking(conn: Connection, keys: Iterable[Key]) -> dict[Key, Tracking]:
    """The tracking data of the commits ``keys`` that have some. Should several rows name one commit (a full and an
    abbreviated hash, two repository names), the one ingested last counts (then the longest hash)."""
    best: dict[Key, tuple[int, int, Tracking]] = {}
    for rid, shas in _by_repo(keys).items():
        for chunk in _chunks(shas):
            for sha, tab, composer, created, length in conn.execute(
                "SELECT sha, tab_lines_added, composer_lines_added, coalesce(created_at, 0), length(commit_hash)"
                f" FROM ai_commit_metrics WHERE repo_id = ? AND sha IN ({','.join('?' * len(chunk))})",
                [rid, *chunk],
            ):
                key = (rid, str(sha))
                rank = (int(created), int(length))
                if key not in best or rank > best[key][:2]:
                    best[key] = (rank[0], rank[1], Tracking(int(tab), int(composer)))
    return {k: v[2] for k, v in best.items()}


def has_tracking_data(conn: Connection) -> bool:
    """Whether the store holds any tracking commit row."""
    return conn.execute("SELECT 1 FROM ai_commit_metrics LIMIT 1").fetchone() is not None


def unmatched_tracking_rows(conn: Connection) -> int:
    """Tracking commit rows that name no stored commit."""
    return int(conn.execute("SELECT count(*) FROM ai_commit_metrics WHERE sha IS NULL").fetchone()[0])


# ---- outcomes ----------------------------------------------------------------------------------------------------


def labelled_repos(conn: Connection, repo_ids: Iterable[int]) -> set[int]:
    """The repositories change risk has labelled with SZZ (their bug-inducing commits are known)."""
    ids = sorted(set(repo_ids))
    if not ids:
        return set()
    return {int(r[0]) for r in conn.execute(
        f"SELECT repo_id FROM risk_label_config WHERE repo_id IN ({','.join('?' * len(ids))})", ids)}


def non_product(conn: Connection, keys: Iterable[Key]) -> set[Key]:
    """Those of ``keys`` that changed no product file (documentation, tests, CI configuration or metadata only, by
    `engmetrics.filekinds.is_product`); a commit whose files were not read is a product change."""
    out: set[Key] = set()
    for rid, shas in _by_repo(keys).items():
        for chunk in _chunks(shas):
            paths: dict[str, list[str]] = {}
            for sha, path in conn.execute(
                f"SELECT sha, path FROM file_changes WHERE repo_id = ? AND sha IN ({','.join('?' * len(chunk))})",
                [rid, *chunk],
            ):
                paths.setdefault(str(sha), []).append(str(path))
            out |= {(rid, sha) for sha, ps in paths.items() if ps and not any(is_product(p) for p in ps)}
    return out


def inducing(conn: Connection, keys: Iterable[Key]) -> set[Key]:
    """Those of ``keys`` a later fix was traced to by SZZ (change risk's ``risk_szz_links``)."""
    out: set[Key] = set()
    for rid, shas in _by_repo(keys).items():
        for chunk in _chunks(shas):
            out |= {(rid, str(r[0])) for r in conn.execute(
                f"SELECT DISTINCT inducing_sha FROM risk_szz_links WHERE repo_id = ? AND inducing_sha IN"
                f" ({','.join('?' * len(chunk))})", [rid, *chunk])}
    return out


def reverted(conn: Connection, keys: Iterable[Key]) -> set[Key]:
    """Those of ``keys`` a commit of their repository reverts ("This reverts commit <sha>", full or abbreviated)."""
    wanted = _by_repo(keys)
    out: set[Key] = set()
    for rid, shas in wanted.items():
        named: list[str] = []
        for subject, body in conn.execute(
            "SELECT subject, body FROM commits WHERE repo_id = ? AND body LIKE '%reverts commit%'", (rid,)
        ):
            named += reverted_shas(f"{subject}\n\n{body}")
        if not named:
            continue
        for sha in shas:
            if any(sha.startswith(n) for n in named):
                out.add((rid, sha))
    return out


def shipped(conn: Connection, keys: Iterable[Key]) -> dict[Key, bool]:
    """For those of ``keys`` a deployment shipped: whether one that shipped it failed."""
    out: dict[Key, bool] = {}
    for rid, shas in _by_repo(keys).items():
        for chunk in _chunks(shas):
            for sha, failed in conn.execute(
                "SELECT dc.sha, max(d.failed) FROM deployment_changes dc JOIN deployments d ON d.id = dc.deployment_id"
                f" WHERE d.repo_id = ? AND dc.sha IN ({','.join('?' * len(chunk))}) GROUP BY dc.sha",
                [rid, *chunk],
            ):
                out[(rid, str(sha))] = bool(failed)
    return out


def review_hours(conn: Connection, keys: Iterable[Key]) -> dict[Key, float]:
    """For those of ``keys`` that came through a merged pull request (one of its commits, or its squash/merge
    commit): hours from its opening (or ready for review) to its merge; the first such PR when several."""
    out: dict[Key, float] = {}
    for rid, shas in _by_repo(keys).items():
        for chunk in _chunks(shas):
            marks = ",".join("?" * len(chunk))
            for sha, hours in conn.execute(
                "SELECT m.sha, min((p.merged_at - coalesce(p.ready_at, p.created_at)) / 3600.0) FROM ("
                f"  SELECT sha, number FROM pr_commits WHERE repo_id = ? AND sha IN ({marks})"
                f"  UNION SELECT merge_sha AS sha, number FROM pull_requests WHERE repo_id = ? AND merge_sha IN ({marks})"
                ") m JOIN pull_requests p ON p.repo_id = ? AND p.number = m.number"
                " WHERE p.merged_at IS NOT NULL AND p.created_at IS NOT NULL"
                " AND p.merged_at >= coalesce(p.ready_at, p.created_at) GROUP BY m.sha",
                [rid, *chunk, rid, *chunk, rid],
            ):
                out[(rid, str(sha))] = float(hours)
    return out


# ---- Copilot and accepted changes -----------------------------------------------------------------------------


def copilot_days(conn: Connection, start: int, end: int) -> dict[str, list[CopilotDayTotals]]:
    """Per scope, the Copilot days starting in ``[start, end)``, oldest first."""
    out: dict[str, list[CopilotDayTotals]] = {}
    for scope, day, mau, gen, acc, added in conn.execute(
        "SELECT scope, day, monthly_active_users, code_generation_activity_count, code_acceptance_activity_count,"
        " loc_added_sum FROM copilot_days WHERE day_start >= ? AND day_start < ? ORDER BY scope, day",
        (start, end),
    ):
        out.setdefault(str(scope), []).append(
            CopilotDayTotals(str(day), None if mau is None else int(mau), int(gen), int(acc), int(added)))
    return out


def copilot_seats(conn: Connection) -> dict[str, int]:
    """Copilot seats per scope, where GitHub said."""
    return {str(s): int(n) for s, n in conn.execute("SELECT scope, seats FROM copilot_seats")}


@dataclass(frozen=True, slots=True)
class AcceptedChange:
    """One accepted AI change of the window."""

    user_email: str | None
    source: str
    model: str | None
    lines_added: int


def accepted_changes(conn: Connection, start: int, end: int) -> list[AcceptedChange]:
    """The accepted AI changes created in ``[start, end)``."""
    return [AcceptedChange(e, str(s), m, int(n)) for e, s, m, n in conn.execute(
        "SELECT user_email, source, model, total_lines_added FROM ai_code_changes WHERE created_at >= ?"
        " AND created_at < ?", (start, end))]
