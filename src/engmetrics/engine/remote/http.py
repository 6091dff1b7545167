"""One remote API's HTTP client (httpx2): base URL, auth headers, timeouts, retries with backoff, all within the
call's `Deadline`; answers parsed JSON or raises an `EngmetricsError`. Times are in seconds.

Retries (exponential backoff with ±50 % jitter) on connection errors, timeouts, 429 and 5xx — never on other 4xx,
which come back as a `ProviderError` for the provider to word. POSTs carry an Idempotency-Key that stays the same
across retries. The key never appears in a message or a log (`public_url` strips credentials from URLs).

Rate limits, as the providers document them: a 429 is waited out for as long as it asks — ``Retry-After``, else
``X-RateLimit-Reset``, else the ``retry_after`` seconds of the error body (Upshot's), else a backoff — when that wait
fits in the call's deadline and under ``max_wait_seconds``; otherwise the call fails at once saying when to try
again (`RemoteError.retry_after_seconds`). An answer saying ``X-RateLimit-Remaining: 0`` makes the next request of
this client wait for ``X-RateLimit-Reset`` first, so a tool walking pages does not run into the 429 at all.
"""

from __future__ import annotations

import email.utils
import logging
import math
import random
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

import anyio
import httpx2
from pydantic import JsonValue

from engmetrics.engine.remote.deadline import current_deadline
from engmetrics.errors import RemoteError

log = logging.getLogger(__name__)

Primitive = str | int | float | bool | None
Params = Mapping[str, Primitive | Sequence[Primitive]]
"""Query parameters of a request."""


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


def public_url(url: str) -> str:
    """``url`` without user info, query or fragment (credentials never reach a message)."""
    parts = urlsplit(url)
    netloc = parts.hostname or ""
    if parts.port:
        netloc += f":{parts.port}"
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


def reset_wait(value: str | None, now: float) -> float | None:
    """Seconds until an ``X-RateLimit-Reset`` value: a Unix time in seconds (Koalr's "reset timestamp", Upstat's
    convention) or in milliseconds (over 10¹²), else a number of seconds to wait; None when absent or not a number.
    ``now`` is the Unix time."""
    if not value:
        return None
    try:
        r = float(value)
    except ValueError:
        return None
    if r > 1_000_000_000_000:  # epoch milliseconds
        r /= 1000.0
    return max(0.0, r - now) if r > 1_000_000_000 else max(0.0, r)


def retry_after(response: httpx2.Response, now: float) -> float | None:
    """Seconds a 429 asks to wait: Retry-After (seconds or HTTP date), else X-RateLimit-Reset (`reset_wait`), else
    the error body's ``retry_after`` seconds (``{"error": {"retry_after": 45}}``, Upshot's); ``now`` is the Unix
    time. None when the answer says nothing."""
    value = response.headers.get("retry-after")
    if value:
        try:
            return max(0.0, float(value))
        except ValueError:
            try:
                parsed = email.utils.parsedate_to_datetime(value)
            except (TypeError, ValueError):
                parsed = None
            if parsed is not None:
                return max(0.0, parsed.timestamp() - now)
    reset = reset_wait(response.headers.get("x-ratelimit-reset"), now)
    if reset is not None:
        return reset
    try:
        body: JsonValue = response.json()
    except (ValueError, UnicodeDecodeError):
        return None
    err = body.get("error") if isinstance(body, dict) else None
    seconds = err.get("retry_after") if isinstance(err, dict) else None
    if isinstance(seconds, int | float) and not isinstance(seconds, bool):
        return max(0.0, float(seconds))
    return None


class ProviderError(Exception):
    """A 4xx answer (other than 401/403/409/429) that a provider turns into the right user error."""

    def __init__(self, status: int, code: str | None, message: str, param: str | None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.param = status, code, message, param


def _error_fields(data: JsonValue) -> tuple[str, str | None, str | None]:
    """(message, code, param) of an error body: ``{"error": {"message", "code", "param"}}`` or ``{"message"}``."""
    body = data if isinstance(data, dict) else {}
    err = body.get("error")
    err = err if isinstance(err, dict) else {}
    message = str(err.get("message") or body.get("message") or "").strip()
    code, param = err.get("code"), err.get("param")
    return message, code if isinstance(code, str) else None, param if isinstance(param, str) else None


def _message_of(response: httpx2.Response) -> str:
    """The error message in an answer's JSON body ('' for none or a body that is not JSON)."""
    try:
        data: JsonValue = response.json()
    except (ValueError, UnicodeDecodeError):
        return ""
    return _error_fields(data)[0]


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
        self._resume_at = 0.0  # monotonic time before which the API said no request is left (X-RateLimit-Remaining: 0)

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
        return min(o.max_backoff_seconds, o.backoff_seconds * 2.0**attempt) * random.uniform(0.5, 1.5)

    async def request(self, method: str, path: str, *, params: Params | None = None,
                      body: Mapping[str, JsonValue] | None = None) -> JsonValue:
        """Send with retries within the call's deadline; the parsed JSON of a 2xx answer, else an
        `EngmetricsError` (a `RemoteError` saying what was tried and for how long when time ran out)."""
        where = f"{method} {path}"
        headers = {"Idempotency-Key": str(uuid.uuid4())} if method == "POST" else {}
        attempts = self.options.max_retries + 1
        deadline = current_deadline(self.options.deadline_seconds)
        o = self.options
        last: str = ""

        async def pause(seconds: float) -> None:
            left = deadline.remaining()
            if seconds >= left:  # no retry fits: end the call at its deadline, as its error says
                await anyio.sleep(max(0.0, left))
                raise deadline.error(self.label, where)
            await anyio.sleep(seconds)

        for attempt in range(attempts):
            final = attempt == attempts - 1
            await self._hold(where)
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
            self._note_quota(response)
            if status == 429:
                wait = retry_after(response, time.time())
                if wait is None:
                    wait = self._backoff(attempt)
                deadline.note(where, f"HTTP 429, retry after {wait:.3g} s")
                if final or wait > o.max_wait_seconds or wait >= deadline.remaining():
                    raise self._rate_limited(where, wait, _message_of(response))
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
            return self._parse(response, where)
        raise RemoteError(f"{self.label} {last}.")  # pragma: no cover - the loop always returns or raises

    def _note_quota(self, response: httpx2.Response) -> None:
        """Remember when requests may resume if the answer says none is left (``X-RateLimit-Remaining: 0`` with a
        reset); any other answer clears it."""
        self._resume_at = 0.0
        if response.headers.get("x-ratelimit-remaining", "").strip() == "0":
            wait = reset_wait(response.headers.get("x-ratelimit-reset"), time.time())
            if wait:
                self._resume_at = time.monotonic() + wait

    async def _hold(self, where: str) -> None:
        """Wait for the reset the last answer announced (no request left), within the call's deadline and
        ``max_wait_seconds``; otherwise fail at once saying when to try again, without sending anything."""
        hold = self._resume_at - time.monotonic()
        if hold <= 0:
            return
        deadline = current_deadline(self.options.deadline_seconds)
        if hold > self.options.max_wait_seconds or hold >= deadline.remaining():
            raise self._rate_limited(where, hold, "no request left until the rate limit resets")
        deadline.note(where, f"waited {hold:.3g} s for the rate limit to reset")
        log.info("%s: no request left, waiting %.1f s for the reset before %s", self.label, hold, where)
        await anyio.sleep(hold)

    def _rate_limited(self, where: str, wait: float, said: str) -> RemoteError:
        """The error for a rate limit not waited out in this call: what the API said and when to try again."""
        shown = max(1, math.ceil(wait))
        said = said.strip().rstrip(".")
        return RemoteError(f"Rate limited by {self.label} ({where}){': ' + said if said else ''}; retry after {shown} s.",
                           retry_after_seconds=float(shown), status=429)

    def _parse(self, response: httpx2.Response, where: str) -> JsonValue:
        """The JSON of a 2xx answer; the error for any other (401, 403 and 409 here, other 4xx as `ProviderError`)."""
        status = response.status_code
        try:
            data: JsonValue = response.json()
        except (ValueError, UnicodeDecodeError):
            kind = response.headers.get("content-type", "no content type")
            raise RemoteError(
                f"{self.label} answered {where} with HTTP {status} and a body that is not JSON ({kind}). Check that "
                "ENGMETRICS_API_URL points at the API itself and ENGMETRICS_PROVIDER names the right provider.",
                status=status,
            ) from None
        if 200 <= status < 300:
            return data
        message, code, param = _error_fields(data)
        if status == 401:
            raise RemoteError(f"{self.label} rejected the key (401): {self.key_hint}", status=401)
        if status == 403:
            raise RemoteError(f"{self.label} refused {where} (403): the key lacks permission. "
                              + (message or "Use a key with the needed scope."), status=403)
        if status == 409:
            raise RemoteError(f"{self.label} answered {where} with a conflict (409): {message}", status=409)
        raise ProviderError(status, code, message, param)
