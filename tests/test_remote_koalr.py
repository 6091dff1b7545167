"""Every tool Koalr answers, through a real MCP client session with the engmetrics server in remote mode
(ENGMETRICS_PROVIDER=koalr) over the stand-in Koalr API (tests/vendor_standins.py): the seed's figures arrive
unchanged (or, where our field has another unit, converted exactly as the note says: days × 24 = hours,
seconds ÷ 3600 = hours), what Koalr does not send is null, ``team`` becomes Koalr's ``teamId``, and the request
Koalr gets is the one its documentation shows. Also Koalr's /copilot answering the AI area's `get_copilot` (REST
only, no tool)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from mcp import Client

from engmetrics.areas.ai.models import AiImpactQuery, CopilotQuery
from engmetrics.engine.remote.koalr_ai import KoalrCustomMetric, custom_metric_result
from engmetrics.errors import NotFound, RemoteError, Unsupported
from engmetrics.periods import Window
from helpers import call
from vendor_standins import (
    KOALR_COPILOT,
    KOALR_KEY,
    KOALR_PR_RISK,
    KOALR_PULL_REQUESTS,
    engine,
    provider_session,
)

MISSING_STAGE = {"median_hours": None, "p85_hours": None, "mean_hours": None, "count": None}


async def error_text(client: Client, tool: str, arguments: dict[str, Any]) -> str:
    """The text of the tool error ``tool`` must answer."""
    result = await client.call_tool(tool, arguments)
    assert result.is_error, (tool, result.structured_content)
    return result.content[0].text


def last(script: Any, path: str) -> tuple[str, str, dict[str, str], dict[str, str], Any]:
    """The last request the stand-in got for ``path``."""
    return [r for r in script.requests if r[1] == "/api/v1" + path][-1]


async def test_get_dora_list_deployments_list_incidents(koalr) -> None:
    url, script = koalr
    async with provider_session(url, "koalr", KOALR_KEY) as (client, _):
        dora = await call(client, "get_dora", {"period": "last_30_days"})
        deployments = await call(client, "list_deployments", {"period": "last_30_days", "limit": 1})
        incidents = await call(client, "list_incidents", {"period": "last_7_days", "limit": 1})
    assert [dora[k]["value"] for k in ("deployment_frequency", "lead_time", "change_failure_rate", "mttr")] == \
        [4.2, 18.5, 0.04 * 100, 42 / 60]
    assert dora["provider_tier"] == "elite" and dora["deployment_frequency"]["deployments"] is None
    d = deployments["items"][0]
    assert {k: d[k] for k in ("id", "repo", "environment", "status", "deployed_at", "failed")} == {
        "id": "dep_01j8x", "repo": "acme/api", "environment": "production", "status": "success",
        "deployed_at": "2026-03-14T18:22:00Z", "failed": False}
    assert d["lead_time_hours_median"] == pytest.approx(67200 / 3600) and d["change_count"] is None
    assert deployments["total"] == 23 and deployments["cursor"]
    i = incidents["items"][0]
    assert (i["id"], i["title"], i["severity"], i["status"], i["duration_hours"]) == (
        "inc_9z2k", "API p99 latency spike", "sev2", "resolved", 2880 / 3600)
    assert last(script, "/incidents")[2] == {"days": "7", "page": "1"}


async def test_get_flow_metrics(koalr) -> None:
    url, script = koalr
    async with provider_session(url, "koalr", KOALR_KEY) as (client, _):
        flow = await call(client, "get_flow_metrics", {"period": "last_30_days"})
        assert last(script, "/flow")[2] == {"days": "30"}
        platform = await call(client, "get_flow_metrics", {"period": "last_14_days", "team": "platform"})
        assert last(script, "/flow")[2] == {"days": "14", "teamId": "team_abc123"}
        text = await error_text(client, "get_flow_metrics", {"repo": "api"})
        assert "no repository. Pass team instead of repo" in text
        text = await error_text(client, "get_flow_metrics", {"team": "Mobile"})
        assert "Koalr has no team 'Mobile'" in text and "'Platform', 'Growth'" in text
    # cycleTime 2.4 (read as days) = 57.6 hours; the rest as sent.
    assert flow["cycle_time"] == {"median_hours": 57.6, "p85_hours": None, "mean_hours": None, "count": None}
    assert (flow["throughput"], flow["wip_count"], flow["flow_efficiency"]) == (18, 6, 0.61)
    for stage in ("coding_time", "pickup_time", "review_time", "deploy_time"):
        assert flow[stage] == MISSING_STAGE, stage
    assert flow["size_distribution"] is None and flow["merged_not_deployed"] is None and flow["data_source"] is None
    assert flow["cycle_time_definition"] is None and flow["previous_throughput"] is None
    assert "cycleTime 2.4" in flow["notes"][0] and "read as days" in flow["notes"][1]
    assert platform["team"] == "platform" and platform["cycle_time"]["median_hours"] == 36.0
    assert (platform["throughput"], platform["wip_count"], platform["flow_efficiency"]) == (11, 3, 0.7)


async def test_get_review_metrics(koalr) -> None:
    url, script = koalr
    async with provider_session(url, "koalr", KOALR_KEY) as (client, _):
        reviews = await call(client, "get_review_metrics", {})
        assert last(script, "/review-metrics")[2] == {"days": "30"}
        platform = await call(client, "get_review_metrics", {"team": "team_abc123"})
        assert last(script, "/review-metrics")[2] == {"days": "30", "teamId": "team_abc123"}
    assert (reviews["avg_review_cycle_time"], reviews["avg_first_response_time"], reviews["total_reviewed"]) == \
        (6.1, 1.8, 94)
    for absent in ("median_review_cycle_time", "median_first_response_time", "reviews", "comments_per_review",
                   "rework_commits_per_pr", "rework_percent", "merged", "unreviewed_merges", "reviewer_load",
                   "data_source"):
        assert reviews[absent] is None, absent
    assert (platform["avg_review_cycle_time"], platform["avg_first_response_time"], platform["total_reviewed"]) == \
        (4.25, 0.9, 51)


async def test_get_value_stream(koalr) -> None:
    url, script = koalr
    async with provider_session(url, "koalr", KOALR_KEY) as (client, _):
        vs = await call(client, "get_value_stream", {"period": "last_90_days"})
        assert last(script, "/value-stream")[2] == {"days": "90"}
        text = await error_text(client, "get_value_stream", {"team": "Platform"})
        assert "takes days only" in text
    # Days × 24: 3.2 → 76.8 h, 1.1 → 26.4 h, 0.4 → 9.6 h, total 4.7 → 112.8 h (= 76.8 + 26.4 + 9.6).
    assert [vs[s]["median_hours"] for s in ("idea_to_commit", "commit_to_merge", "merge_to_deploy")] == [76.8, 26.4, 9.6]
    assert vs["total_lead_time"] == 112.8 == pytest.approx(76.8 + 26.4 + 9.6)
    assert all(vs[s]["count"] is None for s in ("idea_to_commit", "commit_to_merge", "merge_to_deploy"))
    assert vs["merged"] is None and "ideaToCommit 3.2" in vs["notes"][0]


async def test_list_pull_requests_pages_with_page_size(koalr) -> None:
    url, script = koalr
    async with provider_session(url, "koalr", KOALR_KEY) as (client, _):
        first = await call(client, "list_pull_requests", {"limit": 25})
        assert last(script, "/pull-requests")[2] == {"days": "30", "page": "1", "pageSize": "25"}
        seen = list(first["items"])
        cursor = first["cursor"]
        while cursor:
            page = await call(client, "list_pull_requests", {"limit": 25, "cursor": cursor})
            seen += page["items"]
            cursor = page["cursor"]
        assert last(script, "/pull-requests")[2]["page"] == "3"
        merged_ada = await call(client, "list_pull_requests", {"state": "merged", "author": "ADA", "limit": 100})
        assert last(script, "/pull-requests")[2]["pageSize"] == "100", "filtered here: the largest pages"
        team = await call(client, "list_pull_requests", {"team": "Platform", "limit": 100})
        assert last(script, "/pull-requests")[2]["teamId"] == "team_abc123"
        text = await error_text(client, "list_pull_requests", {"state": "open"})
        assert "mergedAt only" in text
    pr = first["items"][0]
    assert {k: pr[k] for k in ("repo", "number", "title", "author", "state", "merged_at", "cycle_hours",
                               "risk_score")} == {
        "repo": "acme/api", "number": 1847, "title": "feat: add retries to webhook processor", "author": "jsmith",
        "state": "merged", "merged_at": "2026-03-14T14:11:00Z", "cycle_hours": 86400 / 3600, "risk_score": 42}
    assert pr["reviews"] is None and pr["source"] is None and pr["coding_hours"] is None
    assert first["total"] == 60
    assert [p["number"] for p in seen] == [p["number"] for p in KOALR_PULL_REQUESTS], "all 60, once, in order"
    unmerged = [p for p in seen if p["merged_at"] is None]
    assert len(unmerged) == 11 and all(p["state"] is None and p["cycle_hours"] is None for p in unmerged)
    expected = [p["number"] for p in KOALR_PULL_REQUESTS if p["mergedAt"] and "ada" in p["author"]]
    assert [p["number"] for p in merged_ada["items"]] == expected and merged_ada["total"] is None
    assert {p["repo"] for p in team["items"]} == {"acme/api"} and team["total"] == 40


async def test_list_teams(koalr) -> None:
    url, script = koalr
    async with provider_session(url, "koalr", KOALR_KEY) as (client, _):
        teams = await call(client, "list_teams", {})
    assert last(script, "/teams")[2] == {}
    assert teams["total"] == 2
    assert teams["teams"] == [
        {"name": "Platform", "id": "team_abc123", "repos": None, "people": None, "member_count": 8,
         "unknown_repos": [], "created_at": "2025-11-01T00:00:00Z"},
        {"name": "Growth", "id": "team_def456", "repos": None, "people": None, "member_count": 5,
         "unknown_repos": [], "created_at": "2025-11-01T00:00:00Z"},
    ]


async def test_forecast_delivery(koalr) -> None:
    url, script = koalr
    async with provider_session(url, "koalr", KOALR_KEY) as (client, _):
        f = await call(client, "forecast_delivery", {"items": 20, "team": "Platform"})
        assert last(script, "/forecast/delivery")[2] == {"items": "20", "teamId": "team_abc123"}
        two = await call(client, "forecast_delivery", {"items": 12, "confidence_levels": [85, 50]})
        assert last(script, "/forecast/delivery")[2] == {"items": "12"}
        for arguments, words in ((({"by_date": "2026-06-01"}), "Pass items instead of by_date"),
                                 ({"items": 5, "history_weeks": 10}, "forecast with history_weeks"),
                                 ({"items": 5, "repo": "api"}, "forecast with repo"),
                                 ({"items": 5, "confidence_levels": [90]}, "P50, P85 and P95 only")):
            assert words in await error_text(client, "forecast_delivery", arguments), arguments
    assert (f["items"], f["team"], f["p50"], f["p85"], f["p95"], f["simulations"]) == (
        20, "Platform", "2026-04-11", "2026-04-25", "2026-05-09", 10000)
    assert f["forecasts"] == [
        {"confidence_percent": 50, "date": "2026-04-11", "weeks": None, "items": None},
        {"confidence_percent": 85, "date": "2026-04-25", "weeks": None, "items": None},
        {"confidence_percent": 95, "date": "2026-05-09", "weeks": None, "items": None}]
    for absent in ("start_date", "method", "calibrated", "throughput", "reliability", "by_date"):
        assert f[absent] is None, absent
    assert [p["confidence_percent"] for p in two["forecasts"]] == [50, 85]


async def test_forecast_backlog(koalr) -> None:
    url, script = koalr
    async with provider_session(url, "koalr", KOALR_KEY) as (client, _):
        whole = await call(client, "forecast_backlog", {})
        assert last(script, "/forecast/backlog")[2] == {}
        platform = await call(client, "forecast_backlog", {"team": "platform", "backlog_size": 30})
        assert last(script, "/forecast/backlog")[2] == {"teamId": "team_abc123"}
        text = await error_text(client, "forecast_backlog", {"backlog_size": 50})
        assert "Koalr's own backlog (68 items)" in text
    assert (whole["backlog_size"], whole["weekly_throughput_p50"], whole["weekly_throughput_p85"]) == (68, 7, 12)
    assert whole["weeks_to_empty"] == {"p50": 10, "p85": 16, "p95": None}
    assert whole["empty_by"] == {"p50": None, "p85": None, "p95": None}
    for absent in ("backlog_source", "start_date", "simulations", "method", "calibrated", "throughput"):
        assert whole[absent] is None, absent
    assert (platform["backlog_size"], platform["weekly_throughput_p50"], platform["weekly_throughput_p85"],
            platform["weeks_to_empty"]) == (30, 4, 6.5, {"p50": 7.5, "p85": 11, "p95": None})


async def test_score_pr_risk(koalr) -> None:
    url, script = koalr
    async with provider_session(url, "koalr", KOALR_KEY) as (client, _):
        risk = await call(client, "score_pr_risk", {"repo": "api", "owner": "acme", "pr_number": 1847})
        method, _, _, headers, body = last(script, "/pr-risk/score")
        assert method == "POST" and body == {"prNumber": 1847, "repo": "api", "owner": "acme"}
        assert headers.get("idempotency-key")
        same = await call(client, "score_pr_risk", {"repo": "acme/api", "pr_number": 1847})
        assert last(script, "/pr-risk/score")[4] == {"prNumber": 1847, "repo": "api", "owner": "acme"}
        assert "found nothing" in await error_text(client, "score_pr_risk", {"repo": "acme/api", "pr_number": 9})
        assert "scores a pull request" in await error_text(client, "score_pr_risk", {"repo": "acme/api",
                                                                                      "commit": "abc123"})
        assert "needs the GitHub owner" in await error_text(client, "score_pr_risk", {"repo": "api", "pr_number": 3})
    assert (risk["repo"], risk["pr_number"], risk["risk_score"], risk["tier"], risk["recommendation"]) == (
        "acme/api", 1847, 71, "high", KOALR_PR_RISK["recommendation"])
    assert {name: s["value"] for name, s in risk["signals"].items()} == KOALR_PR_RISK["signals"]
    assert risk["signals"]["codeownersCompliance"]["value"] is True, "a yes/no stays a boolean"
    assert all(s["contribution"] is None and s["typical"] is None for s in risk["signals"].values())
    for absent in ("probability", "baseline_score", "model", "commits", "commits_total", "added_lines"):
        assert risk[absent] is None, absent
    assert same["risk_score"] == 71


async def test_query_custom_metric(koalr) -> None:
    """query_custom_metric answers from GET /api/v1/custom-metrics/:slug/query: the seed's figure, unit and period
    as sent, the window the `days` ending now, what Koalr does not send (event count, definition) null."""
    url, script = koalr
    async with provider_session(url, "koalr", KOALR_KEY) as (client, _):
        metric = await call(client, "query_custom_metric", {"slug": "p95-cycle-time", "days": 7})
        method, _path, params, headers, _body = last(script, "/custom-metrics/p95-cycle-time/query")
        assert (method, params, headers["x-koalr-key"]) == ("GET", {"days": "7"}, KOALR_KEY)
        default = await call(client, "query_custom_metric", {"slug": "p95-cycle-time"})
        assert last(script, "/custom-metrics/p95-cycle-time/query")[2] == {"days": "30"}
        text = await error_text(client, "query_custom_metric", {"slug": "nope"})
        assert "Custom metric not found" in text
        assert last(script, "/custom-metrics/nope/query")[2] == {"days": "30"}
        text = await error_text(client, "list_custom_metrics", {})
        assert text.startswith("Koalr's API does not offer list_custom_metrics")  # Koalr documents only the query
    assert {k: metric[k] for k in ("slug", "label", "value", "unit", "period", "events", "definition")} == {
        "slug": "p95-cycle-time", "label": "P95 Cycle Time", "value": 8.4, "unit": "hours",
        "period": "last_30_days", "events": None, "definition": None}
    start = datetime.fromisoformat(metric["window"]["from"].replace("Z", "+00:00"))
    end = datetime.fromisoformat(metric["window"]["to"].replace("Z", "+00:00"))
    assert end - start == timedelta(days=7) and metric["window"]["label"] == "last_7_days"
    assert metric["notes"] == [
        "From Koalr's GET /api/v1/custom-metrics/p95-cycle-time/query?days=7 (the 7 days ending now), as sent: value "
        "and unit are Koalr's own. Koalr sends no event count and no definition: events and definition are null."]
    assert default["value"] == 8.4 and default["window"]["label"] == "last_30_days"
    # A body without label, unit, value or period: each null (period: the one asked for), each said in the notes.
    window = Window(datetime(2026, 3, 1, tzinfo=UTC), datetime(2026, 3, 31, tzinfo=UTC), "last_30_days")
    bare = custom_metric_result(KoalrCustomMetric.model_validate({"slug": "p95-cycle-time"}),
                                "/custom-metrics/p95-cycle-time/query", 30, window)
    assert (bare.label, bare.unit, bare.value, bare.period, bare.events) == (None, None, None, "last_30_days", None)
    assert [n.split(":")[0] for n in bare.notes[1:]] == [
        "Koalr sent no unit for this metric", "Koalr sent no label", "Koalr sent no value for this window",
        "Koalr did not name the window"]


async def test_get_copilot_answers_from_koalrs_copilot(koalr) -> None:
    """The AI area's get_copilot (GET /v1/copilot, Koalr's shape) through Koalr's GET /api/v1/copilot: the request
    Koalr documents (days, X-Koalr-Key), the seed's figures as sent, what Koalr leaves out null, its errors worded."""
    url, script = koalr
    e = engine(url, "koalr", KOALR_KEY)
    try:
        usage = await e.ai.get_copilot(CopilotQuery())
        method, _, params, headers, _ = last(script, "/copilot")
        assert (method, params, headers["x-koalr-key"]) == ("GET", {"days": "30"}, KOALR_KEY)
        assert usage.model_dump(by_alias=True) == KOALR_COPILOT == {
            "adoptionRate": 0.74, "acceptanceRate": 0.38, "estimatedHoursSaved": 312}
        await e.ai.get_copilot(CopilotQuery(days=7))
        assert last(script, "/copilot")[2] == {"days": "7"}
        script.bodies = {"/api/v1/copilot": {"adoptionRate": 0.5}}
        try:
            partial = await e.ai.get_copilot(CopilotQuery(days=14))
            script.bodies = {"/api/v1/copilot": {"adoptionRate": "most", "acceptanceRate": 0.4}}
            with pytest.raises(RemoteError, match="GET /api/v1/copilot"):
                await e.ai.get_copilot(CopilotQuery())
        finally:
            script.bodies = {}
        assert (partial.adoption_rate, partial.acceptance_rate, partial.estimated_hours_saved) == (0.5, None, None)
        script.faults = ["404"]
        with pytest.raises(NotFound, match="get_copilot: Resource not found"):
            await e.ai.get_copilot(CopilotQuery())
        with pytest.raises(Unsupported, match="Koalr's API does not offer get_ai_impact"):
            await e.ai.get_ai_impact(AiImpactQuery())
    finally:
        script.faults = []
        await e.aclose()
    wrong = engine(url, "koalr", "klr_live_wrong")
    try:
        with pytest.raises(RemoteError, match="X-Koalr-Key|key"):
            await wrong.ai.get_copilot(CopilotQuery())
    finally:
        await wrong.aclose()
