"""The rest of the metric catalogue: test coverage (coverage.py JSON, Cobertura XML, LCOV — real reports written by
coverage.py on a tiny module), code churn, open incident rate and task throughput, each against hand-computed values
and an independent computation from the definitions; daily series."""

from __future__ import annotations

import json
import subprocess
import sys
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st
from gitrepo import GitRepo
from helpers import call, mcp_session

from engmetrics.areas.reports.metrics.numbers import fmt as format_figure
from engmetrics.areas.reports.models import MetricSeriesQuery
from engmetrics.config import Settings
from engmetrics.engine.local import LocalEngine
from engmetrics.errors import InvalidInput, NotFound

TINY = """\
def sign(x):
    if x > 0:
        return 1
    return -1


sign(5)
"""
"""5 statements (def, if, return 1, return -1, the call); the run never reaches `return -1`: 4 covered (80%).
One two-way branch at the `if`, one way taken: 1 of 2 branches (50%)."""


@pytest.fixture(scope="module")
def reports(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """coverage.py's own JSON, Cobertura XML and LCOV reports of a run of `TINY`."""
    root = tmp_path_factory.mktemp("cov")
    (root / "tiny.py").write_text(TINY)

    def coverage(*args: str) -> None:
        subprocess.run([sys.executable, "-m", "coverage", *args], cwd=root, check=True, capture_output=True)

    coverage("run", "--branch", "tiny.py")
    coverage("json", "-o", "c.json")
    coverage("xml", "-o", "c.xml")
    coverage("lcov", "-o", "c.lcov")
    return {"coverage_json": root / "c.json", "cobertura": root / "c.xml", "lcov": root / "c.lcov"}


def independent_totals(fmt: str, path: Path) -> tuple[int, int, int, int]:
    """(lines valid, covered, branches valid, covered) read from the report by the test, per its format's spec."""
    if fmt == "coverage_json":
        t = json.loads(path.read_text())["totals"]
        return t["num_statements"], t["covered_lines"], t["num_branches"], t["covered_branches"]
    if fmt == "cobertura":
        lines = ET.parse(path).getroot().iter("line")
        valid = covered = bvalid = bcovered = 0
        for line in lines:
            valid += 1
            covered += int(line.get("hits", "0")) > 0
            if line.get("branch") == "true":  # condition-coverage="50% (1/2)"
                done, total = line.get("condition-coverage", "").split("(")[1].rstrip(")").split("/")
                bvalid, bcovered = bvalid + int(total), bcovered + int(done)
        return valid, covered, bvalid, bcovered
    da = [ln for ln in path.read_text().splitlines() if ln.startswith("DA:")]
    brda = [ln for ln in path.read_text().splitlines() if ln.startswith("BRDA:")]
    return (len(da), sum(int(ln.split(",")[1]) > 0 for ln in da), len(brda),
            sum(ln.rsplit(",", 1)[1] not in ("-", "0") for ln in brda))


def _repo_engine(tmp_path: Path, build) -> tuple[GitRepo, LocalEngine]:  # type: ignore[no-untyped-def]
    repo = GitRepo(tmp_path / "app")
    build(repo)
    engine = LocalEngine(Settings(db=tmp_path / "db.sqlite"))
    engine.register_repository(repo.path)
    return repo, engine


@pytest.mark.parametrize("fmt", ["coverage_json", "cobertura", "lcov"])
async def test_each_coverage_format_imports_the_hand_counted_totals(reports, tmp_path, fmt: str) -> None:
    repo, engine = _repo_engine(tmp_path, lambda r: r.commit({"tiny.py": TINY}, "feat: tiny", when="2026-03-02T10:00:00Z"))
    await engine.repos.sync()
    result = await engine.catalogue.import_coverage(reports[fmt], "app", sha=repo.head()[:10])
    assert result.format == fmt
    assert (result.lines_valid, result.lines_covered, result.branches_valid, result.branches_covered) == (5, 4, 2, 1)
    assert (result.lines_valid, result.lines_covered, result.branches_valid, result.branches_covered) == \
        independent_totals(fmt, reports[fmt])
    assert result.line_coverage_percent == 80.0 and result.branch_coverage_percent == 50.0
    assert result.sha == repo.head() and result.measured_at == "2026-03-02T10:00:00Z"  # the commit's time
    again = await engine.catalogue.import_coverage(reports[fmt], "app", sha=repo.head())
    assert again.replaced and again.id == result.id
    engine.store.close()


async def test_coverage_series_takes_each_repository_newest_report_per_day(reports, tmp_path) -> None:
    _, engine = _repo_engine(tmp_path, lambda r: r.commit({"tiny.py": TINY}, "feat: tiny", when="2026-03-01T10:00:00Z"))
    await engine.repos.sync()
    # A per-day report of 4/5 on Mar 2, then on Mar 3 a report of the same file with every line run (LCOV by hand).
    await engine.catalogue.import_coverage(reports["coverage_json"], "app", at="2026-03-02T08:00:00Z")
    full = tmp_path / "full.lcov"
    full.write_text("SF:tiny.py\nDA:1,1\nDA:2,1\nDA:3,1\nDA:4,2\nDA:7,1\nend_of_record\n")
    await engine.catalogue.import_coverage(full, "app", at="2026-03-03T09:00:00Z")
    late = await engine.catalogue.import_coverage(reports["cobertura"], "app", at="2026-03-03T23:00:00Z")
    assert late.replaced  # the same day: per-day reports replace each other
    series = await engine.reports.get_metric_series(MetricSeriesQuery(
        metric="coverage", from_="2026-03-01", to="2026-03-04", granularity="daily"))
    assert series.metric == "test_coverage" and series.unit == "percent"
    assert [(p.week, p.value) for p in series.series] == [
        ("2026-03-01", None), ("2026-03-02", 80.0), ("2026-03-03", 80.0), ("2026-03-04", None)]
    with pytest.raises(InvalidInput, match="Cobertura XML"):
        bad = tmp_path / "bad.txt"
        bad.write_text("hello")
        await engine.catalogue.import_coverage(bad, "app")
    with pytest.raises(NotFound, match="No commit"):
        await engine.catalogue.import_coverage(reports["lcov"], "app", sha="deadbeef")
    engine.store.close()


def _numstat_churn(repo: GitRepo, start: int, end: int) -> float | None:
    """Σ min(added, deleted) ÷ Σ added per file of the non-merge commits authored in [start, end), from git itself."""
    added = modified = 0
    inside = False
    for line in repo.git("log", "--no-merges", "--numstat", "--format=@%at").splitlines():
        if line.startswith("@"):
            inside = start <= int(line[1:]) < end
        elif line.strip() and inside:
            a, d, _ = line.split("\t")
            if a != "-":
                added, modified = added + int(a), modified + min(int(a), int(d))
    return round(modified / added, 2) if added else None


async def test_code_churn_hand_computed(tmp_path) -> None:
    def build(r: GitRepo) -> None:
        r.commit({"a.py": "".join(f"a{i}\n" for i in range(10))}, "feat: a", when="2026-03-02T10:00:00Z")  # +10
        r.commit({"a.py": "".join(f"{'b' if i < 3 else 'a'}{i}\n" for i in range(10)), "b.py": "x\ny\n"},
                 "feat: b", when="2026-03-03T10:00:00Z")  # a.py +3 −3 (3 modified), b.py +2
        r.commit({"a.py": "".join(f"{'b' if i < 3 else 'a'}{i}\n" for i in range(6))}, "chore: trim",
                 when="2026-03-10T10:00:00Z")  # a.py −4

    repo, engine = _repo_engine(tmp_path, build)
    await engine.repos.sync()
    series = await engine.reports.get_metric_series(MetricSeriesQuery(
        metric="code_churn", from_="2026-03-02", to="2026-03-15", granularity="weekly"))
    # Week of Mar 2: 3 modified ÷ (10 + 3 + 2) added = 0.2. Week of Mar 9: nothing added → null.
    assert [(p.week, p.value) for p in series.series] == [("2026-W10", 0.2), ("2026-W11", None)]
    w10 = int(datetime(2026, 3, 2, tzinfo=UTC).timestamp())
    assert series.series[0].value == _numstat_churn(repo, w10, w10 + 7 * 86400)
    engine.store.close()


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(st.integers(0, 13), st.sampled_from(["a.py", "b.py", "docs/c.md"]),
                          st.lists(st.sampled_from(["x", "y", "z", "w"]), max_size=8)), min_size=1, max_size=6))
async def test_code_churn_on_generated_histories_matches_git_numstat(tmp_path_factory, commits) -> None:
    """Any history of up to 6 commits over two weeks (each rewriting one file with random lines): each week's
    churn is git numstat's Σ min(added, deleted) ÷ Σ added of the commits authored that week, null with nothing
    added."""
    tmp = tmp_path_factory.mktemp("churn")
    start = datetime(2026, 3, 2, tzinfo=UTC)

    def build(r: GitRepo) -> None:
        r.commit({"seed.txt": "s\n"}, "chore: seed", when=start - timedelta(days=30))
        for i, (day, path, lines) in enumerate(commits):  # author times increase: day, then the commit's order
            r.commit({path: "".join(f"{t}\n" for t in lines)}, f"feat: {i}",
                     when=start + timedelta(days=day, minutes=i))

    repo, engine = _repo_engine(tmp, build)
    await engine.repos.sync()
    series = await engine.reports.get_metric_series(MetricSeriesQuery(
        metric="code_churn", from_="2026-03-02", to="2026-03-15", granularity="weekly"))
    week = int(start.timestamp())
    expected = [_numstat_churn(repo, week + k * 7 * 86400, week + (k + 1) * 7 * 86400) for k in range(2)]
    assert [p.value for p in series.series] == expected
    engine.store.close()


async def test_open_incident_rate_per_week_per_service(tmp_path) -> None:
    def build(r: GitRepo) -> None:
        r.commit({"app.py": "x = 1\n"}, "feat: start", when="2026-02-20T10:00:00Z")
        r.tag("v1.0.0", annotated=True, when="2026-02-20T12:00:00Z")

    _, engine = _repo_engine(tmp_path, build)
    await engine.repos.sync()
    # No incident recorded for the repository yet: the rate is unknown (null), not a calm 0.
    unknown = await engine.reports.get_metric_series(MetricSeriesQuery(
        metric="open_incident_rate", repo="app", from_="2026-03-02", to="2026-03-15"))
    assert [p.value for p in unknown.series] == [None, None] and unknown.period_average is None
    incidents = [
        {"id": "I1", "title": "a", "started_at": "2026-03-02T01:00:00Z", "repo": "app", "service": "checkout"},
        {"id": "I2", "title": "b", "started_at": "2026-03-04T01:00:00Z", "repo": "app", "service": "checkout"},
        {"id": "I3", "title": "c", "started_at": "2026-03-05T01:00:00Z", "repo": "app"},
        {"id": "I4", "title": "d", "started_at": "2026-03-12T01:00:00Z", "repo": "app", "service": "search"},
    ]
    path = tmp_path / "incidents.json"
    path.write_text(json.dumps(incidents))
    assert not (await engine.dora.import_events(path, "incidents")).errors
    series = await engine.reports.get_metric_series(MetricSeriesQuery(
        metric="open_incident_rate", repo="app", from_="2026-03-02", to="2026-03-15"))
    # Services: checkout, search and the repository itself (I3 and the tag deployments name no service) = 3.
    # Week 10: 3 incidents ÷ 1 week ÷ 3 services = 1.0; week 11: 1 ÷ 1 ÷ 3 = 0.33.
    assert [p.value for p in series.series] == [1.0, 0.33]
    assert series.unit == "incidents_per_week_per_service" and series.series[1].trend == "improving"
    # With incident data, weeks without an incident are a measured 0.
    calm = await engine.reports.get_metric_series(MetricSeriesQuery(
        metric="open_incident_rate", repo="app", from_="2026-03-16", to="2026-03-29"))
    assert [p.value for p in calm.series] == [0.0, 0.0]
    engine.store.close()


async def test_task_throughput_per_team(tmp_path) -> None:
    _, engine = _repo_engine(tmp_path, lambda r: r.commit({"a": "1\n"}, "feat: a", when="2026-02-20T10:00:00Z"))
    await engine.repos.sync()
    items = ([{"id": f"A{i}", "team": "alpha", "completed_at": f"2026-03-0{2 + i}T12:00:00Z"} for i in range(4)]
             + [{"id": f"A{4 + i}", "team": "alpha", "completed_at": f"2026-03-1{i}T12:00:00Z"} for i in range(2)]
             + [{"id": f"B{i}", "team": "beta", "completed_at": f"2026-03-0{3 + i}T12:00:00Z"} for i in range(2)]
             + [{"id": "OPEN", "team": "beta"}])
    path = tmp_path / "items.json"
    path.write_text(json.dumps(items))
    assert not (await engine.forecast.import_work_items(path)).errors
    settings = Settings(db=tmp_path / "db.sqlite", teams={"alpha": {"repos": ["app"]}, "beta": {"repos": ["app"]}})
    engine.store.close()
    engine = LocalEngine(settings)
    alpha = await engine.reports.get_metric_series(MetricSeriesQuery(
        metric="task_throughput", team="alpha", from_="2026-03-02", to="2026-03-15"))
    every = await engine.reports.get_metric_series(MetricSeriesQuery(
        metric="throughput", from_="2026-03-02", to="2026-03-15"))
    assert [p.value for p in alpha.series] == [4.0, 2.0]  # alpha's items done per week
    assert [p.value for p in every.series] == [3.0, 1.0]  # (4 + 2) ÷ 2 teams, then 2 ÷ 2
    assert every.unit == "items_per_week_per_team"
    engine.store.close()


WEEK_STARTS = [datetime(2026, 3, 2, tzinfo=UTC), datetime(2026, 3, 9, tzinfo=UTC), datetime(2026, 3, 16, tzinfo=UTC)]


def _per_week(times: list[datetime], per: int) -> list[float | None]:
    """Events of each of the two weeks from 2026-03-02 ÷ 1 week ÷ ``per``, 2 decimals; null when ``per`` is 0."""
    return [round(sum(1 for t in times if a <= t < b) / per, 2) if per else None
            for a, b in zip(WEEK_STARTS, WEEK_STARTS[1:])]


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(st.integers(-10, 16), st.sampled_from(["checkout", "search", None])), max_size=8))
async def test_open_incident_rate_on_generated_incidents(tmp_path_factory, started) -> None:
    """Any incidents (days from 2026-03-02, a service or none): each week's rate is the incidents started that week
    ÷ the services the repository ever had (an incident's service, else the repository's name)."""
    tmp = tmp_path_factory.mktemp("incidents")
    _, engine = _repo_engine(tmp, lambda r: r.commit({"app.py": "x\n"}, "feat: start", when="2026-02-01T10:00:00Z"))
    await engine.repos.sync()
    times = [WEEK_STARTS[0] + timedelta(days=day, hours=3) for day, _ in started]
    rows = [{"id": f"I{i}", "title": "t", "started_at": t.strftime("%Y-%m-%dT%H:%M:%SZ"), "repo": "app",
             **({"service": service} if service else {})} for i, (t, (_, service)) in enumerate(zip(times, started))]
    path = tmp / "incidents.json"
    path.write_text(json.dumps(rows))
    if rows:
        assert not (await engine.dora.import_events(path, "incidents")).errors
    series = await engine.reports.get_metric_series(MetricSeriesQuery(
        metric="open_incident_rate", repo="app", from_="2026-03-02", to="2026-03-15"))
    services = {service or "app" for _, service in started}
    assert [p.value for p in series.series] == _per_week(times, len(services))
    engine.store.close()


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(st.sampled_from(["alpha", "beta"]), st.one_of(st.none(), st.integers(-3, 16))), max_size=10))
async def test_task_throughput_on_generated_work_items(tmp_path_factory, items) -> None:
    """Any work items (a team, done on a day from 2026-03-02 or open): a team's weekly throughput is its items done
    that week; the whole scope's is every item done that week ÷ the teams the items name; null without items."""
    tmp = tmp_path_factory.mktemp("items")
    repo = GitRepo(tmp / "app")
    repo.commit({"a": "1\n"}, "feat: a", when="2026-02-20T10:00:00Z")
    engine = LocalEngine(Settings(db=tmp / "db.sqlite",
                                  teams={"alpha": {"repos": ["app"]}, "beta": {"repos": ["app"]}}))
    engine.register_repository(repo.path)
    await engine.repos.sync()
    done = {i: WEEK_STARTS[0] + timedelta(days=day, hours=12) for i, (_, day) in enumerate(items) if day is not None}
    rows = [{"id": f"W{i}", "team": team, **({"completed_at": done[i].strftime("%Y-%m-%dT%H:%M:%SZ")} if i in done else {})}
            for i, (team, _) in enumerate(items)]
    path = tmp / "items.json"
    path.write_text(json.dumps(rows))
    if rows:
        assert not (await engine.forecast.import_work_items(path)).errors
    alpha = await engine.reports.get_metric_series(MetricSeriesQuery(
        metric="task_throughput", team="alpha", from_="2026-03-02", to="2026-03-15"))
    every = await engine.reports.get_metric_series(MetricSeriesQuery(
        metric="task_throughput", from_="2026-03-02", to="2026-03-15"))
    teams = {team for team, _ in items}  # the teams the work items name, done or not; none: null
    assert [p.value for p in alpha.series] == _per_week([t for i, t in done.items() if items[i][0] == "alpha"],
                                                         int("alpha" in teams))
    assert [p.value for p in every.series] == _per_week(list(done.values()), len(teams))
    engine.store.close()


async def test_series_tool_answers_the_catalogue_and_refuses_unknown_names(sample_workspace) -> None:
    async with mcp_session(sample_workspace.db) as (client, engine):
        churn = await call(client, "get_metric_series", {"metric": "code_churn", "period": "last_30_days",
                                                         "granularity": "daily"})
        cycle = await call(client, "get_metric_series", {"metric": "cycle_time", "period": "last_90_days"})
        lead = await call(client, "get_metric_series", {"metric": "lead_time", "period": "last_90_days"})
        bad = await client.call_tool("get_metric_series", {"metric": "happiness"})
    assert churn["granularity"] == "daily" and len(churn["series"]) in (30, 31) and churn["unit"] == "ratio"
    assert any(p["value"] is not None for p in churn["series"])
    assert [p["value"] for p in cycle["series"]] == [p["value"] for p in lead["series"]]  # Scrums' name, same figure
    assert bad.is_error and "test_coverage" in bad.content[0].text and "code_churn" in bad.content[0].text


def test_small_catalogue_units_are_written_with_two_decimals() -> None:
    assert format_figure(0.25, "ratio") == "0.25"
    assert format_figure(0.5, "ratio") == "0.5"
    assert format_figure(1.0, "ratio") == "1"
    assert format_figure(0.125, "incidents_per_week_per_service") == "0.12 incidents/week/service"
    assert format_figure(3.0, "items_per_week_per_team") == "3 items/week/team"
    assert format_figure(0.25, "percent") == "0.2%"  # other units keep one decimal
