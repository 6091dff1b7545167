"""RemoteEngine: the Engine interface over HTTP — our /v1 API, Upshot's API, or Koalr's.

Every operation declared with `@operation` is implemented generically: provider ``engmetrics`` calls the
operation's own route (so operations other engineers add work remotely without code here); providers
``upshot`` and ``koalr`` map the operations their APIs offer onto our models, and answer the others with
`Unsupported` and a sentence saying so.

Outbound calls (httpx2) have timeouts and retry with exponential backoff and jitter on connection errors,
timeouts, 429 (honouring Retry-After / X-RateLimit-Reset, up to a cap) and 5xx — never on other 4xx — all
within one deadline per engine call (ENGMETRICS_REMOTE_DEADLINE_SECONDS, default 20 s), whose error says
what was tried and for how long. POSTs
carry an Idempotency-Key that stays the same across retries. List operations follow the API's pages lazily
until the caller's ``limit``. Every failure is an `EngmetricsError` naming the URL and what to do; the key
never appears in a message or a log.
"""

from __future__ import annotations

import base64
import binascii
import contextvars
import email.utils
import json
import logging
import random
import time
import uuid
from dataclasses import dataclass
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

import anyio
import httpx2
from pydantic import BaseModel, ValidationError

from engmetrics.config import Settings
from engmetrics.engine.engine import Engine
from engmetrics.engine.registry import AREA_INTERFACES
from engmetrics.operations import Operation, area_operations
from engmetrics.errors import EngmetricsError, InvalidInput, NotFound, RemoteError, Unsupported

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RemoteOptions:
    """Timeouts and retry policy (seconds).

    ``deadline_seconds`` bounds a whole engine call — every attempt, backoff, rate-limit wait and page of
    it — so an agent gets a clear error before its MCP client gives up (ENGMETRICS_REMOTE_DEADLINE_SECONDS,
    default 20 s); ``timeout_seconds`` bounds one attempt.
    """

    timeout_seconds: float = 10.0
    connect_timeout_seconds: float = 5.0
    max_retries: int = 3  # retries after the first attempt
    backoff_seconds: float = 0.5  # first backoff; doubles each retry, ±50 % jitter
    max_backoff_seconds: float = 8.0
    max_wait_seconds: float = 30.0  # longest Retry-After / reset wait honoured before giving up
    deadline_seconds: float = 20.0  # the whole call, retries included


class Deadline:
    """The time budget of one engine call and what its HTTP attempts did (for the error that ends it)."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.started = time.monotonic()
        self.until = self.started + seconds
        self.tried: list[tuple[str, str]] = []  # (request, what happened)

    def note(self, where: str, what: str) -> None:
        """Record what one attempt did."""
        self.tried.append((where, what))

    def remaining(self) -> float:
        """Seconds left (≤ 0 once over)."""
        return self.until - time.monotonic()

    def elapsed(self) -> float:
        """Seconds since the call started."""
        return time.monotonic() - self.started

    def error(self, label: str, where: str) -> RemoteError:
        """The error for a call that ran out of time, saying what was tried and for how long."""
        one_request = len({w for w, _ in self.tried}) <= 1
        tried = "; ".join(f"{i}: {t if one_request else w + ': ' + t}" for i, (w, t) in enumerate(self.tried, 1))
        n = len(self.tried)
        return RemoteError(
            f"{label} did not answer {where} in time: gave up after {self.elapsed():.1f} s, the deadline for one "
            f"call (ENGMETRICS_REMOTE_DEADLINE_SECONDS={self.seconds:g}), with {n} attempt{'s' if n != 1 else ''} "
            f"({tried or 'none finished'}). Check that the server is up and not overloaded, or raise the deadline, then try again."
        )


_DEADLINE: contextvars.ContextVar[Deadline | None] = contextvars.ContextVar("engmetrics_remote_deadline", default=None)


def public_url(url: str) -> str:
    """``url`` without user info (credentials never reach a message)."""
    parts = urlsplit(url)
    netloc = parts.hostname or ""
    if parts.port:
        netloc += f":{parts.port}"
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


# ---- cursors the remote engine hands to its callers ------------------------------------------------------


def encode_remote_cursor(state: dict[str, Any]) -> str:
    """An opaque cursor carrying the provider's paging state."""
    return "r" + base64.urlsafe_b64encode(json.dumps(state, separators=(",", ":")).encode()).decode().rstrip("=")


def decode_remote_cursor(cursor: str | None) -> dict[str, Any]:
    """The state in a cursor from `encode_remote_cursor` ({} for None); `InvalidInput` if it is not ours."""
    if not cursor:
        return {}
    try:
        if not cursor.startswith("r"):
            raise ValueError
        raw = cursor[1:] + "=" * (-len(cursor[1:]) % 4)
        state = json.loads(base64.urlsafe_b64decode(raw.encode()))
        if not isinstance(state, dict):
            raise ValueError
        return state
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise InvalidInput(
            "cursor is not one this server issued: pass the `cursor` from the previous page, or omit it for the first page.",
            param="cursor",
        ) from None


# ---- HTTP with retries ---------------------------------------------------------------------------------


def _retry_after(response: httpx2.Response, now: float) -> float | None:
    """Seconds to wait from Retry-After (seconds or HTTP date) or X-RateLimit-Reset (epoch or delta)."""
    value = response.headers.get("retry-after")
    if value:
        try:
            return max(0.0, float(value))
        except ValueError:
            parsed = email.utils.parsedate_to_datetime(value) if value else None
            if parsed is not None:
                return max(0.0, parsed.timestamp() - now)
    reset = response.headers.get("x-ratelimit-reset")
    if reset:
        try:
            r = float(reset)
        except ValueError:
            return None
        return max(0.0, r - now) if r > 1_000_000_000 else max(0.0, r)
    return None


class Http:
    """One API's HTTP client: base URL, auth headers, retries; answers parsed JSON or raises `EngmetricsError`."""

    def __init__(self, base_url: str, headers: dict[str, str], label: str, key_hint: str, options: RemoteOptions,
                 transport: httpx2.AsyncBaseTransport | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.label = label  # e.g. "the engmetrics API at http://127.0.0.1:8080"
        self.key_hint = key_hint  # what to do about a rejected key
        self.options = options
        self._headers = headers
        self._transport = transport
        self._client: httpx2.AsyncClient | None = None

    def client(self) -> httpx2.AsyncClient:
        """The pooled client (created on first use)."""
        if self._client is None:
            o = self.options
            self._client = httpx2.AsyncClient(
                base_url=self.base_url, headers=self._headers, transport=self._transport, follow_redirects=False,
                timeout=httpx2.Timeout(o.timeout_seconds, connect=min(o.connect_timeout_seconds, o.timeout_seconds)),
            )
        return self._client

    async def aclose(self) -> None:
        """Close pooled connections."""
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    def _backoff(self, attempt: int) -> float:
        o = self.options
        return min(o.max_backoff_seconds, o.backoff_seconds * (2**attempt)) * random.uniform(0.5, 1.5)

    async def request(self, method: str, path: str, *, params: dict[str, Any] | None = None,
                      body: dict[str, Any] | None = None) -> tuple[int, Any]:
        """Send with retries within the call's deadline; (status, parsed JSON) of a 2xx answer, else an
        `EngmetricsError` (a `RemoteError` saying what was tried and for how long when time ran out)."""
        where = f"{method} {path}"
        headers = {"Idempotency-Key": str(uuid.uuid4())} if method == "POST" else {}
        attempts = self.options.max_retries + 1
        deadline = _DEADLINE.get() or Deadline(self.options.deadline_seconds)
        o = self.options
        last: str = ""

        async def pause(seconds: float) -> None:
            if seconds >= deadline.remaining():
                raise deadline.error(self.label, where)
            await anyio.sleep(seconds)

        for attempt in range(attempts):
            final = attempt == attempts - 1
            remaining = deadline.remaining()
            if remaining <= 0:
                raise deadline.error(self.label, where)
            budget = min(o.timeout_seconds, remaining)
            timeout = httpx2.Timeout(budget, connect=min(o.connect_timeout_seconds, budget))
            response = None
            with anyio.move_on_after(remaining) as scope:  # a server trickling bytes cannot outlast the deadline
                try:
                    response = await self.client().request(method, path, params=params, json=body, headers=headers,
                                                           timeout=timeout)
                except httpx2.TimeoutException:
                    deadline.note(where, f"no answer within {budget:.3g} s")
                    last = f"did not answer {where} within {budget:.3g} s"
                    if deadline.remaining() <= 0:
                        raise deadline.error(self.label, where) from None
                    if final:
                        raise RemoteError(f"{self.label} {last} (after {attempts} attempts over "
                                          f"{deadline.elapsed():.1f} s). Check the server is up and not overloaded, "
                                          "then try again.") from None
                    await pause(self._backoff(attempt))
                    continue
                except httpx2.TransportError as exc:
                    deadline.note(where, f"{type(exc).__name__}")
                    last = f"could not be reached for {where} ({type(exc).__name__})"
                    if final:
                        raise RemoteError(f"{self.label} {last} after {attempts} attempts over "
                                          f"{deadline.elapsed():.1f} s. Check ENGMETRICS_API_URL and that the "
                                          "server is running.") from None
                    await pause(self._backoff(attempt))
                    continue
            if scope.cancelled_caught or response is None:
                deadline.note(where, f"no answer before the deadline ({remaining:.3g} s)")
                raise deadline.error(self.label, where)
            status = response.status_code
            if status == 429:
                wait = _retry_after(response, time.time())
                if wait is None:
                    wait = self._backoff(attempt)
                deadline.note(where, f"HTTP 429, retry after {wait:.3g} s")
                if final or wait > o.max_wait_seconds or wait >= deadline.remaining():
                    shown = max(1, round(wait))
                    raise RemoteError(f"Rate limited by {self.label} ({where}); retry after {shown} s.",
                                      retry_after_seconds=float(shown), status=429)
                log.info("%s: 429 on %s, retrying in %.1f s", self.label, where, wait)
                await anyio.sleep(wait)
                continue
            if status >= 500:
                rid = response.headers.get("request-id")
                deadline.note(where, f"HTTP {status}")
                last = f"failed with HTTP {status} on {where}" + (f" (Request-Id {rid})" if rid else "")
                if final:
                    raise RemoteError(f"{self.label} {last} after {attempts} attempts over {deadline.elapsed():.1f} s. "
                                      "Try again later; if it persists, the server's log explains it.", status=status)
                await pause(self._backoff(attempt))
                continue
            return status, self._parse(response, where)
        raise RemoteError(f"{self.label} {last}.")  # pragma: no cover - the loop always returns or raises

    def _parse(self, response: httpx2.Response, where: str) -> Any:
        status = response.status_code
        try:
            data = response.json()
        except (ValueError, UnicodeDecodeError):
            kind = response.headers.get("content-type", "no content type")
            raise RemoteError(
                f"{self.label} answered {where} with HTTP {status} and a body that is not JSON ({kind}). Check that "
                "ENGMETRICS_API_URL points at the API itself and ENGMETRICS_PROVIDER names the right provider.",
                status=status,
            ) from None
        if 200 <= status < 300:
            return data
        err = data.get("error") if isinstance(data, dict) else None
        err = err if isinstance(err, dict) else {}
        message = str(err.get("message") or (data.get("message") if isinstance(data, dict) else "") or "").strip()
        code, param = err.get("code"), err.get("param")
        if status == 401:
            raise RemoteError(f"{self.label} rejected the key (401): {self.key_hint}", status=401)
        if status == 403:
            raise RemoteError(f"{self.label} refused {where} (403): the key lacks permission. "
                              + (message or "Use a key with the needed scope."), status=403)
        if status == 409:
            raise RemoteError(f"{self.label} answered {where} with a conflict (409): {message}", status=409)
        raise ProviderError(status, code, message, param)


class ProviderError(Exception):
    """A 4xx answer (other than 401/403/409/429) that a provider turns into the right user error."""

    def __init__(self, status: int, code: str | None, message: str, param: str | None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.param = status, code, message, param


# ---- providers -------------------------------------------------------------------------------------------


class Provider:
    """How one API answers the engine's operations."""

    name = "engmetrics"
    display = "the engmetrics API"
    key_hint = ("create one on the server with `engmetrics api-key create --name NAME` and set ENGMETRICS_API_KEY "
                "to the printed key.")
    api_prefix = "/v1"

    def __init__(self, settings: Settings, options: RemoteOptions, transport: httpx2.AsyncBaseTransport | None) -> None:
        assert settings.api_url
        url = settings.api_url.rstrip("/")
        if url.endswith(self.api_prefix):
            url = url[: -len(self.api_prefix)]
        self.settings = settings
        self.url = url
        self.label = f"{self.display} at {public_url(url)}"
        self.http = Http(url, self.auth_headers(), self.label, self.key_hint, options, transport)

    def auth_headers(self) -> dict[str, str]:
        """Headers carrying the key (never logged)."""
        return {"Authorization": f"Bearer {self.secret()}"} if self.settings.api_key else {}

    def secret(self) -> str:
        """The key's value."""
        return self.settings.api_key.get_secret_value() if self.settings.api_key else ""

    def require_key(self) -> None:
        """`RemoteError` when no key is configured."""
        if not self.settings.api_key:
            raise RemoteError(f"ENGMETRICS_API_KEY is not set, and {self.label} needs one: {self.key_hint}")

    async def call(self, op: Operation, q: BaseModel | None) -> BaseModel:
        """Answer ``op`` for request ``q``."""
        raise NotImplementedError

    def unsupported(self, op: Operation, why: str = "") -> Unsupported:
        """The error for an operation this provider's API does not offer."""
        what = op.summary.rstrip(".")
        what = what[0].lower() + what[1:] if what else op.name
        return Unsupported(
            f"{self.display[0].upper() + self.display[1:]} does not offer {op.name} ({what}). {why}".rstrip()
            + " Use a local engmetrics (unset ENGMETRICS_API_URL) or an engmetrics API server for it."
        )

    def user_error(self, exc: ProviderError, where: str) -> EngmetricsError:
        """A vendor's 4xx as a user error naming the vendor."""
        text = exc.message or f"HTTP {exc.status}"
        if exc.status == 404:
            return NotFound(f"{self.label} found nothing for {where}: {text}", param=exc.param)
        return InvalidInput(f"{self.label} rejected {where} ({exc.status}): {text}", param=exc.param)

    def parse(self, model: type[BaseModel], data: Any, where: str) -> BaseModel:
        """``data`` validated as ``model`` (`RemoteError` saying the body did not match)."""
        try:
            return model.model_validate(data)
        except ValidationError as exc:
            from engmetrics.validation import describe_error

            _, problem = describe_error(exc.errors()[0])
            raise RemoteError(
                f"{self.label} answered {where} with a body that does not match {model.__name__} ({problem}). "
                f"Check that ENGMETRICS_PROVIDER={self.name} matches the API at {public_url(self.url)}."
            ) from None


class EngmetricsProvider(Provider):
    """Our own /v1 API: every operation at its declared route; list objects paged with starting_after."""

    async def call(self, op: Operation, q: BaseModel | None) -> BaseModel:
        from engmetrics.api.shapes import list_shape, path_params

        self.require_key()
        path = "/v1" + op.path
        values = q.model_dump(mode="json", by_alias=True, exclude_none=True) if q is not None else {}
        for name in path_params(op):
            path = path.replace("{" + name + "}", quote(str(values.pop(name, "")), safe=""))
        where = f"{op.method} {path}"
        try:
            if op.method == "POST":
                _, data = await self.http.request("POST", path, body=values)
                return self.parse(op.result_model, data, where)
            shape = list_shape(op)
            if shape is None:
                _, data = await self.http.request("GET", path, params=values)
                return self.parse(op.result_model, data, where)
            return await self._list(op, shape, path, values, where)
        except ProviderError as exc:
            # Our server's 4xx carry the engine's own message: the same error as in local mode.
            if exc.status == 404:
                raise NotFound(exc.message, param=exc.param) from None
            if exc.status == 501 or exc.code == "unsupported":
                raise Unsupported(exc.message) from None
            raise InvalidInput(exc.message or f"{self.label} rejected {where} ({exc.status}).", param=exc.param) from None

    async def _list(self, op: Operation, shape: Any, path: str, values: dict[str, Any], where: str) -> BaseModel:
        from engmetrics.api.shapes import API_MAX_LIMIT

        limit = int(values.pop("limit", 20))
        state = decode_remote_cursor(values.pop("cursor", None))
        after = state.get("a")
        upstream = state.get("c")  # lists whose items have no id page with the server's cursor (next_cursor)
        items: list[Any] = []
        extras: dict[str, Any] = {}
        has_more = by_cursor = False
        while len(items) < limit:
            params = {**values, "limit": min(API_MAX_LIMIT, limit - len(items))}
            if after:
                params["starting_after"] = after
            if upstream:
                params["cursor"] = upstream
            _, body = await self.http.request("GET", path, params=params)
            if not (isinstance(body, dict) and body.get("object") == "list" and isinstance(body.get("data"), list)):
                raise RemoteError(f"{self.label} answered {where} with something other than a list object. Check that "
                                  f"ENGMETRICS_PROVIDER={self.name} matches the API at {public_url(self.url)}.")
            if not extras:
                extras = {k: body[k] for k in shape.extra_fields if k in body}
            page = body["data"]
            items += page
            has_more = bool(body.get("has_more"))
            by_cursor = "next_cursor" in body
            if not has_more or not page:
                break
            if by_cursor:
                upstream = body["next_cursor"]
            elif isinstance(page[-1], dict) and "id" in page[-1]:
                after = page[-1]["id"]
            else:
                break
        cursor = None
        if has_more and items:
            if upstream and by_cursor:
                cursor = encode_remote_cursor({"c": upstream})
            elif isinstance(items[-1], dict) and items[-1].get("id"):
                cursor = encode_remote_cursor({"a": items[-1]["id"]})
        return self.parse(op.result_model, {**extras, shape.items_field: items, "cursor": cursor}, where)


def _provider(settings: Settings, options: RemoteOptions, transport: httpx2.AsyncBaseTransport | None) -> Provider:
    if settings.provider == "upshot":
        return UpshotProvider(settings, options, transport)
    if settings.provider == "koalr":
        return KoalrProvider(settings, options, transport)
    return EngmetricsProvider(settings, options, transport)


# ---- the engine ----------------------------------------------------------------------------------------


class RemoteEngine(Engine):
    """The Engine over an HTTP API (``settings.api_url``, ``settings.provider``); keeps no data of its own.

    Each area is a client generated from the area's interface (`remote_area`): its operations go through
    `call` (one deadline per call), and what the interface offers in process only is `Unsupported` here.
    """

    kind = "remote"

    def __init__(self, settings: Settings, *, options: RemoteOptions | None = None,
                 transport: httpx2.AsyncBaseTransport | None = None) -> None:
        if not settings.api_url:
            raise InvalidInput("Remote mode needs ENGMETRICS_API_URL (e.g. http://metrics.internal:8080).")
        self.settings = settings
        self.options = options or RemoteOptions(deadline_seconds=settings.remote_deadline_seconds)
        self.provider = _provider(settings, self.options, transport)
        super().__init__(**{name: remote_area(name, interface, self) for name, interface in AREA_INTERFACES})

    async def call(self, op: Operation, q: BaseModel | None) -> BaseModel:
        """Answer ``op`` through the provider within one deadline (`RemoteOptions.deadline_seconds`) that
        covers every request, retry and page the answer takes."""
        token = _DEADLINE.set(Deadline(self.options.deadline_seconds))
        try:
            return await self.provider.call(op, q)
        finally:
            _DEADLINE.reset(token)

    async def aclose(self) -> None:
        await self.provider.http.aclose()

    def unsupported(self, what: str) -> Unsupported:
        """The error for what the remote API cannot answer."""
        return Unsupported(f"{self.provider.label} cannot answer {what}.")


def _operation_method(op: Operation) -> Callable[..., Awaitable[BaseModel]]:
    if op.query_model is None:

        async def call_none(self: Any) -> BaseModel:
            return await self.engine.call(op, None)

        method = call_none
    else:

        async def call_one(self: Any, q: BaseModel) -> BaseModel:
            return await self.engine.call(op, q)

        method = call_one
    method.__name__ = method.__qualname__ = op.name
    method.__doc__ = f"{op.summary} (over HTTP: {op.method} /v1{op.path})"
    return method


def _in_process_method(name: str) -> Callable[..., Awaitable[Any]]:
    async def unsupported(self: Any, *args: Any, **kwargs: Any) -> Any:
        if name == "sync":
            raise Unsupported(
                f"In remote mode there is nothing to sync locally: {self.engine.provider.label} keeps its own data up "
                "to date (on an engmetrics API server, `engmetrics api` syncs in the background; `engmetrics sync` "
                "there forces it)."
            )
        raise Unsupported(f"{self.engine.provider.label} cannot answer {name.replace('_', ' ')}: it is only "
                          "available with a local store (unset ENGMETRICS_API_URL).")

    unsupported.__name__ = unsupported.__qualname__ = name
    return unsupported


def remote_area(area: str, interface: type, engine: RemoteEngine) -> Any:
    """An instance of ``interface`` whose operations are answered over HTTP by ``engine``."""
    ops = {op.name: op for op in area_operations(area, interface)}
    namespace: dict[str, Any] = {}
    for name in interface.__abstractmethods__:  # type: ignore[attr-defined]  # ABCs carry it
        namespace[name] = _operation_method(ops[name]) if name in ops else _in_process_method(name)
    cls = type(f"Remote{interface.__name__}", (interface,), namespace)
    instance = cls()
    instance.engine = engine
    return instance


# ---- vendor providers ------------------------------------------------------------------------------------

from engmetrics.models import Model  # noqa: E402
from engmetrics.periods import Window, iso, resolve_window, utcnow  # noqa: E402

_RATINGS = ("elite", "high", "medium", "low")
_HIGHER_IS_BETTER = {"deployment_frequency"}


def _trend_direction(metric: str, trend: str | None) -> str | None:
    """'improving'/'worsening'/'stable' (±5 %) from a relative change such as '+12%', by the metric's polarity."""
    if not trend:
        return None
    try:
        change = float(trend.strip().rstrip("%"))
    except ValueError:
        return None
    if abs(change) <= 5:
        return "stable"
    better = change > 0 if metric in _HIGHER_IS_BETTER else change < 0
    return "improving" if better else "worsening"


def _period(w: Window) -> dict[str, str]:
    return {"from": iso(w.start_ts) or "", "to": iso(w.end_ts) or "", "label": w.label}


def _window_params(q: Any) -> dict[str, str]:
    if q.period or not (q.from_ or q.to):
        return {"period": q.period or "last_30_days"}
    return {k: v for k, v in (("from", q.from_), ("to", q.to)) if v}


class _UpshotFigure(Model):
    value: float | None = None
    unit: str | None = None
    rating: str | None = None
    trend: str | None = None


class _UpshotDora(Model):
    deployment_frequency: _UpshotFigure
    lead_time: _UpshotFigure
    change_failure_rate: _UpshotFigure
    mttr: _UpshotFigure


class _UpshotActivity(Model):
    items: list[dict[str, Any]]
    cursor: str | None = None


class _UpshotContributor(Model):
    contributor: str
    period: str | None = None
    prs_merged: int | None = None
    prs_reviewed: int | None = None
    commits: int
    issues_closed: int | None = None
    lines_added: int
    lines_removed: int
    deploy_contributions: int = 0


class _VendorProvider(Provider):
    """A vendor API: a table of operation name → handler; other operations are `Unsupported`."""

    handlers: dict[str, str] = {}

    async def call(self, op: Operation, q: BaseModel | None) -> BaseModel:
        handler = self.handlers.get(op.name)
        if handler is None:
            raise self.unsupported(op)
        self.require_key()
        try:
            return await getattr(self, handler)(op, q)
        except ProviderError as exc:
            raise self.user_error(exc, op.name) from None

    def shape(self, model: type[BaseModel], data: Any, where: str) -> Any:
        """Validate a vendor body against our reading of its documented shape."""
        return self.parse(model, data, where)


class UpshotProvider(_VendorProvider):
    """Upshot's /v1 (Bearer key): DORA, activity (cursor) and contributor summaries."""

    name = "upshot"
    display = "Upshot's API"
    key_hint = "generate a key in Upshot (Settings → API Keys) and set ENGMETRICS_API_KEY to it."
    handlers = {"get_dora": "_dora", "get_activity": "_activity", "get_contributor_summary": "_contributor"}

    async def _dora(self, op: Operation, q: Any) -> BaseModel:
        if q.repo:
            raise Unsupported("Upshot's API reports DORA metrics per organisation or team, not per repository: "
                              "drop repo (or pass team).")
        window = resolve_window(q.period, q.from_, q.to)
        params = _window_params(q) | ({"team": q.team} if q.team else {})
        _, data = await self.http.request("GET", "/v1/metrics/dora", params=params)
        d = self.shape(_UpshotDora, data, "GET /v1/metrics/dora")

        def fig(name: str, f: _UpshotFigure) -> dict[str, Any]:
            return {"value": f.value, "rating": f.rating if f.rating in _RATINGS else None, "trend": f.trend,
                    "trend_direction": _trend_direction(name, f.trend)}

        df = d.deployment_frequency
        report = {
            "period": _period(window), "repo": None, "team": q.team,
            "benchmark_year": q.benchmark_year or self.settings.benchmark_year,
            "deployment_frequency": {**fig("deployment_frequency", df),
                                     "deployments": round(df.value * window.weeks) if df.value is not None else 0,
                                     "deployment_days_per_week": None},
            "lead_time": {**fig("lead_time", d.lead_time), "changes": 0},
            "change_failure_rate": {**fig("change_failure_rate", d.change_failure_rate), "failed_deployments": 0,
                                    "total_deployments": 0},
            "mttr": {**fig("mttr", d.mttr), "recovered": 0},
            "rework_rate": {"value": None, "unplanned_deployments": 0, "total_deployments": 0},
            "previous_period": _period(window.previous()),
            "notes": [
                "Figures, ratings and trends are Upshot's own; Upshot reports no counts, so deployments is estimated "
                "from the frequency and the other counts are 0.",
                "Upshot reports no deployment rework rate.",
            ],
        }
        return self.parse(op.result_model, report, "GET /v1/metrics/dora")

    async def _activity(self, op: Operation, q: Any) -> BaseModel:
        from engmetrics.models import ActivityItem

        window = resolve_window(q.period, q.from_, q.to)
        state = decode_remote_cursor(q.cursor)
        upstream, skip = state.get("c"), int(state.get("s", 0))
        author = (q.author or "").lower()
        items: list[dict[str, Any]] = []
        next_state: dict[str, Any] | None = None
        while True:
            params: dict[str, Any] = {"from": iso(window.start_ts), "to": iso(window.end_ts), "limit": 100}
            if upstream:
                params["cursor"] = upstream
            _, data = await self.http.request("GET", "/v1/activity", params=params)
            page = self.shape(_UpshotActivity, data, "GET /v1/activity")
            for index in range(skip, len(page.items)):
                raw = page.items[index]
                meta = {k: (v if isinstance(v, str | int | float | bool) or v is None else json.dumps(v))
                        for k, v in (raw.get("metadata") or {}).items()}
                try:
                    item = ActivityItem.model_validate({**raw, "metadata": meta})
                except ValidationError:
                    log.debug("skipping an Upshot activity item we do not model: %s", raw.get("type"))
                    continue
                if q.type and item.type != q.type:
                    continue
                if author and author not in (item.author or "").lower():
                    continue
                if q.repo and str(meta.get("repo", "")).split("/")[-1] != q.repo.split("/")[-1]:
                    continue
                items.append(item.model_dump(mode="json", by_alias=True))
                if len(items) == q.limit:
                    if index + 1 < len(page.items):
                        next_state = {"c": upstream, "s": index + 1} if upstream else {"s": index + 1}
                    elif page.cursor:
                        next_state = {"c": page.cursor}
                    break
            if len(items) == q.limit or not page.cursor:
                break
            upstream, skip = page.cursor, 0
        cursor = encode_remote_cursor(next_state) if next_state else None
        return self.parse(op.result_model, {"items": items, "cursor": cursor}, "GET /v1/activity")

    async def _contributor(self, op: Operation, q: Any) -> BaseModel:
        window = resolve_window(q.period, q.from_, q.to)
        path = f"/v1/contributors/{quote(q.contributor, safe='')}/summary"
        _, data = await self.http.request("GET", path, params=_window_params(q))
        c = self.shape(_UpshotContributor, data, f"GET {path}")
        summary = {
            "contributor": c.contributor, "names": [], "period": window.label, "period_window": _period(window),
            "commits": c.commits, "lines_added": c.lines_added, "lines_removed": c.lines_removed, "files_touched": 0,
            "repos": [], "prs_merged": c.prs_merged, "prs_reviewed": c.prs_reviewed, "issues_closed": c.issues_closed,
            "deploy_contributions": c.deploy_contributions,
        }
        return self.parse(op.result_model, summary, f"GET {path}")


class _KoalrDora(Model):
    deployFrequency: float | None = None  # noqa: N815 - Koalr's names
    leadTime: float | None = None  # noqa: N815
    changeFailureRate: float | None = None  # noqa: N815
    mttr: float | None = None
    tier: str | None = None


class _KoalrPage(Model):
    data: list[dict[str, Any]]
    total: int | None = None
    page: int | None = None


class KoalrProvider(_VendorProvider):
    """Koalr's /api/v1 (X-Koalr-Key, camelCase, rolling ``days`` windows): DORA, deployments, incidents."""

    name = "koalr"
    display = "Koalr's API"
    key_hint = "create a key in Koalr (Settings → API Keys, klr_live_…) and set ENGMETRICS_API_KEY to it."
    api_prefix = "/api/v1"
    handlers = {"get_dora": "_dora", "list_deployments": "_deployments", "list_incidents": "_incidents"}

    def auth_headers(self) -> dict[str, str]:
        return {"X-Koalr-Key": self.secret()} if self.settings.api_key else {}

    @staticmethod
    def days(window: Window) -> int:
        """Koalr's rolling ``days`` for a window ending now; `Unsupported` for one ending in the past."""
        if window.end_ts < utcnow().timestamp() - 3600:
            raise Unsupported("Koalr's API only answers rolling windows that end now (days=N): ask for "
                              "period='last_N_days' (or from='Nd' without to).")
        return max(1, round(window.days))

    async def _team_id(self, team: str | None) -> str | None:
        if not team:
            return None
        _, data = await self.http.request("GET", "/api/v1/teams")
        teams = self.shape(_KoalrPage, data, "GET /api/v1/teams").data
        for t in teams:
            if team in (t.get("id"), t.get("name")) or str(t.get("name", "")).lower() == team.lower():
                return str(t.get("id"))
        names = ", ".join(repr(t.get("name")) for t in teams) or "none"
        raise NotFound(f"Koalr has no team {team!r} (teams: {names}).", param="team")

    async def _dora(self, op: Operation, q: Any) -> BaseModel:
        from engmetrics.ratings import rate

        if q.repo or q.team:
            raise Unsupported("Koalr's API reports DORA metrics for the whole organisation only: drop repo and team.")
        window = resolve_window(q.period, q.from_, q.to)
        _, data = await self.http.request("GET", "/api/v1/metrics/dora", params={"days": self.days(window)})
        d = self.shape(_KoalrDora, data, "GET /api/v1/metrics/dora")
        year = q.benchmark_year or self.settings.benchmark_year
        cfr = round(d.changeFailureRate * 100, 2) if d.changeFailureRate is not None else None
        mttr = round(d.mttr / 60, 2) if d.mttr is not None else None

        def fig(name: str, value: float | None) -> dict[str, Any]:
            return {"value": value, "rating": rate(name, value, year)}

        report = {
            "period": _period(window), "benchmark_year": year,
            "deployment_frequency": {**fig("deployment_frequency", d.deployFrequency),
                                     "deployments": round(d.deployFrequency * window.weeks) if d.deployFrequency else 0,
                                     "deployment_days_per_week": None},
            "lead_time": {**fig("lead_time", d.leadTime), "changes": 0},
            "change_failure_rate": {**fig("change_failure_rate", cfr), "failed_deployments": 0, "total_deployments": 0},
            "mttr": {**fig("mttr", mttr), "recovered": 0},
            "rework_rate": {"value": None, "unplanned_deployments": 0, "total_deployments": 0},
            "previous_period": _period(window.previous()),
            "notes": [
                f"From Koalr (days={self.days(window)}): deployFrequency read as deploys per week, leadTime as hours, "
                "changeFailureRate as a fraction (shown in percent), mttr as minutes (shown in hours); ratings are "
                f"engmetrics' for DORA {year}" + (f" (Koalr's overall tier: {d.tier})" if d.tier else "") + ".",
                "Koalr reports no counts (deployments is estimated from the frequency, others are 0), no trend and "
                "no rework rate.",
            ],
        }
        return self.parse(op.result_model, report, "GET /api/v1/metrics/dora")

    async def _pages(self, path: str, params: dict[str, Any], q: Any, keep: Any) -> tuple[list[dict[str, Any]], int, str | None]:
        """Follow Koalr's ``page`` numbers lazily until ``q.limit`` kept items; (items, total, next cursor)."""
        state = decode_remote_cursor(q.cursor)
        page_no, skip = int(state.get("p", 1)), int(state.get("s", 0))
        items: list[dict[str, Any]] = []
        total = 0
        seen_before = 0
        next_state: dict[str, Any] | None = None
        while True:
            _, data = await self.http.request("GET", path, params={**params, "page": page_no})
            page = self.shape(_KoalrPage, data, f"GET {path}")
            total = page.total if page.total is not None else total
            for index in range(skip, len(page.data)):
                mapped = keep(page.data[index])
                if mapped is None:
                    continue
                items.append(mapped)
                if len(items) == q.limit:
                    if index + 1 < len(page.data):
                        next_state = {"p": page_no, "s": index + 1}
                    break
            seen_before += len(page.data)
            more = bool(page.data) and (page.total is None or (page_no - 1) * len(page.data) + len(page.data) < page.total)
            if len(items) == q.limit:
                if next_state is None and more:
                    next_state = {"p": page_no + 1}
                break
            if not more:
                break
            page_no, skip = page_no + 1, 0
        return items, total, encode_remote_cursor(next_state) if next_state else None

    async def _deployments(self, op: Operation, q: Any) -> BaseModel:
        window = resolve_window(q.period, q.from_, q.to)
        params: dict[str, Any] = {"days": self.days(window)}
        team_id = await self._team_id(q.team)
        if team_id:
            params["teamId"] = team_id

        def keep(d: dict[str, Any]) -> dict[str, Any] | None:
            status = str(d.get("status", "")).lower()
            if status not in ("success", "failure", "failed", "error"):
                return None
            env = str(d.get("env") or "production")
            if q.environment and env.lower() != q.environment.lower():
                return None
            repo = str(d.get("repo") or "")
            if q.repo and repo != q.repo and repo.split("/")[-1] != q.repo.split("/")[-1]:
                return None
            failed = status != "success"
            lead = d.get("leadTimeSecs")
            return {"id": d.get("id"), "repo": repo, "sha": str(d.get("sha") or ""), "environment": env,
                    "status": "failure" if failed else "success", "deployed_at": d.get("deployedAt"),
                    "source": "event", "change_count": 0,
                    "lead_time_hours_median": round(lead / 3600, 2) if isinstance(lead, int | float) else None,
                    "failed": failed, "failure_signal": None, "unplanned": False}

        items, total, cursor = await self._pages("/api/v1/deployments", params, q, keep)
        return self.parse(op.result_model, {"items": items, "total": total, "cursor": cursor}, "GET /api/v1/deployments")

    async def _incidents(self, op: Operation, q: Any) -> BaseModel:
        if q.repo or q.team:
            raise Unsupported("Koalr's API lists incidents for the whole organisation only: drop repo and team.")
        window = resolve_window(q.period, q.from_, q.to)

        def keep(i: dict[str, Any]) -> dict[str, Any] | None:
            status = "resolved" if str(i.get("status", "")).lower() == "resolved" or i.get("resolvedAt") else "open"
            if q.status and status != q.status:
                return None
            secs = i.get("mttrSecs")
            return {"id": i.get("id"), "title": i.get("title") or "", "severity": i.get("severity"), "status": status,
                    "started_at": i.get("startedAt"), "resolved_at": i.get("resolvedAt"),
                    "duration_hours": round(secs / 3600, 2) if isinstance(secs, int | float) else None}

        items, total, cursor = await self._pages("/api/v1/incidents", {"days": self.days(window)}, q, keep)
        return self.parse(op.result_model, {"items": items, "total": total, "cursor": cursor}, "GET /api/v1/incidents")
