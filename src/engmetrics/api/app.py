"""The REST API (the Upshot contract under /v1), generated from the engine's declared operations.

Every operation of the engine (`Engine.operations`) becomes a route ``/v1<path>``: a GET reads its query string
(and ``{path}`` parameters) into the operation's request model, a POST reads a JSON body; the answer is the
result model as JSON. List operations (request with ``limit``/``cursor``, result with one list and a cursor)
answer Upstat list objects ``{"object": "list", "data", "has_more", "url", …}`` paged by ``limit`` (1–100,
default 10) and ``starting_after`` / ``ending_before`` (item ids). Also ``/v1/health`` (no auth) and
``/v1/openapi.json``.

Conventions (Upstat seed): Bearer API keys with scopes (401/403), the error envelope, ``Request-Id: req_…``
on every response and in the log, the ``Engmetrics-Version`` date header echoed, per-key rate limits per plan
with X-RateLimit-* headers and 429 + Retry-After, and ``Idempotency-Key`` on POST (kept 24 h, replayed with
``Idempotent-Replayed: true``, 409 for the same key with other parameters).
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import re
import time
import typing
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import anyio
import anyio.to_thread
from pydantic import BaseModel, ValidationError
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from engmetrics import __version__
from engmetrics.api.errors import ApiError, from_engmetrics, from_validation, internal, invalid
from engmetrics.api.limits import UPSHOT_PLANS, Decision, PlanLimits, RateLimiter
from engmetrics.api.openapi import openapi_document
from engmetrics.wire import API_DEFAULT_LIMIT, API_MAX_LIMIT, ListShape, list_shape, path_params, wire_names
from engmetrics.apikeys import ApiKey, allows, random_id, required_scope
from engmetrics.engine.local import LocalEngine
from engmetrics.engine.sync_jobs import SyncWorker
from engmetrics.errors import EngmetricsError, InvalidInput
from engmetrics.operations import Operation
from engmetrics.validation import MAX_BODY_BYTES, check_string, check_value, sentence, unknown_name_message

log = logging.getLogger("engmetrics.api")

API_VERSION = "2025-06-01"
"""The current Engmetrics-Version (date of the last breaking change of the REST contract)."""

CACHE_MAX_BYTES = 16 * 1024 * 1024
"""Most bytes of answers the API keeps for reuse (the oldest go first)."""

MAX_LIST_SCAN = 20_000
"""Items a starting_after/ending_before request may walk past before asking for a narrower window."""

_VERSION_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


@dataclass
class ApiConfig:
    """Tunables of the API: plan limits and window lengths (seconds), idempotency retention (seconds)."""

    plans: dict[str, PlanLimits] = field(default_factory=lambda: dict(UPSHOT_PLANS))
    minute_seconds: float = 60.0
    day_seconds: float = 86_400.0
    anonymous_plan: str = "free"
    idempotency_ttl_seconds: float = 86_400.0
    api_version: str = API_VERSION
    sync_every_seconds: float | None = None  # background sync of the engine's sources; None: never
    cache_seconds: float = 2.0  # identical GETs within this many seconds share one computation; 0: off


# ---- request parsing ---------------------------------------------------------------------------------


def _is_list_field(annotation: object) -> bool:
    origin = typing.get_origin(annotation)
    if origin in (list, tuple, set, frozenset):
        return True
    return any(_is_list_field(a) for a in typing.get_args(annotation)) if origin is not None else False


def _query_values(request: Request, model: type[BaseModel] | None, reserved: set[str]) -> dict[str, Any]:
    """Query string → request-model values by wire name; unknown parameters are a 400 naming them."""
    names = wire_names(model) if model is not None else {}
    by_wire = {wire: name for name, wire in names.items()}
    fields = model.model_fields if model is not None else {}
    out: dict[str, Any] = {}
    for key in request.query_params.keys():
        if key in reserved:
            _check(key, request.query_params.getlist(key))
            continue
        if key not in by_wire:
            _check_names([key], set(by_wire) | reserved)
        field_info = fields[by_wire[key]]
        out[key] = request.query_params.getlist(key) if _is_list_field(field_info.annotation) else request.query_params[key]
        _check(key, out[key])
    return out


def _check_names(keys: Iterable[object], accepted: set[str]) -> None:
    """A 400 naming the first unknown parameter and the closest accepted one (`engmetrics.validation`)."""
    for key in keys:
        if key not in accepted:
            try:
                check_string("a parameter name", str(key))
            except InvalidInput as exc:
                raise invalid(exc.message, code="parameter_invalid") from None
            raise invalid(sentence(unknown_name_message(str(key), accepted, noun="parameter")), param=str(key),
                          code="parameter_unknown")


def _check(key: str, value: Any) -> None:
    """A 400 for a value with a control character, over-long, or with too many items (`engmetrics.validation`)."""
    try:
        check_value(key, value)
    except InvalidInput as exc:
        raise invalid(exc.message, param=key) from None


def _build_query(model: type[BaseModel] | None, values: dict[str, Any]) -> BaseModel | None:
    if model is None:
        return None
    try:
        return model.model_validate(values)
    except ValidationError as exc:
        raise from_validation(exc) from None


def _parse_limit(raw: str | None) -> int:
    if raw is None:
        return API_DEFAULT_LIMIT
    try:
        value = int(raw)
    except ValueError:
        raise ApiError(422, "invalid_request_error", "parameter_invalid",
                       f"limit must be an integer from 1 to {API_MAX_LIMIT} (got {raw!r}).", param="limit") from None
    if not 1 <= value <= API_MAX_LIMIT:
        raise ApiError(422, "invalid_request_error", "parameter_invalid",
                       f"limit must be from 1 to {API_MAX_LIMIT} (got {value}).", param="limit")
    return value


async def _read_body(request: Request) -> bytes:
    """The request body, refused with a 413 past `MAX_BODY_BYTES` (read no further than that)."""
    declared = request.headers.get("content-length")
    too_large = ApiError(413, "invalid_request_error", "body_too_large",
                         f"The request body is larger than {MAX_BODY_BYTES:,} bytes; send only the operation's "
                         "parameters (see /v1/openapi.json).")
    if declared is not None and declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise too_large
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise too_large
        chunks.append(chunk)
    return b"".join(chunks)


# ---- the API -------------------------------------------------------------------------------------------


class EngmetricsApi:
    """The API over one local engine, whose store also holds the API keys (`LocalEngine.keys`) and the
    idempotency records (`LocalEngine.idempotency`)."""

    def __init__(self, engine: LocalEngine, config: ApiConfig | None = None) -> None:
        self.engine = engine
        self.config = config or ApiConfig()
        counter = (engine.rate_counter(self.config.minute_seconds, self.config.day_seconds) if engine.shares_store
                   else None)  # several workers on one PostgreSQL store count together; else in memory
        self.limiter = RateLimiter(self.config.plans, self.config.minute_seconds, self.config.day_seconds, counter)
        self.ops = engine.operations()
        self._openapi: bytes | None = None
        self._generation = 0  # bumped whenever the data changed: an answer computed across a change is not kept
        self._cache: dict[tuple[Any, ...], tuple[float, bytes]] = {}  # insertion (= expiry) order
        self._cache_bytes = 0
        self._flights: dict[tuple[Any, ...], anyio.Event] = {}

    # ---- routes -------------------------------------------------------------------------------------

    def routes(self) -> list[Route]:
        """One route per operation, plus health and openapi."""
        out = [
            Route("/v1/health", self.health, methods=["GET"]),
            Route("/v1/openapi.json", self.openapi, methods=["GET"]),
        ]
        for op in self.ops:
            out.append(Route("/v1" + op.path, self._endpoint(op), methods=[op.method], name=op.name))
        return out

    async def health(self, request: Request) -> Response:
        """Liveness: no auth, no rate limit."""
        body = {"status": "ok", "version": __version__, "api_version": self.config.api_version}
        return Response(json.dumps(body), media_type="application/json")

    async def openapi(self, request: Request) -> Response:
        """The OpenAPI 3.1 document, generated from the operations' pydantic models."""
        if self._openapi is None:
            self._openapi = json.dumps(openapi_document(self.ops, self.config.api_version)).encode()
        return Response(self._openapi, media_type="application/json")

    def _endpoint(self, op: Operation) -> Callable[[Request], Awaitable[Response]]:
        shape = list_shape(op)

        async def endpoint(request: Request) -> Response:
            rid = request.scope.get("state", {}).get("request_id", "req_unknown")
            try:
                key: ApiKey = request.scope["state"]["api_key"]
                if not allows(key.scopes, op.method, op.path):
                    need = required_scope(op.method, op.path)
                    raise ApiError(
                        403, "permission_error", "insufficient_scope",
                        f"This API key ({key.id}) lacks the scope {need!r} needed for {op.method} /v1{op.path}. "
                        f"Create a key with it: engmetrics api-key create --name NAME --scopes {need}.",
                    )
                if op.method != "GET":  # POST and DELETE: a JSON body (optional), Idempotency-Key
                    return await self._post(request, op, key)
                return await self._get(request, op, shape)
            except ApiError as exc:
                return exc.response()
            except EngmetricsError as exc:
                return from_engmetrics(exc).response()
            except Exception:
                log.exception("%s %s %s failed unexpectedly", rid, request.method, request.url.path)
                return internal(rid).response()

        endpoint.__name__ = op.name
        return endpoint

    async def _get(self, request: Request, op: Operation, shape: ListShape | None) -> Response:
        reserved = {"limit", "starting_after", "ending_before"} if shape else set()
        values = _query_values(request, op.query_model, reserved | set(path_params(op)))
        if shape is not None and "cursor" in values and shape.item_has_id:
            raise invalid("Lists page with starting_after / ending_before (item ids), not cursor.", param="cursor",
                          code="parameter_unknown")
        values.update(request.path_params)
        key = (op.name, request.url.path, tuple(sorted(request.query_params.multi_items())))

        async def produce() -> bytes:
            if shape is None:
                result = await self.engine.call(op, _build_query(op.query_model, values))
                return result.model_dump_json(by_alias=True).encode()
            return await self._list(request, op, shape, values)

        return Response(await self._cached(key, produce), media_type="application/json")

    async def _cached(self, key: tuple[Any, ...], produce: Callable[[], Awaitable[bytes]]) -> bytes:
        """``produce()`` shared by identical GETs: at most one computation per key in flight, kept ``cache_seconds``."""
        ttl = self.config.cache_seconds
        if ttl <= 0:
            return await produce()
        hit = self._cache.get(key)
        if hit is not None and hit[0] > time.monotonic():
            return hit[1]
        flight = self._flights.get(key)
        if flight is not None:
            await flight.wait()
            hit = self._cache.get(key)
            if hit is not None:
                return hit[1]
            return await produce()  # the first computation failed: answer (or fail) on our own
        flight = self._flights[key] = anyio.Event()
        generation = self._generation
        try:
            body = await produce()
            if generation == self._generation:  # else the data changed while it was computed: answer, keep nothing
                self._remember(key, time.monotonic() + ttl, body)
            return body
        finally:
            del self._flights[key]
            flight.set()

    def _remember(self, key: tuple[Any, ...], expires: float, body: bytes) -> None:
        """Keep an answer until ``expires``; answers that expired, and the oldest past `CACHE_MAX_BYTES`, go.

        Every answer lives the same ``cache_seconds``, so insertion order is expiry order: dropping from
        the front keeps the cache as small as the answers of the last few seconds, whatever the load.
        """
        old = self._cache.pop(key, None)
        if old is not None:
            self._cache_bytes -= len(old[1])
        self._cache[key] = (expires, body)
        self._cache_bytes += len(body)
        now = time.monotonic()
        while self._cache:
            first_key, (first_expires, first_body) = next(iter(self._cache.items()))
            if first_expires > now and self._cache_bytes <= CACHE_MAX_BYTES:
                break
            del self._cache[first_key]
            self._cache_bytes -= len(first_body)

    def forget_cached(self) -> None:
        """Drop cached answers (after the data changed, here or in another worker)."""
        self._generation += 1
        self._cache.clear()
        self._cache_bytes = 0

    async def _list(self, request: Request, op: Operation, shape: ListShape, values: dict[str, Any]) -> bytes:
        limit = _parse_limit(request.query_params.get("limit"))
        after = request.query_params.get("starting_after")
        before = request.query_params.get("ending_before")
        if after and before:
            raise invalid("starting_after and ending_before are mutually exclusive: send one of them.",
                          param="ending_before")
        if (after or before) and not shape.item_has_id:
            raise invalid(f"{op.path} items have no id to page from: pass the list's next_cursor as cursor.",
                          param="starting_after" if after else "ending_before")
        model = op.query_model
        assert model is not None
        if not shape.item_has_id:
            # Items without ids page forwards with the engine's opaque cursor, returned as next_cursor.
            q = _build_query(model, {**values, "limit": limit})
            dumped = (await self.engine.call(op, q)).model_dump(mode="json", by_alias=True)
            nxt = dumped.get("cursor")
            body = {"object": "list", "data": dumped[shape.items_field], "has_more": bool(nxt), "next_cursor": nxt,
                    "url": request.url.path, **{k: dumped.get(k) for k in shape.extra_fields}}
            return json.dumps(body).encode()
        _build_query(model, {**values, "limit": API_MAX_LIMIT})  # validate once, before any paging

        extras: dict[str, Any] = {}

        async def pages() -> AsyncIterator[tuple[list[Any], str | None]]:
            cursor = None
            page_limit = limit if not (after or before) else API_MAX_LIMIT
            while True:
                q = model.model_validate({**values, "limit": page_limit, "cursor": cursor})
                result = await self.engine.call(op, q)
                dumped = result.model_dump(mode="json", by_alias=True)
                if not extras:
                    extras.update({k: dumped.get(k) for k in shape.extra_fields})
                yield dumped[shape.items_field], dumped.get("cursor")
                cursor = dumped.get("cursor")
                if not cursor:
                    return

        data: list[Any]
        if not after and not before:
            async for items, cursor in pages():
                data, has_more = items[:limit], bool(cursor) or len(items) > limit
                break
            else:  # pragma: no cover - pages() always yields once
                data, has_more = [], False
        elif after:
            data, has_more, found, scanned = [], False, False, 0
            async for items, _ in pages():
                for item in items:
                    scanned += 1
                    if found:
                        if len(data) == limit:
                            has_more = True
                            break
                        data.append(item)
                    elif item.get("id") == after:
                        found = True
                if has_more or (not found and scanned > MAX_LIST_SCAN):
                    break
            if not found:
                raise self._missing_cursor("starting_after", after, scanned)
        else:
            assert before  # the first branch took the case where neither is given
            window: deque[Any] = deque(maxlen=limit + 1)
            found, scanned = False, 0
            async for items, _ in pages():
                for item in items:
                    scanned += 1
                    if item.get("id") == before:
                        found = True
                        break
                    window.append(item)
                if found or scanned > MAX_LIST_SCAN:
                    break
            if not found:
                raise self._missing_cursor("ending_before", before, scanned)
            has_more = len(window) > limit
            data = list(window)[-limit:] if window else []
        body = {"object": "list", "data": data, "has_more": has_more, "url": request.url.path, **extras}
        return json.dumps(body).encode()

    @staticmethod
    def _missing_cursor(param: str, value: str, scanned: int) -> ApiError:
        if scanned > MAX_LIST_SCAN:
            return invalid(f"{param}={value!r} lies more than {MAX_LIST_SCAN} items deep: narrow the window "
                           "(period or from/to) and page again.", param=param)
        return invalid(f"No item {value!r} in this list (with these filters): pass the id of an item from the "
                       "previous page, or omit it for the first page.", param=param, code="resource_missing")

    async def _post(self, request: Request, op: Operation, key: ApiKey) -> Response:
        raw = await _read_body(request)
        try:
            body = json.loads(raw) if raw.strip() else {}
        except (ValueError, UnicodeDecodeError, RecursionError):
            raise invalid("The request body is not valid JSON: send a JSON object (Content-Type: application/json).",
                          code="body_invalid") from None
        if not isinstance(body, dict):
            raise invalid("The request body must be a JSON object.", code="body_invalid")
        accepted = set(wire_names(op.query_model).values()) if op.query_model else set()
        _check_names(body, accepted - set(path_params(op)))
        for name, value in body.items():
            _check(name, value)
        idem = request.headers.get("idempotency-key")
        if idem is None:
            return await self._run_post(op, body, request.path_params)
        if not idem or len(idem) > 255:
            raise invalid("Idempotency-Key must be 1–255 characters (a UUID v4 is a good choice).",
                          param="Idempotency-Key")
        fingerprint = hashlib.sha256(
            json.dumps([op.method, request.url.path, str(request.query_params), body], sort_keys=True).encode()
        ).hexdigest()
        records, ttl = self.engine.idempotency, self.config.idempotency_ttl_seconds
        stored = await anyio.to_thread.run_sync(records.lookup, key.id, idem, ttl)
        if stored is not None:
            if stored.fingerprint != fingerprint:
                raise ApiError(409, "idempotency_error", "idempotency_key_reused",
                               "This Idempotency-Key was already used with other parameters. Send a new key for a "
                               "different request.", param="Idempotency-Key")
            return Response(stored.body, status_code=stored.status, media_type="application/json",
                            headers={"Idempotent-Replayed": "true"})
        claimed = await anyio.to_thread.run_sync(records.claim, key.id, idem, fingerprint, ttl)
        if not claimed:  # another request with this key (in this worker or another) got there first
            stored = await anyio.to_thread.run_sync(records.lookup, key.id, idem, ttl)
            if stored is None:
                raise ApiError(409, "idempotency_error", "idempotency_key_in_use",
                               "A request with this Idempotency-Key is still being processed; retry in a moment.",
                               param="Idempotency-Key")
            if stored.fingerprint != fingerprint:
                raise ApiError(409, "idempotency_error", "idempotency_key_reused",
                               "This Idempotency-Key was already used with other parameters. Send a new key for a "
                               "different request.", param="Idempotency-Key")
            return Response(stored.body, status_code=stored.status, media_type="application/json",
                            headers={"Idempotent-Replayed": "true"})
        kept = False
        try:
            try:
                response = await self._run_post(op, body, request.path_params)
            except ApiError as exc:
                response = exc.response()
            except EngmetricsError as exc:
                response = from_engmetrics(exc).response()
            if response.status_code < 500:
                save = functools.partial(records.save, key.id, idem, fingerprint=fingerprint,
                                         status=response.status_code, body=bytes(response.body), ttl_seconds=ttl)
                await anyio.to_thread.run_sync(save)
                kept = True
            return response
        finally:
            if not kept:
                await anyio.to_thread.run_sync(records.release, key.id, idem)

    async def _run_post(self, op: Operation, body: dict[str, Any], path_values: dict[str, Any]) -> Response:
        result = await self.engine.call(op, _build_query(op.query_model, {**body, **path_values}))
        self.forget_cached()  # a POST may have changed what GETs answer
        return Response(result.model_dump_json(by_alias=True), media_type="application/json")


# ---- middleware: request ids, version, auth, rate limits, logging -----------------------------------------


class ApiMiddleware:
    """Wraps every request: Request-Id, Engmetrics-Version, Bearer auth, rate limits, one log line, no traceback out."""

    def __init__(self, app: ASGIApp, api: EngmetricsApi) -> None:
        self.app = app
        self.api = api

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        rid = random_id("req_", 14)
        state = scope.setdefault("state", {})
        state["request_id"] = rid
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers") or []}
        extra: dict[str, str] = {"Request-Id": rid, "Engmetrics-Version": self.api.config.api_version}
        status_seen = [0]
        key_id = "-"

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                status_seen[0] = message["status"]
                raw = [(k, v) for k, v in message.get("headers", []) if k.decode().lower() not in {h.lower() for h in extra}]
                raw += [(k.lower().encode(), v.encode()) for k, v in extra.items()]
                message = {**message, "headers": raw}
            await send(message)

        try:
            error = self._admit(scope, headers, extra)
            key = state.get("api_key")
            key_id = key.id if key is not None else "-"
            if error is not None:
                await error.response()(scope, receive, send_with_headers)
            else:
                await self.app(scope, receive, send_with_headers)
        except Exception:
            log.exception("%s %s %s failed unexpectedly", rid, scope.get("method"), scope.get("path"))
            if not status_seen[0]:
                await internal(rid).response()(scope, receive, send_with_headers)
        finally:
            log.info("%s %s %s %d %.1fms key=%s", rid, scope.get("method"), scope.get("path"), status_seen[0],
                     (time.perf_counter() - started) * 1000, key_id)

    def _admit(self, scope: Scope, headers: dict[str, str], extra: dict[str, str]) -> ApiError | None:
        """Check version, key and rate limit; fill ``extra`` response headers. An `ApiError` refuses the request."""
        version = headers.get("engmetrics-version")
        if version is not None:
            version = version.strip()
            try:
                ok = bool(_VERSION_RE.match(version)) and date.fromisoformat(version) is not None
            except ValueError:
                ok = False
            if not ok:
                return invalid(f"Engmetrics-Version must be a date like {self.api.config.api_version} "
                               f"(got {version!r}).", param="Engmetrics-Version")
            extra["Engmetrics-Version"] = version
        if scope.get("path") == "/v1/health":
            return None
        auth = headers.get("authorization", "")
        scheme, _, secret = auth.partition(" ")
        keys = self.api.engine.keys
        key = keys.authenticate(secret.strip()) if scheme.lower() == "bearer" and secret.strip() else None
        if key is None:
            client = (scope.get("client") or ("unknown", 0))[0]
            decision = self.api.limiter.hit(f"anon:{client}", self.api.config.anonymous_plan)
            extra.update(decision.headers())
            if not decision.allowed:
                return self._limited(decision)
            if not auth:
                return ApiError(401, "authentication_error", "api_key_missing",
                                "No API key: send Authorization: Bearer <key>. Create a key on the server with "
                                "`engmetrics api-key create --name NAME`.", headers={"WWW-Authenticate": "Bearer"})
            return ApiError(401, "authentication_error", "api_key_invalid",
                            "The API key is not valid (unknown or revoked). Create one on the server with "
                            "`engmetrics api-key create --name NAME`.", headers={"WWW-Authenticate": "Bearer"})
        scope["state"]["api_key"] = key
        if version is None:
            extra["Engmetrics-Version"] = key.api_version
        decision = self.api.limiter.hit(key.id, key.plan)
        extra.update(decision.headers())
        if not decision.allowed:
            return self._limited(decision)
        return None

    @staticmethod
    def _limited(decision: Decision) -> ApiError:
        return ApiError(
            429, "rate_limit_error", "rate_limit_exceeded",
            f"You have exceeded {decision.limit} requests per {decision.window_label}. "
            f"Please retry after {decision.retry_after_seconds} seconds.",
            retry_after=decision.retry_after_seconds,
        )


async def _not_found(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if exc.status_code == 405:
        err = ApiError(405, "invalid_request_error", "method_not_allowed",
                       f"{request.method} is not allowed on {request.url.path}; see /v1/openapi.json.")
    else:
        err = ApiError(exc.status_code, "invalid_request_error", "resource_missing" if exc.status_code == 404 else "invalid_request",
                       f"Unrecognized request URL ({request.method}: {request.url.path}); see /v1/openapi.json.")
    return err.response()


async def _sync_loop(engine: LocalEngine, every: float, changed: Callable[[], None]) -> None:
    """Sync the engine's sources now and then every ``every`` seconds; failures are logged, never raised.

    On a store other processes share (PostgreSQL), each round queues one sync job per served repository (none for a
    repository already queued or running) and takes jobs until none is free: the API workers share the syncs, each
    repository synced by one of them (`engmetrics.engine.sync_jobs`)."""
    worker = SyncWorker(engine) if engine.shares_store else None
    while True:
        try:
            if worker is not None:
                await anyio.to_thread.run_sync(worker.enqueue)
                outcomes = await worker.run_until_empty()  # each job synced as `sync` does, alerts included
                problems = [f"{o.repo}: {o.error}" for o in outcomes if o.error]
            else:
                problems = (await engine.repos.sync()).errors
            changed()
            for problem in problems:
                log.warning("background sync: %s", problem)
        except Exception as exc:  # background work must not stop the API
            log.warning("background sync failed: %s", exc)
        await anyio.sleep(every)


async def _watch_changes(engine: LocalEngine, changed: Callable[[], None]) -> None:
    """Drop the cached answers whenever another process changes the data (a store several processes share)."""
    async for _ in engine.watch_changes():
        changed()


def build_api(engine: LocalEngine, config: ApiConfig | None = None) -> ASGIApp:
    """The ASGI app serving every operation of ``engine`` under /v1 (see the module docstring); with
    ``config.sync_every_seconds`` it also syncs the engine's sources in the background, and it evaluates alerts
    every ``alerts_every_seconds`` of the engine's settings."""
    api = EngmetricsApi(engine, config)

    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        every = api.config.sync_every_seconds
        async with anyio.create_task_group() as tg:
            engine.start_background(tg)  # alert evaluations on an interval, webhook deliveries, backfills
            if every:
                tg.start_soon(_sync_loop, engine, every, api.forget_cached)
            if engine.shares_store:
                tg.start_soon(_watch_changes, engine, api.forget_cached)
            yield
            tg.cancel_scope.cancel()

    app = Starlette(routes=api.routes(), exception_handlers={HTTPException: _not_found}, lifespan=lifespan)
    app.state.api = api
    return ApiMiddleware(app, api)
