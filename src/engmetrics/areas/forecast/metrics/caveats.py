"""Plain-language warnings a forecast carries when its history or its answer should not be taken at face value.

- **Stale**: no item was completed in the last ``STALE_WEEKS`` (8) weeks before the forecast's as-of day
  (the start date, or today for a start in the future) — the data looks stopped; or, for a start after
  today, the newest item is ``STALE_WEEKS`` or more weeks older than the start date. Eight weeks is two
  months without a single merged PR, commit or finished work item: longer than the quiet spells of an active
  team (holidays, release freezes), short enough to catch a store that stopped being synced.
- **Short**: fewer weeks of throughput (counted from the week of the first item) than ``history_weeks`` asked
  for.
- **Thin**: fewer than ``FEW_WEEKS`` (10) weeks of the sampled window completed any item.
- **Very wide**: P85 is more than ``WIDE_RATIO`` (3) times as far from the start as P50 (completion dates,
  backlog), or P85's item count is under a third of P50's (items by a date). Checked when both P50 and P85
  are among the levels asked for.
- **Far from the history's pace**: P50 takes more than ``PACE_RATIO`` (3) times as long, or under a third as
  long, as the sampled weeks' mean throughput (net of scope growth) would; or, by a date, promises under a
  third or over three times what that pace would deliver. Two things move P50 that far from the mean: a few
  big weeks among many empty ones (the simulation's median run of weeks is then far below the mean), or the
  calibration, when forecasts made from this history missed by that much before.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import numpy as np

STALE_WEEKS = 8
FEW_WEEKS = 10
WIDE_RATIO = 3.0
PACE_RATIO = 3.0


def trailing_empty_weeks(weekly: np.ndarray) -> int:
    """How many of the newest weeks in ``weekly`` (items per week, oldest first) completed no item."""
    w = np.asarray(weekly)
    nonzero = np.nonzero(w > 0)[0]
    return int(w.size if nonzero.size == 0 else w.size - 1 - nonzero[-1])


def _day(unix: int) -> date:
    return datetime.fromtimestamp(unix, UTC).date()


def history_warnings(
    weekly: np.ndarray, *, history_weeks: int, as_of: int, start: date, last_item: int | None = None,
) -> list[str]:
    """Stale, short and thin-history warnings for a forecast from ``weekly`` (items per week, oldest first,
    ending at ``as_of``, Unix seconds) that samples its last ``history_weeks`` weeks and starts on ``start``.

    ``last_item`` is the newest item's completion time (Unix seconds); without it, the end of the newest
    non-empty week stands in for it.
    """
    w = np.asarray(weekly, dtype=np.float64)
    window = w[-history_weeks:]
    as_of_day = _day(as_of)
    out: list[str] = []
    empty = trailing_empty_weeks(w)
    newest = _day(last_item) if last_item is not None else as_of_day - timedelta(days=7 * empty)
    if empty >= STALE_WEEKS:
        busy = int((window > 0).sum())
        out.append(
            f"Stale history: no item was completed in the {empty} weeks before {as_of_day.isoformat()} (the newest "
            f"on {newest.isoformat()}), so the data looks stopped. This forecast still samples the {window.size} "
            f"weeks before {as_of_day.isoformat()} ({busy} with items, {float(window.mean()):.1f} a week on "
            "average), so its answer assumes the work resumes at a pace diluted by those empty weeks and means "
            "little. If the work goes on, sync the repository or choose another item_source; for the pace "
            f"before the data stopped, set start_date to {(newest + timedelta(days=1)).isoformat()}."
        )
    elif start > as_of_day and (start - newest).days >= 7 * STALE_WEEKS:  # a start after today
        out.append(
            f"Stale history for this start: start_date {start.isoformat()} is {(start - newest).days // 7} weeks "
            f"after the newest completed item ({newest.isoformat()}); the forecast assumes the pace of the "
            f"{window.size} weeks before {as_of_day.isoformat()} holds until then and after."
        )
    if w.size < history_weeks:
        out.append(
            f"Short history: items start only {w.size} weeks before {as_of_day.isoformat()}, fewer than the "
            f"{history_weeks} weeks asked for; the forecast samples just those {w.size} weeks."
        )
    busy = int((window > 0).sum())
    if busy < FEW_WEEKS:
        out.append(f"Only {busy} of the last {window.size} weeks completed any item: treat the forecast as rough.")
    return out


def wide_weeks_warning(p50_weeks: float | None, p85_weeks: float | None, p85_date: str | None) -> list[str]:
    """A warning when P85 lies more than ``WIDE_RATIO`` times as far from the start as P50 (weeks), or is beyond
    the horizon (None) while P50 is not."""
    if p50_weeks is None or p50_weeks <= 0:
        return []
    if p85_weeks is not None and p85_weeks <= WIDE_RATIO * p50_weeks:
        return []
    p85 = f"{p85_date}, {p85_weeks:.1f} weeks" if p85_weeks is not None else "beyond 10 years"
    return [
        f"Very wide range: P85 ({p85}) is more than three times as far off as P50 ({p50_weeks:.1f} weeks). "
        "Throughput on this history is too irregular, or has changed too much, for one date: quote the range, "
        "and treat P50 as a coin flip, not a plan."
    ]


def wide_items_warning(p50_items: int | None, p85_items: int | None, by_date: str) -> list[str]:
    """A warning when the P85 item count by ``by_date`` is under a third of P50's (more confidence, fewer items)."""
    if not p50_items or p85_items is None or WIDE_RATIO * p85_items >= p50_items:
        return []
    return [
        f"Very wide range: P85 promises {p85_items} items by {by_date}, under a third of P50's {p50_items}. "
        "Throughput on this history is too irregular, or has changed too much, for one number: quote the range."
    ]


def pace_weeks_warning(need: float, net_per_week: float, p50_weeks: float | None) -> list[str]:
    """A warning when P50 (weeks to finish ``need`` items) is over ``PACE_RATIO`` times, or under a
    ``PACE_RATIO``-th of, ``need / net_per_week``: the weeks the history's mean net throughput would take."""
    if net_per_week <= 0:
        return []
    naive = need / net_per_week
    if p50_weeks is not None and naive / PACE_RATIO <= p50_weeks <= PACE_RATIO * naive:
        return []
    slower = p50_weeks is None or p50_weeks > naive
    p50 = "beyond 10 years" if p50_weeks is None else f"{p50_weeks:.1f} weeks"
    return [
        f"Far {'slower' if slower else 'faster'} than the history's pace: at its {net_per_week:.2g} items a week, "
        f"{need:g} items would take about {naive:.1f} weeks, but P50 says {p50}. {_PACE_WHY}"
    ]


def pace_items_warning(net_per_week: float, weeks: float, p50_items: int | None, by_date: str) -> list[str]:
    """A warning when P50's item count by ``by_date`` is under a ``PACE_RATIO``-th of, or over ``PACE_RATIO``
    times, ``net_per_week × weeks`` (what the history's mean pace would deliver)."""
    naive = net_per_week * weeks
    if p50_items is None or naive < 1 or naive / PACE_RATIO <= p50_items <= PACE_RATIO * naive:
        return []
    return [
        f"Far {'below' if p50_items < naive else 'above'} the history's pace: at its {net_per_week:.2g} items a "
        f"week, about {naive:.0f} items would be done by {by_date}, but P50 says {p50_items}. {_PACE_WHY}"
    ]


_PACE_WHY = (
    "Either a few big weeks make the average, or forecasts made from this history in the past missed by that much "
    "and the calibration corrects for it; look at throughput.recent_weeks and the reliability table before quoting it."
)
