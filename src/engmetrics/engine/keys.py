"""API keys and idempotency records of a local engine's store, for the REST API and the `api-key` commands.

`KeyStore` creates keys (the secret is returned once; only its hash is stored), lists, revokes and
authenticates them; `IdempotencyRecords` keeps the responses of POSTs sent with an Idempotency-Key. The SQL
is in `engmetrics.store.api_keys`; the key record and scopes in `engmetrics.apikeys`. `StoreCounter` counts the
rate-limit windows in the store, for several API workers. Times are Unix seconds.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from engmetrics.apikeys import ID_PREFIX, SECRET_PREFIX, ApiKey, check_plan, check_scopes, hash_secret, new_secret, random_id
from engmetrics.errors import InvalidInput, NotFound
from engmetrics.store import api_keys as queries
from engmetrics.store.api_keys import StoredResponse
from engmetrics.store.db import Store

TOUCH_EVERY_SECONDS = 60
"""A key's ``last_used_at`` is written at most this often (not on every request)."""

STALE_CLAIM_SECONDS = 120
"""An Idempotency-Key held this long without an answer is taken over (the request's worker died)."""

AUTH_CACHE_SECONDS = 5.0
"""How long an authentication answer is reused: a revocation by another process takes effect within this."""

_auth_cache: dict[tuple[str, str], tuple[float, ApiKey | None]] = {}
"""(store path, secret hash) → (monotonic expiry, key or None), shared by every `KeyStore` of the process so a
revocation through any of them takes effect at once in this process."""


@dataclass(frozen=True)
class CreatedKey:
    """A key just created: the only moment its secret exists outside the client."""

    key: ApiKey
    secret: str


class KeyStore:
    """The API keys kept in one store."""

    def __init__(self, store: Store, *, cache_seconds: float = AUTH_CACHE_SECONDS) -> None:
        self.store = store
        self.cache_seconds = cache_seconds

    def create(self, name: str, scopes: list[str] | None = None, plan: str = "free", *, api_version: str) -> CreatedKey:
        """Create a key; the returned secret is shown once and only its hash is stored."""
        name = name.strip()
        if not name:
            raise InvalidInput("A key needs a name (--name), e.g. 'ci' or 'alice-laptop'.", param="name")
        check_plan(plan)
        checked = check_scopes(scopes)
        secret = new_secret()
        key = ApiKey(random_id(ID_PREFIX), name, secret[-4:], checked, plan, api_version, int(time.time()), None, None)
        with self.store.tx() as conn:
            queries.insert_key(conn, key, hash_secret(secret))
        return CreatedKey(key, secret)

    def list(self, *, include_revoked: bool = True) -> list[ApiKey]:
        """Every key, newest first (never a secret)."""
        return queries.list_keys(self.store.read(), include_revoked=include_revoked)

    def revoke(self, key_id: str) -> ApiKey:
        """Revoke a key (idempotent); `NotFound` for an unknown id."""
        with self.store.tx() as conn:
            key = queries.revoke_key(conn, key_id, int(time.time()))
        _auth_cache.clear()  # in this process, at once
        if key is None:
            raise NotFound(f"No API key {key_id!r}: `engmetrics api-key list` shows the ids.", param="id")
        return key

    def authenticate(self, secret: str) -> ApiKey | None:
        """The active key whose secret this is, or None (unknown or revoked).

        Answers are remembered for ``cache_seconds`` per store (keyed by the secret's hash, never the secret),
        so a revocation made by another process takes effect within that many seconds.
        """
        if not secret.startswith(SECRET_PREFIX) or len(secret) > 200:
            return None
        digest = hash_secret(secret)
        slot = (self.store.path, digest)
        now_m = time.monotonic()
        hit = _auth_cache.get(slot)
        if hit is not None and hit[0] > now_m:
            return hit[1]
        key = self._authenticate(digest)
        if len(_auth_cache) > 10_000:
            _auth_cache.clear()
        _auth_cache[slot] = (now_m + self.cache_seconds, key)
        return key

    def _authenticate(self, digest: str) -> ApiKey | None:
        key = queries.key_by_secret_hash(self.store.read(), digest)
        if key is None or key.revoked_at is not None:
            return None
        now = int(time.time())
        if key.last_used_at is None or now - key.last_used_at >= TOUCH_EVERY_SECONDS:
            with self.store.tx() as conn:
                queries.touch_key(conn, key.id, now)
        return key


class IdempotencyRecords:
    """Responses of POSTs sent with an Idempotency-Key, per API key, kept ``ttl_seconds``; kept in the store, so every
    API worker of a store replays them."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def lookup(self, key_id: str, idempotency_key: str, ttl_seconds: float) -> StoredResponse | None:
        """The response kept for this key and Idempotency-Key within the last ``ttl_seconds``, or None."""
        since = int(time.time() - ttl_seconds)
        return queries.find_response(self.store.read(), key_id, idempotency_key, since)

    def claim(self, key_id: str, idempotency_key: str, fingerprint: str, ttl_seconds: float) -> bool:
        """Take this Idempotency-Key for a request about to run; False when another request (in any worker) holds it.
        A request that held it for `STALE_CLAIM_SECONDS` without an answer is taken to have died with its worker."""
        now = int(time.time())
        with self.store.tx() as conn:
            return queries.claim(conn, key_id, idempotency_key, fingerprint, now,
                                 expired_before=int(now - ttl_seconds), stale_before=now - STALE_CLAIM_SECONDS)

    def release(self, key_id: str, idempotency_key: str) -> None:
        """Give up a claim whose request kept no response."""
        with self.store.tx() as conn:
            queries.release(conn, key_id, idempotency_key)

    def save(self, key_id: str, idempotency_key: str, *, fingerprint: str, status: int, body: bytes,
             ttl_seconds: float) -> None:
        """Keep the response (HTTP ``status`` and ``body``) to the request with this ``fingerprint``; responses
        older than ``ttl_seconds`` go."""
        now = int(time.time())
        with self.store.tx() as conn:
            queries.save_response(conn, key_id, idempotency_key, StoredResponse(fingerprint, status, body), now,
                                  now - ttl_seconds)


class _WindowFull(Exception):
    """A rate window is full: the transaction that counted the request is rolled back."""


class StoreCounter:
    """Rate-limit windows counted in the store (`engmetrics.api.limits.WindowCounter`), so that every API worker of
    a PostgreSQL store counts every request of a key. Windows that ended are dropped now and then."""

    def __init__(self, store: Store, *, minute_seconds: float = 60.0, day_seconds: float = 86_400.0) -> None:
        self.store = store
        self.lengths = {"m": minute_seconds, "d": day_seconds}
        self._counted = 0

    def count(self, bucket: str, windows: list[tuple[str, int, int]], now: float) -> list[int] | None:
        """Count one request in each window unless one is full (then nothing is counted): the counts before it."""
        try:
            with self.store.tx() as conn:
                used = queries.count_request(conn, bucket, windows)
                if used is None:
                    raise _WindowFull
        except _WindowFull:
            return None
        self._counted += 1
        if self._counted % 1000 == 1:
            with self.store.tx() as conn:
                for kind, length in self.lengths.items():
                    queries.forget_windows(conn, kind, int(now // length))
        return used

    def peek(self, bucket: str, windows: list[tuple[str, int, int]]) -> list[int]:
        """The counts of ``bucket`` in each window."""
        return queries.window_counts(self.store.read(), bucket, [(kind, number) for kind, number, _ in windows])
