"""The Cursor AI Code Tracking API client (httpx2): JSON pages and CSV downloads of commits and changes.

- **Endpoints.** ``GET /analytics/ai-code/commits`` and ``/analytics/ai-code/changes`` (JSON pages: ``page`` from 1,
  ``pageSize`` up to 1000), and their ``.csv`` downloads (streamed, read row by row as they arrive). Every endpoint
  takes ``startDate``/``endDate`` (an ISO date or time, ``now``, or ``7d`` = seven days ago) and ``user`` (an
  email, an encoded id ``user_…`` or a numeric id).
- **Authentication.** Basic authentication with the Admin API key as the user name; the key is sent only in the
  ``Authorization`` header, never logged nor put in a message.
- **Rate limit.** Cursor allows 5 requests a minute per endpoint. The client paces itself (a sixth request within
  a minute on one endpoint waits for the oldest to leave the minute) and, should Cursor still answer 429, waits
  (``Retry-After``, else a minute) and retries: a 429 is never an error. Every wait is said through ``on_wait``
  (message, seconds) and logged; only when the waits of one client add up to more than ``max_wait`` seconds does
  it give up, with a `RemoteError` saying so. 5xx answers and network errors are retried with backoff (seconds).
"""

from __future__ import annotations

import csv
import io
import json
import logging
import re
import time
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import anyio

from engmetrics.errors import InvalidInput, RemoteError

if TYPE_CHECKING:  # imported where used (see CursorClient.__init__)
    import httpx2

log = logging.getLogger(__name__)

DEFAULT_API_URL = "https://api.cursor.com"
COMMITS = "/analytics/ai-code/commits"
CHANGES = "/analytics/ai-code/changes"
MAX_PAGE_SIZE = 1000
REQUESTS_PER_MINUTE = 5

WaitFn = Callable[[str, float], Awaitable[None]]
"""Called before each wait on a rate limit: (message, seconds)."""

_DATE = re.compile(r"now|\d{1,4}d|\d{4}-\d{2}-\d{2}([T ][0-9:.]+(Z|[+-]\d{2}:?\d{2})?)?", re.IGNORECASE)


def cursor_date(value: str, param: str = "startDate") -> str:
    """``value`` as Cursor's ``startDate``/``endDate`` take it (ISO date or time, ``now``, ``Nd``); `InvalidInput`
    otherwise."""
    v = value.strip()
    if not _DATE.fullmatch(v):
        raise InvalidInput(f"{param}={value!r} is not a date Cursor accepts: an ISO date such as 2025-07-01, an ISO "
                           "time, 'now', or '7d' (seven days ago).", param=param)
    return v.lower() if v.lower() == "now" or v[-1:].lower() == "d" else v


@dataclass
class CursorStats:
    """Requests made, pages and CSV rows read, retries, rate-limit waits and the seconds they took."""

    requests: int = 0
    pages: int = 0
    rows: int = 0
    retries: int = 0
    waits: int = 0
    waited_seconds: float = 0.0


class CsvRows:
    """CSV records from text arriving in chunks: a record ends at a newline outside quotes (quoted fields may hold
    newlines). Feed chunks with `feed`, then `finish`; each returns the complete rows (header first)."""

    def __init__(self) -> None:
        self._buffer = ""
        self._quoted = False
        self._scanned = 0

    def _split(self, final: bool) -> list[list[str]]:
        cut = -1
        for i in range(self._scanned, len(self._buffer)):
            ch = self._buffer[i]
            if ch == '"':
                self._quoted = not self._quoted
            elif ch == "\n" and not self._quoted:
                cut = i
        self._scanned = len(self._buffer)
        if final:
            cut = len(self._buffer) - 1
        if cut < 0:
            return []
        done, self._buffer = self._buffer[: cut + 1], self._buffer[cut + 1:]
        self._scanned = len(self._buffer)
        return [row for row in csv.reader(io.StringIO(done)) if row]

    def feed(self, chunk: str) -> list[list[str]]:
        """The rows completed by ``chunk``."""
        self._buffer += chunk
        return self._split(final=False)

    def finish(self) -> list[list[str]]:
        """The last rows (the text left after the final newline, if any)."""
        return self._split(final=True)


class CursorClient:
    """An async client of Cursor's AI Code Tracking API (see the module docstring)."""

    def __init__(
        self,
        api_key: str,
        api_url: str | None = None,
        *,
        page_size: int = MAX_PAGE_SIZE,
        per_minute: int = REQUESTS_PER_MINUTE,
        window_seconds: float = 60.0,
        on_wait: WaitFn | None = None,
        max_wait: float = 3600.0,
        max_retries: int = 5,
        backoff: float = 1.0,
        timeout: float = 60.0,
        transport: httpx2.AsyncBaseTransport | None = None,
    ) -> None:
        if not api_key:
            raise InvalidInput("No Cursor API key: set ENGMETRICS_CURSOR_API_KEY to an Admin API key (Cursor dashboard "
                               "→ Settings → API keys; the AI Code Tracking API is for Enterprise teams).")
        self.api_url = (api_url or DEFAULT_API_URL).rstrip("/")
        self.page_size = max(1, min(MAX_PAGE_SIZE, page_size))
        self.per_minute = max(1, per_minute)
        self.window = window_seconds
        self.on_wait = on_wait
        self.max_wait = max_wait
        self.max_retries = max_retries
        self.backoff = backoff
        self.stats = CursorStats()
        self._sent: dict[str, deque[float]] = {}
        import httpx2  # lazy: httpx2 is heavy, and the engine imports this module at start-up

        self._http = httpx2.AsyncClient(
            auth=httpx2.BasicAuth(api_key, ""), timeout=timeout, transport=transport,
            headers={"Accept": "application/json", "User-Agent": "engmetrics"},
        )

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self._http.aclose()

    async def __aenter__(self) -> CursorClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    # ---- waiting -------------------------------------------------------------------------------------------

    async def _wait(self, seconds: float, message: str) -> None:
        """Wait ``seconds``, saying so; `RemoteError` once this client's waits would pass ``max_wait``."""
        if self.stats.waited_seconds + seconds > self.max_wait:
            raise RemoteError(
                f"{message}, but this sync has already waited {self.stats.waited_seconds:.0f} s on Cursor's rate limit "
                f"(the limit is {self.max_wait:.0f} s, ENGMETRICS_AI_MAX_WAIT_SECONDS). Run `engmetrics ai sync` "
                "again later: it continues where it stopped.",
                retry_after_seconds=seconds, status=429,
            )
        log.warning("%s", message)
        self.stats.waits += 1
        self.stats.waited_seconds += seconds
        if self.on_wait is not None:
            await self.on_wait(message, seconds)
        await anyio.sleep(seconds)

    async def _pace(self, endpoint: str) -> None:
        """Wait until one more request to ``endpoint`` stays within ``per_minute`` requests per window. Requests are
        counted from when their answer arrived (never earlier than Cursor saw them), so the pace errs on the safe
        side."""
        sent = self._sent.setdefault(endpoint, deque())
        now = time.monotonic()
        while sent and now - sent[0] >= self.window:
            sent.popleft()
        if len(sent) >= self.per_minute:
            delay = self.window - (now - sent[0])
            if delay > 0:
                await self._wait(delay, f"Cursor allows {self.per_minute} requests a minute on {endpoint}: waiting "
                                        f"{delay:.1f} s before the next one")
            sent.popleft()

    def _sent_now(self, endpoint: str) -> None:
        """Count a request to ``endpoint`` whose answer just arrived."""
        self._sent.setdefault(endpoint, deque()).append(time.monotonic())

    # ---- requests ------------------------------------------------------------------------------------------

    def _error(self, status: int, endpoint: str, detail: str) -> RemoteError:
        said = f" ({detail[:200]})" if detail else ""
        if status == 401:
            return RemoteError(f"Cursor answered 401 on {endpoint}{said}: the API key was rejected. Set "
                               "ENGMETRICS_CURSOR_API_KEY to a valid Admin API key (Cursor dashboard → Settings → API "
                               "keys).", status=401)
        if status == 403:
            return RemoteError(f"Cursor answered 403 on {endpoint}{said}: the key may not read AI code tracking data "
                               "(an Enterprise feature; the key must be an Admin API key of that team).", status=403)
        if status == 404:
            return RemoteError(f"Cursor has no {endpoint} at {self.api_url} (404){said}. Check ENGMETRICS_CURSOR_API_URL "
                               f"(default {DEFAULT_API_URL}).", status=404)
        return RemoteError(f"Cursor answered HTTP {status} on {endpoint}{said}. Try `engmetrics ai sync` again later.",
                           status=status)

    @staticmethod
    def _retry_after(headers: httpx2.Headers, default: float) -> float:
        value = (headers.get("retry-after") or "").strip()
        try:
            return max(0.0, float(value)) if value else default
        except ValueError:
            return default

    async def _send(self, endpoint: str, params: dict[str, Any], *, stream: bool) -> httpx2.Response:
        """One request (paced) with its retries: a response with status < 300 (streamed when ``stream``)."""
        import httpx2  # lazy: httpx2 is heavy, and the engine imports this module at start-up

        attempt = 0
        while True:
            await self._pace(endpoint)
            self.stats.requests += 1
            try:
                request = self._http.build_request("GET", self.api_url + endpoint, params=params)
                resp = await self._http.send(request, stream=stream)
                self._sent_now(endpoint)
            except httpx2.TransportError as exc:
                if attempt >= self.max_retries:
                    raise RemoteError(f"Cannot reach Cursor's API at {self.api_url} ({type(exc).__name__}). Check the "
                                      "network or ENGMETRICS_CURSOR_API_URL.") from None
                attempt += 1
                self.stats.retries += 1
                await anyio.sleep(self.backoff * 2 ** (attempt - 1))
                continue
            if resp.status_code < 300:
                return resp
            body = (await resp.aread()).decode("utf-8", errors="replace")
            await resp.aclose()
            if resp.status_code == 429:
                seconds = self._retry_after(resp.headers, self.window)
                await self._wait(seconds, f"Cursor answered 429 (rate limit: {self.per_minute} requests a minute per "
                                          f"endpoint) on {endpoint}: waiting {seconds:.1f} s, then retrying")
                continue
            if resp.status_code >= 500 and attempt < self.max_retries:
                attempt += 1
                self.stats.retries += 1
                await anyio.sleep(self.backoff * 2 ** (attempt - 1))
                continue
            detail = body.strip().splitlines()[0] if body.strip() else ""
            try:
                payload = json.loads(body)
                if isinstance(payload, dict):
                    detail = str(payload.get("message") or payload.get("error") or "")
            except ValueError:
                pass
            raise self._error(resp.status_code, endpoint, detail)

    @staticmethod
    def _params(start: str, end: str, user: str | None) -> dict[str, Any]:
        params: dict[str, Any] = {"startDate": cursor_date(start, "startDate"), "endDate": cursor_date(end, "endDate")}
        if user:
            params["user"] = user
        return params

    async def pages(self, endpoint: str, start: str, end: str = "now", user: str | None = None
                    ) -> AsyncIterator[list[dict[str, Any]]]:
        """The items of every JSON page of ``endpoint`` (`COMMITS` or `CHANGES`) for the dates, page by page."""
        page = 1
        while True:
            params = {**self._params(start, end, user), "page": page, "pageSize": self.page_size}
            resp = await self._send(endpoint, params, stream=False)
            try:
                data = resp.json()
            except ValueError:
                raise RemoteError(f"Cursor answered {endpoint} page {page} with something that is not JSON.") from None
            items = data.get("items", data.get("data")) if isinstance(data, dict) else data
            if not isinstance(items, list):
                raise RemoteError(f"Cursor answered {endpoint} page {page} without a list of items.")
            self.stats.pages += 1
            rows = [i for i in items if isinstance(i, dict)]
            self.stats.rows += len(rows)
            yield rows
            total = data.get("totalCount") if isinstance(data, dict) else None
            if len(items) < self.page_size or not items or (isinstance(total, int) and page * self.page_size >= total):
                return
            page += 1

    async def csv_rows(self, endpoint: str, start: str, end: str = "now", user: str | None = None
                       ) -> AsyncIterator[tuple[int, dict[str, str]]]:
        """(record number from 1, row by column) of ``endpoint``'s CSV download (``endpoint`` + '.csv'), read while
        it streams."""
        resp = await self._send(endpoint + ".csv", self._params(start, end, user), stream=True)
        parser = CsvRows()
        header: list[str] | None = None
        number = 0
        try:
            async for chunk in resp.aiter_text():
                for row in parser.feed(chunk):
                    if header is None:
                        header = [h.strip() for h in row]
                        continue
                    number += 1
                    self.stats.rows += 1
                    yield number, dict(zip(header, row, strict=False))
            for row in parser.finish():
                if header is None:
                    header = [h.strip() for h in row]
                    continue
                number += 1
                self.stats.rows += 1
                yield number, dict(zip(header, row, strict=False))
        finally:
            await resp.aclose()
