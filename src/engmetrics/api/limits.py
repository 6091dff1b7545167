"""Per-key rate limits: fixed windows of requests per minute and per day, per plan (the Upshot seed's table).

Windows and limits are configurable (tests use tiny ones). Counters live in the serving process's memory.
"""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass, field


@dataclass(frozen=True)
class PlanLimits:
    """Requests allowed per short window (a minute by default) and per long window (a day)."""

    per_minute: int
    per_day: int


UPSHOT_PLANS: dict[str, PlanLimits] = {
    "free": PlanLimits(30, 1_000),
    "pro": PlanLimits(120, 10_000),
    "enterprise": PlanLimits(600, 100_000),
}


@dataclass(frozen=True)
class Decision:
    """The outcome of counting one request: allowed or not, and the X-RateLimit-* figures."""

    allowed: bool
    limit: int
    remaining: int
    reset_epoch: int  # Unix seconds when the binding window resets
    retry_after_seconds: int  # whole seconds until then (0 when allowed)
    window_label: str  # "minute", "day", or "N seconds"

    def headers(self) -> dict[str, str]:
        """The X-RateLimit-* headers (and Retry-After when refused)."""
        h = {"X-RateLimit-Limit": str(self.limit), "X-RateLimit-Remaining": str(self.remaining),
             "X-RateLimit-Reset": str(self.reset_epoch)}
        if not self.allowed:
            h["Retry-After"] = str(self.retry_after_seconds)
        return h


@dataclass
class RateLimiter:
    """Fixed-window counters per bucket (an API key id, or a client address for unauthenticated calls)."""

    plans: dict[str, PlanLimits] = field(default_factory=lambda: dict(UPSHOT_PLANS))
    minute_seconds: float = 60.0
    day_seconds: float = 86_400.0
    _counts: dict[tuple[str, str, int], int] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def _label(self, seconds: float, name: str, default: float) -> str:
        return name if seconds == default else f"{seconds:g} seconds"

    def hit(self, bucket: str, plan: str, now: float | None = None) -> Decision:
        """Count one request for ``bucket`` under ``plan``; refused requests are not counted."""
        now = time.time() if now is None else now
        limits = self.plans.get(plan) or self.plans["free"]
        windows = (
            ("m", self.minute_seconds, limits.per_minute, self._label(self.minute_seconds, "minute", 60.0)),
            ("d", self.day_seconds, limits.per_day, self._label(self.day_seconds, "day", 86_400.0)),
        )
        with self._lock:
            state = []
            for tag, length, limit, label in windows:
                index = int(now // length)
                used = self._counts.get((bucket, tag, index), 0)
                state.append((tag, index, length, limit, used, label))
            refused = [s for s in state if s[4] >= s[3]]
            if refused:
                tag, index, length, limit, used, label = max(refused, key=lambda s: (s[1] + 1) * s[2])
                reset = (index + 1) * length
                return Decision(False, limit, 0, math.ceil(reset), max(1, math.ceil(reset - now)), label)
            for tag, index, *_ in state:
                self._counts[(bucket, tag, index)] = self._counts.get((bucket, tag, index), 0) + 1
            if len(self._counts) > 50_000:  # forget windows that ended
                self._counts = {k: v for k, v in self._counts.items() if k[2] >= int(now // (self.day_seconds if k[1] == "d" else self.minute_seconds))}
            minute, day = state
            remaining_m = minute[3] - minute[4] - 1
            remaining_d = day[3] - day[4] - 1
            binding = day if remaining_d < remaining_m else minute
            return Decision(True, minute[3], max(0, min(remaining_m, remaining_d)),
                            math.ceil((binding[1] + 1) * binding[2]), 0, binding[5])
