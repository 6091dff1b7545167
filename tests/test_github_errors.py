"""GitHub's GraphQL errors against the stand-in (which answers like GitHub: HTTP 200 with ``errors``): a
timeout or a node limit on a page is asked again with smaller pages; a page with errors inside some PRs
keeps the whole ones and the next sync asks again for the others; a failure that smaller pages cannot
avoid is a note naming GitHub's message, and everything else that synced is still reported."""

from __future__ import annotations

import json
import time
from pathlib import Path

import anyio
import pytest
from pydantic import SecretStr
from test_github_pages import new_store, nodes, reference, rows
from test_github_standin import TIMEOUT, StandInGitHub, iso

from engmetrics.config import Settings
from engmetrics.engine.local import LocalEngine
from engmetrics.sources.github.client import GitHubClient
from engmetrics.sources.github.pr_query import PR_PAGE_FLOOR
from engmetrics.sources.github.result import GitHubSyncResult
from engmetrics.sources.github.sync import sync_github_repo
from engmetrics.store.db import Store
from github_graphql import field_error
from gitrepo import GitRepo

DAY, HOUR = 86400, 3600
SAML = ("Resource protected by organization SAML enforcement. You must grant your Personal Access token access to "
        "this organization.")


def sync(store: Store, gh: StandInGitHub) -> GitHubSyncResult:
    async def go() -> GitHubSyncResult:
        async with GitHubClient(gh.token, gh.url, backoff=0.01) as client:
            return await sync_github_repo(store, client, 1, "sample", "acme/sample")

    return anyio.run(go)


def cursor(store: Store) -> int | None:
    row = store.read().execute("SELECT cursor FROM sync_cursors WHERE source = 'github:pulls'").fetchone()
    return int(row[0]) if row else None


def pulls_etag(store: Store) -> str | None:
    row = store.read().execute("SELECT etag FROM github_etags WHERE endpoint = 'pulls'").fetchone()
    return row[0] if row else None


def updated(node: dict) -> int:
    from datetime import datetime

    return int(datetime.fromisoformat(node["updatedAt"]).timestamp())


@pytest.fixture
def gh():  # type: ignore[no-untyped-def]
    server = StandInGitHub()
    server.start()
    yield server
    server.stop()


def test_timeout_on_the_second_page_is_asked_again_with_smaller_pages(gh: StandInGitHub, tmp_path: Path) -> None:
    gh.prs = nodes(250)
    gh.graphql_fault = lambda v: TIMEOUT if v["cursor"] is not None and v["n"] > 50 else None
    store = new_store(tmp_path / "db.sqlite")
    res = sync(store, gh)
    # page 1: 100 PRs; page 2 times out at 100, then 50 at a time for the rest (the sync keeps the smaller size)
    assert [(v["cursor"], v["n"]) for v in gh.graphql_requests] == [
        (None, 100), ("100", 100), ("100", 50), ("150", 50), ("200", 50)
    ]
    assert res.notes == [] and res.pull_requests == 250
    assert rows(store) == reference(tmp_path / "ref.sqlite", gh.prs)
    assert cursor(store) == max(updated(n) for n in gh.prs) and pulls_etag(store) is not None
    gh.counts.clear()
    again = sync(store, gh)
    assert again.pull_requests == 0 and gh.counts["graphql"] == 0  # the pulls probe answered 304
    store.close()


def test_node_limit_halves_the_page(gh: StandInGitHub, tmp_path: Path) -> None:
    gh.prs = nodes(120)
    gh.node_limit = 50_000  # a page of 100 PRs is 96,700 nodes by GitHub's count, a page of 50 is 48,350
    gh.changed()
    store = new_store(tmp_path / "db.sqlite")
    res = sync(store, gh)
    assert [v["n"] for v in gh.graphql_requests] == [100, 50, 50, 50]
    assert res.notes == [] and res.pull_requests == 120
    assert rows(store) == reference(tmp_path / "ref.sqlite", gh.prs)
    store.close()


def test_502_answers_shrink_the_page_too(gh: StandInGitHub, tmp_path: Path) -> None:
    gh.prs = nodes(60)
    gh.graphql_fault = lambda v: 502 if v["n"] > 25 else None
    store = new_store(tmp_path / "db.sqlite")
    res = sync(store, gh)
    # each size is tried twice (one retry of a 5xx) before halving: 100, 100, 50, 50, then 25 × 3 pages
    assert [v["n"] for v in gh.graphql_requests] == [100, 100, 50, 50, 25, 25, 25]
    assert res.notes == [] and res.pull_requests == 60
    store.close()


def test_partial_data_keeps_the_whole_prs_and_the_next_sync_reads_the_others(gh: StandInGitHub, tmp_path: Path) -> None:
    gh.prs = nodes(250)
    by_number = {n["number"]: n for n in gh.prs}
    # Newest-updated first: page 1 holds #250..#151, page 2 #150..#51. On page 2, #120's reviews cannot be read
    # (FORBIDDEN), and #90 comes back null as a whole (its non-null title failed): GitHub's partial answers.
    by_number[120]["reviews"] = field_error(SAML, "FORBIDDEN")
    by_number[90]["title"] = field_error("Something went wrong reading this pull request.", "INTERNAL")
    gh.changed()
    store = new_store(tmp_path / "db.sqlite")
    res = sync(store, gh)
    stored = {r[0] for r in store.read().execute("SELECT number FROM pull_requests")}
    assert stored == set(range(1, 251)) - {90, 120} and res.pull_requests == 248
    [note] = res.notes
    assert note.startswith("pull requests: 2 came back incomplete from GitHub (#120, 1 sent empty); GitHub said: '")
    assert SAML in note and "'Something went wrong reading this pull request.'" in note
    assert "They were left out, the others were stored, and the next sync asks for them again." in note
    # The cursor stops at #90's time at the latest (known from the PR listed after it, #89), the ETag is not kept.
    assert cursor(store) is not None and cursor(store) <= updated(by_number[89]) and pulls_etag(store) is None

    gh.prs = nodes(250)  # GitHub answers them whole again
    gh.changed()
    gh.graphql_requests.clear()
    res2 = sync(store, gh)
    assert res2.notes == []
    assert rows(store) == reference(tmp_path / "ref.sqlite", gh.prs)
    assert gh.graphql_requests[0]["cursor"] is None  # read from the newest down to the cursor: #120 and #90 again
    assert cursor(store) == max(updated(n) for n in gh.prs) and pulls_etag(store) is not None
    store.close()


def test_errors_outside_any_pr_stop_the_fetch_and_keep_the_cursor(gh: StandInGitHub, tmp_path: Path) -> None:
    gh.prs = nodes(250)
    gh.graphql_fault = lambda v: ({"data": None, "errors": [{"type": "FORBIDDEN", "path": ["repository"],
                                                              "message": "Although you appear to have the correct "
                                                              "authorization credentials, the organization has "
                                                              "enabled OAuth App access restrictions."}]}
                                  if v["cursor"] == "200" else None)
    store = new_store(tmp_path / "db.sqlite")
    res = sync(store, gh)
    assert res.pull_requests == 200  # the two pages before it are stored
    [note] = res.notes
    assert note.startswith("pull requests: GitHub's GraphQL API answered with an error (FORBIDDEN): 'Although you")
    assert "The 200 read before it were stored; the next sync reads the rest again." in note
    assert cursor(store) is None and pulls_etag(store) is None  # the next sync starts over
    assert [v["cursor"] for v in gh.graphql_requests] == [None, "100", "200"]  # not retried smaller: it would not help
    store.close()


# -- through the engine: the sync report --------------------------------------------------------------


def build(root: Path) -> GitRepo:
    repo = GitRepo(root / "repo")
    t0 = int(time.time()) // HOUR * HOUR - 10 * DAY
    for k in range(5):
        repo.commit({"a": str(k)}, f"feat: change {k} (#{k + 1})", when=t0 + k * DAY)
    repo.tag("v1.0.0")
    return repo


def test_a_failing_pr_fetch_is_a_note_and_the_rest_of_the_sync_is_reported(tmp_path: Path) -> None:
    """The issue's case: GitHub answers every PR page with a timeout. The report used to be
    {"repos": [], "errors": ["repo: unhandled errors in a TaskGroup (1 sub-exception)"]}."""
    repo = build(tmp_path)
    gh = StandInGitHub()
    gh.prs = nodes(30)
    gh.graphql_fault = lambda v: TIMEOUT
    head = repo.git("rev-parse", "HEAD")
    at = int(time.time()) - DAY
    gh.deployments = [{"id": 2**31 + 7, "sha": head, "environment": "production", "created_at": iso(at)}]
    gh.statuses = {2**31 + 7: [{"state": "success", "created_at": iso(at + 60)}]}
    gh.releases = [{"id": 2**40, "tag_name": "v1.0.0", "created_at": iso(at), "published_at": iso(at)}]
    url = gh.start()
    engine = LocalEngine(Settings(db=tmp_path / "db.sqlite", github_repos=["acme/sample=repo"],
                                  github_token=SecretStr(gh.token), github_api_url=url))
    engine.register_repository(repo.path)
    try:
        report = anyio.run(engine.repos.sync)
        text = report.model_dump_json()
        assert "TaskGroup" not in text and "ExceptionGroup" not in text and "sub-exception" not in text
        assert report.errors == []
        [synced] = report.repos
        conn = engine.store.read()
        assert synced.new_commits == conn.execute("SELECT count(*) FROM commits").fetchone()[0] == 5
        assert synced.new_tags == conn.execute("SELECT count(*) FROM tags").fetchone()[0] == 1
        # the GitHub deployment and release were still synced
        assert conn.execute("SELECT count(*) FROM deployment_events WHERE source = 'github'").fetchone()[0] == 1
        assert conn.execute("SELECT id FROM github_releases").fetchone()[0] == 2**40
        assert synced.deployments == conn.execute("SELECT count(*) FROM deployments").fetchone()[0] == 1
        # git-only PRs from the squash subjects
        assert synced.pull_requests == conn.execute("SELECT count(*) FROM pull_requests").fetchone()[0] == 5
        [note] = synced.skipped
        assert note.startswith("GitHub acme/sample: pull requests: GitHub's GraphQL API answered with an error: "
                               "'Something went wrong while executing your query. This may be the result of a timeout")
        assert f"It failed even with pages of {PR_PAGE_FLOOR} pull requests" in note and "run the sync again later" in note
        assert [v["n"] for v in gh.graphql_requests] == [100, 50, 25, 12, 6]

        gh.graphql_fault = None  # GitHub is well again: the next sync brings the PRs
        again = anyio.run(engine.repos.sync)
        assert again.repos[0].skipped == [] and again.repos[0].pull_requests == 30
        assert json.loads(again.model_dump_json())["errors"] == []
    finally:
        gh.stop()
        engine.store.close()
