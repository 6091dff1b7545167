"""SZZ labelling: which commits induced a bug that a later commit fixed.

- **Fix commits** are found by message (the fix pattern: fix/bug/defect/hotfix/revert/regression/crash,
  "closes #N", "gh-N"; configurable with ``ENGMETRICS_RISK_FIX_PATTERN``). Merge commits and commits touching
  more than 100 files are left out.
- For each line a fix deletes or modifies (``git diff -U0 -w`` against its first parent, so whitespace-only
  edits do not count; blank lines and comment-only lines are ignored), ``git blame --porcelain -w`` on the
  fix's parent names the commit that last touched that line: a **bug-inducing commit**.
- A revert (``This reverts commit <sha>``) marks the reverted commit as inducing.
- Labelling is incremental: every fix done is stored (``risk_szz_fixes``) with its links
  (``risk_szz_links``); a later run labels only new fixes.
- **Annotate by replay** (many fixes to label): instead of one ``git blame`` per fix, a single
  ``git log -m -p -U0 -w -M`` pass over the fixes' ancestry (parents before children) keeps, for each
  file, the commit that last touched each of its lines: a commit's hunks replace the origins of the lines
  they delete and add lines owned by the commit; a merge takes each line from the first parent in which it
  is unchanged (else the merge owns it), as blame does; renames carry the origins along. The origin of a
  line a fix deletes is then read from its parent's state. This is O(total diff size) instead of one
  history walk per file and fix. A few new fixes (fewer than `REPLAY_MIN`) are labelled with blame.
"""

from __future__ import annotations

import os
import re
import sqlite3
import subprocess
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING

from engmetrics.risk.features import DEFAULT_FIX_PATTERN
from engmetrics.sources.git import decode_text, git_command, git_env, run_git
from engmetrics.store.db import Store

if TYPE_CHECKING:
    from engmetrics.config import Settings

MAX_FIX_FILES = 100
BATCH = 200
_REVERTS = re.compile(r"This reverts commit ([0-9a-f]{7,40})")
_HUNK = re.compile(rb"^@@ -(\d+)(?:,(\d+))? \+\d+(?:,\d+)? @@")
_HUNK_FULL = re.compile(rb"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@")
# A line whose text starts like a comment (#, //, /*, *, --, ;, %, <!--, docstring quotes): never a bug to blame.
COMMENT_LINE = re.compile(rb"^\s*(#|//|/\*|\*|--|;|%|<!--|\"\"\"|''')")


def fix_pattern(settings: Settings | None = None) -> str:
    """The fix-message pattern in force: setting ``risk_fix_pattern`` of ``settings`` (default: the
    environment's, ``ENGMETRICS_RISK_FIX_PATTERN`` / ``engmetrics.toml``) or the default."""
    if settings is None:
        from engmetrics.config import Settings

        settings = Settings()
    return settings.risk_fix_pattern or DEFAULT_FIX_PATTERN


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
    proc = run_git(path, "diff", "-U0", "-w", "--no-color", "--no-ext-diff", "--no-textconv", "-M", parent, fix)
    out: dict[str, list[int]] = {}
    current: str | None = None
    line_no = 0
    for raw in proc.stdout.split(b"\n"):
        if raw.startswith(b"--- "):
            name = raw[4:]
            current = None if name == b"/dev/null" else decode_text(name[2:] if name.startswith(b"a/") else name)
            continue
        if raw.startswith(b"+++ ") or raw.startswith(b"diff --git"):
            continue
        if raw.startswith(b"@@"):
            m = _HUNK.match(raw)
            line_no = int(m.group(1)) if m else 0
            continue
        if current is not None and raw.startswith(b"-"):
            content = raw[1:]
            if content.strip() and not COMMENT_LINE.match(content):
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
    proc = run_git(path, *args, parent, "--", file)
    if proc.returncode != 0:
        return {}
    counts: dict[str, int] = {}
    for raw in proc.stdout.split(b"\n"):
        if len(raw) > 41 and raw[40:41] == b" " and not raw.startswith(b"\t"):
            head = raw[:40]
            if re.fullmatch(rb"[0-9a-f]{40}", head):
                parts = raw.split(b" ")
                if len(parts) >= 4:  # the first line of a group: sha orig final count
                    counts[decode_text(head)] = counts.get(decode_text(head), 0) + int(parts[3])
    return counts


def label_fix(path: str, fix: Fix) -> dict[str, int]:
    """Inducing commit → blamed lines for one fix (the reverted commit, with 0 lines, for a revert)."""
    if fix.kind == "revert" and fix.reverted:
        proc = run_git(path, "rev-parse", "-q", "--verify", f"{fix.reverted}^{{commit}}")
        sha = decode_text(proc.stdout).strip()
        return {sha: 0} if proc.returncode == 0 and sha else {}
    found: dict[str, int] = {}
    for file, lines in deleted_lines(path, fix.sha, fix.parent).items():
        for sha, n in blame_lines(path, fix.parent, file, lines).items():
            found[sha] = found.get(sha, 0) + n
    found.pop(fix.sha, None)
    return {s: n for s, n in found.items() if not s.startswith("^")}


REPLAY_MIN = 20


def _quoted(name: bytes) -> str:
    if name.startswith(b'"') and name.endswith(b'"'):
        name = name[1:-1].decode("unicode_escape").encode("latin-1")
    return decode_text(name)


def _side(name: bytes) -> str | None:
    """The path of a ``--- a/x`` / ``+++ b/x`` line's name (None for /dev/null)."""
    if name == b"/dev/null":
        return None
    text = _quoted(name)
    return text[2:] if text[:2] in ("a/", "b/") else text


class _Section:
    """One file of one commit's diff against one parent."""

    __slots__ = ("old", "new", "binary", "hunks", "created", "deleted", "countable")

    def __init__(self) -> None:
        self.old: str | None = None
        self.new: str | None = None
        self.binary = False
        self.created = False
        self.deleted = False
        self.hunks: list[tuple[int, int, int, int]] = []
        self.countable: list[int] = []  # old line numbers deleted that are not blank or comment-only


def _apply(old: list[int] | None, hunks: list[tuple[int, int, int, int]], origin: int) -> list[int] | None:
    """The line origins after applying ``hunks`` (-U0) to ``old``; None when unknown or inconsistent."""
    if old is None:
        return None
    new: list[int] = []
    pos = 0
    for a, k, b, n in hunks:
        start = a if k == 0 else a - 1
        if start < pos or start > len(old):
            return None
        new.extend(old[pos:start])
        if n:
            if len(new) != b - 1:
                return None
            new.extend([origin] * n)
        pos = start + k
    if pos > len(old):
        return None
    new.extend(old[pos:])
    return new


def replay_labels(path: str, fixes: list[Fix]) -> dict[str, dict[str, int]]:
    """Fix sha → inducing commit → lines, for non-revert ``fixes``, by one annotate-by-replay pass."""
    wanted = {f.sha for f in fixes}
    if not wanted:
        return {}
    stdin = ("\n".join(sorted(wanted)) + "\n").encode()
    order = run_git(path, "rev-list", "--topo-order", "--reverse", "--parents", "--stdin", input=stdin)
    if order.returncode != 0:
        raise RuntimeError(decode_text(order.stderr).strip())
    index: dict[str, int] = {}
    shas: list[str] = []
    parents: dict[int, list[str]] = {}
    children: dict[str, int] = {}
    for row in decode_text(order.stdout).splitlines():
        parts = row.split()
        if not parts:
            continue
        index[parts[0]] = len(shas)
        shas.append(parts[0])
        parents[index[parts[0]]] = parts[1:]
        for p in parts[1:]:
            children[p] = children.get(p, 0) + 1
    states: dict[str, dict[str, list[int] | None]] = {}
    found: dict[str, dict[str, int]] = {}

    def parent_state(p: str) -> dict[str, list[int] | None]:
        return states.get(p, {})

    def release(p: str) -> None:
        left = children.get(p, 0) - 1
        children[p] = left
        if left <= 0:
            states.pop(p, None)

    def finish(sha: str | None, sections: list[list[_Section]]) -> None:
        if sha is None:
            return
        me = index.get(sha)
        if me is None:
            return
        ps = parents[me]
        base = parent_state(ps[0]) if ps else {}
        state = dict(base)
        first = sections[0] if sections else []
        if sha in wanted and len(ps) == 1:
            counts: dict[str, int] = {}
            for sec in first:
                lines = base.get(sec.old) if sec.old is not None else None
                if lines is None:
                    continue
                for n in sec.countable:
                    if 0 < n <= len(lines):
                        c = shas[lines[n - 1]]
                        counts[c] = counts.get(c, 0) + 1
            counts.pop(sha, None)
            found[sha] = counts
        others = [(parent_state(p), sections[i + 1] if i + 1 < len(sections) else []) for i, p in enumerate(ps[1:])]
        for sec in first:
            if sec.deleted:
                sec.new = None
            if sec.created:
                sec.old = None
            if sec.old is not None and sec.old != sec.new:
                state.pop(sec.old, None)
            if sec.new is None:
                continue
            if sec.binary:
                state[sec.new] = None
                continue
            old = [] if sec.created or sec.old is None else base.get(sec.old)
            if not others:
                state[sec.new] = _apply(old, sec.hunks, me)
                continue
            merged = _apply(old, sec.hunks, -1)
            if merged is None:
                state[sec.new] = None
                continue
            for pstate, psections in others:
                alt = next((x for x in psections if x.new == sec.new), None)
                if alt is None:
                    theirs = pstate.get(sec.new)
                else:
                    theirs = _apply([] if alt.created or alt.old is None else pstate.get(alt.old), alt.hunks, -1)
                if theirs is None or len(theirs) != len(merged):
                    continue
                merged = [t if m == -1 else m for m, t in zip(merged, theirs)]
            state[sec.new] = [me if m == -1 else m for m in merged]
        states[sha] = state
        for p in ps:
            release(p)

    cmd = git_command(path, "log", "--topo-order", "--reverse", "-m", "-p", "-U0", "-w", "-M", "--no-color", "--no-ext-diff",
               "--no-textconv", "--format=%x1e%H", "--stdin")
    proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=git_env(),
                            bufsize=1 << 20)
    assert proc.stdin is not None and proc.stdout is not None
    proc.stdin.write(stdin)
    proc.stdin.close()
    current: str | None = None
    sections: list[list[_Section]] = []
    sec: _Section | None = None
    counting = False
    old_line = 0
    for raw in proc.stdout:
        raw = raw.rstrip(b"\n")
        if raw.startswith(b"\x1e"):
            sha = decode_text(raw[1:]).strip()
            if sha == current:  # -m: the same merge against its next parent
                sections.append([])
            else:
                finish(current, sections)
                current, sections = sha, [[]]
            sec = None
            continue
        if raw.startswith(b"diff --git "):
            sec = _Section()
            sections[-1].append(sec)
            counting = current in wanted
            rest = raw[11:]
            if rest.startswith(b"a/") and b" b/" in rest:
                a, _, b = rest[2:].partition(b" b/")
                sec.old, sec.new = decode_text(a), decode_text(b)
            continue
        if sec is None:
            continue
        c = raw[:1]
        if c == b"-" and not raw.startswith(b"--- "):
            if counting:
                content = raw[1:]
                if content.strip() and not COMMENT_LINE.match(content):
                    sec.countable.append(old_line)
                old_line += 1
        elif c == b"+" and not raw.startswith(b"+++ "):
            pass
        elif raw.startswith(b"@@"):
            m = _HUNK_FULL.match(raw)
            if m:
                a, k, b, n = int(m[1]), int(m[2] or 1), int(m[3]), int(m[4] or 1)
                sec.hunks.append((a, k, b, n))
                old_line = a
        elif raw.startswith(b"--- "):
            sec.old = _side(raw[4:])
            if sec.old is None:
                sec.created = True
        elif raw.startswith(b"+++ "):
            sec.new = _side(raw[4:])
            if sec.new is None:
                sec.deleted = True
        elif raw.startswith(b"rename from "):
            sec.old = _quoted(raw[12:])
        elif raw.startswith(b"rename to "):
            sec.new = _quoted(raw[10:])
        elif raw.startswith(b"new file mode"):
            sec.created = True
        elif raw.startswith(b"deleted file mode"):
            sec.deleted = True
        elif raw.startswith(b"Binary files "):
            sec.binary = True
    finish(current, sections)
    proc.wait()
    for s in wanted - found.keys():
        found[s] = {}
    return found


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

    A different fix pattern from the stored labels' wipes them first. One transaction per batch of fixes. When
    the store holds as many commits as when labelling last finished, nothing is scanned.
    """
    pattern = pattern or fix_pattern()
    commits = store.read().execute("SELECT count(*) FROM commits WHERE repo_id = ?", (repo_id,)).fetchone()[0]
    with store.tx() as conn:
        row = conn.execute("SELECT fix_pattern, commits_seen FROM risk_label_config WHERE repo_id = ?", (repo_id,)).fetchone()
        if row is not None and row[0] == pattern and row[1] == commits:
            return 0  # no commit arrived since the last labelling finished
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
        _seen(store, repo_id, commits)
        return 0
    replayed: dict[str, dict[str, int]] = {}
    plain = [f for f in fixes if f.kind == "fix"]
    if len(plain) >= REPLAY_MIN:
        replayed = replay_labels(path, plain)
    workers = max(1, min(8, os.cpu_count() or 1))
    done = 0
    with ThreadPoolExecutor(max_workers=workers) as pool:
        for start in range(0, len(fixes), BATCH):
            batch = fixes[start : start + BATCH]
            results = list(pool.map(lambda f: replayed[f.sha] if f.sha in replayed else label_fix(path, f), batch))
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
    _seen(store, repo_id, commits)
    return done


def _seen(store: Store, repo_id: int, commits: int) -> None:
    with store.tx() as conn:
        conn.execute("UPDATE risk_label_config SET commits_seen = ? WHERE repo_id = ?", (commits, repo_id))


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
