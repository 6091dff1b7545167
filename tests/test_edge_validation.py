"""Input validation at the edge, the same on MCP and REST: unknown arguments refused with the closest valid
name, control characters and over-long strings refused with a clear message (never an internal error),
request bodies capped, errors in the project's words (no pydantic wording), the `to` the user sent echoed."""

from __future__ import annotations

from pathlib import Path

import pytest
from mcp import Client

from engmetrics.api.app import API_VERSION, build_api
from engmetrics.config import Settings
from engmetrics.engine.local import LocalEngine
from engmetrics.server.app import build_server
from engmetrics.server.runtime import Runtime
from engmetrics.validation import MAX_BODY_BYTES, MAX_STRING_CHARS
from test_api import Served, assert_envelope, client, copy_store

PYDANTIC_WORDS = ("Input should be", "Value error,", "(got str)", "(got int)", "validation error for", "pydantic",
                  "type=", "Arguments\n")


def _server(db: Path):  # type: ignore[no-untyped-def]
    engine = LocalEngine(Settings(db=db, sync_max_age_seconds=3600))
    return build_server(Runtime(engine, sync_on_start=False)), engine


def _clean(text: str) -> None:
    assert "Traceback" not in text and "internal error" not in text
    for word in PYDANTIC_WORDS:
        assert word not in text, (word, text)


# ---- MCP -----------------------------------------------------------------------------------------------------


async def test_every_tool_schema_is_closed_and_unknown_arguments_get_the_closest_name(workspace_copy) -> None:
    server, engine = _server(workspace_copy.db)
    async with Client(server) as c:
        tools = (await c.list_tools()).tools
        for tool in tools:
            assert tool.input_schema.get("additionalProperties") is False, tool.name
        result = await c.call_tool("get_dora", {"perid": "last_7_days"})
        assert result.is_error
        assert "unknown argument 'perid' — did you mean 'period'?" in result.content[0].text.lower()
        result = await c.call_tool("list_deployments", {"period": "last_7_days", "limt": 5})
        assert result.is_error and "did you mean 'limit'?" in result.content[0].text
        result = await c.call_tool("list_repositories", {"verbose": True})
        assert result.is_error and "It takes no arguments" in result.content[0].text
        result = await c.call_tool("get_dorra", {})
        assert result.is_error and "did you mean 'get_dora'?" in result.content[0].text
        # The closed schema does not break what worked: every alias (from) still passes.
        ok = await c.call_tool("get_dora", {"from": "2025-01-01", "to": "now"})
        assert not ok.is_error, ok.content
    engine.store.close()


async def test_hostile_strings_in_every_repo_argument_are_invalid_input(workspace_copy) -> None:
    server, engine = _server(workspace_copy.db)
    async with Client(server) as c:
        tools = [t for t in (await c.list_tools()).tools if "repo" in t.input_schema.get("properties", {})]
        assert len(tools) >= 7
        for tool in tools:
            nul = await c.call_tool(tool.name, {"repo": "sam\x00ple"})
            assert nul.is_error, tool.name
            assert "control character (U+0000 at position 3)" in nul.content[0].text, (tool.name, nul.content[0].text)
            huge = await c.call_tool(tool.name, {"repo": "x" * 10_000})
            assert huge.is_error and f"at most {MAX_STRING_CHARS:,}" in huge.content[0].text, tool.name
            # Just under the bound, a name no file system accepts (ENAMETOOLONG) is simply unknown.
            long_name = await c.call_tool(tool.name, {"repo": "y" * 900})
            assert long_name.is_error, tool.name
            _clean(long_name.content[0].text)
    engine.store.close()


@pytest.mark.parametrize(
    ("tool", "args", "needles"),
    [
        ("get_dora", {"period": 5}, ["`period` must be text (got 5)"]),
        ("list_deployments", {"limit": "lots"}, ["`limit` must be a whole number (got 'lots')"]),
        ("list_deployments", {"limit": 500}, ["`limit` must be at most 100 (got 500)"]),
        ("get_activity", {"type": "party"}, ["`type` must be one of", "(got 'party')"]),
        ("get_contributor_summary", {}, ["`contributor` is required"]),
        ("get_contributor_summary", {"contributor": "   "}, ["contributor must be an email or a name"]),
        ("forecast_delivery", {"items": 3, "holidays": ["2026-12-25"] * 1001}, ["`holidays` has 1,001 items"]),
        ("get_dora", {"from": "2026-10-02", "to": "2026-10-01"}, ["from='2026-10-02'", "to='2026-10-01'"]),
    ],
)
async def test_errors_are_in_our_words(workspace_copy, tool: str, args: dict, needles: list[str]) -> None:
    server, engine = _server(workspace_copy.db)
    async with Client(server) as c:
        result = await c.call_tool(tool, args)
    engine.store.close()
    assert result.is_error
    text = result.content[0].text
    for needle in needles:
        assert needle in text, (needle, text)
    _clean(text)
    assert "Error executing tool" not in text
    assert "2026-10-02T00:00:00" not in text  # the inclusive `to` is echoed as sent, not as held internally


# ---- REST ----------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def api(sample_workspace, tmp_path_factory):  # type: ignore[no-untyped-def]
    db = copy_store(sample_workspace.db, tmp_path_factory.mktemp("edge-api"))
    engine = LocalEngine(Settings(db=db, sync_max_age_seconds=3600))
    key = engine.keys.create("edge", ["*"], "enterprise", api_version=API_VERSION).secret
    with Served(build_api(engine)) as served:
        yield served.url, key
    engine.store.close()


def test_rest_unknown_parameter_gets_the_closest_name(api) -> None:
    url, key = api
    with client(url, key) as c:
        err = assert_envelope(c.get("/v1/metrics/dora", params={"perid": "7d"}), 400, "invalid_request_error",
                              "parameter_unknown", "perid")
    assert "did you mean 'period'?" in err["message"]


def test_rest_hostile_strings_are_400_not_500(api) -> None:
    url, key = api
    with client(url, key) as c:
        nul = assert_envelope(c.get("/v1/metrics/dora", params={"repo": "a\x00b"}), 400, "invalid_request_error",
                              "parameter_invalid", "repo")
        assert "control character" in nul["message"]
        huge = assert_envelope(c.get("/v1/risk/changes", params={"repo": "x" * 5000}), 400, "invalid_request_error",
                               "parameter_invalid", "repo")
        assert "5,000 characters" in huge["message"]
        bad_name = c.get("/v1/metrics/dora", params={"re\x01po": "a"})
        assert bad_name.status_code == 400 and "Traceback" not in bad_name.text


def test_rest_validation_errors_are_in_our_words(api) -> None:
    url, key = api
    with client(url, key) as c:
        r = c.get("/v1/metrics/dora", params={"benchmark_year": "soon"})
    err = assert_envelope(r, 422, "invalid_request_error", "parameter_invalid", "benchmark_year")
    _clean(err["message"])
    assert "`benchmark_year` must be a whole number (got 'soon')" in err["message"]


def test_rest_post_body_is_capped_and_closed(api) -> None:
    url, key = api
    with client(url, key) as c:
        big = c.post("/v1/reports/generate", content=b'{"audience": "team", "pad": "' + b"x" * (MAX_BODY_BYTES + 10) + b'"}',
                     headers={"Content-Type": "application/json"})
        assert_envelope(big, 413, "invalid_request_error", "body_too_large")
        unknown = c.post("/v1/reports/generate", json={"audience": "team", "perid": "last_7_days"})
        err = assert_envelope(unknown, 400, "invalid_request_error", "parameter_unknown", "perid")
        assert "did you mean 'period'?" in err["message"]
        nul = c.post("/v1/reports/generate", json={"audience": "team", "repo": "\x00"})
        assert_envelope(nul, 400, "invalid_request_error", "parameter_invalid", "repo")
