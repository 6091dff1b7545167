"""DORA on the history shapes real repositories have, each figure computed by hand from DESIGN.md.

Two repositories in one store: ``shop`` (merge-commit PRs titled "… (#N)", a squash PR, direct pushes, a
revert inside a PR, a revert of a product commit, a hotfix release, an interleaved backport release line,
two tags on one commit, an incident with a deployment made while it was open, a docs-only commit reverted
two years later) and ``tools`` (direct pushes only, no PRs, no incidents).

Times: ``day(n, h)`` is 2024-03-01T00:00Z + n days + h hours. Tags are annotated, so a deployment's time
is the tag's date.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import anyio
import pytest

from engmetrics.engine.local import LocalEngine
from engmetrics.areas.dora.models import DeploymentQuery, DoraQuery
from gitrepo import GitRepo

T = datetime(2024, 3, 1, tzinfo=UTC)
BOB = ("Bob", "bob@example.com")


def day(n: float, h: float = 0) -> datetime:
    return T + timedelta(days=n, hours=h)


def stamp(when: datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


def build_shop(root: Path) -> dict[str, str]:
    repo = GitRepo(root / "shop")
    s: dict[str, str] = {}
    s["c0"] = repo.commit({"src/app.py": "app = 1\n"}, "init", when=day(0))
    repo.tag("v1.0.0", annotated=True, when=day(0, 1))  # D1: first deployment, no lead times
    # A direct push, a merge-commit PR titled like a squash (with a revert inside it), a real squash PR
    # (whose body carries a revert line of a commit squashed away), and a docs-only commit.
    s["d1"] = repo.commit({"src/log.py": "log = 1\n"}, "Tweak logging", when=day(1))
    repo.branch("search")
    repo.checkout("search")
    s["b1"] = repo.commit({"src/search.py": "a\n"}, "Start search", author=BOB, when=day(1, 6))
    s["b2"] = repo.commit({"src/search.py": "a\nb\n"}, "wip", author=BOB, when=day(2))
    s["b3"] = repo.revert(s["b2"], when=day(2, 6), author=BOB)
    repo.checkout("main")
    s["m12"] = repo.merge("search", "Add search (#12)", when=day(3))
    s["s13"] = repo.commit(
        {"src/export.py": "x\n"},
        'Add export (#13)\n\n* wip\n\n* Revert "wip"\n\nThis reverts commit 1234567890abcdef1234567890abcdef12345678.\n',
        when=day(3, 12),
    )
    s["docs"] = repo.commit({"docs/faq.md": "# FAQ\n"}, "Add FAQ", when=day(4))
    repo.tag("v1.1.0", annotated=True, when=day(5))  # D2
    s["p1"] = repo.commit({"src/cache.py": "cache = 1\n"}, "feat: risky cache", when=day(6))
    repo.tag("v1.2.0", annotated=True, when=day(7))  # D3: failed by the revert shipped in D4
    s["r1"] = repo.revert(s["p1"], when=day(8))
    repo.tag("v1.2.1", annotated=True, when=day(8, 12))  # D4: ships the revert (rework; also a hotfix)
    s["f2"] = repo.commit({"src/checkout.py": "c = 1\n"}, "feat: new checkout", when=day(10))
    repo.tag("v1.3.0", annotated=True, when=day(11))  # D5: failed by the hotfix release D6
    s["fix"] = repo.commit({"src/checkout.py": "c = 2\n"}, "fix: checkout crash", when=day(11, 12))
    repo.tag("v1.3.1", annotated=True, when=day(12))  # D6: hotfix release (rework)
    # A backport release line forked at v1.2.1, released between two mainline releases.
    repo.branch("1.2.x", "v1.2.1")
    repo.checkout("1.2.x")
    s["bp"] = repo.commit({"src/cache.py": None, "src/sec.py": "s\n"}, "fix: backport security", when=day(13))
    repo.tag("v1.2.2", annotated=True, when=day(13, 12))  # D7
    repo.checkout("main")
    s["more"] = repo.commit({"src/more.py": "m\n"}, "feat: more", when=day(14, 6))
    repo.tag("v1.4.0", annotated=True, when=day(15))  # D8: the incident INC-7 is attributed to it
    repo.tag("1.4", annotated=True, when=day(15, 2))  # a second release tag on the same commit: same deployment
    s["y"] = repo.commit({"src/y.py": "y\n"}, "feat: y", when=day(16))
    repo.tag("v1.4.1", annotated=True, when=day(17))  # D8b: made while INC-7 was open (rework)
    # Two years later the docs commit shipped by D2 is reverted: not a product change, D2 did not fail.
    s["rdocs"] = repo.revert(s["docs"], when=day(800))
    repo.tag("v1.5.0", annotated=True, when=day(801))  # D9
    return s


def build_tools(root: Path) -> None:
    repo = GitRepo(root / "tools")
    repo.commit({"cli.py": "0\n"}, "init", when=day(0))
    repo.tag("v0.1.0", annotated=True, when=day(0, 1))
    repo.commit({"cli.py": "1\n"}, "Add flag", when=day(1))
    repo.commit({"cli.py": "2\n"}, "Add option", when=day(2))
    repo.tag("v0.2.0", annotated=True, when=day(3))


@pytest.fixture(scope="module")
def store(backend, tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    """The two repositories synced into a store of each kind (SQLite, PostgreSQL), INC-7 imported."""
    root = tmp_path_factory.mktemp("shapes")
    shas = build_shop(root)
    build_tools(root)
    incidents = root / "incidents.json"
    incidents.write_text(json.dumps([{"id": "INC-7", "title": "Checkout slow", "started_at": stamp(day(15, 6)),
                                      "resolved_at": stamp(day(20)), "repo": "shop"}]))
    engine = LocalEngine(backend.settings(root / "db.sqlite", sync_max_age_seconds=3600))
    engine.register_repository(root / "shop")
    engine.register_repository(root / "tools")

    async def go() -> None:
        await engine.repos.sync()
        await engine.dora.import_events(incidents, "incidents")

    anyio.run(go)
    yield engine, shas
    engine.store.close()


def dora(engine: LocalEngine, repo: str | None, start: datetime, end: datetime):  # type: ignore[no-untyped-def]
    return anyio.run(engine.dora.get_dora, DoraQuery(repo=repo, **{"from": stamp(start), "to": stamp(end)}))


# Lead times per shipped commit, hours (deployment time − author time):
#   D2 (day 5): d1 96, b1 90, b2 72, b3 66, m12 48, s13 36, docs 24
#   D3 (day 7): p1 24          D4 (day 8.5): r1 12        D5 (day 11): f2 24       D6 (day 12): fix 12
#   D7 (day 13.5): bp 12       D8 (day 15): more 18       D8b (day 17): y 24
SHOP_LEADS = [96, 90, 72, 66, 48, 36, 24, 24, 12, 24, 12, 12, 18, 24]
TOOLS_LEADS = [48, 24]


def median(values: list[float]) -> float:
    v = sorted(values)
    n = len(v)
    return v[n // 2] if n % 2 else (v[n // 2 - 1] + v[n // 2]) / 2


def test_lead_time_counts_every_shipped_commit_and_the_pr_view_is_separate(store) -> None:  # type: ignore[no-untyped-def]
    engine, _ = store
    shop = dora(engine, "shop", day(0), day(30))
    assert shop.lead_time.definition == "commit_to_deploy"
    assert shop.lead_time.changes == len(SHOP_LEADS) == 14
    assert shop.lead_time.value == median(SHOP_LEADS) == 24.0
    # PR view: #12 is a merge (two parents) whatever its "(#12)" title: first commit b1 (day 1 06:00) → D2 = 90 h;
    # #13 is a squash (one parent): its one commit day 3 12:00 → D2 = 36 h.
    pr = shop.lead_time.by_pull_request
    assert pr is not None and pr.pull_requests == 2 and pr.value == 63.0
    # A repository without PRs keeps its lead times in a store where another has PRs.
    tools = dora(engine, "tools", day(0), day(30))
    assert tools.lead_time.value == 36.0 and tools.lead_time.changes == 2
    assert tools.lead_time.by_pull_request is None
    both = dora(engine, None, day(0), day(30))
    assert both.lead_time.changes == 16 and both.lead_time.value == median(SHOP_LEADS + TOOLS_LEADS)


def test_pr_view_is_there_when_only_the_previous_window_shipped_prs(store) -> None:  # type: ignore[no-untyped-def]
    engine, _ = store
    # [day 5.5, day 6.5) holds no deployment; the previous day [day 4.5, day 5.5) holds D2 (#12 90 h, #13 36 h). The
    # repository has PR data over the two windows, so the PR view is given: null now, 63 h before.
    shop = dora(engine, "shop", day(5.5), day(6.5))
    assert shop.deployment_frequency.deployments == 0 and shop.deployment_frequency.previous_value is not None
    pr = shop.lead_time.by_pull_request
    assert pr is not None and pr.pull_requests == 0 and pr.value is None and pr.previous_value == 63.0
    # Over the tools repository alone (no PRs) there is none.
    assert dora(engine, "tools", day(5.5), day(6.5)).lead_time.by_pull_request is None


def test_failures_reverts_hotfixes_and_incidents(store) -> None:  # type: ignore[no-untyped-def]
    engine, shas = store
    shop = dora(engine, "shop", day(0), day(30))
    # D1 D2 D3 D4 D5 D6 D7 D8 D8b: nine deployments (v1.4.0 and 1.4 are one).
    assert shop.deployment_frequency.deployments == 9
    cfr = shop.change_failure_rate
    assert (cfr.failed_deployments, cfr.value) == (3, 33.33)
    assert [(f.signal, f.evidence, f.recovery_hours) for f in cfr.failures] == [
        ("incident", "INC-7", 114.0),  # D8: started day 15 06:00, resolved day 20
        ("hotfix", "v1.3.1", 24.0),  # D5 → D6
        ("revert", shas["r1"], 36.0),  # D3 → D4 (revert and hotfix tie: the revert is named)
    ]
    assert shop.mttr.value == 36.0 and shop.mttr.recovered == 3
    assert not cfr.lower_bound
    # Rework: D4 (ships the revert of D3's product change), D6 (hotfix), D8b (made while INC-7 was open).
    assert (shop.rework_rate.unplanned_deployments, shop.rework_rate.value) == (3, 33.33)
    deps = anyio.run(engine.dora.list_deployments, DeploymentQuery(repo="shop", **{"from": stamp(day(0)), "to": stamp(day(30))}, limit=20))
    rework = {d.tag: d.rework_signal for d in deps.items if d.unplanned}
    assert rework == {"v1.2.1": "revert", "v1.3.1": "hotfix", "v1.4.1": "incident"}
    changes = {d.tag: d.change_count for d in deps.items}
    assert changes == {"v1.0.0": 1, "v1.1.0": 7, "v1.2.0": 1, "v1.2.1": 1, "v1.3.0": 1, "v1.3.1": 1,
                       "v1.2.2": 1, "v1.4.0": 1, "v1.4.1": 1}
    assert not next(d for d in deps.items if d.tag == "v1.1.0").failed  # its reverts were inside a PR / docs-only


def test_docs_revert_years_later_marks_nothing_and_no_incident_data_is_a_lower_bound(store) -> None:  # type: ignore[no-untyped-def]
    engine, _ = store
    later = dora(engine, "shop", day(790), day(810))
    assert later.deployment_frequency.deployments == 1
    assert later.change_failure_rate.value == 0.0 and later.rework_rate.value == 0.0
    assert later.lead_time.value == 24.0
    tools = dora(engine, "tools", day(0), day(30))
    assert tools.change_failure_rate.lower_bound and tools.change_failure_rate.value == 0.0
    assert any("No incident data for tools" in n and "lower bound" in n for n in tools.notes)
    both = dora(engine, None, day(0), day(30))
    assert both.change_failure_rate.lower_bound
