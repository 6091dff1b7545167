"""API keys of the REST API as data: the key record, the secret's format, scopes and plans (no I/O).

A key has a public id (``key_…``) and a secret (``emk_…``) shown once at creation and stored only as its
SHA-256 hash (`engmetrics.store.api_keys`; creating, revoking and checking keys: `engmetrics.engine.keys`).
Scopes: ``read`` (every GET), ``write`` (every POST), ``*`` (everything), or ``<resource>:read|write`` where
the resource is the first segment of the path under /v1 (``metrics:read``, ``reports:write``…). Times are
Unix seconds (UTC).
"""

from __future__ import annotations

import hashlib
import re
import secrets
import string
from dataclasses import dataclass

from engmetrics.errors import InvalidInput

SECRET_PREFIX = "emk_"
ID_PREFIX = "key_"
PLANS = ("free", "pro", "enterprise")
DEFAULT_SCOPES = ("read", "write")
_SCOPE = re.compile(r"^(\*|read|write|[a-z0-9_-]+:(read|write))$")
_ALPHABET = string.ascii_letters + string.digits


def random_id(prefix: str, length: int = 16) -> str:
    """A prefixed random id such as ``key_NffrFeUfNV2Hib`` (base62)."""
    n = int.from_bytes(secrets.token_bytes(length))  # 8 bits per character > log2(62): uniform enough for ids
    out = []
    for _ in range(length):
        n, r = divmod(n, 62)
        out.append(_ALPHABET[r])
    return prefix + "".join(out)


def new_secret() -> str:
    """A new key secret: ``emk_`` and 256 random bits (URL-safe base64)."""
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def hash_secret(secret: str) -> str:
    """SHA-256 hex of a key's secret (secrets are 256-bit random, so a fast hash is enough)."""
    return hashlib.sha256(secret.encode()).hexdigest()


@dataclass(frozen=True)
class ApiKey:
    """A stored key, without its secret (times in Unix seconds)."""

    id: str
    name: str
    hint: str
    scopes: tuple[str, ...]
    plan: str
    api_version: str
    created_at: int
    last_used_at: int | None
    revoked_at: int | None

    def public(self) -> dict[str, object]:
        """JSON-ready description (no secret)."""
        return {
            "id": self.id, "name": self.name, "key_hint": f"{SECRET_PREFIX}…{self.hint}", "scopes": list(self.scopes),
            "plan": self.plan, "api_version": self.api_version, "created_at": self.created_at,
            "last_used_at": self.last_used_at, "revoked_at": self.revoked_at,
        }


def check_scopes(scopes: list[str] | tuple[str, ...] | None) -> tuple[str, ...]:
    """Validated, de-duplicated scopes (`InvalidInput` naming a bad one); default ``read``, ``write``."""
    if not scopes:
        return DEFAULT_SCOPES
    out: list[str] = []
    for raw in scopes:
        for s in str(raw).replace(",", " ").split():
            if not _SCOPE.match(s):
                raise InvalidInput(
                    f"Unknown scope {s!r}: use read, write, * or <resource>:read|write (e.g. metrics:read, "
                    "reports:write).", param="scopes",
                )
            if s not in out:
                out.append(s)
    return tuple(out) or DEFAULT_SCOPES


def check_plan(plan: str) -> str:
    """``plan`` when it is one of `PLANS` (`InvalidInput` otherwise)."""
    if plan not in PLANS:
        raise InvalidInput(f"Unknown plan {plan!r}: use one of {', '.join(PLANS)}.", param="plan")
    return plan


def required_scope(method: str, path: str) -> str:
    """The resource scope an operation needs, e.g. ``metrics:read`` for GET /metrics/dora."""
    resource = path.strip("/").split("/")[0] or "root"
    return f"{resource}:{'read' if method == 'GET' else 'write'}"


def allows(scopes: tuple[str, ...], method: str, path: str) -> bool:
    """Whether ``scopes`` grant ``method path`` (path relative to /v1)."""
    need = required_scope(method, path)
    broad = "read" if method == "GET" else "write"
    return "*" in scopes or broad in scopes or need in scopes
