"""The GitHub source: pull requests (with reviews and commits), deployments, releases and incident issues.

- **Calls.** Pull requests come from GraphQL, 100 per request with their commits, reviews (with comment
  counts and the first `REVIEW_COMMENTS` comments of each: author, time, path), ready-for-review time and
  linked issues (one request instead of four per PR). Deployments
  (and their statuses), releases and issues come from REST, paginated by ``Link`` headers.
- **Ids.** GitHub's ids are 64-bit: review and review-comment ids are read as ``fullDatabaseId`` (GraphQL's
  ``BigInt``, a string; the deprecated 32-bit ``databaseId`` cannot carry ids above 2^31 − 1) and stored
  as text; REST ids (deployments, releases) are JSON numbers, stored as SQLite's 64-bit integers.
- **Incremental.** Each endpoint's first page is a conditional request (``If-None-Match`` with the ETag
  stored in ``github_etags``): a 304 means nothing changed and nothing else is fetched, so a re-sync with
  nothing new costs one conditional request per endpoint (and one per deployment still pending). Otherwise
  items are read newest-updated first and reading stops at the stored ``updated_at`` cursor
  (``sync_cursors``). Each page is written in one transaction; cursors and ETags are written last, so a
  crash leaves a consistent store and the next sync completes it. Re-running changes nothing.
- **GraphQL errors.** Every answer's ``errors`` are read (GitHub sends them with HTTP 200, sometimes with
  partial ``data``). A timeout or a node/resource limit asks for the page again with half as many PRs,
  down to `PR_PAGE_FLOOR`; errors inside some PRs of a page leave those PRs out (the others are whole,
  and the cursor stays at or before the ones left out, so the next sync reads them again); anything
  else stops the PR fetch. Each of the four parts (PRs, deployments, releases, issues) is synced on its
  own: a failure is a note in the result (GitHub's message and what to do), and the others still run.
- **Limits.** When ``X-RateLimit-Remaining`` is 0 the client waits until ``X-RateLimit-Reset`` (reporting
  the wait through ``on_wait``) instead of failing, up to ``max_wait`` seconds. Secondary rate limits
  (403/429 with ``Retry-After`` or "secondary rate limit") and 5xx/network errors are retried with
  exponential backoff.
- **Secrets.** The token (``ENGMETRICS_GITHUB_TOKEN``, else ``GITHUB_TOKEN``) is sent only in the
  ``Authorization`` header; it is never logged, stored or put in an error message.
- ``GITHUB_API_URL`` (or ``github_api_url``) points at GitHub Enterprise (``https://host/api/v3``; its
  GraphQL endpoint is ``https://host/api/graphql``).

Mapping: a PR's state is ``merged``/``closed``/``open``; reviewers and authors are lowercase logins.
GitHub deployments become deployment events (id ``github:<owner/name>:<id>``) once their newest status
(`newest_status`: the latest ``created_at``, not the first listed) is final: ``success``, or ``inactive``
(a success replaced later; at the time of the success) → ``success``; ``failure`` or ``error`` →
``failure``; at the time of that status. A deployment not final yet waits in
``github_pending_deployments``, and each sync reads its statuses again (conditionally) until it is,
for `PENDING_RECHECK_DAYS`. Issues labelled ``incident_label`` become incidents (started at
creation, resolved at closing; the sha from a ``root cause: <sha>`` line, or the merge commit of a PR it
names as ``root cause: #123``; severity from a ``sev…``/``severity…`` label).
"""

from __future__ import annotations

import json
import logging
import os
import re
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import anyio
import anyio.abc

from engmetrics.errors import EngmetricsError, RemoteError
from engmetrics.sources.git import defer_indexes, restore_deferred_indexes
from engmetrics.store.db import Store

if TYPE_CHECKING:  # imported where used: the PR writer process (`_pr_writer_main`) does not need it
    import httpx2

log = logging.getLogger(__name__)

DEFAULT_API_URL = "https://api.github.com"
PR_PAGE_SIZE = 100
PR_PAGE_FLOOR = 6
"""The fewest pull requests a page asks for after GitHub timeouts or node limits (100 halved: 50, 25, 12, 6)."""
PR_WRITE_BATCH = 1000  # pull requests per write transaction
REVIEW_COMMENTS = 20  # comments read per review
PR_REVIEWS = 40
"""Reviews read per PR. GitHub charges a GraphQL query by the requests its nested connections imply:
100 PRs x 40 reviews asking for comments is 4,000 → about 44 points per page of 100 PRs (100 reviews per
PR would be about 104), so a 10,000-PR first sync stays within one hour's 5,000-point budget."""
WaitFn = Callable[[str, float], Awaitable[None]]
"""Called while waiting on a rate limit: (message, seconds left)."""

PR_QUERY = """
query($owner: String!, $name: String!, $cursor: String, $n: Int!) {
  repository(owner: $owner, name: $name) {
    pullRequests(first: $n, after: $cursor, orderBy: {field: UPDATED_AT, direction: DESC}) {
      pageInfo { hasNextPage endCursor }
      nodes {
        number title state isDraft createdAt updatedAt mergedAt closedAt
        author { login }
        baseRefName headRefName headRefOid additions deletions changedFiles
        mergeCommit { oid }
        labels(first: 20) { nodes { name } }
        commits(first: 100) { totalCount nodes { commit { oid authoredDate committedDate author { email } } } }
        reviews(first: $reviews) { nodes { fullDatabaseId author { login } state submittedAt
          comments(first: $comments) { totalCount nodes { fullDatabaseId author { login } createdAt path } } } }
        timelineItems(itemTypes: [READY_FOR_REVIEW_EVENT], last: 1) { nodes { ... on ReadyForReviewEvent { createdAt } } }
        closingIssuesReferences(first: 5) { nodes { number createdAt } }
      }
    }
  }
}
""".replace("$comments", str(REVIEW_COMMENTS)).replace("$reviews", str(PR_REVIEWS))


def resolve_token(settings: Any = None) -> str | None:
    """The GitHub token: settings.github_token (ENGMETRICS_GITHUB_TOKEN), else GITHUB_TOKEN; None if unset."""
    secret = getattr(settings, "github_token", None) if settings is not None else None
    if secret is not None and secret.get_secret_value().strip():
        return secret.get_secret_value().strip()
    env = os.environ.get("ENGMETRICS_GITHUB_TOKEN") or os.environ.get("GITHUB_TOKEN")
    return env.strip() if env and env.strip() else None


def resolve_api_url(settings: Any = None) -> str:
    """The REST base URL: settings.github_api_url, else GITHUB_API_URL, else https://api.github.com."""
    url = (getattr(settings, "github_api_url", None) if settings is not None else None) or os.environ.get("GITHUB_API_URL")
    return (url or DEFAULT_API_URL).rstrip("/")


def graphql_url(api_url: str) -> str:
    """GraphQL endpoint for a REST base URL (GitHub Enterprise: …/api/v3 → …/api/graphql)."""
    if api_url.endswith("/api/v3"):
        return api_url[: -len("/v3")] + "/graphql"
    return api_url + "/graphql"


def parse_slug(value: str) -> tuple[str, str | None]:
    """``owner/name`` or ``owner/name=<local repo name>`` → (owner/name, local name or None)."""
    slug, _, local = value.strip().partition("=")
    slug = slug.strip().removeprefix("https://github.com/").removesuffix(".git").strip("/")
    if not re.fullmatch(r"[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+", slug):
        from engmetrics.errors import InvalidInput

        raise InvalidInput(f"GitHub repository {value!r} must look like 'owner/name' (optionally 'owner/name=local-repo').")
    return slug, (local.strip() or None)


_fromisoformat = datetime.fromisoformat


def _ts(value: str | None) -> int | None:
    """GitHub's ISO 8601 time (``2025-01-02T03:04:05Z``) as Unix seconds (None for null).

    `datetime.fromisoformat` (C, accepts ``Z`` since Python 3.11) is the fastest exact parse: ~1 µs.
    """
    if not value:
        return None
    return int(_fromisoformat(value).timestamp())


def _next_link(resp: httpx2.Response) -> str | None:
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
        import httpx2

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
        import httpx2

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
                return float(retry_after) if retry_after and retry_after.isdigit() else self.backoff * 60 * 2**attempt
            return None
        if status >= 500 and attempt < retries:
            return self.backoff * 2**attempt
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
                smaller = any(_smaller_may_help(e) for e in errors)
                if smaller or not partial or not isinstance(data, dict):
                    raise GraphQLError.from_errors(errors, smaller_may_help=smaller)
            if not isinstance(data, dict):
                raise RemoteError("GitHub's GraphQL API answered without data.")
            return data, None, errors


_SMALLER_HELPS = {"MAX_NODE_LIMIT_EXCEEDED", "RESOURCE_LIMITS_EXCEEDED"}
_TIMEOUT_WORDS = ("something went wrong while executing your query", "timeout", "timed out")


def _smaller_may_help(error: dict[str, Any]) -> bool:
    """Whether a GraphQL error is one a query for fewer nodes may avoid: GitHub's node and resource limits
    (``MAX_NODE_LIMIT_EXCEEDED``, ``RESOURCE_LIMITS_EXCEEDED``) and its timeouts ("Something went wrong
    while executing your query. This may be the result of a timeout…", no type)."""
    if error.get("type") in _SMALLER_HELPS:
        return True
    message = str(error.get("message") or "").lower()
    return not error.get("path") and any(w in message for w in _TIMEOUT_WORDS)


class GraphQLError(RemoteError):
    """GitHub answered a GraphQL query with ``errors``.

    ``errors``: GitHub's error objects (message, type, path); ``smaller_may_help``: a timeout or a node or
    resource limit, which a query for fewer nodes may avoid.
    """

    def __init__(self, message: str, *, errors: list[dict[str, Any]], smaller_may_help: bool = False,
                 status: int | None = None) -> None:
        super().__init__(message, status=status)
        self.errors = errors
        self.smaller_may_help = smaller_may_help

    @classmethod
    def from_errors(cls, errors: list[dict[str, Any]], *, smaller_may_help: bool) -> GraphQLError:
        """The error for an answer's ``errors``: GitHub's first message (and how many more there were)."""
        first = errors[0]
        kind = first.get("type")
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        advice = (". Check the 'owner/name' in github_repos and the token's access to the repository"
                  if kind == "NOT_FOUND" else "")
        return cls(
            f"GitHub's GraphQL API answered with an error{f' ({kind})' if kind else ''}: "
            f"{_quote(first.get('message'))}{more}{advice}",
            errors=errors, smaller_may_help=smaller_may_help, status=404 if kind == "NOT_FOUND" else None,
        )


def _quote(message: Any, limit: int = 300) -> str:
    """GitHub's message, quoted and cut to ``limit`` characters."""
    text = " ".join(str(message or "no message").split())
    return f"'{text[:limit]}{'…' if len(text) > limit else ''}'"


# ---------------------------------------------------------------------------------------------------
# Sync


@dataclass
class GitHubSyncResult:
    """What one repository's GitHub sync stored, and what it could not.

    ``pull_requests``: PR rows written (new or updated); ``deployments``: deployment events new or
    changed; ``pending_deployments``: deployments still waiting for a final status (re-checked on each
    sync); ``notes``: one sentence per failure or omission, with GitHub's message and what to do.
    """

    slug: str
    pull_requests: int = 0
    deployments: int = 0
    pending_deployments: int = 0
    releases: int = 0
    incidents: int = 0
    unchanged_endpoints: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def _etag(conn: Any, repo_id: int, endpoint: str) -> str | None:
    row = conn.execute("SELECT etag FROM github_etags WHERE repo_id = ? AND endpoint = ?", (repo_id, endpoint)).fetchone()
    return row[0] if row else None


def _save_etag(conn: Any, repo_id: int, endpoint: str, etag: str | None) -> None:
    if etag:
        conn.execute(
            "INSERT INTO github_etags(repo_id, endpoint, etag, stored_at) VALUES (?, ?, ?, ?)"
            " ON CONFLICT(repo_id, endpoint) DO UPDATE SET etag = excluded.etag, stored_at = excluded.stored_at",
            (repo_id, endpoint, etag, int(time.time())),
        )


def _cursor(conn: Any, repo_id: int, source: str) -> int | None:
    row = conn.execute("SELECT cursor FROM sync_cursors WHERE repo_id = ? AND source = ?", (repo_id, source)).fetchone()
    return int(row[0]) if row else None


def _save_cursor(conn: Any, repo_id: int, source: str, value: int | None) -> None:
    if value is None:
        return
    conn.execute(
        "INSERT INTO sync_cursors(repo_id, source, cursor, updated_at) VALUES (?, ?, ?, ?)"
        " ON CONFLICT(repo_id, source) DO UPDATE SET cursor = excluded.cursor, updated_at = excluded.updated_at",
        (repo_id, source, str(value), int(time.time())),
    )


_PR_STATES = {"MERGED": "merged", "CLOSED": "closed"}


PrRows = tuple[tuple[Any, ...], list[tuple[Any, ...]], list[tuple[Any, ...]], list[tuple[Any, ...]]]


def pr_rows(repo_id: int, node: dict[str, Any]) -> PrRows:
    """A GraphQL pull request node as (pull_requests row, pr_reviews rows, pr_commits rows,
    pr_review_comments rows).

    Plain look-ups and tuples only (this runs for every PR of a sync). A node of the usual shape (every
    field the query asks for present, connections not null) takes a direct path; any other shape the
    tolerant one, with the same result.
    """
    try:
        return _pr_rows_usual(repo_id, node)
    except (KeyError, TypeError, AttributeError, ValueError):
        return _pr_rows_tolerant(repo_id, node)


def _pr_rows_usual(repo_id: int, node: dict[str, Any]) -> PrRows:
    iso = _fromisoformat
    number = int(node["number"])
    commits_conn = node["commits"]
    commit_rows = []
    first_at = first_email = last_at = first_commit_at = None
    for cn in commits_conn["nodes"]:
        c = cn["commit"]
        email = (c["author"]["email"] or "").lower() or None
        a, d = c["authoredDate"], c["committedDate"]
        authored = int(iso(a).timestamp()) if a else 0
        committed = (authored if d == a else int(iso(d).timestamp())) if d else 0
        commit_rows.append((repo_id, number, c["oid"], email, authored, committed))
        if first_at is None or authored < first_at:
            first_at, first_email = authored, email
        if authored and (first_commit_at is None or authored < first_commit_at):
            first_commit_at = authored
        if committed and (last_at is None or committed > last_at):
            last_at = committed
    review_rows = []
    comment_rows = []
    for r in node["reviews"]["nodes"]:
        at = r["submittedAt"]
        if not at:
            continue
        login = r["author"]["login"] if r["author"] is not None else None
        rid = str(r["fullDatabaseId"] or f"{number}-{len(review_rows)}")
        comments = r["comments"]
        review_rows.append((
            repo_id, number, rid, (login or "").lower() or None,
            str(r["state"] or "").lower(), int(iso(at).timestamp()), int(comments["totalCount"] or 0),
        ))
        for k, cm in enumerate(comments["nodes"]):
            made = cm["createdAt"]
            if not made:
                continue
            who = cm["author"]["login"] if cm["author"] is not None else None
            comment_rows.append((
                repo_id, number, str(cm["fullDatabaseId"] or f"{rid}-{k}"), rid, (who or "").lower() or None,
                int(iso(made).timestamp()), cm["path"] or None,
            ))
    ready = None
    for n in node["timelineItems"]["nodes"]:
        if n and n.get("createdAt"):
            ready = n["createdAt"]
    issue_at = None
    for n in node["closingIssuesReferences"]["nodes"]:
        if n and n.get("createdAt"):
            t = int(iso(n["createdAt"]).timestamp())
            issue_at = t if issue_at is None else min(issue_at, t)
    labels = [x["name"] for x in node["labels"]["nodes"] if x and x.get("name")]
    author = node["author"]
    merge = node["mergeCommit"]
    created, merged, closed, updated = node["createdAt"], node["mergedAt"], node["closedAt"], node["updatedAt"]
    merged_at = int(iso(merged).timestamp()) if merged else None
    closed_at = (merged_at if closed == merged else int(iso(closed).timestamp())) if closed else None
    updated_at = (merged_at if updated == merged else closed_at if updated == closed else int(iso(updated).timestamp())) if updated else None
    row = (
        repo_id, number, "github", str(node["title"] or ""), ((author and author["login"]) or "").lower() or None,
        first_email, _PR_STATES.get(node["state"], "open"), int(bool(node["isDraft"])),
        int(iso(created).timestamp()) if created else None, int(iso(ready).timestamp()) if ready else None,
        first_commit_at, last_at, merged_at, closed_at, updated_at, node["baseRefName"], node["headRefName"],
        node["additions"], node["deletions"], node["changedFiles"],
        int(commits_conn["totalCount"] or len(commit_rows)), json.dumps(labels) if labels else "[]",
        merge["oid"] if merge else None, node["headRefOid"], issue_at,
    )
    return row, review_rows, commit_rows, comment_rows


def _pr_rows_tolerant(repo_id: int, node: dict[str, Any]) -> PrRows:
    ts = _ts
    get = node.get
    number = int(node["number"])
    state = _PR_STATES.get(get("state"), "open")
    commits_conn = get("commits") or {}
    commit_rows = []
    first_at = first_email = last_at = None
    for c in commits_conn.get("nodes") or ():
        c = c and c.get("commit")
        if not c:
            continue
        author = c.get("author")
        email = ((author and author.get("email")) or "").lower() or None
        authored = ts(c.get("authoredDate")) or 0
        committed = ts(c.get("committedDate")) or 0
        commit_rows.append((repo_id, number, c["oid"], email, authored, committed))
        if first_at is None or authored < first_at:
            first_at, first_email = authored, email
        if committed and (last_at is None or committed > last_at):
            last_at = committed
    review_rows = []
    comment_rows = []
    reviews = get("reviews")
    for r in (reviews and reviews.get("nodes")) or ():
        if not r or not r.get("submittedAt"):
            continue
        author = r.get("author")
        comments = r.get("comments")
        rid = str(r.get("fullDatabaseId") or f"{number}-{len(review_rows)}")
        review_rows.append((
            repo_id, number, rid,
            ((author and author.get("login")) or "").lower() or None, str(r.get("state") or "").lower(),
            ts(r["submittedAt"]), int((comments and comments.get("totalCount")) or 0),
        ))
        for k, cm in enumerate((comments and comments.get("nodes")) or ()):
            if not cm or not cm.get("createdAt"):
                continue
            who = cm.get("author")
            comment_rows.append((
                repo_id, number, str(cm.get("fullDatabaseId") or f"{rid}-{k}"), rid,
                ((who and who.get("login")) or "").lower() or None, ts(cm["createdAt"]), cm.get("path") or None,
            ))
    ready_at = None
    timeline = get("timelineItems")
    for n in (timeline and timeline.get("nodes")) or ():
        if n and n.get("createdAt"):
            ready_at = n["createdAt"]  # the last one
    issue_at = None
    issues = get("closingIssuesReferences")
    for n in (issues and issues.get("nodes")) or ():
        if n and n.get("createdAt"):
            t = ts(n["createdAt"]) or 0
            issue_at = t if issue_at is None else min(issue_at, t)
    labels_conn = get("labels")
    labels = [x["name"] for x in ((labels_conn and labels_conn.get("nodes")) or ()) if x and x.get("name")]
    author = get("author")
    merge = get("mergeCommit")
    first_commit_at = None
    if commit_rows:
        authored_times = [r[4] for r in commit_rows if r[4]]
        first_commit_at = min(authored_times) if authored_times else None
    row = (
        repo_id, number, "github", str(get("title") or ""), ((author and author.get("login")) or "").lower() or None,
        first_email, state, int(bool(get("isDraft"))), ts(get("createdAt")), ts(ready_at), first_commit_at,
        last_at, ts(get("mergedAt")), ts(get("closedAt")), ts(get("updatedAt")), get("baseRefName"),
        get("headRefName"), get("additions"), get("deletions"), get("changedFiles"),
        int(commits_conn.get("totalCount") or len(commit_rows)), json.dumps(labels) if labels else "[]",
        merge.get("oid") if merge else None, get("headRefOid"), issue_at,
    )
    return row, review_rows, commit_rows, comment_rows


PR_COLUMNS = (
    "repo_id, number, source, title, author, author_email, state, draft, created_at, ready_at, first_commit_at, "
    "last_commit_at, merged_at, closed_at, updated_at, base, head, additions, deletions, changed_files, commit_count, "
    "labels, merge_sha, head_sha, issue_created_at"
)


def write_pr_page(conn: Any, repo_id: int, nodes: list[dict[str, Any]], known: set[int] | None = None) -> int:
    """Upsert one page of GraphQL PR nodes (reviews, review comments and commits replaced); returns the PRs written.

    ``known``: the PR numbers already stored for the repository, when the caller tracks them (a sync
    loads them once and this keeps the set current); without it they are looked up.
    """
    return write_pr_rows(conn, repo_id, [pr_rows(repo_id, node) for node in nodes], known)


def write_pr_rows(conn: Any, repo_id: int, converted: list[tuple[Any, ...]], known: set[int] | None = None) -> int:
    """`write_pr_page` for nodes already converted by `pr_rows`."""
    rows, reviews, commits, comments = [], [], [], []
    for r, rv, cm, co in converted:
        rows.append(r)
        reviews += rv
        commits += cm
        comments += co
    numbers = [r[1] for r in rows]
    if known is None:
        stored = [
            (repo_id, n)
            for (n,) in conn.execute(
                f"SELECT number FROM pull_requests WHERE repo_id = ? AND number IN ({','.join('?' * len(numbers))})",
                [repo_id, *numbers],
            )
        ]
    else:
        stored = [(repo_id, n) for n in numbers if n in known]
        known.update(numbers)
    if stored:
        conn.executemany("DELETE FROM pr_reviews WHERE repo_id = ? AND number = ?", stored)
        conn.executemany("DELETE FROM pr_commits WHERE repo_id = ? AND number = ?", stored)
        conn.executemany("DELETE FROM pr_review_comments WHERE repo_id = ? AND number = ?", stored)
    conn.executemany(f"INSERT OR REPLACE INTO pull_requests({PR_COLUMNS}) VALUES ({','.join('?' * 25)})", rows)
    conn.executemany("INSERT OR REPLACE INTO pr_reviews VALUES (?, ?, ?, ?, ?, ?, ?)", reviews)
    conn.executemany("INSERT OR REPLACE INTO pr_commits VALUES (?, ?, ?, ?, ?, ?)", commits)
    conn.executemany(
        "INSERT OR REPLACE INTO pr_review_comments(repo_id, number, id, review_id, author, created_at, path)"
        " VALUES (?, ?, ?, ?, ?, ?, ?)", comments,
    )
    return len(rows)


ProgressFn = Callable[[str], Awaitable[None]]
# Secondary indexes of the PR tables that a first load builds once at the end (see `sources.git.defer_indexes`).
_DEFERRABLE_INDEXES = ("pull_requests_by_merge", "pull_requests_by_merged", "pull_requests_by_state", "pr_reviews_by_time")
_DEFERRED_KEY = "github:deferred_indexes"


_MAIN_SHARE = 3  # with a writer process, a re-sync converts every third page itself
_RAW_SHARE = 4  # a first load sends every fourth page raw to the writer process and converts the others itself
_PAGE_INFO_KEY = re.compile(rb'"pageInfo"\s*:\s*')
_PR_NODE_KEY = re.compile(rb'"headRefOid"\s*:')  # one per PR node in PR_QUERY's answer (a key: never inside a string)
_RAW, _ROWS = b"J", b"M"  # writer frame types: a raw PR_QUERY answer, or `marshal` data


def _raw_page_info(body: bytes) -> tuple[dict[str, Any], int] | None:
    """A raw PR_QUERY answer's ``pageInfo`` and number of (non-null) PR nodes, without parsing the rest
    (``pageInfo`` precedes ``nodes``); None if it is not there (no repository, say): parse it all then."""
    m = _PAGE_INFO_KEY.search(body)
    if m is None:
        return None
    try:
        info, _ = json.JSONDecoder().raw_decode(body[m.end(): m.end() + 4096].decode("utf-8", "replace"))
    except ValueError:
        return None
    if not isinstance(info, dict):
        return None
    return info, len(_PR_NODE_KEY.findall(body))


def _raw_page_nodes(body: bytes) -> list[dict[str, Any]]:
    """The non-null PR nodes of a raw PR_QUERY answer."""
    return [n for n in json.loads(body)["data"]["repository"]["pullRequests"].get("nodes") or [] if n]


class _PullRequestWriter:
    """Writes pages of PR nodes for one repository, ~`PR_WRITE_BATCH` PRs per transaction.

    A first load into empty PR tables drops their secondary indexes and builds them once in `finish`
    (see `sources.git.defer_indexes`). Used in a worker thread, or in the writer process (`_pr_writer_main`).
    """

    def __init__(self, store: Store, repo_id: int, *, many: bool = False) -> None:
        """``many``: more than one page is coming (the indexes of a first load are deferred from the start)."""
        self.store, self.repo_id, self.many = store, repo_id, many
        conn = store.read()
        if conn.execute("SELECT 1 FROM kv WHERE key = ?", (_DEFERRED_KEY,)).fetchone() is not None:
            with store.tx() as c:  # a first load died before rebuilding the PR indexes: rebuild them now
                restore_deferred_indexes(c, _DEFERRED_KEY)
        self.known: set[int] = {n for (n,) in conn.execute("SELECT number FROM pull_requests WHERE repo_id = ?", (repo_id,))}
        self.bulk = not self.known and all(
            conn.execute(f"SELECT 1 FROM {t} LIMIT 1").fetchone() is None for t in ("pull_requests", "pr_reviews")
        )
        self.deferred = False
        self.written = 0
        self.newest = 0

    def write(self, pages: list[list[Any]]) -> int:
        """Write the pages in one transaction; returns the PRs written.

        A page is a non-empty list of GraphQL PR nodes, or of their `pr_rows` (tuples)."""
        c = self.store.read()
        # No WAL checkpoint at these commits (each one an fsync): the cursor's transaction at the end,
        # with the usual setting, checkpoints once.
        checkpoint_pages = c.execute("PRAGMA wal_autocheckpoint").fetchone()[0]
        c.execute("PRAGMA wal_autocheckpoint = 0")
        try:
            with self.store.tx() as c:
                if self.bulk and not self.deferred and (self.many or sum(map(len, pages)) >= PR_WRITE_BATCH):
                    self.deferred = defer_indexes(c, _DEFERRABLE_INDEXES, _DEFERRED_KEY)
                converted = [page if isinstance(page[0], tuple) else [pr_rows(self.repo_id, n) for n in page] for page in pages]
                written = sum(write_pr_rows(c, self.repo_id, page, self.known) for page in converted)
        finally:
            c.execute(f"PRAGMA wal_autocheckpoint = {int(checkpoint_pages)}")
        self.newest = max(self.newest, max((r[0][14] or 0 for page in converted for r in page), default=0))
        self.written += written
        return written

    def finish(self) -> None:
        """Build the indexes a first load deferred."""
        if self.deferred:
            with self.store.tx() as c:
                restore_deferred_indexes(c, _DEFERRED_KEY)
            self.deferred = False


def _pr_writer_main() -> None:
    """The PR writer process: ``python -c '…_pr_writer_main()' <database> <repo id>``.

    Reads frames from stdin (a 4-byte big-endian length, then a type byte and a page: ``J`` a raw
    PR_QUERY answer, parsed here, or ``M`` `marshal` data for `_PullRequestWriter.write`; length 0 ends) and writes each page in its own transaction (commits
    are cheap in WAL mode, and the last one is then small), then prints ``{"written": n, "newest": t}``
    on stdout. On an error it prints a one-line description on stderr and exits with status 1. It is
    given no token.
    """
    import marshal
    import struct
    import sys

    try:
        store = Store(sys.argv[1])
        writer = _PullRequestWriter(store, int(sys.argv[2]), many=True)
        stdin = sys.stdin.buffer
        while True:
            head = stdin.read(4)
            n = struct.unpack("!I", head)[0] if len(head) == 4 else 0
            if n == 0:
                break
            frame = stdin.read(n)
            if frame[:1] == _RAW:
                nodes = _raw_page_nodes(frame[1:])
                if nodes:
                    writer.write([nodes])
            else:
                writer.write([marshal.loads(memoryview(frame)[1:])])
        writer.finish()
        store.close()
    except Exception as exc:  # noqa: BLE001 — reported to the parent, which raises it as a DataError
        sys.stderr.write(f"{type(exc).__name__}: {exc}"[:500] + "\n")
        sys.stderr.flush()
        os._exit(1)
    sys.stdout.write(json.dumps({"written": writer.written, "newest": writer.newest}))
    sys.stdout.flush()
    os._exit(0)  # nothing left to clean up: skip the interpreter's shutdown


async def _start_pr_writer(store: Store, repo_id: int) -> anyio.abc.Process | None:
    """Start the PR writer process for a file store (None for an in-memory one, or if it cannot start)."""
    import subprocess
    import sys

    import engmetrics

    if store.path == ":memory:" or not os.path.exists(store.path):
        return None
    env = {k: v for k, v in os.environ.items() if k not in ("GITHUB_TOKEN", "ENGMETRICS_GITHUB_TOKEN")}
    root = os.path.dirname(os.path.dirname(os.path.abspath(engmetrics.__file__)))
    env["PYTHONPATH"] = os.pathsep.join([root, *filter(None, [env.get("PYTHONPATH")])])
    try:
        return await anyio.open_process(
            [sys.executable, "-c", "from engmetrics.sources.github import _pr_writer_main; _pr_writer_main()",
             store.path, str(repo_id)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
        )
    except OSError as exc:
        log.info("PR writer process not started (%s); writing in a thread", exc)
        return None


async def _read_all(stream: anyio.abc.ByteReceiveStream, sink: list[bytes]) -> None:
    async for chunk in stream:
        sink.append(chunk)


async def _finish_pr_writer(proc: anyio.abc.Process) -> tuple[int, int]:
    """Close the writer process's input, wait for it, and return (PRs written, newest updated_at)."""
    import struct

    assert proc.stdin is not None and proc.stdout is not None and proc.stderr is not None
    try:
        await proc.stdin.send(struct.pack("!I", 0))
        await proc.stdin.aclose()
    except (anyio.BrokenResourceError, OSError):
        pass  # it stopped early: its status and message say why
    outs: list[bytes] = []
    errs: list[bytes] = []
    async with anyio.create_task_group() as tg:
        tg.start_soon(_read_all, proc.stdout, outs)
        tg.start_soon(_read_all, proc.stderr, errs)
    out, err = b"".join(outs), b"".join(errs)
    code = await proc.wait()
    if code != 0:
        from engmetrics.errors import DataError

        detail = err.decode("utf-8", "replace").strip().splitlines()
        raise DataError(f"Writing pull requests to the store failed ({detail[-1] if detail else f'exit status {code}'}).")
    done = json.loads(out)
    return int(done["written"]), int(done["newest"])


@dataclass
class _PullFetch:
    """What fetching a repository's pull requests met besides whole pages.

    ``failure``: the error that stopped it; ``page_size``: the page size in the end (smaller after
    timeouts or node limits); ``left_out``: the PRs a page held incomplete (``#12``), GitHub's
    ``messages`` for them; ``cap``: the stored cursor must not pass this ``updated_at`` (a PR left out
    was updated then, and the next sync must read it again); ``unbounded``: a PR left out with no
    number or time and nothing read after it (the cursor stays where it was).
    """

    failure: EngmetricsError | None = None
    page_size: int = PR_PAGE_SIZE
    left_out: list[str] = field(default_factory=list)
    messages: list[str] = field(default_factory=list)
    cap: int | None = None
    unbounded: bool = False

    def leave_out(self, node: Any, error: dict[str, Any], updated: int | None) -> None:
        """Record a PR node an error touched (not stored; the cursor stays at or before its time)."""
        number = node.get("number") if isinstance(node, dict) else None
        self.left_out.append(f"#{number}" if number is not None else "")
        message = _quote(error.get("message"), 200)
        if message not in self.messages:
            self.messages.append(message)
        if updated is None:
            self.unbounded = True
        else:
            self.cap = updated if self.cap is None else min(self.cap, updated)

    def bound(self, updated: int) -> None:
        """A PR read after one left out with no time: that one was updated at or after ``updated``."""
        if self.unbounded:
            self.cap = updated if self.cap is None else min(self.cap, updated)
            self.unbounded = False


def _whole_nodes(nodes: list[Any], errors: list[dict[str, Any]], since: int | None, got: _PullFetch
                 ) -> tuple[list[dict[str, Any]], bool] | None:
    """A page's PR nodes to store, and whether the page reached the cursor ``since`` (pages come newest-updated
    first); None when an error is not inside one PR node (nothing on the page can be trusted).

    A PR that an error touches (its path runs through ``repository.pullRequests.nodes[i]``: a field GitHub
    could not give, a null node) is left out whole (`_PullFetch.leave_out`); the others are whole.
    """
    if not errors and since is None and not got.unbounded:  # the usual first load: every node, no parsing
        return [n for n in nodes if n], False
    bad: dict[int, dict[str, Any]] = {}
    for e in errors:
        path = e.get("path") or []
        if (len(path) < 4 or list(path[:3]) != ["repository", "pullRequests", "nodes"] or not isinstance(path[3], int)
                or not 0 <= path[3] < len(nodes)):
            return None
        bad.setdefault(path[3], e)
    fresh = []
    for i, node in enumerate(nodes):
        updated = _ts(node.get("updatedAt")) if isinstance(node, dict) else None
        if updated is not None:
            got.bound(updated)
            if since is not None and updated < since:
                return fresh, True
        if i in bad:
            got.leave_out(node, bad[i], updated)
        elif node:
            fresh.append(node)
    return fresh, False


def _first_error(exc: BaseException) -> BaseException:
    """The first exception inside (nested) exception groups; ``exc`` itself when it is not a group."""
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        exc = exc.exceptions[0]
    return exc


async def _sync_pulls(store: Store, client: GitHubClient, repo_id: int, slug: str, result: GitHubSyncResult,
                      progress: ProgressFn | None) -> None:
    """Pull requests: one task fetches and parses pages; the writing overlaps it.

    A sync of one page is written in a worker thread. A longer one is written by a separate process
    (`_pr_writer_main`): converting and inserting rows is Python work that, in a thread, would share
    the GIL with the fetching and parsing and so run in series with them. To balance the load, a first
    load sends one page in `_RAW_SHARE` as the raw answer (this process reads only its ``pageInfo``; one
    with ``"errors"`` in it is parsed here as usual) and parses and converts the others itself (sending
    rows as `marshal` data); a longer re-sync sends parsed nodes and converts one page in `_MAIN_SHARE` itself.

    GraphQL errors: a timeout or a node/resource limit asks for the same page again with half as many
    PRs, down to `PR_PAGE_FLOOR` (the rest of the sync keeps the smaller size); a page with errors
    inside some PRs keeps the others (`_whole_nodes`). Anything else stops the fetch: what was read
    before is written, the cursor and ETag stay as they were (the next sync reads those PRs again),
    and a note says why. PRs left out keep the cursor at or before their time, and the ETag unsaved.
    """
    import marshal
    import struct

    conn = store.read()
    probe = await client.request(
        "GET", f"/repos/{slug}/pulls", params={"state": "all", "sort": "updated", "direction": "desc", "per_page": 1},
        etag=_etag(conn, repo_id, "pulls"),
    )
    if probe.status_code == 304:
        result.unchanged_endpoints.append("pulls")
        return
    since = _cursor(conn, repo_id, "github:pulls")
    owner, name = slug.split("/", 1)
    newest = since
    got = _PullFetch()
    # (PR nodes, or a raw page of that many, whether more pages follow)
    send, recv = anyio.create_memory_object_stream[tuple[list[dict[str, Any]] | bytes, int, bool]](
        PR_WRITE_BATCH // PR_PAGE_SIZE + 2
    )

    async def fetch() -> None:
        """Read pages into ``send``; an error ends the stream and is kept in ``got.failure`` (never raised:
        the pages before it are still written)."""
        cursor: str | None = None
        pageno = 0
        async with send:
            try:
                while True:
                    variables = {"owner": owner, "name": name, "cursor": cursor, "n": got.page_size}
                    pageno += 1
                    try:
                        data, body, errors = await client.graphql_page(
                            PR_QUERY, variables, raw=since is None and pageno % _RAW_SHARE == 0, partial=True,
                            retries_5xx=1 if got.page_size > PR_PAGE_FLOOR else None,
                        )
                    except GraphQLError as exc:
                        if not exc.smaller_may_help or got.page_size <= PR_PAGE_FLOOR:
                            raise
                        got.page_size = max(PR_PAGE_FLOOR, got.page_size // 2)
                        log.info("GitHub %s: %s; asking for %d pull requests per page", slug, exc.message, got.page_size)
                        continue
                    if body is not None:
                        lazy = _raw_page_info(body)
                        if lazy is not None:
                            page, count = lazy
                            last = not page.get("hasNextPage")
                            await send.send((body, count, not last))
                            if last:
                                return
                            cursor = page.get("endCursor")
                            continue
                        data = json.loads(body)["data"]
                    assert data is not None
                    repo = data.get("repository")
                    if repo is None:
                        if errors:
                            raise GraphQLError.from_errors(errors, smaller_may_help=False)
                        raise RemoteError(f"GitHub has no repository {slug}, or the token cannot see it.", status=404)
                    conn_nodes = repo.get("pullRequests") or {}
                    kept = _whole_nodes(list(conn_nodes.get("nodes") or []), errors, since, got)
                    if kept is None:
                        raise GraphQLError.from_errors(errors, smaller_may_help=False)
                    fresh, reached = kept
                    page = conn_nodes.get("pageInfo") or {}
                    last = reached or not page.get("hasNextPage")
                    await send.send((fresh, len(fresh), not last))
                    if last:
                        return
                    cursor = page.get("endCursor")
            except EngmetricsError as exc:
                got.failure = exc

    writer: _PullRequestWriter | None = None
    # A first load starts the writer process now (its start-up overlaps the first page's transfer).
    proc: anyio.abc.Process | None = await _start_pr_writer(store, repo_id) if since is None else None
    first = True
    sent = pages_sent = 0
    try:
        try:
            async with anyio.create_task_group() as tg:
                tg.start_soon(fetch)
                pending: list[list[dict[str, Any]]] = []
                size = 0
                async with recv:
                    async for fresh, count, more in recv:
                        if first:
                            first = False
                            if proc is None and more and count:
                                proc = await _start_pr_writer(store, repo_id)
                            elif proc is not None and not more:  # a single page: written in a thread
                                proc.kill()
                                await proc.wait()
                                proc = None
                        if proc is not None:
                            assert proc.stdin is not None
                            if count:
                                if isinstance(fresh, bytes):
                                    body = _RAW + fresh
                                else:
                                    pages_sent += 1
                                    body = _ROWS + marshal.dumps(
                                        [pr_rows(repo_id, n) for n in fresh]
                                        if since is None or pages_sent % _MAIN_SHARE == 0 else fresh
                                    )
                                try:
                                    await proc.stdin.send(struct.pack("!I", len(body)) + body)
                                except (anyio.BrokenResourceError, OSError):
                                    await _finish_pr_writer(proc)  # raises with the writer's message
                                    raise
                                sent += count
                                if progress is not None and sent % PR_WRITE_BATCH < count:
                                    await progress(f"{slug}: {sent} pull requests")
                            continue
                        if writer is None:
                            writer = await anyio.to_thread.run_sync(_PullRequestWriter, store, repo_id)
                        if isinstance(fresh, bytes):
                            fresh = _raw_page_nodes(fresh)
                        if fresh:
                            pending.append(fresh)
                            size += len(fresh)
                        if size >= PR_WRITE_BATCH:  # a transaction per ~1000 PRs: fewer commits, fewer thread hops
                            result.pull_requests += await anyio.to_thread.run_sync(writer.write, pending)
                            pending, size = [], 0
                            if progress is not None:
                                await progress(f"{slug}: {result.pull_requests} pull requests")
                if proc is not None:
                    written, top = await _finish_pr_writer(proc)
                    result.pull_requests += written
                    newest = max(newest or 0, top) if written else newest
                elif writer is not None:
                    if pending:
                        result.pull_requests += await anyio.to_thread.run_sync(writer.write, pending)
                    await anyio.to_thread.run_sync(writer.finish)
                    if writer.written:
                        newest = max(newest or 0, writer.newest)
        except BaseExceptionGroup as group:  # the writing failed (fetch() keeps its own errors): raise that error
            raise _first_error(group) from None
        if got.failure is None:
            if got.unbounded:
                newest = since
            elif got.cap is not None:
                newest = got.cap if newest is None else min(newest, got.cap)
            with store.tx() as c:
                _save_cursor(c, repo_id, "github:pulls", newest)
                if not got.left_out:
                    _save_etag(c, repo_id, "pulls", probe.headers.get("etag"))
    finally:
        with anyio.CancelScope(shield=True):
            if proc is not None and proc.returncode is None:
                proc.kill()
                await proc.wait()
            # Stopped by an error after a first load dropped the PR indexes: put them back now.
            if store.read().execute("SELECT 1 FROM kv WHERE key = ?", (_DEFERRED_KEY,)).fetchone() is not None:
                with store.tx() as c:
                    restore_deferred_indexes(c, _DEFERRED_KEY)
    if got.left_out:
        named = [x for x in got.left_out if x]
        shown = ", ".join(named[:10]) + (f" and {len(named) - 10} more" if len(named) > 10 else "")
        if len(named) < len(got.left_out):
            shown += f"{', ' if shown else ''}{len(got.left_out) - len(named)} sent empty"
        result.notes.append(
            f"pull requests: {len(got.left_out)} came back incomplete from GitHub ({shown}); GitHub said: "
            f"{'; '.join(got.messages[:3])}. They were left out, the others were stored, and the next sync asks for "
            "them again. If this repeats, the token may lack access to something they link to (SSO authorization "
            "for the organization, a private repository)."
        )
    if got.failure is not None:
        result.notes.append(_pulls_failure_note(got.failure, result.pull_requests))


def _pulls_failure_note(exc: EngmetricsError, stored: int) -> str:
    """The note for a PR fetch that stopped: GitHub's message, what was kept, what to do."""
    if isinstance(exc, RemoteError) and exc.status in (401, 404):
        return f"pull requests: {exc.message}"  # says what to do already
    kept = (f"The {stored} read before it were stored; the next sync reads the rest again. " if stored
            else "The next sync tries again. ")
    if isinstance(exc, GraphQLError) and exc.smaller_may_help:
        advice = (f"It failed even with pages of {PR_PAGE_FLOOR} pull requests: GitHub may be slow or busy now, "
                  "so run the sync again later.")
    elif isinstance(exc, GraphQLError):
        advice = "If it persists, check the token's access to the repository and report the message to the engmetrics maintainers."
    else:
        advice = "If it persists, check the network and the token's access to the repository."
    return f"pull requests: {exc.message.rstrip('.')}. {kept}{advice}"


_ROOT_SHA = re.compile(r"root[ -]cause\s*:?\s*([0-9a-f]{7,40})\b", re.I)
_ROOT_PR = re.compile(r"root[ -]cause\s*:?\s*(?:[\w.-]+/[\w.-]+)?#(\d+)", re.I)


def incident_record(slug: str, repo_name: str, issue: dict[str, Any], conn: Any, repo_id: int) -> dict[str, Any]:
    """An incident import record from a GitHub issue (see the module docstring for the mapping)."""
    body = str(issue.get("body") or "")
    sha = None
    if m := _ROOT_SHA.search(body):
        sha = m.group(1).lower()
    elif m := _ROOT_PR.search(body):
        row = conn.execute(
            "SELECT merge_sha FROM pull_requests WHERE repo_id = ? AND number = ?", (repo_id, int(m.group(1)))
        ).fetchone()
        sha = row[0] if row else None
    labels = [str(x.get("name", "")) if isinstance(x, dict) else str(x) for x in issue.get("labels") or []]
    severity = next((lb for lb in labels if re.match(r"(sev|severity|p)[-: ]?\d", lb, re.I)), None)
    return {
        "id": f"github:{slug}#{issue['number']}",
        "title": str(issue.get("title") or f"Issue #{issue['number']}"),
        "severity": severity,
        "started_at": issue.get("created_at"),
        "resolved_at": issue.get("closed_at") if issue.get("state") == "closed" else None,
        "repo": repo_name,
        "sha": sha,
    }


async def _sync_issues(store: Store, client: GitHubClient, repo_id: int, repo_name: str, slug: str, label: str,
                       result: GitHubSyncResult) -> None:
    from engmetrics.sources.events import upsert_incident

    conn = store.read()
    since = _cursor(conn, repo_id, "github:issues")
    newest, etag = since, None
    params = {"labels": label, "state": "all", "sort": "updated", "direction": "desc", "per_page": 100}
    seen_any = False
    async for items, resp in client.pages(f"/repos/{slug}/issues", params, _etag(conn, repo_id, "issues")):
        seen_any = True
        etag = etag or resp.headers.get("etag")
        fresh = [i for i in items if since is None or (_ts(i.get("updated_at")) or 0) >= since]
        with store.tx() as c:
            for issue in fresh:
                if "pull_request" in issue:
                    continue
                if upsert_incident(c, incident_record(slug, repo_name, issue, c, repo_id), source="github"):
                    result.incidents += 1
        newest = max([newest or 0, *(_ts(i.get("updated_at")) or 0 for i in fresh)])
        if len(fresh) < len(items):
            break
    if not seen_any:
        result.unchanged_endpoints.append("issues")
        return
    with store.tx() as c:
        _save_cursor(c, repo_id, "github:issues", newest)
        _save_etag(c, repo_id, "issues", etag)


_FINAL = {"success": "success", "inactive": "success", "failure": "failure", "error": "failure"}
PENDING_RECHECK_DAYS = 30
"""A deployment still not final this many days after its creation is no longer re-checked (GitHub keeps
abandoned deployments pending for ever; each re-check is a request)."""


def newest_status(statuses: list[dict[str, Any]]) -> dict[str, Any] | None:
    """A deployment's newest status: the latest ``created_at`` (ties: the higher id, then the first listed),
    whatever order GitHub lists them in; None when it has none."""
    best: dict[str, Any] | None = None
    best_key: tuple[int, int] | None = None
    for st in statuses:
        if not isinstance(st, dict):
            continue
        key = (_ts(st.get("created_at")) or 0, int(st.get("id") or 0))
        if best_key is None or key > best_key:
            best, best_key = st, key
    return best


def _deployed_at(statuses: list[dict[str, Any]], newest: dict[str, Any]) -> int | None:
    """When a deployment reached its final state: its newest status's time, except for ``inactive`` (GitHub
    marks a successful deployment inactive when a later one replaces it): the newest ``success`` before it."""
    if str(newest.get("state") or "").lower() == "inactive":
        done = [st for st in statuses if isinstance(st, dict) and str(st.get("state") or "").lower() == "success"]
        if done:
            return _ts((newest_status(done) or {}).get("created_at"))
    return _ts(newest.get("created_at"))


async def _deployment_statuses(client: GitHubClient, slug: str, dep_id: int, etag: str | None
                               ) -> tuple[list[dict[str, Any]] | None, str | None]:
    """A deployment's statuses, all pages: (statuses, the ETag to keep), or (None, ``etag``) when GitHub
    answers 304 to ``etag``. The ETag covers the first page only, so it is kept only when one page held them all."""
    items: list[dict[str, Any]] = []
    first_etag = None
    pages = 0
    async for page, resp in client.pages(f"/repos/{slug}/deployments/{dep_id}/statuses", {"per_page": 100}, etag):
        pages += 1
        first_etag = first_etag or resp.headers.get("etag")
        items += page
    if pages == 0:
        return None, etag
    return items, first_etag if pages == 1 else None


async def _check_deployment(store: Store, client: GitHubClient, repo_id: int, repo_name: str, slug: str,
                            dep: tuple[int, str, str, int | None], etag: str | None, result: GitHubSyncResult) -> None:
    """Read one deployment's statuses (conditionally on ``etag``) and import it if its newest is final, else
    keep it in ``github_pending_deployments`` for the next sync. ``dep``: (id, sha, environment, created_at)."""
    from engmetrics.sources.events import upsert_deployment
    from engmetrics.store.repos import find_repository

    dep_id, sha, environment, created = dep
    statuses, new_etag = await _deployment_statuses(client, slug, dep_id, etag)
    if statuses is None:
        return  # unchanged since the last check
    newest = newest_status(statuses)
    state = str((newest or {}).get("state") or "").lower()
    final = _FINAL.get(state)
    with store.tx() as c:
        if newest is None or final is None:
            c.execute(
                "INSERT INTO github_pending_deployments(repo_id, id, sha, environment, created_at, state, etag, checked_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(repo_id, id) DO UPDATE SET state = excluded.state,"
                " etag = excluded.etag, checked_at = excluded.checked_at",
                (repo_id, dep_id, sha, environment, created, state, new_etag, int(time.time())),
            )
            return
        _, changed = upsert_deployment(
            c, find_repository(c, repo_name), sha=sha, deployed_at=_deployed_at(statuses, newest) or created or 0,
            environment=environment, status=final, event_id=f"github:{slug}:{dep_id}", source="github",
        )
        c.execute("DELETE FROM github_pending_deployments WHERE repo_id = ? AND id = ?", (repo_id, dep_id))
    result.deployments += int(changed)


async def _sync_deployments(store: Store, client: GitHubClient, repo_id: int, repo_name: str, slug: str,
                            result: GitHubSyncResult) -> None:
    """Deployments: new ones from the list (conditional on its ETag), then every one still pending.

    A deployment is imported once its newest status (`newest_status`) is final; until then it waits in
    ``github_pending_deployments`` and each sync asks for its statuses again, conditionally (a new
    status does not change the deployments list, so the list's 304 says nothing about it), for
    `PENDING_RECHECK_DAYS` after its creation. Imported deployments are not read again.
    """
    conn = store.read()
    imported = {
        r[0] for r in conn.execute("SELECT id FROM deployment_events WHERE repo_id = ? AND source = 'github'", (repo_id,))
    }
    waiting = {
        int(r[0]): ((int(r[0]), r[1], r[2], r[3]), r[4])
        for r in conn.execute(
            "SELECT id, sha, environment, created_at, etag FROM github_pending_deployments WHERE repo_id = ?", (repo_id,)
        )
    }
    etag = None
    seen_any = False
    async for items, resp in client.pages(f"/repos/{slug}/deployments", {"per_page": 100}, _etag(conn, repo_id, "deployments")):
        seen_any = True
        etag = etag or resp.headers.get("etag")
        for dep in items:
            dep_id = int(dep["id"])
            if f"github:{slug}:{dep_id}" in imported or dep_id in waiting:
                continue
            info = (dep_id, str(dep.get("sha") or ""), str(dep.get("environment") or "production"), _ts(dep.get("created_at")))
            await _check_deployment(store, client, repo_id, repo_name, slug, info, None, result)
    horizon = int(time.time()) - PENDING_RECHECK_DAYS * 86400
    for info, dep_etag in waiting.values():
        if info[3] is None or info[3] >= horizon:
            await _check_deployment(store, client, repo_id, repo_name, slug, info, dep_etag, result)
    if seen_any:
        with store.tx() as c:
            _save_etag(c, repo_id, "deployments", etag)
    else:
        result.unchanged_endpoints.append("deployments")
    still = [
        (r[0], r[1]) for r in store.read().execute(
            "SELECT id, state FROM github_pending_deployments WHERE repo_id = ? AND (created_at IS NULL OR created_at >= ?)"
            " ORDER BY id", (repo_id, horizon),
        )
    ]
    result.pending_deployments = len(still)
    if still:
        shown = ", ".join(f"{i} ({state or 'no status yet'})" for i, state in still[:5])
        more = f" and {len(still) - 5} more" if len(still) > 5 else ""
        result.notes.append(
            f"deployments: {len(still)} not final yet (GitHub deployment {shown}{more}); each sync checks them again "
            "and imports them once they succeed or fail."
        )


async def _sync_releases(store: Store, client: GitHubClient, repo_id: int, slug: str, result: GitHubSyncResult) -> None:
    conn = store.read()
    etag = None
    seen_any = False
    async for items, resp in client.pages(f"/repos/{slug}/releases", {"per_page": 100}, _etag(conn, repo_id, "releases")):
        seen_any = True
        etag = etag or resp.headers.get("etag")
        with store.tx() as c:
            c.executemany(
                "INSERT OR REPLACE INTO github_releases VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (repo_id, int(r["id"]), str(r.get("tag_name") or ""), r.get("name"), _ts(r.get("created_at")),
                     _ts(r.get("published_at")), int(bool(r.get("prerelease"))), int(bool(r.get("draft"))))
                    for r in items
                ],
            )
        result.releases += len(items)
    if not seen_any:
        result.unchanged_endpoints.append("releases")
        return
    with store.tx() as c:
        _save_etag(c, repo_id, "releases", etag)


async def sync_github_repo(
    store: Store,
    client: GitHubClient,
    repo_id: int,
    repo_name: str,
    slug: str,
    *,
    incident_label: str = "incident",
    progress: ProgressFn | None = None,
) -> GitHubSyncResult:
    """Sync one GitHub repository's PRs, deployments, releases and incident issues into ``repo_id``.

    Each part is synced on its own: one that fails becomes a note in the result (GitHub's message and
    what to do) and the others still run — except after a 401 or 404, which every part would meet.
    """
    result = GitHubSyncResult(slug)
    steps: list[tuple[str, Callable[[], Awaitable[None]]]] = [
        ("pull requests", lambda: _sync_pulls(store, client, repo_id, slug, result, progress)),
        ("deployments", lambda: _sync_deployments(store, client, repo_id, repo_name, slug, result)),
        ("releases", lambda: _sync_releases(store, client, repo_id, slug, result)),
        ("incident issues", lambda: _sync_issues(store, client, repo_id, repo_name, slug, incident_label, result)),
    ]
    for what, step in steps:
        try:
            await step()
        except EngmetricsError as exc:
            result.notes.append(f"{what}: {exc.message}")
            if isinstance(exc, RemoteError) and exc.status in (401, 404):
                break
        except Exception as exc:  # a bug or an answer of an unexpected shape: the other parts still run
            exc = _first_error(exc)
            log.error("GitHub %s: syncing %s failed", slug, what, exc_info=exc)
            result.notes.append(f"{what}: failed unexpectedly ({type(exc).__name__}: {str(exc)[:200]}); the log has "
                                "the details. The other parts were synced.")
    return result
