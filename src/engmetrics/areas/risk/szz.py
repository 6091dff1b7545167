"""SZZ tracing: the commits a fix's changed lines come from (each a **bug-inducing commit**).

- For each line of a **source file** (`engmetrics.filekinds.is_source`: not documentation, tests, generated
  or vendored files, configuration or data) that a fix deletes or modifies (``git diff -U0 -w`` against its
  first parent, so whitespace-only edits do not count; blank lines and comment-only lines are ignored),
  ``git blame --porcelain -w`` on the fix's parent names the commit that last touched that line.
- A revert (``This reverts commit <sha>``) marks the reverted commit as inducing when it changed the product
  (at least one file other than documentation, tests, CI configuration or repository metadata).
- Every ``git`` exit status is checked: a fix git cannot read raises `GitFailed` (nothing is guessed).
- **Annotate by replay** (many fixes to label): instead of one ``git blame`` per fix, a single
  ``git log -m -p -U0 -w -M`` pass over the fixes' ancestry (parents before children) keeps, for each
  file, the commit that last touched each of its lines: a commit's hunks replace the origins of the lines
  they delete and add lines owned by the commit; a merge takes each line from the first parent in which it
  is unchanged (else the merge owns it), as blame does; renames carry the origins along. The origin of a
  line a fix deletes is then read from its parent's state. This is O(total diff size) instead of one
  history walk per file and fix. A few new fixes (fewer than `REPLAY_MIN`) are labelled with blame, and so
  are the fixes a replay did not reach (git stopped before them). Which fixes need labelling, and storing
  the labels, is `engmetrics.areas.risk.labelling`'s job.
"""

from __future__ import annotations

import re
import subprocess
import tempfile
from dataclasses import dataclass, field

from engmetrics.areas.risk.git_output import COMMENT_LINE, GitFailed, check_exit, git_says, side_path, unquote_path
from engmetrics.areas.risk.metrics.fixes import Fix
from engmetrics.filekinds import is_product, is_source
from engmetrics.sources.git.run import decode_text, git_command, git_env, run_git

_HUNK_FULL = re.compile(rb"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@")


def deleted_lines(path: str, fix: str, parent: str) -> dict[str, list[int]]:
    """Old path → line numbers (in ``parent``) that ``fix`` deletes or modifies in source files, blank and
    comment-only lines left out. Raises `GitFailed` when git cannot diff them."""
    proc = run_git(path, "diff", "-U0", "-w", "--no-color", "--no-ext-diff", "--no-textconv", "-M", parent, fix)
    check_exit(proc, f"diff {parent[:12]} {fix[:12]}")
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
    check_exit(proc, f"blame {parent[:12]} -- {file}")
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
        check_exit(proc, f"rev-parse {fix.reverted} (the reverted commit)")
        sha = decode_text(proc.stdout).strip()
        files = run_git(path, "diff-tree", "-r", "--root", "--no-commit-id", "--name-only", "-z",
                        "--diff-merges=first-parent", sha)
        check_exit(files, f"diff-tree {sha[:12]} (the reverted commit)")
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
                    old_name, _, new_name = rest[2:].partition(b" b/")
                    sec.old, sec.new = decode_text(old_name), decode_text(new_name)
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
                sec.old = unquote_path(raw[12:])
            elif raw.startswith(b"rename to "):
                sec.new = unquote_path(raw[10:])
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
