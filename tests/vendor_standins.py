"""Stand-in Upshot and Koalr APIs (starlette apps served on 127.0.0.1), answering every documented endpoint with the
seeds' example bodies (`../shared/seeds/upshot-api.txt`, `koalr-api.txt`), copied verbatim below, plus paging,
team scoping and fault variants: 401 (wrong key), and on demand 403, 404, 429 (Retry-After, a reset timestamp in
seconds or milliseconds, Upshot's ``retry_after`` in the body), 500, no request left (X-RateLimit-Remaining: 0),
a malformed body and a slow answer.

Every request is recorded (`Script.requests`); `Script.faults` is a queue of what the next requests get instead
of their normal answer. The fixtures `upshot` and `koalr` (one server per test module) yield ``(url, script)``.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager
from typing import Any

import anyio
import pytest
from mcp import Client
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from engmetrics.config import Settings
from engmetrics.engine.remote.engine import RemoteEngine
from engmetrics.engine.remote.http import RemoteOptions
from engmetrics.server.app import build_server
from engmetrics.server.runtime import Runtime
from test_api import Served

UPSHOT_KEY = "upshot-secret-123"
KOALR_KEY = "klr_live_secret456"
FAST = RemoteOptions(timeout_seconds=0.5, connect_timeout_seconds=0.5, max_retries=2, backoff_seconds=0.01,
                     max_backoff_seconds=0.05, max_wait_seconds=3)

# ---- the seeds' example bodies, verbatim ---------------------------------------------------------------

UPSHOT_DORA = {
    "deployment_frequency": {"value": 4.2, "unit": "deploys_per_week", "rating": "high", "trend": "+12%"},
    "lead_time": {"value": 18.5, "unit": "hours", "rating": "high", "trend": "-8%"},
    "change_failure_rate": {"value": 4.1, "unit": "percent", "rating": "elite", "trend": "-2%"},
    "mttr": {"value": 2.3, "unit": "hours", "rating": "high", "trend": "-15%"},
}
UPSHOT_ACTIVITY_ITEM = {
    "id": "act_abc123", "type": "pr_merged", "source": "github", "title": "Add CSV export to reports",
    "author": "[email protected]", "timestamp": "2025-02-14T15:30:00Z",
    "metadata": {"repo": "acme/webapp", "pr_number": 847, "additions": 342, "deletions": 58},
}
UPSHOT_GENERATE = {"report_id": "rpt_xyz789", "status": "generating", "estimated_seconds": 45}
UPSHOT_REPORT = {
    "id": "rpt_xyz789", "status": "ready", "audience": "team", "format": "slack",
    "content": "## Engineering Update — Feb 1–15\n\n...", "created_at": "2025-02-15T10:00:00Z", "word_count": 487,
}
UPSHOT_CHANGELOG_ENTRY = {
    "id": "cl_abc", "title": "Week of Feb 10", "published_at": "2025-02-14T12:00:00Z",
    "categories": {"features": 3, "improvements": 5, "fixes": 2}, "url": "/changelog/week-of-feb-10",
}
UPSHOT_CONTRIBUTOR = {
    "contributor": "[email protected]", "period": "last_7_days", "prs_merged": 4, "prs_reviewed": 7, "commits": 23,
    "issues_closed": 3, "lines_added": 1247, "lines_removed": 389, "deploy_contributions": 2,
}
UPSHOT_RATE_LIMITED = {"error": {"code": "rate_limit_exceeded", "message": "You have exceeded 30 requests per minute. "
                                 "Please retry after 45 seconds.", "retry_after": 45}}

KOALR_DORA = {"deployFrequency": 4.2, "leadTime": 18.5, "changeFailureRate": 0.04, "mttr": 42, "tier": "elite"}
KOALR_FLOW = {"cycleTime": 2.4, "throughput": 18, "wipCount": 6, "flowEfficiency": 0.61}
KOALR_REVIEWS = {"avgReviewCycleTime": 6.1, "avgFirstResponseTime": 1.8, "totalReviewed": 94}
KOALR_COPILOT = {"adoptionRate": 0.74, "acceptanceRate": 0.38, "estimatedHoursSaved": 312}
KOALR_VALUE_STREAM = {"ideaToCommit": 3.2, "commitToMerge": 1.1, "mergeToDeploy": 0.4, "totalLeadTime": 4.7}
KOALR_CUSTOM_METRIC = {"slug": "p95-cycle-time", "label": "P95 Cycle Time", "value": 8.4, "unit": "hours",
                       "period": "last_30_days"}
KOALR_DEPLOYMENT = {"id": "dep_01j8x", "repo": "acme/api", "env": "production", "status": "success",
                    "deployedAt": "2026-03-14T18:22:00Z", "leadTimeSecs": 67200}
KOALR_PULL_REQUEST = {"id": "pr_a1b2c3", "number": 1847, "title": "feat: add retries to webhook processor",
                      "repo": "acme/api", "author": "jsmith", "mergedAt": "2026-03-14T14:11:00Z",
                      "cycleTimeSecs": 86400, "riskScore": 42}
KOALR_INCIDENT = {"id": "inc_9z2k", "title": "API p99 latency spike", "severity": "sev2", "status": "resolved",
                  "startedAt": "2026-03-10T03:14:00Z", "resolvedAt": "2026-03-10T04:02:00Z", "mttrSecs": 2880}
KOALR_TEAMS = {"data": [{"id": "team_abc123", "name": "Platform", "memberCount": 8, "createdAt": "2025-11-01T00:00:00Z"},
                        {"id": "team_def456", "name": "Growth", "memberCount": 5, "createdAt": "2025-11-01T00:00:00Z"}],
               "total": 2}
KOALR_DELIVERY = {"items": 20, "teamId": "team_abc123", "p50": "2026-04-11", "p85": "2026-04-25", "p95": "2026-05-09",
                  "simulations": 10000}
KOALR_BACKLOG = {"weeklyThroughputP50": 7, "weeklyThroughputP85": 12, "backlogSize": 68,
                 "weeksToEmpty": {"p50": 10, "p85": 16}}
KOALR_PR_RISK = {
    "prNumber": 1847, "repo": "acme/api", "riskScore": 71, "tier": "high",
    "signals": {"changeEntropy": 0.82, "coverageDelta": -0.06, "authorFileExpertise": 0.44,
                "codeownersCompliance": True, "aiAuthoredRatio": 0.31},
    "recommendation": "Review carefully — high change entropy and coverage regression detected.",
}

# Team-scoped answers (the seed documents teamId on these endpoints; these are Platform's own figures).
KOALR_PLATFORM_FLOW = {"cycleTime": 1.5, "throughput": 11, "wipCount": 3, "flowEfficiency": 0.7}
KOALR_PLATFORM_REVIEWS = {"avgReviewCycleTime": 4.25, "avgFirstResponseTime": 0.9, "totalReviewed": 51}
KOALR_PLATFORM_BACKLOG = {"weeklyThroughputP50": 4, "weeklyThroughputP85": 6.5, "backlogSize": 30,
                          "weeksToEmpty": {"p50": 7.5, "p85": 11}}


class Script:
    """What a stand-in does next: a queue of faults, then normal answers; records every request as
    (method, path, query, headers, JSON body or None) and when it arrived (monotonic seconds)."""

    def __init__(self) -> None:
        self.bodies: dict[str, Any] = {}  # path → a body to answer instead of the seed's (generated figures)
        self.rows: dict[str, list[dict[str, Any]]] = {}  # list path → rows to page through instead of the default
        self.faults: list[str] = []
        self.requests: list[tuple[str, str, dict[str, str], dict[str, str], Any]] = []
        self.times: list[float] = []

    def fault(self) -> Response | None:
        if not self.faults or self.faults[0] in ("slow", "quota-0", "quota-0-long"):
            return None
        kind = self.faults.pop(0)
        now = time.time()
        answers: dict[str, Callable[[], Response]] = {
            "403": lambda: JSONResponse({"error": {"code": "forbidden", "message": "Valid key but insufficient "
                                                   "permissions"}}, status_code=403),
            "404": lambda: JSONResponse({"error": {"code": "not_found", "message": "Resource not found"}},
                                        status_code=404),
            "400": lambda: JSONResponse({"error": {"code": "bad", "message": "period is not supported"}},
                                        status_code=400),
            "429": lambda: JSONResponse({"error": {"code": "rate_limit_exceeded", "message": "You have exceeded 30 "
                                                   "requests per minute. Please retry after 1 seconds.",
                                                   "retry_after": 1}}, status_code=429, headers={"Retry-After": "1"}),
            "429-body": lambda: JSONResponse({"error": {"code": "rate_limit_exceeded", "message": "Please retry after "
                                                        "1 seconds.", "retry_after": 1}}, status_code=429),
            "429-body-long": lambda: JSONResponse(UPSHOT_RATE_LIMITED, status_code=429),
            "429-reset": lambda: JSONResponse({"message": "Rate limit exceeded"}, status_code=429,
                                              headers={"X-RateLimit-Reset": str(int(now) + 1)}),
            "429-reset-ms": lambda: JSONResponse({"message": "Rate limit exceeded"}, status_code=429,
                                                 headers={"X-RateLimit-Reset": str(int((now + 1) * 1000))}),
            "429-long": lambda: JSONResponse({"error": {"code": "rate_limit_exceeded", "message": "slow down"}},
                                             status_code=429, headers={"Retry-After": "45"}),
            "429-5s": lambda: JSONResponse({"error": {"code": "rate_limit_exceeded", "message": "slow down"}},
                                           status_code=429, headers={"Retry-After": "5"}),
            "500": lambda: JSONResponse({"error": {"code": "internal", "message": "boom"}}, status_code=500),
            "malformed": lambda: PlainTextResponse("<html>gateway</html>", media_type="text/html"),
            "wrong-shape": lambda: JSONResponse({"deployment_frequency": "lots"}),
        }
        if kind not in answers:
            raise AssertionError(f"unknown fault {kind!r}")
        return answers[kind]()

    def quota_headers(self) -> dict[str, str]:
        """Rate-limit headers for a normal answer: 'quota-0' (next in the queue) says none is left for 1 s,
        'quota-0-long' for 45 s."""
        if self.faults[:1] == ["quota-0"]:
            self.faults.pop(0)
            return {"X-RateLimit-Limit": "60", "X-RateLimit-Remaining": "0", "X-RateLimit-Reset": str(time.time() + 1)}
        if self.faults[:1] == ["quota-0-long"]:
            self.faults.pop(0)
            return {"X-RateLimit-Limit": "60", "X-RateLimit-Remaining": "0",
                    "X-RateLimit-Reset": str(int(time.time()) + 45)}
        return {"X-RateLimit-Limit": "60", "X-RateLimit-Remaining": "59", "X-RateLimit-Reset": str(int(time.time()) + 60)}


Endpoint = Callable[[Request], Awaitable[Response]]


def _guarded(script: Script, authorized: Callable[[Request], bool], unauthorized: Callable[[], Response],
             answer: Callable[[Request], Awaitable[Response]]) -> Endpoint:
    """An endpoint that records the request, checks the key, plays the next fault, else answers (with quota
    headers)."""

    async def endpoint(request: Request) -> Response:
        body = await request.json() if request.method == "POST" else None
        script.requests.append((request.method, request.url.path, dict(request.query_params), dict(request.headers),
                                body))
        script.times.append(time.monotonic())
        if not authorized(request):
            return unauthorized()
        fault = script.fault()
        if fault is not None:
            return fault
        if script.faults[:1] == ["slow"]:
            script.faults.pop(0)
            await anyio.sleep(2)
        quota = script.quota_headers()
        override = script.bodies.get(request.url.path)
        response = JSONResponse(override) if override is not None else await answer(request)
        response.headers.update(quota)
        return response

    return endpoint


def _not_found(message: str) -> JSONResponse:
    return JSONResponse({"error": {"code": "not_found", "message": message}}, status_code=404)


# ---- Upshot --------------------------------------------------------------------------------------------

UPSHOT_FEED = [UPSHOT_ACTIVITY_ITEM] + [
    {"id": f"act_{i}", "type": "pr_merged" if i % 2 else "commit", "source": "github", "title": f"Change {i}",
     "author": "jane@acme.com" if i % 3 else "bob@acme.com", "timestamp": f"2025-02-14T15:{29 - i:02d}:00Z",
     "metadata": {"repo": "acme/webapp", "pr_number": 800 + i, "labels": ["a"]}}
    for i in range(25)
] + [{"id": "act_weird", "type": "meeting", "source": "calendar", "title": "x", "timestamp": "2025-02-14T00:00:00Z"}]
"""The activity feed: the seed's item, 25 more (paged 10 at a time by Upshot's cursor) and one type we do not model."""

UPSHOT_CHANGELOG = [UPSHOT_CHANGELOG_ENTRY] + [
    {"id": f"cl_w{n}", "title": f"Week {n} before Feb 10", "published_at": f"2025-01-{38 - 7 * n:02d}T12:00:00Z",
     "categories": {"features": n, "improvements": 1, "fixes": 2 * n, **({"security": 1} if n == 3 else {}),
                    **({"chores": 2} if n == 4 else {})},
     "url": f"/changelog/week-{n}"}
    for n in range(1, 6)
]
"""Six weekly entries, newest first: the seed's and five older ones (one also counting security, one a category
engmetrics does not have)."""

# Upshot's DORA for team "ops": the same figures in other units (minutes, days, a ratio, per day).
UPSHOT_DORA_OTHER_UNITS = {
    "deployment_frequency": {"value": 0.6, "unit": "deploys_per_day", "rating": "High", "trend": "+12%"},
    "lead_time": {"value": 1110, "unit": "minutes", "rating": "high", "trend": "-8%"},
    "change_failure_rate": {"value": 0.041, "unit": "ratio", "rating": "elite", "trend": "-2%"},
    "mttr": {"value": 2.3, "unit": "fortnights", "rating": "top-notch", "trend": None},
}


def upshot_app(script: Script) -> Starlette:
    """Upshot's documented endpoints (seeds/upshot-api.txt)."""

    def ok(request: Request) -> bool:
        return request.headers.get("authorization") == f"Bearer {UPSHOT_KEY}"

    def unauthorized() -> Response:
        return JSONResponse({"error": {"code": "unauthorized", "message": "Invalid API key"}}, status_code=401)

    def route(path: str, answer: Callable[[Request], Awaitable[Response]], methods: list[str] | None = None) -> Route:
        return Route(path, _guarded(script, ok, unauthorized, answer), methods=methods or ["GET"])

    async def dora(request: Request) -> Response:
        return JSONResponse(UPSHOT_DORA_OTHER_UNITS if request.query_params.get("team") == "ops" else UPSHOT_DORA)

    async def feed(request: Request) -> Response:
        start = int(request.query_params.get("cursor") or 0)
        size = 10  # Upshot pages smaller than we ask: the engine must follow the cursor
        page = UPSHOT_FEED[start : start + size]
        nxt = start + size
        return JSONResponse({"items": page, "cursor": str(nxt) if nxt < len(UPSHOT_FEED) else None})

    async def contributor(request: Request) -> Response:
        if request.path_params["cid"] not in ("usr_jane", "jane@acme.com"):
            return _not_found("No such contributor")
        return JSONResponse(UPSHOT_CONTRIBUTOR)

    async def changelog(request: Request) -> Response:
        limit = int(request.query_params.get("limit", 10))
        return JSONResponse({"entries": UPSHOT_CHANGELOG[:limit]})

    async def generate(request: Request) -> Response:
        body = await request.json()
        if body.get("audience") == "leaders":  # a variant: Upshot has it ready at once
            return JSONResponse({"report_id": "rpt_ready1", "status": "ready", "estimated_seconds": 0})
        if body.get("format") == "html":  # a variant: Upshot fails to write it
            return JSONResponse({"report_id": "rpt_failed", "status": "failed"})
        return JSONResponse(UPSHOT_GENERATE)

    async def report(request: Request) -> Response:
        rid = request.path_params["rid"]
        if rid == "rpt_xyz789":
            return JSONResponse(UPSHOT_REPORT)
        if rid == "rpt_ready1":
            return JSONResponse({**UPSHOT_REPORT, "id": "rpt_ready1", "audience": "leaders", "word_count": 210,
                                 "content": "## Leaders' update\n\n..."})
        if rid == "rpt_pending":
            return JSONResponse({"id": "rpt_pending", "status": "generating", "estimated_seconds": 30})
        return _not_found(f"No report {rid}")

    return Starlette(routes=[
        route("/v1/metrics/dora", dora), route("/v1/activity", feed),
        route("/v1/contributors/{cid}/summary", contributor), route("/v1/changelog", changelog),
        route("/v1/reports/generate", generate, ["POST"]), route("/v1/reports/{rid}", report),
    ])


# ---- Koalr ---------------------------------------------------------------------------------------------

KOALR_DEPLOYMENTS = [KOALR_DEPLOYMENT] + [
    {"id": f"dep_{i:02d}", "repo": "acme/api" if i % 2 else "acme/web", "env": "production" if i % 4 else "staging",
     "status": "failure" if i == 3 else ("in_progress" if i == 7 else "success"),
     "deployedAt": f"2026-03-{13 - i // 2:02d}T{18 - i % 2:02d}:22:00Z", "leadTimeSecs": 67200 + i}
    for i in range(22)
]
"""23 deployments, newest first: the seed's, then 22 more (one failed, one still in progress), paged 10 at a time."""

KOALR_PULL_REQUESTS = [KOALR_PULL_REQUEST] + [
    {"id": f"pr_{i:03d}", "number": 1846 - i, "title": f"change {i}", "repo": "acme/api" if i % 3 else "acme/web",
     "author": "jsmith" if i % 2 else "ada", "mergedAt": None if i % 5 == 4 else f"2026-03-{13 - i // 6:02d}T10:00:00Z",
     "cycleTimeSecs": None if i % 5 == 4 else 3600 * (i + 1), "riskScore": (7 * i) % 100}
    for i in range(59)
]
"""60 pull requests: the seed's, then 59 more (every fifth not merged)."""

KOALR_INCIDENTS = [KOALR_INCIDENT, {"id": "inc_open", "title": "Queue backlog", "severity": "sev3",
                                    "status": "triggered", "startedAt": "2026-03-12T03:14:00Z", "resolvedAt": None,
                                    "mttrSecs": None}]


def koalr_app(script: Script) -> Starlette:
    """Koalr's documented endpoints (seeds/koalr-api.txt): camelCase, X-Koalr-Key, days windows, page numbers."""

    def ok(request: Request) -> bool:
        return request.headers.get("x-koalr-key") == KOALR_KEY

    def unauthorized() -> Response:
        return JSONResponse({"message": "Missing or invalid X-Koalr-Key header"}, status_code=401)

    def route(path: str, answer: Callable[[Request], Awaitable[Response]], methods: list[str] | None = None) -> Route:
        return Route("/api/v1" + path, _guarded(script, ok, unauthorized, answer), methods=methods or ["GET"])

    def team_of(request: Request) -> str | None | Response:
        team = request.query_params.get("teamId")
        if team is not None and team not in {t["id"] for t in KOALR_TEAMS["data"]}:
            return JSONResponse({"message": "Team not found"}, status_code=404)
        return team

    def scoped(whole: dict[str, Any], platform: dict[str, Any]) -> Callable[[Request], Awaitable[Response]]:
        async def answer(request: Request) -> Response:
            team = team_of(request)
            if isinstance(team, Response):
                return team
            return JSONResponse(platform if team == "team_abc123" else whole)

        return answer

    def fixed(body: dict[str, Any]) -> Callable[[Request], Awaitable[Response]]:
        async def answer(request: Request) -> Response:
            return JSONResponse(body)

        return answer

    def paged(rows: list[dict[str, Any]], request: Request, *, sized: bool) -> JSONResponse:
        page = int(request.query_params.get("page", 1))
        size = int(request.query_params.get("pageSize", 25)) if sized else 10
        if size > 100:
            return JSONResponse({"message": "pageSize must be at most 100"}, status_code=400)
        body: dict[str, Any] = {"data": rows[(page - 1) * size : page * size], "total": len(rows), "page": page}
        if sized:
            body["pageSize"] = size
        return JSONResponse(body)

    async def deployments(request: Request) -> Response:
        team = team_of(request)
        if isinstance(team, Response):
            return team
        rows = script.rows.get("/api/v1/deployments", KOALR_DEPLOYMENTS) if team in (None, "team_abc123") else []
        return paged(rows, request, sized=False)

    async def pull_requests(request: Request) -> Response:
        team = team_of(request)
        if isinstance(team, Response):
            return team
        every = script.rows.get("/api/v1/pull-requests", KOALR_PULL_REQUESTS)
        rows = every if team is None else [p for p in every if p["repo"] == "acme/api"]
        return paged(rows, request, sized=True)

    async def incidents(request: Request) -> Response:
        return paged(KOALR_INCIDENTS, request, sized=False)

    async def custom_metric(request: Request) -> Response:
        if request.path_params["slug"] != "p95-cycle-time":
            return JSONResponse({"message": "Custom metric not found"}, status_code=404)
        return JSONResponse(KOALR_CUSTOM_METRIC)

    async def delivery(request: Request) -> Response:
        team = team_of(request)
        if isinstance(team, Response):
            return team
        items = request.query_params.get("items")
        if not items:
            return JSONResponse({"message": "items is required"}, status_code=400)
        return JSONResponse({**KOALR_DELIVERY, "items": int(items), "teamId": team})

    async def risk(request: Request) -> Response:
        body = await request.json()
        if not {"prNumber", "repo", "owner"} <= set(body):
            return JSONResponse({"message": "prNumber, repo and owner are required"}, status_code=400)
        if (body["prNumber"], body["repo"], body["owner"]) != (1847, "api", "acme"):
            return JSONResponse({"message": "Pull request not found"}, status_code=404)
        return JSONResponse(KOALR_PR_RISK)

    return Starlette(routes=[
        route("/metrics/dora", fixed(KOALR_DORA)), route("/flow", scoped(KOALR_FLOW, KOALR_PLATFORM_FLOW)),
        route("/review-metrics", scoped(KOALR_REVIEWS, KOALR_PLATFORM_REVIEWS)), route("/copilot", fixed(KOALR_COPILOT)),
        route("/value-stream", fixed(KOALR_VALUE_STREAM)), route("/custom-metrics/{slug}/query", custom_metric),
        route("/deployments", deployments), route("/pull-requests", pull_requests), route("/incidents", incidents),
        route("/teams", fixed(KOALR_TEAMS)), route("/forecast/delivery", delivery),
        route("/forecast/backlog", scoped(KOALR_BACKLOG, KOALR_PLATFORM_BACKLOG)),
        route("/pr-risk/score", risk, ["POST"]),
    ])


# ---- fixtures and sessions -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def upshot() -> Iterator[tuple[str, Script]]:
    script = Script()
    with Served(upshot_app(script)) as served:
        yield served.url, script


@pytest.fixture(scope="module")
def koalr() -> Iterator[tuple[str, Script]]:
    script = Script()
    with Served(koalr_app(script)) as served:
        yield served.url, script


def engine(url: str, provider: str, key: str, options: RemoteOptions = FAST) -> RemoteEngine:
    """A remote engine for ``provider`` at ``url`` with ``key``."""
    return RemoteEngine(Settings(api_url=url, api_key=key, provider=provider), options=options)


@asynccontextmanager
async def provider_session(url: str, provider: str, key: str,
                           options: RemoteOptions = FAST) -> AsyncIterator[tuple[Client, RemoteEngine]]:
    """A real MCP client session with the engmetrics server in remote mode over ``provider`` at ``url``."""
    e = engine(url, provider, key, options)
    try:
        async with Client(build_server(Runtime(e, sync_on_start=False))) as client:
            yield client, e
    finally:
        await e.aclose()

