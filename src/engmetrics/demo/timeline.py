"""When and by whom a demo repository's changes happen: the timeline (Unix seconds from ``start`` to ``end``),
who is active when, working hours in each person's time zone, and the times of ordinary changes."""

from __future__ import annotations

import math
import random
from datetime import UTC, datetime

from engmetrics.demo.clock import DAY, HOUR, day_date
from engmetrics.demo.people import Person, ident
from engmetrics.demo.profiles import RepoProfile


class Timeline:
    """One repository's timeline and its people, drawing from the repository's ``random.Random``."""

    def __init__(self, profile: RepoProfile, rng: random.Random, start: int, end: int):
        self.p = profile
        self.rng = rng
        self.start = start
        self.end = end

    def frac(self, t: int) -> float:
        """How far ``t`` is along the timeline: 0 at ``start``, 1 at ``end``."""
        return (t - self.start) / (self.end - self.start)

    def active(self, t: int) -> list[Person]:
        """The people working on the repository at ``t``."""
        f = self.frac(t)
        return [p for p in self.p.people if p.active[0] <= f <= p.active[1]]

    def pick_author(self, t: int, exclude: Person | None = None) -> Person:
        """Someone active at ``t`` (not ``exclude`` unless nobody else is), by weight."""
        people = [p for p in self.active(t) if p is not exclude] or self.active(t)
        return self.rng.choices(people, [p.weight for p in people])[0]

    def work_time(self, person: Person, lo: float, hi: float) -> int:
        """A time in [lo, hi], preferably on a weekday within the person's local working hours."""
        r = self.rng
        for _ in range(12):
            t = int(r.uniform(lo, hi))
            local = datetime.fromtimestamp(t + person.tz_minutes * 60, UTC)
            if (local.weekday() < 5 and 8.5 <= local.hour + local.minute / 60 <= 20) or r.random() < 0.03:
                return t
        return int(r.uniform(lo, hi))

    def author_of(self, person: Person, ts: int) -> str:
        """``person``'s git identity at ``ts``: the personal address now and then, mostly out of hours."""
        dt = datetime.fromtimestamp(ts + person.tz_minutes * 60, UTC)
        alt = person.alt_email is not None and (dt.weekday() >= 5 or dt.hour >= 20 or self.rng.random() < 0.08)
        return ident(person, ts, alt=alt)

    def change_times(self, exclude: list[tuple[int, int]], per_change: float) -> list[tuple[int, Person]]:
        """Times of ordinary changes on main: weekdays in working hours, rate varying over the timeline."""
        r = self.rng
        first_day = self.start // DAY + 1
        last_day = self.end // DAY
        weights = []
        for day in range(first_day, last_day):
            d = day_date(day)
            w = 1.0 if d.weekday() < 5 else 0.07
            if (d.month == 12 and d.day >= 20) or (d.month == 1 and d.day <= 3):
                w *= 0.3
            f = (day * DAY - self.start) / (self.end - self.start)
            w *= 0.75 + 0.6 * math.sin(math.pi * min(f, 0.7) / 0.7 * 0.5) - (0.1 if f > 0.8 else 0.0)
            weights.append((day, w))
        total_w = sum(w for _, w in weights)
        base = self.p.target_commits / per_change / total_w
        out = []
        for day, w in weights:
            lam = base * w
            n, p, limit = 0, 1.0, math.exp(-lam)  # n ~ Poisson(lam), by multiplying uniforms (Knuth)
            while True:
                p *= r.random()
                if p <= limit:
                    break
                n += 1
            for _ in range(n):
                person = self.pick_author(day * DAY)
                local = r.uniform(9, 19.5) if r.random() < 0.93 else r.uniform(19.5, 23.5)
                t = int(day * DAY + local * HOUR - person.tz_minutes * 60)
                if self.start + 2 * HOUR < t < self.end - 1800 and not any(a <= t <= b for a, b in exclude):
                    out.append((t, person))
        out.sort(key=lambda x: x[0])
        return out
