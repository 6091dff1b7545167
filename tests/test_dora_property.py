"""`get_dora` against a second implementation written here from DESIGN.md's definitions, on random histories.

Hypothesis draws a history (direct pushes of product, docs or test files; PR branches merged with a merge
commit titled "… (#N)" or "Merge pull request #N"; reverts of earlier commits; release tags, patch or minor,
some within 72 h; a backport release off an older tag; incidents), `tests/gitrepo.py` builds it as a real git
repository, engmetrics syncs it, and the figures are compared with `reference()` below, which reads
reachability from ``git rev-list`` and everything else from what the generator wrote. It never calls
engmetrics' metric code.
"""

from __future__ import annotations

import json
import statistics
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import anyio
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engmetrics.config import Settings
from engmetrics.engine.local import LocalEngine
from engmetrics.areas.dora.models import DoraQuery
from gitrepo import GitRepo

T0 = datetime(2024, 1, 1, tzinfo=UTC)
H = 3600


@dataclass
class Commit:
    sha: str
    author_time: int
    subject: str
    product: bool  # changed a file that is not docs/tests (DESIGN.md's product change)
    merge: bool = False
    reverts: str | None = None


@dataclass
class Release:
    tag: str
    sha: str
    at: int
    version: tuple[int, int, int]


@dataclass
class History:
    commits: dict[str, Commit] = field(default_factory=dict)
    releases: list[Release] = field(default_factory=list)
    incidents: list[tuple[str, int, int | None]] = field(default_factory=list)  # id, start, resolved
    end: int = 0


STEP = st.one_of(
    st.tuples(st.just("push"), st.sampled_from(["product", "docs", "tests"]), st.sampled_from(["feat", "fix"])),
    st.tuples(st.just("pr"), st.integers(1, 3), st.sampled_from(["title", "github"])),
    st.tuples(st.just("revert"), st.integers(0, 1000), st.just("")),
    st.tuples(st.just("release"), st.sampled_from(["minor", "patch"]), st.just("")),
    st.tuples(st.just("backport"), st.integers(0, 1000), st.just("")),
    st.tuples(st.just("incident"), st.integers(1, 80), st.sampled_from(["resolved", "open"])),
)


def build(root: Path, steps: list[tuple], gaps: list[int]) -> History:
    repo = GitRepo(root / "r")
    hist = History()
    clock = int(T0.timestamp())
    version = [1, 0, 0]
    serial = 0

    def tick(k: int) -> int:
        nonlocal clock
        clock += max(1, gaps[k % len(gaps)]) * H
        return clock

    def commit(kind: str, verb: str, k: int) -> str:
        nonlocal serial
        serial += 1
        path = {"product": f"src/m{serial}.py", "docs": f"docs/d{serial}.md", "tests": f"tests/test_{serial}.py"}[kind]
        at = tick(k)
        sha = repo.commit({path: f"{serial}\n"}, f"{verb}: change {serial}", when=at)
        hist.commits[sha] = Commit(sha, at, f"{verb}: change {serial}", kind == "product")
        return sha

    def release(bump: str, k: int, on: str | None = None) -> None:
        if bump == "minor":
            version[1] += 1
            version[2] = 0
        else:
            version[2] += 1
        tag = "v{}.{}.{}".format(*version)
        at = tick(k)
        repo.tag(tag, on, annotated=True, when=at)
        hist.releases.append(Release(tag, repo.rev_parse(on or "HEAD"), at, tuple(version)))

    commit("product", "feat", 0)
    release("minor", 0)
    for k, (verb, a, b) in enumerate(steps, start=1):
        if verb == "push":
            commit(a, b, k)
        elif verb == "pr":
            serial += 1
            number = serial
            repo.checkout(f"pr{number}", create=True)
            for _ in range(a):
                commit("product", "feat", k)
            repo.checkout("main")
            title = f"Change {number} (#{number})" if b == "title" else f"Merge pull request #{number} from x/pr{number}"
            at = tick(k)
            sha = repo.merge(f"pr{number}", title, when=at)
            hist.commits[sha] = Commit(sha, at, title, True, merge=True)
        elif verb == "revert":
            candidates = [c for c in hist.commits.values() if not c.merge and c.reverts is None
                          and not any(o.reverts == c.sha for o in hist.commits.values())
                          and c.sha in set(repo.log_shas("HEAD"))]
            if candidates:
                target = candidates[a % len(candidates)]
                at = tick(k)
                sha = repo.revert(target.sha, when=at)
                hist.commits[sha] = Commit(sha, at, f'Revert "{target.subject}"', target.product, reverts=target.sha)
        elif verb == "release":
            release(a, k)
        elif verb == "backport" and len(hist.releases) >= 2:
            base = hist.releases[a % (len(hist.releases) - 1)]
            newer = [r for r in hist.releases if r.version[:2] == base.version[:2]]
            if max(r.version for r in newer) != base.version or list(base.version[:2]) == version[:2]:
                continue  # only from the newest release of an older line (mainline keeps its own numbers)
            repo.checkout(base.tag)
            repo.checkout(f"line{k}", create=True)
            sha = commit("product", "fix", k)
            at = tick(k)
            tag = f"v{base.version[0]}.{base.version[1]}.{base.version[2] + 1}"
            repo.tag(tag, annotated=True, when=at)
            hist.releases.append(Release(tag, sha, at, (base.version[0], base.version[1], base.version[2] + 1)))
            repo.checkout("main")
        elif verb == "incident":
            start = tick(k)
            hist.incidents.append((f"INC-{k}", start, start + a * H if b == "resolved" else None))
    hist.end = tick(len(steps) + 1)
    return hist


# ------------------------------------------------------------------------------- the reference


def reachable(repo: GitRepo, sha: str) -> set[str]:
    return set(repo.git("rev-list", sha).split())


def reference(repo: GitRepo, hist: History, start: int, end: int) -> dict[str, object]:
    """DESIGN.md's definitions, computed directly."""
    earliest: dict[str, Release] = {}
    for r in hist.releases:  # several tags on one commit are one deployment: the earliest
        if r.sha not in earliest or (r.at, r.tag) < (earliest[r.sha].at, earliest[r.sha].tag):
            earliest[r.sha] = r
    rels = sorted(earliest.values(), key=lambda r: (r.at, r.tag))
    shipped_by: dict[str, int] = {}
    changes: list[set[str]] = []
    for i, r in enumerate(rels):
        mine = reachable(repo, r.sha) - set(shipped_by)
        changes.append(mine)
        for s in mine:
            shipped_by[s] = i
    failed: dict[int, tuple[str, float | None]] = {}  # deployment → (signal, recovery hours)
    rework: set[int] = set()
    # reverts: target shipped by an earlier deployment, product change, revert shipped by a later one
    revert_marks: dict[int, float] = {}
    for c in hist.commits.values():
        if c.reverts and c.sha in shipped_by and c.reverts in shipped_by:
            i, j = shipped_by[c.reverts], shipped_by[c.sha]
            if i < j and hist.commits[c.reverts].product:
                rework.add(j)
                hours = (rels[j].at - rels[i].at) / H
                revert_marks[i] = min(revert_marks.get(i, hours), hours)
    # hotfixes: the next deployment within 72 h is a patch release of it whose non-merge changes are all
    # fixes or reverts (a revert of something an older deployment shipped is neutral, not enough alone)
    hotfix_marks: dict[int, float] = {}
    for j in range(1, len(rels)):
        prev, this = rels[j - 1], rels[j]
        if not 0 <= this.at - prev.at <= 72 * H or not changes[j]:
            continue
        if this.version[:2] != prev.version[:2] or this.version[2] <= prev.version[2]:
            continue
        ok, seen = True, False
        for s in changes[j]:
            c = hist.commits[s]
            if c.merge:
                continue
            if c.reverts and shipped_by.get(c.reverts, j - 1) != j - 1:
                continue
            if c.reverts or c.subject.startswith("fix:"):
                seen = True
            else:
                ok = False
        if ok and seen:
            rework.add(j)
            hotfix_marks[j - 1] = (this.at - prev.at) / H
    for i in set(revert_marks) | set(hotfix_marks):
        # the one restoring first; a tie goes to the revert
        r, h = revert_marks.get(i), hotfix_marks.get(i)
        failed[i] = ("revert", r) if h is None or (r is not None and r <= h) else ("hotfix", h)
    # incidents: the latest deployment at or before the start; they decide
    by_incident: dict[int, tuple[int, int | None]] = {}
    for _id, s, resolved in sorted(hist.incidents, key=lambda x: (x[1], x[0])):
        before = [i for i, r in enumerate(rels) if r.at <= s]
        if not before:
            continue
        i = max(before, key=lambda i: (rels[i].at, rels[i].tag))
        by_incident.setdefault(i, (s, resolved))
        for j, r in enumerate(rels):
            if (r.at, r.tag) > (rels[i].at, rels[i].tag) and s <= r.at < (resolved if resolved is not None else 1 << 62):
                rework.add(j)
    for i, (s, resolved) in by_incident.items():
        failed[i] = ("incident", None if resolved is None else (resolved - s) / H)

    inside = [i for i, r in enumerate(rels) if start <= r.at < end]
    leads = [
        (rels[i].at - hist.commits[s].author_time) / H
        for i in inside if i > 0 for s in changes[i]
    ]
    leads = [x for x in leads if x > 0]
    fails = [i for i in inside if i in failed]
    recoveries = [failed[i][1] for i in fails if failed[i][1] is not None]
    n = len(inside)
    return {
        "deployments": n,
        "lead": round(statistics.median(leads), 2) if leads else None,
        "changes": len(leads),
        "failed": len(fails),
        "cfr": round(100 * len(fails) / n, 2) if n else None,
        "mttr": round(statistics.median(recoveries), 2) if recoveries else None,
        "rework": round(100 * len([i for i in inside if i in rework]) / n, 2) if n else None,
    }


def ours(engine: LocalEngine, start: int, end: int) -> dict[str, object]:
    fmt = "%Y-%m-%dT%H:%M:%SZ"
    q = DoraQuery(**{"from": datetime.fromtimestamp(start, UTC).strftime(fmt),
                     "to": datetime.fromtimestamp(end - 1, UTC).strftime(fmt)})  # `to` is inclusive (+1 s)
    d = anyio.run(engine.dora.get_dora, q)
    return {
        "deployments": d.deployment_frequency.deployments,
        "lead": d.lead_time.value,
        "changes": d.lead_time.changes,
        "failed": d.change_failure_rate.failed_deployments,
        "cfr": d.change_failure_rate.value,
        "mttr": d.mttr.value,
        "rework": d.rework_rate.value,
    }


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    steps=st.lists(STEP, min_size=6, max_size=22),
    gaps=st.lists(st.integers(1, 60), min_size=1, max_size=8),
    cut=st.floats(0.2, 0.8),
)
def test_get_dora_equals_the_definition_on_random_histories(steps: list[tuple], gaps: list[int], cut: float) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        hist = build(root, steps, gaps)
        engine = LocalEngine(Settings(db=root / "db.sqlite", sync_max_age_seconds=3600))
        try:
            engine.register_repository(root / "r")
            anyio.run(engine.repos.sync)
            if hist.incidents:
                f = root / "incidents.json"
                f.write_text(json.dumps([
                    {"id": i, "title": i, "repo": "r",
                     "started_at": datetime.fromtimestamp(s, UTC).isoformat(),
                     "resolved_at": None if e is None else datetime.fromtimestamp(e, UTC).isoformat()}
                    for i, s, e in hist.incidents
                ]))
                anyio.run(engine.dora.import_events, f, "incidents")
            repo = GitRepo(root / "r", init=False)
            first = int(T0.timestamp())
            middle = first + int((hist.end - first) * cut)
            for start, end in ((first, hist.end + 1), (first, middle), (middle, hist.end + 1)):
                assert ours(engine, start, end) == reference(repo, hist, start, end), (start, end)
        finally:
            engine.store.close()
