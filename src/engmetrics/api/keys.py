"""API keys: ``key_…`` ids, a secret shown once at creation and stored only as a SHA-256 hash, scopes, plans, revocation.

Scopes: ``read`` (every GET), ``write`` (every POST), ``*`` (everything), or ``<resource>:read|write`` where the
resource is the first segment of the path under /v1 (``metrics:read``, ``reports:write``…).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
import string
import time
from dataclasses import dataclass

from engmetrics.errors import InvalidInput, NotFound
from engmetrics.store.db import Store

SECRET_PREFIX = "emk_"
ID_PREFIX = "key_"
PLANS = ("free", "pro", "enterprise")
DEFAULT_SCOPES = ("read", "write")
_SCOPE = re.compile(r"^(\*|read|write|[a-z0-9_-]+:(read|write))$")
_ALPHABET = string.ascii_letters + string.digits
_TOUCH_EVERY_SECONDS = 60


def random_id(prefix: str, length: int = 16) -> str:
    """A prefixed random id such as ``key_NffrFeUfNV2Hib`` (base62)."""
    n = int.from_bytes(secrets.token_bytes(length))  # 8 bits per character > log2(62): uniform enough for ids
    out = []
    for _ in range(length):
        n, r = divmod(n, 62)
        out.append(_ALPHABET[r])
    return prefix + "".join(out)


def hash_secret(secret: str) -> str:
    """SHA-256 hex of a key's secret (secrets are 256-bit random, so a fast hash is enough)."""
    return hashlib.sha256(secret.encode()).hexdigest()


@dataclass(frozen=True)
class ApiKey:
    """A stored key, without its secret."""

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


@dataclass(frozen=True)
class CreatedKey:
    """A key just created: the only moment its secret exists outside the client."""

    key: ApiKey
    secret: str


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


def _row(r) -> ApiKey:  # type: ignore[no-untyped-def]
    return ApiKey(
        id=r["id"], name=r["name"], hint=r["hint"], scopes=tuple(json.loads(r["scopes"])), plan=r["plan"],
        api_version=r["api_version"], created_at=r["created_at"], last_used_at=r["last_used_at"],
        revoked_at=r["revoked_at"],
    )


def create_key(store: Store, name: str, scopes: list[str] | None = None, plan: str = "free", *, api_version: str) -> CreatedKey:
    """Create a key; the returned secret is shown once and only its hash is stored."""
    name = name.strip()
    if not name:
        raise InvalidInput("A key needs a name (--name), e.g. 'ci' or 'alice-laptop'.", param="name")
    if plan not in PLANS:
        raise InvalidInput(f"Unknown plan {plan!r}: use one of {', '.join(PLANS)}.", param="plan")
    checked = check_scopes(scopes)
    secret = SECRET_PREFIX + secrets.token_urlsafe(32)
    key = ApiKey(random_id(ID_PREFIX), name, secret[-4:], checked, plan, api_version, int(time.time()), None, None)
    with store.tx() as conn:
        conn.execute(
            "INSERT INTO api_keys(id, name, secret_hash, hint, scopes, plan, api_version, created_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (key.id, key.name, hash_secret(secret), key.hint, json.dumps(list(checked)), plan, api_version, key.created_at),
        )
    return CreatedKey(key, secret)


def list_keys(store: Store, *, include_revoked: bool = True) -> list[ApiKey]:
    """Every key, newest first (never a secret)."""
    sql = "SELECT * FROM api_keys" + ("" if include_revoked else " WHERE revoked_at IS NULL") + " ORDER BY created_at DESC, id"
    return [_row(r) for r in store.read().execute(sql)]


def revoke_key(store: Store, key_id: str) -> ApiKey:
    """Revoke a key (idempotent); `NotFound` for an unknown id."""
    with store.tx() as conn:
        conn.execute("UPDATE api_keys SET revoked_at = coalesce(revoked_at, ?) WHERE id = ?", (int(time.time()), key_id))
        row = conn.execute("SELECT * FROM api_keys WHERE id = ?", (key_id,)).fetchone()
    _cache.clear()  # in this process, at once
    if row is None:
        raise NotFound(f"No API key {key_id!r}: `engmetrics api-key list` shows the ids.", param="id")
    return _row(row)


_CACHE_SECONDS = 5.0
_cache: dict[tuple[str, str], tuple[float, ApiKey | None]] = {}


def authenticate(store: Store, secret: str, *, cache_seconds: float = _CACHE_SECONDS) -> ApiKey | None:
    """The active key whose secret this is, or None (unknown or revoked).

    Answers are remembered for ``cache_seconds`` per store (keyed by the secret's hash, never the secret),
    so a revocation made by another process takes effect within that many seconds.
    """
    if not secret.startswith(SECRET_PREFIX) or len(secret) > 200:
        return None
    digest = hash_secret(secret)
    slot = (store.path, digest)
    now_m = time.monotonic()
    hit = _cache.get(slot)
    if hit is not None and hit[0] > now_m:
        return hit[1]
    key = _authenticate(store, digest)
    if len(_cache) > 10_000:
        _cache.clear()
    _cache[slot] = (now_m + cache_seconds, key)
    return key


def _authenticate(store: Store, digest: str) -> ApiKey | None:
    row = store.read().execute("SELECT * FROM api_keys WHERE secret_hash = ?", (digest,)).fetchone()
    if row is None or not hmac.compare_digest(row["secret_hash"], digest) or row["revoked_at"] is not None:
        return None
    now = int(time.time())
    if row["last_used_at"] is None or now - row["last_used_at"] >= _TOUCH_EVERY_SECONDS:
        with store.tx() as conn:
            conn.execute("UPDATE api_keys SET last_used_at = ? WHERE id = ?", (now, row["id"]))
    return _row(row)


def required_scope(method: str, path: str) -> str:
    """The resource scope an operation needs, e.g. ``metrics:read`` for GET /metrics/dora."""
    resource = path.strip("/").split("/")[0] or "root"
    return f"{resource}:{'read' if method == 'GET' else 'write'}"


def allows(scopes: tuple[str, ...], method: str, path: str) -> bool:
    """Whether ``scopes`` grant ``method path`` (path relative to /v1)."""
    need = required_scope(method, path)
    broad = "read" if method == "GET" else "write"
    return "*" in scopes or broad in scopes or need in scopes
