"""`engmetrics serve` start-up: the handshake does not wait for the engine and the tools, which load in a
worker thread; a start-up error (bad repository, bad configuration) exits 2 with the reason on stderr.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import anyio
import pytest
from mcp import Client

from engmetrics.config import Settings
from engmetrics.engine.local import LocalEngine
from engmetrics.errors import DataError
from engmetrics.server.app import build_deferred_server, build_server
from engmetrics.server.runtime import Runtime

INITIALIZE = {"jsonrpc": "2.0", "id": 1, "method": "initialize",
              "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}}


@pytest.mark.parametrize("mode", ["legacy", "auto"])
async def test_handshake_answers_before_the_tools_load(workspace_copy, mode: str) -> None:
    release = threading.Event()
    loads: list[int] = []

    def load() -> Runtime:
        assert release.wait(30), "the test never released the load"
        loads.append(1)
        return Runtime(LocalEngine(Settings(db=workspace_copy.db)), sync_on_start=False)

    server = build_deferred_server(load)
    async with Client(server, mode=mode) as client:  # the handshake completes while load() is blocked
        assert "get_dora" in (client.instructions or "")
        assert not server.registered.is_set() and not loads
        listed: list[str] = []

        async def list_tools() -> None:
            listed.extend(t.name for t in (await client.list_tools()).tools)

        async with anyio.create_task_group() as tg:
            tg.start_soon(list_tools)
            await anyio.sleep(0.2)
            assert listed == []  # tools/list waits for the registration...
            release.set()
        # ...and then lists every tool the eager server lists, which answer.
        eager = build_server(Runtime(LocalEngine(Settings(db=workspace_copy.db)), sync_on_start=False))
        assert sorted(listed) == sorted(t.name for t in await eager.list_tools())
        result = await client.call_tool("list_repositories", {})
        assert not result.is_error and result.structured_content["repositories"][0]["name"] == "sample"
        templates = await client.list_resource_templates()
        assert any(t.uri_template.startswith("changelog://") for t in templates.resource_templates)
        assert (await client.list_prompts()).prompts
    assert loads == [1]


async def test_a_load_error_is_reported_and_stops_the_server(tmp_path: Path) -> None:
    errors: list[str] = []

    def load() -> Runtime:
        raise DataError("The path '/nowhere' does not exist. Give the path of a git repository (a clone).")

    server = build_deferred_server(load, on_error=errors.append)
    try:
        async with Client(server, mode="legacy"):
            with anyio.fail_after(60):
                await server.registered.wait()
    except Exception as exc:  # noqa: BLE001 - the server stops itself; the handshake may see it close first
        assert "closed" in str(exc).lower() or "closed" in repr(exc).lower(), exc
    assert errors == ["The path '/nowhere' does not exist. Give the path of a git repository (a clone)."]
    assert server.load_error == errors[0]


def _serve(args: list[str], env: dict[str, str], stdin: bytes | None) -> subprocess.CompletedProcess[bytes]:
    """Run `engmetrics serve ARGS` with stdin kept open (as an MCP client does) unless ``stdin`` closes it."""
    proc = subprocess.Popen([sys.executable, "-m", "engmetrics.cli.main", "serve", *args], env=env,
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdin is not None
    if stdin is not None:
        proc.stdin.write(stdin)
        proc.stdin.flush()
    try:
        proc.wait(timeout=60)
    finally:
        proc.kill()
    out, err = proc.stdout.read(), proc.stderr.read()  # type: ignore[union-attr]
    proc.stdin.close()
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ENGMETRICS_")}
    return {**env, "ENGMETRICS_DB": str(tmp_path / "s.db"), **extra}


def test_serve_with_a_bad_repository_exits_2_while_the_client_holds_stdin(tmp_path: Path) -> None:
    done = _serve(["--repo", str(tmp_path / "missing")], _env(tmp_path), json.dumps(INITIALIZE).encode() + b"\n")
    assert done.returncode == 2
    assert b"does not exist" in done.stderr and b"Traceback" not in done.stderr
    for line in done.stdout.splitlines():  # stdout carries nothing but protocol messages
        assert json.loads(line)["jsonrpc"] == "2.0"


def test_serve_with_bad_configuration_exits_2_naming_the_setting(tmp_path: Path) -> None:
    done = _serve([], _env(tmp_path, ENGMETRICS_SYNC_MAX_AGE_SECONDS="soon"), None)
    assert done.returncode == 2
    assert b"ENGMETRICS_SYNC_MAX_AGE_SECONDS" in done.stderr and b"soon" not in done.stderr
    assert done.stdout == b""


def test_serve_usage(tmp_path: Path) -> None:
    helped = _serve(["--help"], _env(tmp_path), None)
    assert helped.returncode == 0 and b"--transport" in helped.stdout
    wrong = _serve(["--transport", "carrier-pigeon"], _env(tmp_path), None)
    assert wrong.returncode == 1 and b"invalid choice" in wrong.stderr and wrong.stdout == b""
