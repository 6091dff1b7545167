"""`serve --transport http` against DNS rebinding on every loopback address: real servers on 127.0.0.2 and
::1, real requests (httpx2) with a foreign Host or Origin refused, and a real MCP client served."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import anyio
import httpx2
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

from engmetrics.server.http import rebinding_protection

INITIALIZE = {"jsonrpc": "2.0", "id": 1, "method": "initialize",
              "params": {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}}
MCP_HEADERS = {"Content-Type": "application/json", "Accept": "application/json, text/event-stream"}


def _free_port(host: str) -> int:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host


def _env(db: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ENGMETRICS_")}
    env["ENGMETRICS_DB"] = str(db)
    return env


def _serve(host: str, workspace) -> Iterator[str]:  # type: ignore[no-untyped-def]
    port = _free_port(host)
    proc = subprocess.Popen(
        [sys.executable, "-m", "engmetrics.cli.main", "serve", "--transport", "http", "--host", host, "--port", str(port),
         "--repo", str(workspace.repo.path), "--no-sync"],
        env=_env(workspace.db), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    deadline = time.time() + 30
    while time.time() < deadline:
        with socket.socket(family) as s:
            if s.connect_ex((host, port)) == 0:
                break
        if proc.poll() is not None:
            raise AssertionError(proc.stderr.read().decode())  # type: ignore[union-attr]
        time.sleep(0.1)
    try:
        yield f"http://{_url_host(host)}:{port}/mcp"
    finally:
        proc.terminate()
        try:
            out, _ = proc.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, _ = proc.communicate()
        assert out == b"", "the HTTP server wrote to stdout"


@pytest.fixture(params=["127.0.0.2", "::1"])
def loopback_server(request, workspace_copy) -> Iterator[str]:  # type: ignore[no-untyped-def]
    host = request.param
    try:
        with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as s:
            s.bind((host, 0))
    except OSError:
        pytest.skip(f"{host} is not available on this machine")
    yield from _serve(host, workspace_copy)


def test_a_rebound_name_is_refused_on_every_loopback_address(loopback_server: str) -> None:
    url = loopback_server
    evil_host = httpx2.post(url, json=INITIALIZE, headers={**MCP_HEADERS, "Host": "evil.example.com"}, timeout=30)
    assert evil_host.status_code == 421, evil_host.text
    evil_origin = httpx2.post(url, json=INITIALIZE, headers={**MCP_HEADERS, "Origin": "http://evil.example.com"},
                              timeout=30)
    assert evil_origin.status_code == 403, evil_origin.text
    evil_port_trick = httpx2.post(url, json=INITIALIZE, timeout=30,
                                  headers={**MCP_HEADERS, "Host": "127.0.0.2.evil.example.com:80"})
    assert evil_port_trick.status_code == 421
    own = httpx2.post(url, json=INITIALIZE, headers=MCP_HEADERS, timeout=30)
    assert own.status_code == 200, own.text
    via_localhost = httpx2.post(url, json=INITIALIZE, timeout=30,
                                headers={**MCP_HEADERS, "Host": "localhost:1234", "Origin": "http://localhost:1234"})
    assert via_localhost.status_code == 200

    async def call() -> dict:  # a real MCP client, naming the address the server is bound to
        async with httpx2.AsyncClient(timeout=30) as http:
            async with Client(streamable_http_client(url, http_client=http)) as client:
                return (await client.call_tool("list_repositories", {})).structured_content

    assert anyio.run(call)["repositories"][0]["name"] == "sample"


@pytest.mark.parametrize("host", ["127.0.0.2", "127.255.0.9", "::1", "0:0:0:0:0:0:0:1", "localhost"])
def test_protection_names_the_bound_address_and_loopback_literals_only(host: str) -> None:
    settings = rebinding_protection(host)
    assert settings.enable_dns_rebinding_protection
    bound = f"[{host}]" if ":" in host else host
    if host == "0:0:0:0:0:0:0:1":
        assert "[::1]:*" in settings.allowed_hosts
    assert f"{bound}:*" in settings.allowed_hosts and "localhost:*" in settings.allowed_hosts
    assert all("evil" not in h and "*" not in h.rstrip(":*") for h in settings.allowed_hosts)
    assert f"http://{bound}:*" in settings.allowed_origins
