"""Every tool Upshot answers, through a real MCP client session with the engmetrics server in remote mode
(ENGMETRICS_PROVIDER=upshot) over the stand-in Upshot API (tests/vendor_standins.py): the seed's figures arrive
unchanged, what Upshot does not send is null, the request Upshot gets is the one its documentation shows."""

from __future__ import annotations

from typing import Any

from mcp import Client

from helpers import call
from vendor_standins import UPSHOT_ACTIVITY_ITEM, UPSHOT_KEY, UPSHOT_REPORT, provider_session


async def error_text(client: Client, tool: str, arguments: dict[str, Any]) -> str:
    """The text of the tool error ``tool`` must answer."""
    result = await client.call_tool(tool, arguments)
    assert result.is_error, (tool, result.structured_content)
    return result.content[0].text


async def test_get_dora(upshot) -> None:
    url, script = upshot
    async with provider_session(url, "upshot", UPSHOT_KEY) as (client, _):
        dora = await call(client, "get_dora", {"period": "last_30_days", "team": "backend"})
    assert script.requests[-1][1:3] == ("/v1/metrics/dora", {"period": "last_30_days", "team": "backend"})
    picked = {k: {f: dora[k][f] for f in ("value", "unit", "rating", "trend")}
              for k in ("deployment_frequency", "lead_time", "change_failure_rate", "mttr")}
    assert picked == {
        "deployment_frequency": {"value": 4.2, "unit": "deploys_per_week", "rating": "high", "trend": "+12%"},
        "lead_time": {"value": 18.5, "unit": "hours", "rating": "high", "trend": "-8%"},
        "change_failure_rate": {"value": 4.1, "unit": "percent", "rating": "elite", "trend": "-2%"},
        "mttr": {"value": 2.3, "unit": "hours", "rating": "high", "trend": "-15%"},
    }
    assert dora["deployment_frequency"]["deployments"] is None and dora["mttr"]["recovered"] is None
    assert dora["rework_rate"]["value"] is None and dora["provider_tier"] is None


async def test_get_activity(upshot) -> None:
    url, script = upshot
    async with provider_session(url, "upshot", UPSHOT_KEY) as (client, _):
        feed = await call(client, "get_activity", {"from": "2025-02-01", "to": "2025-02-15", "limit": 1})
    assert feed["items"] == [UPSHOT_ACTIVITY_ITEM], "the seed's event, every field as sent"
    assert feed["cursor"]
    _, path, params, _, _ = script.requests[-1]
    assert path == "/v1/activity" and params["from"] == "2025-02-01T00:00:00Z" and params["to"] == "2025-02-16T00:00:00Z"


async def test_get_contributor_summary(upshot) -> None:
    url, script = upshot
    async with provider_session(url, "upshot", UPSHOT_KEY) as (client, _):
        s = await call(client, "get_contributor_summary", {"contributor": "usr_jane", "period": "last_7_days"})
    assert script.requests[-1][1:3] == ("/v1/contributors/usr_jane/summary", {"period": "last_7_days"})
    assert {k: s[k] for k in ("contributor", "prs_merged", "prs_reviewed", "commits", "issues_closed", "lines_added",
                              "lines_removed", "deploy_contributions")} == {
        "contributor": "[email protected]", "prs_merged": 4, "prs_reviewed": 7, "commits": 23, "issues_closed": 3,
        "lines_added": 1247, "lines_removed": 389, "deploy_contributions": 2}
    assert s["files_touched"] is None and s["repos"] is None and s["period"] == "last_7_days"


async def test_get_changelog_pages_and_keeps_upshots_counts(upshot) -> None:
    url, script = upshot
    async with provider_session(url, "upshot", UPSHOT_KEY) as (client, _):
        first = await call(client, "get_changelog", {"limit": 4})
        assert script.requests[-1][1:3] == ("/v1/changelog", {"limit": "5"}), "one more than asked: is there a next?"
        entry = first["entries"][0]
        assert {k: entry[k] for k in ("id", "title", "published_at", "url")} == {
            "id": "cl_abc", "title": "Week of Feb 10", "published_at": "2025-02-14T12:00:00Z",
            "url": "/changelog/week-of-feb-10"}
        assert entry["categories"] == {"features": 3, "improvements": 5, "fixes": 2, "breaking": None,
                                       "security": None, "docs": None, "tests": None, "other": None}
        assert entry["period"] is None and entry["repos"] is None and entry["items"] == []
        assert entry["items_total"] is None and entry["grouped"] is None
        assert first["entries"][3]["categories"]["security"] == 1, "a category Upshot counts that we have: kept"
        second = await call(client, "get_changelog", {"limit": 4, "cursor": first["cursor"]})
        assert any("Upshot also counted chores" in n for n in second["notes"]), "one we have no field for: said"
        assert not any("chores" in n for n in first["notes"])
        assert [e["id"] for e in first["entries"] + second["entries"]] == ["cl_abc"] + [f"cl_w{n}" for n in range(1, 6)]
        assert second["cursor"] is None
        since = await call(client, "get_changelog", {"since": "2025-01-20"})
        assert [e["id"] for e in since["entries"]] == ["cl_abc", "cl_w1", "cl_w2"] and since["cursor"] is None
        assert "cannot" not in str(since["notes"])
        text = await error_text(client, "get_changelog", {"repo": "webapp"})
        assert "drop repo and team" in text
        text = await error_text(client, "get_changelog", {"group_by": "release"})
        assert "group_by='release'" in text
        latest = (await client.read_resource("changelog://latest")).contents[0].text
        assert latest.startswith("# Week of Feb 10") and "3 features" in latest and "5 improvements" in latest
        assert "repositories not given" in latest
        by_url = (await client.read_resource("changelog://week-of-feb-10")).contents[0].text
        assert by_url == latest


async def test_generate_report_answers_at_once_while_upshot_writes(upshot) -> None:
    url, script = upshot
    async with provider_session(url, "upshot", UPSHOT_KEY) as (client, _):
        before = len(script.requests)
        status = await call(client, "generate_report", {"audience": "team", "from": "2025-02-01", "to": "2025-02-15",
                                                        "format": "slack"})
        sent = script.requests[before:]
        assert [(m, p) for m, p, *_ in sent] == [("POST", "/v1/reports/generate")], "no polling: one request"
        assert sent[0][4] == {"audience": "team", "period": {"from": "2025-02-01", "to": "2025-02-15"},
                              "format": "slack"}, "the seed's example request"
        assert sent[0][3].get("idempotency-key")
        assert {k: status[k] for k in ("report_id", "status", "estimated_seconds", "report")} == {
            "report_id": "rpt_xyz789", "status": "generating", "estimated_seconds": 45, "report": None}
        assert "get_report(report_id='rpt_xyz789')" in status["notes"][0]
        ready = await call(client, "generate_report", {"audience": "leaders", "period": "last_7_days"})
        assert ready["status"] == "ready" and ready["report"]["id"] == "rpt_ready1"
        assert ready["report"]["content"] == "## Leaders' update\n\n..." and ready["report"]["word_count"] == 210
        failed = await call(client, "generate_report", {"format": "html"})
        assert failed["status"] == "failed" and failed["report"] is None
        text = await error_text(client, "generate_report", {"team": "platform"})
        assert "not a repository or team" in text


async def test_get_report(upshot) -> None:
    url, script = upshot
    async with provider_session(url, "upshot", UPSHOT_KEY) as (client, _):
        report = await call(client, "get_report", {"report_id": "rpt_xyz789"})
        assert script.requests[-1][:2] == ("GET", "/v1/reports/rpt_xyz789")
        assert {k: report[k] for k in UPSHOT_REPORT} == UPSHOT_REPORT, "every field Upshot sent, unchanged"
        assert report["title"] is None and report["period"] is None and report["polished"] is False
        text = (await client.read_resource("report://rpt_xyz789")).contents[0].text
        assert text == UPSHOT_REPORT["content"]
        text = await error_text(client, "get_report", {"report_id": "rpt_pending"})
        assert "still writing report rpt_pending (about 30 s" in text
        text = await error_text(client, "get_report", {"report_id": "rpt_nope"})
        assert "found nothing" in text and "No report rpt_nope" in text


async def test_tools_upshot_does_not_document_say_so(upshot) -> None:
    url, _ = upshot
    async with provider_session(url, "upshot", UPSHOT_KEY) as (client, _):
        for tool in ("get_flow_metrics", "list_pull_requests", "forecast_backlog", "get_scorecard"):
            text = await error_text(client, tool, {})
            assert f"Upshot's API does not offer {tool}" in text, tool
