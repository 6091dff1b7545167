"""GitHub deployments against the stand-in: the newest status is the latest created (not the first listed),
deployments not final yet wait in a list that each sync checks again (conditionally) until they are, and
the sync report's counts are the stored rows."""

from __future__ import annotations

import time
from pathlib import Path

import anyio
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from pydantic import SecretStr
from test_github_pages import new_store
from test_github_standin import StandInGitHub, iso

from engmetrics.config import Settings
from engmetrics.engine.local import LocalEngine
from engmetrics.areas.dora.models import DoraQuery
from engmetrics.sources.github.client import GitHubClient
from engmetrics.sources.github.deployments import PENDING_RECHECK_DAYS
from engmetrics.sources.github.result import GitHubSyncResult
from engmetrics.sources.github.sync import sync_github_repo
from engmetrics.store.db import Store
from gitrepo import GitRepo

DAY, HOUR = 86400, 3600
NOW = int(time.time()) // 60 * 60


def sync(store: Store, gh: StandInGitHub) -> GitHubSyncResult:
    async def go() -> GitHubSyncResult:
        async with GitHubClient(gh.token, gh.url) as client:
            return await sync_github_repo(store, client, 1, "sample", "acme/sample")

    return anyio.run(go)


def events(store: Store) -> dict[str, tuple[str, int, str]]:
    return {r[0]: (r[1], r[2], r[3]) for r in store.read().execute(
        "SELECT id, status, deployed_at, environment FROM deployment_events WHERE source = 'github'")}


def pending(store: Store) -> dict[int, str]:
    return {r[0]: r[1] for r in store.read().execute("SELECT id, state FROM github_pending_deployments")}


def dep(dep_id: int, at: int, environment: str = "production") -> dict:
    return {"id": dep_id, "sha": f"{dep_id:040x}"[-40:], "environment": environment, "created_at": iso(at)}


def test_the_newest_status_is_the_latest_created_and_inactive_keeps_the_success_time(tmp_path: Path) -> None:
    gh = StandInGitHub()
    t = NOW - 2 * DAY
    a, b, c, d, e, f = (2**31 + k for k in range(1, 7))
    gh.deployments = [dep(a, t), dep(b, t), dep(c, t), dep(d, t), dep(e, t), dep(f, NOW - (PENDING_RECHECK_DAYS + 5) * DAY)]
    gh.statuses = {
        # GitHub lists the later-inserted status first: `queued` (older, higher id) is listed before `success`
        a: [{"state": "success", "created_at": iso(t + 100)}, {"state": "queued", "created_at": iso(t)}],
        b: [{"state": "in_progress", "created_at": iso(t)}, {"state": "success", "created_at": iso(t + 60)},
            {"state": "inactive", "created_at": iso(t + 3600)}],  # replaced an hour later: deployed at t + 60
        c: [{"state": "success", "created_at": iso(t)}, {"state": "failure", "created_at": iso(t + 60)}],
        d: [],  # no status yet
        e: [{"state": "waiting", "created_at": iso(t)}],
        f: [{"state": "pending", "created_at": iso(NOW - (PENDING_RECHECK_DAYS + 5) * DAY)}],
    }
    gh.start()
    store = new_store(tmp_path / "db.sqlite")
    try:
        res = sync(store, gh)
        assert events(store) == {
            f"github:acme/sample:{a}": ("success", t + 100, "production"),
            f"github:acme/sample:{b}": ("success", t + 60, "production"),
            f"github:acme/sample:{c}": ("failure", t + 60, "production"),
        }
        assert res.deployments == 3
        assert pending(store) == {d: "", e: "waiting", f: "pending"}
        assert res.pending_deployments == 2  # f is past the re-check horizon
        assert res.notes == [f"deployments: 2 not final yet (GitHub deployment {d} (no status yet), {e} (waiting)); "
                             "each sync checks them again and imports them once they succeed or fail."]
        before = events(store)
        gh.counts.clear()
        again = sync(store, gh)
        # pulls, deployments, releases, issues, and d and e re-checked: all conditional (304); f no longer; a, b, c
        # never again
        assert gh.counts["statuses"] == 2 and gh.counts["conditional"] == 6 and gh.counts["total"] == 6
        assert again.deployments == 0 and events(store) == before
    finally:
        store.close()
        gh.stop()


def build(root: Path) -> tuple[GitRepo, list[str]]:
    repo = GitRepo(root / "repo")
    t0 = NOW - 10 * DAY
    shas = [repo.commit({"a": str(k)}, f"change {k}", when=t0 + k * DAY) for k in range(4)]
    return repo, shas


def test_a_pending_deployment_that_succeeds_is_imported_on_the_next_sync_and_the_report_counts_what_is_stored(
    tmp_path: Path,
) -> None:
    repo, shas = build(tmp_path)
    gh = StandInGitHub()
    t = NOW - 3 * DAY
    ok, later, staging, failed = 2**31 + 1, 2**31 + 2, 2**32 + 3, 2**33 + 4
    gh.deployments = [dep(ok, t) | {"sha": shas[1]}, dep(later, t + HOUR) | {"sha": shas[2]},
                      dep(staging, t) | {"sha": shas[2], "environment": "staging"},
                      dep(failed, t + 2 * HOUR) | {"sha": shas[3]}]
    gh.statuses = {
        ok: [{"state": "in_progress", "created_at": iso(t)}, {"state": "success", "created_at": iso(t + 60)}],
        later: [{"state": "queued", "created_at": iso(t + HOUR)}, {"state": "in_progress", "created_at": iso(t + HOUR + 30)}],
        staging: [{"state": "success", "created_at": iso(t + 120)}],
        failed: [{"state": "error", "created_at": iso(t + 2 * HOUR + 60)}],
    }
    url = gh.start()
    engine = LocalEngine(Settings(db=tmp_path / "db.sqlite", github_repos=["acme/sample=repo"],
                                  github_token=SecretStr(gh.token), github_api_url=url))
    engine.register_repository(repo.path)
    conn = engine.store.read()

    def stored_deployments() -> int:
        return conn.execute("SELECT count(*) FROM deployments").fetchone()[0]

    try:
        first = anyio.run(engine.repos.sync).repos[0]
        # ok, staging and failed are stored; DORA counts only ok (successful, production): 1 of 3
        assert first.deployments == stored_deployments() == 3
        dora = anyio.run(engine.dora.get_dora, DoraQuery(period="last_30_days"))
        assert dora.deployment_frequency.deployments == 1
        assert first.new_commits == conn.execute("SELECT count(*) FROM commits").fetchone()[0] == 4
        assert first.skipped == [f"GitHub acme/sample: deployments: 1 not final yet (GitHub deployment {later} "
                                 "(in_progress)); each sync checks them again and imports them once they succeed or fail."]

        gh.statuses[later].append({"state": "success", "created_at": iso(t + HOUR + 600)})  # the list is unchanged
        gh.counts.clear()
        second = anyio.run(engine.repos.sync).repos[0]
        assert second.skipped == [] and second.deployments == stored_deployments() == 4
        row = conn.execute("SELECT status, deployed_at FROM deployment_events WHERE id = ?",
                           (f"github:acme/sample:{later}",)).fetchone()
        assert tuple(row) == ("success", t + HOUR + 600)
        assert gh.counts["statuses"] == 1  # only the pending one was asked for
        assert conn.execute("SELECT count(*) FROM github_pending_deployments").fetchone()[0] == 0
        dora = anyio.run(engine.dora.get_dora, DoraQuery(period="last_30_days"))
        assert dora.deployment_frequency.deployments == 2

        gh.counts.clear()
        third = anyio.run(engine.repos.sync).repos[0]
        assert third.deployments == stored_deployments() == 4
        assert gh.counts["statuses"] == 0 and gh.counts["total"] == gh.counts["conditional"] == 4  # all 304
    finally:
        gh.stop()
        engine.store.close()


# -- property: whatever the statuses and their order, the stored deployments follow the newest ---------

STATES = ["success", "inactive", "failure", "error", "pending", "queued", "in_progress", "waiting"]
status_lists = st.lists(st.tuples(st.sampled_from(STATES), st.integers(0, 4)), max_size=5)  # (state, minute)


def expected(statuses: list[tuple[int, str, int]]) -> tuple[str, int] | None:
    """(status, time) a deployment is imported with, from DESIGN's rule, or None while not final.

    statuses: (id, state, created_at). The newest is the latest created, ties by the higher id; an
    ``inactive`` newest is a success at the time of the latest ``success``, if any."""
    if not statuses:
        return None
    by_time = sorted(statuses, key=lambda s: (s[2], s[0]))
    newest = by_time[-1]
    if newest[1] in ("failure", "error"):
        return "failure", newest[2]
    if newest[1] == "success":
        return "success", newest[2]
    if newest[1] == "inactive":
        successes = [s for s in by_time if s[1] == "success"]
        return "success", (successes[-1][2] if successes else newest[2])
    return None


def test_stored_deployments_follow_the_newest_status_over_two_syncs(tmp_path: Path) -> None:
    gh = StandInGitHub()
    gh.start()
    store = new_store(tmp_path / "db.sqlite")

    @settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(st.lists(st.tuples(status_lists, st.integers(0, 5)), min_size=1, max_size=5))
    @example([([("in_progress", 0), ("success", 1), ("inactive", 3)], 5), ([("queued", 0), ("success", 2)], 1)])
    @example([([("success", 2), ("queued", 2)], 5), ([("waiting", 1)], 0)])  # a tie: the higher id is newer
    def check(plan: list[tuple[list[tuple[str, int]], int]]) -> None:
        with store.tx() as c:  # a store as new, for each example
            for table in ("deployment_events", "github_pending_deployments", "github_etags", "sync_cursors"):
                c.execute(f"DELETE FROM {table}")
        base = NOW - DAY
        ids = [2**31 + 10 * k for k in range(len(plan))]
        gh.deployments = [dep(i, base) for i in ids]
        full: dict[int, list[tuple[int, str, int]]] = {}
        seen: dict[int, list[tuple[int, str, int]]] = {}
        for i, (statuses, cut) in zip(ids, plan, strict=True):
            full[i] = [(i * 1000 + k, state, base + 60 * minute) for k, (state, minute) in enumerate(statuses)]
            seen[i] = full[i][:cut]  # the statuses GitHub has at the first sync

        def statuses(which: dict[int, list[tuple[int, str, int]]]) -> dict[int, list[dict]]:
            return {i: [{"state": s, "created_at": iso(at)} for _, s, at in which[i]] for i in ids}

        async def two_syncs() -> tuple[GitHubSyncResult, dict, set, GitHubSyncResult]:
            async with GitHubClient(gh.token, gh.url) as client:  # one client: its TLS set-up is not free
                gh.statuses = statuses(seen)
                first = await sync_github_repo(store, client, 1, "sample", "acme/sample")
                after_first = (events(store), set(pending(store)))
                gh.statuses = statuses(full)  # GitHub has them all by the second sync; the list is unchanged
                second = await sync_github_repo(store, client, 1, "sample", "acme/sample")
                return first, *after_first, second

        first, events1, pending1, second = anyio.run(two_syncs)
        want1 = {i: expected(seen[i]) for i in ids}
        assert events1 == {f"github:acme/sample:{i}": (*w, "production") for i, w in want1.items() if w}
        assert pending1 == {i for i, w in want1.items() if w is None}
        assert first.deployments == sum(1 for w in want1.values() if w)
        assert first.pending_deployments == len(pending1)
        # imported deployments are not read again; pending ones follow their statuses now
        want2 = {i: want1[i] or expected(full[i]) for i in ids}
        assert events(store) == {f"github:acme/sample:{i}": (*w, "production") for i, w in want2.items() if w}
        assert set(pending(store)) == {i for i, w in want2.items() if w is None}
        assert second.deployments == sum(1 for i in ids if want1[i] is None and want2[i] is not None)
        assert second.pending_deployments == len(pending(store))

    try:
        check()
    finally:
        store.close()
        gh.stop()
