"""Bring the store up to date with Cursor's AI Code Tracking API, incrementally by date.

Each endpoint (commits, changes) keeps a cursor: the UTC date its last sync read up to. A sync reads from two days
before that date (tracking rows may arrive late; writing a row again changes nothing), or from
``first_sync_days`` ago on the first sync, up to now — JSON pages of up to 1000 rows, or the CSV download with
``use_csv`` — and writes each page in one transaction, then moves the cursor. Bad rows are reported, not fatal;
tracking commits are matched to stored commits as they land (and again after later syncs).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal

import anyio.to_thread

from engmetrics.errors import InvalidInput
from engmetrics.sources.cursor.client import CHANGES, COMMITS, CursorClient
from engmetrics.sources.cursor.storage import (
    match_unmatched,
    read_cursor,
    unmatched_count,
    write_cursor,
    write_row,
)
from engmetrics.store.db import Store

OVERLAP_DAYS = 2
Kind = Literal["commits", "changes"]


@dataclass
class EndpointOutcome:
    """What one endpoint's sync read and wrote: rows read, written (new or changed), unchanged, rejected."""

    endpoint: str
    start: str
    rows: int = 0
    imported: int = 0
    unchanged: int = 0
    errors: list[str] = field(default_factory=list)


def _write(store: Store, kind: Kind, rows: list[tuple[str, Mapping[str, Any]]], out: EndpointOutcome) -> None:
    """Write one page's rows in one transaction (each bad row rolled back alone and reported)."""
    with store.tx() as conn:
        for where, raw in rows:
            out.rows += 1
            try:
                changed = write_row(conn, kind, raw, "cursor")
            except InvalidInput as exc:
                out.errors.append(f"{out.endpoint} {where}: {exc.message}")
                continue
            if changed:
                out.imported += 1
            else:
                out.unchanged += 1


async def _batches(client: CursorClient, endpoint: str, start: str, user: str | None,
                   use_csv: bool) -> AsyncIterator[list[tuple[str, Mapping[str, Any]]]]:
    """The endpoint's rows in batches (a JSON page, or 1000 CSV rows), each with where it came from."""
    if use_csv:
        batch: list[tuple[str, Mapping[str, Any]]] = []
        async for number, row in client.csv_rows(endpoint, start, "now", user):
            batch.append((f"csv row {number}", row))
            if len(batch) >= 1000:
                yield batch
                batch = []
        if batch:
            yield batch
        return
    page = 0
    async for items in client.pages(endpoint, start, "now", user):
        page += 1
        yield [(f"page {page} item {i}", item) for i, item in enumerate(items, start=1)]


async def sync_cursor(store: Store, client: CursorClient, *, now: datetime, first_sync_days: int,
                      user: str | None = None, use_csv: bool = False) -> tuple[list[EndpointOutcome], int]:
    """Sync both endpoints; returns each endpoint's outcome and how many tracking commits name no stored commit
    after it. With ``user``, only that user's rows are read and the cursors are left as they were."""
    outcomes = []
    for kind, endpoint in (("commits", COMMITS), ("changes", CHANGES)):
        source = f"cursor:{kind}"
        def current(s: str = source) -> str | None:
            return read_cursor(store.read(), s)

        cursor = await anyio.to_thread.run_sync(current)
        if cursor:
            start_day = datetime.fromisoformat(cursor).date() - timedelta(days=OVERLAP_DAYS)
        else:
            start_day = (now - timedelta(days=first_sync_days)).date()
        out = EndpointOutcome(endpoint, start_day.isoformat())
        k: Kind = "commits" if kind == "commits" else "changes"
        async for batch in _batches(client, endpoint, start_day.isoformat(), user, use_csv):
            await anyio.to_thread.run_sync(_write, store, k, batch, out)
        if not user:
            def advance(s: str = source) -> None:
                with store.tx() as conn:
                    write_cursor(conn, s, now.date().isoformat(), int(now.timestamp()))

            await anyio.to_thread.run_sync(advance)
        outcomes.append(out)

    def match() -> int:
        with store.tx() as conn:
            match_unmatched(conn)
            return unmatched_count(conn)

    return outcomes, await anyio.to_thread.run_sync(match)
