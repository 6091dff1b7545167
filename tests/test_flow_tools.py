"""The flow area's MCP tools, one behaviour test each, through a real MCP client session over data synced from
the GitHub stand-in (pull requests with commits, reviews, a draft made ready, a linked issue, deployments).

Every figure is worked out by hand in the comments from the timelines below (README "How metrics are
computed", "Pull requests, reviews and flow"). Times are hours after ``D0`` (the window's start, a UTC
midnight) unless written relative to ``NOW``; the window is the 14 days ``[D0, D0 + 14 d)``, the previous
one ``[D0 − 14 d, D0)``.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp import Client
from pydantic import SecretStr

from engmetrics.config import Settings
from engmetrics.engine.local import LocalEngine
from engmetrics.server.app import build_server
from engmetrics.server.runtime import Runtime
from gitrepo import GitRepo
from test_github_standin import StandInGitHub, iso, pr_node

H, DAY = 3600, 86400
NOW = int(time.time())
D0 = (NOW // DAY - 30) * DAY  # a UTC midnight 30 days ago: the window ends 16 days before NOW
END = D0 + 14 * DAY
WINDOW = {"from": datetime.fromtimestamp(D0, UTC).date().isoformat(),
          "to": datetime.fromtimestamp(END - DAY, UTC).date().isoformat()}  # `to` is inclusive: [D0, D0 + 14 d)


def at(hours: float) -> int:
    return D0 + int(hours * H)


TEAMS = {"platform": {"repos": ["repo"]}, "pair": {"people": ["ada", "bob"]}, "ghost": {"repos": ["elsewhere"]}}
PEOPLE = {"ada": {"logins": ["ada"], "emails": ["ada@example.com"]}, "bob": {"logins": ["bob"], "emails": ["bob@example.com"]}}


def build(root: Path) -> tuple[GitRepo, dict[str, str]]:
    """The repository's main line: the PRs' squash merges (the SHAs GitHub reports as their merge commits)."""
    repo = GitRepo(root / "repo")
    shas = {"c0": repo.commit({"a": "0"}, "init", when=D0 - 20 * DAY)}
    shas["s10"] = repo.commit({"a": "10"}, "feat: ten (#10)", author=("Grace", "grace@example.com"), when=D0 - 4 * DAY)
    shas["s1"] = repo.commit({"a": "1"}, "feat: one (#1)", author=("Ada", "ada@example.com"), when=at(24))
    shas["s2"] = repo.commit({"a": "2"}, "feat: two (#2)", author=("Bob", "bob@example.com"), when=at(48))
    shas["s3"] = repo.commit({"a": "3"}, "fix: three (#3)", author=("Carol", "carol@example.com"), when=at(72))
    return repo, shas


def fill(gh: StandInGitHub, shas: dict[str, str]) -> None:
    def c(oid: str, t: int, email: str) -> tuple[str, int, int, str]:
        return oid * 40, t, t, email

    gh.prs = [
        # previous window: first commit D0−5d, merged D0−4d, deployed D0−3d → cycle 48 h
        pr_node(10, author="grace", created=D0 - 5 * DAY + 2 * H, merged=D0 - 4 * DAY, merge_sha=shas["s10"],
                commits=[c("0", D0 - 5 * DAY, "grace@example.com")]),
        # first commit 10, opened 12, bob comments 15 (1 comment) and approves 20, merged 24, deployed 30; 40+10 lines
        pr_node(1, author="ada", created=at(12), merged=at(24), merge_sha=shas["s1"], additions=40, deletions=10,
                commits=[c("1", at(10), "ada@example.com")],
                reviews=[("bob", "COMMENTED", at(15), 1), ("bob", "APPROVED", at(20), 0)]),
        # first commit 28, opened 32 as a draft, ready 34; ada asks for changes 36 (2 comments), bob's own comment 37
        # (a self-review: never counts), a push at 40, ada approves 44; merged 48, deployed 60; linked issue
        # created 20; 300+50 lines
        pr_node(2, author="bob", created=at(32), ready=at(34), merged=at(48), merge_sha=shas["s2"],
                issue_created=at(20), additions=300, deletions=50,
                commits=[c("2", at(28), "bob@example.com"), c("3", at(40), "bob@example.com")],
                reviews=[("ada", "CHANGES_REQUESTED", at(36), 2), ("bob", "COMMENTED", at(37), 1),
                         ("ada", "APPROVED", at(44), 0)]),
        # first commit 70, opened 71, merged 72 without a review, never deployed; 5+3 lines
        pr_node(3, author="carol", created=at(71), merged=at(72), merge_sha=shas["s3"], additions=5, deletions=3,
                commits=[c("4", at(70), "carol@example.com")]),
        # opened 100 and still open (in the WIP at the window's end); approved by carol NOW−50h
        pr_node(4, author="ada", created=at(100), commits=[c("5", at(99), "ada@example.com")],
                reviews=[("carol", "APPROVED", NOW - 50 * H, 0)]),
        # opened 80, closed unmerged 90
        pr_node(5, author="carol", created=at(80), closed=at(90), commits=[c("6", at(79), "carol@example.com")]),
        # opened after the window, still open: no review (NOW−30h), a draft, changes requested (NOW−40h), too fresh
        pr_node(6, author="bob", created=NOW - 30 * H, commits=[c("7", NOW - 31 * H, "bob@example.com")]),
        pr_node(7, author="ada", created=NOW - 100 * H, draft=True, commits=[c("8", NOW - 101 * H, "ada@example.com")]),
        pr_node(8, author="carol", created=NOW - 60 * H, commits=[c("9", NOW - 61 * H, "carol@example.com")],
                reviews=[("ada", "CHANGES_REQUESTED", NOW - 40 * H, 3)]),
        pr_node(9, author="bob", created=NOW - 10 * H, commits=[c("a", NOW - 11 * H, "bob@example.com")]),
    ]
    gh.changed()
    deployed = {100: ("c0", D0 - 20 * DAY + H), 101: ("s10", D0 - 3 * DAY), 102: ("s1", at(30)), 103: ("s2", at(60))}
    gh.deployments = [{"id": k, "sha": shas[s], "environment": "production", "created_at": iso(t)}
                      for k, (s, t) in deployed.items()]
    gh.statuses = {k: [{"state": "success", "created_at": iso(t)}] for k, (_, t) in deployed.items()}


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalEngine]:
    root = tmp_path_factory.mktemp("flow")
    repo, shas = build(root)
    gh = StandInGitHub()
    fill(gh, shas)
    url = gh.start()
    settings = Settings(db=root / "db.sqlite", github_repos=["acme/sample=repo"], github_token=SecretStr(gh.token),
                        github_api_url=url, teams=TEAMS, people=PEOPLE, sync_max_age_seconds=3600)
    e = LocalEngine(settings)
    e.register_repository(repo.path)
    report = anyio.run(e.repos.sync)
    assert not report.errors and report.repos[0].pull_requests == 10
    yield e
    e.store.close()
    gh.stop()


async def call(engine: LocalEngine, tool: str, args: dict[str, Any]) -> dict[str, Any]:
    """``tool(**args)`` through a real MCP client session; its structured result."""
    async with Client(build_server(Runtime(engine, sync_on_start=False))) as client:
        result = await client.call_tool(tool, args)
        assert not result.is_error, result.content
        assert result.structured_content is not None
        return result.structured_content


async def test_get_flow_metrics(engine: LocalEngine) -> None:
    f = await call(engine, "get_flow_metrics", WINDOW)
    assert f["data_source"] == "github" and f["notes"] == []
    # Merged in the window: #1, #2, #3 (#3 never deployed, so it has no cycle time and counts as merged, not deployed).
    assert (f["throughput"], f["throughput_per_week"], f["merged_not_deployed"]) == (3, 1.5, 1)
    # cycle (first commit → production): #1 10→30 = 20 h, #2 28→60 = 32 h; P85 = 20 + 0.85 × 12
    assert f["cycle_time_definition"] == "first_commit_to_deploy"
    assert f["cycle_time"] == {"median_hours": 26.0, "p85_hours": 30.2, "mean_hours": 26.0, "count": 2}
    # coding (first commit → opened): 2, 4, 1 h; P85 over [1, 2, 4] = 2 + 0.7 × 2; mean 7/3
    assert f["coding_time"] == {"median_hours": 2.0, "p85_hours": 3.4, "mean_hours": 2.33, "count": 3}
    # pickup (opened, or ready for #2, → first review by someone else): #1 12→15 = 3 h, #2 34→36 = 2 h
    assert f["pickup_time"] == {"median_hours": 2.5, "p85_hours": 2.85, "mean_hours": 2.5, "count": 2}
    # review (first review → merge): #1 15→24 = 9 h, #2 36→48 = 12 h
    assert f["review_time"] == {"median_hours": 10.5, "p85_hours": 11.55, "mean_hours": 10.5, "count": 2}
    # deploy (merge → production): #1 24→30 = 6 h, #2 48→60 = 12 h
    assert f["deploy_time"] == {"median_hours": 9.0, "p85_hours": 11.1, "mean_hours": 9.0, "count": 2}
    # WIP at the window's end: #4 only (#5 was closed at 90; #6–#9 were opened after the window)
    assert f["wip_count"] == 1
    # Active time, the hour before each commit and review after the first commit, clipped to first commit → merge:
    # #1 (10→24, 14 h): reviews 15, 20 → 2 h; #2 (28→48, 20 h): 36, 37, 40, 44 → [35, 37] + [39, 40] + [43, 44] = 4 h;
    # #3 (70→72, 2 h): no event after its first commit → 0 h.  6 / 36 = 0.167
    assert f["flow_efficiency"] == 0.167
    # Lines: #1 50 (s), #2 350 (m), #3 8 (xs)
    assert f["size_distribution"] == {"xs": 1, "s": 1, "m": 1, "l": 0, "xl": 0} and f["size_median_lines"] == 50.0
    # Previous window: #10 alone, first commit D0−5d → deployed D0−3d
    assert (f["previous_throughput"], f["previous_cycle_time_hours"]) == (1, 48.0)
    # A team of people: PRs by ada or bob (#1, #2)
    team = await call(engine, "get_flow_metrics", {**WINDOW, "team": "pair"})
    assert (team["throughput"], team["cycle_time"]["median_hours"], team["team"]) == (2, 26.0, "pair")


async def test_get_review_metrics(engine: LocalEngine) -> None:
    r = await call(engine, "get_review_metrics", WINDOW)
    assert r["data_source"] == "github" and r["notes"] == []
    # Reviews by someone else submitted in the window: bob 15 (1 comment) and 20 on #1, ada 36 (2) and 44 on #2;
    # bob's own comment on #2 is a self-review; carol's approval of #4 came after the window.
    assert (r["reviews"], r["total_reviewed"], r["comments_per_review"]) == (4, 2, 0.75)
    assert r["reviewer_load"] == [{"reviewer": "ada", "reviews": 2, "prs_reviewed": 1},
                                  {"reviewer": "bob", "reviews": 2, "prs_reviewed": 1}]
    # Review cycle (opened/ready → merge, reviewed PRs merged in the window): #1 12→24 = 12 h, #2 34→48 = 14 h
    assert (r["avg_review_cycle_time"], r["median_review_cycle_time"]) == (13.0, 13.0)
    # First response (opened/ready → first review by someone else, first reviewed in the window): 3 h, 2 h
    assert (r["avg_first_response_time"], r["median_first_response_time"]) == (2.5, 2.5)
    # Rework: commits pushed after the first review: #1 none, #2 one (40 > 36)
    assert (r["rework_commits_per_pr"], r["rework_percent"]) == (0.5, 50.0)
    # #3 merged unreviewed: 1 of 3
    assert (r["merged"], r["unreviewed_merges"], r["unreviewed_merge_percent"]) == (3, 1, 33.3)


async def test_get_value_stream(engine: LocalEngine) -> None:
    v = await call(engine, "get_value_stream", WINDOW)
    assert v["merged"] == 3 and v["notes"] == []
    # idea → commit: #2's linked issue, created 20, first commit 28 → 8 h (the only PR with a linked issue)
    assert v["idea_to_commit"] == {"median_hours": 8.0, "p85_hours": 8.0, "mean_hours": 8.0, "count": 1}
    # commit → merge: #1 10→24 = 14 h, #2 28→48 = 20 h, #3 70→72 = 2 h; P85 over [2, 14, 20] = 14 + 0.7 × 6
    assert v["commit_to_merge"] == {"median_hours": 14.0, "p85_hours": 18.2, "mean_hours": 12.0, "count": 3}
    # merge → deploy: 6 h and 12 h (#3 not deployed)
    assert v["merge_to_deploy"] == {"median_hours": 9.0, "p85_hours": 11.1, "mean_hours": 9.0, "count": 2}
    assert v["total_lead_time"] == 31.0  # 8 + 14 + 9


async def test_list_pull_requests(engine: LocalEngine) -> None:
    every = await call(engine, "list_pull_requests", WINDOW)
    # Listed: open and opened before the window's end (#4), or last activity in the window, newest first:
    # #4 opened 100, #5 closed 90, #3 merged 72, #2 merged 48, #1 merged 24. (#10 is from the previous window;
    # #6–#9 were opened after this one.)
    assert [p["number"] for p in every["items"]] == [4, 5, 3, 2, 1] and every["total"] == 5
    assert every["cursor"] is None and every["notes"] == []
    two = next(p for p in every["items"] if p["number"] == 2)
    assert {k: two[k] for k in ("state", "author", "source", "reviews", "first_review_at", "additions", "deletions")} == {
        "state": "merged", "author": "bob", "source": "github", "reviews": 2, "first_review_at": iso(at(36)),
        "additions": 300, "deletions": 50,
    }
    # coding 28→32, pickup ready 34→36, review 36→48, deploy 48→60, cycle 28→60
    assert [two[k] for k in ("coding_hours", "pickup_hours", "review_hours", "deploy_hours", "cycle_hours")] == [
        4.0, 2.0, 12.0, 12.0, 32.0]
    three = next(p for p in every["items"] if p["number"] == 3)
    assert (three["reviews"], three["pickup_hours"], three["deploy_hours"], three["cycle_hours"]) == (0, None, None, None)
    # merged only, two a page: #3, #2, then #1
    first = await call(engine, "list_pull_requests", {**WINDOW, "state": "merged", "limit": 2})
    assert [p["number"] for p in first["items"]] == [3, 2] and first["total"] == 3 and first["cursor"]
    rest = await call(engine, "list_pull_requests", {**WINDOW, "state": "merged", "limit": 2, "cursor": first["cursor"]})
    assert [p["number"] for p in rest["items"]] == [1] and rest["cursor"] is None
    mine = await call(engine, "list_pull_requests", {**WINDOW, "author": "ada"})
    assert [p["number"] for p in mine["items"]] == [4, 1]
    closed = await call(engine, "list_pull_requests", {**WINDOW, "state": "closed"})
    assert [(p["number"], p["closed_at"], p["merged_at"]) for p in closed["items"]] == [(5, iso(at(90)), None)]


async def test_list_stuck_pull_requests(engine: LocalEngine) -> None:
    s = await call(engine, "list_stuck_pull_requests", {})
    # Open, not drafts (#7 is one), waiting at least 24 h (#9 waits 10 h), longest first:
    # #4 approved NOW−50h, nothing since; #8 changes requested NOW−40h, no push after; #6 no review, opened NOW−30h.
    got = [(p["number"], p["reason"], p["waiting_since"]) for p in s["items"]]
    assert got == [(4, "approved_not_merged", iso(NOW - 50 * H)), (8, "changes_requested", iso(NOW - 40 * H)),
                   (6, "waiting_for_review", iso(NOW - 30 * H))]
    assert s["total"] == 3 and s["min_hours"] == 24.0 and s["notes"] == []
    late = time.time() - NOW  # seconds since the data was made: the waits have grown by that much
    for item, hours in zip(s["items"], (50, 40, 30), strict=True):
        assert hours <= item["waiting_hours"] <= hours + late / H + 0.01
    assert s["items"][0]["why"] == "Approved but not merged. Waiting 50 h." and s["items"][0]["reviews"] == 1
    assert s["items"][1]["why"] == "Changes were requested and the author has not pushed since. Waiting 40 h."
    longer = await call(engine, "list_stuck_pull_requests", {"min_hours": 35, "limit": 1})
    assert [p["number"] for p in longer["items"]] == [4] and longer["total"] == 2 and longer["cursor"]
    nxt = await call(engine, "list_stuck_pull_requests", {"min_hours": 35, "limit": 1, "cursor": longer["cursor"]})
    assert [p["number"] for p in nxt["items"]] == [8] and nxt["cursor"] is None
    everyone = await call(engine, "list_stuck_pull_requests", {"min_hours": 0})
    assert [p["number"] for p in everyone["items"]] == [4, 8, 6, 9]


async def test_list_teams(engine: LocalEngine) -> None:
    t = await call(engine, "list_teams", {})
    assert t["total"] == 3
    assert t["teams"] == [
        {"name": "ghost", "repos": ["elsewhere"], "people": [], "member_count": 0, "unknown_repos": ["elsewhere"],
         "id": None, "created_at": None},
        {"name": "pair", "repos": [], "people": ["ada", "bob"], "member_count": 2, "unknown_repos": [],
         "id": None, "created_at": None},
        {"name": "platform", "repos": ["repo"], "people": [], "member_count": 0, "unknown_repos": [],
         "id": None, "created_at": None},
    ]
    assert t["notes"] == ["Team ghost: elsewhere not synced."]
