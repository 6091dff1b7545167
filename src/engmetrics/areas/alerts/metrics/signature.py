"""Webhook signatures (Stripe's scheme): ``Engmetrics-Signature: t=<unix seconds>,v1=<hex>`` where the hex is the
HMAC-SHA256 of ``"<t>.<body>"`` keyed with the alert's secret. A receiver recomputes it over the raw body and the
``t`` it received, compares in constant time, and refuses old ``t`` values (replays)."""

from __future__ import annotations

import hashlib
import hmac

HEADER = "Engmetrics-Signature"


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """The hex HMAC-SHA256 of ``b"<timestamp>." + body`` keyed with ``secret``."""
    return hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def header_value(secret: str, timestamp: int, body: bytes) -> str:
    """The ``Engmetrics-Signature`` header: ``t=<timestamp>,v1=<signature>``."""
    return f"t={timestamp},v1={signature(secret, timestamp, body)}"


def verify(secret: str, header: str, body: bytes, now: int, tolerance_seconds: int = 300) -> bool:
    """Whether ``header`` signs ``body`` with ``secret`` and its time is within ``tolerance_seconds`` of ``now``."""
    parts = dict(p.split("=", 1) for p in header.split(",") if "=" in p)
    try:
        t = int(parts["t"])
    except (KeyError, ValueError):
        return False
    return abs(now - t) <= tolerance_seconds and hmac.compare_digest(parts.get("v1", ""), signature(secret, t, body))
