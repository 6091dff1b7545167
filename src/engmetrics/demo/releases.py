"""The webapp's release plan: when each release is tagged (Unix seconds) and its version (1.x, then 2.x;
pre-releases before v2.0.0 and v2.3.0; v2.4.1 a hotfix within 72 h of v2.4.0)."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from engmetrics.demo.clock import DAY, HOUR


@dataclass
class Release:
    """A planned release: its time, version, pre-release tags before it (name, time) and whether a hotfix."""

    time: int
    version: str
    rc: list[tuple[str, int]] = field(default_factory=list)
    hotfix: bool = False


def plan_releases(rng: random.Random, start: int, end: int) -> list[Release]:
    """Release times and versions: 1.x, then 2.x; v2.4.1 is a hotfix within 72 h of v2.4.0."""
    span = end - start
    t = start + 21 * DAY
    times = []
    while True:
        f = (t - start) / span
        step = rng.uniform(10, 15) if f < 0.5 else rng.uniform(7, 12) if f < 0.75 else rng.uniform(3.5, 7)
        t += int(step * DAY)
        d = datetime.fromtimestamp(t, UTC)
        while d.weekday() >= 5:
            d += timedelta(days=1)
        t = int(datetime(d.year, d.month, d.day, tzinfo=UTC).timestamp()) + int(rng.uniform(14, 17.5) * HOUR)
        if t > end - 12 * HOUR:
            break
        times.append(t)
    n = len(times)
    major_at = round(0.4 * n)
    releases: list[Release] = []
    major, minor, patch = 1, 0, 0
    post = 0
    i = 0
    while i < len(times):
        t = times[i]
        if i == 0:
            pass
        elif i == major_at:
            major, minor, patch = 2, 0, 0
        elif major == 2:
            post += 1
            if rng.random() < 0.4 or (minor < 4 and post % 3 == 0):
                minor, patch = minor + 1, 0
            else:
                patch += 1
        elif rng.random() < 0.35:
            minor, patch = minor + 1, 0
        else:
            patch += 1
        rel = Release(t, f"v{major}.{minor}.{patch}")
        prev_t = releases[-1].time if releases else start
        if rel.version in ("v2.0.0", "v2.3.0"):
            count = 2 if rel.version == "v2.0.0" else 1
            for k in range(count):
                rt = t - int((t - prev_t) * (0.55 - 0.2 * k)) if t - prev_t < 6 * DAY else \
                    t - int(rng.uniform(2.5, 3.5) * DAY) + k * DAY
                releases_rc = (f"{rel.version}-rc.{k + 1}", rt)
                rel.rc.append(releases_rc)
        releases.append(rel)
        if rel.version == "v2.4.0":
            hot = Release(t + int(rng.uniform(28, 44) * HOUR), "v2.4.1", hotfix=True)
            releases.append(hot)
            patch = 1
            while i + 1 < len(times) and times[i + 1] < hot.time + 2 * DAY:
                i += 1
        i += 1
    return releases
