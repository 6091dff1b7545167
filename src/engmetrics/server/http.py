"""Streamable HTTP serving: DNS-rebinding protection on loopback, a bearer token everywhere else."""

from __future__ import annotations

import hmac
import ipaddress
import json
import logging
from typing import Any

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


def http_app(mcp: Any, host: str, token: str | None) -> ASGIApp:
    """The ASGI app serving MCP at /mcp. Off loopback a token is required (`InvalidInput` without one)."""
    app = mcp.streamable_http_app(streamable_http_path="/mcp", host=host)
    if not is_loopback(host) and not token:
        raise InvalidInput(
            f"Refusing to serve on {host} without a token: set ENGMETRICS_HTTP_TOKEN (clients then send "
            "'Authorization: Bearer <token>'), or bind 127.0.0.1."
        )
    if token:
        return BearerTokenMiddleware(app, token)
    return app
