"""The AI figures hand-computed on two repositories the test builds ('app' and 'lib'), with tracking data imported
as Cursor's API pages (full, abbreviated and missing-repository hashes, a stale duplicate, a commit the store never
saw), AI trailers, release tags (one deployment failed by a revert), an SZZ-traceable fix and pull requests; through
the engine, a real MCP client session, the CLI and the REST API. Interval arithmetic is checked against published
values (Newcombe 1998) and an independent implementation in this file.

March 2024 (the window), lines added per commit in brackets:

    app  c1 ada  [10] tracking TAB 2 + COMPOSER 3          → 50 %   mostly   v1.0.0 (ok)
         c2 ada  [20] TAB 4 (hash abbreviated, no repo)    → 20 %   some     v1.0.0
         c3 bob  [ 8] Co-Authored-By: Claude, no tracking  → trailer mostly  v1.0.0
         c4 bob  [12] nothing                              →        none     v1.0.0; a fix traces a bug to it
         c5 cy   [ 5] tracking, no AI line                 →  0 %   none     v1.1.0 (failed: c6 reverted)
         c6 ada  [ 4] COMPOSER 10 (more than added: 4)     → 100 %  mostly   v1.1.0; reverted in April
         c7 dependabot[bot] [3] nothing                    →        none     v1.1.0
         c8 ada  [ 6] "Generated with Claude Code" + TAB 1 → trailer mostly  v1.1.0
    lib  l1 ada  [ 7] COMPOSER 7 (repo 'acme/lib')         → 100 %  mostly   (no deployments)
         l2 bob  [ 3] nothing (bob's other address)        →        none
"""

from __future__ import annotations

import csv
import json
import math
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import anyio
import httpx2
import pytest

from engmetrics.api.app import API_VERSION, build_api
from engmetrics.areas.ai.metrics.stability import hodges_lehmann, median_interval, newcombe, wilson
from engmetrics.areas.ai.models import AiImpact, AiImpactQuery
from engmetrics.areas.reports.models import InsightsQuery, MetricSeriesQuery, ReportRequest
from engmetrics.cli.app import run_app
from engmetrics.config import Settings
from engmetrics.engine.local import LocalEngine
from gitrepo import GitRepo
from helpers import call, copy_store, mcp_session
from test_api import Served

ADA = ("Ada Lovelace", "ada@example.com")
BOB = ("Bob Stone", "bob@example.com")
BOB_HOME = ("Bob Stone", "bob@home.example")
CY = ("Cy Young", "cy@example.com")
BOT = ("dependabot[bot]", "49699333+dependabot[bot]@users.noreply.github.com")
WINDOW = {"from": "2024-03-01", "to": "2024-03-31"}
TEAMS = {"core": {"repos": ["app"]}, "reviewers": {"people": ["bob"]}}
PEOPLE = {"bob": {"emails": ["bob@example.com", "bob@home.example"]}}


def lines(n: int, tag: str) -> str:
    return "".join(f"{tag}_{k} = {k}\n" for k in range(n))


def at(day: int, hour: int = 10, month: int = 3) -> str:
    return f"2024-{month:02d}-{day:02d}T{hour:02d}:00:00Z"


def ts(text: str) -> int:
    return int(datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp())


def build(root: Path) -> dict[str, str]:
    """The two repositories of the module docstring; returns every commit's sha by name."""
    app, lib = GitRepo(root / "app"), GitRepo(root / "lib")
    s: dict[str, str] = {}
    s["base"] = app.commit({"src/base.py": lines(3, "base")}, "feat: start", author=ADA, when=at(1, 10, 2))
    app.tag("v0.1.0", annotated=True, when=at(1, 20, 2))
    s["c1"] = app.commit({"src/c1.py": lines(10, "c1")}, "feat: c1", author=ADA, when=at(1))
    s["c2"] = app.commit({"src/c2.py": lines(20, "c2")}, "feat: c2", author=ADA, when=at(2))
    s["c3"] = app.commit({"src/c3.py": lines(8, "c3")}, "feat: c3\n\nCo-Authored-By: Claude <noreply@anthropic.com>\n",
                         author=BOB, when=at(5))
    s["c4"] = app.commit({"src/c4.py": lines(12, "c4")}, "feat: c4", author=BOB, when=at(6))
    app.tag("v1.0.0", annotated=True, when=at(7, 20))
    s["c5"] = app.commit({"src/c5.py": lines(5, "c5")}, "feat: c5", author=CY, when=at(12))
    s["c6"] = app.commit({"src/c6.py": lines(4, "c6")}, "feat: c6", author=ADA, when=at(13))
    s["c7"] = app.commit({"requirements.txt": lines(3, "dep")}, "Bump dep from 1 to 2", author=BOT, when=at(14))
    s["c8"] = app.commit({"src/c8.py": lines(6, "c8")},
                         "feat: c8\n\n🤖 Generated with [Claude Code](https://claude.com/claude-code)\n", author=ADA,
                         when=at(20))
    app.tag("v1.1.0", annotated=True, when=at(21, 20))
    s["revert"] = app.revert(s["c6"], when=at(3, 10, 4), author=ADA)
    fixed = lines(12, "c4").replace("c4_5 = 5", "c4_5 = 55")
    s["fix"] = app.commit({"src/c4.py": fixed}, "fix: c4 computed the wrong value", author=BOB, when=at(4, 10, 4))
    app.tag("v1.2.0", annotated=True, when=at(5, 20, 4))
    s["l1"] = lib.commit({"src/l1.py": lines(7, "l1")}, "feat: l1", author=ADA, when=at(21))
    s["l2"] = lib.commit({"src/l2.py": lines(3, "l2")}, "feat: l2", author=BOB_HOME, when=at(27))
    return s


def tracking_rows(s: dict[str, str]) -> list[dict[str, Any]]:
    """Cursor's rows for the scenario (camelCase, as its API answers)."""

    def row(sha: str, repo: str | None, tab: int, composer: int, created: str, added: int = 0) -> dict[str, Any]:
        r: dict[str, Any] = {"commitHash": sha, "userId": "user_x", "userEmail": "ada@example.com",
                             "totalLinesAdded": added or tab + composer + 1, "tabLinesAdded": tab,
                             "composerLinesAdded": composer, "createdAt": created, "commitTs": created}
        if repo is not None:
            r["repoName"] = repo
        return r

    return [
        row(s["c1"], "acme/app", 2, 3, at(1, 12)),
        row(s["c1"][:7], "acme/app", 9, 0, at(29, 12, 2)),  # an older, stale row for c1: the later one counts
        row(s["c2"][:8], None, 4, 0, at(2, 12)),  # no repository name: found across repositories
        row(s["c5"], "app", 0, 0, at(12, 12)),
        row(s["c6"], "app", 0, 10, at(13, 12)),
        row(s["c8"], "app", 1, 0, at(20, 12)),
        row(s["l1"], "acme/lib", 0, 7, at(21, 12)),
        row("0123456789abcdef0123456789abcdef01234567", "acme/app", 3, 3, at(22, 12)),  # never in the store
    ]


@pytest.fixture(scope="module")
def scenario(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, dict[str, str]]:
    """The repositories synced into a store with the tracking page imported and three pull requests stored:
    (root, store, shas). Treat as read-only (`copy_store` for a private one)."""
    root = tmp_path_factory.mktemp("ai")
    s = build(root)
    page = root / "tracking.json"
    page.write_text(json.dumps({"items": tracking_rows(s), "totalCount": 8, "page": 1, "pageSize": 100}))
    engine = LocalEngine(Settings(db=root / "db.sqlite", teams=TEAMS, people=PEOPLE))
    engine.register_repository(root / "app")
    engine.register_repository(root / "lib")
    anyio.run(engine.repos.sync)
    report = anyio.run(engine.ai.import_tracking, page, "ai-commits")
    assert (report.imported, report.unchanged, report.errors) == (8, 0, [])
    app_id = engine.resolve_repo("app").id
    with engine.store.tx() as conn:  # pull requests as the GitHub source stores them
        prs = [(1, at(28, 10, 2), None, at(2, 22)), (2, at(6, 0), at(6, 6), at(6, 18)), (3, at(5, 0), None, at(5, 5))]
        for number, created, ready, merged in prs:
            conn.execute(
                "INSERT INTO pull_requests (repo_id, number, source, title, state, created_at, ready_at, merged_at,"
                " merge_sha) VALUES (?, ?, 'github', ?, 'merged', ?, ?, ?, ?)",
                (app_id, number, f"PR {number}", ts(created), ts(ready) if ready else None, ts(merged),
                 s["c4"] if number == 2 else None))
        for number, sha in ((1, s["c1"]), (1, s["c2"]), (3, s["c3"])):
            conn.execute("INSERT INTO pr_commits (repo_id, number, sha, authored_at, committed_at) VALUES (?, ?, ?, 0, 0)",
                         (app_id, number, sha))
    engine.store.close()
    return root, root / "db.sqlite", s


def engine_over(db: Path, **settings: Any) -> LocalEngine:
    return LocalEngine(Settings(db=db, teams=TEAMS, people=PEOPLE, sync_max_age_seconds=3600, **settings))


@pytest.fixture(scope="module")
def impact(scenario) -> AiImpact:
    _, db, _ = scenario
    engine = engine_over(db)
    got = anyio.run(engine.ai.get_ai_impact, AiImpactQuery(**WINDOW))
    engine.store.close()
    return got


# ---- the shares --------------------------------------------------------------------------------------------------


def test_shares_over_the_window(impact: AiImpact) -> None:
    # Ten commits add 10+20+8+12+5+4+3+6+7+3 = 78 lines; AI lines 5 (c1) + 4 (c2) + 4 (c6: 10 capped to its 4)
    # + 1 (c8) + 7 (l1) = 21; tracking data for c1, c2, c5, c6, c8, l1; AI-assisted: c1, c2, c3, c6, c8, l1.
    assert (impact.commits, impact.lines_added, impact.commits_with_tracking_data) == (10, 78, 6)
    assert (impact.ai_lines_added, impact.ai_share_of_lines_percent) == (21, 26.92)
    assert (impact.ai_assisted_commits, impact.ai_assisted_commits_percent) == (6, 60.0)
    assert impact.tracking_rows_unmatched == 1
    assert any("name no commit in the store" in n for n in impact.notes)


def test_by_source_and_tool(impact: AiImpact) -> None:
    got = {s.source: (s.commits, s.lines_added, s.share_of_lines_percent, s.share_of_commits_percent)
           for s in impact.by_source}
    # TAB: c1 2, c2 4, c8 1 = 7 lines; COMPOSER: c1 3, c6 4 (capped), l1 7 = 14; trailer-only: c3 (8 lines).
    assert got == {"tab": (3, 7, 8.97, 30.0), "composer": (3, 14, 17.95, 30.0), "trailer_only": (1, 8, 10.26, 10.0)}
    assert impact.by_tool == {"claude": 2}


def test_adoption_people_and_teams(impact: AiImpact) -> None:
    assert (impact.adoption.people, impact.adoption.ai_people, impact.adoption.adoption_percent) == (3, 2, 66.67)
    people = {p.person: (p.commits, p.lines_added, p.ai_lines_added, p.ai_share_of_lines_percent,
                         p.ai_assisted_commits_percent) for p in impact.by_person}
    assert people == {"ada@example.com": (5, 47, 21, 44.68, 100.0), "bob": (3, 23, 0, None, 33.33),
                      "cy@example.com": (1, 5, 0, 0.0, 0.0)}  # bob's two addresses are one person; no bot
    assert [p.person for p in impact.by_person] == ["ada@example.com", "bob", "cy@example.com"]
    teams = {t.team: (t.commits, t.lines_added, t.ai_lines_added, t.ai_share_of_lines_percent,
                      t.ai_assisted_commits, t.ai_assisted_commits_percent) for t in impact.by_team}
    assert teams == {"core": (8, 68, 14, 20.59, 5, 62.5), "reviewers": (3, 23, 0, None, 1, 33.33)}


def test_team_and_author_scopes(scenario) -> None:
    _, db, _ = scenario
    engine = engine_over(db)
    core = anyio.run(engine.ai.get_ai_impact, AiImpactQuery(team="core", **WINDOW))
    bob = anyio.run(engine.ai.get_ai_impact, AiImpactQuery(author="bob@home.example", **WINDOW))
    lib = anyio.run(engine.ai.get_ai_impact, AiImpactQuery(repo="lib", **WINDOW))
    engine.store.close()
    assert (core.commits, core.ai_share_of_lines_percent, core.ai_assisted_commits_percent) == (8, 20.59, 62.5)
    assert (bob.commits, bob.ai_assisted_commits, bob.ai_share_of_lines_percent) == (3, 1, None)
    assert (lib.commits, lib.lines_added, lib.ai_lines_added, lib.ai_share_of_lines_percent) == (2, 10, 7, 70.0)
    assert lib.repo == "lib" and bob.author == "bob@home.example"


# ---- stability ----------------------------------------------------------------------------------------------------


def independent_wilson(k: int, n: int) -> list[float]:
    """Wilson's score interval, from its textbook form, in percent (2 decimals)."""
    z = 1.959963984540054
    p = k / n
    low = (2 * n * p + z * z - z * math.sqrt(z * z + 4 * n * p * (1 - p))) / (2 * (n + z * z))
    high = (2 * n * p + z * z + z * math.sqrt(z * z + 4 * n * p * (1 - p))) / (2 * (n + z * z))
    return [round(max(0.0, low) * 100, 2), round(min(1.0, high) * 100, 2)]


def test_stability_groups_with_their_intervals(impact: AiImpact) -> None:
    groups = {g.group: g for g in impact.stability.groups}
    assert {g: groups[g].changes for g in groups} == {"none": 4, "some": 1, "mostly": 5}
    none, some, mostly = groups["none"], groups["some"], groups["mostly"]
    # SZZ: the April fix traces c4 (none); the April revert marks c6 (mostly).
    assert (none.bug_inducing.count, none.bug_inducing.of, none.bug_inducing.percent) == (1, 4, 25.0)
    assert (mostly.bug_inducing.count, mostly.bug_inducing.of, mostly.bug_inducing.percent) == (1, 5, 20.0)
    assert (some.bug_inducing.count, some.bug_inducing.of) == (0, 1)
    assert none.bug_inducing.ci_percent == independent_wilson(1, 4)
    assert mostly.bug_inducing.ci_percent == independent_wilson(1, 5) == [3.62, 62.45]
    assert (mostly.reverted.count, mostly.reverted.of, none.reverted.count) == (1, 5, 0)
    # v1.1.0 failed (it shipped c6, reverted by v1.2.0): c5, c6, c7, c8; lib ships nothing.
    assert (none.failed_deployment.count, none.failed_deployment.of) == (2, 3)
    assert (mostly.failed_deployment.count, mostly.failed_deployment.of) == (2, 4)
    assert (some.failed_deployment.count, some.failed_deployment.of) == (0, 1)
    # Review: PR 1 (c1, c2) Feb 28 10:00 → Mar 2 22:00 (2024 is a leap year) = 84 h; PR 2 (merged as c4) from
    # ready 06:00 to 18:00 = 12 h; PR 3 (c3) 5 h. Mostly: 84 and 5 → median 44.5.
    assert (mostly.review.changes, mostly.review.median_hours) == (2, 44.5)
    assert (some.review.median_hours, none.review.median_hours, none.review.changes) == (84.0, 12.0, 1)
    assert mostly.review.ci_hours is None  # too few for a 95% interval of a median
    vs = mostly.vs_none
    assert vs is not None
    assert (vs.bug_inducing.points, vs.bug_inducing.ci_points, vs.bug_inducing.significant) == (-5.0, None, None)
    assert vs.reverted.points == 20.0 and vs.review.shift_hours == 32.5  # pairs (84−12, 5−12): median 32.5
    summary = " ".join(impact.stability.summary)
    assert "Too few changes to compare how often changes mostly written with AI" in summary
    assert "each group needs at least 10" in summary and "not causes" in summary
    assert "cause" in summary and "caused" not in summary


def test_interval_arithmetic_against_published_values() -> None:
    # Newcombe (1998), Statistics in Medicine 17:873–890, example (a): 56/70 − 48/80, method 10: 0.0524 to 0.3339.
    d, low, high = newcombe(56, 70, 48, 80)
    assert (round(d, 4), round(low, 4), round(high, 4)) == (0.2, 0.0524, 0.3339)
    # Wilson for 81/263: 0.2553 to 0.3662 (Newcombe 1998, single proportion, method 3).
    lo, hi = wilson(81, 263)
    assert (round(lo, 4), round(hi, 4)) == (0.2553, 0.3662)
    assert [round(v * 100, 2) for v in wilson(7, 19)] == independent_wilson(7, 19)
    # The median of 1…10: ranks 2 and 9 (P(Bin(10, ½) ≤ 1) = 11/1024 ≤ 2.5% < P(≤ 2) = 56/1024).
    assert median_interval([float(v) for v in range(10, 0, -1)]) == (2.0, 9.0)
    assert median_interval([1.0, 2.0, 3.0, 4.0, 5.0]) is None
    a, b = [3.0, 5.0, 8.0, 9.0, 12.0, 14.0], [1.0, 2.0, 2.5, 4.0, 6.0, 7.0]
    diffs = sorted(x - y for x in a for y in b)
    c = math.floor(36 / 2 - 1.959963984540054 * math.sqrt(36 * 13 / 12))
    assert hodges_lehmann(a, b) == ((diffs[17] + diffs[18]) / 2, diffs[c - 1], diffs[36 - c])


# ---- idempotent imports, bad rows, late commits ------------------------------------------------------------------


def test_reimport_changes_nothing_and_csv_bad_rows_are_reported_by_line(scenario, tmp_path: Path) -> None:
    root, db, s = scenario
    engine = engine_over(copy_store(db, tmp_path / "db.sqlite"))
    again = anyio.run(engine.ai.import_tracking, root / "tracking.json", "ai-commits")
    assert (again.imported, again.unchanged, again.errors) == (0, 8, [])
    file = tmp_path / "commits.csv"
    with file.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["commit_hash", "repo_name", "user_email", "total_lines_added", "tab_lines_added",
                    "composer_lines_added", "branch_name", "is_primary_branch", "message", "commit_ts", "created_at"])
        w.writerow([s["c1"], "acme/app", "ada@example.com", 6, 2, 3, "main", "true", "feat: c1\nsecond line",
                    at(1, 12), at(1, 12)])  # the same values as the JSON row: unchanged
        w.writerow(["xyz", "acme/app", "ada@example.com", 6, 2, 3, "main", "true", "", "", ""])
        w.writerow([s["c4"], "app", "bob@example.com", 12, -3, 0, "undefined", "", "", "", ""])
        w.writerow([s["c4"], "app", "bob@example.com", 12, 6, 0, "undefined", "", "", "", ""])  # privacy mode
    report = anyio.run(engine.ai.import_tracking, file, "ai-commits")
    # c1's CSV row replaces its JSON row (the message, branch and flags differ); c4 is new (privacy mode).
    assert (report.imported, report.unchanged) == (2, 0)
    assert report.errors == [
        "line 4: commit_hash 'xyz' is not a commit hash (4–40 hex digits)",
        "line 5: tab_lines_added must be a whole number of lines (0 or more), got '-3'",
    ]
    engine.store.close()


def test_tracking_rows_for_commits_synced_later_count_once_they_arrive(tmp_path: Path) -> None:
    repo = GitRepo(tmp_path / "late")
    first = repo.commit({"a.py": lines(4, "a")}, "feat: a", author=ADA, when=at(4))
    engine = LocalEngine(Settings(db=tmp_path / "db.sqlite"))
    engine.register_repository(repo.path)
    anyio.run(engine.repos.sync)
    later = repo.commit({"b.py": lines(6, "b")}, "feat: b", author=ADA, when=at(5))
    page = tmp_path / "t.jsonl"  # JSON lines: one record per line
    page.write_text("\n".join(json.dumps(r) for r in (
        {"commitHash": first[:12], "repoName": "late", "totalLinesAdded": 4, "tabLinesAdded": 4},
        {"commitHash": later, "repoName": "late", "totalLinesAdded": 6, "composerLinesAdded": 3},
    )) + "\n")
    anyio.run(engine.ai.import_tracking, page, "ai-commits")
    before = anyio.run(engine.ai.get_ai_impact, AiImpactQuery(**WINDOW))
    assert (before.commits, before.ai_lines_added, before.tracking_rows_unmatched) == (1, 4, 1)
    anyio.run(engine.repos.sync)  # the sync matches the waiting row
    after = anyio.run(engine.ai.get_ai_impact, AiImpactQuery(**WINDOW))
    assert (after.commits, after.ai_lines_added, after.ai_share_of_lines_percent, after.tracking_rows_unmatched) == (
        2, 7, 70.0, 0)
    engine.store.close()


def test_changes_import_and_accepted_changes(tmp_path: Path, scenario) -> None:
    _, db, _ = scenario
    engine = engine_over(copy_store(db, tmp_path / "db.sqlite"))
    file = tmp_path / "changes.json"
    file.write_text(json.dumps([
        {"changeId": "a1", "userEmail": "ada@example.com", "source": "TAB", "totalLinesAdded": 3, "createdAt": at(3),
         "metadata": [{"fileExtension": "py"}]},
        {"changeId": "a2", "userEmail": "bob@home.example", "source": "COMPOSER", "model": "gpt-5",
         "totalLinesAdded": 20, "createdAt": at(4), "metadata": [{"fileName": "src/x.py", "linesAdded": 20}]},
        {"changeId": "a3", "userEmail": "ada@example.com", "source": "COMPOSER", "model": "claude-4-sonnet",
         "totalLinesAdded": 9, "createdAt": at(10, 10, 5)},  # May: outside the window
        {"changeId": "", "source": "TAB", "totalLinesAdded": 1, "createdAt": at(3)},
    ]))
    report = anyio.run(engine.ai.import_tracking, file, "ai-changes")
    assert (report.imported, report.errors) == (3, ["record 4: change_id (changeId) is required"])
    assert anyio.run(engine.ai.import_tracking, file, "ai-changes").unchanged == 3
    got = anyio.run(engine.ai.get_ai_impact, AiImpactQuery(**WINDOW)).accepted_changes
    assert got is not None and (got.changes, got.lines_added) == (2, 23)
    assert got.lines_added_by_source == {"COMPOSER": 20, "TAB": 3} and got.lines_added_by_model == {"gpt-5": 20, "unknown": 3}
    bob = anyio.run(engine.ai.get_ai_impact, AiImpactQuery(author="bob", **WINDOW)).accepted_changes
    assert bob is not None and bob.lines_added == 20
    engine.store.close()


# ---- the faces ---------------------------------------------------------------------------------------------------


async def test_get_ai_impact_and_ai_series_over_mcp(scenario) -> None:
    _, db, _ = scenario
    async with mcp_session(db, teams=TEAMS, people=PEOPLE) as (client, _):
        got = await call(client, "get_ai_impact", WINDOW)
        series = await call(client, "get_metric_series", {"metric": "ai_assisted_commits", **WINDOW})
        lines_series = await call(client, "get_metric_series", {"metric": "ai_share_of_lines", **WINDOW})
        bad = await client.call_tool("get_ai_impact", {"period": "last_decade"})
        unknown = await client.call_tool("get_ai_impact", {"auther": "x"})
    assert (got["ai_share_of_lines_percent"], got["ai_assisted_commits_percent"]) == (26.92, 60.0)
    assert got["adoption"]["adoption_percent"] == 66.67
    assert [g["changes"] for g in got["stability"]["groups"]] == [4, 1, 5]
    # Weeks: W09 c1 c2 · W10 c3 c4 · W11 c5 c6 c7 · W12 c8 l1 · W13 l2.
    assert [(p["week"], p["value"]) for p in series["series"]] == [
        ("2024-W09", 100.0), ("2024-W10", 50.0), ("2024-W11", 33.33), ("2024-W12", 100.0), ("2024-W13", 0.0)]
    assert series["unit"] == "percent" and series["benchmark_tiers"] is None
    assert all(p["trend"] in (None, "stable") for p in series["series"])  # more AI is neither better nor worse
    # AI lines ÷ lines by week, over the weeks with tracking data: 9/30, none, 4/12, 8/13, none.
    assert [p["value"] for p in lines_series["series"]] == [30.0, None, 33.33, 61.54, None]
    assert bad.is_error and "period" in bad.content[0].text
    assert unknown.is_error and "author" in unknown.content[0].text


def test_cli_ai_json_is_the_tool_model_and_the_table_says_association(scenario, capsys: pytest.CaptureFixture[str]) -> None:
    _, db, _ = scenario
    assert run_app(["ai", "--db", str(db), "--from", WINDOW["from"], "--to", WINDOW["to"], "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert AiImpact.model_validate(data).ai_lines_added == 21
    assert run_app(["ai", "--db", str(db), "--from", WINDOW["from"], "--to", WINDOW["to"], "--repo", "app"]) == 0
    text = capsys.readouterr().out
    assert "AI-assisted code — app" in text and "not causes" in text and "stability by AI share" in text
    assert run_app(["ai", "--db", str(db), "--period", "nonsense"]) == 2


def test_rest_ai_impact(scenario, tmp_path: Path) -> None:
    _, db, _ = scenario
    engine = engine_over(copy_store(db, tmp_path / "db.sqlite"))
    secret = engine.keys.create("t", ["ai:read"], "enterprise", api_version=API_VERSION).secret
    with Served(build_api(engine)) as served, httpx2.Client(base_url=served.url,
                                                            headers={"Authorization": f"Bearer {secret}"}) as c:
        body = c.get("/v1/ai/impact", params={**WINDOW, "repo": "app"}).json()
        denied = c.get("/v1/metrics/dora")
    engine.store.close()
    assert (body["commits"], body["ai_lines_added"], body["lines_added"]) == (8, 14, 68)
    assert denied.status_code == 403


def test_insights_and_reports_mention_ai(tmp_path: Path) -> None:
    now = datetime.now(UTC)
    repo = GitRepo(tmp_path / "recent")
    for i in range(24):  # the last six weeks: every other commit signed by Claude Code
        trailer = "\n\nCo-Authored-By: Claude <noreply@anthropic.com>\n" if i % 2 else ""
        repo.commit({f"src/f{i}.py": lines(3, f"f{i}")}, f"feat: f{i}{trailer}", author=ADA if i % 3 else BOB,
                    when=now.timestamp() - (45 - i * 1.5) * 86400)
    engine = LocalEngine(Settings(db=tmp_path / "db.sqlite"))
    engine.register_repository(repo.path)
    anyio.run(engine.repos.sync)
    insights = anyio.run(engine.reports.get_insights, InsightsQuery(repo="recent", limit=20)).insights
    ai = [i for i in insights if "ai_assisted_commits" in i.metrics_referenced]
    assert len(ai) == 1 and ai[0].severity == "low"
    assert "were AI-assisted" in ai[0].body and "association, not a cause" in ai[0].body
    status = anyio.run(engine.reports.generate_report, ReportRequest(audience="team", period="last_90_days",
                                                                     format="markdown", repo="recent"))
    assert "AI-assisted" in status.report.content
    series = anyio.run(engine.reports.get_metric_series, MetricSeriesQuery(metric="ai_adoption", repo="recent",
                                                                           period="last_30_days"))
    assert [p.value for p in series.series if p.value is not None] and series.unit == "percent"
    engine.store.close()


def test_only_product_changes_count_towards_the_bug_inducing_rate(tmp_path: Path) -> None:
    repo = GitRepo(tmp_path / "docs")
    repo.commit({"README.md": lines(5, "doc")}, "docs: intro\n\nMade-with: Cursor\n", author=ADA, when=at(2))
    repo.commit({"src/a.py": lines(5, "a")}, "feat: a\n\nMade-with: Cursor\n", author=ADA, when=at(3))
    repo.commit({"docs/guide.md": lines(3, "g")}, "docs: guide", author=BOB, when=at(4))
    engine = LocalEngine(Settings(db=tmp_path / "db.sqlite"))
    engine.register_repository(repo.path)
    anyio.run(engine.repos.sync)
    got = anyio.run(engine.ai.get_ai_impact, AiImpactQuery(**WINDOW))
    engine.store.close()
    groups = {g.group: g for g in got.stability.groups}
    # A documentation-only change can never be traced to by SZZ: it is left out of the rate's denominator.
    assert (groups["mostly"].changes, groups["mostly"].bug_inducing.of) == (2, 1)
    assert (groups["none"].changes, groups["none"].bug_inducing.of) == (1, 0)
    assert groups["mostly"].reverted.of == 2
