"""SZZ labelling: which commits induced a bug that a later commit fixed.

- **Fix commits** are found by message (the fix pattern: fix/bug/defect/hotfix/revert/regression/crash,
  "closes #N", "gh-N"; configurable with ``ENGMETRICS_RISK_FIX_PATTERN``). Merge commits and commits touching
  more than 100 files are left out.
- For each line a fix deletes or modifies (``git diff -U0 -w`` against its first parent, so whitespace-only
  edits do not count; blank lines and comment-only lines are ignored), ``git blame --porcelain -w`` on the
  fix's parent names the commit that last touched that line: a **bug-inducing commit**.
- A revert (``This reverts commit <sha>``) marks the reverted commit as inducing.
- Labelling is incremental: every fix done is stored (``risk_szz_fixes``) with its links
  (``risk_szz_links``); a later run labels only new fixes. Blame runs in parallel (one git per CPU).
"""

from __future__ import annotations

import os
import re
import sqlite3
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from engmetrics.risk.features import DEFAULT_FIX_PATTERN
from engmetrics.sources.git import _git, _text
from engmetrics.store.db import Store

MAX_FIX_FILES = 100
BATCH = 200
_REVERTS = re.compile(r"This reverts commit ([0-9a-f]{7,40})")
_HUNK = re.compile(rb"^@@ -(\d+)(?:,(\d+))? \+\d+(?:,\d+)? @@")
_COMMENT = re.compile(rb"^\s*(#|//|/\*|\*|--|;|%|<!--|\"\"\"|''')")


def fix_pattern() -> str:
    """The fix-message pattern in force: ``ENGMETRICS_RISK_FIX_PATTERN`` or the default."""
    return os.environ.get("ENGMETRICS_RISK_FIX_PATTERN") or DEFAULT_FIX_PATTERN


@dataclass(frozen=True, slots=True)
class Fix:
    """A fix (or revert) commit to label."""

    sha: str
    parent: str
    time: int
    kind: str  # fix | revert
    reverted: str | None


def deleted_lines(path: str, fix: str, parent: str) -> dict[str, list[int]]:
    """Old path → line numbers (in ``parent``) that ``fix`` deletes or modifies, blank and comment-only lines left out."""
    proc = _git(path, "diff", "-U0", "-w", "--no-color", "--no-ext-diff", "--no-textconv", "-M", parent, fix)
    out: dict[str, list[int]] = {}
    current: str | None = None
    line_no = 0
    for raw in proc.stdout.split(b"\n"):
        if raw.startswith(b"--- "):
            name = raw[4:]
            current = None if name == b"/dev/null" else _text(name[2:] if name.startswith(b"a/") else name)
            continue
        if raw.startswith(b"+++ ") or raw.startswith(b"diff --git"):
            continue
        if raw.startswith(b"@@"):
            m = _HUNK.match(raw)
            line_no = int(m.group(1)) if m else 0
            continue
        if current is not None and raw.startswith(b"-"):
            content = raw[1:]
            if content.strip() and not _COMMENT.match(content):
                out.setdefault(current, []).append(line_no)
            line_no += 1
    return out


def _ranges(lines: list[int]) -> list[tuple[int, int]]:
    ranges: list[tuple[int, int]] = []
    for n in sorted(set(lines)):
        if ranges and n == ranges[-1][1] + 1:
            ranges[-1] = (ranges[-1][0], n)
        else:
            ranges.append((n, n))
    return ranges


def blame_lines(path: str, parent: str, file: str, lines: list[int]) -> dict[str, int]:
    """Commit → how many of ``lines`` of ``file`` (as of ``parent``) it last touched (``git blame -w``)."""
    args = ["blame", "--porcelain", "-w"]
    for a, b in _ranges(lines):
        args += ["-L", f"{a},{b}"]
    proc = _git(path, *args, parent, "--", file)
    if proc.returncode != 0:
        return {}
    counts: dict[str, int] = {}
    for raw in proc.stdout.split(b"\n"):
        if len(raw) > 41 and raw[40:41] == b" " and not raw.startswith(b"\t"):
            head = raw[:40]
            if re.fullmatch(rb"[0-9a-f]{40}", head):
                parts = raw.split(b" ")
                if len(parts) >= 4:  # the first line of a group: sha orig final count
                    counts[_text(head)] = counts.get(_text(head), 0) + int(parts[3])
    return counts


def label_fix(path: str, fix: Fix) -> dict[str, int]:
    """Inducing commit → blamed lines for one fix (the reverted commit, with 0 lines, for a revert)."""
    if fix.kind == "revert" and fix.reverted:
        proc = _git(path, "rev-parse", "-q", "--verify", f"{fix.reverted}^{{commit}}")
        sha = _text(proc.stdout).strip()
        return {sha: 0} if proc.returncode == 0 and sha else {}
    found: dict[str, int] = {}
    for file, lines in deleted_lines(path, fix.sha, fix.parent).items():
        for sha, n in blame_lines(path, fix.parent, file, lines).items():
            found[sha] = found.get(sha, 0) + n
    found.pop(fix.sha, None)
    return {s: n for s, n in found.items() if not s.startswith("^")}


def pending_fixes(conn: sqlite3.Connection, repo_id: int, pattern: str) -> list[Fix]:
    """Fix and revert commits in the store not labelled yet (merges and >100-file commits left out)."""
    rx = re.compile(pattern)
    done = {r[0] for r in conn.execute("SELECT sha FROM risk_szz_fixes WHERE repo_id = ?", (repo_id,))}
    out = []
    for sha, parents, when, subject, body, files in conn.execute(
        "SELECT sha, parents, committer_time, subject, body, files_changed FROM commits WHERE repo_id = ?"
        " AND parents != '' AND instr(parents, ' ') = 0 ORDER BY committer_time, sha",
        (repo_id,),
    ):
        if sha in done or files > MAX_FIX_FILES:
            continue
        message = f"{subject}\n\n{body}"
        reverted = _REVERTS.search(message)
        if subject.startswith("Revert ") and reverted:
            out.append(Fix(sha, parents, when, "revert", reverted.group(1)))
        elif rx.search(message):
            out.append(Fix(sha, parents, when, "fix", None))
    return out


def ensure_labels(store: Store, repo_id: int, path: str, pattern: str | None = None,
                  progress: Callable[[int, int], None] | None = None) -> int:
    """Label every fix in the store not labelled yet; returns how many fixes were labelled now.

    A different fix pattern from the stored labels' wipes them first. One transaction per batch of fixes.
    """
    pattern = pattern or fix_pattern()
    with store.tx() as conn:
        row = conn.execute("SELECT fix_pattern FROM risk_label_config WHERE repo_id = ?", (repo_id,)).fetchone()
        if row is None or row[0] != pattern:
            conn.execute("DELETE FROM risk_szz_fixes WHERE repo_id = ?", (repo_id,))
            conn.execute("DELETE FROM risk_szz_links WHERE repo_id = ?", (repo_id,))
            conn.execute(
                "INSERT INTO risk_label_config(repo_id, fix_pattern) VALUES (?, ?)"
                " ON CONFLICT(repo_id) DO UPDATE SET fix_pattern = excluded.fix_pattern",
                (repo_id, pattern),
            )
    fixes = pending_fixes(store.read(), repo_id, pattern)
    if not fixes:
        return 0
    workers = max(1, min(8, os.cpu_count() or 1))
    done = 0
    with ThreadPoolExecutor(max_workers=workers) as pool:
        for start in range(0, len(fixes), BATCH):
            batch = fixes[start : start + BATCH]
            results = list(pool.map(lambda f: label_fix(path, f), batch))
            with store.tx() as conn:
                conn.executemany(
                    "INSERT OR REPLACE INTO risk_szz_fixes(repo_id, sha, kind, fixed_at, inducing) VALUES (?,?,?,?,?)",
                    [(repo_id, f.sha, f.kind, f.time, len(r)) for f, r in zip(batch, results, strict=True)],
                )
                conn.executemany(
                    "INSERT OR REPLACE INTO risk_szz_links(repo_id, fix_sha, inducing_sha, lines) VALUES (?,?,?,?)",
                    [(repo_id, f.sha, s, n) for f, r in zip(batch, results, strict=True) for s, n in r.items()],
                )
            done += len(batch)
            if progress is not None:
                progress(done, len(fixes))
    return done


def inducing_times(conn: sqlite3.Connection, repo_id: int) -> dict[str, int]:
    """Inducing commit → when its first fix was committed (Unix seconds): a label known from that time on."""
    return {
        sha: when
        for sha, when in conn.execute(
            "SELECT l.inducing_sha, min(f.fixed_at) FROM risk_szz_links l JOIN risk_szz_fixes f"
            " ON f.repo_id = l.repo_id AND f.sha = l.fix_sha WHERE l.repo_id = ? GROUP BY l.inducing_sha",
            (repo_id,),
        )
    }
