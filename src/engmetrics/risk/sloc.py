"""Source lines added by each commit: the lines it adds that are not blank and not comment-only.

These are exactly the lines SZZ can later trace a fix back to (it ignores whitespace-only edits, blank lines
and comment-only lines), so they measure how much of a change a later fix can land on — more directly than
lines added (``la``), which also counts blank lines, comments and re-indentation.

Counted from one streaming ``git log --no-walk --stdin -p -U0 -w`` pass over the commits (whitespace-only
edits are not additions; binary files add nothing), and stored per commit in ``risk_sloc`` so later runs
count only new commits. A commit git cannot diff (missing objects in a partial clone) is stored as -1:
unknown, and the feature falls back to lines added for it.
"""

from __future__ import annotations

import logging
import subprocess
import time
from collections.abc import Iterable, Iterator

from engmetrics.risk.szz import COMMENT_LINE
from engmetrics.sources.git import decode_text, git_command, git_env
from engmetrics.store.db import Store

log = logging.getLogger(__name__)
UNKNOWN = -1


def _count(lines: Iterable[bytes]) -> Iterator[tuple[str, int]]:
    """(sha, source lines added) per commit of a ``--format=%x1e%H -p -U0`` stream, in its order."""
    sha: str | None = None
    n = 0
    in_hunk = False
    for line in lines:
        if line.startswith(b"\x1e"):
            if sha is not None:
                yield sha, n
            sha, n, in_hunk = decode_text(line[1:]).strip(), 0, False
        elif line.startswith(b"diff --git "):
            in_hunk = False
        elif line.startswith(b"@@"):
            in_hunk = True
        elif in_hunk and line.startswith(b"+"):
            body = line[1:]
            if body.strip() and not COMMENT_LINE.match(body):
                n += 1
    if sha is not None:
        yield sha, n


def count_added_sloc(path: str, shas: list[str]) -> dict[str, int]:
    """{sha: source lines added} for the non-merge commits ``shas`` of the repository at ``path``.

    Commits git could not diff are `UNKNOWN` (-1); the reason is logged.
    """
    if not shas:
        return {}
    cmd = git_command(path, "log", "--no-walk=unsorted", "--stdin", "-p", "-U0", "-w", "--no-color", "--no-ext-diff",
                      "--no-textconv", "--diff-merges=off", "-M", "--format=%x1e%H")
    proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=git_env())
    assert proc.stdin is not None and proc.stdout is not None and proc.stderr is not None
    proc.stdin.write("".join(f"{s}\n" for s in shas).encode())  # git reads all of stdin before it writes
    proc.stdin.close()
    counts = dict(_count(proc.stdout))
    err = proc.stderr.read()
    if proc.wait() != 0:
        log.warning("source lines added: git log -p stopped in %s (%s); %d commit(s) left unknown", path,
                    decode_text(err).strip()[:200], len(set(shas) - set(counts)))
        last = next(reversed(counts), None)
        if last is not None:
            counts.pop(last)  # its diff may have been cut short
    return {s: counts.get(s, UNKNOWN) for s in shas}


def ensure_sloc(store: Store, repo_id: int, path: str) -> int:
    """Count the source lines added of every stored commit not counted yet; returns how many were new.

    Merge commits are stored as 0 (their changes are counted in the merged commits), so a repository is fully
    counted when it has as many rows here as commits: that check is all a run with nothing new costs.
    """
    conn = store.read()
    commits = conn.execute("SELECT count(*) FROM commits WHERE repo_id = ?", (repo_id,)).fetchone()[0]
    counted = conn.execute("SELECT count(*) FROM risk_sloc WHERE repo_id = ?", (repo_id,)).fetchone()[0]
    if counted >= commits:
        return 0
    todo = conn.execute(
        "SELECT c.sha, instr(c.parents, ' ') > 0 FROM commits c LEFT JOIN risk_sloc s"
        " ON s.repo_id = c.repo_id AND s.sha = c.sha WHERE c.repo_id = ? AND s.sha IS NULL ORDER BY c.committer_time",
        (repo_id,),
    ).fetchall()
    started = time.perf_counter()
    counts = count_added_sloc(path, [sha for sha, merge in todo if not merge])
    counts.update({sha: 0 for sha, merge in todo if merge})
    log.info("source lines added of %d commit(s) counted in %.1fs", len(todo), time.perf_counter() - started)
    with store.tx() as c:
        c.executemany("INSERT OR REPLACE INTO risk_sloc(repo_id, sha, added) VALUES (?,?,?)",
                      [(repo_id, s, n) for s, n in counts.items()])
    return len(todo)
