"""Queries of the REST API's tables (`engmetrics.store.schema_api`): API keys and idempotent POST responses.

Keys are stored with the SHA-256 hash of their secret, never the secret. Times are Unix seconds (UTC).
"""

from __future__ import annotations

import hmac
import json
from dataclasses import dataclass

from engmetrics.apikeys import ApiKey
from engmetrics.store.connection import Connection, Row


def _key(r: Row) -> ApiKey:
    return ApiKey(
        id=r["id"], name=r["name"], hint=r["hint"], scopes=tuple(json.loads(r["scopes"])), plan=r["plan"],
        api_version=r["api_version"], created_at=r["created_at"], last_used_at=r["last_used_at"],
        revoked_at=r["revoked_at"],
    )


def insert_key(conn: Connection, key: ApiKey, secret_hash: str) -> None:
    """Store a new key with the hash of its secret."""
    conn.execute(
        "INSERT INTO api_keys(id, name, secret_hash, hint, scopes, plan, api_version, created_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (key.id, key.name, secret_hash, key.hint, json.dumps(list(key.scopes)), key.plan, key.api_version,
         key.created_at),
    )


def list_keys(conn: Connection, *, include_revoked: bool = True) -> list[ApiKey]:
    """Every key (or every active one), newest first."""
    sql = ("SELECT * FROM api_keys" + ("" if include_revoked else " WHERE revoked_at IS NULL")
           + " ORDER BY created_at DESC, id")
    return [_key(r) for r in conn.execute(sql)]


def revoke_key(conn: Connection, key_id: str, now: int) -> ApiKey | None:
    """Mark a key revoked at ``now`` (a revoked key keeps its first revocation time); None for an unknown id."""
    conn.execute("UPDATE api_keys SET revoked_at = coalesce(revoked_at, ?) WHERE id = ?", (now, key_id))
    row = conn.execute("SELECT * FROM api_keys WHERE id = ?", (key_id,)).fetchone()
    return None if row is None else _key(row)


def key_by_secret_hash(conn: Connection, secret_hash: str) -> ApiKey | None:
    """The key (active or revoked) whose secret has this hash, or None."""
    row = conn.execute("SELECT * FROM api_keys WHERE secret_hash = ?", (secret_hash,)).fetchone()
    if row is None or not hmac.compare_digest(row["secret_hash"], secret_hash):
        return None
    return _key(row)


def touch_key(conn: Connection, key_id: str, now: int) -> None:
    """Record that the key was used at ``now``."""
    conn.execute("UPDATE api_keys SET last_used_at = ? WHERE id = ?", (now, key_id))


@dataclass(frozen=True)
class StoredResponse:
    """The response kept for one Idempotency-Key of one API key."""

    fingerprint: str  # sha256 of the request (method, path, query, body)
    status: int
    body: bytes


def find_response(conn: Connection, key_id: str, idempotency_key: str, since: int) -> StoredResponse | None:
    """The response kept for (``key_id``, ``idempotency_key``) if it was stored at ``since`` or later."""
    row = conn.execute(
        "SELECT fingerprint, status, body FROM api_idempotency WHERE key_id = ? AND idempotency_key = ?"
        " AND created_at >= ?",
        (key_id, idempotency_key, since),
    ).fetchone()
    return None if row is None else StoredResponse(row[0], row[1], bytes(row[2]))


def save_response(conn: Connection, key_id: str, idempotency_key: str, response: StoredResponse, now: int,
                  forget_before: float) -> None:
    """Keep ``response`` for (``key_id``, ``idempotency_key``), stored at ``now``; drop every response stored
    before ``forget_before``."""
    conn.execute("DELETE FROM api_idempotency WHERE created_at < ?", (forget_before,))
    conn.execute(
        "INSERT OR REPLACE INTO api_idempotency(key_id, idempotency_key, fingerprint, status, body, created_at)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        (key_id, idempotency_key, response.fingerprint, response.status, response.body, now),
    )
