"""Insights that must and must not fire on planted series; benchmarks against the DORA tiers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from statistics import median

import anyio

from engmetrics.areas.reports.metrics.insights import (
    anomaly_insights,
    compute_insights,
    correlation_insights,
    robust_z,
    spearman,
    trend_insights,
)
from engmetrics.areas.reports.models import BenchmarkQuery, InsightsQuery, MetricSeriesQuery
from engmetrics.config import Settings
from engmetrics.engine.local import LocalEngine
from gitrepo import GitRepo
from helpers import call, mcp_session

LABELS = [f"2026-W{i:02d}" for i in range(1, 13)]
NOW = "2026-04-01T00:00:00Z"


def test_sustained_worsening_trend_fires_and_flat_does_not() -> None:
    cfr = [5.0] * 8 + [5.0, 8.0, 12.0, 20.0]
    found = trend_insights(LABELS, {"change_failure_rate": cfr}, "webapp", NOW)
    assert len(found) == 1
    ins = found[0]
    assert ins.type == "trend" and ins.severity == "high" and ins.metrics_referenced == ["change_failure_rate"]
    assert "5% in 2026-W09" in ins.body and "20% in 2026-W12" in ins.body
    # Two rising steps only, or a stall inside the run, or a gap: nothing.
    assert not trend_insights(LABELS, {"change_failure_rate": [5.0] * 10 + [8.0, 12.0]}, "w", NOW)
    assert not trend_insights(LABELS, {"change_failure_rate": [5.0] * 8 + [5.0, 8.0, 8.2, 20.0]}, "w", NOW)
    assert not trend_insights(LABELS, {"change_failure_rate": [5.0] * 8 + [5.0, None, 12.0, 20.0]}, "w", NOW)


def test_improving_trend_respects_polarity() -> None:
    freq = [1.0] * 8 + [1.0, 2.0, 3.0, 4.0]
    found = trend_insights(LABELS, {"deployment_frequency": freq}, "w", NOW)
    assert found and found[0].severity == "low" and "improving" in found[0].title
    lead = [10.0] * 8 + [10.0, 11.0, 12.2, 13.5]
    found = trend_insights(LABELS, {"lead_time": lead}, "w", NOW)
    assert found and "worsening" in found[0].title and found[0].severity == "medium"


def test_anomaly_robust_z() -> None:
    history = [20.0, 22.0, 19.0, 21.0, 20.0, 23.0, 18.0, 20.0, 21.0, 22.0, 19.0]
    found = anomaly_insights(LABELS, {"lead_time": [*history, 60.0]}, "w", NOW)
    assert len(found) == 1 and found[0].type == "anomaly" and found[0].severity == "high"
    assert "robust z-score" in found[0].body and "60 h" in found[0].body
    assert not anomaly_insights(LABELS, {"lead_time": [*history, 24.0]}, "w", NOW)
    # Too little history: nothing.
    assert not anomaly_insights(LABELS[:5], {"lead_time": [20.0, 21.0, 19.0, 20.0, 90.0]}, "w", NOW)
    # A surprisingly good week is low severity.
    good = anomaly_insights(LABELS, {"lead_time": [*history, 1.0]}, "w", NOW)
    assert good and good[0].severity == "low"
    assert robust_z([1.0, 1.0, 1.0], 1.0) is None
    assert abs(robust_z([1.0, 2.0, 3.0, 4.0, 5.0], 3.0)) < 1e-9


def test_correlations_fire_only_when_strong() -> None:
    freq = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0]
    cfr = [2.0, 3.0, 3.5, 5.0, 6.0, 6.5, 8.0, 9.0, 11.0, 12.0]
    found = correlation_insights(LABELS[:10], {"deployment_frequency": freq, "change_failure_rate": cfr}, "w", NOW)
    assert len(found) == 1 and found[0].type == "recommendation"
    assert found[0].metrics_referenced == ["deployment_frequency", "change_failure_rate"] and "ρ 1" in found[0].body
    noise = [5.0, 1.0, 7.0, 2.0, 9.0, 3.0, 4.0, 8.0, 6.0, 5.5]
    assert not correlation_insights(LABELS[:10], {"deployment_frequency": freq, "change_failure_rate": noise}, "w", NOW)
    assert spearman([1, 2, 3], [3, 2, 1]) == -1.0
    assert spearman([1, 1, 1], [1, 2, 3]) is None


def test_quiet_series_give_no_insights() -> None:
    wobble = [10.0, 10.5, 9.8, 10.2, 10.1, 9.9, 10.0, 10.3, 9.7, 10.0, 10.1, 10.0]
    flat = {"deployment_frequency": wobble, "lead_time": wobble, "change_size": wobble[::-1]}
    assert compute_insights(LABELS, flat, "w", NOW) == []


def test_engine_insights_series_and_benchmarks(local_engine) -> None:
    from engmetrics import ratings

    async def go():  # type: ignore[no-untyped-def]
        ins = await local_engine.reports.get_insights(InsightsQuery(repo="sample", limit=2))
        series = await local_engine.reports.get_metric_series(MetricSeriesQuery(metric="recovery_time", period="last_90_days", repo="sample"))
        monthly = await local_engine.reports.get_metric_series(MetricSeriesQuery(metric="deployment_frequency", period="last_90_days", granularity="monthly"))
        bench = await local_engine.reports.get_benchmarks(BenchmarkQuery(year=2023, repo="sample"))
        return ins, series, monthly, bench

    ins, series, monthly, bench = anyio.run(go)
    assert ins.weeks_examined == 12 and len(ins.insights) <= 2
    severities = [i.severity for i in ins.insights]
    assert severities == sorted(severities, key=["high", "medium", "low"].index)
    assert series.metric == "mttr" and series.unit == "hours" and series.series[0].week.startswith("20")
    assert series.benchmark_median is None and series.benchmark_tiers["elite"] == 1.0
    assert all(p.week[4] == "-" and len(p.week) == 7 for p in monthly.series)
    assert any(p.value and p.value > 0 for p in monthly.series)
    assert bench.year == 2023 and len(bench.benchmarks) == 4
    for b in bench.benchmarks:
        assert b.tier == ratings.rate(b.metric, b.value, 2023)
        if b.next_tier_threshold is not None:
            assert abs(b.distance_to_next_tier - abs(b.value - b.next_tier_threshold)) < 0.02


# ---- get_metric_series, get_insights and get_benchmarks through a real MCP client session -----------------

MARCH = {"from": "2024-03-04", "to": "2024-03-31"}  # ISO weeks 2024-W10 … W13, 28 days


def _sizes_repo(root):  # type: ignore[no-untyped-def]
    """Commits adding new files of known lengths (lines added + deleted = the length) in March 2024:
    W10: 3, 5, 10 lines; W11: 2, 4; W12: none; W13: 7 and a branch commit of 9 merged with a merge commit.
    Releases: v1.0.0 Mar 5, v1.1.0 Mar 8 (W10), v1.2.0 Mar 13 (W11), v1.3.0 Mar 26 (W13)."""

    repo = GitRepo(root / "sizes")
    n = iter(range(100))

    def commit(lines: int, when: str) -> None:
        i = next(n)
        repo.commit({f"f{i}.txt": "".join(f"line {k}\n" for k in range(lines))}, f"feat: file {i}", when=when)

    commit(3, "2024-03-04T09:00:00Z")
    commit(5, "2024-03-05T09:00:00Z")
    repo.tag("v1.0.0", annotated=True, when="2024-03-05T12:00:00Z")
    commit(10, "2024-03-07T09:00:00Z")
    repo.tag("v1.1.0", annotated=True, when="2024-03-08T12:00:00Z")
    commit(2, "2024-03-12T09:00:00Z")
    commit(4, "2024-03-13T09:00:00Z")
    repo.tag("v1.2.0", annotated=True, when="2024-03-13T12:00:00Z")
    commit(7, "2024-03-25T09:00:00Z")
    repo.checkout("side", create=True)
    commit(9, "2024-03-25T10:00:00Z")
    repo.checkout("main")
    repo.merge("side", message="Merge pull request #5 from acme/side\n\nNine lines", when="2024-03-25T11:00:00Z")
    repo.tag("v1.3.0", annotated=True, when="2024-03-26T12:00:00Z")
    return repo


def _weekly_medians(repo, labels: list[str]) -> dict[str, float | None]:  # type: ignore[no-untyped-def]
    """Median lines added + deleted per non-merge commit by the ISO week of its author date, from `git log`."""

    sizes: dict[str, list[int]] = {}
    week = None
    for line in repo.git("log", "--no-merges", "--format=@%at", "--numstat").splitlines():
        if line.startswith("@"):
            y, w, _ = datetime.fromtimestamp(int(line[1:]), UTC).isocalendar()
            week = f"{y}-W{w:02d}"
            sizes.setdefault(week, []).append(0)
        elif line.strip() and week:
            added, deleted, _ = line.split("\t")
            sizes[week][-1] += int(added) + int(deleted)
    return {label: (float(median(sizes[label])) if label in sizes else None) for label in labels}


async def test_get_metric_series_tool(tmp_path) -> None:
    repo = _sizes_repo(tmp_path)
    engine = LocalEngine(Settings(db=tmp_path / "db.sqlite"))
    engine.register_repository(repo.path)
    assert not (await engine.repos.sync()).errors
    engine.store.close()
    async with mcp_session(tmp_path / "db.sqlite") as (client, _):
        sizes = await call(client, "get_metric_series", {"metric": "change_size", "repo": "sizes", **MARCH})
        deploys = await call(client, "get_metric_series", {"metric": "deployment-frequency", **MARCH})
        monthly = await call(client, "get_metric_series", {"metric": "change_size", "granularity": "monthly", **MARCH})
        bad = await client.call_tool("get_metric_series", {"metric": "happiness", **MARCH})

    labels = ["2024-W10", "2024-W11", "2024-W12", "2024-W13"]
    assert [p["week"] for p in sizes["series"]] == labels
    assert [p["start"] for p in sizes["series"]] == [f"2024-03-{d:02d}T00:00:00Z" for d in (4, 11, 18, 25)]
    # By hand: W10 median of 3, 5, 10; W11 of 2, 4; W12 empty; W13 of 7 and 9 (the merge commit is not a change).
    assert [p["value"] for p in sizes["series"]] == [5.0, 3.0, None, 8.0]
    assert _weekly_medians(repo, labels) == dict(zip(labels, [5.0, 3.0, None, 8.0], strict=True))
    # Smaller changes are better: 5 → 3 improves; an empty week has no trend; 3 → 8 worsens.
    assert [p["trend"] for p in sizes["series"]] == [None, "improving", None, "worsening"]
    assert (sizes["unit"], sizes["period_average"], sizes["benchmark_tiers"]) == ("lines", 5.33, None)
    assert sizes["period"] == {"from": "2024-03-04T00:00:00Z", "to": "2024-04-01T00:00:00Z", "label": "2024-03-04..2024-03-31"}

    # Deployments per week: 2, 1, 0 (history exists), 1; each week against the one before.
    assert deploys["metric"] == "deployment_frequency" and deploys["unit"] == "deploys_per_week"
    assert [p["value"] for p in deploys["series"]] == [2.0, 1.0, 0.0, 1.0]
    assert [p["trend"] for p in deploys["series"]] == [None, "worsening", "worsening", None]  # from 0: undefined
    assert deploys["period_average"] == 1.0
    assert deploys["benchmark_tiers"] == {"elite": 7.0, "high": 1.0, "medium": 0.23, "low": None}

    # One calendar month (Mar 1 to the window's end): the median of all seven changes, 2 3 4 [5] 7 9 10.
    assert [(p["week"], p["value"]) for p in monthly["series"]] == [("2024-03", 5.0)]
    assert bad.is_error and "change_size" in bad.content[0].text


def _trend_repo(root, mondays):  # type: ignore[no-untyped-def]
    """One commit each Wednesday noon of the 12 complete weeks before this one: 10 lines for eight weeks, then
    10, 20, 40, 80; no release."""

    repo = GitRepo(root / "trend")
    for i, (monday, lines) in enumerate(zip(mondays, [10] * 9 + [20, 40, 80], strict=True)):
        repo.commit({f"f{i}.txt": "x\n" * lines}, f"feat: step {i}", when=monday + timedelta(days=2, hours=12))
    return repo


async def test_get_insights_tool(tmp_path) -> None:
    today = datetime.now(UTC).date()
    this_monday = datetime(today.year, today.month, today.day, tzinfo=UTC) - timedelta(days=today.weekday())
    mondays = [this_monday - timedelta(weeks=12 - k) for k in range(12)]
    labels = ["{}-W{:02d}".format(*m.isocalendar()[:2]) for m in mondays]
    repo = _trend_repo(tmp_path, mondays)
    engine = LocalEngine(Settings(db=tmp_path / "db.sqlite"))
    engine.register_repository(repo.path)
    assert not (await engine.repos.sync()).errors
    engine.store.close()
    window = {"from": mondays[0].date().isoformat(), "to": (this_monday - timedelta(days=1)).date().isoformat()}
    async with mcp_session(tmp_path / "db.sqlite") as (client, _):
        found = await call(client, "get_insights", {"repo": "trend"})
        page1 = await call(client, "get_insights", {"repo": "trend", "limit": 1})
        page2 = await call(client, "get_insights", {"repo": "trend", "limit": 1, "cursor": page1["cursor"]})
        short = await call(client, "get_insights", {"repo": "trend", "weeks": 4})
        dora = await call(client, "get_dora", {"repo": "trend", **window})

    assert found["weeks_examined"] == 12 and found["cursor"] is None
    insights = found["insights"]
    # The latest week against the eleven before (10 ×9, 20, 40): median 10, MAD 0, so the mean absolute
    # deviation ×1.2533 scales it: z = (80 − 10) / (1.2533 · 40/11) ≈ 15.4 ≥ 6, in the bad direction → high.
    history = [10.0] * 9 + [20.0, 40.0]
    med = median(history)
    z = (80 - med) / (1.2533 * sum(abs(h - med) for h in history) / len(history))
    anomaly, trend = insights[0], insights[1]
    assert (anomaly["type"], anomaly["severity"], anomaly["metrics_referenced"]) == ("anomaly", "high", ["change_size"])
    assert anomaly["title"] == f"Unusually high change size in {labels[-1]}"
    assert anomaly["body"] == (f"Change size for trend was 80 lines in {labels[-1]}; robust z-score {z:.1f} against a median "
                               "of 10 lines over the previous 11 weeks.")
    # 10 → 20 → 40 → 80: three worsening steps of more than 5%, 700% in all (≥ 50%) → high.
    assert (trend["type"], trend["severity"], trend["title"]) == ("trend", "high", "Change size worsening 3 weeks running")
    assert trend["body"].startswith(f"Change size for trend increased 3 weeks running, from 10 lines in {labels[-4]} to "
                                    f"80 lines in {labels[-1]} (10 lines → 20 lines → 40 lines → 80 lines).")
    # The rest: DORA tiers worth noting for the same 12 weeks (low → medium severity, medium → low), no others.
    rest = insights[2:]
    noted = {m for m in ("deployment_frequency", "lead_time", "change_failure_rate", "mttr")
             if dora[m]["value"] is not None and dora[m]["rating"] in ("low", "medium")}
    assert {i["metrics_referenced"][0] for i in rest} == noted and all(i["type"] == "benchmark" for i in rest)
    for i in rest:
        rating = dora[i["metrics_referenced"][0]]["rating"]
        assert i["severity"] == ("medium" if rating == "low" else "low") and f"rates {rating}" in i["title"]
    # Pages of one, in the same order; four weeks are too little history for an anomaly, not for a trend.
    assert [page1["insights"][0]["id"], page2["insights"][0]["id"]] == [anomaly["id"], trend["id"]]
    assert short["weeks_examined"] == 4 and "anomaly" not in {i["type"] for i in short["insights"]}
    assert any(i["title"] == "Change size worsening 3 weeks running" for i in short["insights"])


async def test_get_benchmarks_tool(release_train) -> None:
    """The release train over March 2024: 8 deployments in 4 weeks = 2 per week (2024: high, ≥ 1 per week; elite
    needs 7, 5 away); every lead time 10 h (elite, ≤ 24 h); no failure, 0% (elite); no recovery time."""

    async with mcp_session(release_train.db) as (client, _):
        got = await call(client, "get_benchmarks", {"year": 2024, "repo": "train", **MARCH})
        old = await call(client, "get_benchmarks", {"year": 2023, "repo": "train", **MARCH})
        dora = await call(client, "get_dora", {"repo": "train", **MARCH})
        bad = await client.call_tool("get_benchmarks", {"year": 2019, "repo": "train"})

    rows = {b["metric"]: b for b in got["benchmarks"]}
    assert (got["year"], got["repo"]) == (2024, "train") and "2024" in got["source"]
    assert got["period"] == {"from": "2024-03-04T00:00:00Z", "to": "2024-04-01T00:00:00Z", "label": "2024-03-04..2024-03-31"}
    assert rows["deployment_frequency"] == {
        "metric": "deployment_frequency", "value": 2.0, "unit": "deploys_per_week", "tier": "high",
        "tier_published": "Between once per day and once per week", "next_tier": "elite", "next_tier_threshold": 7.0,
        "distance_to_next_tier": 5.0,
    }
    assert (rows["lead_time"]["value"], rows["lead_time"]["tier"], rows["lead_time"]["next_tier"]) == (10.0, "elite", None)
    assert (rows["change_failure_rate"]["value"], rows["change_failure_rate"]["tier"]) == (0.0, "elite")
    assert rows["mttr"]["value"] is None and rows["mttr"]["tier"] is None and rows["mttr"]["distance_to_next_tier"] is None
    for metric, row in rows.items():
        assert row["value"] == dora[metric]["value"]
    # 2023's tiers for the same figures: 2 per week is high there too; 0% and 10 h elite.
    assert [(b["metric"], b["tier"]) for b in old["benchmarks"]] == [
        ("deployment_frequency", "high"), ("lead_time", "elite"), ("change_failure_rate", "elite"), ("mttr", None)]
    assert bad.is_error and "2023" in bad.content[0].text and "2024" in bad.content[0].text
