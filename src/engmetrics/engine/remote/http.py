"""One remote API's HTTP client (httpx2): base URL, auth headers, timeouts, retries with backoff, all within the
call's `Deadline`; answers parsed JSON or raises an `EngmetricsError`. Times are in seconds.

Retries (exponential backoff with ±50 % jitter) on connection errors, timeouts, 429 (honouring Retry-After /
X-RateLimit-Reset, up to a cap) and 5xx — never on other 4xx, which come back as a `ProviderError` for the
provider to word. POSTs carry an Idempotency-Key that stays the same across retries. The key never appears in a
message or a log (`public_url` strips credentials from URLs).
"""

from __future__ import annotations

import email.utils
import logging
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


def retry_after(response: httpx2.Response, now: float) -> float | None:
    """Seconds to wait from Retry-After (seconds or HTTP date) or X-RateLimit-Reset (epoch seconds or a delta);
    ``now`` is the Unix time."""
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
                wait = retry_after(response, time.time())
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
            return self._parse(response, where)
        raise RemoteError(f"{self.label} {last}.")  # pragma: no cover - the loop always returns or raises

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
