"""Every SQL statement of the change-risk area: the stored changes it replays, the fixes SZZ labels and their
labels (``risk_szz_fixes``, ``risk_szz_links``, ``risk_label_config``), counted source lines (``risk_sloc``),
the cached model (``risk_models``), and what `list_risky_changes` says about a commit.

Reads take a connection (``store.read()``, or the transaction's); writes take the connection of a transaction
the caller holds (``with store.tx() as conn``). They return typed records (`Change`, `Fix`, `LabelCoverage` from
the area's metrics, or the records below). Times are Unix seconds.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from engmetrics.areas.risk.metrics.changes import Change, FileDelta, make_change
from engmetrics.areas.risk.metrics.fixes import LABEL_VERSION, Fix, LabelCoverage, fix_of
from engmetrics.sources.git.pr_merges import merged_prs
from engmetrics.store.connection import Connection

_CHUNK = 500  # shas per IN (...) list


def commit_count(conn: Connection, repo_id: int) -> int:
    """Commits stored for the repository (merges included)."""
    return int(conn.execute("SELECT count(*) FROM commits WHERE repo_id = ?", (repo_id,)).fetchone()[0])


# ---- changes ------------------------------------------------------------------------------------------------


def stored_changes(conn: Connection, repo_id: int) -> list[Change]:
    """The repository's non-merge commits in the store as changes, in (committer time, sha) order, with their
    files and their counted source lines (None when not counted yet or unknown)."""
    rows = conn.execute(
        "SELECT c.sha, c.author_email, c.author_name, c.committer_time, c.subject, c.body, c.trailers, s.added"
        " FROM commits c LEFT JOIN risk_sloc s ON s.repo_id = c.repo_id AND s.sha = c.sha"
        " WHERE c.repo_id = ? AND instr(c.parents, ' ') = 0"
        " ORDER BY c.committer_time, c.sha",
        (repo_id,),
    ).fetchall()
    if not rows:
        return []
    files: dict[str, list[FileDelta]] = {}
    for sha, path, old, add, dele in conn.execute(
        "SELECT sha, path, old_path, additions, deletions FROM file_changes WHERE repo_id = ?", (repo_id,)
    ):
        files.setdefault(sha, []).append(FileDelta(path, old, add, dele))
    out = []
    for sha, email, name, when, subject, body, trailers, sloc in rows:
        message = f"{subject}\n\n{body}" if body else subject
        out.append(make_change(sha, email, name, when, message, json.loads(trailers or "[]"), files.get(sha, []), sloc))
    return out


@dataclass(frozen=True, slots=True)
class CommitSummary:
    """What a list of changes shows about a stored commit."""

    subject: str
    author_email: str
    committer_time: int


def commit_summaries(conn: Connection, repo_id: int, shas: Sequence[str]) -> dict[str, CommitSummary]:
    """Subject, author email and committer time of the stored commits ``shas`` (those not stored are absent)."""
    out: dict[str, CommitSummary] = {}
    for k in range(0, len(shas), _CHUNK):
        chunk = list(shas[k : k + _CHUNK])
        for sha, subject, email, when in conn.execute(
            "SELECT sha, subject, author_email, committer_time FROM commits WHERE repo_id = ?"
            f" AND sha IN ({','.join('?' * len(chunk))})",
            [repo_id, *chunk],
        ):
            out[sha] = CommitSummary(subject, email, when)
    return out


def merged_pr_sha(conn: Connection, repo_id: int, number: int) -> str | None:
    """The merge (or squash) commit of pull request ``number`` as the stored history names it, or None."""
    for pr in merged_prs(conn, [repo_id]):
        if pr.number == number:
            return pr.sha
    return None


# ---- fixes and their SZZ labels -------------------------------------------------------------------------------


def fix_commits(conn: Connection, repo_id: int, pattern: re.Pattern[str]) -> list[Fix]:
    """Every stored fix and revert commit SZZ labels (`fix_of`: merges, >100-file commits and bots' commits left
    out), oldest first."""
    out = []
    for sha, parent, when, subject, body, files, name, email in conn.execute(
        "SELECT sha, parents, committer_time, subject, body, files_changed, author_name, author_email FROM commits"
        " WHERE repo_id = ? AND parents != '' AND instr(parents, ' ') = 0 ORDER BY committer_time, sha",
        (repo_id,),
    ):
        fix = fix_of(sha, parent, when, subject, body, files, name, email, pattern)
        if fix is not None:
            out.append(fix)
    return out


def labelled_fix_shas(conn: Connection, repo_id: int) -> set[str]:
    """The fixes SZZ has labelled (traced, even to nothing)."""
    return {r[0] for r in conn.execute(
        "SELECT sha FROM risk_szz_fixes WHERE repo_id = ? AND status = 'labelled'", (repo_id,))}


def pending_fixes(conn: Connection, repo_id: int, pattern: str) -> list[Fix]:
    """Fix and revert commits in the store not labelled yet — never tried, pending or unreadable — oldest first."""
    done = labelled_fix_shas(conn, repo_id)
    return [f for f in fix_commits(conn, repo_id, re.compile(pattern)) if f.sha not in done]


def unreadable_fix_count(conn: Connection, repo_id: int) -> int:
    """Fixes stored as unreadable (git said objects they need are missing or corrupt)."""
    return int(conn.execute("SELECT count(*) FROM risk_szz_fixes WHERE repo_id = ? AND status = 'unreadable'",
                            (repo_id,)).fetchone()[0])


@dataclass(frozen=True, slots=True)
class LabelState:
    """What the stored labels were made with, and how far the last labelling reached: ``commits_seen`` stored
    commits (-1: not finished) and git's object store as ``git count-objects -v`` described it then."""

    fix_pattern: str
    commits_seen: int
    version: int
    objects_seen: str | None


def label_state(conn: Connection, repo_id: int) -> LabelState | None:
    """The repository's `LabelState`, or None before its first labelling."""
    row = conn.execute("SELECT fix_pattern, commits_seen, version, objects_seen FROM risk_label_config"
                       " WHERE repo_id = ?", (repo_id,)).fetchone()
    return None if row is None else LabelState(row[0], row[1], row[2], row[3])


def reset_labels(conn: Connection, repo_id: int, pattern: str, version: int) -> None:
    """Delete the repository's labels and record that new ones are made with ``pattern`` and ``version``."""
    conn.execute("DELETE FROM risk_szz_fixes WHERE repo_id = ?", (repo_id,))
    conn.execute("DELETE FROM risk_szz_links WHERE repo_id = ?", (repo_id,))
    conn.execute(
        "INSERT INTO risk_label_config(repo_id, fix_pattern, commits_seen, version) VALUES (?, ?, -1, ?)"
        " ON CONFLICT(repo_id) DO UPDATE SET fix_pattern = excluded.fix_pattern, commits_seen = -1,"
        " version = excluded.version",
        (repo_id, pattern, version),
    )


def mark_labels_seen(conn: Connection, repo_id: int, commits: int, objects: str) -> None:
    """Record that labelling reached every fix it could with ``commits`` stored commits and git's ``objects``."""
    conn.execute("UPDATE risk_label_config SET commits_seen = ?, objects_seen = ? WHERE repo_id = ?",
                 (commits, objects, repo_id))


def save_labels(conn: Connection, repo_id: int, *, labelled: Sequence[tuple[Fix, Mapping[str, int]]],
                unreadable: Sequence[tuple[Fix, str]], pending: Sequence[Fix]) -> None:
    """Store a batch of labelling results: ``labelled`` fixes with inducing commit → lines (their links replace
    any earlier ones), ``unreadable`` ones with git's message, and forget ``pending`` ones (tried again later)."""
    conn.executemany(
        "INSERT OR REPLACE INTO risk_szz_fixes(repo_id, sha, kind, fixed_at, inducing, status, error)"
        " VALUES (?,?,?,?,?,'labelled',NULL)",
        [(repo_id, f.sha, f.kind, f.time, len(r)) for f, r in labelled],
    )
    conn.executemany("DELETE FROM risk_szz_links WHERE repo_id = ? AND fix_sha = ?",
                     [(repo_id, f.sha) for f, _ in labelled])
    conn.executemany(
        "INSERT OR REPLACE INTO risk_szz_links(repo_id, fix_sha, inducing_sha, lines) VALUES (?,?,?,?)",
        [(repo_id, f.sha, s, n) for f, r in labelled for s, n in r.items()],
    )
    conn.executemany(
        "INSERT OR REPLACE INTO risk_szz_fixes(repo_id, sha, kind, fixed_at, inducing, status, error)"
        " VALUES (?,?,?,?,0,'unreadable',?)",
        [(repo_id, f.sha, f.kind, f.time, message) for f, message in unreadable],
    )
    conn.executemany("DELETE FROM risk_szz_fixes WHERE repo_id = ? AND sha = ?", [(repo_id, f.sha) for f in pending])


def label_coverage(conn: Connection, repo_id: int, pattern: str) -> LabelCoverage:
    """How many of the repository's fixes (by ``pattern``) are labelled, pending and unreadable now."""
    state = label_state(conn, repo_id)
    fresh = state is not None and state.fix_pattern == pattern and state.version == LABEL_VERSION  # else all redone
    if state is not None and fresh and state.commits_seen == commit_count(conn, repo_id):
        # The last labelling reached every fix, and no commit came since.
        rows = dict(conn.execute("SELECT status, count(*) FROM risk_szz_fixes WHERE repo_id = ? GROUP BY status",
                                 (repo_id,)).fetchall())
        error = conn.execute("SELECT error FROM risk_szz_fixes WHERE repo_id = ? AND status = 'unreadable' LIMIT 1",
                             (repo_id,)).fetchone()
        done, unreadable = int(rows.get("labelled", 0)), int(rows.get("unreadable", 0))
        return LabelCoverage(fixes=done + unreadable, labelled=done, pending=0, unreadable=unreadable,
                             error=error[0] if error else None)
    fixes = {f.sha for f in fix_commits(conn, repo_id, re.compile(pattern))}
    status: dict[str, tuple[str, str | None]] = {}
    if fresh:
        status = {sha: (st, err) for sha, st, err in conn.execute(
            "SELECT sha, status, error FROM risk_szz_fixes WHERE repo_id = ?", (repo_id,))}
    labelled = sum(1 for s in fixes if status.get(s, ("", None))[0] == "labelled")
    errors = [status[s][1] for s in fixes if status.get(s, ("", None))[0] == "unreadable"]
    return LabelCoverage(fixes=len(fixes), labelled=labelled, pending=len(fixes) - labelled - len(errors),
                         unreadable=len(errors), error=next((e for e in errors if e), None))


def inducing_times(conn: Connection, repo_id: int) -> dict[str, int]:
    """Inducing commit → when its first fix was committed (Unix seconds): a label known from that time on."""
    return {
        sha: when
        for sha, when in conn.execute(
            "SELECT l.inducing_sha, min(f.fixed_at) FROM risk_szz_links l JOIN risk_szz_fixes f"
            " ON f.repo_id = l.repo_id AND f.sha = l.fix_sha WHERE l.repo_id = ? AND f.status = 'labelled'"
            " GROUP BY l.inducing_sha",
            (repo_id,),
        )
    }


def later_fixed(conn: Connection, repo_id: int, shas: Iterable[str]) -> set[str]:
    """Those of ``shas`` a labelled fix has been traced to (so far)."""
    wanted = list(dict.fromkeys(shas))
    out: set[str] = set()
    for k in range(0, len(wanted), _CHUNK):
        chunk = wanted[k : k + _CHUNK]
        out |= {r[0] for r in conn.execute(
            "SELECT DISTINCT inducing_sha FROM risk_szz_links WHERE repo_id = ?"
            f" AND inducing_sha IN ({','.join('?' * len(chunk))})",
            [repo_id, *chunk],
        )}
    return out


# ---- source lines added ---------------------------------------------------------------------------------------


def sloc_count(conn: Connection, repo_id: int) -> int:
    """Commits whose source lines added are stored (known or unknown)."""
    return int(conn.execute("SELECT count(*) FROM risk_sloc WHERE repo_id = ?", (repo_id,)).fetchone()[0])


@dataclass(frozen=True, slots=True)
class UncountedCommit:
    """A stored commit whose source lines added are not stored yet; ``merge``: it has two or more parents."""

    sha: str
    merge: bool


def uncounted_commits(conn: Connection, repo_id: int) -> list[UncountedCommit]:
    """The stored commits whose source lines added are not counted yet, oldest first."""
    return [UncountedCommit(sha, bool(merge)) for sha, merge in conn.execute(
        "SELECT c.sha, instr(c.parents, ' ') > 0 FROM commits c LEFT JOIN risk_sloc s"
        " ON s.repo_id = c.repo_id AND s.sha = c.sha WHERE c.repo_id = ? AND s.sha IS NULL ORDER BY c.committer_time",
        (repo_id,),
    )]


def save_sloc(conn: Connection, repo_id: int, counts: Mapping[str, int]) -> None:
    """Store each commit's source lines added (-1: unknown, git could not diff it)."""
    conn.executemany("INSERT OR REPLACE INTO risk_sloc(repo_id, sha, added) VALUES (?,?,?)",
                     [(repo_id, s, n) for s, n in counts.items()])


# ---- the cached model -----------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ModelInputs:
    """What a repository's model is trained from, in counts: commits (and the last one's time), fixes (and the
    labelled ones), links, counted commits (and their source lines added)."""

    commits: int
    last_commit_time: int | None
    fixes: int
    labelled_fixes: int | None
    links: int
    sloc_rows: int
    sloc_total: int | None


def model_inputs(conn: Connection, repo_id: int) -> ModelInputs:
    """The repository's `ModelInputs` now."""
    c = conn.execute("SELECT count(*), max(committer_time) FROM commits WHERE repo_id = ?", (repo_id,)).fetchone()
    f = conn.execute("SELECT count(*), sum(CASE WHEN status = 'labelled' THEN 1 ELSE 0 END) FROM risk_szz_fixes"
                     " WHERE repo_id = ?",
                     (repo_id,)).fetchone()
    n = conn.execute("SELECT count(*) FROM risk_szz_links WHERE repo_id = ?", (repo_id,)).fetchone()
    s = conn.execute("SELECT count(*), sum(added) FROM risk_sloc WHERE repo_id = ?", (repo_id,)).fetchone()
    return ModelInputs(c[0], c[1], f[0], f[1], n[0], s[0], s[1])


@dataclass(frozen=True, slots=True)
class CachedModel:
    """A stored model: its fingerprint, the model as JSON, the features of the stored changes (``np.savez``
    bytes: shas, times, X) and the feature state after them (zlib JSON of `History`)."""

    fingerprint: str
    model_json: str
    matrix: bytes
    state: bytes


def cached_model(conn: Connection, repo_id: int) -> CachedModel | None:
    """The repository's stored model, or None."""
    row = conn.execute("SELECT fingerprint, model, matrix, state FROM risk_models WHERE repo_id = ?",
                       (repo_id,)).fetchone()
    return None if row is None else CachedModel(row[0], row[1], row[2], row[3])


def save_model(conn: Connection, repo_id: int, model: CachedModel, created_at: int) -> None:
    """Store (replace) the repository's model."""
    conn.execute(
        "INSERT OR REPLACE INTO risk_models(repo_id, fingerprint, created_at, model, matrix, state) VALUES (?,?,?,?,?,?)",
        (repo_id, model.fingerprint, created_at, model.model_json, model.matrix, model.state),
    )
