"""Alert conditions and states as pure computations.

- ``gt``/``gte``/``lt``/``lte``: the metric's value over the window against the threshold (its unit).
- ``change_pct``: the relative change of the value against the previous window of equal length, in percent
  ((value − previous) ÷ |previous| × 100); it breaches at ≥ threshold for a threshold ≥ 0 and at ≤ threshold for
  a negative one (a fall). Undefined (no evaluation) when either value is missing or the previous one is 0.
- States: ``ok`` (never fired) → ``firing`` when breached; ``firing`` stays while breached and becomes
  ``resolved`` when no longer; ``resolved`` → ``firing`` when breached again. A notification goes out on each
  change to firing or resolved, never while the state stays. Without a value, nothing changes.
"""

from __future__ import annotations

from engmetrics.trends import r2


def observed(operator: str, value: float | None, previous: float | None) -> float | None:
    """What the condition compares: the value, or for change_pct the percent change (2 decimals); None when
    it cannot be computed."""
    if operator != "change_pct":
        return value
    if value is None or previous is None or previous == 0:
        return None
    return r2((value - previous) / abs(previous) * 100.0)


def breached(operator: str, threshold: float, seen: float) -> bool:
    """Whether ``seen`` (from `observed`) breaches the condition."""
    if operator == "gt":
        return seen > threshold
    if operator == "gte":
        return seen >= threshold
    if operator == "lt":
        return seen < threshold
    if operator == "lte":
        return seen <= threshold
    return seen >= threshold if threshold >= 0 else seen <= threshold


def next_state(state: str, is_breached: bool | None) -> str:
    """The state after an evaluation (None: no value, the state stays)."""
    if is_breached is None:
        return state
    if is_breached:
        return "firing"
    return "resolved" if state in ("firing", "resolved") else "ok"


def notifies(before: str, after: str) -> bool:
    """Whether a change of state sends a notification (to firing, or firing → resolved)."""
    return before != after and after in ("firing", "resolved")
