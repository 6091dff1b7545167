"""Reports: every audience and format, numbers matching the engine, storage, and sampling polish
(a wrong number falls back to the template; right numbers are used) through a real MCP client."""

from __future__ import annotations

import re
from datetime import timedelta

import anyio
import pytest
from mcp import Client
from mcp_types import CreateMessageResult, TextContent

from engmetrics.config import Settings
from engmetrics.engine.local import LocalEngine
from engmetrics.errors import NotFound
from engmetrics.areas.dora.models import DoraQuery
from engmetrics.areas.reports.models import ReportId, ReportRequest
from engmetrics.areas.reports.metrics.numbers import fmt, numbers_in, unsupported_numbers
from engmetrics.areas.reports.metrics.formats import to_slack
from engmetrics.server.app import build_server
from engmetrics.server.runtime import Runtime
from helpers import call, copy_store, mcp_session


def _window(ws):  # type: ignore[no-untyped-def]
    return (ws.now - timedelta(days=45)).date().isoformat(), (ws.now - timedelta(days=1)).date().isoformat()


@pytest.fixture
def reports(local_engine, workspace_copy):  # type: ignore[no-untyped-def]
    frm, to = _window(workspace_copy)

    async def go():  # type: ignore[no-untyped-def]
        out = {}
        for audience in ("team", "leaders", "customers"):
            for fmt_name in ("markdown", "slack", "email", "html"):
                out[audience, fmt_name] = await local_engine.reports.generate_report(
                    ReportRequest(audience=audience, format=fmt_name, from_=frm, to=to, repo="sample"))
        dora = await local_engine.dora.get_dora(DoraQuery(from_=frm, to=to, repo="sample"))
        again = await local_engine.reports.get_report(ReportId(report_id=out["team", "slack"].report_id))
        return out, dora, again

    return anyio.run(go)


def test_every_audience_and_format(reports) -> None:  # type: ignore[no-untyped-def]
    out, dora, again = reports
    for (audience, fmt_name), status in out.items():
        r = status.report
        assert status.status == "ready" and r.id == status.report_id and r.audience == audience and r.format == fmt_name
        assert r.word_count > 20
        c = r.content
        if fmt_name == "markdown":
            assert c.startswith("# ") and "\n## " in c
        elif fmt_name == "slack":
            assert c.startswith("*") and "**" not in c and "\n#" not in c
        elif fmt_name == "html":
            assert c.startswith("<!DOCTYPE html>") and "<h1>" in c and "</html>" in c
        else:
            assert 'role="presentation"' in c and "<style" not in c and "<script" not in c and 'style="' in c
    team = out["team", "markdown"].report.content
    leaders = out["leaders", "markdown"].report.content
    customers = out["customers", "markdown"].report.content
    # Headline numbers are the engine's.
    f = dora.deployment_frequency
    assert f"**Deployment frequency**: {fmt(f.value, f.unit)}" in team
    assert f"**Change failure rate**: {fmt(dora.change_failure_rate.value, 'percent')}" in team
    assert f"{f.deployments} to production, {dora.change_failure_rate.failed_deployments} marked failed" in team
    assert f"{fmt(dora.lead_time.value, 'hours')}" in leaders
    for section in ("## Headline numbers", "## What shipped", "## Risks and incidents", "## Insights", "## What to watch"):
        assert section in team
    assert "Feature: " in team and "Feature: " not in leaders  # leaders: no commit lists
    assert out["leaders", "markdown"].report.word_count < out["team", "markdown"].report.word_count
    for internal in ("DORA", "ncident", "deploy", "Ada", "z-score"):
        assert internal not in customers
    assert "## New" in customers and "## Fixed" in customers
    # Every number in the team report is one of the facts or a figure formatted from the engine's answers.
    assert not unsupported_numbers(team, [team])
    assert again.content == out["team", "slack"].report.content


def test_unknown_report_is_not_found(local_engine) -> None:
    async def go():  # type: ignore[no-untyped-def]
        await local_engine.reports.get_report(ReportId(report_id="rpt_nope"))

    with pytest.raises(NotFound, match="generate_report"):
        anyio.run(go)


def test_number_check_and_slack_markup() -> None:
    assert numbers_in("Lead time 18.50 h, 1,200 lines, -12%") == {"18.5", "1200", "12"}
    assert unsupported_numbers("We deployed 5 times", ["Deployments: 4"]) == ["5"]
    assert to_slack("# T\n\nA **b** & <c> [x](https://e.org)\n\n- one\n- two\n") == (
        "*T*\n\nA *b* &amp; &lt;c&gt; <https://e.org|x>\n\n• one\n• two\n"
    )


def _server(db):  # type: ignore[no-untyped-def]
    engine = LocalEngine(Settings(db=db, sync_max_age_seconds=3600))
    return build_server(Runtime(engine, sync_on_start=False)), engine


@pytest.mark.parametrize("mode", ["auto", "legacy"])
async def test_sampling_polish_checked(workspace_copy, mode: str) -> None:
    server, engine = _server(workspace_copy.db)
    frm, to = _window(workspace_copy)
    direct = await engine.dora.get_dora(DoraQuery(from_=frm, to=to, repo="sample"))
    deployments = direct.deployment_frequency.deployments
    replies: list[str] = []
    asked: list[str] = []

    async def sampling(context, params):  # type: ignore[no-untyped-def]
        asked.append(params.messages[0].content.text)
        return CreateMessageResult(role="assistant", model="fake", content=TextContent(type="text", text=replies.pop(0)))

    args = {"audience": "leaders", "from": frm, "to": to, "repo": "sample", "format": "markdown"}
    async with Client(server, mode=mode, sampling_callback=sampling) as client:
        replies.append(f"# Summary\n\nWe shipped {deployments} deployments and 987654 widgets.\n")
        wrong = (await client.call_tool("generate_report", args)).structured_content
        replies.append(f"# Summary\n\nThe team made {deployments} production deployments; lead time held at "
                       f"{fmt(direct.lead_time.value, 'hours')}.\n")
        right = (await client.call_tool("generate_report", args)).structured_content
        fetched = (await client.call_tool("get_report", {"report_id": right["report_id"]})).structured_content
        resource = await client.read_resource(f"report://{right['report_id']}")
    assert asked and "Facts:" in asked[0] and "Draft:" in asked[0]
    assert wrong["report"]["polished"] is False and "987654" not in wrong["report"]["content"]
    assert wrong["report"]["content"].startswith("# Engineering Summary") and "987654" in wrong["notes"][0]
    assert right["report"]["polished"] is True and right["report"]["content"].startswith("# Summary")
    assert fetched["content"] == right["report"]["content"] and fetched["polished"] is True
    assert resource.contents[0].text == right["report"]["content"]
    engine.store.close()


async def test_no_sampling_client_gets_template(workspace_copy) -> None:
    server, engine = _server(workspace_copy.db)
    async with Client(server) as client:
        res = await client.call_tool("generate_report", {"audience": "customers", "format": "html", "period": "last_30_days"})
        bad = await client.call_tool("generate_report", {"audience": "board"})
        missing = await client.call_tool("get_report", {"report_id": "rpt_000"})
    data = res.structured_content
    assert not res.is_error and data["status"] == "ready" and data["report"]["polished"] is False
    assert re.search(r"<h1>What&#x27;s New|<h1>What's New", data["report"]["content"])
    assert bad.is_error and "audience" in bad.content[0].text and "Traceback" not in bad.content[0].text
    assert missing.is_error and "generate_report" in missing.content[0].text
    engine.store.close()


# ---- generate_report and get_report on the release train, through a real MCP client session -----------------

MARCH = {"from": "2024-03-04", "to": "2024-03-31"}


async def test_generate_and_get_report_tools(release_train, tmp_path) -> None:
    """Hand-computed from the release train: over Mar 4–31, 2024, 8 releases (2 per week; the previous 28 days
    had v0.1.0 alone, 0.25 per week: +700%), each shipping one feature 10 h before it; no failure, no incident."""
    db = copy_store(release_train.db, tmp_path / "train.db")
    async with mcp_session(db) as (client, _):
        made = await call(client, "generate_report", {"audience": "team", "repo": "train", "polish": False, **MARCH})
        slack = await call(client, "generate_report", {"audience": "leaders", "format": "slack", "repo": "train", **MARCH})
        fetched = await call(client, "get_report", {"report_id": made["report_id"]})
        latest = await call(client, "get_report", {"report_id": "latest"})
        again = await call(client, "generate_report", {"audience": "team", "repo": "train", "polish": False, **MARCH})
        missing = await client.call_tool("get_report", {"report_id": "rpt_nope"})

    report = made["report"]
    assert made["status"] == "ready" and made["report_id"].startswith("rpt_") and report["id"] == made["report_id"]
    assert (report["audience"], report["format"], report["repo"], report["polished"]) == ("team", "markdown", "train", False)
    assert report["period"] == {"from": "2024-03-04T00:00:00Z", "to": "2024-04-01T00:00:00Z", "label": "2024-03-04..2024-03-31"}
    text = report["content"]
    assert text.startswith("# Engineering Update — Mar 4–31, 2024\n")
    assert ("Over Mar 4–31, 2024, train made 8 production deployments (2 deploys/week), shipped 8 features and 0 fixes, "
            "and had 0 incidents.") in text
    assert "- **Deployment frequency**: 2 deploys/week (high for DORA 2024; +700% vs the previous period, improving)" in text
    assert "- **Lead time for changes**: 10 h (elite for DORA 2024)" in text
    assert "- **Change failure rate**: 0% (elite for DORA 2024)" in text
    assert "- **Failed deployment recovery time**: no data in this period" in text
    assert "- **Deployments**: 8 to production, 0 marked failed" in text
    assert "8 features." in text and all(f"- Feature: Add widget {i}" in text for i in range(1, 9))
    assert "No incidents and no failed deployments in this period." in text
    assert "Deployments: 8; failed: 0" in report["numbers"] and "Incidents: 0" in report["numbers"]
    assert report["word_count"] > 100
    # Stored: get_report answers the same report; the same request is the same report (same id, same text).
    assert fetched == report and again["report_id"] == made["report_id"] and again["report"]["content"] == text
    assert latest["id"] in (made["report_id"], slack["report_id"])
    lead = slack["report"]["content"]
    assert lead.startswith("*Engineering Summary — Mar 4–31, 2024*\n") and "• *Deployment frequency*: 2 deploys/week" in lead
    assert "Add widget" not in lead  # leaders: counts, no commit lists
    assert missing.is_error and "generate_report" in missing.content[0].text and made["report_id"] in missing.content[0].text
