"""Custom metrics (Koalr's): a definition equal to an existing figure answers the same number; invalid definitions
are refused naming the valid choices; a custom metric is charted and scored; the tools through a real MCP session;
REST in Koalr's shape."""

from __future__ import annotations

import httpx2
import numpy as np
import pytest
from helpers import call, copy_store, mcp_session
from hypothesis import given, settings, strategies as st
from test_api import Served

from engmetrics.api.app import API_VERSION, ApiConfig, build_api
from engmetrics.areas.custom_metrics.metrics.aggregate import aggregate
from engmetrics.areas.custom_metrics.models import CustomMetricCreate, CustomMetricQuery
from engmetrics.areas.dora.models import DoraQuery
from engmetrics.areas.reports.models import MetricSeriesQuery, ScorecardQuery
from engmetrics.config import Settings
from engmetrics.engine.local import LocalEngine
from engmetrics.errors import InvalidInput


async def test_count_of_deployments_answers_get_dora(local_engine) -> None:
    cm = local_engine.custom_metrics
    await cm.create_custom_metric(CustomMetricCreate(slug="deploys", label="Deploys", source="deployments",
                                                     aggregation="count"))
    await cm.create_custom_metric(CustomMetricCreate(slug="deploys-week", label="Deploys/week", source="deployments",
                                                     aggregation="rate_per_week"))
    await cm.create_custom_metric(CustomMetricCreate(slug="lead-median", label="Median lead time", source="lead_times",
                                                     aggregation="median"))
    for days in (30, 90):
        dora = await local_engine.dora.get_dora(DoraQuery(period=f"{days}d"))
        count = await cm.query_custom_metric(CustomMetricQuery(slug="deploys", days=days))
        rate = await cm.query_custom_metric(CustomMetricQuery(slug="deploys-week", days=days))
        lead = await cm.query_custom_metric(CustomMetricQuery(slug="lead-median", days=days))
        assert count.value == dora.deployment_frequency.deployments and count.value > 0
        assert count.unit == "events" and count.period == f"last_{days}_days"
        assert rate.value == dora.deployment_frequency.value and rate.unit == "per_week"
        assert lead.value == dora.lead_time.value and lead.unit == "hours" and lead.events == dora.lead_time.changes


@pytest.mark.parametrize(
    ("fields", "needle"),
    [
        ({"source": "tickets"}, "deployments, lead_times, pr_cycle_times, review_times, incidents, commits, work_items"),
        ({"aggregation": "p99"}, "count, sum, mean, median, p75, p90, p95, rate_per_week"),
        ({"source": "deployments", "path": "src/*"}, "applies to commits, lead_times"),
        ({"source": "incidents", "author": "ada"}, "applies to commits, lead_times, pr_cycle_times, review_times"),
        ({"slug": "Lead Time!"}, "lower-case letters"),
        ({"slug": "lead-time"}, "catalogue metric"),
        ({"green": 10.0}, "both green and amber"),
        ({"green": 10.0, "amber": 5.0, "higher_is_better": False}, "green must be at most amber"),
    ],
)
async def test_invalid_definitions_are_refused_with_the_valid_choices(local_engine, fields, needle) -> None:
    base = {"slug": "x", "label": "X", "source": "commits", "aggregation": "count"}
    with pytest.raises(InvalidInput) as err:
        await local_engine.custom_metrics.create_custom_metric(CustomMetricCreate(**{**base, **fields}))
    assert needle in err.value.message


async def test_filters_series_and_scorecard(local_engine, sample_workspace) -> None:
    cm = local_engine.custom_metrics
    # Commits by Ada that touched src/mod3.py, per week; on scorecards with thresholds (higher is better).
    await cm.create_custom_metric(CustomMetricCreate(
        slug="ada-mod3", label="Ada's mod3 commits", source="commits", aggregation="count", author="ada@",
        path="src/mod3.py", higher_is_better=True, green=1, amber=0))
    repo = sample_workspace.repo
    log = repo.git("log", "--no-merges", "--format=@%ae %at", "--name-only").splitlines()
    expected: list[int] = []
    author = when = None
    for line in log:  # the test's own count, from git: Ada's commits changing src/mod3.py
        if line.startswith("@"):
            author, at = line[1:].split()
            when = int(at)
        elif line == "src/mod3.py" and author == "ada@example.com":
            expected.append(when)  # type: ignore[arg-type]
    result = await cm.query_custom_metric(CustomMetricQuery(slug="ada-mod3", days=3650))
    assert result.value == len(expected) > 0
    series = await local_engine.reports.get_metric_series(MetricSeriesQuery(metric="ada-mod3", period="last_90_days"))
    assert series.label == "Ada's mod3 commits" and series.unit == "events"
    starts = [int(np.datetime64(p.start.rstrip("Z")).astype("datetime64[s]").astype(int)) for p in series.series]
    ends = starts[1:] + [int(np.datetime64(series.period.to.rstrip("Z")).astype("datetime64[s]").astype(int))]
    assert [p.value for p in series.series] == [float(sum(s <= t < e for t in expected)) for s, e in zip(starts, ends)]
    card = await local_engine.reports.get_scorecard(ScorecardQuery(period="last_90_days"))
    signal = next(s for s in card.signals if s.metric == "ada-mod3")
    in_window = sum(t >= int(np.datetime64(card.period.from_.rstrip("Z")).astype("datetime64[s]").astype(int))
                    for t in expected)
    base = "green" if in_window >= 1 else "amber"  # green ≥ 1, amber ≥ 0 (higher is better)
    assert signal.value == in_window
    assert signal.status == ("amber" if base == "green" and signal.trend == "worsening" else base)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.one_of(st.none(), st.floats(min_value=0, max_value=1e6)), max_size=40),
       st.sampled_from(["count", "sum", "mean", "median", "p75", "p90", "p95", "rate_per_week"]))
def test_aggregations_follow_their_definitions(values, aggregation) -> None:
    present = sorted(v for v in values if v is not None)
    got = aggregate(aggregation, values, 2.0)
    if aggregation == "count":
        assert got == len(values)
    elif aggregation == "rate_per_week":
        assert got == round(len(values) / 2.0, 2)
    elif aggregation == "sum":
        assert got == pytest.approx(round(sum(present), 2), abs=0.011)
    elif not present:
        assert got is None
    elif aggregation == "mean":
        assert got == pytest.approx(sum(present) / len(present), abs=0.011)
    else:  # linear interpolation between the closest ranks
        q = {"median": 0.5, "p75": 0.75, "p90": 0.9, "p95": 0.95}[aggregation]
        pos = q * (len(present) - 1)
        lo, hi = int(pos), min(int(pos) + 1, len(present) - 1)
        assert got == pytest.approx(present[lo] + (present[hi] - present[lo]) * (pos - lo), abs=0.011)


async def test_custom_metric_tools(workspace_copy) -> None:
    async with mcp_session(workspace_copy.db) as (client, engine):
        made = await call(client, "create_custom_metric", {"slug": "fix-commits-week", "label": "Fix commits",
                                                           "source": "commits", "aggregation": "rate_per_week",
                                                           "repo": "sample"})
        listed = await call(client, "list_custom_metrics", {})
        queried = await call(client, "query_custom_metric", {"slug": "fix-commits-week", "days": 90})
        bad = await client.call_tool("create_custom_metric", {"slug": "x", "label": "X", "source": "commits",
                                                              "aggregation": "mode"})
        missing = await client.call_tool("query_custom_metric", {"slug": "nope"})
        commits = await engine.catalogue.events("commits", 0, 2**40, None, None)
    assert made["unit"] == "per_week" and made["definition"] == "rate_per_week of commits where repo = sample"
    assert [m["slug"] for m in listed["custom_metrics"]] == ["fix-commits-week"] and listed["total"] == 1
    window = (queried["window"]["from"], queried["window"]["to"])
    start, end = (int(np.datetime64(t.rstrip("Z")).astype("datetime64[s]").astype(int)) for t in window)
    assert queried["value"] == round(sum(start <= e.at < end for e in commits) / (90 / 7), 2)
    assert bad.is_error and "rate_per_week" in bad.content[0].text
    assert missing.is_error and "fix-commits-week" in missing.content[0].text


def test_custom_metrics_rest_in_koalr_shape(sample_workspace, tmp_path) -> None:
    db = copy_store(sample_workspace.db, tmp_path / "engmetrics.db")
    engine = LocalEngine(Settings(db=db))
    key = engine.keys.create("t", None, "enterprise", api_version=API_VERSION).secret
    with Served(build_api(engine, ApiConfig(cache_seconds=0))) as served:
        h = {"Authorization": f"Bearer {key}"}
        made = httpx2.post(f"{served.url}/v1/custom-metrics", headers=h, json={
            "slug": "p95-lead-time", "label": "P95 Lead Time", "source": "lead_times", "aggregation": "p95"})
        got = httpx2.get(f"{served.url}/v1/custom-metrics/p95-lead-time/query", params={"days": 30}, headers=h)
        listed = httpx2.get(f"{served.url}/v1/custom-metrics", headers=h)
        gone = httpx2.delete(f"{served.url}/v1/custom-metrics/p95-lead-time", headers=h)
        again = httpx2.get(f"{served.url}/v1/custom-metrics/p95-lead-time/query", headers=h)
        bad = httpx2.post(f"{served.url}/v1/custom-metrics", headers=h, json={
            "slug": "x", "label": "X", "source": "tickets", "aggregation": "count"})
    engine.store.close()
    assert made.status_code == 200 and made.json()["unit"] == "hours"
    body = got.json()
    assert {"slug", "label", "value", "unit", "period"} <= set(body) and body["period"] == "last_30_days"
    assert body["slug"] == "p95-lead-time" and body["label"] == "P95 Lead Time"
    assert listed.json()["total"] == 1
    assert gone.status_code == 200 and gone.json() == {"slug": "p95-lead-time", "deleted": True}
    assert again.status_code == 404
    assert bad.status_code in (400, 422) and "work_items" in bad.text
