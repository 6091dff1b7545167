"""The DORA, activity and repositories tools through a real MCP client session, on the two repositories of
`test_dora_shapes` (hand-computed there from DESIGN.md; here: what an agent sees over the protocol).

get_dora, list_deployments, list_incidents, get_activity, get_contributor_summary, list_repositories, sync.
"""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

import anyio
import pytest

from engmetrics.config import Settings
from engmetrics.engine.local import LocalEngine
from gitrepo import GitRepo
from helpers import call, mcp_session
from test_dora_shapes import build_shop, build_tools, day, stamp

WINDOW = {"from": stamp(day(0)), "to": stamp(day(30))}


@pytest.fixture(scope="module")
def shapes(backend, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Settings, dict[str, str]]:  # type: ignore[no-untyped-def]
    """The two repositories synced into a store (of each kind: SQLite, PostgreSQL) with INC-7 imported: (root,
    the store's settings, shas of shop)."""
    root = tmp_path_factory.mktemp("tools")
    shas = build_shop(root)
    build_tools(root)
    incidents = root / "incidents.json"
    incidents.write_text(json.dumps([{"id": "INC-7", "title": "Checkout slow", "started_at": stamp(day(15, 6)),
                                      "resolved_at": stamp(day(20)), "repo": "shop"}]))
    settings = backend.settings(root / "db.sqlite", sync_max_age_seconds=3600)
    engine = LocalEngine(settings)
    engine.register_repository(root / "shop")
    engine.register_repository(root / "tools")

    async def go() -> None:
        await engine.repos.sync()
        await engine.dora.import_events(incidents, "incidents")

    anyio.run(go)
    engine.store.close()
    return root, settings, shas


async def test_get_dora_over_the_protocol(shapes) -> None:  # type: ignore[no-untyped-def]
    _, db, shas = shapes
    async with mcp_session(db) as (client, _):
        shop = await call(client, "get_dora", {**WINDOW, "repo": "shop"})
        tools = await call(client, "get_dora", {**WINDOW, "repo": "tools"})
    assert shop["deployment_frequency"]["deployments"] == 9
    assert shop["lead_time"]["value"] == 24.0 and shop["lead_time"]["changes"] == 14
    assert shop["lead_time"]["by_pull_request"]["value"] == 63.0
    cfr = shop["change_failure_rate"]
    assert (cfr["value"], cfr["failed_deployments"], cfr["lower_bound"]) == (33.33, 3, False)
    assert [f["signal"] for f in cfr["failures"]] == ["incident", "hotfix", "revert"]
    assert cfr["failures"][2]["evidence"] == shas["r1"]
    assert shop["mttr"]["value"] == 36.0 and shop["rework_rate"]["value"] == 33.33
    assert tools["lead_time"]["value"] == 36.0 and tools["change_failure_rate"]["lower_bound"] is True
    assert any("lower bound" in note for note in tools["notes"])


async def test_list_deployments_pages_newest_first_with_rework(shapes) -> None:  # type: ignore[no-untyped-def]
    _, db, _ = shapes
    async with mcp_session(db) as (client, _):
        first = await call(client, "list_deployments", {**WINDOW, "repo": "shop", "limit": 4})
        rest = await call(client, "list_deployments", {**WINDOW, "repo": "shop", "limit": 10, "cursor": first["cursor"]})
    assert first["total"] == 9 and len(first["items"]) == 4 and rest["cursor"] is None
    tags = [d["tag"] for d in first["items"] + rest["items"]]
    assert tags == ["v1.4.1", "v1.4.0", "v1.2.2", "v1.3.1", "v1.3.0", "v1.2.1", "v1.2.0", "v1.1.0", "v1.0.0"]
    by_tag = {d["tag"]: d for d in first["items"] + rest["items"]}
    assert by_tag["v1.1.0"]["change_count"] == 7 and by_tag["v1.1.0"]["lead_time_hours_median"] == 66.0
    assert (by_tag["v1.2.0"]["failed"], by_tag["v1.2.0"]["failure_signal"]) == (True, "revert")
    assert {t: d["rework_signal"] for t, d in by_tag.items() if d["unplanned"]} == {
        "v1.2.1": "revert", "v1.3.1": "hotfix", "v1.4.1": "incident"}


async def test_list_incidents_by_status_with_its_deployment(shapes) -> None:  # type: ignore[no-untyped-def]
    _, db, _ = shapes
    async with mcp_session(db) as (client, _):
        resolved = await call(client, "list_incidents", {**WINDOW, "status": "resolved"})
        still_open = await call(client, "list_incidents", {**WINDOW, "status": "open"})
        later = await call(client, "list_incidents", {"from": stamp(day(21)), "to": stamp(day(30))})
    assert still_open["total"] == 0 and later["total"] == 0  # resolved on day 20: not open after it
    (inc,) = resolved["items"]
    assert (inc["id"], inc["repo"], inc["duration_hours"]) == ("INC-7", "shop", 114.0)
    assert inc["deployment_id"].endswith(":v1.4.0")  # the last deployment before it started


async def test_activity_and_contributor_summary(shapes) -> None:  # type: ignore[no-untyped-def]
    _, db, _ = shapes
    async with mcp_session(db) as (client, _):
        bob = await call(client, "get_activity", {**WINDOW, "type": "commit", "author": "bob@", "limit": 10})
        deploys = await call(client, "get_activity", {**WINDOW, "type": "deployment", "repo": "tools"})
        summary = await call(client, "get_contributor_summary", {"contributor": "bob@example.com", **WINDOW})
    assert [i["title"] for i in bob["items"]] == ['Revert "wip"', "wip", "Start search"]  # newest first
    assert [i["title"] for i in deploys["items"]] == ["Deployed v0.2.0 to production", "Deployed v0.1.0 to production"]
    assert (summary["commits"], summary["repos"], summary["names"]) == (3, ["shop"], ["Bob"])
    assert summary["deploy_contributions"] == 1  # all three shipped in v1.1.0


async def test_list_repositories_and_sync(shapes, backend, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    root, _, _ = shapes
    work = tmp_path / "work"
    shutil.copytree(root / "tools", work / "tools")  # a repository of its own to add history to, in a new store
    settings = backend.settings(work / "db.sqlite", sync_max_age_seconds=3600)
    engine = LocalEngine(settings)
    engine.register_repository(work / "tools")
    await engine.repos.sync()
    engine.store.close()
    tools = GitRepo(work / "tools", init=False)
    tools.commit({"cli.py": "3\n"}, "Add verbose flag", when=day(40))
    tools.tag("v0.3.0", annotated=True, when=day(41))
    async with mcp_session(settings) as (client, served):
        served.last_sync_at = time.time()  # fresh: no background refresh may take the new commit first
        listed = {r["name"]: r for r in (await call(client, "list_repositories", {}))["repositories"]}
        synced = await call(client, "sync", {"repo": "tools"})
        after = {r["name"]: r for r in (await call(client, "list_repositories", {}))["repositories"]}
    assert listed["tools"]["commits"] == 3 and listed["tools"]["tags"] == 2 and listed["tools"]["deployments"] == 2
    assert listed["tools"]["deployment_source"] == "tags"
    (report,) = synced["repos"]
    assert (report["repo"], report["new_commits"], report["new_tags"], report["deployments"]) == ("tools", 1, 1, 3)
    assert after["tools"]["commits"] == 4 and after["tools"]["deployments"] == 3
