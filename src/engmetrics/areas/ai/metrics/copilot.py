"""GitHub Copilot figures over a window, from the days of its usage metrics reports. Pure.

- **Adoption** = active users ÷ seats assigned: the trailing 28-day active users (``monthly_active_users``) on the
  last day with data in the window ÷ Copilot seats; unknown without seat data.
- **Acceptance** = acceptances ÷ code generations (``code_acceptance_activity_count`` ÷
  ``code_generation_activity_count``) summed over the window's days.
- **Estimated hours saved** = lines Copilot added in editors (``loc_added_sum``, summed) × minutes saved per line ÷ 60.
  The minutes per line are an assumption (``ENGMETRICS_COPILOT_MINUTES_PER_LINE``, default 0.5), not a measurement.

Our model gives percentages (0–100, 2 decimals); Koalr's ``/copilot`` shape fractions (0–1, 4 decimals).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from engmetrics.areas.ai.models import CopilotFigures, CopilotUsage
from engmetrics.trends import r2


@dataclass(frozen=True, slots=True)
class CopilotDayTotals:
    """One stored day of Copilot usage."""

    day: str  # YYYY-MM-DD
    monthly_active_users: int | None
    generations: int
    acceptances: int
    lines_added: int


def copilot_figures(scope: str, days: Sequence[CopilotDayTotals], seats: int | None,
                    minutes_per_line: float) -> CopilotFigures:
    """The window's Copilot figures (``days`` in any order)."""
    ordered = sorted(days, key=lambda d: d.day)
    last = ordered[-1] if ordered else None
    active = last.monthly_active_users if last is not None else None
    generations = sum(d.generations for d in ordered)
    acceptances = sum(d.acceptances for d in ordered)
    lines = sum(d.lines_added for d in ordered)
    return CopilotFigures(
        scope=scope, days=len(ordered), first_day=ordered[0].day if ordered else None,
        last_day=last.day if last is not None else None, active_users=active, seats=seats,
        adoption_rate_percent=r2(active / seats * 100) if active is not None and seats else None,
        suggestions=generations, acceptances=acceptances,
        acceptance_rate_percent=r2(acceptances / generations * 100) if generations else None,
        lines_added=lines, estimated_hours_saved=r2(lines * minutes_per_line / 60) if ordered else None,
        minutes_per_line=minutes_per_line,
    )


def koalr_shape(figures: CopilotFigures | None) -> CopilotUsage:
    """Koalr's ``/copilot`` answer (0–1 fractions) of our figures; every field null without data."""
    if figures is None:
        return CopilotUsage()

    def fraction(pct: float | None) -> float | None:
        return None if pct is None else round(pct / 100, 4)

    return CopilotUsage(adoption_rate=fraction(figures.adoption_rate_percent),
                        acceptance_rate=fraction(figures.acceptance_rate_percent),
                        estimated_hours_saved=figures.estimated_hours_saved)
