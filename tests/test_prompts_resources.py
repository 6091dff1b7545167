"""Resources and prompts listed and read through a real MCP client, in both protocol modes."""

from __future__ import annotations

import json

import pytest
from mcp import Client
from mcp_types import PromptReference, ResourceTemplateReference

from engmetrics.config import Settings
from engmetrics.engine.local import LocalEngine
from engmetrics.server.app import build_server
from engmetrics.server.prompts import parse_prompt, render
from engmetrics.server.runtime import Runtime

PROMPTS = {"weekly-update", "leadership-summary", "release-notes", "sprint-retro", "incident-review", "pr-risk-review"}


def _server(db):  # type: ignore[no-untyped-def]
    engine = LocalEngine(Settings(db=db, sync_max_age_seconds=3600))
    return build_server(Runtime(engine, sync_on_start=False)), engine


@pytest.mark.parametrize("mode", ["auto", "legacy"])
async def test_resources_and_prompts(workspace_copy, mode: str) -> None:
    server, engine = _server(workspace_copy.db)
    async with Client(server, mode=mode) as client:
        static = {str(r.uri) for r in (await client.list_resources()).resources}
        templates = {t.uri_template for t in (await client.list_resource_templates()).resource_templates}
        assert "changelog://latest" in static
        assert {"changelog://{entry_id}", "scorecard://{name}", "scorecard://{name}/json", "report://{report_id}"} <= templates

        latest = (await client.read_resource("changelog://latest")).contents[0].text
        assert latest.startswith("# Week of") and "## Features" in latest

        done = await client.complete(ResourceTemplateReference(uri="changelog://{entry_id}"), {"name": "entry_id", "value": "rel"})
        assert done.completion.values and all(v.startswith("release-sample-") for v in done.completion.values)
        entry = (await client.read_resource(f"changelog://{done.completion.values[0]}")).contents[0].text
        assert entry.startswith("# v1.")

        names = await client.complete(ResourceTemplateReference(uri="scorecard://{name}"), {"name": "name", "value": "sa"})
        assert names.completion.values == ["sample"]
        md = (await client.read_resource("scorecard://sample")).contents[0].text
        assert md.startswith("# Scorecard: sample") and "| Signal |" in md
        card = json.loads((await client.read_resource("scorecard://sample/json")).contents[0].text)
        assert card["name"] == "sample" and 0 <= card["overall_score"] <= 100 and card["signals"]

        made = (await client.call_tool("generate_report", {"period": "last_14_days", "polish": False})).structured_content
        ids = await client.complete(ResourceTemplateReference(uri="report://{report_id}"), {"name": "report_id", "value": "rpt_"})
        assert made["report_id"] in ids.completion.values

        with pytest.raises(Exception, match="No changelog entry"):
            await client.read_resource("changelog://release-nope-v0")

        prompts = {p.name: p for p in (await client.list_prompts()).prompts}
        assert PROMPTS <= set(prompts)
        assert all(p.description for p in prompts.values())
        weekly = await client.get_prompt("weekly-update", {"repo": "sample", "format": "slack"})
        text = weekly.messages[0].content.text
        assert "generate_report" in text and 'format="slack"' in text and "last_7_days" in text
        period = await client.complete(PromptReference(name="weekly-update"), {"name": "period", "value": "last_"})
        assert "last_30_days" in period.completion.values
    engine.store.close()


def test_front_matter_parsing() -> None:
    p = parse_prompt("---\nname: x\ndescription: 'Does x'\narguments:\n  - name: a\n    required: true\n"
                     "  - name: b\n    default: B\n---\nUse {{a}} and {{ b }} and {{c}}.\n")
    assert (p.name, p.description, [a["name"] for a in p.arguments]) == ("x", "Does x", ["a", "b"])
    assert p.arguments[0]["required"] is True
    assert render(p, {"a": "A"}) == "Use A and B and not given.\n"
    with pytest.raises(ValueError, match="front matter"):
        parse_prompt("no front matter")
