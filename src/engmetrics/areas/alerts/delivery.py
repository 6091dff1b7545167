"""Webhook delivery of alert notifications: a signed JSON POST per queued delivery, retried with backoff, every
attempt logged. A 2xx answer delivers; anything else (another status, a timeout, a refused connection) is retried
after the next wait of ENGMETRICS_ALERTS_RETRY_SECONDS, and given up ('failed') when the waits run out."""

from __future__ import annotations

import math
import time
from collections.abc import Callable

import httpx2

from engmetrics.areas.alerts import queries
from engmetrics.areas.alerts.metrics.signature import HEADER, header_value
from engmetrics.store.db import Store

SecretOf = Callable[[str, str], str | None]
"""(alert id, url) → the signing secret of that webhook (None: unsigned)."""


def _error_text(exc: Exception) -> str:
    if isinstance(exc, httpx2.TimeoutException):
        return "timeout"
    return f"{type(exc).__name__}: {exc}"[:300]


async def send_due(store: Store, client: httpx2.AsyncClient, secret_of: SecretOf, retry_seconds: list[float]) -> int:
    """Try every due delivery once; returns how many were delivered."""
    now = int(time.time())
    due = await store.run(lambda: queries.due(store.read(), now))
    delivered = 0
    for d in due:
        body = d.payload.encode()
        headers = {"Content-Type": "application/json", "User-Agent": "engmetrics-alerts",
                   "Engmetrics-Event": f"alert.{d.transition}", "Engmetrics-Delivery": d.id}
        secret = await store.run(secret_of, d.alert_id, d.url)
        at = int(time.time())
        if secret:
            headers[HEADER] = header_value(secret, at, body)
        status: int | None = None
        error: str | None = None
        try:
            response = await client.post(d.url, content=body, headers=headers)
            status = response.status_code
            if not 200 <= status < 300:
                error = f"HTTP {status}"
        except httpx2.HTTPError as exc:
            error = _error_text(exc)
        attempt = d.attempts + 1
        if error is None:
            outcome, nxt = "delivered", at
            delivered += 1
        elif attempt > len(retry_seconds):
            outcome, nxt = "failed", at
        else:
            outcome, nxt = "pending", at + math.ceil(retry_seconds[attempt - 1])

        def log(d: queries.DeliveryRow = d, attempt: int = attempt, outcome: str = outcome, nxt: int = nxt,
                status: int | None = status, error: str | None = error) -> None:
            with store.tx() as conn:
                queries.record_attempt(conn, d.id, attempt, at, status, error, outcome, nxt)

        await store.run(log)
    return delivered
