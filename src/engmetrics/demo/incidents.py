"""The demo's incidents for both repositories: after payments-api deployments (some tied to the deployment
and to a commit it shipped), after webapp releases, the bug v2.4.1 fixes and the first reverted change;
the newest and a recent sev3 still open (times in Unix seconds)."""

from __future__ import annotations

import random
from dataclasses import dataclass, replace

from engmetrics.demo.clock import DAY, HOUR, iso
from engmetrics.demo.deployments import Deployment
from engmetrics.demo.history import BuiltRepo
from engmetrics.demo.webapp import BuiltWebapp

PAY_TITLES = ["Checkout 500s after deploy", "Elevated p99 latency on /api/charges", "Duplicate charges for retried requests",
              "Refund webhooks failing signature check", "Payment intents stuck in processing",
              "Database connection pool exhausted", "Stripe API timeouts causing failed captures",
              "Idempotency key collisions on retries", "Currency rounding errors on invoices",
              "Elevated 4xx rate on /v1/refunds", "Settlement report job failing", "Ledger balance mismatch alert"]
WEB_TITLES = ["Elevated p99 latency on /api/orders", "Blank product page for logged-out users",
              "Login loop after session refresh", "Search returns stale results", "Images missing on product grid",
              "Cart not persisting across devices"]


@dataclass(frozen=True)
class Incident:
    """One incident as incidents.json holds it (times here in Unix seconds; ``resolved_at`` None while open)."""

    id: str  # "INC-101"…, given once every incident is planned and sorted ("" until then)
    title: str
    severity: str  # "sev1" | "sev2" | "sev3"
    started_at: int
    resolved_at: int | None
    repo: str
    deployment_id: str | None
    sha: str | None

    def to_json(self) -> dict[str, str | None]:
        """The incident's JSON object (times as ISO-8601 UTC), keys in the file's order."""
        return {"id": self.id, "title": self.title, "severity": self.severity, "started_at": iso(self.started_at),
                "resolved_at": iso(self.resolved_at) if self.resolved_at else None, "repo": self.repo,
                "deployment_id": self.deployment_id, "sha": self.sha}


def plan_incidents(rng: random.Random, end: int, pay: BuiltRepo, deployments: list[Deployment],
                   web: BuiltWebapp) -> list[Incident]:
    """Incidents for both repositories, numbered INC-101… by start time; none resolved at or after ``end``."""
    raw = _payments_incidents(rng, end, pay, deployments) + _webapp_incidents(rng, end, web)
    # one or two still open: the newest incident, and a recent sev3
    raw.sort(key=lambda x: x.started_at)
    raw[-1] = replace(raw[-1], resolved_at=None)
    open_sev3 = [k for k, x in enumerate(raw[:-1]) if x.severity == "sev3" and x.started_at > end - 40 * DAY]
    if open_sev3:
        raw[open_sev3[-1]] = replace(raw[open_sev3[-1]], resolved_at=None)
    out = []
    for k, x in enumerate(raw):
        resolved = x.resolved_at
        if resolved is not None and resolved >= end:
            resolved = end - 60
        out.append(replace(x, id=f"INC-{101 + k}", resolved_at=resolved))
    return out


def _payments_incidents(rng: random.Random, end: int, pay: BuiltRepo, deployments: list[Deployment]) -> list[Incident]:
    """Incidents after successful production deployments: eight older, one in the middle, two recent."""
    raw: list[Incident] = []
    ph, pmarks = pay.history, pay.marks
    prod = [d for d in deployments if d.environment == "production" and d.status == "success"]
    index = {m.mark: i for i, m in enumerate(ph.main)}
    sha_to_mark = {s: m for m, s in pmarks.items()}
    recent = [i for i, d in enumerate(prod) if d.deployed_at > end - 28 * DAY and i + 1 < len(prod)]
    older = [i for i, d in enumerate(prod) if d.deployed_at <= end - 90 * DAY and i > 0 and i + 1 < len(prod)]
    mid = [i for i, d in enumerate(prod) if end - 90 * DAY < d.deployed_at <= end - 28 * DAY and i + 1 < len(prod)]
    chosen = sorted(set(rng.sample(older, min(8, len(older))) + rng.sample(mid, min(1, len(mid)))
                        + rng.sample(recent, min(2, len(recent)))))
    titles = rng.sample(PAY_TITLES, len(PAY_TITLES))
    for k, i in enumerate(chosen):
        dep, nxt = prod[i], prod[i + 1]
        gap = nxt.deployed_at - dep.deployed_at
        started = dep.deployed_at + int(min(gap * 0.5, rng.uniform(0.3, 6) * HOUR))
        sev = rng.choices(["sev1", "sev2", "sev3"], [0.15, 0.35, 0.5])[0]
        dur = {"sev1": (0.5, 3), "sev2": (1, 10), "sev3": (3, 60)}[sev]
        resolved = started + int(rng.uniform(*dur) * HOUR)
        sha = None
        if rng.random() < 0.6 and i > 0:
            lo = index[sha_to_mark[prod[i - 1].sha]]
            hi = index[sha_to_mark[dep.sha]]
            shipped = [m for m in ph.main[lo + 1:hi + 1] if not m.is_merge]
            if shipped:
                sha = pmarks[rng.choice(shipped).mark]
        raw.append(Incident("", titles[k % len(titles)], sev, started, resolved, "payments-api",
                            dep.id if rng.random() < 0.7 else None, sha))
    return raw


def _webapp_incidents(rng: random.Random, end: int, web: BuiltWebapp) -> list[Incident]:
    """Incidents after releases: the bug v2.4.1 fixes, the first reverted change, four older and the latest."""
    raw: list[Incident] = []
    wh, wmarks = web.history, web.marks
    rel_tags = [t for t in web.tags if not t.prerelease]
    by_name = {t.name: t for t in rel_tags}
    hot_prev = next(r for r in web.releases if r.version == "v2.4.0")
    hot = next(r for r in web.releases if r.hotfix)
    t0 = by_name[hot_prev.version].time + int(rng.uniform(2, 6) * HOUR)
    raw.append(Incident("", "Cart totals show NaN for some currencies", "sev2", t0, by_name[hot.version].time + 900,
                        "webapp", None, wmarks[web.bug]))
    for rv in web.reverts[:1]:
        rel = next(t for t in rel_tags if t.mark >= rv.reverted)
        st = rel.time + int(rng.uniform(1, 4) * HOUR)
        raw.append(Incident("", "Checkout button unresponsive on Safari", "sev1", st,
                            st + int(rng.uniform(2, 5) * HOUR), "webapp", None, wmarks[rv.reverted]))
    candidates = [i for i, t in enumerate(rel_tags[:-1]) if t.time < end - 100 * DAY and i > 0]
    picks = sorted(rng.sample(candidates, min(4, len(candidates))))
    last = [i for i, t in enumerate(rel_tags[:-1]) if t.time > end - 25 * DAY]
    if last:
        picks.append(last[-1])
    for k, i in enumerate(picks):
        tag, nxt = rel_tags[i], rel_tags[i + 1]
        started = tag.time + int(min((nxt.time - tag.time) * 0.5, rng.uniform(1, 20) * HOUR))
        sev = rng.choices(["sev2", "sev3"], [0.4, 0.6])[0]
        resolved = started + int(rng.uniform(1, 30) * HOUR)
        sha = None
        if rng.random() < 0.5:
            shipped = [m for m in wh.main if rel_tags[i - 1].mark < m.mark <= tag.mark and not m.is_merge
                       and not m.subject.startswith("Revert")]
            sha = wmarks[rng.choice(shipped).mark] if shipped else None
        raw.append(Incident("", WEB_TITLES[k % len(WEB_TITLES)], sev, started, resolved, "webapp", None, sha))
    return raw
