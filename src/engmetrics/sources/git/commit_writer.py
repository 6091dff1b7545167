"""Parsed commits turned into ``commits`` rows and written in batches, one transaction per batch.

A first load into empty history tables drops their secondary indexes in its first batch and rebuilds
them in the final transaction (`engmetrics.sources.bulk_load`). Merge commits come without file changes;
binary files count 0 in a commit's totals. Times are Unix seconds.
"""

from __future__ import annotations

import json
from collections.abc import Callable

from engmetrics.sources.git.log_parser import FileRow
from engmetrics.sources.git.messages import parse_trailers, split_message
from engmetrics.sources.git.storage import CommitRow, defer_history_indexes, history_empty, insert_commits, restore_history_indexes
from engmetrics.store.db import Store
from engmetrics.store.connection import Connection

DEFER_INDEXES_MIN = 2000  # commits in the first batch of a first load for the index build to be deferred


def commit_row(h: list[str], files: list[FileRow]) -> CommitRow:
    """The ``commits`` row of a parsed commit (its `log_parser.HEADER_FIELDS` fields and its files)."""
    sha, parents, an, ae, at, cn, ce, ct, message = h
    subject, body = split_message(message)
    trailers = parse_trailers(message)
    adds = dels = 0
    for f in files:
        if f[2] is not None:
            adds += f[2]
        if f[3] is not None:
            dels += f[3]
    return (
        sha, an, ae, int(at or 0), cn, ce, int(ct or 0), parents.strip(), subject, body,
        json.dumps([list(t) for t in trailers], ensure_ascii=False) if trailers else "[]",
        adds, dels, len(files),
    )


class CommitWriter:
    """Collects commits and writes them in batches, skipping those already stored (see `storage.insert_commits`).

    ``progress(done, total_or_None)`` is called after each batch; ``total()`` is the number of commits
    to walk once known.
    """

    def __init__(self, store: Store, repo_id: int, batch_size: int,
                 progress: Callable[[int, int | None], None] | None, total: Callable[[], int | None],
                 defer_min: int = DEFER_INDEXES_MIN) -> None:
        self.store, self.repo_id, self.batch_size = store, repo_id, batch_size
        self.progress, self.total = progress, total
        self.commits: list[CommitRow] = []
        self.files: dict[str, list[FileRow]] = {}
        self.new = 0
        self.shallow: frozenset[str] = frozenset()
        self.seen: set[str] = set()
        self.defer_min = defer_min
        self.batches = 0
        self.deferred = False

    @property
    def done(self) -> int:
        """Commits parsed so far in this sync (stored now or before)."""
        return len(self.seen)

    def add(self, header: list[str], files: list[FileRow]) -> None:
        """Take one parsed commit (a `log_parser.EmitFn`); writes a batch when it is full."""
        sha = header[0]
        if sha in self.seen:
            return
        self.seen.add(sha)
        if sha in self.shallow:
            files = []  # a grafted boundary: its diff against "nothing" would count its whole tree
        self.commits.append(commit_row(header, files))
        if files:
            self.files[sha] = files
        if len(self.commits) >= self.batch_size:
            self.flush()

    def flush(self, final: Callable[[Connection], None] | None = None) -> None:
        """Write the pending batch; ``final(conn)`` runs in the same transaction (cursor, tags)."""
        commits, files = self.commits, self.files
        self.commits, self.files = [], {}
        if commits or final is not None:
            with self.store.tx() as conn:
                if commits:
                    if self.batches == 0 and len(commits) >= self.defer_min and history_empty(conn):
                        self.deferred = defer_history_indexes(conn)
                    self.batches += 1
                    self.new += insert_commits(conn, self.repo_id, commits, files)
                if final is not None:
                    final(conn)
                    if self.deferred:
                        restore_history_indexes(conn)
                        self.deferred = False
        if self.progress is not None and (commits or final is not None):
            self.progress(self.done, self.total())
