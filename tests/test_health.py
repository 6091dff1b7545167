"""Health and risk signals: the score is the weighted mean of the scorecard's signal points (computed here from the
definition), weights are configurable; risks found on a repository built to have them (knowledge concentration,
batch size growing, coverage falling), with evidence checked against git; the tools through a real MCP session."""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime, timedelta

from gitrepo import GitRepo
from helpers import call, mcp_session

from engmetrics.areas.dora.models import DoraQuery
from engmetrics.areas.health.metrics.risks import ai_stability_risk
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
    unknown = [s.metric.replace("_", " ") for s in h.signals if s.status is None and s.weight > 0]
    counted = [s for s in h.signals if s.status is not None and s.weight > 0]
    said = [n for n in h.notes if n.startswith("The score rests on")]
    assert said == ([f"The score rests on {len(counted)} of {len(counted) + len(unknown)} signals: no "
                     f"{', '.join(unknown)} in the window, so {'it is' if len(unknown) == 1 else 'they are'} left "
                     "out rather than counted."] if unknown else [])

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
    assert "prs_stuck" in report.checked and "ai_share_rising_stability_falling" in report.checked
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


AI_TRAILER = "\n\nCo-authored-by: Claude <noreply@anthropic.com>"


async def test_ai_share_rising_while_stability_falls(tmp_path) -> None:
    """Previous 30 days: 4 commits without AI, 4 successful deployments. Last 30 days: 4 commits of which 2 carry an
    AI co-author trailer, 4 deployments of which 2 failed (an incident after each). AI-assisted commits 0% → 50%, change failure rate
    0% → 50%: the risk, high (≥ 15%)."""
    repo = GitRepo(tmp_path / "ai")
    now = datetime.now(UTC)
    stamp = "%Y-%m-%dT%H:%M:%SZ"
    rows = []
    for i in range(4):
        sha = repo.commit({f"old{i}.py": "x\n"}, "feat: old", when=now - timedelta(days=50 - i))
        rows.append(f"p{i},ai,{sha},production,success,{(now - timedelta(days=50 - i, hours=-1)).strftime(stamp)}")
    for i in range(4):
        sha = repo.commit({f"new{i}.py": "y\n"}, "feat: new" + (AI_TRAILER if i < 2 else ""),
                          when=now - timedelta(days=20 - i))
        rows.append(f"c{i},ai,{sha},production,success,{(now - timedelta(days=20 - i, hours=-1)).strftime(stamp)}")
    engine = LocalEngine(Settings(db=tmp_path / "db.sqlite", alerts_every_seconds=0))
    engine.register_repository(repo.path)
    await engine.repos.sync()
    deploys = tmp_path / "deploys.csv"
    deploys.write_text("id,repo,sha,environment,status,deployed_at\n" + "\n".join(rows) + "\n")
    assert not (await engine.dora.import_events(deploys, "deployments")).errors
    # An incident started after deployments c1 and c3 (and before the next one) marks each failed.
    incidents = tmp_path / "incidents.json"
    incidents.write_text(json.dumps([
        {"id": f"I{i}", "title": "outage", "repo": "ai",
         "started_at": (now - timedelta(days=20 - i, hours=-2)).strftime(stamp)} for i in (1, 3)]))
    assert not (await engine.dora.import_events(incidents, "incidents")).errors

    # The inputs, checked apart: git's own count of trailers, and get_dora's rates now and before.
    since = (now - timedelta(days=30)).strftime(stamp)
    trailers = repo.git("log", f"--since={since}", "--format=%(trailers:key=Co-authored-by,valueonly)%x00").split("\x00")
    recent = int(repo.git("rev-list", "--count", f"--since={since}", "HEAD").strip())
    assert (sum("Claude" in t for t in trailers), recent) == (2, 4)
    dora = await engine.dora.get_dora(DoraQuery(repo="ai", period="last_30_days"))
    assert (dora.change_failure_rate.value, dora.change_failure_rate.previous_value) == (50.0, 0.0)

    report = await engine.health.get_risk_signals(RiskQuery(repo="ai", period="last_30_days"))
    ai = [r for r in report.risks if r.type == "ai_share_rising_stability_falling"]
    assert len(ai) == 1 and ai[0].severity == "high"
    assert ai[0].evidence == ["AI-assisted commits 0% → 50% of commits.",
                              "Change failure rate 0% → 50% (an association, not a cause)."]
    assert "ai_share_rising_stability_falling" in report.checked and not report.notes
    engine.store.close()


def test_ai_stability_risk_thresholds() -> None:
    assert ai_stability_risk(14.9, 10.0, 20.0, 10.0) is None  # +4.9 points: not enough
    assert ai_stability_risk(30.0, 10.0, 10.0, 10.0) is None  # stability did not fall
    assert ai_stability_risk(30.0, None, 20.0, 10.0) is None  # no previous share
    medium = ai_stability_risk(15.0, 10.0, 14.0, 10.0)
    assert medium is not None and medium.severity == "medium"


async def test_health_without_deployments_or_incidents_rests_on_what_it_has(tmp_path) -> None:
    """A repository with commits but no release tag and no incident: no DORA figure and no incident rate (unknown,
    not 0), so the score is the weighted mean of the two commit signals alone, and a note says which are left out;
    with no signal at all the score is null, never a perfect 100."""
    repo = GitRepo(tmp_path / "plain")
    now = datetime.now(UTC)
    for k in range(8):  # 8 commits in the last 30 days, 4 of them touching a test; each adds lines only
        files = {f"src/m{k}.py": f"x = {k}\n"} | ({f"tests/test_m{k}.py": "def test():\n    pass\n"} if k % 2 else {})
        repo.commit(files, f"feat: m{k}", when=now - timedelta(days=20 - 2 * k))
    engine = LocalEngine(Settings(db=tmp_path / "h.db"))
    engine.register_repository(repo.path)
    assert not (await engine.repos.sync()).errors
    h = await engine.health.get_health(HealthQuery(repo="plain", period="last_30_days"))
    status = {s.metric: s.status for s in h.signals}
    assert "open_incident_rate" not in status
    assert [m for m, st in status.items() if st is None] == ["deployment_frequency", "lead_time", "change_failure_rate",
                                                             "mttr"]
    known = [s for s in h.signals if s.status is not None]
    assert sorted(s.metric for s in known) == ["code_churn", "test_touch_ratio"]
    assert h.score == weighted(h.signals, WEIGHTS) and h.score is not None
    assert ("The score rests on 2 of 6 signals: no deployment frequency, lead time, change failure rate, mttr in the "
            "window, so they are left out rather than counted.") in h.notes
    empty = await engine.health.get_health(HealthQuery(repo="plain", from_="2020-01-01", to="2020-01-31"))
    assert empty.score is None and empty.status is None
    engine.store.close()
