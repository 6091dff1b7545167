"""RemoteEngine against the stand-in Upshot and Koalr servers (tests/vendor_standins.py): the HTTP behaviour every
tool shares — retries on 429 (Retry-After, a reset timestamp, Upshot's retry_after body), 500 and timeouts, waiting
for a rate limit to reset, 4xx never retried, 401/403/404 worded, malformed bodies, keys never shown, cursors — and
the DORA area's mapping. Per-tool figures through an MCP session: test_remote_upshot.py, test_remote_koalr.py."""

from __future__ import annotations

import time

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from engmetrics.config import Settings
from engmetrics.operations import Operation
from engmetrics.engine.remote.cursors import encode_remote_cursor
from engmetrics.engine.remote.engine import RemoteEngine
from engmetrics.errors import InvalidInput, NotFound, RemoteError, Unsupported
from engmetrics.models import Model
from engmetrics.areas.activity.models import ActivityQuery, ContributorQuery
from engmetrics.areas.dora.models import DeploymentQuery, DoraQuery, IncidentQuery
from engmetrics.areas.flow.models import FlowQuery
from test_api import Served
from vendor_standins import FAST, KOALR_KEY, UPSHOT_KEY, engine


# ---- Upshot: the DORA and activity areas ---------------------------------------------------------------


async def test_upshot_dora_keeps_its_figures_ratings_and_trends(upshot) -> None:
    url, script = upshot
    e = engine(url + "/v1", "upshot", UPSHOT_KEY)
    report = await e.dora.get_dora(DoraQuery(period="last_30_days", team="backend"))
    # The seed's figures, ratings and trends, unchanged.
    figures = [report.deployment_frequency, report.lead_time, report.change_failure_rate, report.mttr]
    assert [(f.value, f.unit, f.rating, f.trend) for f in figures] == [
        (4.2, "deploys_per_week", "high", "+12%"), (18.5, "hours", "high", "-8%"), (4.1, "percent", "elite", "-2%"),
        (2.3, "hours", "high", "-15%")]
    # Directions by each metric's polarity: more deploys, shorter lead time and recovery are better; ±5 % is stable.
    assert [f.trend_direction for f in figures] == ["improving", "improving", "stable", "improving"]
    # Upshot sends no counts: null, never 0 or an estimate from the frequency.
    assert report.deployment_frequency.deployments is None and report.lead_time.changes is None
    assert report.change_failure_rate.failed_deployments is None and report.change_failure_rate.total_deployments is None
    assert report.mttr.recovered is None and report.rework_rate.value is None
    assert report.rework_rate.unplanned_deployments is None and report.rework_rate.total_deployments is None
    assert any("Upshot's own" in n for n in report.notes) and any("null" in n for n in report.notes)
    assert report.period.label == "last_30_days" and report.team == "backend"
    method, path, params, headers, _ = script.requests[-1]
    assert path == "/v1/metrics/dora" and params == {"period": "last_30_days", "team": "backend"}
    assert headers["authorization"] == f"Bearer {UPSHOT_KEY}"
    with pytest.raises(Unsupported, match="not per repository"):
        await e.dora.get_dora(DoraQuery(repo="webapp"))
    await e.aclose()


async def test_upshot_dora_in_other_units_is_converted_exactly_and_said(upshot) -> None:
    """Team 'ops' answers the same figures in other units: per day, minutes, a ratio, and one nobody can convert."""
    url, _ = upshot
    e = engine(url, "upshot", UPSHOT_KEY)
    report = await e.dora.get_dora(DoraQuery(period="last_30_days", team="ops"))
    assert report.deployment_frequency.value == pytest.approx(0.6 * 7) and report.deployment_frequency.rating == "high"
    assert report.lead_time.value == 1110 / 60 == 18.5
    assert report.change_failure_rate.value == pytest.approx(4.1)
    assert report.mttr.value is None and report.mttr.rating is None and report.mttr.trend is None
    text = " ".join(report.notes)
    assert "1110 minutes: 18.5 hours here" in text and "0.041 ratio: 4.1 percent here" in text
    assert "2.3 fortnights" in text and "'top-notch'" in text
    await e.aclose()


async def test_upshot_activity_follows_cursors_lazily_and_filters(upshot) -> None:
    url, script = upshot
    e = engine(url, "upshot", UPSHOT_KEY)
    before = len(script.requests)
    first = await e.activity.get_activity(ActivityQuery(from_="2025-02-01", to="2025-02-15", limit=4))
    assert [i.id for i in first.items] == ["act_abc123", "act_0", "act_1", "act_2"] and first.cursor
    assert len(script.requests) - before == 1, "one upstream page is enough for 4 items"
    seen = [i.id for i in first.items]
    cursor = first.cursor
    while cursor:
        page = await e.activity.get_activity(ActivityQuery(from_="2025-02-01", to="2025-02-15", limit=7, cursor=cursor))
        seen += [i.id for i in page.items]
        cursor = page.cursor
    assert seen == ["act_abc123"] + [f"act_{i}" for i in range(25)], "every modelled item once, in order"
    merged = await e.activity.get_activity(ActivityQuery(from_="2025-02-01", to="2025-02-15", type="pr_merged",
                                                         author="jane", limit=100))
    assert merged.items and all(i.type == "pr_merged" and i.author == "jane@acme.com" for i in merged.items)
    assert merged.items[0].metadata["labels"] == '["a"]'
    with pytest.raises(InvalidInput, match="cursor"):
        await e.activity.get_activity(ActivityQuery(cursor="garbage"))
    with pytest.raises(Unsupported, match="takes no team"):
        await e.activity.get_activity(ActivityQuery(team="platform"))
    await e.aclose()


async def test_upshot_contributor_and_unsupported_operations(upshot) -> None:
    url, _ = upshot
    e = engine(url, "upshot", UPSHOT_KEY)
    s = await e.activity.get_contributor_summary(ContributorQuery(contributor="usr_jane", period="last_7_days"))
    assert (s.commits, s.prs_merged, s.prs_reviewed, s.issues_closed, s.lines_added, s.lines_removed,
            s.deploy_contributions) == (23, 4, 7, 3, 1247, 389, 2)
    assert s.files_touched is None and s.repos is None and s.notes
    with pytest.raises(NotFound, match="No such contributor"):
        await e.activity.get_contributor_summary(ContributorQuery(contributor="ghost", period="last_7_days"))
    with pytest.raises(Unsupported, match="Upshot's API does not offer list_deployments"):
        await e.dora.list_deployments(DeploymentQuery())
    with pytest.raises(Unsupported, match="nothing to sync"):
        await e.repos.sync()
    await e.aclose()


# ---- rate limits, retries, faults ----------------------------------------------------------------------


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


async def test_upshot_retry_after_in_the_error_body(upshot) -> None:
    """Upshot's documented 429: no header, ``retry_after`` seconds in the error body — waited out when it fits,
    else the call fails at once with Upshot's own words and when to try again."""
    url, script = upshot
    e = engine(url, "upshot", UPSHOT_KEY)
    script.faults = ["429-body"]
    before = len(script.requests)
    assert (await e.dora.get_dora(DoraQuery())).mttr.value == 2.3
    assert len(script.requests) - before == 2 and script.times[-1] - script.times[-2] >= 0.9
    script.faults = ["429-body-long"]
    before = len(script.requests)
    with pytest.raises(RemoteError, match=r"You have exceeded 30 requests per minute.*retry after 45 s") as info:
        await e.dora.get_dora(DoraQuery())
    assert info.value.retry_after_seconds == 45 and len(script.requests) - before == 1
    await e.aclose()


async def test_429_beyond_the_cap_fails_at_once_saying_when_to_retry(upshot) -> None:
    url, script = upshot
    e = engine(url, "upshot", UPSHOT_KEY)
    script.faults = ["429-long"]
    before = len(script.requests)
    with pytest.raises(RemoteError, match="retry after 45 s") as info:
        await e.dora.get_dora(DoraQuery())
    assert info.value.retry_after_seconds == 45 and len(script.requests) - before == 1
    assert "Upshot" in info.value.message and "slow down" in info.value.message
    await e.aclose()


async def test_no_request_left_waits_for_the_reset_first(koalr) -> None:
    """An answer saying X-RateLimit-Remaining: 0 makes the next request wait for X-RateLimit-Reset (no 429 at all);
    a reset beyond the call's budget fails the next call at once, sending nothing, saying when to try again."""
    url, script = koalr
    e = engine(url, "koalr", KOALR_KEY)
    script.faults = ["quota-0"]
    await e.dora.list_deployments(DeploymentQuery(period="last_30_days", limit=15))  # two pages
    assert script.times[-1] - script.times[-2] >= 0.8, "the second page waited for the reset"
    script.faults = ["quota-0-long"]
    await e.dora.get_dora(DoraQuery())
    before = len(script.requests)
    with pytest.raises(RemoteError, match=r"Rate limited by Koalr's API .*no request left.*retry after 4\d s") as info:
        await e.dora.get_dora(DoraQuery())
    assert len(script.requests) == before and info.value.retry_after_seconds and info.value.retry_after_seconds >= 40
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


async def test_4xx_is_never_retried_and_each_is_worded(upshot, koalr) -> None:
    url, script = upshot
    e = engine(url, "upshot", UPSHOT_KEY)
    for fault, error, words in (("400", InvalidInput, "period is not supported"),
                                ("403", RemoteError, r"refused GET /v1/metrics/dora \(403\): the key lacks permission"),
                                ("404", NotFound, "found nothing for get_dora: Resource not found")):
        script.faults = [fault]
        before = len(script.requests)
        with pytest.raises(error, match=words):
            await e.dora.get_dora(DoraQuery())
        assert len(script.requests) - before == 1, fault
    await e.aclose()
    k = engine(koalr[0], "koalr", KOALR_KEY)
    koalr[1].faults = ["403"]
    with pytest.raises(RemoteError, match="Koalr's API .* refused GET /api/v1/metrics/dora \\(403\\)"):
        await k.dora.get_dora(DoraQuery())
    await k.aclose()


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


async def test_bad_key_is_named_never_shown(upshot, koalr) -> None:
    url, _ = upshot
    e = engine(url, "upshot", "wrong-upshot-key-999")
    with pytest.raises(RemoteError, match="rejected the key") as info:
        await e.dora.get_dora(DoraQuery())
    assert "wrong-upshot-key-999" not in info.value.message and "Settings → API Keys" in info.value.message
    await e.aclose()
    k = engine(koalr[0], "koalr", "klr_live_wrong000")
    with pytest.raises(RemoteError, match=r"rejected the key \(401\).*klr_live_…") as info:
        await k.flow.get_flow_metrics(FlowQuery())
    assert "klr_live_wrong000" not in info.value.message
    await k.aclose()
    nokey = RemoteEngine(Settings(api_url=url, provider="upshot"), options=FAST)
    with pytest.raises(RemoteError, match="ENGMETRICS_API_KEY is not set"):
        await nokey.dora.get_dora(DoraQuery())


# ---- Koalr: the DORA area ------------------------------------------------------------------------------


async def test_koalr_dora_days_window_and_units(koalr) -> None:
    url, script = koalr
    e = engine(url, "koalr", KOALR_KEY)
    report = await e.dora.get_dora(DoraQuery(period="last_30_days"))
    _, path, params, headers, _ = script.requests[-1]
    assert path == "/api/v1/metrics/dora" and params == {"days": "30"} and headers["x-koalr-key"] == KOALR_KEY
    assert "authorization" not in headers
    # As sent, read in the stated units: 0.04 (fraction) is 4 %, 42 minutes is 0.7 h.
    assert report.deployment_frequency.value == 4.2 and report.lead_time.value == 18.5
    assert report.change_failure_rate.value == 4.0 and report.mttr.value == 0.7
    assert report.provider_tier == "elite", "Koalr's own tier, as sent"
    # Ratings of Koalr's figures against DORA 2024's thresholds, by hand: ≥ 1/day is elite, so 4.2/week is high;
    # 18.5 h < 24 h elite; 4 % ≤ 5 % elite; 0.7 h < 1 h elite.
    assert [report.deployment_frequency.rating, report.lead_time.rating, report.change_failure_rate.rating,
            report.mttr.rating] == ["high", "elite", "elite", "elite"]
    assert report.deployment_frequency.deployments is None and report.change_failure_rate.total_deployments is None
    assert report.mttr.recovered is None and report.lead_time.changes is None and report.lead_time.trend is None
    notes = " ".join(report.notes)
    assert "changeFailureRate 0.04" in notes and "mttr 42" in notes and "minutes" in notes
    assert report.period.label == "last_30_days"
    with pytest.raises(Unsupported, match="rolling windows that end now"):
        await e.dora.get_dora(DoraQuery(period="last_month"))
    with pytest.raises(Unsupported, match="whole organisation"):
        await e.dora.get_dora(DoraQuery(team="Platform"))
    await e.aclose()


async def test_koalr_deployments_pages_filters_and_team(koalr) -> None:
    url, script = koalr
    e = engine(url, "koalr", KOALR_KEY)
    seen: list[str] = []
    notes: list[str] = []
    cursor = None
    while True:
        page = await e.dora.list_deployments(DeploymentQuery(period="last_30_days", limit=6, cursor=cursor))
        seen += [d.id for d in page.items]
        notes += page.notes
        assert page.total == 23, "Koalr's total, no filter applied here"
        cursor = page.cursor
        if not cursor:
            break
    assert seen == ["dep_01j8x"] + [f"dep_{i:02d}" for i in range(22) if i != 7], "in progress left out"
    assert any("1 deployment(s) in another state" in n for n in notes), "the page that left dep_07 out says so"
    first = (await e.dora.list_deployments(DeploymentQuery(period="7d", limit=1))).items[0]
    assert (first.id, first.repo, first.environment, first.status, first.deployed_at) == (
        "dep_01j8x", "acme/api", "production", "success", "2026-03-14T18:22:00Z")
    assert first.lead_time_hours_median == pytest.approx(67200 / 3600)
    assert first.sha is None and first.change_count is None and first.unplanned is None and first.source is None
    prod = await e.dora.list_deployments(DeploymentQuery(period="7d", environment="production", repo="api", limit=100,
                                                         team="platform"))
    assert prod.items and all(d.environment == "production" and d.repo == "acme/api" for d in prod.items)
    assert any(d.failed and d.status == "failure" for d in prod.items)
    assert prod.total is None, "filtered here: Koalr's total would not be the filtered count"
    assert script.requests[-1][2]["teamId"] == "team_abc123"
    with pytest.raises(NotFound, match="Platform"):
        await e.dora.list_deployments(DeploymentQuery(team="nope"))
    await e.aclose()


async def test_koalr_team_names_are_cached_per_engine(koalr) -> None:
    url, script = koalr
    e = engine(url, "koalr", KOALR_KEY)
    before = len(script.requests)
    for _ in range(3):
        await e.dora.list_deployments(DeploymentQuery(team="PLATFORM", limit=1))
    teams = [r for r in script.requests[before:] if r[1] == "/api/v1/teams"]
    assert len(teams) == 1, "one /teams for the engine's life"
    before = len(script.requests)
    with pytest.raises(NotFound, match="'Platform', 'Growth'"):
        await e.dora.list_deployments(DeploymentQuery(team="Mobile"))
    assert [r[1] for r in script.requests[before:]] == ["/api/v1/teams"], "an unknown name is looked up once more"
    await e.aclose()


async def test_koalr_incidents_and_unsupported(koalr) -> None:
    url, _ = koalr
    e = engine(url, "koalr", KOALR_KEY)
    incidents = await e.dora.list_incidents(IncidentQuery(period="last_30_days"))
    assert [(i.id, i.title, i.severity, i.status, i.started_at, i.resolved_at, i.duration_hours)
            for i in incidents.items] == [
        ("inc_9z2k", "API p99 latency spike", "sev2", "resolved", "2026-03-10T03:14:00Z", "2026-03-10T04:02:00Z",
         2880 / 3600),
        ("inc_open", "Queue backlog", "sev3", "open", "2026-03-12T03:14:00Z", None, None)]
    assert incidents.total == 2
    only_open = await e.dora.list_incidents(IncidentQuery(status="open"))
    assert [i.id for i in only_open.items] == ["inc_open"] and only_open.total is None
    with pytest.raises(Unsupported, match="Koalr's API does not offer list_repositories"):
        await e.repos.list_repositories()
    with pytest.raises(Unsupported, match="get_activity"):
        await e.activity.get_activity(ActivityQuery())
    await e.aclose()


async def test_koalr_429_honours_the_reset_header(koalr) -> None:
    url, script = koalr
    e = engine(url, "koalr", KOALR_KEY)
    for fault in ("429-reset", "429-reset-ms"):
        script.faults = [fault]
        before = len(script.requests)
        assert (await e.dora.get_dora(DoraQuery())).lead_time.value == 18.5
        assert len(script.requests) - before == 2, fault
    script.faults = ["429-reset"] * 3
    with pytest.raises(RemoteError, match=r"Rate limited by Koalr's API .*Rate limit exceeded; retry after \d+ s"):
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
    for forged in ({"p": "2"}, {"p": None}, {"s": [1]}, {"p": 0}, {"p": 1, "z": 500}):
        with pytest.raises(InvalidInput, match="cursor"):
            await k.dora.list_deployments(DeploymentQuery(period="last_30_days", cursor=encode_remote_cursor(forged)))
    # A genuine one still pages on from where it says.
    page = await k.dora.list_deployments(DeploymentQuery(period="last_30_days", limit=3,
                                                         cursor=encode_remote_cursor({"p": 2, "s": 1})))
    assert [d.id for d in page.items] == ["dep_10", "dep_11", "dep_12"], "page 2 of 10 is items 10–19; skip 1"
    await u.aclose()
    await k.aclose()
