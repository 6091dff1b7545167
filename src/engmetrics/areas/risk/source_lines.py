"""Lines each commit adds, by file type; its source lines added are the ones that are code.

**Source lines added** are the added lines of source files (`engmetrics.filekinds.is_source`: a programming
language, and not documentation, tests, generated or vendored files, configuration or data) that are not
blank and not comment-only. These are exactly the lines SZZ can later trace a fix back to (it blames only
source files, and ignores whitespace-only edits, blank lines and comment-only lines), so they measure how
much of a change a later fix can land on — more directly than lines added (``la``), which also counts
documentation, tests, blank lines, comments and re-indentation. Every other file's added lines are counted
too, as non-blank lines by kind and file type ("45 lines of Markdown documentation"), so a score can say
what it counted.

Counted from one streaming ``git log --no-walk --stdin -p -U0 -w`` pass over the commits (whitespace-only
edits are not additions; binary files add nothing). The source lines are stored per commit in ``risk_sloc``
so later runs count only new commits.

Every ``git`` exit status is checked. When git stops, the commits it finished are kept, the one it stopped in
is read alone, and the pass goes on after it (at most `MAX_RESTARTS` times a run; commits not reached are
counted on the next run). A commit git cannot diff because its objects are missing or corrupt (a partial or
damaged clone) is stored as -1, unknown, and the feature falls back to the lines added to its source files;
when `MAX_RESTARTS` commits in a row are so (a partial clone without file contents), the rest are stored as
unknown too. A commit git failed on for any other reason is not stored and is counted again on the next run.
"""

from __future__ import annotations

import logging
import subprocess
import tempfile
import time
from collections.abc import Iterable, Iterator

from engmetrics.areas.risk import queries
from engmetrics.areas.risk.git_output import COMMENT_LINE, git_says, is_missing_objects, side_path
from engmetrics.areas.risk.metrics.changes import AddedLines
from engmetrics.filekinds import kind_of, language_of
from engmetrics.sources.git.run import decode_text, git_command, git_env
from engmetrics.store.db import Store

log = logging.getLogger(__name__)
UNKNOWN = -1
MAX_RESTARTS = 20


def _count(lines: Iterable[bytes]) -> Iterator[tuple[str, AddedLines]]:
    """(sha, lines added) per commit of a ``--format=%x1e%H -p -U0`` stream, in its order."""
    sha: str | None = None
    added = AddedLines()
    in_hunk = False
    key: tuple[str, str] | None = None
    source = False
    counted_file = False
    for line in lines:
        if line.startswith(b"\x1e"):
            if sha is not None:
                yield sha, added
            sha, added, in_hunk, key = decode_text(line[1:]).strip(), AddedLines(), False, None
        elif line.startswith(b"diff --git "):
            in_hunk, key = False, None
        elif not in_hunk and line.startswith(b"+++ "):
            name = side_path(line[4:].rstrip(b"\n"))
            if name is not None:
                kind = kind_of(name)
                key, source, counted_file = (kind, language_of(name)), kind == "source", False
        elif line.startswith(b"@@"):
            in_hunk = True
        elif in_hunk and key is not None and line.startswith(b"+"):
            body = line[1:]
            if not body.strip() or (source and COMMENT_LINE.match(body)):
                continue
            got = added.by_type.setdefault(key, [0, 0])
            got[0] += 1
            if not counted_file:
                got[1] += 1
                counted_file = True
            if source:
                added.source += 1
    if sha is not None:
        yield sha, added


def _stream(path: str, shas: list[str]) -> tuple[dict[str, AddedLines], int, str]:
    """One ``git log -p`` pass over ``shas`` (in that order): (the commits it printed, exit status, git's error)."""
    cmd = git_command(path, "log", "--no-walk=unsorted", "--stdin", "-p", "-U0", "-w", "--no-color", "--no-ext-diff",
                      "--no-textconv", "--diff-merges=off", "-M", "--format=%x1e%H")
    with tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=err, env=git_env())
        assert proc.stdin is not None and proc.stdout is not None
        try:
            proc.stdin.write("".join(f"{s}\n" for s in shas).encode())  # git reads all of stdin before it writes
            proc.stdin.close()
        except BrokenPipeError:
            pass
        counts = dict(_count(proc.stdout))
        proc.stdout.close()
        code = proc.wait()
        err.seek(0)
        message = git_says(err.read())
    return counts, code, message


def count_added_lines(path: str, shas: list[str]) -> dict[str, AddedLines | None]:
    """{sha: lines added} for the non-merge commits ``shas`` of the repository at ``path``.

    None: git reported the commit's objects missing or corrupt (unknown). A commit absent from the answer
    was not reached (git failed for another reason, or too many restarts): count it again later.
    """
    out: dict[str, AddedLines | None] = {}
    todo = list(shas)
    restarts = missing_in_a_row = 0
    while todo:
        got, code, message = _stream(path, todo)
        if code == 0:
            out.update(got)
            break
        printed = list(got)  # --no-walk=unsorted: in the order asked
        done = printed[:-1]  # the last one printed may be cut short: git may have stopped in it
        out.update({s: got[s] for s in done})
        left = [s for s in todo if s not in out]
        suspect = printed[-1] if printed else left[0]
        todo = [s for s in left if s != suspect]
        alone, code_alone, message_alone = _stream(path, [suspect])
        restarts += 1
        if code_alone == 0 and suspect in alone:
            out[suspect] = alone[suspect]
            missing_in_a_row = 0
        elif is_missing_objects(message_alone):
            out[suspect] = None
            missing_in_a_row += 1
            log.info("lines added: git cannot diff %s in %s (%s); its source lines are unknown", suspect[:12], path,
                     message_alone[:200])
        else:
            log.warning("lines added: git failed in %s (%s); %d commit(s) left to count on the next run", path,
                        (message_alone or message)[:200], len(todo) + 1)
            break
        if missing_in_a_row >= MAX_RESTARTS and todo:  # a partial clone without file contents: the rest are alike
            log.warning("lines added: git cannot read the objects of %d commits in a row in %s (partial clone?); the "
                        "source lines of the %d left are unknown too", missing_in_a_row, path, len(todo))
            out.update({s: None for s in todo})
            break
        if restarts >= MAX_RESTARTS and todo:
            log.warning("lines added: git stopped %d times in %s; %d commit(s) left to count on the next run",
                        restarts, path, len(todo))
            break
    return out


def count_added_sloc(path: str, shas: list[str]) -> dict[str, int]:
    """{sha: source lines added} for the commits git could count (`UNKNOWN`, -1: its objects are missing)."""
    return {s: UNKNOWN if a is None else a.source for s, a in count_added_lines(path, shas).items()}


def ensure_sloc(store: Store, repo_id: int, path: str) -> int:
    """Count the source lines added of every stored commit not counted yet; returns how many were counted now.

    Merge commits are stored as 0 (their changes are counted in the merged commits), so a repository is fully
    counted when it has as many rows here as commits: that check is all a run with nothing new costs.
    """
    conn = store.read()
    if queries.sloc_count(conn, repo_id) >= queries.commit_count(conn, repo_id):
        return 0
    todo = queries.uncounted_commits(conn, repo_id)
    started = time.perf_counter()
    counts = count_added_sloc(path, [c.sha for c in todo if not c.merge])
    counts.update({c.sha: 0 for c in todo if c.merge})
    log.info("source lines added of %d commit(s) counted in %.1fs", len(counts), time.perf_counter() - started)
    with store.tx() as tx:
        queries.save_sloc(tx, repo_id, counts)
    return len(counts)
