"""The pull request part of a repository's GitHub sync: pages of PRs fetched, parsed and written at once.

Each endpoint's first page is a conditional request: a 304 to the pulls probe means nothing changed and
nothing else is fetched. Otherwise PRs are read newest-updated first and reading stops at the stored
``updated_at`` cursor; the cursor and ETag are written last, so a crash leaves a consistent store and the
next sync completes it. Times are Unix seconds.
"""

from __future__ import annotations

import json
import logging
from typing import Any

import anyio
import anyio.abc
import anyio.to_thread

from engmetrics.errors import EngmetricsError, RemoteError
from engmetrics.sources.github.client import GitHubClient
from engmetrics.sources.github.graphql_errors import GraphQLError
from engmetrics.sources.github.pr_pages import PullFetch, failure_note, left_out_note, whole_nodes
from engmetrics.sources.github.pr_query import PR_PAGE_FLOOR, PR_PAGE_SIZE, PR_QUERY, raw_page_info, raw_page_nodes
from engmetrics.sources.github.pr_rows import pr_rows
from engmetrics.sources.github.pr_writer import (
    PR_WRITE_BATCH,
    Page,
    PullRequestWriter,
    finish_pr_writer,
    send_page,
    start_pr_writer,
)
from engmetrics.sources.github.result import GitHubSyncResult, ProgressFn
from engmetrics.sources.github.storage import (
    load_etag,
    load_updated_cursor,
    pr_indexes_deferred,
    restore_pr_indexes,
    save_etag,
    save_updated_cursor,
)
from engmetrics.store.db import Store

log = logging.getLogger(__name__)

_CURSOR = "github:pulls"  # the sync_cursors source: the newest updated_at stored
_MAIN_SHARE = 3  # with a writer process, a re-sync converts every third page itself
_RAW_SHARE = 4  # a first load sends every fourth page raw to the writer process and converts the others itself


def first_error(exc: BaseException) -> BaseException:
    """The first exception inside (nested) exception groups; ``exc`` itself when it is not a group."""
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        exc = exc.exceptions[0]
    return exc


async def sync_pulls(store: Store, client: GitHubClient, repo_id: int, slug: str, result: GitHubSyncResult,
                     progress: ProgressFn | None) -> None:
    """Pull requests: one task fetches and parses pages; the writing overlaps it.

    A sync of one page is written in a worker thread. A longer one is written by a separate process
    (`pr_writer.writer_main`): converting and inserting rows is Python work that, in a thread, would share
    the GIL with the fetching and parsing and so run in series with them. To balance the load, a first
    load sends one page in `_RAW_SHARE` as the raw answer (this process reads only its ``pageInfo``; one
    with ``"errors"`` in it is parsed here as usual) and parses and converts the others itself (sending
    rows as `marshal` data); a longer re-sync sends parsed nodes and converts one page in `_MAIN_SHARE` itself.

    GraphQL errors: a timeout or a node/resource limit asks for the same page again with half as many
    PRs, down to `PR_PAGE_FLOOR` (the rest of the sync keeps the smaller size); a page with errors
    inside some PRs keeps the others (`pr_pages.whole_nodes`). Anything else stops the fetch: what was read
    before is written, the cursor and ETag stay as they were (the next sync reads those PRs again),
    and a note says why. PRs left out keep the cursor at or before their time, and the ETag unsaved.
    """
    conn = store.read()
    probe = await client.request(
        "GET", f"/repos/{slug}/pulls", params={"state": "all", "sort": "updated", "direction": "desc", "per_page": 1},
        etag=load_etag(conn, repo_id, "pulls"),
    )
    if probe.status_code == 304:
        result.unchanged_endpoints.append("pulls")
        return
    since = load_updated_cursor(conn, repo_id, _CURSOR)
    owner, name = slug.split("/", 1)
    newest = since
    got = PullFetch()
    # (PR nodes, or a raw page of that many, whether more pages follow)
    send, recv = anyio.create_memory_object_stream[tuple[list[dict[str, Any]] | bytes, int, bool]](
        PR_WRITE_BATCH // PR_PAGE_SIZE + 2
    )

    async def fetch() -> None:
        """Read pages into ``send``; an error ends the stream and is kept in ``got.failure`` (never raised:
        the pages before it are still written)."""
        cursor: str | None = None
        pageno = 0
        async with send:
            try:
                while True:
                    variables = {"owner": owner, "name": name, "cursor": cursor, "n": got.page_size}
                    pageno += 1
                    try:
                        data, body, errors = await client.graphql_page(
                            PR_QUERY, variables, raw=since is None and pageno % _RAW_SHARE == 0, partial=True,
                            retries_5xx=1 if got.page_size > PR_PAGE_FLOOR else None,
                        )
                    except GraphQLError as exc:
                        if not exc.smaller_may_help or got.page_size <= PR_PAGE_FLOOR:
                            raise
                        got.page_size = max(PR_PAGE_FLOOR, got.page_size // 2)
                        log.info("GitHub %s: %s; asking for %d pull requests per page", slug, exc.message, got.page_size)
                        continue
                    if body is not None:
                        lazy = raw_page_info(body)
                        if lazy is not None:
                            page, count = lazy
                            last = not page.get("hasNextPage")
                            await send.send((body, count, not last))
                            if last:
                                return
                            cursor = page.get("endCursor")
                            continue
                        data = json.loads(body)["data"]
                    assert data is not None
                    repo = data.get("repository")
                    if repo is None:
                        if errors:
                            raise GraphQLError.from_errors(errors, smaller_may_help=False)
                        raise RemoteError(f"GitHub has no repository {slug}, or the token cannot see it.", status=404)
                    conn_nodes = repo.get("pullRequests") or {}
                    kept = whole_nodes(list(conn_nodes.get("nodes") or []), errors, since, got)
                    if kept is None:
                        raise GraphQLError.from_errors(errors, smaller_may_help=False)
                    fresh, reached = kept
                    page = conn_nodes.get("pageInfo") or {}
                    last = reached or not page.get("hasNextPage")
                    await send.send((fresh, len(fresh), not last))
                    if last:
                        return
                    cursor = page.get("endCursor")
            except EngmetricsError as exc:
                got.failure = exc

    writer: PullRequestWriter | None = None
    # A first load starts the writer process now (its start-up overlaps the first page's transfer).
    proc: anyio.abc.Process | None = await start_pr_writer(store, repo_id) if since is None else None
    first = True
    sent = pages_sent = 0
    try:
        try:
            async with anyio.create_task_group() as tg:
                tg.start_soon(fetch)
                pending: list[list[dict[str, Any]]] = []
                size = 0
                async with recv:
                    async for fresh, count, more in recv:
                        if first:
                            first = False
                            if proc is None and more and count:
                                proc = await start_pr_writer(store, repo_id)
                            elif proc is not None and not more:  # a single page: written in a thread
                                proc.kill()
                                await proc.wait()
                                proc = None
                        if proc is not None:
                            if count:
                                page: bytes | Page = fresh
                                if not isinstance(fresh, bytes):
                                    pages_sent += 1
                                    if since is None or pages_sent % _MAIN_SHARE == 0:
                                        page = [pr_rows(repo_id, n) for n in fresh]
                                try:
                                    await send_page(proc, page)
                                except (anyio.BrokenResourceError, OSError):
                                    await finish_pr_writer(proc)  # raises with the writer's message
                                    raise
                                sent += count
                                if progress is not None and sent % PR_WRITE_BATCH < count:
                                    await progress(f"{slug}: {sent} pull requests")
                            continue
                        if writer is None:
                            writer = await anyio.to_thread.run_sync(PullRequestWriter, store, repo_id)
                        if isinstance(fresh, bytes):
                            fresh = raw_page_nodes(fresh)
                        if fresh:
                            pending.append(fresh)
                            size += len(fresh)
                        if size >= PR_WRITE_BATCH:  # a transaction per ~1000 PRs: fewer commits, fewer thread hops
                            result.pull_requests += await anyio.to_thread.run_sync(writer.write, pending)
                            pending, size = [], 0
                            if progress is not None:
                                await progress(f"{slug}: {result.pull_requests} pull requests")
                if proc is not None:
                    written, top = await finish_pr_writer(proc)
                    result.pull_requests += written
                    newest = max(newest or 0, top) if written else newest
                elif writer is not None:
                    if pending:
                        result.pull_requests += await anyio.to_thread.run_sync(writer.write, pending)
                    await anyio.to_thread.run_sync(writer.finish)
                    if writer.written:
                        newest = max(newest or 0, writer.newest)
        except BaseExceptionGroup as group:  # the writing failed (fetch() keeps its own errors): raise that error
            raise first_error(group) from None
        if got.failure is None:
            if got.unbounded:
                newest = since
            elif got.cap is not None:
                newest = got.cap if newest is None else min(newest, got.cap)
            with store.tx() as c:
                save_updated_cursor(c, repo_id, _CURSOR, newest)
                if not got.left_out:
                    save_etag(c, repo_id, "pulls", probe.headers.get("etag"))
    finally:
        with anyio.CancelScope(shield=True):
            if proc is not None and proc.returncode is None:
                proc.kill()
                await proc.wait()
            # Stopped by an error after a first load dropped the PR indexes: put them back now.
            if pr_indexes_deferred(store.read()):
                with store.tx() as c:
                    restore_pr_indexes(c)
    if (note := left_out_note(got)) is not None:
        result.notes.append(note)
    if got.failure is not None:
        result.notes.append(failure_note(got.failure, result.pull_requests))
