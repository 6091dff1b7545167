"""The AI area's part of a repository's sync: tracking rows that named no stored commit are matched again (their
commits may have just arrived)."""

from __future__ import annotations

from engmetrics.sources.cursor.storage import match_unmatched, unmatched_count
from engmetrics.store.db import Store


def match_tracking(store: Store) -> int:
    """Match the unmatched AI tracking rows against the stored commits; how many matched now (0 without any)."""
    if not unmatched_count(store.read()):
        return 0
    with store.tx() as conn:
        return match_unmatched(conn)
