"""Scorecard statuses at each threshold, amber by trend, and a scorecard computed from the sample store."""

from __future__ import annotations

import anyio
import pytest

from engmetrics.areas.reports.models import ScorecardQuery, Signal
from engmetrics.areas.reports.metrics.scorecard import (
    TEST_PATH,
    overall_score,
    scorecard_markdown,
    status_by_thresholds,
    status_from_rating,
    threshold_signal,
    with_trend,
)


@pytest.mark.parametrize(
    ("value", "higher", "expected"),
    [(24.0, False, "green"), (24.01, False, "amber"), (72.0, False, "amber"), (72.01, False, "red"), (None, False, None)],
)
def test_review_time_thresholds(value, higher, expected) -> None:  # type: ignore[no-untyped-def]
    assert status_by_thresholds(value, 24.0, 72.0, higher) == expected


@pytest.mark.parametrize(("value", "expected"), [(40.0, "green"), (39.99, "amber"), (20.0, "amber"), (19.99, "red")])
def test_test_touch_thresholds(value, expected) -> None:  # type: ignore[no-untyped-def]
    assert status_by_thresholds(value, 40.0, 20.0, True) == expected


def test_rating_statuses_and_amber_by_trend() -> None:
    assert [status_from_rating(r) for r in ("elite", "high", "medium", "low", None)] == ["green", "green", "amber", "red", None]
    assert with_trend("green", "worsening") == "amber"
    assert with_trend("green", "stable") == "green"
    assert with_trend("red", "worsening") == "red"
    sig = threshold_signal("pr_review_time", "hours", 20.0, 10.0, 24.0, 72.0, False)
    assert sig.status == "amber" and sig.trend == "worsening" and "worsening" in sig.reason


def test_overall_score() -> None:
    def s(status):  # type: ignore[no-untyped-def]
        return Signal(metric="m", value=1.0, unit="u", status=status, trend=None, reason="r")

    assert overall_score([s("green"), s("amber"), s("red")]) == 60
    assert overall_score([s("green"), s(None)]) == 100
    assert overall_score([s(None)]) is None


def test_test_paths() -> None:
    for path in ("tests/test_api.py", "src/app/__tests__/x.js", "pkg/handler_test.go", "web/button.spec.ts", "test_x.py"):
        assert TEST_PATH.search(path), path
    for path in ("src/contest.py", "docs/testing.md", "latest/app.py"):
        assert not TEST_PATH.search(path), path


def test_scorecard_from_sample(local_engine) -> None:
    async def go():  # type: ignore[no-untyped-def]
        card = await local_engine.reports.get_scorecard(ScorecardQuery(repo="sample", period="last_90_days"))
        dora = await local_engine.dora.get_dora(__import__("engmetrics.queries", fromlist=["DoraQuery"]).DoraQuery(
            repo="sample", period="last_90_days"))
        return card, dora

    card, dora = anyio.run(go)
    by = {s.metric: s for s in card.signals}
    assert {"deployment_frequency", "lead_time", "change_failure_rate", "mttr"} <= set(by)
    assert by["lead_time"].value == dora.lead_time.value
    assert by["change_failure_rate"].value == dora.change_failure_rate.value
    assert by["change_failure_rate"].status == with_trend(status_from_rating(dora.change_failure_rate.rating),
                                                            dora.change_failure_rate.trend_direction)
    # The sample has no tests at all: the test-touch ratio is 0% and red; no PR table data → no review signal.
    assert by["test_touch_ratio"].value == 0.0 and by["test_touch_ratio"].status == "red"
    assert "pr_review_time" not in by
    assert card.overall_score == overall_score(card.signals) and 0 <= card.overall_score <= 100
    assert scorecard_markdown(card).startswith("# Scorecard: sample")
