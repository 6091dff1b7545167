"""The working-day calendar future weeks are laid on: working weekdays, holidays, fractional weeks ↔ dates.

Week ``k`` (0-based) of the future is the 7 days ``start + 7k … start + 7k + 6``; a week's capacity is its
share of a full working week (working days that are not holidays ÷ working weekdays).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np


@dataclass(frozen=True)
class WorkCalendar:
    """Working weekdays (0 = Monday) and holidays; future weeks start at ``start``."""

    start: date
    weekdays: frozenset[int] = frozenset(range(5))
    holidays: frozenset[date] = frozenset()

    def week_days(self, k: int) -> list[date]:
        """Working days of future week ``k`` (0-based): the days ``start + 7k … start + 7k + 6`` that are worked."""
        first = self.start + timedelta(days=7 * k)
        days = (first + timedelta(days=i) for i in range(7))
        return [d for d in days if d.weekday() in self.weekdays and d not in self.holidays]

    def capacity(self, weeks: int) -> np.ndarray:
        """Each future week's share of a full working week (1.0 without holidays), length ``weeks``."""
        full = max(len(self.weekdays), 1)
        if not self.holidays:
            return np.ones(weeks)
        return np.array([len(self.week_days(k)) / full for k in range(weeks)])

    def date_at(self, weeks: float) -> date | None:
        """The working day on which fractional week ``weeks`` (> 0) falls: week ``⌈weeks⌉``, by working-day share."""
        k = max(int(np.ceil(weeks)) - 1, 0)
        days = self.week_days(k)
        fraction = weeks - k if weeks - k > 0 else 1.0
        skipped = 0
        while not days:  # a week without working days: the work lands on the next working day
            skipped += 1
            if skipped > 520:
                return None
            days = self.week_days(k + skipped)
            fraction = 0.0
        index = min(max(int(np.ceil(fraction * len(days) - 1e-9)) - 1, 0), len(days) - 1)
        return days[index]

    def weeks_until(self, end: date) -> float:
        """Fractional weeks from ``start`` to the end of day ``end``: full weeks + share of that week's working days."""
        span = (end - self.start).days
        if span < 0:
            return 0.0
        k = span // 7
        days = self.week_days(k)
        if not days:
            return float(k + 1)
        done = sum(1 for d in days if d <= end)
        return k + done / len(days)
