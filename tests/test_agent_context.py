"""The agent's context budget: toolsets, the size of `tools/list` per toolset, compact tool results.

Sizes are characters of the compact JSON a client receives (a token is about 4 characters): the whole
`tools/list` result, output schemas included, must stay within 8,000 tokens for the default toolsets and within
20,000 for every tool; each toolset alone fits the default budget; no default result on the demo exceeds
about 2,000 tokens (8,000 characters).
"""

from __future__ import annotations

import json
import os
import re
import sys
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from mcp import Client
from mcp.client.stdio import StdioServerParameters

from engmetrics.config import Settings
from engmetrics.engine.local import LocalEngine
from engmetrics.engine.registry import AREA_INTERFACES
from engmetrics.errors import InvalidInput
from engmetrics.operations import collect
from engmetrics.server.app import INSTRUCTIONS, build_server
from engmetrics.server.runtime import Runtime, make_runtime
from engmetrics.server.schemas import compact_schema
from engmetrics.server.tools.generate_report import GENERATE_REPORT_TOOL
from engmetrics.server.tools.sync import SYNC_TOOL
from engmetrics.server.toolsets import DEFAULT_TOOLSETS, TOOLSETS, parse_toolsets
from tool_examples import TOOL_EXAMPLES

TOKEN_CHARS = 4
DEFAULT_BUDGET_TOKENS = 8_000
ALL_BUDGET_TOKENS = 20_000
RESULT_BUDGET_CHARS = 8_000
PLANNED_TOOLS = 33
"""Tools the all-tools budget must have room for: the 24 of phase 2, get_ai_impact (#14, toolset ai) and the eight of
#15 (alerts, health, metrics). Until they exist, each missing one is counted at the mean size of those that do."""
README = Path(__file__).parent.parent / "README.md"


def declared_toolsets() -> dict[str, str]:
    """Every tool the code declares (generated and hand-written) → its toolset."""
    tools = {op.tool_name: op.tool.toolset for op in collect(AREA_INTERFACES) if op.tool is not None}
    tools["sync"] = SYNC_TOOL.toolset
    tools["generate_report"] = GENERATE_REPORT_TOOL.toolset
    return {name: toolset for name, toolset in tools.items() if name is not None}


def wire_chars(result: Any) -> int:
    """Characters of ``result`` as compact JSON (what travels)."""
    return len(json.dumps(result.model_dump(by_alias=True, mode="json", exclude_none=True), separators=(",", ":"),
                          ensure_ascii=False))


async def listed(db: Path, toolsets: frozenset[str] | None) -> tuple[set[str], int]:
    engine = LocalEngine(Settings(db=db, sync_max_age_seconds=3600))
    try:
        async with Client(build_server(Runtime(engine, sync_on_start=False, toolsets=toolsets))) as client:
            result = await client.session.list_tools()
            return {t.name for t in result.tools}, wire_chars(result)
    finally:
        engine.store.close()


def test_every_tool_belongs_to_a_known_toolset() -> None:
    tools = declared_toolsets()
    assert tools, "no tools declared"
    unknown = {name: ts for name, ts in tools.items() if ts not in TOOLSETS}
    assert not unknown, f"tools in undeclared toolsets (add them to engmetrics.server.toolsets.TOOLSETS): {unknown}"
    assert tools["list_repositories"] == tools["sync"] == "core"


async def test_tools_list_budgets_per_toolset(workspace_copy, capsys) -> None:
    """Every toolset alone (with core), the default selection and all tools, measured through a real client."""
    tools = declared_toolsets()
    sizes: dict[str, int] = {}
    for name in TOOLSETS:
        names, chars = await listed(workspace_copy.db, parse_toolsets(name))
        assert names == {t for t, ts in tools.items() if ts in (name, "core")}, name
        sizes[name] = chars
        assert chars <= DEFAULT_BUDGET_TOKENS * TOKEN_CHARS, (name, chars)
    names, sizes["default"] = await listed(workspace_copy.db, parse_toolsets(None))
    assert names == {t for t, ts in tools.items() if ts in DEFAULT_TOOLSETS}
    assert sizes["default"] <= DEFAULT_BUDGET_TOKENS * TOKEN_CHARS, sizes["default"]
    names, sizes["all"] = await listed(workspace_copy.db, None)
    assert names == set(tools)
    assert sizes["all"] <= ALL_BUDGET_TOKENS * TOKEN_CHARS, sizes["all"]
    # Headroom: the tools still to come, at the mean size of today's, fit the all-tools budget too.
    sizes["all_projected"] = round(sizes["all"] * max(len(names), PLANNED_TOOLS) / len(names))
    assert sizes["all_projected"] <= ALL_BUDGET_TOKENS * TOKEN_CHARS, (len(names), sizes["all_projected"])
    with capsys.disabled():  # the figures the README quotes, on every run
        print("\ntools/list characters (tokens ≈ /4):", json.dumps(sizes))


def test_toolset_selection_words() -> None:
    assert parse_toolsets("all") is None
    assert parse_toolsets(None) == frozenset(DEFAULT_TOOLSETS)
    assert parse_toolsets("") == frozenset(DEFAULT_TOOLSETS)
    assert parse_toolsets("risk") == {"core", "risk"}
    assert parse_toolsets(" Default , flow ") == {*DEFAULT_TOOLSETS, "flow"}
    assert parse_toolsets(["dora", "all"]) is None
    with pytest.raises(InvalidInput) as err:
        parse_toolsets("dora,forcast")
    assert "did you mean 'forecast'?" in err.value.message and "ENGMETRICS_TOOLSETS" in err.value.message


def test_runtime_takes_toolsets_from_the_argument_then_the_setting(workspace_copy) -> None:
    settings = Settings(db=workspace_copy.db, toolsets="flow")
    by_setting = make_runtime(settings, repos=[str(workspace_copy.repo.path)], sync_on_start=False)
    by_argument = make_runtime(settings, repos=[str(workspace_copy.repo.path)], sync_on_start=False, toolsets="all")
    plain = make_runtime(Settings(db=workspace_copy.db), repos=[str(workspace_copy.repo.path)], sync_on_start=False)
    try:
        assert by_setting.toolsets == {"core", "flow"}
        assert by_argument.toolsets is None
        assert plain.toolsets == frozenset(DEFAULT_TOOLSETS)
        with pytest.raises(InvalidInput):
            make_runtime(Settings(db=workspace_copy.db, toolsets="nope"), repos=[], sync_on_start=False)
    finally:
        for rt in (by_setting, by_argument, plain):
            rt.engine.store.close()  # type: ignore[attr-defined]


async def test_serve_offers_the_toolsets_it_is_told(workspace_copy, tmp_path: Path) -> None:
    """`engmetrics serve --toolsets risk,forecast` over stdio: the argument wins over ENGMETRICS_TOOLSETS."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ENGMETRICS_")}
    env.update(ENGMETRICS_DB=str(workspace_copy.db), ENGMETRICS_TOOLSETS="flow")
    params = StdioServerParameters(
        command=sys.executable,
        args=["-m", "engmetrics.cli.main", "serve", "--repo", str(workspace_copy.repo.path), "--no-sync",
              "--toolsets", "risk,forecast"],
        env=env, cwd=str(tmp_path),
    )
    async with Client(params) as client:
        names = {t.name for t in (await client.list_tools()).tools}
    tools = declared_toolsets()
    assert names == {t for t, ts in tools.items() if ts in ("core", "risk", "forecast")}


def test_readme_documents_every_toolset_and_its_tools() -> None:
    """README's toolsets table lists each toolset's tools exactly as the code assigns them."""
    text = README.read_text()
    text = text[text.index("### Toolsets"):]
    text = text[: text.index("\n### ", 5)]
    rows = re.findall(r"^\| `(\w+)`( \(default\))? \| ([^|]*) \| ([^|]*)\|$", text, re.M)
    documented = {name: {t.strip(" `") for t in tools.split(",") if t.strip(" `—")} for name, _, _, tools in rows}
    defaults = {name for name, default, _, _ in rows if default}
    tools = declared_toolsets()
    expected = {ts: {t for t, s in tools.items() if s == ts} for ts in TOOLSETS}
    assert documented == expected
    assert defaults == set(DEFAULT_TOOLSETS)


# ---- schemas ------------------------------------------------------------------------------------------------


def test_compacted_schemas_accept_and_refuse_what_the_originals_do() -> None:
    """The compactor keeps an input schema's meaning: the same instances pass and fail."""
    from engmetrics.areas.forecast.models import DeliveryForecastQuery
    from engmetrics.areas.risk.models import RiskScore

    full = DeliveryForecastQuery.model_json_schema(by_alias=True)
    small = compact_schema(full)
    assert len(json.dumps(small)) < len(json.dumps(full)) * 0.85
    assert "title" not in json.dumps(small)
    for instance, ok in [({"items": 20}, True), ({"items": None, "by_date": "2027-01-01"}, True),
                         ({"items": "many"}, False), ({"confidence_levels": [50, 85]}, True),
                         ({"confidence_levels": "x"}, False), ({"holidays": ["2026-12-25"]}, True)]:
        for schema in (full, small):
            valid = jsonschema.Draft202012Validator(schema).is_valid(instance)
            assert valid is ok, (instance, schema is small)
    out = compact_schema(RiskScore.model_json_schema(by_alias=True), output=True, describe=False)
    assert '"description"' not in json.dumps(out) and '"required"' not in json.dumps(out)
    jsonschema.Draft202012Validator.check_schema(out)


# ---- results on the demo -------------------------------------------------------------------------------------


def demo_arguments(tool: str) -> dict[str, Any]:
    """The example call of ``tool`` adapted to the demo workspace (repositories webapp and payments-api)."""
    args = {k: ("webapp" if k == "repo" else v) for k, v in TOOL_EXAMPLES[tool].items()}
    if tool == "get_contributor_summary":
        args["contributor"] = "priya.raman.dev@gmail.com"
    return args


async def test_default_results_are_compact_and_small_on_the_demo(demo_store: Path) -> None:
    """Every tool of the default toolsets, called as its example does on the demo: the text is the structured
    content as compact JSON, and both stay within 8,000 characters; so does a release-range risk score, whose
    commits page (riskiest first) and a forecast with every confidence level."""
    engine = LocalEngine(Settings(db=demo_store, sync_max_age_seconds=1e9))
    chosen = parse_toolsets(None)
    sizes: dict[str, int] = {}
    try:
        async with Client(build_server(Runtime(engine, sync_on_start=False, toolsets=chosen))) as client:
            tools = {t.name: t for t in (await client.list_tools()).tools}
            calls = [(name, demo_arguments(name)) for name in sorted(tools)]
            calls += [
                ("score_pr_risk", {"repo": "webapp", "base": "v2.11.4", "head": "HEAD"}),
                ("forecast_delivery", {"items": 40, "repo": "webapp", "confidence_levels": [10, 20, 30, 50, 70, 80, 85, 90, 95]}),
                ("list_deployments", {"period": "ytd"}),
                ("get_changelog", {"items_per_entry": 5}),
            ]
            for name, args in calls:
                result = await client.call_tool(name, args)
                assert not result.is_error, (name, result.content)
                text = result.content[0].text
                assert json.loads(text) == result.structured_content, name
                assert text == json.dumps(result.structured_content, separators=(",", ":"), ensure_ascii=False), name
                assert len(text) <= RESULT_BUDGET_CHARS, (name, args, len(text))
                jsonschema.validate(result.structured_content, tools[name].output_schema)
                sizes[f"{name}{'' if args == demo_arguments(name) else '*'}"] = len(text)
            first = (await client.call_tool("score_pr_risk", {"repo": "webapp", "base": "v2.11.4", "limit": 40})).structured_content
            second = (await client.call_tool("score_pr_risk", {"repo": "webapp", "base": "v2.11.4", "limit": 40,
                                                               "cursor": first["commits_cursor"]})).structured_content
    finally:
        engine.store.close()
    assert first["commits_total"] > 80 and len(first["commits"]) == 40 and first["commits_cursor"]
    assert first["risk_score"] == second["risk_score"]
    shas = [c["sha"] for c in first["commits"]] + [c["sha"] for c in second["commits"]]
    assert len(set(shas)) == len(shas) == 80
    scores = [c["risk_score"] for c in first["commits"] + second["commits"]]
    known = [s for s in scores if s is not None]
    assert known == sorted(known, reverse=True) and len(known) > 60  # riskiest first, across the pages
    print("result characters:", json.dumps(sizes))


async def test_a_tool_of_a_toolset_not_offered_says_how_to_get_it(tmp_path) -> None:
    """Calling a tool the server has but does not offer names its toolset and the option; an unknown name is
    still answered with the closest offered tool."""
    engine = LocalEngine(Settings(db=tmp_path / "e.db", sync_max_age_seconds=3600))
    try:
        runtime = Runtime(engine, sync_on_start=False, toolsets=parse_toolsets("dora"))
        async with Client(build_server(runtime)) as client:
            offered = {t.name for t in (await client.session.list_tools()).tools}
            assert "get_health" not in offered and "generate_report" not in offered and "get_dora" in offered
            for name, toolset in (("get_health", "health"), ("generate_report", "reports"), ("get_flow_metrics", "flow")):
                result = await client.call_tool(name, {})
                assert result.is_error
                text = result.content[0].text
                assert f"'{toolset}' toolset" in text and f"--toolsets default,{toolset}" in text, text
            result = await client.call_tool("get_dorra", {})
            assert result.is_error and "get_dora" in result.content[0].text
            assert "toolset" not in result.content[0].text
    finally:
        engine.store.close()


def test_the_instructions_name_every_tool() -> None:
    """The server's instructions map questions to tools: every tool the code declares is named there (a tool added
    without a line would be invisible to an agent reading them)."""
    missing = sorted(t for t in declared_toolsets() if not re.search(rf"\b{t}\b", INSTRUCTIONS))
    assert not missing, f"not named in engmetrics.server.app.INSTRUCTIONS: {missing}"
