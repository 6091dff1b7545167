"""Writing pull requests to the store: in a worker thread, or in a separate writer process fed page by page.

`PullRequestWriter` writes pages of PR nodes (or their `pr_rows`), ~`PR_WRITE_BATCH` PRs per
transaction. A first load into empty PR tables drops their secondary indexes and builds them once in
`PullRequestWriter.finish` (`engmetrics.sources.bulk_load`).

The writer process (`writer_main`, started by `start_pr_writer`) reads frames on stdin: a 4-byte
big-endian length, then a type byte and a page — ``J`` a raw PR_QUERY answer, parsed there, or ``M``
`marshal` data (PR nodes or their rows); length 0 ends. It is given no token.
"""

from __future__ import annotations

import json
import logging
import marshal
import os
import struct
import subprocess
import sys
from collections.abc import Sequence
from typing import Any

import anyio
import anyio.abc

import engmetrics
from engmetrics.errors import DataError
from engmetrics.sources.bulk_load import paused_checkpoints
from engmetrics.sources.github.pr_query import raw_page_nodes
from engmetrics.sources.github.pr_rows import PrRows, pr_rows
from engmetrics.sources.github.storage import (
    defer_pr_indexes,
    pr_indexes_deferred,
    pr_tables_empty,
    restore_pr_indexes,
    stored_pr_numbers,
    write_pr_rows,
)
from engmetrics.sources.pr_table import PR_UPDATED_AT
from engmetrics.store.db import SqliteStore, Store

log = logging.getLogger(__name__)

PR_WRITE_BATCH = 1000  # pull requests per write transaction
_RAW, _ROWS = b"J", b"M"  # frame types: a raw PR_QUERY answer, or `marshal` data

Page = list[dict[str, Any]] | list[PrRows]
"""A non-empty list of GraphQL PR nodes, or of their `pr_rows`."""


class PullRequestWriter:
    """Writes pages of PR nodes for one repository, one transaction per `write`.

    A first load into empty PR tables drops their secondary indexes and builds them once in `finish`.
    Used in a worker thread, or in the writer process (`writer_main`).
    """

    def __init__(self, store: Store, repo_id: int, *, many: bool = False) -> None:
        """``many``: more than one page is coming (the indexes of a first load are deferred from the start)."""
        self.store, self.repo_id, self.many = store, repo_id, many
        conn = store.read()
        if pr_indexes_deferred(conn):
            with store.tx() as c:  # a first load died before rebuilding the PR indexes: rebuild them now
                restore_pr_indexes(c)
        self.known: set[int] = stored_pr_numbers(conn, repo_id)
        self.bulk = not self.known and pr_tables_empty(conn)
        self.deferred = False
        self.written = 0
        self.newest = 0

    def write(self, pages: Sequence[Page]) -> int:
        """Write the pages in one transaction; returns the PRs written."""
        # No WAL checkpoint at these commits (each one an fsync): the cursor's transaction at the end,
        # with the usual setting, checkpoints once.
        with paused_checkpoints(self.store.read()), self.store.tx() as c:
            if self.bulk and not self.deferred and (self.many or sum(map(len, pages)) >= PR_WRITE_BATCH):
                self.deferred = defer_pr_indexes(c)
            converted = [[n if isinstance(n, tuple) else pr_rows(self.repo_id, n) for n in page] for page in pages]
            written = sum(write_pr_rows(c, self.repo_id, page, self.known) for page in converted)
        self.newest = max(self.newest, max((r[0][PR_UPDATED_AT] or 0 for page in converted for r in page), default=0))
        self.written += written
        return written

    def finish(self) -> None:
        """Build the indexes a first load deferred."""
        if self.deferred:
            with self.store.tx() as c:
                restore_pr_indexes(c)
            self.deferred = False


def writer_main() -> None:
    """The PR writer process: ``python -c '…writer_main()' <database> <repo id>``.

    Reads frames from stdin (see the module docstring) and writes each page in its own transaction
    (commits are cheap in WAL mode, and the last one is then small), then prints
    ``{"written": n, "newest": t}`` on stdout. On an error it prints a one-line description on stderr and
    exits with status 1.
    """
    try:
        store = SqliteStore(sys.argv[1])
        writer = PullRequestWriter(store, int(sys.argv[2]), many=True)
        stdin = sys.stdin.buffer
        while True:
            head = stdin.read(4)
            n = struct.unpack("!I", head)[0] if len(head) == 4 else 0
            if n == 0:
                break
            frame = stdin.read(n)
            if frame[:1] == _RAW:
                nodes = raw_page_nodes(frame[1:])
                if nodes:
                    writer.write([nodes])
            else:
                writer.write([marshal.loads(memoryview(frame)[1:])])
        writer.finish()
        store.close()
    except Exception as exc:  # noqa: BLE001 — reported to the parent, which raises it as a DataError
        sys.stderr.write(f"{type(exc).__name__}: {exc}"[:500] + "\n")
        sys.stderr.flush()
        os._exit(1)
    sys.stdout.write(json.dumps({"written": writer.written, "newest": writer.newest}))
    sys.stdout.flush()
    os._exit(0)  # nothing left to clean up: skip the interpreter's shutdown


async def start_pr_writer(store: Store, repo_id: int) -> anyio.abc.Process | None:
    """Start the PR writer process for a SQLite file store (None for an in-memory or a PostgreSQL one, or if it
    cannot start: the pages are then written in a thread)."""
    if store.dialect != "sqlite" or store.path == ":memory:" or not os.path.exists(store.path):
        return None
    env = {k: v for k, v in os.environ.items() if k not in ("GITHUB_TOKEN", "ENGMETRICS_GITHUB_TOKEN")}
    root = os.path.dirname(os.path.dirname(os.path.abspath(engmetrics.__file__)))
    env["PYTHONPATH"] = os.pathsep.join([root, *filter(None, [env.get("PYTHONPATH")])])
    try:
        return await anyio.open_process(
            [sys.executable, "-c", "from engmetrics.sources.github.pr_writer import writer_main; writer_main()",
             store.path, str(repo_id)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
        )
    except OSError as exc:
        log.info("PR writer process not started (%s); writing in a thread", exc)
        return None


async def send_page(proc: anyio.abc.Process, page: bytes | Page) -> None:
    """Send one page to the writer process: a raw PR_QUERY answer (bytes), or PR nodes or their rows."""
    assert proc.stdin is not None
    body = _RAW + page if isinstance(page, bytes) else _ROWS + marshal.dumps(page)
    await proc.stdin.send(struct.pack("!I", len(body)) + body)


async def _read_all(stream: anyio.abc.ByteReceiveStream, sink: list[bytes]) -> None:
    async for chunk in stream:
        sink.append(chunk)


async def finish_pr_writer(proc: anyio.abc.Process) -> tuple[int, int]:
    """Close the writer process's input, wait for it, and return (PRs written, newest updated_at).

    Raises `DataError` with the writer's message when it failed."""
    assert proc.stdin is not None and proc.stdout is not None and proc.stderr is not None
    try:
        await proc.stdin.send(struct.pack("!I", 0))
        await proc.stdin.aclose()
    except (anyio.BrokenResourceError, OSError):
        pass  # it stopped early: its status and message say why
    outs: list[bytes] = []
    errs: list[bytes] = []
    async with anyio.create_task_group() as tg:
        tg.start_soon(_read_all, proc.stdout, outs)
        tg.start_soon(_read_all, proc.stderr, errs)
    out, err = b"".join(outs), b"".join(errs)
    code = await proc.wait()
    if code != 0:
        detail = err.decode("utf-8", "replace").strip().splitlines()
        raise DataError(f"Writing pull requests to the store failed ({detail[-1] if detail else f'exit status {code}'}).")
    done = json.loads(out)
    return int(done["written"]), int(done["newest"])
