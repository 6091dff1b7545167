"""Health and risk signals: the score is the weighted mean of the scorecard's signal points (computed here from the
definition), weights are configurable; risks found on a repository built to have them (knowledge concentration,
batch size growing, coverage falling), with evidence checked against git; the tools through a real MCP session."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

from gitrepo import GitRepo
from helpers import call, mcp_session

from engmetrics.areas.health.models import HealthQuery, RiskQuery
from engmetrics.areas.reports.models import ScorecardQuery
from engmetrics.config import Settings
from engmetrics.engine.local import LocalEngine

POINTS = {"green": 100, "amber": 60, "red": 20}
WEIGHTS = {"change_failure_rate": 2.0, "mttr": 1.5, "open_incident_rate": 1.5, "deployment_frequency": 1.0,
           "lead_time": 1.0, "pr_review_time": 1.0, "test_coverage": 1.0, "task_throughput": 1.0,
           "test_touch_ratio": 0.5, "code_churn": 0.5}


def weighted(signals, weights) -> int | None:  # type: ignore[no-untyped-def]
    pairs = [(POINTS[s.status], weights.get(s.metric, 1.0)) for s in signals if s.status]
    pairs = [(p, w) for p, w in pairs if w > 0]
    return round(sum(p * w for p, w in pairs) / sum(w for _, w in pairs)) if pairs else None


async def test_health_is_the_weighted_scorecard_now_and_before(local_engine, workspace_copy) -> None:
    h = await local_engine.health.get_health(HealthQuery(repo="sample", period="last_90_days"))
    card = await local_engine.reports.get_scorecard(ScorecardQuery(repo="sample", period="last_90_days"))
    prev = await local_engine.reports.get_scorecard(ScorecardQuery(
        repo="sample", from_=h.previous_period.from_, to=_before(h.previous_period.to)))
    assert [(s.metric, s.value, s.status) for s in h.signals] == [(s.metric, s.value, s.status) for s in card.signals]
    assert h.score == weighted(card.signals, WEIGHTS) and h.score is not None
    assert h.previous_score == weighted(prev.signals, WEIGHTS)
    assert h.score_change == h.score - h.previous_score  # type: ignore[operator]
    assert h.status == ("green" if h.score >= 75 else "amber" if h.score >= 50 else "red")
    by_prev = {s.metric: s.status for s in prev.signals}
    assert h.changed == [f"{s.metric.replace('_', ' ')}: {by_prev[s.metric]} → {s.status}" for s in card.signals
                         if by_prev.get(s.metric) and s.status and by_prev[s.metric] != s.status]
    assert {s.metric: s.weight for s in h.signals}["change_failure_rate"] == 2.0

    # Weights are configurable: only the change failure rate counts.
    only = LocalEngine(Settings(db=workspace_copy.db, health_weights={m: 0 for m in WEIGHTS if m != "change_failure_rate"}))
    h2 = await only.health.get_health(HealthQuery(repo="sample", period="last_90_days"))
    cfr = next(s for s in card.signals if s.metric == "change_failure_rate")
    assert h2.score == (POINTS[cfr.status] if cfr.status else None)
    only.store.close()


def _before(iso: str) -> str:
    """One second before an ISO time (the inclusive `to` of the window ending there)."""
    return (datetime.fromisoformat(iso.replace("Z", "+00:00")) - timedelta(seconds=1)).strftime("%Y-%m-%dT%H:%M:%SZ")


def _risky_repo(root) -> GitRepo:  # type: ignore[no-untyped-def]
    """Last 30 days: Ada makes 11 of the 12 commits to src/billing (big ones, 120 lines); the 30 days before: small
    commits (20 lines) by Grace to src/search."""
    now = datetime.now(UTC).replace(microsecond=0)
    repo = GitRepo(root / "risky")
    ada, grace = ("Ada", "ada@example.com"), ("Grace", "grace@example.com")
    for i in range(6):
        repo.commit({f"src/search/s{i}.py": "s = 1\n" * 20}, "feat: search", author=grace,
                    when=now - timedelta(days=50 - i))
    for i in range(12):
        who = grace if i == 5 else ada
        repo.commit({f"src/billing/b{i}.py": "b = 1\n" * 120}, "feat: billing", author=who,
                    when=now - timedelta(days=20 - i))
    return repo


async def test_risk_signals_on_a_repository_built_to_have_them(tmp_path) -> None:
    repo = _risky_repo(tmp_path)
    engine = LocalEngine(Settings(db=tmp_path / "db.sqlite", alerts_every_seconds=0))
    engine.register_repository(repo.path)
    await engine.repos.sync()
    now = datetime.now(UTC)
    for covered, days in ((9, 40), (7, 5)):  # 90% in the previous window, 70% now: −20 points
        path = tmp_path / f"c{covered}.lcov"
        path.write_text("SF:a.py\n" + "".join(f"DA:{i},{int(i <= covered)}\n" for i in range(1, 11)) + "end_of_record\n")
        await engine.catalogue.import_coverage(path, "risky", at=(now - timedelta(days=days)).strftime("%Y-%m-%dT%H:%M:%SZ"))
    report = await engine.health.get_risk_signals(RiskQuery(repo="risky", period="last_30_days"))
    by = {r.type: r for r in report.risks}
    assert set(by) == {"knowledge_concentration", "batch_size_growing", "coverage_falling"}

    # Knowledge: the test's own count from git over the last 90 days of commits touching src/billing.
    log = repo.git("log", "--no-merges", "--since=90.days", "--format=@%ae", "--name-only").splitlines()
    authors: Counter[str] = Counter()
    who = None
    for line in log:
        if line.startswith("@"):
            who = line[1:]
        elif line.startswith("src/billing/"):
            authors[who] += 1  # type: ignore[index]
    (top, n), = authors.most_common(1)
    k = by["knowledge_concentration"]
    assert k.id == "knowledge_concentration:risky:src/billing" and (top, n, sum(authors.values())) == ("ada@example.com", 11, 12)
    assert k.evidence == ["ada@example.com made 11 of the 12 commits (92%) that changed src/billing in risky in the last 90 days."]
    assert k.severity == "medium"  # 92% < 95%
    assert by["batch_size_growing"].evidence == ["Median change size 20 lines → 120 lines (+500%)."]
    assert by["batch_size_growing"].severity == "high"
    assert by["coverage_falling"].evidence == ["Line coverage 90% → 70% (-20 points)."]
    assert [r.severity for r in report.risks] == sorted((r.severity for r in report.risks),
                                                        key={"high": 0, "medium": 1, "low": 2}.get)
    assert "prs_stuck" in report.checked and report.notes  # the AI hook says why it is not checked
    engine.store.close()


async def test_health_and_risk_tools(sample_workspace) -> None:
    async with mcp_session(sample_workspace.db, alerts_every_seconds=0) as (client, engine):
        health = await call(client, "get_health", {"repo": "sample", "period": "last_90_days"})
        risks = await call(client, "get_risk_signals", {"repo": "sample", "period": "last_90_days"})
        card = await call(client, "get_scorecard", {"repo": "sample", "period": "last_90_days"})
        bad = await client.call_tool("get_health", {"period": "eternity"})
    assert [s["metric"] for s in health["signals"]] == [s["metric"] for s in card["signals"]]
    pairs = [(POINTS[s["status"]], WEIGHTS.get(s["metric"], 1.0)) for s in card["signals"] if s["status"]]
    assert health["score"] == round(sum(p * w for p, w in pairs) / sum(w for _, w in pairs))
    assert set(risks["checked"]) >= {"knowledge_concentration", "coverage_falling", "cfr_rising_with_frequency"}
    for r in risks["risks"]:
        assert r["evidence"] and r["recommended_action"] and r["severity"] in ("low", "medium", "high")
    assert bad.is_error and "Accepted periods" in bad.content[0].text
