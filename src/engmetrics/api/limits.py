"""Per-key rate limits: fixed windows of requests per minute and per day, per plan (the Upshot seed's table).

Windows and limits are configurable (tests use tiny ones). Counters live in the serving process's memory
(`MemoryCounter`), or in the store when several API workers serve one PostgreSQL store
(`engmetrics.engine.keys.StoreCounter`): then any worker counts every request of a key.
"""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass, field
from typing import Protocol


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


class WindowCounter(Protocol):
    """Where the requests of each window are counted: this process's memory, or the store (shared by workers)."""

    def count(self, bucket: str, windows: list[tuple[str, int, int]], now: float) -> list[int] | None:
        """Count one request of ``bucket`` in each window (kind, number, limit) unless one is full: the counts before
        it, or None (nothing counted) when a window already holds its limit."""

    def peek(self, bucket: str, windows: list[tuple[str, int, int]]) -> list[int]:
        """The counts of ``bucket`` in each window (kind, number, limit), counting nothing."""


@dataclass
class MemoryCounter:
    """Counts in this process's memory (one API process); windows that ended are forgotten now and then."""

    minute_seconds: float = 60.0
    day_seconds: float = 86_400.0
    _counts: dict[tuple[str, str, int], int] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def count(self, bucket: str, windows: list[tuple[str, int, int]], now: float) -> list[int] | None:
        with self._lock:
            used = [self._counts.get((bucket, kind, number), 0) for kind, number, _ in windows]
            if any(u >= limit for u, (_, _, limit) in zip(used, windows, strict=True)):
                return None
            for kind, number, _ in windows:
                self._counts[(bucket, kind, number)] = self._counts.get((bucket, kind, number), 0) + 1
            if len(self._counts) > 50_000:  # forget windows that ended
                self._counts = {k: v for k, v in self._counts.items()
                                if k[2] >= int(now // (self.day_seconds if k[1] == "d" else self.minute_seconds))}
            return used

    def peek(self, bucket: str, windows: list[tuple[str, int, int]]) -> list[int]:
        with self._lock:
            return [self._counts.get((bucket, kind, number), 0) for kind, number, _ in windows]


@dataclass
class RateLimiter:
    """Fixed-window counters per bucket (an API key id, or a client address for unauthenticated calls), counted by
    ``counter``: in memory by default, in the store when several API workers share the limits."""

    plans: dict[str, PlanLimits] = field(default_factory=lambda: dict(UPSHOT_PLANS))
    minute_seconds: float = 60.0
    day_seconds: float = 86_400.0
    counter: WindowCounter | None = None

    def __post_init__(self) -> None:
        if self.counter is None:
            self.counter = MemoryCounter(self.minute_seconds, self.day_seconds)

    def _label(self, seconds: float, name: str, default: float) -> str:
        return name if seconds == default else f"{seconds:g} seconds"

    def hit(self, bucket: str, plan: str, now: float | None = None) -> Decision:
        """Count one request for ``bucket`` under ``plan``; refused requests are not counted."""
        now = time.time() if now is None else now
        limits = self.plans.get(plan) or self.plans["free"]
        state = [
            ("m", int(now // self.minute_seconds), self.minute_seconds, limits.per_minute,
             self._label(self.minute_seconds, "minute", 60.0)),
            ("d", int(now // self.day_seconds), self.day_seconds, limits.per_day,
             self._label(self.day_seconds, "day", 86_400.0)),
        ]
        windows = [(tag, index, limit) for tag, index, _, limit, _ in state]
        assert self.counter is not None  # set in __post_init__
        used = self.counter.count(bucket, windows, now)
        if used is None:
            seen = self.counter.peek(bucket, windows)
            refused = [s for s, u in zip(state, seen, strict=True) if u >= s[3]] or state
            tag, index, length, limit, label = max(refused, key=lambda s: (s[1] + 1) * s[2])
            reset = (index + 1) * length
            return Decision(False, limit, 0, math.ceil(reset), max(1, math.ceil(reset - now)), label)
        (_, m_index, m_length, m_limit, m_label), (_, d_index, d_length, d_limit, d_label) = state
        remaining_m = m_limit - used[0] - 1
        remaining_d = d_limit - used[1] - 1
        index, length, label = (d_index, d_length, d_label) if remaining_d < remaining_m else (m_index, m_length, m_label)
        return Decision(True, m_limit, max(0, min(remaining_m, remaining_d)), math.ceil((index + 1) * length), 0, label)
