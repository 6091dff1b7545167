"""payments-api's deployment events: staging then production deployments of main, several a week, a few
failing (a failed production deployment is retried), each after the commit it ships (times in Unix seconds)."""

from __future__ import annotations

import random
from dataclasses import dataclass

from engmetrics.demo.clock import DAY, HOUR, day_date, iso
from engmetrics.demo.history import BuiltRepo

SERVICE = "payments-api"


@dataclass(frozen=True)
class Deployment:
    """One deployment event as deployments.json holds it (``deployed_at`` here in Unix seconds)."""

    id: str
    repo: str
    sha: str
    environment: str  # "staging" | "production"
    status: str  # "success" | "failure"
    deployed_at: int
    service: str

    def to_json(self) -> dict[str, str]:
        """The event's JSON object (``deployed_at`` as ISO-8601 UTC), keys in the file's order."""
        return {"id": self.id, "repo": self.repo, "sha": self.sha, "environment": self.environment,
                "status": self.status, "deployed_at": iso(self.deployed_at), "service": self.service}


def plan_deployments(rng: random.Random, pay: BuiltRepo, start: int, end: int) -> list[Deployment]:
    """Staging then production deployments of payments-api's main from ``start`` to ``end``, by time."""
    h, marks = pay.history, pay.marks
    out: list[Deployment] = []
    last_prod_mark = None
    day = start // DAY + 5
    n = 0
    while day < end // DAY:
        d = day_date(day)
        f = (day * DAY - start) / (end - start)
        per_day = 0.55 if f < 0.5 else 0.7 if f < 0.75 else 1.1
        if d.weekday() < 5:
            k = 1 if rng.random() < min(per_day, 1.0) else 0
            if per_day > 1 and rng.random() < per_day - 1:
                k += 1
            slots = sorted(rng.uniform(13.5, 21.0) for _ in range(k))
            for slot in slots:
                t_stage = int(day * DAY + slot * HOUR)
                tip = h.tip_at(t_stage - 300)
                if tip.mark == last_prod_mark or tip.time >= t_stage:
                    continue
                sha = marks[tip.mark]
                p_fail = 0.07 if f < 0.75 else 0.03
                n += 1
                st_status = "failure" if rng.random() < 0.04 else "success"
                out.append(Deployment(f"dep-{n:04d}", SERVICE, sha, "staging", st_status, t_stage, SERVICE))
                if st_status == "failure":
                    continue
                t_prod = t_stage + int(rng.uniform(0.4, 2.5) * HOUR)
                if t_prod >= end - 60:
                    continue
                status = "failure" if rng.random() < p_fail else "success"
                n += 1
                out.append(Deployment(f"dep-{n:04d}", SERVICE, sha, "production", status, t_prod, SERVICE))
                if status == "failure":
                    t_retry = t_prod + int(rng.uniform(0.5, 1.5) * HOUR)
                    if t_retry < end - 60:
                        n += 1
                        out.append(Deployment(f"dep-{n:04d}", SERVICE, sha, "production", "success", t_retry,
                                              SERVICE))
                    else:
                        continue
                last_prod_mark = tip.mark
        day += 1
    out.sort(key=lambda e: (e.deployed_at, e.id))
    return out
