"""The git sync: brings the store's commits, file changes and tags of a repository up to date.

One streaming pass of ``git log -z --numstat -M`` over every local branch, tag, remote-tracking branch
and HEAD; rows go in with ``executemany``, one transaction per batch of commits, and the cursor (the ref
tips seen) is written in the last batch's transaction, so a crash mid-sync leaves the store consistent
and the next sync completes it. A sync whose refs did not move runs ``git for-each-ref`` and nothing else.

Merge commits are stored without file changes (like plain ``git log --numstat``). Binary files have
NULL additions/deletions and count 0 in the commit's totals. Times are Unix seconds (UTC).

Git never touches the network (`engmetrics.sources.git.run`): a partial clone is read without line
counts (paths only) and says so in ``skipped``. Nothing is ever printed to stdout.
"""

from __future__ import annotations

import logging
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from engmetrics.sources.bulk_load import paused_checkpoints
from engmetrics.sources.git.commit_writer import DEFER_INDEXES_MIN, CommitWriter
from engmetrics.sources.git.log_parser import NO_DIFF, NUMSTAT, RAW
from engmetrics.sources.git.log_stream import CommitCounter, stream_log
from engmetrics.sources.git.refs import head_commit, read_refs, ref_tips, tag_rows
from engmetrics.sources.git.repository import check_repository, default_branch_of, is_partial_clone, shallow_boundary
from engmetrics.sources.git.storage import (
    history_indexes_deferred,
    load_tips,
    reconcile_tags,
    restore_history_indexes,
    save_tips,
)
from engmetrics.store.db import Store
from engmetrics.store.connection import Connection

log = logging.getLogger(__name__)

BATCH_SIZE = 5000


@dataclass
class GitSyncResult:
    """What one git sync changed."""

    new_commits: int
    new_tags: int  # tags added or moved
    walked_history: bool  # False when refs did not change (no history walk at all)
    skipped: list[str] = field(default_factory=list)  # human-readable notes of what could not be read
    default_branch: str | None = None


def sync_git(
    store: Store,
    repo_id: int,
    path: str,
    progress: Callable[[int, int | None], None] | None = None,
    *,
    batch_size: int = BATCH_SIZE,
    defer_indexes_min: int = DEFER_INDEXES_MIN,
) -> GitSyncResult:
    """Bring the store's commits, file changes and tags of ``repo_id`` up to date with the repository.

    Incremental: walks only commits reachable from the refs' new tips and not from those of the last
    sync; when no ref moved, runs `git for-each-ref` only and writes nothing. The repositories row
    (``default_branch``, ``last_synced_at``) is left to the caller.

    ``progress(done_commits, total_or_None)`` is called after each batch of ``batch_size`` commits
    (the total comes from a ``git rev-list --count`` run alongside, None until it answers). An
    exception from it aborts the sync, keeping the batches already written; the next sync completes
    them. Never raises for unreadable objects: what could not be read is listed in ``skipped``.

    A first load into empty history tables whose first batch holds at least ``defer_indexes_min``
    commits builds the secondary indexes once at the end (in the final transaction) rather than row
    by row; if the sync dies in between, the next sync (or the failing one, on its way out) rebuilds them.
    Raises `DataError` for a bad path or a non-repository.
    """
    top = check_repository(path)
    if history_indexes_deferred(store.read()):
        with store.tx() as conn:  # a bulk load died before rebuilding its indexes: rebuild them now
            restore_history_indexes(conn)
    skipped: list[str] = []
    refs = read_refs(top, skipped)
    head = head_commit(top)
    tips = ref_tips(refs, head, top)
    branch = default_branch_of(refs, top)
    old = load_tips(store.read(), repo_id)
    if old is not None and old == tips:
        return GitSyncResult(0, 0, False, skipped, branch)

    now = int(time.time())
    tags = tag_rows(top, refs, skipped)
    new_tags = 0

    complete = True  # False when the history walk failed: no cursor, so the next sync walks again

    def final(conn: Connection) -> None:
        nonlocal new_tags
        new_tags = reconcile_tags(conn, repo_id, tags, skipped)
        if complete:
            save_tips(conn, repo_id, tips, now)

    new_tips = sorted(set(tips.values()))
    if not new_tips:
        skipped.append("the repository has no commits yet")
        writer = CommitWriter(store, repo_id, batch_size, progress, lambda: 0)
        writer.flush(final)
        return GitSyncResult(0, new_tags, False, skipped, branch)

    old_tips = sorted(set(old.values())) if old else []
    revs = "".join([*(f"{s}\n" for s in new_tips), *(f"^{s}\n" for s in old_tips)]).encode()

    mode = NUMSTAT
    if is_partial_clone(top):
        mode = RAW
        skipped.append(
            "partial clone (file contents are fetched on demand): line counts were not read, to stay off "
            "the network; file paths are recorded with unknown additions/deletions"
        )
    shallow = shallow_boundary(top)
    if shallow:
        skipped.append(
            f"shallow clone: history before {len(shallow)} boundary commit(s) is not in the repository; "
            "their parents and file changes are not recorded"
        )

    counter = CommitCounter(top, revs)
    writer = CommitWriter(store, repo_id, batch_size, progress, counter, defer_indexes_min)
    writer.shallow = shallow
    try:
        # No checkpoints until the sync is done; the first commit after the setting is restored
        # checkpoints the whole WAL once.
        with paused_checkpoints(store.read()):
            try:
                ok, error = stream_log(top, mode, revs, writer.add)
                while not ok:
                    log.warning("git log (%s) failed in %s: %s", mode, top, error)
                    if mode == NO_DIFF:
                        skipped.append(
                            f"history could not be read past {writer.done} commit(s) ({error}); kept what was read, "
                            "and the next sync will try again"
                        )
                        complete = False
                        break
                    skipped.append(
                        f"git log with file changes stopped after {writer.done} commit(s) ({error}); "
                        "the remaining commits are recorded without file changes"
                    )
                    mode = NO_DIFF
                    ok, error = stream_log(top, mode, revs, writer.add)
                writer.flush(final)
            finally:
                counter.close()
    finally:
        if writer.deferred:  # stopped by an exception after dropping the indexes: put them back
            try:
                with store.tx() as c:
                    restore_history_indexes(c)
            except sqlite3.Error:  # the next sync rebuilds them (their SQL is kept in kv)
                log.warning("could not rebuild the history indexes of %s now; the next sync will", store.path)
    return GitSyncResult(writer.new, new_tags, True, skipped, branch)
