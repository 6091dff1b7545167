"""The remote engine's deadline per call: a stand-in API on 127.0.0.1 that never answers must not hold a
tool call past the configured deadline, and the error says what was tried and for how long."""

from __future__ import annotations

import re

import anyio
from mcp import Client
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from engmetrics.config import Settings
from engmetrics.engine.remote.engine import RemoteEngine
from engmetrics.engine.remote.http import RemoteOptions
from engmetrics.errors import RemoteError
from engmetrics.areas.dora.models import DoraQuery
from engmetrics.server.app import build_server
from engmetrics.server.runtime import Runtime
from test_api import Served


def hanging_api(seen: list[str], failures_first: int = 0) -> Starlette:
    """/v1/metrics/dora answers 503 ``failures_first`` times, then hangs (answers nothing until the client leaves)."""

    async def dora(request: Request) -> Response:
        seen.append(request.url.path)
        if len(seen) <= failures_first:
            return JSONResponse({"error": {"message": "warming up"}}, status_code=503)
        while not await request.is_disconnected():  # hang until the client gives up
            await anyio.sleep(0.05)
        return Response(status_code=499)

    return Starlette(routes=[Route("/v1/metrics/dora", dora)])


async def test_a_hung_server_is_given_up_at_the_deadline_with_every_attempt_named() -> None:
    seen: list[str] = []
    with Served(hanging_api(seen, failures_first=1)) as api:
        options = RemoteOptions(timeout_seconds=0.6, connect_timeout_seconds=0.5, max_retries=10, backoff_seconds=0.05,
                                max_backoff_seconds=0.1, deadline_seconds=1.5)
        engine = RemoteEngine(Settings(api_url=api.url, api_key="emk_test"), options=options)
        try:
            try:
                await engine.dora.get_dora(DoraQuery())
                raise AssertionError("a hung server must not answer")
            except RemoteError as exc:
                message = exc.message
        finally:
            await engine.aclose()
    # With ten retries allowed, only the deadline can have ended the call this early (1 + up to 3 attempts).
    assert "did not answer GET /v1/metrics/dora in time" in message
    assert "ENGMETRICS_REMOTE_DEADLINE_SECONDS=1.5" in message
    assert "1: HTTP 503" in message and "no answer within 0.6 s" in message
    attempts = int(re.search(r"with (\d+) attempts?", message).group(1))  # type: ignore[union-attr]
    assert attempts == len(seen) and 2 <= attempts < 11
    spent = float(re.search(r"gave up after ([\d.]+) s", message).group(1))  # type: ignore[union-attr]
    # It says how long it tried: about the deadline (it may stop a little early when what is left is shorter than
    # an attempt's timeout, or end a little late on a loaded machine), never ten attempts' worth (6 s).
    assert 1.0 <= spent <= 3.0
    assert "emk_test" not in message


async def test_the_deadline_comes_from_the_setting_and_reaches_the_agent_as_a_tool_error() -> None:
    seen: list[str] = []
    with Served(hanging_api(seen)) as api:
        settings = Settings(api_url=api.url, api_key="emk_test", remote_deadline_seconds=1.0)
        engine = RemoteEngine(settings)
        assert engine.options.deadline_seconds == 1.0
        async with Client(build_server(Runtime(engine, sync_on_start=False))) as client:
            result = await client.call_tool("get_dora", {"period": "last_30_days"})
        await engine.aclose()
    assert result.is_error
    text = result.content[0].text
    assert "in time" in text and "ENGMETRICS_REMOTE_DEADLINE_SECONDS=1" in text and "1 attempt" in text
    assert "Traceback" not in text


def test_the_default_deadline_is_well_under_client_timeouts() -> None:
    assert Settings().remote_deadline_seconds == 20.0
    assert RemoteOptions().deadline_seconds == 20.0 and RemoteOptions().timeout_seconds < 20.0
