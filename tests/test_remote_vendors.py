"""RemoteEngine against stand-in Upshot and Koalr servers (small starlette apps on 127.0.0.1 serving the
seeds' documented shapes), including 429 with Retry-After, 500 then success, a malformed body and a timeout."""

from __future__ import annotations

import time
from typing import Any

import anyio
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from engmetrics.config import Settings
from engmetrics.operations import Operation
from engmetrics.engine.remote.cursors import encode_remote_cursor
from engmetrics.engine.remote.engine import RemoteEngine
from engmetrics.engine.remote.http import RemoteOptions
from engmetrics.errors import InvalidInput, RemoteError, Unsupported
from engmetrics.models import Model
from engmetrics.areas.activity.models import ActivityQuery, ContributorQuery
from engmetrics.areas.dora.models import DeploymentQuery, DoraQuery, IncidentQuery
from test_api import Served

UPSHOT_KEY = "upshot-secret-123"
KOALR_KEY = "klr_live_secret456"
FAST = RemoteOptions(timeout_seconds=0.5, connect_timeout_seconds=0.5, max_retries=2, backoff_seconds=0.01,
                     max_backoff_seconds=0.05, max_wait_seconds=3)


class Script:
    """What the stand-in does next: a queue of faults, then normal answers; records every request."""

    def __init__(self) -> None:
        self.faults: list[str] = []
        self.requests: list[tuple[str, str, dict[str, str], dict[str, str]]] = []

    def fault(self) -> Response | None:
        if not self.faults or self.faults[0] == "slow":
            return None
        kind = self.faults.pop(0)
        if kind == "429":
            return JSONResponse({"error": {"code": "rate_limit_exceeded", "message": "You have exceeded 30 requests per "
                                           "minute. Please retry after 1 seconds.", "retry_after": 1}},
                                status_code=429, headers={"Retry-After": "1"})
        if kind == "429-reset":
            return JSONResponse({"message": "rate limited"}, status_code=429,
                                headers={"X-RateLimit-Reset": str(int(time.time()) + 1)})
        if kind == "429-long":
            return JSONResponse({"error": {"code": "rate_limit_exceeded", "message": "slow down"}}, status_code=429,
                                headers={"Retry-After": "45"})
        if kind == "500":
            return JSONResponse({"error": {"code": "internal", "message": "boom"}}, status_code=500)
        if kind == "malformed":
            return PlainTextResponse("<html>gateway</html>", media_type="text/html")
        if kind == "wrong-shape":
            return JSONResponse({"deployment_frequency": "lots"})
        if kind == "400":
            return JSONResponse({"error": {"code": "bad", "message": "period is not supported"}}, status_code=400)
        raise AssertionError(kind)


def upshot_app(script: Script) -> Starlette:
    """Upshot's documented endpoints (seeds/upshot-api.txt)."""
    activity = [
        {"id": f"act_{i}", "type": "pr_merged" if i % 2 else "commit", "source": "github", "title": f"Change {i}",
         "author": "jane@acme.com" if i % 3 else "bob@acme.com", "timestamp": f"2025-02-14T15:{59 - i:02d}:00Z",
         "metadata": {"repo": "acme/webapp", "pr_number": 800 + i, "labels": ["a"]}}
        for i in range(25)
    ] + [{"id": "act_weird", "type": "meeting", "source": "calendar", "title": "x", "timestamp": "2025-02-14T00:00:00Z"}]

    async def guard(request: Request) -> Response | None:
        script.requests.append((request.method, request.url.path, dict(request.query_params), dict(request.headers)))
        if request.headers.get("authorization") != f"Bearer {UPSHOT_KEY}":
            return JSONResponse({"error": {"code": "unauthorized", "message": "Invalid API key"}}, status_code=401)
        fault = script.fault()
        if fault is not None:
            return fault
        if script.faults[:1] == ["slow"]:
            script.faults.pop(0)
            await anyio.sleep(2)
        return None

    async def dora(request: Request) -> Response:
        if (r := await guard(request)) is not None:
            return r
        return JSONResponse({
            "deployment_frequency": {"value": 4.2, "unit": "deploys_per_week", "rating": "high", "trend": "+12%"},
            "lead_time": {"value": 18.5, "unit": "hours", "rating": "high", "trend": "-8%"},
            "change_failure_rate": {"value": 4.1, "unit": "percent", "rating": "elite", "trend": "-2%"},
            "mttr": {"value": 2.3, "unit": "hours", "rating": "high", "trend": "+15%"},
        })

    async def feed(request: Request) -> Response:
        if (r := await guard(request)) is not None:
            return r
        start = int(request.query_params.get("cursor") or 0)
        size = 10  # Upshot pages smaller than we ask: the engine must follow the cursor
        page = activity[start : start + size]
        nxt = start + size
        return JSONResponse({"items": page, "cursor": str(nxt) if nxt < len(activity) else None})

    async def contributor(request: Request) -> Response:
        if (r := await guard(request)) is not None:
            return r
        if request.path_params["cid"] != "jane@acme.com":
            return JSONResponse({"error": {"code": "not_found", "message": "No such contributor"}}, status_code=404)
        return JSONResponse({"contributor": "jane@acme.com", "period": request.query_params.get("period"),
                             "prs_merged": 4, "prs_reviewed": 7, "commits": 23, "issues_closed": 3,
                             "lines_added": 1247, "lines_removed": 389, "deploy_contributions": 2})

    return Starlette(routes=[Route("/v1/metrics/dora", dora), Route("/v1/activity", feed),
                             Route("/v1/contributors/{cid}/summary", contributor)])


def koalr_app(script: Script) -> Starlette:
    """Koalr's documented endpoints (seeds/koalr-api.txt): camelCase, X-Koalr-Key, days windows, page numbers."""
    deployments = [
        {"id": f"dep_{i:02d}", "repo": "acme/api" if i % 2 else "acme/web", "env": "production" if i % 4 else "staging",
         "status": "failure" if i == 3 else "success", "deployedAt": f"2026-03-{28 - i:02d}T18:22:00Z",
         "leadTimeSecs": 67200 + i}
        for i in range(23)
    ]
    incidents = [
        {"id": "inc_9z2k", "title": "API p99 latency spike", "severity": "sev2", "status": "resolved",
         "startedAt": "2026-03-10T03:14:00Z", "resolvedAt": "2026-03-10T04:02:00Z", "mttrSecs": 2880},
        {"id": "inc_open", "title": "Queue backlog", "severity": "sev3", "status": "triggered",
         "startedAt": "2026-03-12T03:14:00Z", "resolvedAt": None, "mttrSecs": None},
    ]

    async def guard(request: Request) -> Response | None:
        script.requests.append((request.method, request.url.path, dict(request.query_params), dict(request.headers)))
        if request.headers.get("x-koalr-key") != KOALR_KEY:
            return JSONResponse({"message": "Missing or invalid X-Koalr-Key header"}, status_code=401)
        return script.fault()

    async def dora(request: Request) -> Response:
        if (r := await guard(request)) is not None:
            return r
        return JSONResponse({"deployFrequency": 4.2, "leadTime": 18.5, "changeFailureRate": 0.04, "mttr": 42,
                             "tier": "elite"})

    def paged(rows: list[dict[str, Any]], request: Request) -> JSONResponse:
        page = int(request.query_params.get("page", 1))
        size = 10
        return JSONResponse({"data": rows[(page - 1) * size : page * size], "total": len(rows), "page": page})

    async def deploys(request: Request) -> Response:
        if (r := await guard(request)) is not None:
            return r
        rows = deployments if request.query_params.get("teamId") in (None, "team_abc123") else []
        return paged(rows, request)

    async def incs(request: Request) -> Response:
        if (r := await guard(request)) is not None:
            return r
        return paged(incidents, request)

    async def teams(request: Request) -> Response:
        if (r := await guard(request)) is not None:
            return r
        return JSONResponse({"data": [{"id": "team_abc123", "name": "Platform", "memberCount": 8,
                                       "createdAt": "2025-11-01T00:00:00Z"}], "total": 1})

    return Starlette(routes=[Route("/api/v1/metrics/dora", dora), Route("/api/v1/deployments", deploys),
                             Route("/api/v1/incidents", incs), Route("/api/v1/teams", teams)])


@pytest.fixture(scope="module")
def upshot():  # type: ignore[no-untyped-def]
    script = Script()
    with Served(upshot_app(script)) as served:
        yield served.url, script


@pytest.fixture(scope="module")
def koalr():  # type: ignore[no-untyped-def]
    script = Script()
    with Served(koalr_app(script)) as served:
        yield served.url, script


def engine(url: str, provider: str, key: str, options: RemoteOptions = FAST) -> RemoteEngine:
    return RemoteEngine(Settings(api_url=url, api_key=key, provider=provider), options=options)


# ---- Upshot ----------------------------------------------------------------------------------------------


async def test_upshot_dora_maps_onto_our_model(upshot) -> None:
    url, script = upshot
    e = engine(url + "/v1", "upshot", UPSHOT_KEY)
    report = await e.dora.get_dora(DoraQuery(period="last_30_days", team="backend"))
    assert report.deployment_frequency.value == 4.2 and report.deployment_frequency.rating == "high"
    assert report.deployment_frequency.trend_direction == "improving"
    assert report.lead_time.value == 18.5 and report.lead_time.trend_direction == "improving"
    assert report.mttr.trend_direction == "worsening" and report.change_failure_rate.trend_direction == "stable"
    assert report.rework_rate.value is None and any("Upshot" in n for n in report.notes)
    assert report.period.label == "last_30_days" and report.team == "backend"
    method, path, params, headers = script.requests[-1]
    assert path == "/v1/metrics/dora" and params == {"period": "last_30_days", "team": "backend"}
    with pytest.raises(Unsupported, match="not per repository"):
        await e.dora.get_dora(DoraQuery(repo="webapp"))
    await e.aclose()


async def test_upshot_activity_follows_cursors_lazily_and_filters(upshot) -> None:
    url, script = upshot
    e = engine(url, "upshot", UPSHOT_KEY)
    before = len(script.requests)
    first = await e.activity.get_activity(ActivityQuery(from_="2025-02-01", to="2025-02-15", limit=4))
    assert [i.id for i in first.items] == ["act_0", "act_1", "act_2", "act_3"] and first.cursor
    assert len(script.requests) - before == 1, "one upstream page is enough for 4 items"
    seen = [i.id for i in first.items]
    cursor = first.cursor
    while cursor:
        page = await e.activity.get_activity(ActivityQuery(from_="2025-02-01", to="2025-02-15", limit=7, cursor=cursor))
        seen += [i.id for i in page.items]
        cursor = page.cursor
    assert seen == [f"act_{i}" for i in range(25)], "every modelled item once, in order; unknown types skipped"
    merged = await e.activity.get_activity(ActivityQuery(from_="2025-02-01", to="2025-02-15", type="pr_merged", author="jane", limit=100))
    assert merged.items and all(i.type == "pr_merged" and i.author == "jane@acme.com" for i in merged.items)
    assert merged.items[0].metadata["labels"] == '["a"]'
    with pytest.raises(InvalidInput, match="cursor"):
        await e.activity.get_activity(ActivityQuery(cursor="garbage"))
    await e.aclose()


async def test_upshot_contributor_and_unsupported_operations(upshot) -> None:
    url, _ = upshot
    e = engine(url, "upshot", UPSHOT_KEY)
    s = await e.activity.get_contributor_summary(ContributorQuery(contributor="jane@acme.com", period="last_7_days"))
    assert (s.commits, s.prs_merged, s.prs_reviewed, s.issues_closed, s.lines_added) == (23, 4, 7, 3, 1247)
    from engmetrics.errors import NotFound

    with pytest.raises(NotFound, match="No such contributor"):
        await e.activity.get_contributor_summary(ContributorQuery(contributor="ghost", period="last_7_days"))
    with pytest.raises(Unsupported, match="Upshot's API does not offer list_deployments"):
        await e.dora.list_deployments(DeploymentQuery())
    with pytest.raises(Unsupported, match="nothing to sync"):
        await e.repos.sync()
    await e.aclose()


async def test_retry_on_429_with_retry_after_then_success(upshot) -> None:
    url, script = upshot
    e = engine(url, "upshot", UPSHOT_KEY)
    script.faults = ["429"]
    before = len(script.requests)
    started = time.monotonic()
    report = await e.dora.get_dora(DoraQuery())
    waited = time.monotonic() - started
    assert report.lead_time.value == 18.5 and len(script.requests) - before == 2
    assert waited >= 0.9, "Retry-After: 1 was honoured"  # a lower bound on a sleep, not a speed assertion
    await e.aclose()


async def test_429_beyond_the_cap_fails_at_once_saying_when_to_retry(upshot) -> None:
    url, script = upshot
    e = engine(url, "upshot", UPSHOT_KEY)
    script.faults = ["429-long"]
    before = len(script.requests)
    with pytest.raises(RemoteError, match="retry after 45 s") as info:
        await e.dora.get_dora(DoraQuery())
    assert info.value.retry_after_seconds == 45 and len(script.requests) - before == 1
    assert "Upshot" in info.value.message
    await e.aclose()


async def test_500_then_success_and_500_exhausted(upshot) -> None:
    url, script = upshot
    e = engine(url, "upshot", UPSHOT_KEY)
    script.faults = ["500"]
    assert (await e.dora.get_dora(DoraQuery())).mttr.value == 2.3
    script.faults = ["500", "500", "500"]
    with pytest.raises(RemoteError, match="HTTP 500.*after 3 attempts"):
        await e.dora.get_dora(DoraQuery())
    await e.aclose()


async def test_4xx_is_never_retried(upshot) -> None:
    url, script = upshot
    e = engine(url, "upshot", UPSHOT_KEY)
    script.faults = ["400"]
    before = len(script.requests)
    with pytest.raises(InvalidInput, match="period is not supported"):
        await e.dora.get_dora(DoraQuery())
    assert len(script.requests) - before == 1
    await e.aclose()


async def test_malformed_bodies(upshot) -> None:
    url, script = upshot
    e = engine(url, "upshot", UPSHOT_KEY)
    script.faults = ["malformed"]
    with pytest.raises(RemoteError, match="not JSON"):
        await e.dora.get_dora(DoraQuery())
    script.faults = ["wrong-shape"]
    with pytest.raises(RemoteError, match="does not match .*ENGMETRICS_PROVIDER=upshot"):
        await e.dora.get_dora(DoraQuery())
    await e.aclose()


async def test_timeout_is_retried_then_reported(upshot) -> None:
    url, script = upshot
    e = engine(url, "upshot", UPSHOT_KEY)
    script.faults = ["slow"]
    before = len(script.requests)
    assert (await e.dora.get_dora(DoraQuery())).lead_time.value == 18.5, "a timeout is retried"
    assert len(script.requests) - before == 2
    script.faults = ["slow", "slow", "slow"]
    with pytest.raises(RemoteError, match="did not answer GET /v1/metrics/dora within 0.5 s"):
        await e.dora.get_dora(DoraQuery())
    await e.aclose()


async def test_bad_key_is_named_never_shown(upshot) -> None:
    url, _ = upshot
    e = engine(url, "upshot", "wrong-upshot-key-999")
    with pytest.raises(RemoteError, match="rejected the key") as info:
        await e.dora.get_dora(DoraQuery())
    assert "wrong-upshot-key-999" not in info.value.message and "Settings → API Keys" in info.value.message
    await e.aclose()
    nokey = RemoteEngine(Settings(api_url=url, provider="upshot"), options=FAST)
    with pytest.raises(RemoteError, match="ENGMETRICS_API_KEY is not set"):
        await nokey.dora.get_dora(DoraQuery())


# ---- Koalr -----------------------------------------------------------------------------------------------


async def test_koalr_dora_days_window_and_units(koalr) -> None:
    url, script = koalr
    e = engine(url, "koalr", KOALR_KEY)
    report = await e.dora.get_dora(DoraQuery(period="last_30_days"))
    _, path, params, headers = script.requests[-1]
    assert path == "/api/v1/metrics/dora" and params == {"days": "30"} and headers["x-koalr-key"] == KOALR_KEY
    assert "authorization" not in headers
    assert report.change_failure_rate.value == 4.0 and report.change_failure_rate.rating == "elite"
    assert report.mttr.value == 0.7 and report.mttr.rating == "elite"
    assert report.deployment_frequency.value == 4.2 and report.lead_time.value == 18.5
    with pytest.raises(Unsupported, match="rolling windows that end now"):
        await e.dora.get_dora(DoraQuery(period="last_month"))
    await e.aclose()


async def test_koalr_deployments_pages_filters_and_team(koalr) -> None:
    url, script = koalr
    e = engine(url, "koalr", KOALR_KEY)
    seen: list[str] = []
    cursor = None
    while True:
        page = await e.dora.list_deployments(DeploymentQuery(period="last_30_days", limit=6, cursor=cursor))
        seen += [d.id for d in page.items]
        assert page.total == 23
        cursor = page.cursor
        if not cursor:
            break
    assert seen == [f"dep_{i:02d}" for i in range(23)]
    first = (await e.dora.list_deployments(DeploymentQuery(period="7d", limit=1))).items[0]
    assert first.environment == "staging" and first.lead_time_hours_median == round(67200 / 3600, 2)
    prod = await e.dora.list_deployments(DeploymentQuery(period="7d", environment="production", repo="api", limit=100,
                                                    team="platform"))
    assert prod.items and all(d.environment == "production" and d.repo == "acme/api" for d in prod.items)
    assert any(d.failed and d.status == "failure" for d in prod.items)
    assert script.requests[-1][2]["teamId"] == "team_abc123"
    from engmetrics.errors import NotFound

    with pytest.raises(NotFound, match="Platform"):
        await e.dora.list_deployments(DeploymentQuery(team="nope"))
    await e.aclose()


async def test_koalr_incidents_and_unsupported(koalr) -> None:
    url, _ = koalr
    e = engine(url, "koalr", KOALR_KEY)
    incidents = await e.dora.list_incidents(IncidentQuery(period="last_30_days"))
    assert [(i.id, i.status, i.duration_hours) for i in incidents.items] == [("inc_9z2k", "resolved", 0.8),
                                                                             ("inc_open", "open", None)]
    assert [i.id for i in (await e.dora.list_incidents(IncidentQuery(status="open"))).items] == ["inc_open"]
    with pytest.raises(Unsupported, match="Koalr's API does not offer list_repositories"):
        await e.repos.list_repositories()
    with pytest.raises(Unsupported, match="get_activity"):
        await e.activity.get_activity(ActivityQuery())
    await e.aclose()


async def test_koalr_429_honours_the_reset_header(koalr) -> None:
    url, script = koalr
    e = engine(url, "koalr", KOALR_KEY)
    script.faults = ["429-reset"]
    before = len(script.requests)
    assert (await e.dora.get_dora(DoraQuery())).lead_time.value == 18.5
    assert len(script.requests) - before == 2
    script.faults = ["429-reset"] * 3
    with pytest.raises(RemoteError, match=r"Rate limited by Koalr's API .*retry after \d+ s"):
        await e.dora.get_dora(DoraQuery())
    await e.aclose()


# ---- POST: one Idempotency-Key across retries ------------------------------------------------------------


class _Echo(Model):
    text: str


async def test_post_retries_reuse_one_idempotency_key() -> None:
    seen: list[str | None] = []

    async def echo(request: Request) -> Response:
        seen.append(request.headers.get("idempotency-key"))
        if len(seen) == 1:
            return JSONResponse({"error": {"type": "api_error", "code": "x", "message": "boom"}}, status_code=503)
        return JSONResponse(await request.json())

    with Served(Starlette(routes=[Route("/v1/echo", echo, methods=["POST"])])) as served:
        e = engine(served.url, "engmetrics", "emk_test")
        op = Operation("test", "echo", "POST", "/echo", _Echo, _Echo, "Echo.")
        out = await e.provider.call(op, _Echo(text="hi"))
        await e.aclose()
    assert out == _Echo(text="hi") and len(seen) == 2 and seen[0] and seen[0] == seen[1]


# ---- cursors -------------------------------------------------------------------------------------------------


async def test_a_forged_cursor_is_a_user_error_not_a_crash(upshot, koalr) -> None:
    """Our cursors are base64 JSON anyone can write: one holding the wrong types is `InvalidInput` naming `cursor`."""
    u = engine(upshot[0], "upshot", UPSHOT_KEY)
    k = engine(koalr[0], "koalr", KOALR_KEY)
    for forged in ({"s": "x"}, {"s": 1.5}, {"c": 7}, {"s": True}):
        with pytest.raises(InvalidInput, match="cursor") as info:
            await u.activity.get_activity(ActivityQuery(cursor=encode_remote_cursor(forged)))
        assert info.value.param == "cursor"
    for forged in ({"p": "2"}, {"p": None}, {"s": [1]}):
        with pytest.raises(InvalidInput, match="cursor"):
            await k.dora.list_deployments(DeploymentQuery(period="last_30_days", cursor=encode_remote_cursor(forged)))
    # A genuine one still pages on from where it says.
    page = await k.dora.list_deployments(DeploymentQuery(period="last_30_days", limit=3,
                                                         cursor=encode_remote_cursor({"p": 2, "s": 1})))
    assert [d.id for d in page.items] == ["dep_11", "dep_12", "dep_13"]
    await u.aclose()
    await k.aclose()
