"""SZZ labelling: which commits induced a bug that a later commit fixed.

- **Fix commits** are found by message (the fix pattern: fix/bug/defect/hotfix/revert/regression/crash words;
  not a reference that only closes an issue such as "Fixes #12" or "Closes #12", and never a version bump;
  configurable with ``ENGMETRICS_RISK_FIX_PATTERN``). Commits by bots (`engmetrics.bots.is_bot` on the
  author's name or email), merge commits and commits touching more than 100 files are left out.
- For each line of a **source file** (`engmetrics.filekinds.is_source`: not documentation, tests, generated
  or vendored files, configuration or data) that a fix deletes or modifies (``git diff -U0 -w`` against its
  first parent, so whitespace-only edits do not count; blank lines and comment-only lines are ignored),
  ``git blame --porcelain -w`` on the fix's parent names the commit that last touched that line: a
  **bug-inducing commit**.
- A revert (``This reverts commit <sha>``) marks the reverted commit as inducing when it changed the product
  (at least one file other than documentation, tests, CI configuration or repository metadata).
- Labelling is incremental: every fix done is stored (``risk_szz_fixes``) with its links
  (``risk_szz_links``); a later run labels only new fixes.
- **Coverage is never overstated.** Every ``git`` exit status is checked. A fix git could not read is never
  stored as blaming nobody: when git says objects are missing or corrupt it is stored as *unreadable* (with
  git's message), otherwise it is not stored at all (*pending*). Pending fixes are tried again on the next
  run; unreadable ones on the next run that finds new commits or objects (``git count-objects`` changed: a
  fetch may have brought what was missing).
  `label_coverage` says how many fixes are labelled, pending and unreadable.
- **Annotate by replay** (many fixes to label): instead of one ``git blame`` per fix, a single
  ``git log -m -p -U0 -w -M`` pass over the fixes' ancestry (parents before children) keeps, for each
  file, the commit that last touched each of its lines: a commit's hunks replace the origins of the lines
  they delete and add lines owned by the commit; a merge takes each line from the first parent in which it
  is unchanged (else the merge owns it), as blame does; renames carry the origins along. The origin of a
  line a fix deletes is then read from its parent's state. This is O(total diff size) instead of one
  history walk per file and fix. A few new fixes (fewer than `REPLAY_MIN`) are labelled with blame, and so
  are the fixes a replay did not reach (git stopped before them).
"""

from __future__ import annotations

import logging
import os
import re
import sqlite3
import subprocess
import tempfile
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from engmetrics.bots import is_bot
from engmetrics.filekinds import is_product, is_source
from engmetrics.areas.risk.metrics.features import DEFAULT_FIX_PATTERN
from engmetrics.sources.git import decode_text, git_command, git_env, run_git
from engmetrics.store.db import Store

if TYPE_CHECKING:
    from engmetrics.config import Settings

log = logging.getLogger(__name__)

MAX_FIX_FILES = 100
BATCH = 200
LABEL_VERSION = 1  # bump when what a label means changes: labels made by another version are made again
_REVERTS = re.compile(r"This reverts commit ([0-9a-f]{7,40})")
_HUNK_FULL = re.compile(rb"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@")
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


def _check(proc: subprocess.CompletedProcess[bytes], what: str) -> None:
    """Raise `GitFailed` when ``proc`` (git ``what``) did not exit with 0."""
    if proc.returncode != 0:
        raise GitFailed(f"git {what} exited with {proc.returncode}: {git_says(proc.stderr)}")


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


def _quoted(name: bytes) -> str:
    if name.startswith(b'"') and name.endswith(b'"'):
        name = name[1:-1].decode("unicode_escape").encode("latin-1")
    return decode_text(name)


def side_path(name: bytes) -> str | None:
    """The path of a diff's ``--- a/x`` / ``+++ b/x`` name (None for /dev/null; quoted names unquoted)."""
    if name == b"/dev/null":
        return None
    text = _quoted(name)
    return text[2:] if text[:2] in ("a/", "b/") else text


def deleted_lines(path: str, fix: str, parent: str) -> dict[str, list[int]]:
    """Old path → line numbers (in ``parent``) that ``fix`` deletes or modifies in source files, blank and
    comment-only lines left out. Raises `GitFailed` when git cannot diff them."""
    proc = run_git(path, "diff", "-U0", "-w", "--no-color", "--no-ext-diff", "--no-textconv", "-M", parent, fix)
    _check(proc, f"diff {parent[:12]} {fix[:12]}")
    out: dict[str, list[int]] = {}
    current: str | None = None
    line_no = 0
    left = 0  # old-side lines still to come in the current hunk
    for raw in proc.stdout.split(b"\n"):
        if left > 0 and raw.startswith(b"-"):
            content = raw[1:]
            if current is not None and content.strip() and not COMMENT_LINE.match(content):
                out.setdefault(current, []).append(line_no)
            line_no += 1
            left -= 1
            continue
        if raw.startswith(b"+") and not raw.startswith(b"+++ "):
            continue
        if raw.startswith(b"--- "):
            name = side_path(raw[4:])
            current = name if name is not None and is_source(name) else None
        elif raw.startswith(b"@@"):
            m = _HUNK_FULL.match(raw)
            line_no, left = (int(m[1]), int(m[2] or 1)) if m else (0, 0)
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
    """Commit → how many of ``lines`` of ``file`` (as of ``parent``) it last touched (``git blame -w``).

    Raises `GitFailed` when git cannot blame them."""
    args = ["blame", "--porcelain", "-w"]
    for a, b in _ranges(lines):
        args += ["-L", f"{a},{b}"]
    proc = run_git(path, *args, parent, "--", file)
    _check(proc, f"blame {parent[:12]} -- {file}")
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
    """Inducing commit → blamed lines for one fix (the reverted commit, with 0 lines, for a revert of a product
    change). Raises `GitFailed` when git cannot read what it needs (nothing is guessed)."""
    if fix.kind == "revert" and fix.reverted:
        proc = run_git(path, "rev-parse", "--verify", "--end-of-options", f"{fix.reverted}^{{commit}}")
        if proc.returncode != 0 and b"Needed a single revision" in proc.stderr:
            raise GitFailed(f"the commit {fix.reverted[:12]} that {fix.sha[:12]} reverts is not in the repository "
                            "(missing commit)")
        _check(proc, f"rev-parse {fix.reverted} (the reverted commit)")
        sha = decode_text(proc.stdout).strip()
        files = run_git(path, "diff-tree", "-r", "--root", "--no-commit-id", "--name-only", "-z",
                        "--diff-merges=first-parent", sha)
        _check(files, f"diff-tree {sha[:12]} (the reverted commit)")
        names = [decode_text(n) for n in files.stdout.split(b"\0") if n]
        return {sha: 0} if any(is_product(n) for n in names) else {}
    found: dict[str, int] = {}
    for file, lines in deleted_lines(path, fix.sha, fix.parent).items():
        for sha, n in blame_lines(path, fix.parent, file, lines).items():
            found[sha] = found.get(sha, 0) + n
    found.pop(fix.sha, None)
    return {s: n for s, n in found.items() if not s.startswith("^")}


REPLAY_MIN = 20
PROBE = 25  # fixes tried one by one after a replay stopped on missing objects, before giving up on the rest


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


@dataclass
class Replayed:
    """What a replay labelled: fix sha → inducing commit → lines, for the fixes it reached; ``error`` is git's
    message when it stopped early (the fixes not in ``found`` were not reached)."""

    found: dict[str, dict[str, int]] = field(default_factory=dict)
    error: str | None = None


def replay_labels(path: str, fixes: list[Fix]) -> Replayed:
    """The labels of non-revert ``fixes`` by one annotate-by-replay pass (see the module docstring)."""
    wanted = {f.sha for f in fixes}
    if not wanted:
        return Replayed()
    stdin = ("\n".join(sorted(wanted)) + "\n").encode()
    order = run_git(path, "rev-list", "--topo-order", "--reverse", "--parents", "--stdin", input=stdin)
    if order.returncode != 0:
        return Replayed(error=f"git rev-list exited with {order.returncode}: {git_says(order.stderr)}"[:300])
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
                lines = base.get(sec.old) if sec.old is not None and not sec.created else None
                if lines is None or not is_source(sec.old or ""):
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
    with tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=err, env=git_env(),
                                bufsize=1 << 20)
        assert proc.stdin is not None and proc.stdout is not None
        try:
            proc.stdin.write(stdin)
            proc.stdin.close()
        except BrokenPipeError:
            pass
        current: str | None = None
        sections: list[list[_Section]] = []
        sec: _Section | None = None
        old_line = 0
        old_left = new_left = 0  # lines of the current hunk still to come (so a "--- x" line of content is content)
        for raw in proc.stdout:
            raw = raw.rstrip(b"\n")
            if old_left or new_left:
                c = raw[:1]
                if c == b"-" and old_left and sec is not None:
                    if current in wanted:
                        content = raw[1:]
                        if content.strip() and not COMMENT_LINE.match(content):
                            sec.countable.append(old_line)
                    old_line += 1
                    old_left -= 1
                    continue
                if c == b"+" and new_left:
                    new_left -= 1
                    continue
                if c == b"\\":  # "\ No newline at end of file"
                    continue
                old_left = new_left = 0
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
                rest = raw[11:]
                if rest.startswith(b"a/") and b" b/" in rest:
                    a, _, b = rest[2:].partition(b" b/")
                    sec.old, sec.new = decode_text(a), decode_text(b)
                continue
            if sec is None:
                continue
            if raw.startswith(b"@@"):
                m = _HUNK_FULL.match(raw)
                if m:
                    a, k, b, n = int(m[1]), int(m[2] or 1), int(m[3]), int(m[4] or 1)
                    sec.hunks.append((a, k, b, n))
                    old_line, old_left, new_left = a, k, n
            elif raw.startswith(b"--- "):
                sec.old = side_path(raw[4:])
                if sec.old is None:
                    sec.created = True
            elif raw.startswith(b"+++ "):
                sec.new = side_path(raw[4:])
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
        proc.stdout.close()
        code = proc.wait()
        if code == 0:
            finish(current, sections)  # the last commit's diff is complete only when git finished
            return Replayed(found)
        err.seek(0)
        return Replayed(found, f"git log -p exited with {code}: {git_says(err.read())}"[:300])


def _bot_author(name: str | None, email: str | None) -> bool:
    return is_bot(name) or is_bot(email)


def pending_fixes(conn: sqlite3.Connection, repo_id: int, pattern: str) -> list[Fix]:
    """Fix and revert commits in the store not labelled yet — never tried, pending or unreadable (merges,
    >100-file commits and bots' commits left out)."""
    rx = re.compile(pattern)
    done = {r[0] for r in conn.execute("SELECT sha FROM risk_szz_fixes WHERE repo_id = ? AND status = 'labelled'", (repo_id,))}
    return [f for f in _fixes(conn, repo_id, rx) if f.sha not in done]


def _fixes(conn: sqlite3.Connection, repo_id: int, rx: re.Pattern[str]) -> list[Fix]:
    """Every fix and revert commit in the store that SZZ labels."""
    out = []
    for sha, parents, when, subject, body, files, name, email in conn.execute(
        "SELECT sha, parents, committer_time, subject, body, files_changed, author_name, author_email FROM commits"
        " WHERE repo_id = ? AND parents != '' AND instr(parents, ' ') = 0 ORDER BY committer_time, sha",
        (repo_id,),
    ):
        if files > MAX_FIX_FILES or _bot_author(name, email):
            continue
        message = f"{subject}\n\n{body}" if body else subject
        reverted = _REVERTS.search(message)
        if subject.startswith("Revert ") and reverted:
            out.append(Fix(sha, parents, when, "revert", reverted.group(1)))
        elif rx.search(message):
            out.append(Fix(sha, parents, when, "fix", None))
    return out


@dataclass
class LabelCoverage:
    """How many of a repository's fixes SZZ has labelled: ``labelled`` (traced, even to nothing), ``pending``
    (not tried yet, or git failed on them: tried on the next run) and ``unreadable`` (git said objects they
    need are missing or corrupt; tried again once commits or objects arrive). ``error``: one of git's messages,
    if any."""

    fixes: int
    labelled: int
    pending: int
    unreadable: int
    error: str | None = None


def label_coverage(conn: sqlite3.Connection, repo_id: int, pattern: str) -> LabelCoverage:
    """How many of the repository's fixes (by ``pattern``) are labelled, pending and unreadable now."""
    config = conn.execute("SELECT fix_pattern, version, commits_seen FROM risk_label_config WHERE repo_id = ?",
                          (repo_id,)).fetchone()
    fresh = config is not None and config[0] == pattern and config[1] == LABEL_VERSION  # else every label is redone
    commits = conn.execute("SELECT count(*) FROM commits WHERE repo_id = ?", (repo_id,)).fetchone()[0]
    if fresh and config[2] == commits:  # the last labelling reached every fix, and no commit came since
        rows = dict(conn.execute("SELECT status, count(*) FROM risk_szz_fixes WHERE repo_id = ? GROUP BY status",
                                 (repo_id,)).fetchall())
        error = conn.execute("SELECT error FROM risk_szz_fixes WHERE repo_id = ? AND status = 'unreadable' LIMIT 1",
                             (repo_id,)).fetchone()
        done, unreadable = rows.get("labelled", 0), rows.get("unreadable", 0)
        return LabelCoverage(fixes=done + unreadable, labelled=done, pending=0, unreadable=unreadable,
                             error=error[0] if error else None)
    fixes = {f.sha for f in _fixes(conn, repo_id, re.compile(pattern))}
    status: dict[str, tuple[str, str | None]] = {}
    if fresh:
        status = {sha: (st, err) for sha, st, err in conn.execute(
            "SELECT sha, status, error FROM risk_szz_fixes WHERE repo_id = ?", (repo_id,))}
    labelled = sum(1 for s in fixes if status.get(s, ("",))[0] == "labelled")
    unreadable = [status[s][1] for s in fixes if status.get(s, ("",))[0] == "unreadable"]
    return LabelCoverage(fixes=len(fixes), labelled=labelled, pending=len(fixes) - labelled - len(unreadable),
                         unreadable=len(unreadable), error=next((e for e in unreadable if e), None))


def ensure_labels(store: Store, repo_id: int, path: str, pattern: str | None = None,
                  progress: Callable[[int, int], None] | None = None) -> int:
    """Label every fix in the store not labelled yet; returns how many fixes were labelled now.

    A fix pattern or labeller version (`LABEL_VERSION`) different from the stored labels' wipes them first.
    One transaction per batch of fixes. When the store holds as many commits as when labelling last finished
    and no fix is left pending — and, when some are unreadable, git's object store is as it was (`git
    count-objects`: no fetch brought objects since) — nothing is scanned. Fixes git cannot read are never
    stored as blaming nobody: see the module docstring.
    """
    pattern = pattern or fix_pattern()
    commits = store.read().execute("SELECT count(*) FROM commits WHERE repo_id = ?", (repo_id,)).fetchone()[0]
    with store.tx() as conn:
        row = conn.execute("SELECT fix_pattern, commits_seen, version, objects_seen FROM risk_label_config"
                           " WHERE repo_id = ?", (repo_id,)).fetchone()
        fresh = row is not None and row[0] == pattern and row[2] == LABEL_VERSION
        if fresh and row[1] == commits:
            unreadable = conn.execute("SELECT count(*) FROM risk_szz_fixes WHERE repo_id = ? AND status = 'unreadable'",
                                      (repo_id,)).fetchone()[0]
            if not unreadable or row[3] == objects_fingerprint(path):
                return 0  # nothing arrived since the last labelling reached every fix it could
        if not fresh:
            conn.execute("DELETE FROM risk_szz_fixes WHERE repo_id = ?", (repo_id,))
            conn.execute("DELETE FROM risk_szz_links WHERE repo_id = ?", (repo_id,))
            conn.execute(
                "INSERT INTO risk_label_config(repo_id, fix_pattern, commits_seen, version) VALUES (?, ?, -1, ?)"
                " ON CONFLICT(repo_id) DO UPDATE SET fix_pattern = excluded.fix_pattern, commits_seen = -1,"
                " version = excluded.version",
                (repo_id, pattern, LABEL_VERSION),
            )
    fixes = pending_fixes(store.read(), repo_id, pattern)
    if not fixes:
        _seen(store, repo_id, commits, path)
        return 0
    replayed = Replayed()
    plain = [f for f in fixes if f.kind == "fix"]
    if len(plain) >= REPLAY_MIN:
        replayed = replay_labels(path, plain)
        if replayed.error:
            log.warning("SZZ: the replay stopped in %s (%s); %d of %d fixes are labelled one by one", path,
                        replayed.error, len(plain) - len(replayed.found), len(plain))

    def label(f: Fix) -> dict[str, int] | GitFailed:
        if f.sha in replayed.found:
            return replayed.found[f.sha]
        if f.sha in given_up:
            return given_up[f.sha]
        try:
            return label_fix(path, f)
        except GitFailed as exc:
            return exc

    # When the replay stopped on missing objects, the fixes it did not reach are labelled one by one; if the
    # first `PROBE` of them all fail on missing objects too (a partial clone without file contents), the rest
    # are not tried one by one (each try can cost a fetch git refuses) but marked unreadable with that reason.
    given_up: dict[str, GitFailed] = {}
    if replayed.error and is_missing_objects(replayed.error):
        left = [f for f in plain if f.sha not in replayed.found]
        if len(left) > PROBE:
            probe = [label(f) for f in left[:PROBE]]
            if all(isinstance(r, GitFailed) and r.missing for r in probe):
                reason = GitFailed(f"not read one by one: the replay and the {PROBE} fixes tried alone before it all "
                                   f"hit missing objects ({replayed.error})")
                given_up = {f.sha: r for f, r in zip(left[:PROBE], probe, strict=True)}
                given_up |= {f.sha: reason for f in left[PROBE:]}
                log.warning("SZZ: %d fixes in %s not tried one by one: missing objects (partial clone?)",
                            len(left) - PROBE, path)

    workers = max(1, min(8, os.cpu_count() or 1))
    done = 0
    failed: list[GitFailed] = []
    with ThreadPoolExecutor(max_workers=workers) as pool:
        for start in range(0, len(fixes), BATCH):
            batch = fixes[start : start + BATCH]
            results = list(pool.map(label, batch))
            ok = [(f, r) for f, r in zip(batch, results, strict=True) if not isinstance(r, GitFailed)]
            bad = [(f, r) for f, r in zip(batch, results, strict=True) if isinstance(r, GitFailed)]
            failed += [r for _, r in bad]
            with store.tx() as conn:
                conn.executemany(
                    "INSERT OR REPLACE INTO risk_szz_fixes(repo_id, sha, kind, fixed_at, inducing, status, error)"
                    " VALUES (?,?,?,?,?,'labelled',NULL)",
                    [(repo_id, f.sha, f.kind, f.time, len(r)) for f, r in ok],
                )
                conn.executemany("DELETE FROM risk_szz_links WHERE repo_id = ? AND fix_sha = ?",
                                 [(repo_id, f.sha) for f, _ in ok])
                conn.executemany(
                    "INSERT OR REPLACE INTO risk_szz_links(repo_id, fix_sha, inducing_sha, lines) VALUES (?,?,?,?)",
                    [(repo_id, f.sha, s, n) for f, r in ok for s, n in r.items()],
                )
                # Unreadable: stored (with git's message) so coverage can say so; tried again when commits or
                # objects arrive.
                conn.executemany(
                    "INSERT OR REPLACE INTO risk_szz_fixes(repo_id, sha, kind, fixed_at, inducing, status, error)"
                    " VALUES (?,?,?,?,0,'unreadable',?)",
                    [(repo_id, f.sha, f.kind, f.time, r.message) for f, r in bad if r.missing],
                )
                # Any other git failure: no row at all, the fix stays pending.
                conn.executemany("DELETE FROM risk_szz_fixes WHERE repo_id = ? AND sha = ?",
                                 [(repo_id, f.sha) for f, r in bad if not r.missing])
            done += len(ok)
            if progress is not None:
                progress(start + len(batch), len(fixes))
    if failed:
        missing = sum(1 for r in failed if r.missing)
        log.warning("SZZ: git could not label %d fix(es) in %s (%d with missing or corrupt objects): %s; they are "
                    "tried again on the next run%s", len(failed), path, missing, failed[0].message,
                    "" if missing < len(failed) else " that brings commits or objects")
    if all(r.missing for r in failed):  # nothing pending: the next run needs new commits or objects to do more
        _seen(store, repo_id, commits, path)
    return done


def objects_fingerprint(path: str) -> str:
    """What `git count-objects -v` says about the repository's object store (changes when a fetch adds objects)."""
    proc = run_git(path, "count-objects", "-v")
    return decode_text(proc.stdout).strip() if proc.returncode == 0 else ""


def _seen(store: Store, repo_id: int, commits: int, path: str) -> None:
    with store.tx() as conn:
        conn.execute("UPDATE risk_label_config SET commits_seen = ?, objects_seen = ? WHERE repo_id = ?",
                     (commits, objects_fingerprint(path), repo_id))


def inducing_times(conn: sqlite3.Connection, repo_id: int) -> dict[str, int]:
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
