"""PRs rebuilt from git alone (merge commits and squash merges), through the engine and over MCP."""

from __future__ import annotations

from pathlib import Path

import anyio
import pytest
from mcp import Client

from engmetrics.areas.flow.models import FlowQuery, PullRequestQuery
from engmetrics.engine.local import LocalEngine
from engmetrics.server.app import build_server
from engmetrics.server.runtime import Runtime
from gitrepo import GitRepo


@pytest.fixture
def engine(backend, tmp_path: Path):  # type: ignore[no-untyped-def]
    import time

    base = int(time.time()) - 10 * 86400
    r = GitRepo(tmp_path / "repo")
    r.commit({"a": "1"}, "init", when=base)
    r.tag("v1.0.0", when=base + 3600)
    r.checkout("feat", create=True)
    r.commit({"b": "1"}, "feat: b", when=base + 86400, author=("Grace", "grace@example.com"))
    r.checkout("main")
    r.commit({"m": "1"}, "docs: main moves", when=base + 90000)
    r.checkout("feat")
    r.merge("main", message="Merge branch 'main' into feat", when=base + 100000, author=("Grace", "grace@example.com"))
    r.commit({"b": "2"}, "feat: b2", when=base + 110000, author=("Grace", "grace@example.com"))
    r.checkout("main")
    r.merge("feat", message="Merge pull request #7 from org/feat\n\nAdd b", when=base + 2 * 86400)
    r.commit({"c": "1"}, "fix: c (#8)", when=base + 3 * 86400)
    r.tag("v1.1.0", annotated=True, when=base + 4 * 86400)
    e = LocalEngine(backend.settings(tmp_path / "db.sqlite", sync_max_age_seconds=3600))
    e.register_repository(r.path)
    anyio.run(e.repos.sync)
    yield e
    e.store.close()


def test_merge_and_squash_prs_with_their_commits(engine) -> None:  # type: ignore[no-untyped-def]
    conn = engine.store.read()
    rows = {r["number"]: r for r in conn.execute("SELECT * FROM pull_requests")}
    assert set(rows) == {7, 8} and {r["source"] for r in rows.values()} == {"git"}
    assert rows[7]["title"] == "Add b" and rows[7]["author"] == "grace@example.com" and rows[7]["commit_count"] == 2
    assert rows[8]["commit_count"] == 1
    page = anyio.run(engine.flow.list_pull_requests, PullRequestQuery(period="last_30_days"))
    by = {p.number: p for p in page.items}
    assert by[7].cycle_hours == pytest.approx(72.0) and by[7].deploy_hours == pytest.approx(48.0)
    assert by[7].pickup_hours is None  # git knows no reviews
    again = anyio.run(engine.repos.sync)
    assert again.repos[0].pull_requests == 0


async def test_flow_tools_over_mcp_both_modes(engine) -> None:  # type: ignore[no-untyped-def]
    server = build_server(Runtime(engine, sync_on_start=False))
    for mode in ("auto", "legacy"):
        async with Client(server, mode=mode) as client:
            flow = (await client.call_tool("get_flow_metrics", {"period": "last_30_days"})).structured_content
            assert flow["throughput"] == 2 and flow["data_source"] == "git" and flow["notes"]
            prs = await client.call_tool("list_pull_requests", {"state": "merged", "limit": 1})
            assert prs.structured_content["total"] == 2 and prs.structured_content["cursor"]
            stuck = await client.call_tool("list_stuck_pull_requests", {})
            assert stuck.structured_content["items"] == [] and stuck.structured_content["notes"]
            teams = await client.call_tool("list_teams", {})
            assert teams.structured_content["total"] == 0
            for tool, args, needle in (
                ("get_review_metrics", {"team": "ghosts"}, "Unknown team"),
                ("list_pull_requests", {"state": "stale"}, "state"),
                ("list_stuck_pull_requests", {"min_hours": -1}, "min_hours"),
                ("get_value_stream", {"period": "someday"}, "Accepted periods"),
            ):
                bad = await client.call_tool(tool, args)
                assert bad.is_error and needle in bad.content[0].text and "Traceback" not in bad.content[0].text
    _ = FlowQuery
