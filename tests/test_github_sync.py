"""The GitHub source end to end against the stand-in API: sync, metrics over the synced data, re-sync cost,
rate limits and retries, bad tokens, teams with a person in two teams and an author with two identities."""

from __future__ import annotations

import time
from pathlib import Path

import anyio
import pytest
from pydantic import SecretStr

from engmetrics.config import Settings
from engmetrics.areas.flow.models import FlowQuery, PullRequestQuery, StuckQuery
from engmetrics.engine.local import LocalEngine
from engmetrics.areas.activity.models import ActivityQuery, ContributorQuery
from engmetrics.areas.dora.models import DoraQuery
from engmetrics.sources.github.client import GitHubClient
from engmetrics.sources.github.sync import sync_github_repo
from gitrepo import GitRepo
from test_github_standin import StandInGitHub, comment_id, iso, pr_node, review_id

DAY, HOUR = 86400, 3600
NOW = int(time.time()) // HOUR * HOUR
T0 = NOW - 20 * DAY

TEAMS = {"platform": {"people": ["ada"]}, "growth": {"people": ["ada", "grace"]}, "core": {"repos": ["repo"]}}
PEOPLE = {"ada": {"emails": ["ada@example.com", "ada@work.example"], "logins": ["ada", "ada-alt"]},
          "grace": {"logins": ["grace"], "emails": ["grace@example.com"]}}


def build(root: Path) -> tuple[GitRepo, dict[str, str]]:
    repo = GitRepo(root / "repo")
    shas = {"c0": repo.commit({"a": "0"}, "init", when=T0)}
    shas["s1"] = repo.commit({"a": "1"}, "feat: one (#1)", author=("Grace", "grace@example.com"), when=T0 + 2 * DAY)
    shas["s2"] = repo.commit({"a": "2"}, "feat: two (#2)", author=("Ada", "ada@work.example"), when=T0 + 4 * DAY)
    shas["s6"] = repo.commit({"a": "6"}, "chore: six (#6)", author=("Linus", "linus@example.com"), when=T0 + 4 * DAY + HOUR)
    return repo, shas


def fill(gh: StandInGitHub, shas: dict[str, str]) -> None:
    gh.prs = [
        pr_node(1, author="grace", created=T0 + DAY + 2 * HOUR, merged=T0 + 2 * DAY, merge_sha=shas["s1"],
                commits=[("a" * 40, T0 + DAY, T0 + DAY, "grace@example.com")],
                reviews=[("grace", "COMMENTED", T0 + DAY + 3 * HOUR, 1), ("ada", "APPROVED", T0 + DAY + 5 * HOUR, 2)]),
        pr_node(2, author="ada", created=T0 + 3 * DAY, ready=T0 + 3 * DAY + 4 * HOUR, merged=T0 + 4 * DAY,
                merge_sha=shas["s2"], issue_created=T0 + 2 * DAY,
                commits=[("b" * 40, T0 + 3 * DAY - 10 * HOUR, T0 + 3 * DAY - 10 * HOUR, "ada@work.example"),
                         ("c" * 40, T0 + 3 * DAY + 8 * HOUR, T0 + 3 * DAY + 8 * HOUR, "ada@work.example")],
                reviews=[("linus", "CHANGES_REQUESTED", T0 + 3 * DAY + 6 * HOUR, 1),
                         ("linus", "APPROVED", T0 + 3 * DAY + 10 * HOUR, 0)]),
        pr_node(3, author="ada", created=NOW - 3 * DAY, commits=[("d" * 40, NOW - 4 * DAY, NOW - 4 * DAY, "ada@example.com")]),
        pr_node(4, author="grace", created=NOW - 4 * DAY, reviews=[("ada-alt", "APPROVED", NOW - 2 * DAY, 0)],
                commits=[("e" * 40, NOW - 5 * DAY, NOW - 5 * DAY, "grace@example.com")]),
        pr_node(5, author="grace", created=NOW - 5 * DAY, draft=True),
        pr_node(6, author="linus", created=T0 + 4 * DAY, merged=T0 + 4 * DAY + HOUR, merge_sha=shas["s6"],
                commits=[("f" * 40, T0 + 4 * DAY - HOUR, T0 + 4 * DAY - HOUR, "linus@example.com")]),
    ]
    gh.changed()
    gh.deployments = [
        {"id": 10, "sha": shas["c0"], "environment": "production", "created_at": iso(T0 + 12 * HOUR)},
        {"id": 11, "sha": shas["s1"], "environment": "production", "created_at": iso(T0 + 3 * DAY)},
        {"id": 12, "sha": shas["s2"], "environment": "production", "created_at": iso(T0 + 5 * DAY)},
        {"id": 13, "sha": shas["s6"], "environment": "production", "created_at": iso(T0 + 6 * DAY)},
    ]
    gh.statuses = {
        10: [{"state": "success", "created_at": iso(T0 + 12 * HOUR)}],
        11: [{"state": "in_progress", "created_at": iso(T0 + 3 * DAY)}, {"state": "success", "created_at": iso(T0 + 3 * DAY)}],
        12: [{"state": "success", "created_at": iso(T0 + 5 * DAY)}],
        13: [{"state": "pending", "created_at": iso(T0 + 6 * DAY)}],
    }
    gh.releases = [{"id": 1, "tag_name": "v1.0.0", "name": "One", "created_at": iso(T0 + 3 * DAY),
                    "published_at": iso(T0 + 3 * DAY), "prerelease": False, "draft": False}]
    gh.issues = [
        {"number": 40, "title": "Checkout down", "state": "closed", "created_at": iso(T0 + 5 * DAY + 2 * HOUR),
         "closed_at": iso(T0 + 5 * DAY + 5 * HOUR), "updated_at": iso(T0 + 5 * DAY + 5 * HOUR),
         "body": "Outage.\n\nRoot cause: #2", "labels": [{"name": "incident"}, {"name": "sev2"}]},
        {"number": 41, "title": "Feature idea", "state": "open", "created_at": iso(T0), "updated_at": iso(T0),
         "body": "", "labels": [{"name": "idea"}]},
    ]


@pytest.fixture(scope="module")
def synced(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    root = tmp_path_factory.mktemp("gh")
    repo, shas = build(root)
    gh = StandInGitHub()
    fill(gh, shas)
    url = gh.start()
    settings = Settings(db=root / "db.sqlite", github_repos=["acme/sample=repo"], github_token=SecretStr(gh.token),
                        github_api_url=url, teams=TEAMS, people=PEOPLE, sync_max_age_seconds=3600)
    engine = LocalEngine(settings)
    engine.register_repository(repo.path)
    report = anyio.run(engine.repos.sync)
    yield engine, gh, report, shas, settings
    engine.store.close()
    gh.stop()


def run(fn, *args):  # type: ignore[no-untyped-def]
    return anyio.run(fn, *args)


def test_sync_brings_prs_reviews_deployments_releases_incidents(synced) -> None:
    engine, gh, report, shas, _ = synced
    assert not report.errors and report.repos[0].skipped == [
        "GitHub acme/sample: deployments: 1 not final yet (GitHub deployment 13 (pending)); each sync checks them again "
        "and imports them once they succeed or fail."
    ]
    assert report.repos[0].pull_requests == 6
    conn = engine.store.read()
    assert conn.execute("SELECT count(*) FROM pull_requests WHERE source = 'github'").fetchone()[0] == 6
    assert conn.execute("SELECT count(*) FROM pr_reviews").fetchone()[0] == 5
    comments = conn.execute(
        "SELECT number, review_id, author, created_at, path FROM pr_review_comments ORDER BY number, created_at, id"
    ).fetchall()
    assert [tuple(r) for r in comments] == [
        (1, str(review_id(1, 0)), "grace", T0 + DAY + 3 * HOUR - 60, "src/f0.py"),
        (1, str(review_id(1, 1)), "ada", T0 + DAY + 5 * HOUR - 120, "src/f0.py"),
        (1, str(review_id(1, 1)), "ada", T0 + DAY + 5 * HOUR - 60, "src/f1.py"),
        (2, str(review_id(2, 0)), "linus", T0 + 3 * DAY + 6 * HOUR - 60, "src/f0.py"),
    ]
    assert min(int(r[0]) for r in conn.execute("SELECT id FROM pr_review_comments")) > 2**31  # 64-bit ids
    events = conn.execute("SELECT id, status FROM deployment_events WHERE source = 'github' ORDER BY id").fetchall()
    assert [e[0] for e in events] == ["github:acme/sample:10", "github:acme/sample:11", "github:acme/sample:12"]  # 13 pending
    assert conn.execute("SELECT count(*) FROM github_releases").fetchone()[0] == 1
    inc = conn.execute("SELECT id, sha, severity, resolved_at - started_at FROM incidents").fetchall()
    assert [tuple(r) for r in inc] == [("github:acme/sample#40", shas["s2"], "sev2", 3 * HOUR)]
    assert gh.counts["unauthorized"] == 0 and gh.counts["graphql"] == 1


def test_flow_and_review_metrics_from_github(synced) -> None:
    engine, *_ = synced
    flow = run(engine.flow.get_flow_metrics, FlowQuery(period="last_30_days"))
    assert flow.data_source == "github" and flow.throughput == 3
    assert flow.cycle_time_definition == "first_commit_to_deploy"
    assert flow.pickup_time.count == 2 and flow.pickup_time.median_hours == 2.5  # 3 h (#1, self-review ignored), 2 h (#2 from ready)
    assert flow.merged_not_deployed == 1  # #6's deployment is still pending
    assert flow.wip_count == 3  # #3, #4 and the draft #5
    rv = run(engine.flow.get_review_metrics, FlowQuery(period="last_30_days"))
    assert rv.total_reviewed == 3 and rv.reviews == 4  # grace's self-review on #1 is not counted
    assert rv.avg_first_response_time == 17.67  # 3 h (#1), 2 h (#2), 48 h (#4, still open)
    assert rv.unreviewed_merges == 1 and rv.rework_commits_per_pr == 0.5 and rv.rework_percent == 50.0
    assert rv.comments_per_review == 0.75
    load = {x.reviewer: (x.reviews, x.prs_reviewed) for x in rv.reviewer_load}
    assert load == {"ada": (2, 2), "linus": (2, 1)}  # ada-alt is ada: one person
    vs = run(engine.flow.get_value_stream, FlowQuery(period="last_30_days"))
    assert vs.idea_to_commit.count == 1 and vs.merge_to_deploy.count == 2
    assert vs.total_lead_time == pytest.approx(sum(s.median_hours for s in (vs.idea_to_commit, vs.commit_to_merge, vs.merge_to_deploy)), abs=0.02)


def test_teams_filter_people_once_per_team(synced) -> None:
    engine, *_ = synced
    platform = run(engine.flow.get_flow_metrics, FlowQuery(period="last_30_days", team="platform"))
    growth = run(engine.flow.get_flow_metrics, FlowQuery(period="last_30_days", team="growth"))
    core = run(engine.flow.get_flow_metrics, FlowQuery(period="last_30_days", team="core"))
    assert (platform.throughput, growth.throughput, core.throughput) == (1, 2, 3)
    teams = run(engine.flow.list_teams)
    assert [t.name for t in teams.teams] == ["core", "growth", "platform"]
    assert next(t for t in teams.teams if t.name == "growth").member_count == 2
    summary = run(engine.activity.get_contributor_summary, ContributorQuery(contributor="ada@work.example", period="last_30_days"))
    assert (summary.prs_merged, summary.prs_reviewed) == (1, 2)
    from engmetrics.errors import NotFound

    with pytest.raises(NotFound, match="Unknown team 'nope'"):
        run(engine.flow.get_flow_metrics, FlowQuery(team="nope"))


def test_stuck_prs_and_lists(synced) -> None:
    engine, *_ = synced
    stuck = run(engine.flow.list_stuck_pull_requests, StuckQuery())
    assert [(s.number, s.reason) for s in stuck.items] == [(3, "waiting_for_review"), (4, "approved_not_merged")]
    assert stuck.items[0].waiting_hours >= 72
    page = run(engine.flow.list_pull_requests, PullRequestQuery(period="last_30_days", state="merged", limit=2))
    assert page.total == 3 and len(page.items) == 2 and page.cursor
    rest = run(engine.flow.list_pull_requests, PullRequestQuery(period="last_30_days", state="merged", limit=2, cursor=page.cursor))
    assert {p.number for p in page.items + rest.items} == {1, 2, 6}
    mine = run(engine.flow.list_pull_requests, PullRequestQuery(period="last_30_days", author="ada"))
    assert {p.number for p in mine.items} == {2, 3}
    feed = run(engine.activity.get_activity, ActivityQuery(period="last_30_days", type="review"))
    assert len(feed.items) == 5 and feed.items[0].metadata["state"] == "approved"


def test_dora_lead_time_stays_per_commit_and_the_pr_view_is_separate(synced) -> None:
    engine, *_ = synced
    dora = run(engine.dora.get_dora, DoraQuery(period="last_30_days"))
    # Per commit (DORA): s1 authored T0+2d, deployed T0+3d → 24 h; s2 authored T0+4d, deployed T0+5d → 24 h.
    # (s6's deployment is still pending; c0 is the first deployment: no lead time.)
    assert dora.lead_time.definition == "commit_to_deploy"
    assert dora.lead_time.changes == 2 and dora.lead_time.value == 24.0
    # The PR view: #1 first commit T0+1d → deployed T0+3d = 48 h; #2 first commit T0+3d−10h → T0+5d = 58 h.
    by_pr = dora.lead_time.by_pull_request
    assert by_pr is not None and by_pr.definition == "pr_first_commit_to_deploy"
    assert by_pr.pull_requests == 2 and by_pr.value == 53.0
    assert not dora.change_failure_rate.lower_bound  # issue #40 is incident data for this repository


def test_resync_with_nothing_new_is_one_conditional_request_per_endpoint(synced) -> None:
    engine, gh, *_ = synced
    gh.counts.clear()
    report = run(engine.repos.sync)
    assert report.repos[0].pull_requests == 0
    # pulls, deployments, releases, issues, and the statuses of deployment 13 (still pending): all 304
    assert gh.counts["total"] == 5 and gh.counts["conditional"] == 5 and gh.counts["graphql"] == 0
    assert gh.counts["statuses"] == 1


def test_incremental_sync_reads_only_what_changed(synced) -> None:
    engine, gh, _, shas, _ = synced
    gh.prs[2] = pr_node(3, author="ada", created=NOW - 3 * DAY, updated=NOW - HOUR, title="PR 3 renamed",
                        commits=[("d" * 40, NOW - 4 * DAY, NOW - 4 * DAY, "ada@example.com")])
    # #1 again, its approval now with one review comment instead of two: its comments are replaced.
    gh.prs[0] = pr_node(1, author="grace", created=T0 + DAY + 2 * HOUR, merged=T0 + 2 * DAY, merge_sha=shas["s1"],
                        updated=NOW - HOUR, commits=[("a" * 40, T0 + DAY, T0 + DAY, "grace@example.com")],
                        reviews=[("grace", "COMMENTED", T0 + DAY + 3 * HOUR, 1), ("ada", "APPROVED", T0 + DAY + 5 * HOUR, 1)])
    gh.changed()
    gh.counts.clear()
    report = run(engine.repos.sync)
    assert report.repos[0].pull_requests == 2 and gh.counts["graphql"] == 1
    conn = engine.store.read()
    title = conn.execute("SELECT title FROM pull_requests WHERE number = 3").fetchone()[0]
    assert title == "PR 3 renamed"
    comments = conn.execute("SELECT number, id, author FROM pr_review_comments ORDER BY number, id").fetchall()
    assert [tuple(r) for r in comments] == [
        (1, str(comment_id(1, 0, 0)), "grace"), (1, str(comment_id(1, 1, 0)), "ada"), (2, str(comment_id(2, 0, 0)), "linus")
    ]


async def test_rate_limits_secondary_limits_and_5xx_are_waited_out(tmp_path: Path) -> None:
    repo, shas = build(tmp_path)
    gh = StandInGitHub()
    fill(gh, shas)
    gh.faults = ["rate_limit", "secondary", "bad_gateway"]
    url = gh.start()
    engine = LocalEngine(Settings(db=tmp_path / "db.sqlite"))
    row = engine.register_repository(repo.path)
    waits: list[str] = []

    async def on_wait(message: str, left: float) -> None:
        waits.append(message)

    try:
        async with GitHubClient(gh.token, url, on_wait=on_wait, backoff=0.01) as client:
            res = await sync_github_repo(engine.store, client, row.id, row.name, "acme/sample")
            assert res.pull_requests == 6
            assert client.stats.retries == 2 and client.stats.waited_seconds >= 1
        assert waits and "rate limit" in waits[0] and "resets at" in waits[0]
        assert gh.counts["fault:rate_limit"] == gh.counts["fault:secondary"] == gh.counts["fault:bad_gateway"] == 1
    finally:
        gh.stop()
        engine.store.close()


def test_bad_token_is_a_note_that_never_echoes_it(tmp_path: Path) -> None:
    repo, shas = build(tmp_path)
    gh = StandInGitHub()
    fill(gh, shas)
    url = gh.start()
    engine = LocalEngine(Settings(db=tmp_path / "db.sqlite", github_repos=["acme/sample=repo"],
                                  github_token=SecretStr("ghp_wrong_and_secret"), github_api_url=url))
    engine.register_repository(repo.path)
    try:
        report = anyio.run(engine.repos.sync)
        note = " ".join(report.repos[0].skipped)
        assert "401" in note and "GITHUB_TOKEN" in note and "ghp_wrong_and_secret" not in note
        # git still answered: the squash subjects give three git-only PRs
        assert engine.store.read().execute("SELECT count(*) FROM pull_requests WHERE source = 'git'").fetchone()[0] == 3
    finally:
        gh.stop()
        engine.store.close()
