"""Scorecard statuses at each threshold, amber by trend, and a scorecard computed from the sample store."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime, timedelta

import anyio
import pytest

from engmetrics.areas.dora.models import DoraQuery
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
from engmetrics.config import Settings
from engmetrics.engine.local import LocalEngine
from gitrepo import GitRepo
from helpers import call, mcp_session


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
        dora = await local_engine.dora.get_dora(DoraQuery(
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


# ---- the get_scorecard tool, through a real MCP client session ---------------------------------------------

TEST_FILE = re.compile(r"(?:^|/)tests?/|(?:^|/)test_[^/]*$")  # the test's own rule for this repository
POINTS = {"green": 100, "amber": 60, "red": 20}
STATUS_OF_RATING = {"elite": "green", "high": "green", "medium": "amber", "low": "red"}


def _card_repo(root):  # type: ignore[no-untyped-def]
    """Ten commits in each of the last two 30-day windows, each released by its own tag an hour later: 5 of the
    current ten change a test file, 6 of the previous ten."""
    now = datetime.now(UTC).replace(microsecond=0)
    repo = GitRepo(root / "card")
    n = 0
    for first_day, touching in ((58, 6), (20, 5)):  # previous window, then the current one
        for k in range(10):
            when = now - timedelta(days=first_day - 2 * k, hours=3)
            files = {f"src/m{n}.py": f"x = {n}\n"}
            if k < touching:
                files[f"tests/test_m{n}.py"] = f"def test_{n}():\n    pass\n"
            repo.commit(files, f"feat: module {n}", when=when)
            repo.tag(f"v1.{n}.0", annotated=True, when=when + timedelta(hours=1))
            n += 1
    return repo


def _test_touch(repo, start: int, end: int) -> float:  # type: ignore[no-untyped-def]
    """Percent of non-merge commits authored in [start, end) changing a test file, from `git log` itself."""
    commits: dict[str, bool] = {}
    current = None
    for line in repo.git("log", "--no-merges", "--format=@%H %at", "--name-only").splitlines():
        if line.startswith("@"):
            sha, at = line[1:].split()
            current = sha if start <= int(at) < end else None
            if current:
                commits[current] = False
        elif line and current:
            commits[current] = commits[current] or bool(TEST_FILE.search(line))
    return round(100.0 * sum(commits.values()) / len(commits), 2)


async def test_get_scorecard_tool(tmp_path) -> None:
    repo = _card_repo(tmp_path)
    engine = LocalEngine(Settings(db=tmp_path / "db.sqlite"))
    engine.register_repository(repo.path)
    assert not (await engine.repos.sync()).errors
    engine.store.close()
    async with mcp_session(tmp_path / "db.sqlite") as (client, _):
        card = await call(client, "get_scorecard", {"repo": "card", "period": "last_30_days"})
        dora = await call(client, "get_dora", {"repo": "card", "period": "last_30_days"})
        bad = await client.call_tool("get_scorecard", {"repo": "card", "benchmark_year": 1999})
    now = int(time.time())
    by = {s["metric"]: s for s in card["signals"]}
    assert list(by) == ["deployment_frequency", "lead_time", "change_failure_rate", "mttr", "test_touch_ratio",
                        "code_churn"]  # no incident recorded: the incident rate is unknown, so not a signal
    assert card["name"] == "card" and card["benchmark_year"] == 2024
    # Catalogue signals: every commit only adds lines (churn 0 modified ÷ added).
    assert (by["code_churn"]["value"], by["code_churn"]["unit"], by["code_churn"]["status"]) == (0.0, "ratio", "green")

    # Test-touch ratio: 5 of 10 (50%, green by its thresholds) against 6 of 10 before: worsening → amber.
    touch = by["test_touch_ratio"]
    day = 86400
    assert touch["value"] == 50.0 == _test_touch(repo, now - 30 * day, now)
    assert touch["previous_value"] == 60.0 == _test_touch(repo, now - 60 * day, now - 30 * day)
    assert (touch["unit"], touch["trend"], touch["status"]) == ("percent", "worsening", "amber")
    assert touch["reason"] == "50% (green ≥ 40%, amber ≥ 20%), worsening vs the previous window."

    # DORA signals: the DORA figures, status by tier (elite/high green, medium amber, low red), amber when
    # a green one is worsening; no status without a value.
    for metric in ("deployment_frequency", "lead_time", "change_failure_rate", "mttr"):
        fig, sig = dora[metric], by[metric]
        assert (sig["value"], sig["rating"], sig["trend"]) == (fig["value"], fig["rating"], fig["trend_direction"])
        status = STATUS_OF_RATING.get(fig["rating"]) if fig["value"] is not None else None
        if status == "green" and fig["trend_direction"] == "worsening":
            status = "amber"
        assert sig["status"] == status, metric
    assert by["deployment_frequency"]["value"] == round(10 / (30 / 7), 2)  # 10 releases in 30 days
    assert by["lead_time"]["value"] == 1.0 and by["lead_time"]["status"] == "green"  # each tag 1 h after its commit
    assert by["mttr"]["value"] is None and by["mttr"]["status"] is None
    scored = [POINTS[s["status"]] for s in card["signals"] if s["status"]]
    assert card["overall_score"] == round(sum(scored) / len(scored))
    assert bad.is_error and "benchmark_year" in bad.content[0].text and "Traceback" not in bad.content[0].text
