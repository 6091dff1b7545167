"""Weekly throughput: completion times (Unix seconds) counted into 7-day weeks, items per week.

Items completed per UTC day are summed into 7-day weeks that end at the forecast's ``as_of`` instant (so the
newest week is complete); weeks with no items are kept as zeros; weeks before the first item are dropped.
"""

from __future__ import annotations

import numpy as np

WEEK_SECONDS = 7 * 86400
DAY_SECONDS = 86400


def weekly_counts(times: np.ndarray, as_of: int, max_weeks: int) -> np.ndarray:
    """Items per 7-day week ending at ``as_of`` (Unix seconds), oldest first, at most ``max_weeks`` weeks.

    Starts at the week of the first item (earlier empty weeks dropped); later zero weeks are kept.
    Items at or after ``as_of`` are ignored. Empty array when there is no item before ``as_of``.
    """
    t = np.asarray(times, dtype=np.int64)
    t = t[(t < as_of) & (t >= as_of - max_weeks * WEEK_SECONDS)]
    if t.size == 0:
        return np.zeros(0, dtype=np.int64)
    # Days first (items completed per day), then weeks: week k back from as_of holds days 7k … 7k+6 back.
    days_back = (as_of - 1 - t) // DAY_SECONDS
    weeks_back = days_back // 7
    n = int(weeks_back.max()) + 1
    counts = np.bincount(weeks_back, minlength=n)
    return counts[::-1].astype(np.int64)
