"""Property: whatever arguments an agent sends — drawn from each tool's own inputSchema, then twisted (wrong
types, control characters, huge strings, out-of-range numbers, unknown keys) — every answer through a real
MCP client session is a result or a clear tool error: never an internal error, a protocol error or a
traceback, and never pydantic's own wording."""

from __future__ import annotations

from typing import Any

from anyio.from_thread import start_blocking_portal
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from mcp import Client

from engmetrics.config import Settings
from engmetrics.engine.local import LocalEngine
from engmetrics.server.app import build_server
from engmetrics.server.runtime import Runtime

EXAMPLES = 120  # bounded: a few seconds on the sample workspace
FORBIDDEN = ("Traceback", "internal error", "Input should be", "Value error,", "validation error for", "(got str)",
             "Error executing tool")

REALISTIC_TEXT = st.sampled_from([
    "sample", "last_7_days", "last_30_days", "ytd", "7d", "now", "2025-02-01", "2026-13-45", "", " ", "HEAD",
    "main", "../../etc", "~", "sample/../sample", "ada@example.com", "week-of-2025-02-10", "'; DROP TABLE commits; --",
])
HOSTILE_TEXT = st.one_of(
    st.text(alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=30),
    st.text(alphabet=st.sampled_from("\x00\x01\x1b\x7f\t\n\r a/é🙂"), min_size=1, max_size=12),
    st.builds(lambda n, c: c * n, st.integers(900, 12_000), st.sampled_from(["x", "/", "é", "a\x00"])),
)
ANY_JSON = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(-10**20, 10**20), st.floats(allow_nan=True, allow_infinity=True),
              HOSTILE_TEXT),
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=5), inner, max_size=3)),
    max_leaves=6,
)


def conforming(schema: dict[str, Any]) -> st.SearchStrategy[Any]:
    """Values the JSON schema allows (with realistic strings)."""
    if "anyOf" in schema:
        return st.one_of([conforming(s) for s in schema["anyOf"]])
    if "enum" in schema:
        return st.sampled_from(schema["enum"])
    kind = schema.get("type")
    if kind == "string":
        return st.one_of(REALISTIC_TEXT, st.text(max_size=12))
    if kind == "integer":
        return st.integers(int(schema.get("minimum", -1000)), int(schema.get("maximum", 100_000)))
    if kind == "number":
        return st.floats(schema.get("minimum", -1e6), schema.get("maximum", 1e6), allow_nan=False)
    if kind == "boolean":
        return st.booleans()
    if kind == "null":
        return st.none()
    if kind == "array":
        return st.lists(conforming(schema.get("items", {})), max_size=4)
    return ANY_JSON


def arguments(schema: dict[str, Any]) -> st.SearchStrategy[dict[str, Any]]:
    """Arguments for a tool: some properties, each conforming or hostile, sometimes an unknown key."""
    props = schema.get("properties", {})
    base = st.fixed_dictionaries({}, optional={
        name: st.one_of(conforming(prop), conforming(prop), ANY_JSON) for name, prop in props.items()
    })
    extra = st.dictionaries(st.one_of(st.sampled_from(["perid", "repos", "limt", "x"]), HOSTILE_TEXT), ANY_JSON,
                            max_size=1)
    return st.one_of(base, base, st.builds(lambda a, b: {**b, **a}, base, extra))


def test_no_argument_ever_gets_an_internal_error(workspace_copy) -> None:
    engine = LocalEngine(Settings(db=workspace_copy.db, sync_max_age_seconds=3600))
    server = build_server(Runtime(engine, sync_on_start=False))
    seen: dict[str, int] = {}
    with start_blocking_portal() as portal, portal.wrap_async_context_manager(Client(server)) as client:
        tools = {t.name: t.input_schema for t in portal.call(client.list_tools).tools}
        calls = st.sampled_from(sorted(tools)).flatmap(lambda name: st.tuples(st.just(name), arguments(tools[name])))

        @settings(max_examples=EXAMPLES, deadline=None, database=None,
                  suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
        @given(calls)
        def check(call: tuple[str, dict[str, Any]]) -> None:
            name, args = call
            seen[name] = seen.get(name, 0) + 1
            result = portal.call(client.call_tool, name, args)  # a protocol error would raise here
            text = " ".join(getattr(c, "text", "") for c in result.content)
            for word in FORBIDDEN:
                assert word not in text, (name, args, text)
            if result.is_error:
                assert text.strip(), (name, args)

        check()
    engine.store.close()
    assert len(seen) >= len(tools) // 2, seen  # the draw reached most tools
