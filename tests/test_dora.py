"""DORA metrics, failure marking, ratings and the tag rule against hand-computed answers."""

from __future__ import annotations

import hashlib
import random
from datetime import UTC, datetime

import pytest

from engmetrics.errors import InvalidInput
from engmetrics import ratings
from engmetrics.areas.dora.metrics.graph import CommitGraph, CommitInfo, assign_changes, changes_between
from engmetrics.areas.dora.metrics.failures import DeploymentRecord, IncidentRecord, mark_failures
from engmetrics.commits import is_fix, is_revert, reverted_sha
from engmetrics.areas.dora.metrics.tags import is_patch_release, is_release_tag, parse_version
from engmetrics.areas.dora.metrics.figures import summarize
from engmetrics.trends import trend, trend_direction
from engmetrics.periods import Window

H = 3600


def ts(text: str) -> int:
    return int(datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp())


def sha(n: int) -> str:
    """A distinct, realistic-looking sha for commit number ``n``."""
    return hashlib.sha1(str(n).encode()).hexdigest()


# ---------------------------------------------------------------------------------------------- tags


@pytest.mark.parametrize("name", ["v1.2.3", "1.2", "1.2.3", "V2.0", "release-1.4.0", "release/2.1", "v10.20.30"])
def test_release_tags(name: str) -> None:
    assert is_release_tag(name)


@pytest.mark.parametrize(
    "name",
    [
        "v1.2.3-rc1", "v1.2.3rc1", "1.2.0rc1", "2.0a1", "2.0b2", "1.0.dev0", "1.0.0.dev1", "v1.0-beta",
        "v1.0.0-alpha.1", "v1.0.0-pre", "v1.0.0-anything", "v1.0.0+build5", "1", "v1.2.3.4", "latest", "nightly",
    ],
)
def test_pre_releases_and_non_versions_are_not_releases(name: str) -> None:
    assert not is_release_tag(name)


def test_custom_tag_pattern_and_invalid_pattern() -> None:
    assert is_release_tag("deploy-2025-02-01", r"deploy-\d{4}-\d{2}-\d{2}")
    assert not is_release_tag("v1.2.3", r"deploy-\d{4}-\d{2}-\d{2}")
    with pytest.raises(InvalidInput, match="not a valid regular expression"):
        is_release_tag("v1", "(")


def test_parse_version_and_patch_release() -> None:
    assert parse_version("v1.2.3") == (1, 2, 3)
    assert parse_version("1.2") == (1, 2, 0)
    assert parse_version("release-1.4.0") == (1, 4, 0)
    assert parse_version("nope") is None
    assert is_patch_release("v1.2.0", "v1.2.1")
    assert is_patch_release("1.2", "1.2.1")
    assert not is_patch_release("v1.2.1", "v1.3.0")  # minor bump
    assert not is_patch_release("v1.2.1", "v1.2.1")
    assert not is_patch_release("v1.2.2", "v1.2.1")
    assert not is_patch_release(None, "v1.2.1")


# ----------------------------------------------------------------------------------- classification


def test_commit_classification() -> None:
    assert is_fix("fix: null pointer in login")
    assert is_fix("fix(auth): token refresh")
    assert is_fix("hotfix: disable feature flag")
    assert is_fix("Fix crash on empty cart")
    assert is_fix("Patch the bug in billing")
    assert not is_fix("feat: add export")
    assert not is_fix("Add prefix support")  # 'prefix' is not the word 'fix'
    msg = 'Revert "feat: add export"\n\nThis reverts commit 0123456789abcdef0123456789abcdef01234567.\n'
    assert reverted_sha(msg) == "0123456789abcdef0123456789abcdef01234567"
    assert reverted_sha("This reverts commit ABCDEF1.") == "abcdef1"
    assert reverted_sha("nothing here") is None
    assert is_revert('Revert "feat: add export"')
    assert is_revert("revert: bad change")
    assert is_revert("Undo things", "This reverts commit abcdef1234.")
    assert not is_revert("Reverted expectations in docs")


# --------------------------------------------------------------------------------- change assignment


def random_dag(n: int, seed: int) -> CommitGraph:
    rng = random.Random(seed)
    commits = []
    for i in range(n):
        if i == 0:
            parents: tuple[str, ...] = ()
        else:
            parents = (sha(i - 1 if rng.random() < 0.6 else rng.randrange(i)),)
            if i > 2 and rng.random() < 0.25:
                other = sha(rng.randrange(i))
                if other not in parents:
                    parents += (other,)
        commits.append(CommitInfo(sha(i), parents, 1000 + i))
    rng.shuffle(commits)  # any input order
    return CommitGraph(commits)


def ancestors(graph: CommitGraph, s: str) -> set[str]:
    out, stack = set(), [s]
    parents = {graph.shas[i]: [graph.shas[p] for p in graph.parents[i]] for i in range(len(graph))}
    while stack:
        x = stack.pop()
        if x not in out:
            out.add(x)
            stack.extend(parents[x])
    return out


@pytest.mark.parametrize("seed", range(8))
def test_each_commit_ships_once_on_random_dags(seed: int) -> None:
    graph = random_dag(120, seed)
    rng = random.Random(seed + 100)
    tips = [sha(rng.randrange(120)) for _ in range(25)]  # ancestors, rollbacks, side branches, repeats
    shipped = assign_changes(graph, tips)
    assert shipped[0].first and not any(s.first for s in shipped[1:])
    assert {graph.shas[i] for i in shipped[0].changes} == ancestors(graph, tips[0])
    shipped_before = ancestors(graph, tips[0])
    for k in range(1, len(tips)):
        # A commit ships once: at the first deployment that reaches it.
        expected = ancestors(graph, tips[k]) - shipped_before
        got = [graph.shas[i] for i in shipped[k].changes]
        assert len(got) == len(set(got))
        assert set(got) == expected, k
        shipped_before |= ancestors(graph, tips[k])
        # changes_between keeps exact `git rev-list prev..this` semantics.
        assert set(changes_between(graph, tips[k], tips[k - 1])) == ancestors(graph, tips[k]) - ancestors(graph, tips[k - 1])
    assert set(changes_between(graph, tips[0], None)) == ancestors(graph, tips[0])


def test_unknown_sha_ships_nothing_and_is_skipped_as_previous() -> None:
    graph = CommitGraph([CommitInfo(sha(0)), CommitInfo(sha(1), (sha(0),)), CommitInfo(sha(2), (sha(1),))])
    shipped = assign_changes(graph, [sha(0), "f" * 40, sha(2)])
    assert not shipped[1].known and shipped[1].changes == ()
    assert [graph.shas[i] for i in shipped[2].changes] == [sha(2), sha(1)]
    with pytest.raises(InvalidInput):
        changes_between(graph, "f" * 40, sha(0))


# ------------------------------------------------------------------------------------ failure marking


def linear_graph(subjects: list[str], bodies: dict[int, str] | None = None) -> CommitGraph:
    bodies = bodies or {}
    return CommitGraph(
        CommitInfo(sha(i), (sha(i - 1),) if i else (), 1000 + i, s, bodies.get(i, "")) for i, s in enumerate(subjects)
    )


def deploy(ident: str, at: int, changes: list[int], *, tag: str | None = None, first: bool = False, **kw) -> DeploymentRecord:
    return DeploymentRecord(
        id=ident,
        repo="app",
        sha=sha(changes[0]) if changes else sha(0),
        deployed_at=at,
        tag=tag,
        changes=tuple(sha(c) for c in changes),
        first=first,
        **kw,
    )


T0 = ts("2025-01-06T00:00:00")


def by_id(records: list[DeploymentRecord]) -> dict[str, DeploymentRecord]:
    return {d.id: d for d in records}


def test_incident_attribution_explicit_sha_and_time() -> None:
    graph = linear_graph(["init", "feat a", "feat b", "feat c"])
    deps = [
        deploy("d1", T0, [1, 0], first=True),
        deploy("d2", T0 + 10 * H, [2]),
        deploy("d3", T0 + 20 * H, [3]),
    ]
    incidents = [
        IncidentRecord("inc-explicit", T0 + 30 * H, T0 + 32 * H, repo="app", deployment_id="d1"),
        IncidentRecord("inc-sha", T0 + 40 * H, T0 + 41 * H, repo="app", sha=sha(2)[:10]),  # prefix resolves
        IncidentRecord("inc-time", T0 + 21 * H, None, repo="app"),  # after d3, open
    ]
    out = by_id(mark_failures(deps, graph, incidents))
    assert (out["d1"].failure_signal, out["d1"].failure_evidence, out["d1"].recovery_hours) == ("incident", "inc-explicit", 2.0)
    assert out["d1"].failure_start == T0 + 30 * H
    assert (out["d2"].failure_signal, out["d2"].failure_evidence, out["d2"].recovery_hours) == ("incident", "inc-sha", 1.0)
    assert (out["d3"].failure_signal, out["d3"].failure_evidence) == ("incident", "inc-time")
    assert out["d3"].failed and out["d3"].recovery_hours is None  # still open


def test_time_attribution_picks_the_deployment_before_the_incident() -> None:
    graph = linear_graph(["init", "a", "b"])
    deps = [deploy("d1", T0, [1, 0], first=True), deploy("d2", T0 + 10 * H, [2])]
    out = by_id(mark_failures(deps, graph, [IncidentRecord("inc", T0 + 5 * H, T0 + 6 * H, repo="app")]))
    assert out["d1"].failed and not out["d2"].failed
    # before any deployment: nothing to attribute
    out = by_id(mark_failures(deps, graph, [IncidentRecord("early", T0 - H, T0, repo="app")]))
    assert not any(d.failed for d in out.values())
    # naming an unknown deployment: never guessed by time
    out = by_id(mark_failures(deps, graph, [IncidentRecord("x", T0 + 5 * H, None, repo="app", deployment_id="nope")]))
    assert not any(d.failed for d in out.values())
    # no repository: by time only when allowed
    inc = IncidentRecord("norepo", T0 + 5 * H, T0 + 7 * H)
    assert by_id(mark_failures(deps, graph, [inc]))["d1"].failed
    assert not by_id(mark_failures(deps, graph, [inc], time_attribution_without_repo=False))["d1"].failed
    # other service: not attributed to this service's deployment
    svc = [deploy("s1", T0, [1, 0], first=True, service="api")]
    assert not mark_failures(svc, graph, [IncidentRecord("w", T0 + H, None, repo="app", service="web")])[0].failed


def test_revert_marks_the_deployment_and_recovers_at_the_reverts_deployment() -> None:
    graph = linear_graph(
        ["init", "feat: risky", "feat: other", 'Revert "feat: risky"'],
        {3: f"This reverts commit {sha(1)}."},
    )
    deps = [
        deploy("d0", T0 - 10 * H, [0], first=True),
        deploy("d1", T0, [1]),
        deploy("d2", T0 + 5 * H, [2]),
        deploy("d3", T0 + 8 * H, [3]),
    ]
    out = by_id(mark_failures(deps, graph))
    assert (out["d1"].failure_signal, out["d1"].failure_evidence, out["d1"].recovery_hours) == ("revert", sha(3), 8.0)
    assert out["d1"].failure_start == T0
    assert out["d3"].has_revert and out["d3"].unplanned and not out["d3"].failed
    assert not out["d2"].failed and not out["d2"].unplanned


def test_revert_shipped_with_its_target_or_not_yet_deployed_marks_nothing() -> None:
    graph = linear_graph(["init", "feat: risky", 'Revert "feat: risky"'], {2: f"This reverts commit {sha(1)[:12]}."})
    together = [deploy("d0", T0 - H, [0], first=True), deploy("d1", T0, [2, 1])]
    out = by_id(mark_failures(together, graph))
    assert not out["d1"].failed and not out["d1"].has_revert
    # DESIGN.md: a revert marks D only once a later deployment ships it.
    pending = [deploy("d0", T0 - H, [0], first=True), deploy("d1", T0, [1])]  # revert not deployed yet
    out = by_id(mark_failures(pending, graph))
    assert not out["d1"].failed and not out["d1"].unplanned


def test_hotfix_release_marks_the_previous_release() -> None:
    graph = linear_graph(["init", "feat: big", "fix: crash on save", "Merge branch 'hotfix'", "feat: next"])
    graph.parents[3] = (2, 0)  # make commit 3 a merge (neutral in the all-fixes check)
    deps = [
        deploy("r0", T0 - 100 * H, [0], tag="v1.1.0", first=True),
        deploy("r1", T0, [1], tag="v1.2.0"),
        deploy("r2", T0 + 30 * H, [3, 2], tag="v1.2.1"),
        deploy("r3", T0 + 40 * H, [4], tag="v1.3.0"),
    ]
    out = by_id(mark_failures(deps, graph))
    assert (out["r1"].failure_signal, out["r1"].failure_evidence, out["r1"].recovery_hours) == ("hotfix", "v1.2.1", 30.0)
    assert out["r2"].is_hotfix and out["r2"].unplanned and not out["r2"].failed
    assert not out["r3"].is_hotfix and not out["r0"].failed


@pytest.mark.parametrize(
    ("hours", "tag", "subject", "marked"),
    [
        (72, "v1.2.1", "fix: crash", True),  # exactly 72 h is within
        (73, "v1.2.1", "fix: crash", False),  # too late
        (10, "v1.3.0", "fix: crash", False),  # not a patch release
        (10, "v1.2.1", "feat: new thing", False),  # not all fixes
        (10, "v1.2.1", 'Revert "feat: big"', True),  # a revert counts as a fix
    ],
)
def test_hotfix_rule_edges(hours: int, tag: str, subject: str, marked: bool) -> None:
    graph = linear_graph(["init", "feat: big", subject])
    deps = [
        deploy("r0", T0 - 100 * H, [0], tag="v1.1.0", first=True),
        deploy("r1", T0, [1], tag="v1.2.0"),
        deploy("r2", T0 + hours * H, [2], tag=tag),
    ]
    out = by_id(mark_failures(deps, graph))
    assert out["r1"].failed is marked
    assert out["r2"].is_hotfix is marked


def test_hotfix_for_event_deployments_without_tags() -> None:
    graph = linear_graph(["init", "feat: big", "hotfix: disable flag"])
    deps = [
        deploy("e0", T0 - 100 * H, [0], first=True, source="event"),
        deploy("e1", T0, [1], source="event"),
        deploy("e2", T0 + 2 * H, [2], source="event"),
    ]
    out = by_id(mark_failures(deps, graph))
    assert (out["e1"].failure_signal, out["e1"].failure_evidence, out["e1"].recovery_hours) == ("hotfix", "e2", 2.0)


def test_incident_decides_over_revert_and_hotfix() -> None:
    graph = linear_graph(["init", "feat: risky", 'Revert "feat: risky"'], {2: f"This reverts commit {sha(1)}."})
    deps = [
        deploy("r0", T0 - 100 * H, [0], tag="v1.1.0", first=True),
        deploy("r1", T0, [1], tag="v1.2.0"),
        deploy("r2", T0 + 3 * H, [2], tag="v1.2.1"),  # both a revert and a hotfix of r1
    ]
    without = by_id(mark_failures(deps, graph))
    assert without["r1"].failure_signal == "revert" and without["r1"].recovery_hours == 3.0  # tie → revert
    inc = IncidentRecord("inc-9", T0 + H, T0 + H + 1800, repo="app", deployment_id="r1")
    out = by_id(mark_failures(deps, graph, [inc]))
    assert (out["r1"].failure_signal, out["r1"].failure_evidence, out["r1"].recovery_hours) == ("incident", "inc-9", 0.5)
    assert out["r1"].failure_start == T0 + H
    assert out["r2"].is_hotfix and out["r2"].has_revert


def test_only_successful_production_deployments_are_marked() -> None:
    graph = linear_graph(["init", "a"])
    deps = [
        deploy("d0", T0, [0], first=True),
        deploy("stg", T0 + H, [1], environment="staging"),
        deploy("bad", T0 + 2 * H, [], status="failure"),
    ]
    out = by_id(mark_failures(deps, graph, [IncidentRecord("i", T0 + 3 * H, None, repo="app")]))
    assert out["d0"].failed and not out["stg"].failed and not out["bad"].failed


# ------------------------------------------------------------------------------------------ summaries

WINDOW = Window(datetime(2025, 1, 1, tzinfo=UTC), datetime(2025, 1, 15, tzinfo=UTC), "test")


def rec(ident: str, when: str, leads: tuple[float, ...] = (), **kw) -> DeploymentRecord:
    return DeploymentRecord(id=ident, repo="app", sha=sha(1), deployed_at=ts(when), lead_times_hours=leads, **kw)


def sample() -> list[DeploymentRecord]:
    return [
        rec("p1", "2024-12-20T12:00:00", (10.0,)),  # previous window
        rec("d1", "2025-01-02T10:00:00", (2.0, 4.0), failed=True, failure_signal="incident",
            failure_evidence="inc-1", recovery_hours=3.0),
        rec("d2", "2025-01-02T18:00:00", (10.0,), is_hotfix=True),
        rec("d3", "2025-01-05T00:00:00", (-1.0, 0.0, 6.0)),  # non-positive lead times dropped
        rec("d4", "2025-01-10T00:00:00", (), first=True, failed=True, failure_signal="revert",
            failure_evidence=sha(9), recovery_hours=5.0),
        rec("stg", "2025-01-03T00:00:00", (1.0,), environment="staging"),  # not counted
        rec("bad", "2025-01-04T00:00:00", (1.0,), status="failure"),  # not counted
        rec("late", "2025-01-15T00:00:00", (1.0,)),  # end is exclusive
    ]


def test_summarize_hand_computed() -> None:
    report = summarize(sample(), WINDOW, benchmark_year=2024, repo="app")
    f = report.deployment_frequency
    assert (f.value, f.deployments, f.deployment_days_per_week, f.rating) == (2.0, 4, 1.5, "high")
    assert (f.previous_value, f.trend, f.trend_direction) == (0.5, "+300%", "improving")
    lt = report.lead_time
    assert (lt.value, lt.p85, lt.changes, lt.rating) == (5.0, 8.2, 4, "elite")
    assert (lt.previous_value, lt.trend, lt.trend_direction) == (10.0, "-50%", "improving")
    cfr = report.change_failure_rate
    assert (cfr.value, cfr.failed_deployments, cfr.total_deployments, cfr.rating) == (50.0, 2, 4, "low")
    assert cfr.previous_value == 0.0 and cfr.trend is None and cfr.trend_direction is None
    assert [(x.deployment_id, x.signal, x.evidence, x.recovery_hours) for x in cfr.failures] == [
        ("d4", "revert", sha(9), 5.0),
        ("d1", "incident", "inc-1", 3.0),
    ]
    assert cfr.failures[0].deployed_at == "2025-01-10T00:00:00Z"
    m = report.mttr
    assert (m.value, m.recovered, m.rating, m.previous_value, m.trend) == (4.0, 2, "high", None, None)
    rw = report.rework_rate
    assert (rw.value, rw.unplanned_deployments, rw.total_deployments, rw.rating) == (25.0, 1, 4, None)
    assert report.period.from_ == "2025-01-01T00:00:00Z" and report.period.to == "2025-01-15T00:00:00Z"
    assert report.previous_period.from_ == "2024-12-18T00:00:00Z"
    assert report.benchmark_year == 2024 and report.repo == "app"
    dumped = report.model_dump()
    assert dumped["period"]["from"] == "2025-01-01T00:00:00Z"


def test_summarize_ratings_follow_the_benchmark_year() -> None:
    report = summarize(sample(), WINDOW, benchmark_year=2023)
    assert report.benchmark_year == 2023
    assert report.change_failure_rate.rating == "low"
    with pytest.raises(InvalidInput, match="2023, 2024"):
        summarize(sample(), WINDOW, benchmark_year=2019)


def test_empty_window_gives_nulls_and_a_note() -> None:
    report = summarize(sample(), Window(datetime(2025, 3, 1, tzinfo=UTC), datetime(2025, 3, 8, tzinfo=UTC), "w"))
    f = report.deployment_frequency
    assert (f.value, f.deployments, f.deployment_days_per_week, f.rating, f.trend) == (None, 0, None, None, None)
    assert report.lead_time.value is None and report.lead_time.p85 is None and report.lead_time.changes == 0
    assert report.change_failure_rate.value is None and report.change_failure_rate.rating is None
    assert report.mttr.value is None and report.rework_rate.value is None
    assert len(report.notes) == 1
    note = report.notes[0]
    assert "No production deployments between 2025-03-01T00:00:00Z and 2025-03-08T00:00:00Z" in note
    assert "release tags" in note and "engmetrics deploy record" in note
    custom = summarize([], WINDOW, tag_pattern=r"deploy-\d+", notes=["caller note"])
    assert custom.notes[0] == "caller note" and "deploy-\\\\d+" in custom.notes[1]


def test_previous_window_empty_gives_no_trend_and_notes_for_null_figures() -> None:
    only_first = [rec("d1", "2025-01-02T10:00:00", (), first=True)]
    report = summarize(only_first, WINDOW)
    assert report.deployment_frequency.value == 0.5 and report.deployment_frequency.trend is None
    assert report.deployment_frequency.previous_value is None
    assert report.lead_time.value is None  # the first deployment has no lead time
    assert report.change_failure_rate.value == 0.0 and report.change_failure_rate.rating == "elite"
    assert report.mttr.value is None
    assert any("Lead time is null" in n for n in report.notes)
    assert any("no failed deployments" in n for n in report.notes)


def test_failures_list_is_capped_at_20_newest_first() -> None:
    deps = [
        rec(f"d{i:02}", f"2025-01-{2 + i // 4:02}T{(i % 4) * 5:02}:00:00", (1.0,), failed=True,
            failure_signal="incident", failure_evidence=f"i{i}", recovery_hours=None)
        for i in range(30)
    ]
    report = summarize(deps, WINDOW)
    cfr = report.change_failure_rate
    assert cfr.failed_deployments == 30 and len(cfr.failures) == 20
    assert cfr.failures[0].deployment_id == "d29" and cfr.failures[-1].deployment_id == "d10"
    assert report.mttr.value is None and report.mttr.recovered == 0
    assert any("recovered yet" in n for n in report.notes)


def test_trend_and_direction() -> None:
    assert trend(4.2, 3.75) == ("+12%", 12.0)
    assert trend(9.2, 10.0) == ("-8%", -8.0)
    assert trend(10.0, 10.0) == ("0%", 0.0)
    assert trend(1.025, 1.0) == ("+3%", 3.0)
    assert trend(1.0, None) == (None, None) and trend(None, 1.0) == (None, None) and trend(5.0, 0.0) == (None, None)
    assert trend_direction(12.0, higher_is_better=True) == "improving"
    assert trend_direction(12.0, higher_is_better=False) == "worsening"
    assert trend_direction(-8.0, higher_is_better=False) == "improving"
    assert trend_direction(-8.0, higher_is_better=True) == "worsening"
    assert trend_direction(5.0, True) == "stable" and trend_direction(-5.0, False) == "stable"
    assert trend_direction(6.0, True) == "improving"
    assert trend_direction(None, True) is None


def test_stable_trend_in_a_report() -> None:
    deps = [rec(f"c{i}", f"2025-01-{2 + i:02}T00:00:00", (10.0,)) for i in range(3)]
    deps += [rec(f"p{i}", f"2024-12-{20 + i:02}T00:00:00", (10.4,)) for i in range(3)]
    report = summarize(deps, WINDOW)
    assert report.deployment_frequency.trend == "0%" and report.deployment_frequency.trend_direction == "stable"
    assert report.lead_time.trend == "-4%" and report.lead_time.trend_direction == "stable"


# -------------------------------------------------------------------------------------------- ratings


@pytest.mark.parametrize(
    ("metric", "value", "year", "expected"),
    [
        # deployment frequency (deploys/week; at threshold → better tier)
        ("deployment_frequency", 7.0, 2024, "elite"),
        ("deployment_frequency", 6.99, 2024, "high"),
        ("deployment_frequency", 1.0, 2024, "high"),
        ("deployment_frequency", 0.99, 2024, "medium"),
        ("deployment_frequency", 7 / 30.4375, 2024, "medium"),
        ("deployment_frequency", 0.2, 2024, "low"),
        ("deployment_frequency", 0.2, 2023, "low"),
        ("deployment_frequency", 0.5, 2023, "medium"),
        # lead time (hours)
        ("lead_time", 24.0, 2024, "elite"),
        ("lead_time", 24.01, 2024, "high"),
        ("lead_time", 168.0, 2023, "high"),
        ("lead_time", 168.01, 2023, "medium"),
        ("lead_time", 730.5, 2024, "medium"),
        ("lead_time", 731.0, 2024, "low"),
        # change failure rate (percent)
        ("change_failure_rate", 5.0, 2023, "elite"),
        ("change_failure_rate", 5.01, 2023, "high"),
        ("change_failure_rate", 10.0, 2023, "high"),
        ("change_failure_rate", 15.0, 2023, "medium"),
        ("change_failure_rate", 15.01, 2023, "low"),
        ("change_failure_rate", 5.0, 2024, "elite"),
        ("change_failure_rate", 10.0, 2024, "high"),  # 2024: medium (10%) is below high (20%)
        ("change_failure_rate", 20.0, 2024, "high"),
        ("change_failure_rate", 20.01, 2024, "low"),
        # failed deployment recovery time (hours)
        ("mttr", 1.0, 2024, "elite"),
        ("mttr", 1.01, 2024, "high"),
        ("mttr", 24.0, 2024, "high"),
        ("mttr", 48.0, 2024, "low"),  # 2024 has no band from a day to a week
        ("mttr", 24.0, 2023, "high"),
        ("mttr", 168.0, 2023, "medium"),
        ("mttr", 168.01, 2023, "low"),
        ("recovery_time", 0.5, 2023, "elite"),
    ],
)
def test_ratings_at_thresholds(metric: str, value: float, year: int, expected: str) -> None:
    assert ratings.rate(metric, value, year) == expected


def test_ratings_misc() -> None:
    assert ratings.rate("rework_rate", 12.0, 2024) is None
    assert ratings.rate("lead_time", None, 2024) is None
    assert ratings.tier_bounds("rework_rate") is None
    assert ratings.SUPPORTED_YEARS == (2023, 2024) and ratings.DEFAULT_YEAR == 2024
    with pytest.raises(InvalidInput, match="2023, 2024"):
        ratings.rate("lead_time", 1.0, 2022)
    with pytest.raises(InvalidInput, match="Unknown DORA metric"):
        ratings.rate("happiness", 1.0, 2024)
    scale = ratings.tier_bounds("change_failure_rate", 2024)
    assert [t.rating for t in scale.tiers] == ["elite", "high", "medium", "low"]
    assert [t.published for t in scale.tiers] == ["5%", "20%", "10%", "40%"]
    nxt = ratings.next_tier("change_failure_rate", 30.0, 2024)
    assert nxt is not None and (nxt.rating, nxt.threshold) == ("high", 20.0)  # medium unreachable in 2024
    assert ratings.distance_to_next_tier("lead_time", 30.0, 2024) == 6.0
    assert ratings.next_tier("deployment_frequency", 0.5, 2024).rating == "high"
    assert ratings.next_tier("mttr", 0.5, 2024) is None
