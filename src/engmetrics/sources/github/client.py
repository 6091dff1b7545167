"""The GitHub API client: REST and GraphQL requests with pagination, ETags, rate-limit waits and retries.

- **Conditional requests.** A first page may be asked for with ``If-None-Match``: a 304 yields nothing.
- **Limits.** When ``X-RateLimit-Remaining`` is 0 the client waits until ``X-RateLimit-Reset`` (reporting
  the wait through ``on_wait``) instead of failing, up to ``max_wait`` seconds. Secondary rate limits
  (403/429 with ``Retry-After`` or "secondary rate limit") and 5xx/network errors are retried with
  exponential backoff (seconds).
- **GraphQL errors.** Every answer's ``errors`` are read (`graphql_errors`); a GraphQL rate limit is
  waited out like a REST one.
- **Secrets.** The token is sent only in the ``Authorization`` header, never logged or put in a message.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import anyio

from engmetrics.errors import RemoteError
from engmetrics.sources.github.config import DEFAULT_API_URL, graphql_url
from engmetrics.sources.github.graphql_errors import GraphQLError, smaller_may_help

if TYPE_CHECKING:  # imported where used (see GitHubClient.__init__)
    import httpx2

log = logging.getLogger(__name__)

WaitFn = Callable[[str, float], Awaitable[None]]
"""Called while waiting on a rate limit: (message, seconds left)."""


def _next_link(resp: httpx2.Response) -> str | None:
    """The ``Link: rel=next`` URL of a REST answer, if any."""
    link = resp.headers.get("link") or ""
    for part in link.split(","):
        m = re.search(r"<([^>]+)>\s*;\s*rel=\"?next\"?", part)
        if m:
            return m.group(1)
    return None


@dataclass
class ClientStats:
    """Requests made (conditional ones apart), 304s, retries and seconds spent waiting on limits."""

    requests: int = 0
    conditional: int = 0
    not_modified: int = 0
    retries: int = 0
    waited_seconds: float = 0.0
    bytes: int = 0


class GitHubClient:
    """An async GitHub API client (httpx2) with pagination, ETags, rate-limit waits and retries."""

    def __init__(
        self,
        token: str | None,
        api_url: str | None = None,
        *,
        on_wait: WaitFn | None = None,
        max_wait: float = 3600.0,
        max_retries: int = 5,
        backoff: float = 1.0,
        timeout: float = 30.0,
    ) -> None:
        self.api_url = (api_url or DEFAULT_API_URL).rstrip("/")
        self.graphql_url = graphql_url(self.api_url)
        self.on_wait = on_wait
        self.max_wait = max_wait
        self.max_retries = max_retries
        self.backoff = backoff
        self.stats = ClientStats()
        headers = {
            "Accept": "application/vnd.github+json",
            "X-GitHub-Api-Version": "2022-11-28",
            "User-Agent": "engmetrics",
        }
        if token:
            headers["Authorization"] = f"Bearer {token}"
        self._has_token = bool(token)
        import httpx2  # lazy: httpx2 is heavy, and the engine imports this module at start-up

        self._http = httpx2.AsyncClient(headers=headers, timeout=timeout, follow_redirects=True)

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self._http.aclose()

    async def __aenter__(self) -> GitHubClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    def _url(self, path: str) -> str:
        return path if path.startswith(("http://", "https://")) else f"{self.api_url}/{path.lstrip('/')}"

    async def _wait(self, seconds: float, message: str) -> None:
        if seconds > self.max_wait:
            raise RemoteError(
                f"{message}, which is longer than the allowed wait ({self.max_wait:.0f} s). Run the sync again later "
                "or raise github_max_wait_seconds.",
                retry_after_seconds=seconds,
                status=429,
            )
        log.warning("%s", message)
        self.stats.waited_seconds += seconds
        left = seconds
        while left > 0:
            if self.on_wait is not None:
                await self.on_wait(message, left)
            step = min(left, 5.0)
            await anyio.sleep(step)
            left -= step

    async def request(
        self, method: str, path: str, *, params: dict[str, Any] | None = None, body: Any = None, etag: str | None = None,
        max_retries: int | None = None,
    ) -> httpx2.Response:
        """One API call with retries; returns the response (status 200–299 or 304).

        ``max_retries``: retries of a 5xx answer or a network error (default: the client's ``max_retries``)."""
        import httpx2  # lazy: httpx2 is heavy, and the engine imports this module at start-up

        retries = self.max_retries if max_retries is None else max_retries
        url = self._url(path)
        headers = {"If-None-Match": etag} if etag else {}
        attempt = 0
        while True:
            self.stats.requests += 1
            if etag:
                self.stats.conditional += 1
            try:
                resp = await self._http.request(method, url, params=params, json=body, headers=headers)
            except httpx2.TransportError as exc:
                if attempt >= retries:
                    raise RemoteError(
                        f"Cannot reach the GitHub API at {self.api_url} ({type(exc).__name__}). Check the network or "
                        "GITHUB_API_URL."
                    ) from None
                attempt += 1
                self.stats.retries += 1
                await anyio.sleep(self.backoff * 2 ** (attempt - 1))
                continue
            self.stats.bytes += len(resp.content)
            if resp.status_code == 304:
                self.stats.not_modified += 1
                return resp
            if resp.status_code < 300:
                return resp
            delay = self._retry_delay(resp, attempt, retries)
            if delay is None:
                raise self._error(resp)
            if isinstance(delay, tuple):  # primary rate limit: wait for the reset, not counted as a retry
                await self._wait(delay[0], delay[1])
                continue
            attempt += 1
            self.stats.retries += 1
            log.info("GitHub %s %s: HTTP %s, retrying in %.1f s", method, resp.url.path, resp.status_code, delay)
            await anyio.sleep(delay)

    def _retry_delay(self, resp: httpx2.Response, attempt: int, retries: int) -> float | tuple[float, str] | None:
        """Seconds to wait before retrying, (seconds, message) for a primary rate limit, or None to fail."""
        status = resp.status_code
        if status in (403, 429):
            text = resp.text.lower()
            if resp.headers.get("x-ratelimit-remaining") == "0" and "secondary" not in text:
                reset = float(resp.headers.get("x-ratelimit-reset") or time.time() + 60)
                seconds = max(1.0, reset - time.time() + 1)
                at = datetime.fromtimestamp(reset, UTC).strftime("%H:%M:%S UTC")
                return seconds, f"GitHub rate limit reached: waiting {seconds:.0f} s until it resets at {at}"
            if "retry-after" in resp.headers or "secondary rate limit" in text or status == 429:
                if attempt >= self.max_retries:
                    return None
                retry_after = resp.headers.get("retry-after")
                return float(retry_after) if retry_after and retry_after.isdigit() else self.backoff * 60 * 2.0**attempt
            return None
        if status >= 500 and attempt < retries:
            return self.backoff * 2.0**attempt
        return None

    def _error(self, resp: httpx2.Response) -> RemoteError:
        try:
            detail = str(resp.json().get("message", ""))[:200]
        except (ValueError, AttributeError):
            detail = ""
        status = resp.status_code
        if status == 401:
            how = "The token was rejected" if self._has_token else "No token was sent"
            return RemoteError(
                f"GitHub answered 401 ({detail or 'Bad credentials'}). {how}: set GITHUB_TOKEN or ENGMETRICS_GITHUB_TOKEN "
                "to a valid token with read access to the repository.",
                status=401,
            )
        if status == 404:
            return RemoteError(
                f"GitHub has no {resp.url.path} (404), or the token cannot see it. Check the 'owner/name' in "
                "github_repos and the token's repository access.",
                status=404,
            )
        if status == 403 or status == 429:
            return RemoteError(
                f"GitHub refused the request ({status}: {detail or 'forbidden'}) after retries. Wait a few minutes "
                "and sync again, or check the token's permissions.",
                status=status,
            )
        return RemoteError(
            f"GitHub answered HTTP {status} for {resp.url.path} ({detail or 'no message'}). Run the sync again later; "
            "if it persists, check https://www.githubstatus.com and the repository's settings.",
            status=status,
        )

    async def pages(self, path: str, params: dict[str, Any], etag: str | None = None) -> AsyncIterator[tuple[list[Any], httpx2.Response]]:
        """REST pages (following ``Link: rel=next``); the first is conditional on ``etag`` (a 304 yields nothing)."""
        resp = await self.request("GET", path, params=params, etag=etag)
        while True:
            if resp.status_code == 304:
                return
            data = resp.json()
            if not isinstance(data, list):
                raise RemoteError(f"GitHub answered {resp.url.path} with {type(data).__name__}, not a list.")
            yield data, resp
            nxt = _next_link(resp)
            if nxt is None:
                return
            resp = await self.request("GET", nxt)

    async def graphql(self, query: str, variables: dict[str, Any]) -> dict[str, Any]:
        """A GraphQL query's ``data``; any error in the answer raises `GraphQLError`."""
        data, _, _ = await self.graphql_page(query, variables)
        assert data is not None
        return data

    async def graphql_page(
        self, query: str, variables: dict[str, Any], *, raw: bool = False, partial: bool = False,
        retries_5xx: int | None = None,
    ) -> tuple[dict[str, Any] | None, bytes | None, list[dict[str, Any]]]:
        """One GraphQL request: (``data``, None, errors).

        GitHub answers errors with HTTP 200 and an ``errors`` list, sometimes beside partial ``data``;
        every answer's ``errors`` is read. A rate limit (``RATE_LIMITED``) is waited out like a REST one.
        Other errors raise `GraphQLError` — unless ``partial`` and the answer has ``data`` and none of
        them is a timeout or a node limit: then the data comes back with the errors, for the caller to
        keep what is whole. With ``raw``, a body with no ``"errors"`` in it is returned unparsed as
        (None, body, []) (the caller parses what it needs). ``retries_5xx``: retries of a 5xx answer
        (default: the client's); a 502/504 left after them raises a `GraphQLError` that a smaller
        query may avoid (GitHub answers so when a query runs too long).
        """
        while True:
            try:
                resp = await self.request("POST", self.graphql_url, body={"query": query, "variables": variables},
                                          max_retries=retries_5xx)
            except RemoteError as exc:
                if exc.status in (502, 504):
                    raise GraphQLError(
                        f"GitHub's GraphQL API answered HTTP {exc.status} (it does so when a query runs too long)",
                        errors=[], smaller_may_help=True, status=exc.status,
                    ) from None
                raise
            if raw and b'"errors"' not in resp.content:
                return None, resp.content, []
            try:
                payload = resp.json()
            except ValueError:
                raise RemoteError("GitHub's GraphQL API answered with something that is not JSON.") from None
            if not isinstance(payload, dict):
                raise RemoteError("GitHub's GraphQL API answered with something that is not a JSON object.")
            errors = [e if isinstance(e, dict) else {"message": str(e)} for e in payload.get("errors") or []]
            data = payload.get("data")
            if errors:
                if any(e.get("type") == "RATE_LIMITED" for e in errors):
                    reset = float(resp.headers.get("x-ratelimit-reset") or time.time() + 60)
                    await self._wait(max(1.0, reset - time.time() + 1), "GitHub GraphQL rate limit reached: waiting for reset")
                    continue
                smaller = any(smaller_may_help(e) for e in errors)
                if smaller or not partial or not isinstance(data, dict):
                    raise GraphQLError.from_errors(errors, smaller_may_help=smaller)
            if not isinstance(data, dict):
                raise RemoteError("GitHub's GraphQL API answered without data.")
            return data, None, errors
