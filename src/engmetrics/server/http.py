"""Streamable HTTP serving, stateless: DNS-rebinding protection on every loopback address, a bearer token everywhere
else."""

from __future__ import annotations

import hmac
import ipaddress
import json
import logging
from typing import Any

from mcp.server.mcpserver import MCPServer
from mcp.server.transport_security import TransportSecuritySettings
from starlette.types import ASGIApp, Receive, Scope, Send

from engmetrics.errors import InvalidInput

log = logging.getLogger(__name__)


def is_loopback(host: str) -> bool:
    """Whether ``host`` is a loopback address or 'localhost'."""
    if host in ("localhost", "localhost."):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


class BearerTokenMiddleware:
    """Reject every HTTP request whose ``Authorization: Bearer`` does not match the token (401)."""

    def __init__(self, app: ASGIApp, token: str) -> None:
        self.app = app
        self._token = token.encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        auth = headers.get(b"authorization", b"")
        scheme, _, supplied = auth.partition(b" ")
        if scheme.lower() != b"bearer" or not hmac.compare_digest(supplied.strip(), self._token):
            body = json.dumps(
                {"error": {"type": "authentication_error", "code": "invalid_token",
                           "message": "Send Authorization: Bearer <ENGMETRICS_HTTP_TOKEN>."}}
            ).encode()
            await send({"type": "http.response.start", "status": 401,
                        "headers": [(b"content-type", b"application/json"), (b"www-authenticate", b"Bearer")]})
            await send({"type": "http.response.body", "body": body})
            return
        await self.app(scope, receive, send)


def rebinding_protection(host: str) -> TransportSecuritySettings:
    """Host/Origin checks for a server bound to the loopback address ``host`` (any of 127.0.0.0/8, ::1,
    localhost): requests must name that address, another loopback literal or localhost (any port), so a
    page whose DNS name was rebound to the address (``Host: evil.example.com``) is refused (421/403)."""
    names = {"localhost", "127.0.0.1", "[::1]"}
    bare = host.strip("[]")
    try:
        ip = ipaddress.ip_address(bare)
    except ValueError:
        ip = None
    if ip is not None:
        names.add(f"[{ip.compressed}]" if ip.version == 6 else ip.compressed)
        if ip.version == 6:
            names.add(f"[{bare}]")
    elif bare:
        names.add(bare)
    hosts = sorted(names)
    return TransportSecuritySettings(
        enable_dns_rebinding_protection=True,
        allowed_hosts=hosts + [f"{h}:*" for h in hosts],
        allowed_origins=[f"{scheme}://{h}{port}" for scheme in ("http", "https") for h in hosts for port in ("", ":*")],
    )


def http_app(mcp: MCPServer[Any], host: str, token: str | None) -> ASGIApp:
    """The ASGI app serving MCP at /mcp, stateless: no session is kept between requests (protocol 2026-07-28 carries
    everything in each request; the older handshake's clients are served per request too), so several server
    processes behind a plain load balancer answer any request, task polls included (`engmetrics.server.tasks`).

    Bound to a loopback address (any of 127.0.0.0/8, ::1, localhost) it checks Host/Origin against DNS
    rebinding (`rebinding_protection`); off loopback a token is required (`InvalidInput` without one) and
    every request must carry it.
    """
    if not is_loopback(host) and not token:
        raise InvalidInput(
            f"Refusing to serve on {host} without a token: set ENGMETRICS_HTTP_TOKEN (clients then send "
            "'Authorization: Bearer <token>'), or bind a loopback address such as 127.0.0.1."
        )
    security = rebinding_protection(host) if is_loopback(host) else None
    app = mcp.streamable_http_app(streamable_http_path="/mcp", host=host, transport_security=security,
                                  stateless_http=True)
    if token:
        return BearerTokenMiddleware(app, token)
    return app
