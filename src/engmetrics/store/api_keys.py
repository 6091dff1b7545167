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
    """The response kept for (``key_id``, ``idempotency_key``) if it was stored at ``since`` or later (a request still
    being answered, `claim`, has none yet)."""
    row = conn.execute(
        "SELECT fingerprint, status, body FROM api_idempotency WHERE key_id = ? AND idempotency_key = ?"
        " AND created_at >= ? AND status > 0",
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


def count_request(conn: Connection, bucket: str, windows: list[tuple[str, int, int]]) -> list[int] | None:
    """Count one request of ``bucket`` in each of ``windows`` (kind, window number, limit) unless one of them is full:
    the counts before this request, or None (nothing counted) when a window already holds its limit.

    Run it in a transaction (``with store.tx()``): the first upsert locks the bucket's row, so workers counting the
    same bucket at once count one after the other and never both take the last request of a window.
    """
    used = []
    for kind, number, limit in windows:
        row = conn.execute(
            "INSERT INTO api_rate_windows(bucket, kind, number, used) VALUES (?, ?, ?, 1)"
            " ON CONFLICT(bucket, kind, number) DO UPDATE SET used = api_rate_windows.used + 1 RETURNING used",
            (bucket, kind, number),
        ).fetchone()
        if int(row[0]) > limit:
            return None
        used.append(int(row[0]) - 1)
    return used


def forget_windows(conn: Connection, kind: str, before: int) -> None:
    """Drop the counts of ``kind`` windows numbered below ``before`` (windows that ended)."""
    conn.execute("DELETE FROM api_rate_windows WHERE kind = ? AND number < ?", (kind, before))


def claim(conn: Connection, key_id: str, idempotency_key: str, fingerprint: str, now: int, *, expired_before: int,
          stale_before: int) -> bool:
    """Take (``key_id``, ``idempotency_key``) for a request about to be answered: a placeholder row (status 0) that
    `save_response` fills. False when another request holds it (answered within the retention, or being answered and
    started at ``stale_before`` or later); a response stored before ``expired_before`` and a placeholder older than
    ``stale_before`` (its worker died) are taken over."""
    conn.execute(
        "DELETE FROM api_idempotency WHERE key_id = ? AND idempotency_key = ?"
        " AND ((status > 0 AND created_at < ?) OR (status = 0 AND created_at < ?))",
        (key_id, idempotency_key, expired_before, stale_before),
    )
    row = conn.execute(
        "INSERT INTO api_idempotency(key_id, idempotency_key, fingerprint, status, body, created_at)"
        " VALUES (?, ?, ?, 0, ?, ?) ON CONFLICT(key_id, idempotency_key) DO NOTHING RETURNING created_at",
        (key_id, idempotency_key, fingerprint, b"", now),
    ).fetchone()
    return row is not None


def release(conn: Connection, key_id: str, idempotency_key: str) -> None:
    """Give up a `claim` whose request kept no response (it failed on the server's side)."""
    conn.execute("DELETE FROM api_idempotency WHERE key_id = ? AND idempotency_key = ? AND status = 0",
                 (key_id, idempotency_key))


def window_counts(conn: Connection, bucket: str, windows: list[tuple[str, int]]) -> list[int]:
    """Requests counted for ``bucket`` in each window (kind, number); 0 for a window without any."""
    out = []
    for kind, number in windows:
        row = conn.execute("SELECT used FROM api_rate_windows WHERE bucket = ? AND kind = ? AND number = ?",
                           (bucket, kind, number)).fetchone()
        out.append(0 if row is None else int(row[0]))
    return out
