"""Webhook delivery of alert notifications: a signed JSON POST per queued delivery, retried with backoff, every
attempt logged. A 2xx answer delivers; anything else (another status, a timeout, a refused connection) is retried
after the next wait of ENGMETRICS_ALERTS_RETRY_SECONDS, and given up ('failed') when the waits run out.

Several processes may share the store (API workers, sync workers, ``serve``): each claims a due delivery before it
sends it (`queries.claim`), so only one of them sends it; the claim lasts `lease_seconds` — longer than a request
may take, which `send_due` bounds — and is released when the attempt is recorded. A process that dies mid-send
leaves its claim to run out; another process then claims the delivery and tries it again. Times are Unix seconds."""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable

import anyio
import httpx2

from engmetrics.areas.alerts import queries
from engmetrics.areas.alerts.metrics.signature import HEADER, header_value
from engmetrics.store.db import Store

log = logging.getLogger(__name__)

SecretOf = Callable[[str, str], str | None]
"""(alert id, url) → the signing secret of that webhook (None: unsigned)."""

REQUEST_PHASES = 4
"""A request's phases each bounded by the timeout (pool, connect, write, read): one request takes at most this many
timeouts (`send_due` cuts it there)."""

LEASE_MARGIN_SECONDS = 30
"""What a claim's lease allows beyond the longest request: reading the secret, recording the attempt."""


def request_seconds(timeout_seconds: float) -> float:
    """The longest one webhook request may take, in seconds."""
    return REQUEST_PHASES * timeout_seconds


def lease_seconds(timeout_seconds: float) -> int:
    """How long a claimed delivery stays its process's (seconds): the longest request and a margin."""
    return math.ceil(request_seconds(timeout_seconds)) + LEASE_MARGIN_SECONDS


def _error_text(exc: Exception) -> str:
    if isinstance(exc, httpx2.TimeoutException):
        return "timeout"
    return f"{type(exc).__name__}: {exc}"[:300]


async def send_due(store: Store, client: httpx2.AsyncClient, secret_of: SecretOf, retry_seconds: list[float],
                   claimant: str, timeout_seconds: float) -> int:
    """Claim, as ``claimant``, and try once every due delivery no other process holds; returns how many were delivered.
    ``timeout_seconds`` is the client's timeout (the claim's lease allows for the longest request)."""
    now = int(time.time())
    due = await store.run(lambda: queries.due(store.read(), now))
    delivered = 0
    for d in due:
        def take(d: queries.DeliveryRow = d) -> bool:
            with store.tx() as conn:
                at = int(time.time())
                return queries.claim(conn, d, claimant, at, at + lease_seconds(timeout_seconds))

        if not await store.run(take):
            continue  # another process claimed it (or tried it) since we read it: that one sends it
        body = d.payload.encode()
        headers = {"Content-Type": "application/json", "User-Agent": "engmetrics-alerts",
                   "Engmetrics-Event": f"alert.{d.transition}", "Engmetrics-Delivery": d.id}
        secret = await store.run(secret_of, d.alert_id, d.url)
        at = int(time.time())
        if secret:
            headers[HEADER] = header_value(secret, at, body)
        status: int | None = None
        error: str | None = "timeout"  # unless the request ends within its bound (the claim's lease covers it)
        with anyio.move_on_after(request_seconds(timeout_seconds)):
            try:
                response = await client.post(d.url, content=body, headers=headers)
                status = response.status_code
                error = None if 200 <= status < 300 else f"HTTP {status}"
            except httpx2.HTTPError as exc:
                error = _error_text(exc)
        attempt = d.attempts + 1
        if error is None:
            outcome, nxt = "delivered", at
        elif attempt > len(retry_seconds):
            outcome, nxt = "failed", at
        else:
            outcome, nxt = "pending", at + math.ceil(retry_seconds[attempt - 1])

        def record(d: queries.DeliveryRow = d, attempt: int = attempt, outcome: str = outcome, nxt: int = nxt,
                   status: int | None = status, error: str | None = error) -> bool:
            with store.tx() as conn:
                return queries.record_attempt(conn, d.id, claimant, attempt, at, status, error, outcome, nxt)

        if not await store.run(record):
            log.warning("alert delivery %s: attempt %d not recorded, the delivery is no longer this process's (its "
                        "claim ran out or its alert was deleted)", d.id, attempt)
        elif outcome == "delivered":
            delivered += 1
    return delivered
