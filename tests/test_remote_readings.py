"""Properties of the providers' mappings on generated answers (hypothesis, bounded), each checked against a second
computation written here from the readings the README states — never by calling the mapping's own helpers:

- Koalr's flow, value-stream and backlog figures arrive as sent (days × 24 for the times read as days), nulls stay
  null, never 0;
- Upshot's DORA figures in any unit it may send come out in ours by the factor of the unit;
- walking Koalr's pull requests page by page (any count, any limit) gives every one once, in order, with Koalr's total;
- Koalr's Copilot figures arrive as sent, left-out ones null;
- a 429's wait is read from Retry-After, X-RateLimit-Reset (seconds, Unix seconds or milliseconds), or the body.
"""

from __future__ import annotations

from typing import Any

import anyio
import httpx2
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engmetrics.areas.ai.models import CopilotQuery
from engmetrics.areas.dora.models import DoraQuery
from engmetrics.areas.flow.models import FlowQuery, PullRequestQuery
from engmetrics.areas.forecast.models import BacklogForecastQuery
from engmetrics.engine.remote.http import RemoteOptions, retry_after
from engmetrics.errors import RemoteError
from vendor_standins import KOALR_KEY, UPSHOT_KEY, engine

EXAMPLES = settings(max_examples=25, deadline=None)
figure = st.none() | st.floats(min_value=0, max_value=10_000, allow_nan=False, allow_infinity=False)
count = st.none() | st.integers(min_value=0, max_value=100_000)


def run(coro_fn: Any, *args: Any) -> Any:
    return anyio.run(coro_fn, *args)


@given(cycle=figure, throughput=count, wip=count, efficiency=st.none() | st.floats(0, 1),
       stages=st.lists(figure, min_size=4, max_size=4))
@EXAMPLES
def test_koalr_flow_and_value_stream_arrive_as_sent(koalr, cycle, throughput, wip, efficiency, stages) -> None:
    url, script = koalr
    script.bodies = {
        "/api/v1/flow": {"cycleTime": cycle, "throughput": throughput, "wipCount": wip, "flowEfficiency": efficiency},
        "/api/v1/value-stream": dict(zip(("ideaToCommit", "commitToMerge", "mergeToDeploy", "totalLeadTime"), stages)),
    }

    async def both() -> tuple[Any, Any]:
        e = engine(url, "koalr", KOALR_KEY)
        try:
            return await e.flow.get_flow_metrics(FlowQuery()), await e.flow.get_value_stream(FlowQuery())
        finally:
            await e.aclose()

    try:
        flow, vs = run(both)
    finally:
        script.bodies = {}

    def hours(days: float | None) -> float | None:
        return None if days is None else days * 24

    assert flow.cycle_time.median_hours == pytest.approx(hours(cycle), abs=1e-6)
    assert (flow.throughput, flow.wip_count, flow.flow_efficiency) == (throughput, wip, efficiency)
    got = [vs.idea_to_commit.median_hours, vs.commit_to_merge.median_hours, vs.merge_to_deploy.median_hours,
           vs.total_lead_time]
    assert got == [pytest.approx(hours(s), abs=1e-6) for s in stages]
    assert flow.cycle_time.count is None and vs.merged is None and flow.merged_not_deployed is None


@given(p50=st.integers(0, 500) | st.floats(0, 500), p85=st.integers(0, 500), size=st.integers(0, 10_000),
       weeks=st.tuples(figure, figure, figure))
@EXAMPLES
def test_koalr_backlog_arrives_as_sent(koalr, p50, p85, size, weeks) -> None:
    url, script = koalr
    script.bodies = {"/api/v1/forecast/backlog": {"weeklyThroughputP50": p50, "weeklyThroughputP85": p85,
                                                  "backlogSize": size,
                                                  "weeksToEmpty": dict(zip(("p50", "p85", "p95"), weeks))}}

    async def ask() -> Any:
        e = engine(url, "koalr", KOALR_KEY)
        try:
            return await e.forecast.forecast_backlog(BacklogForecastQuery())
        finally:
            await e.aclose()

    try:
        b = run(ask)
    finally:
        script.bodies = {}
    assert (b.weekly_throughput_p50, b.weekly_throughput_p85, b.backlog_size) == (p50, p85, size)
    assert (b.weeks_to_empty.p50, b.weeks_to_empty.p85, b.weeks_to_empty.p95) == weeks
    assert b.simulations is None and b.empty_by.p85 is None


HOURS_PER = {"hours": 1.0, "minutes": 1 / 60, "seconds": 1 / 3600, "days": 24.0}
PER_WEEK_PER = {"deploys_per_week": 1.0, "deploys_per_day": 7.0}
PERCENT_PER = {"percent": 1.0, "ratio": 100.0, "fraction": 100.0}


@given(values=st.tuples(*[st.floats(0, 5000, allow_nan=False)] * 4),
       units=st.tuples(st.sampled_from(sorted(PER_WEEK_PER)), st.sampled_from(sorted(HOURS_PER)),
                       st.sampled_from(sorted(PERCENT_PER)), st.sampled_from(sorted(HOURS_PER))))
@EXAMPLES
def test_upshot_dora_units_are_converted_by_their_factor(upshot, values, units) -> None:
    url, script = upshot
    names = ("deployment_frequency", "lead_time", "change_failure_rate", "mttr")
    script.bodies = {"/v1/metrics/dora": {n: {"value": v, "unit": u, "rating": "medium", "trend": "+1%"}
                                          for n, v, u in zip(names, values, units)}}

    async def ask() -> Any:
        e = engine(url, "upshot", UPSHOT_KEY)
        try:
            return await e.dora.get_dora(DoraQuery())
        finally:
            await e.aclose()

    try:
        d = run(ask)
    finally:
        script.bodies = {}
    factors = (PER_WEEK_PER[units[0]], HOURS_PER[units[1]], PERCENT_PER[units[2]], HOURS_PER[units[3]])
    got = (d.deployment_frequency.value, d.lead_time.value, d.change_failure_rate.value, d.mttr.value)
    for name, value, factor, out in zip(names, values, factors, got):
        assert out == pytest.approx(value * factor, rel=1e-9, abs=1e-6), name
    assert {d.deployment_frequency.rating, d.lead_time.rating, d.change_failure_rate.rating, d.mttr.rating} == {"medium"}


@given(n=st.integers(0, 130), limit=st.integers(1, 100), authors=st.lists(st.sampled_from(["ada", "bob"]),
                                                                          min_size=130, max_size=130))
@settings(max_examples=20, deadline=None)
def test_koalr_pull_requests_walk_every_one_once(koalr, n, limit, authors) -> None:
    url, script = koalr
    rows = [{"id": f"pr_{i}", "number": 5000 - i, "title": f"t{i}", "repo": "acme/api", "author": authors[i],
             "mergedAt": "2026-03-01T00:00:00Z", "cycleTimeSecs": 60 * i, "riskScore": i % 101} for i in range(n)]
    script.rows = {"/api/v1/pull-requests": rows}

    async def walk(author: str | None) -> tuple[list[int], list[int | None]]:
        e = engine(url, "koalr", KOALR_KEY)
        numbers: list[int] = []
        totals: list[int | None] = []
        cursor = None
        try:
            while True:
                page = await e.flow.list_pull_requests(PullRequestQuery(limit=limit, cursor=cursor, author=author))
                assert len(page.items) <= limit
                numbers += [p.number for p in page.items]
                totals.append(page.total)
                cursor = page.cursor
                if not cursor:
                    return numbers, totals
        finally:
            await e.aclose()

    try:
        every, totals = run(walk, None)
        adas, ada_totals = run(walk, "ada")
    finally:
        script.rows = {}
    assert every == [5000 - i for i in range(n)] and set(totals) == {n}
    assert adas == [5000 - i for i in range(n) if authors[i] == "ada"] and set(ada_totals) == {None}


@given(seconds=st.integers(0, 86_400), how=st.sampled_from(["retry-after", "delta", "epoch", "epoch-ms", "body"]))
@EXAMPLES
def test_a_429_says_how_long_to_wait(seconds, how) -> None:
    now = 1_750_000_000.0
    headers = {"retry-after": str(seconds)} if how == "retry-after" else \
        {"x-ratelimit-reset": str(seconds)} if how == "delta" else \
        {"x-ratelimit-reset": str(int(now) + seconds)} if how == "epoch" else \
        {"x-ratelimit-reset": str((int(now) + seconds) * 1000)} if how == "epoch-ms" else {}
    body = {"error": {"code": "rate_limit_exceeded", "message": "x", "retry_after": seconds}} if how == "body" else {}
    response = httpx2.Response(429, headers=headers, json=body)
    assert retry_after(response, now) == pytest.approx(seconds)


async def test_a_429_wait_beyond_the_calls_deadline_fails_at_once(upshot) -> None:
    """Retry-After 5 s with 2 s left in the call: no waiting past the deadline, the error says when to retry."""
    url, script = upshot
    options = RemoteOptions(timeout_seconds=1, max_retries=3, backoff_seconds=0.01, max_wait_seconds=30,
                            deadline_seconds=2)
    e = engine(url, "upshot", UPSHOT_KEY, options)
    script.faults = ["429-5s"]
    before = len(script.requests)
    with pytest.raises(RemoteError, match=r"Rate limited by Upshot's API .*slow down; retry after 5 s") as info:
        await e.dora.get_dora(DoraQuery())
    assert info.value.retry_after_seconds == 5 and len(script.requests) - before == 1, "not retried"
    await e.aclose()


@given(adoption=st.none() | st.floats(0, 1), acceptance=st.none() | st.floats(0, 1), hours=figure)
@EXAMPLES
def test_koalr_copilot_arrives_as_sent(koalr, adoption, acceptance, hours) -> None:
    """get_copilot through Koalr: Koalr's shape is ours (ratios 0–1, hours), so every figure arrives unchanged and
    a figure Koalr leaves out (null or absent) is null."""
    url, script = koalr
    sent = {k: v for k, v in (("adoptionRate", adoption), ("acceptanceRate", acceptance),
                              ("estimatedHoursSaved", hours)) if v is not None or k == "acceptanceRate"}
    script.bodies = {"/api/v1/copilot": sent}

    async def ask() -> Any:
        e = engine(url, "koalr", KOALR_KEY)
        try:
            return await e.ai.get_copilot(CopilotQuery(days=28))
        finally:
            await e.aclose()

    try:
        got = run(ask)
    finally:
        script.bodies = {}
    assert got.model_dump(by_alias=True) == {"adoptionRate": sent.get("adoptionRate"),
                                             "acceptanceRate": sent["acceptanceRate"],
                                             "estimatedHoursSaved": sent.get("estimatedHoursSaved")}
