"""A server started for some repositories answers for those only, however many its store holds.

Two (or three) real repositories are synced into one store, as the default store in the user data
directory would hold them; a server is then started with ``--repo`` for one of them (in process through
`make_runtime`, and as a real `engmetrics serve` subprocess over stdio) and asked through a real MCP
client session. Hand-computed: alpha has 3 release tags in March 2024 (v1.0.0 on the 1st, v1.1.0 on the
8th, v1.2.0 on the 15th), beta 2 (v0.1.0 on the 2nd, v0.2.0 on the 9th), gamma 1 (v3.0.0 on the 3rd).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import anyio
import pytest
from mcp import Client
from mcp.client.stdio import StdioServerParameters, stdio_client
from mcp_types import ResourceTemplateReference

from engmetrics.config import Settings
from engmetrics.engine.local import LocalEngine
from engmetrics.server.app import build_server
from engmetrics.server.runtime import make_runtime
from gitrepo import GitRepo

MARCH = {"from": "2024-03-01", "to": "2024-03-31"}
ADA = ("Ada Lovelace", "ada@example.com")
GRACE = ("Grace Hopper", "grace@example.com")
LINUS = ("Linus Example", "linus@example.com")
TEAMS = {"everyone": {"repos": ["alpha", "beta"]}, "beta-team": {"repos": ["beta"]}}


@dataclass
class Store:
    root: Path
    db: Path
    alpha: Path
    beta: Path
    gamma: Path


def _release_repo(path: Path, author: tuple[str, str], releases: list[tuple[str, str]]) -> Path:
    repo = GitRepo(path)
    for i, (tag, day) in enumerate(releases):
        repo.commit({f"src/mod{i}.py": f"x = {i}\n"}, f"Add module {i}", author=author, when=f"{day}T09:00:00Z")
        repo.tag(tag, annotated=True, when=f"{day}T12:00:00Z")
    return path


@pytest.fixture(scope="module")
def shared_store(tmp_path_factory: pytest.TempPathFactory) -> Store:
    """alpha, beta and gamma synced into one store (read-only for the tests)."""
    root = tmp_path_factory.mktemp("shared")
    alpha = _release_repo(root / "alpha", ADA, [("v1.0.0", "2024-03-01"), ("v1.1.0", "2024-03-08"), ("v1.2.0", "2024-03-15")])
    beta = _release_repo(root / "beta", GRACE, [("v0.1.0", "2024-03-02"), ("v0.2.0", "2024-03-09")])
    gamma = _release_repo(root / "gamma", LINUS, [("v3.0.0", "2024-03-03")])
    db = root / "store" / "engmetrics.db"
    engine = LocalEngine(Settings(db=db))
    for path in (alpha, beta, gamma):
        engine.register_repository(path)
    report = anyio.run(engine.repos.sync)
    assert not report.errors
    engine.store.close()
    return Store(root, db, alpha, beta, gamma)


def _server(store: Store, repos: list[Path], **settings: object):  # type: ignore[no-untyped-def]
    runtime = make_runtime(Settings(db=store.db, sync_max_age_seconds=3600, teams=TEAMS, **settings),  # type: ignore[arg-type]
                           repos=[str(p) for p in repos], sync_on_start=False, toolsets="all")
    return build_server(runtime), runtime


def _deployments(result) -> int:  # type: ignore[no-untyped-def]
    assert not result.is_error, result.content
    return result.structured_content["deployment_frequency"]["deployments"]


async def test_one_served_repository_is_the_only_one_listed_and_the_default(shared_store: Store) -> None:
    server, runtime = _server(shared_store, [shared_store.alpha])
    async with Client(server, mode="auto") as client:
        assert "alpha" in (client.instructions or "") and "beta" not in (client.instructions or "")
        listed = await client.call_tool("list_repositories", {})
        assert [r["name"] for r in listed.structured_content["repositories"]] == ["alpha"]

        dora = await client.call_tool("get_dora", MARCH)
        assert _deployments(dora) == 3 and dora.structured_content["repo"] == "alpha"
        assert _deployments(await client.call_tool("get_dora", {**MARCH, "repo": "alpha"})) == 3

        other = await client.call_tool("get_dora", {**MARCH, "repo": "beta"})
        assert other.is_error
        message = other.content[0].text
        assert "'beta' is not served here" in message and "alpha" in message and "Traceback" not in message
        by_path = await client.call_tool("list_deployments", {**MARCH, "repo": str(shared_store.gamma)})
        assert by_path.is_error and "alpha" in by_path.content[0].text

        deployments = await client.call_tool("list_deployments", MARCH)
        assert {d["repo"] for d in deployments.structured_content["items"]} == {"alpha"}
        assert deployments.structured_content["total"] == 3
        activity = await client.call_tool("get_activity", {**MARCH, "limit": 100})
        assert {e["metadata"]["repo"] for e in activity.structured_content["items"]} == {"alpha"}

        changelog = await client.call_tool("get_changelog", {"group_by": "release", "limit": 100})
        assert [e["id"] for e in changelog.structured_content["entries"]] == [
            "release-alpha-v1.2.0", "release-alpha-v1.1.0", "release-alpha-v1.0.0"]
        latest = await client.read_resource("changelog://latest")
        assert "alpha" in latest.contents[0].text and "beta" not in latest.contents[0].text
        card = json.loads((await client.read_resource("scorecard://all/json")).contents[0].text)
        assert card["name"] == "alpha"
        with pytest.raises(Exception, match="not served here"):
            await client.read_resource("scorecard://beta")
        completed = await client.complete(ResourceTemplateReference(uri="scorecard://{name}"), {"name": "name", "value": ""})
        assert completed.completion.values == ["all", "alpha", "everyone"]

        # Teams: only those with a served repository, and narrowed to it.
        teams = await client.call_tool("list_teams", {})
        assert [t["name"] for t in teams.structured_content["teams"]] == ["everyone"]
        assert _deployments(await client.call_tool("get_dora", {**MARCH, "team": "everyone"})) == 3
        beta_team = await client.call_tool("get_dora", {**MARCH, "team": "beta-team"})
        assert beta_team.is_error and "no repository served here" in beta_team.content[0].text

        # A person who only committed elsewhere has no commits here.
        grace = await client.call_tool("get_contributor_summary", {"contributor": "grace@example.com", **MARCH})
        assert grace.is_error and "grace@example.com" in grace.content[0].text
        ada = await client.call_tool("get_contributor_summary", {"contributor": "ada@example.com", **MARCH})
        assert ada.structured_content["repos"] == ["alpha"] and ada.structured_content["commits"] == 3

        synced = await client.call_tool("sync", {})
        assert [r["repo"] for r in synced.structured_content["repos"]] == ["alpha"]
    runtime.engine.store.close()


async def test_several_served_repositories_answer_together_without_the_rest_of_the_store(shared_store: Store) -> None:
    server, runtime = _server(shared_store, [shared_store.alpha, shared_store.beta])
    async with Client(server, mode="legacy") as client:
        listed = await client.call_tool("list_repositories", {})
        assert [r["name"] for r in listed.structured_content["repositories"]] == ["alpha", "beta"]
        both = await client.call_tool("get_dora", MARCH)
        assert _deployments(both) == 3 + 2 and both.structured_content["repo"] is None  # not gamma's 1
        assert _deployments(await client.call_tool("get_dora", {**MARCH, "repo": "beta"})) == 2
        gamma = await client.call_tool("get_dora", {**MARCH, "repo": "gamma"})
        assert gamma.is_error and "alpha, beta" in gamma.content[0].text
        teams = await client.call_tool("list_teams", {})
        assert [t["name"] for t in teams.structured_content["teams"]] == ["beta-team", "everyone"]
    runtime.engine.store.close()


async def test_the_whole_store_without_repo_is_said_in_the_instructions(shared_store: Store, tmp_path: Path,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # not a git work tree
    server, runtime = _server(shared_store, [])
    async with Client(server, mode="auto") as client:
        assert f"every repository in the store at {shared_store.db}: alpha, beta, gamma" in (client.instructions or "")
        listed = await client.call_tool("list_repositories", {})
        assert [r["name"] for r in listed.structured_content["repositories"]] == ["alpha", "beta", "gamma"]
        assert _deployments(await client.call_tool("get_dora", MARCH)) == 3 + 2 + 1
    runtime.engine.store.close()


def test_a_scoped_engine_keeps_the_scope_for_every_operation(shared_store: Store) -> None:
    """The defaulting is applied to every declared operation whose request names a repository, not per tool."""
    engine = LocalEngine(Settings(db=shared_store.db))
    engine.serve_only([engine.register_repository(shared_store.beta)])
    wrapped = [op for op in engine.operations() if op.query_model is not None and "repo" in op.query_model.model_fields]
    assert {"get_dora", "get_changelog", "forecast_delivery", "score_pr_risk", "list_pull_requests"} <= {op.name for op in wrapped}
    for op in wrapped:
        assert getattr(getattr(engine.area(op.area), op.name), "__wrapped__", None) is not None, op.name
    engine.store.close()


# ---- a real `engmetrics serve` over stdio -------------------------------------------------------------


def _env(db: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ENGMETRICS_")}
    return {**env, "ENGMETRICS_DB": str(db), **extra}


async def test_serve_repo_over_stdio_answers_for_that_repository_only(shared_store: Store) -> None:
    params = StdioServerParameters(
        command=sys.executable,
        args=["-m", "engmetrics.cli.main", "serve", "--repo", str(shared_store.alpha), "--no-sync"],
        env=_env(shared_store.db),
    )
    async with Client(params, mode="legacy") as client:
        assert str(shared_store.alpha) in (client.instructions or "")
        listed = await client.call_tool("list_repositories", {})
        assert [r["name"] for r in listed.structured_content["repositories"]] == ["alpha"]
        dora = await client.call_tool("get_dora", MARCH)
        assert _deployments(dora) == 3 and dora.structured_content["repo"] == "alpha"
        other = await client.call_tool("get_dora", {**MARCH, "repo": "beta"})
        assert other.is_error and "alpha" in other.content[0].text and "Traceback" not in other.content[0].text


async def test_serve_outside_a_work_tree_says_it_serves_the_whole_store(shared_store: Store, tmp_path: Path) -> None:
    errlog = tmp_path / "stderr.txt"
    params = StdioServerParameters(command=sys.executable, args=["-m", "engmetrics.cli.main", "serve", "--no-sync"],
                                   env=_env(shared_store.db), cwd=tmp_path)
    expected = f"every repository in the store at {shared_store.db}: alpha, beta, gamma"
    with errlog.open("w") as err:
        async with Client(stdio_client(params, errlog=err), mode="auto") as client:
            assert expected in (client.instructions or "")
            listed = await client.call_tool("list_repositories", {})
            assert len(listed.structured_content["repositories"]) == 3
    assert expected in errlog.read_text()


async def test_engmetrics_repos_scopes_serve_like_repo(shared_store: Store, tmp_path: Path) -> None:
    errlog = tmp_path / "stderr.txt"
    params = StdioServerParameters(
        command=sys.executable, args=["-m", "engmetrics.cli.main", "serve", "--no-sync"], cwd=tmp_path,
        env=_env(shared_store.db, ENGMETRICS_REPOS=json.dumps([str(shared_store.beta)])),
    )
    with errlog.open("w") as err:
        async with Client(stdio_client(params, errlog=err), mode="legacy") as client:
            assert f"listed in ENGMETRICS_REPOS: {shared_store.beta}" in (client.instructions or "")
            listed = await client.call_tool("list_repositories", {})
            assert [r["name"] for r in listed.structured_content["repositories"]] == ["beta"]
            assert _deployments(await client.call_tool("get_dora", MARCH)) == 2
    assert "every repository" not in errlog.read_text()


def test_api_repo_answers_for_that_repository_only(shared_store: Store, tmp_path: Path) -> None:
    """`engmetrics api --repo` shares the scope: the REST face lists and answers for the served repository only."""
    import shutil
    import socket
    import time

    import httpx2

    db = tmp_path / "api.db"
    shutil.copy(shared_store.db, db)
    made = subprocess.run([sys.executable, "-m", "engmetrics.cli.main", "api-key", "create", "--name", "t", "--json",
                           "--db", str(db)], capture_output=True, text=True, timeout=60, env=_env(db))
    assert made.returncode == 0, made.stderr
    key = json.loads(made.stdout)["key"]
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([sys.executable, "-m", "engmetrics.cli.main", "api", "--repo", str(shared_store.alpha),
                             "--port", str(port), "--db", str(db), "--sync-every", "0", "--log-level", "WARNING"],
                            env=_env(db), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        with httpx2.Client(base_url=f"http://127.0.0.1:{port}", headers={"Authorization": f"Bearer {key}"}, timeout=30) as c:
            deadline = time.monotonic() + 60
            while True:
                try:
                    if c.get("/v1/health").status_code == 200:
                        break
                except httpx2.TransportError:
                    pass
                assert proc.poll() is None and time.monotonic() < deadline, "the API did not start"
                time.sleep(0.1)
            listed = c.get("/v1/repositories").json()
            assert [r["name"] for r in listed["repositories"]] == ["alpha"]
            dora = c.get("/v1/metrics/dora", params=MARCH)
            assert dora.status_code == 200 and dora.json()["deployment_frequency"]["deployments"] == 3
            other = c.get("/v1/metrics/dora", params={**MARCH, "repo": "beta"})
            assert other.status_code == 404 and "alpha" in other.text
    finally:
        proc.terminate()
        proc.wait(20)
