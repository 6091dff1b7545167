"""The team server: several API workers and several sync workers on one real PostgreSQL store.

- Two API processes (two hosts behind a load balancer, as far as the store can tell) serve one store: the same key's
  rate limit counts the requests of both; an idempotent POST answered by one is replayed by the other with
  ``Idempotent-Replayed: true``, the same key with another body is a 409; a cached answer of one is dropped when
  another process changes the data. ``engmetrics api --workers 2`` serves one port with two processes.
- Two sync workers share 20 repositories' sync jobs: every repository synced exactly once, nothing stored twice;
  a worker killed mid-job has its job finished by the other once its lease runs out.
- Two ``serve --transport http`` processes (stateless) answer MCP requests that carry no session, with the same figures.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import anyio
import httpx2
import psycopg
import pytest
from pydantic import SecretStr

from conftest import Backend
from cryptography.fernet import Fernet
from test_alerts import SECRET, Receiver

from engmetrics.areas.alerts.models import AlertCreate, AlertList, AlertRun
from engmetrics.areas.dora.models import DeploymentList, DeploymentQuery, DoraQuery, DoraReport
from engmetrics.api.app import API_VERSION
from engmetrics.config import Settings
from engmetrics.engine.local import LocalEngine
from engmetrics.engine.sync_jobs import SyncWorker
from gitrepo import run_git, synthetic_repo

pytestmark = pytest.mark.slow

ENGMETRICS = [sys.executable, "-m", "engmetrics.cli.main"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def api_process(url: str, *extra: str, workers: int = 1) -> Iterator[str]:
    """``engmetrics api`` over the PostgreSQL store at ``url`` on a free port; its base URL while it runs."""
    port = free_port()
    proc = subprocess.Popen(
        [*ENGMETRICS, "api", "--port", str(port), "--database-url", url, "--sync-every", "0", "--log-level", "WARNING",
         "--workers", str(workers), *extra],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env={**os.environ, "ENGMETRICS_CONFIG": os.devnull},
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + 60
        while True:
            try:
                if httpx2.get(f"{base}/v1/health", timeout=2).status_code == 200:
                    break
            except httpx2.TransportError:
                pass
            if proc.poll() is not None or time.time() > deadline:
                raise AssertionError(f"engmetrics api did not start: {proc.stderr.read().decode() if proc.stderr else ''}")
            time.sleep(0.1)
        yield base
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def get(base: str, key: str, path: str, **params: str) -> httpx2.Response:
    return httpx2.get(base + path, params=params, headers={"Authorization": f"Bearer {key}"}, timeout=60)


def post(base: str, key: str, path: str, body: dict[str, object], idempotency_key: str) -> httpx2.Response:
    return httpx2.post(base + path, json=body, timeout=120,
                       headers={"Authorization": f"Bearer {key}", "Idempotency-Key": idempotency_key})


@pytest.fixture
def team_store(sample_settings: Settings, backend: Backend, tmp_path: Path) -> Iterator[tuple[str, dict[str, str]]]:
    """A private copy of the PostgreSQL sample store and its keys: (URL, {"small": a key of the free plan, "big": an
    enterprise one})."""
    settings = backend.copy(sample_settings, tmp_path / "unused.db")
    engine = LocalEngine(settings)
    keys = {"small": engine.keys.create("small", ["*"], "free", api_version=API_VERSION).secret,
            "big": engine.keys.create("big", ["*"], "enterprise", api_version=API_VERSION).secret}
    engine.store.close()
    assert settings.database_url is not None
    yield settings.database_url.get_secret_value(), keys


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_two_api_workers_share_rate_limits_idempotency_and_cached_answers(team_store, sample_workspace) -> None:  # type: ignore[no-untyped-def]
    url, keys = team_store
    with api_process(url, "--limits", "free=5/1000", "--cache-seconds", "600") as a, \
            api_process(url, "--limits", "free=5/1000", "--cache-seconds", "600") as b:
        # Rate limit: five requests a minute for the free plan, counted across both workers.
        if time.time() % 60 > 45:  # the six requests below must fall in one minute window
            time.sleep(60 - time.time() % 60 + 0.2)
        answers = [get(base, keys["small"], "/v1/repositories") for base in (a, b, a, b, a, b, a)]
        assert [r.status_code for r in answers] == [200] * 5 + [429, 429]
        assert [int(r.headers["x-ratelimit-remaining"]) for r in answers] == [4, 3, 2, 1, 0, 0, 0]
        assert answers[5].json()["error"]["code"] == "rate_limit_exceeded" and int(answers[5].headers["retry-after"]) >= 1

        # Idempotency: answered by a, replayed by b (the same report, not a second one); another body is a 409.
        body = {"period": "last_30_days", "audience": "team"}
        first = post(a, keys["big"], "/v1/reports/generate", body, "idem-1")
        assert first.status_code == 200, first.text
        assert "idempotent-replayed" not in first.headers
        again = post(b, keys["big"], "/v1/reports/generate", body, "idem-1")
        assert again.status_code == 200 and again.headers["idempotent-replayed"] == "true"
        assert again.content == first.content and again.json()["report_id"] == first.json()["report_id"]
        other = post(b, keys["big"], "/v1/reports/generate", {**body, "audience": "leaders"}, "idem-1")
        assert other.status_code == 409 and other.json()["error"]["code"] == "idempotency_key_reused"
        with psycopg.connect(url) as conn:
            assert conn.execute("SELECT count(*) FROM reports").fetchone() == (1,)

        # Cached answers: b keeps its answer for 600 s, but drops it when another process records a deployment.
        window = {"period": "last_90_days"}
        before = get(b, keys["big"], "/v1/deployments", **window).json()
        assert get(b, keys["big"], "/v1/deployments", **window).json() == before  # from b's cache
        head = run_git(sample_workspace.repo.path, "rev-parse", "HEAD").decode().strip()
        recorded = subprocess.run(
            # a minute ago: a deployment at this very second is outside a window ending now (its end is exclusive)
            [*ENGMETRICS, "deploy", "record", "--repo", "sample", "--sha", head, "--json", "--at",
             time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - 60))],
            capture_output=True, text=True, timeout=120,
            env={**os.environ, "ENGMETRICS_DATABASE_URL": url, "ENGMETRICS_CONFIG": os.devnull},
        )
        assert recorded.returncode == 0, recorded.stderr
        new_id = json.loads(recorded.stdout)["id"]
        deadline = time.time() + 10
        while True:
            after = get(b, keys["big"], "/v1/deployments", **window).json()
            if after != before or time.time() > deadline:
                break
            time.sleep(0.2)
        # explicit events now replace the tags; the first change seen is the whole of it (event and derived
        # deployments commit in one transaction: no reader sees the tags gone and the event not yet derived)
        assert new_id in [d["id"] for d in after["data"]], (before, after)
        assert after != before


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_api_workers_option_serves_one_port_with_several_processes(team_store) -> None:  # type: ignore[no-untyped-def]
    url, keys = team_store
    with api_process(url, "--limits", "free=4/1000", workers=2) as base:
        codes = [get(base, keys["small"], "/v1/repositories").status_code for _ in range(6)]
    assert codes == [200] * 4 + [429, 429] or codes.count(200) == 4  # whichever worker answered, four in all


def test_api_workers_need_a_postgresql_store(tmp_path: Path) -> None:
    done = subprocess.run([*ENGMETRICS, "api", "--db", str(tmp_path / "x.db"), "--workers", "2"],
                          capture_output=True, text=True, timeout=120, env={**os.environ, "ENGMETRICS_CONFIG": os.devnull})
    assert done.returncode != 0 and "--workers needs a PostgreSQL store" in done.stderr and "Traceback" not in done.stderr


# ---- sync jobs -------------------------------------------------------------------------------------------------


def sync_worker(url: str, *extra: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    return subprocess.Popen([*ENGMETRICS, "sync-worker", "--database-url", url, "--log-level", "INFO", *extra],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "ENGMETRICS_CONFIG": os.devnull, **(env or {})})


def stored(url: str, sql: str) -> list[tuple[object, ...]]:
    with psycopg.connect(url) as conn:
        return conn.execute(sql).fetchall()


def git_file_changes(path: Path) -> int:
    """File changes git reports over the whole history (numstat lines), the reference for the store's count."""
    out = run_git(path, "log", "--numstat", "--format=", "HEAD").decode()
    return sum(1 for line in out.splitlines() if line.strip())


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_two_sync_workers_sync_each_of_20_repositories_exactly_once(backend: Backend, tmp_path: Path) -> None:
    repos = [synthetic_repo(tmp_path / f"r{i:02d}", 150 + 10 * i, seed=i) for i in range(20)]
    settings = backend.settings(tmp_path / "unused.db")
    url = settings.database_url.get_secret_value()
    engine = LocalEngine(settings)
    for r in repos:
        engine.register_repository(r.path)
    workers = [sync_worker(url, "--poll", "0.1", "--json") for _ in range(2)]
    try:
        time.sleep(3)  # both up and polling: they share the queue from its first job
        assert SyncWorker(engine).enqueue() == 20
        assert SyncWorker(engine).enqueue() == 0  # each repository has its job queued already
        deadline = time.time() + 240
        while SyncWorker(engine).open_jobs() and time.time() < deadline:
            time.sleep(0.2)
    finally:
        for w in workers:
            w.send_signal(signal.SIGINT)
        outputs = [w.communicate(timeout=60) for w in workers]
    ran = [json.loads(out) for out, _ in outputs]
    assert sorted(o["job"] for r in ran for o in r) == [j.id for j in SyncWorker(engine).jobs()]  # each job run once
    jobs = SyncWorker(engine).jobs()
    assert len(jobs) == 20 and {j.state for j in jobs} == {"done"}, [(j.state, j.error) for j in jobs]
    assert all(j.attempts == 1 for j in jobs)  # none taken twice
    assert sorted(j.repo_id for j in jobs) == sorted(r.id for r in engine.served_repositories())
    assert len({j.worker for j in jobs}) == 2, outputs  # both workers took jobs
    by_repo = dict(stored(url, "SELECT r.path, count(*) FROM commits c JOIN repositories r ON r.id = c.repo_id GROUP BY r.path"))
    files = dict(stored(url, "SELECT r.path, count(*) FROM file_changes f JOIN repositories r ON r.id = f.repo_id GROUP BY r.path"))
    for i, r in enumerate(repos):
        assert by_repo[str(r.path.resolve())] == 150 + 10 * i
        assert files[str(r.path.resolve())] == git_file_changes(r.path)
    assert sum(j.new_commits or 0 for j in jobs) == sum(150 + 10 * i for i in range(20))
    deployments = dict(stored(url, "SELECT r.path, count(*) FROM deployments d JOIN repositories r ON r.id = d.repo_id"
                                   " GROUP BY r.path"))
    assert [deployments[str(r.path.resolve())] for r in repos] == [(150 + 10 * i) // 25 for i in range(20)]
    engine.store.close()


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_a_killed_sync_worker_s_job_is_finished_by_the_other(backend: Backend, tmp_path: Path) -> None:
    big = synthetic_repo(tmp_path / "big", 20_000, seed=3, tag_every=1000, files_per_commit=2)
    settings = backend.settings(tmp_path / "unused.db")
    url = settings.database_url.get_secret_value()
    engine = LocalEngine(settings)
    row = engine.register_repository(big.path)
    assert SyncWorker(engine).enqueue() == 1
    first = sync_worker(url, "--once", "--lease-seconds", "2")
    try:
        deadline = time.time() + 120
        while time.time() < deadline:  # mid-job: taken, some commits written, far from all
            (state,) = stored(url, "SELECT state FROM sync_jobs")[0]
            (n,) = stored(url, "SELECT count(*) FROM commits")[0]
            if state == "running" and 0 < int(n) < 15_000:
                break
            assert first.poll() is None, first.communicate()
            time.sleep(0.05)
        else:
            raise AssertionError("the first worker never got mid-job")
    finally:
        first.kill()
        first.wait()
    (dead_worker, attempts) = stored(url, "SELECT worker, attempts FROM sync_jobs")[0]
    assert attempts == 1
    second = sync_worker(url, "--poll", "0.2", "--lease-seconds", "2", "--json")  # takes it once the lease runs out
    try:
        deadline = time.time() + 240
        while stored(url, "SELECT state FROM sync_jobs")[0][0] != "done" and time.time() < deadline:
            assert second.poll() is None, second.communicate()
            time.sleep(0.2)
    finally:
        second.send_signal(signal.SIGINT)
        out, err = second.communicate(timeout=60)
    assert second.returncode == 0, err
    (outcome,) = json.loads(out)
    assert outcome["repo"] == row.name and outcome["error"] is None and outcome["kept"]
    ((state, worker, attempts),) = stored(url, "SELECT state, worker, attempts FROM sync_jobs")
    assert (state, attempts) == ("done", 2) and worker != dead_worker
    assert stored(url, "SELECT count(*), count(DISTINCT sha) FROM commits") == [(20_000, 20_000)]
    assert stored(url, "SELECT count(*) FROM file_changes")[0][0] == git_file_changes(big.path)
    assert stored(url, "SELECT count(*) FROM tags")[0][0] == 20
    engine.store.close()


def _figures(settings: Settings, window: dict[str, str]) -> tuple[dict[str, object], dict[str, object], list[tuple[str, float | None]]]:
    """get_dora and list_deployments over ``window``, and each alert's (state, last value), of the store of ``settings``."""
    engine = LocalEngine(settings)

    async def read() -> tuple[DoraReport, DeploymentList, AlertList]:
        return (await engine.dora.get_dora(DoraQuery(**window)),
                await engine.dora.list_deployments(DeploymentQuery(**window, limit=100)),
                await engine.alerts.list_alerts())

    try:
        dora, deployments, alerts = anyio.run(read)
    finally:
        engine.store.close()
    return dora.model_dump(), deployments.model_dump(), [(a.state, a.last_value) for a in alerts.alerts]


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_a_sync_worker_leaves_what_a_plain_sync_leaves_and_fires_the_alert_once(backend: Backend, tmp_path: Path) -> None:
    """A job runs the whole sync of `engmetrics sync`: the derived deployments, fix labels and the alerts evaluated
    after it. The same repository synced into two stores — by `engmetrics sync` and by a sync worker — gives the same
    DORA figures and deployments, and the worker's evaluation fires the alert: one signed notification, none more when
    a second job finds it still firing."""
    now = int(time.time())
    repo = synthetic_repo(tmp_path / "app", 200, seed=5, start=now - 210 * 3600, tag_every=25)  # 8 release tags
    key = Fernet.generate_key().decode()
    env = {"ENGMETRICS_ALERTS_KEY": key, "ENGMETRICS_ALERTS_EVERY_SECONDS": "0", "ENGMETRICS_CONFIG": os.devnull}
    window = {"from": "30d", "to": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now + 3600))}
    receivers = {"plain": Receiver(), "worker": Receiver()}
    settings: dict[str, Settings] = {}
    try:
        for how, receiver in receivers.items():
            settings[how] = backend.settings(tmp_path / f"{how}.db", alerts_key=SecretStr(key), alerts_every_seconds=0)
            engine = LocalEngine(settings[how])
            engine.register_repository(repo.path)
            anyio.run(engine.alerts.create_alert, AlertCreate(
                metric="deployment_frequency", condition={"operator": "gt", "threshold": 0}, window="30d", repo="app",
                actions=[{"url": receiver.url, "secret": SECRET}]))
            engine.store.close()
        url = {how: s.database_url.get_secret_value() for how, s in settings.items()}

        plain = subprocess.run([*ENGMETRICS, "sync", "--database-url", url["plain"], "--json"], capture_output=True,
                               text=True, timeout=240, env={**os.environ, **env})
        assert plain.returncode == 0, plain.stderr
        worker = sync_worker(url["worker"], "--enqueue", "--once", "--json", env=env)
        out, err = worker.communicate(timeout=240)
        assert worker.returncode == 0, err
        assert [(o["repo"], o["new_commits"], o["error"]) for o in json.loads(out)] == [("app", 200, None)]

        got = receivers["worker"].got  # the worker waits for its webhooks before it exits (--once)
        assert len(got) == 1 and got[0]["valid"] and got[0]["event"] == "alert.firing", got
        assert got[0]["body"]["alert"]["repo"] == "app" and got[0]["body"]["value"] > 0  # type: ignore[index]
        sent = receivers["plain"].got  # `engmetrics sync` sends it too, before it exits
        assert len(sent) == 1 and sent[0]["valid"] and sent[0]["event"] == "alert.firing", sent

        plain_dora, plain_deployments, plain_alerts = _figures(settings["plain"], window)
        worker_dora, worker_deployments, worker_alerts = _figures(settings["worker"], window)
        assert worker_dora == plain_dora and worker_deployments == plain_deployments
        assert plain_dora["deployment_frequency"]["deployments"] == 8  # type: ignore[index]
        assert worker_alerts == plain_alerts == [("firing", got[0]["body"]["value"])]  # type: ignore[index]
        for table in ("deployments", "deployment_changes", "risk_label_config"):  # the derived steps' rows, alike
            rows = [stored(url[how], f"SELECT * FROM {table} ORDER BY 1, 2") for how in ("plain", "worker")]
            assert rows[0] == rows[1], table
        for how in ("plain", "worker"):
            assert stored(url[how], "SELECT transition, status, attempts FROM alert_deliveries") == [("firing", "delivered", 1)]

        again = sync_worker(url["worker"], "--enqueue", "--once", "--json", env=env)  # still firing: nothing sent
        out, err = again.communicate(timeout=240)
        assert again.returncode == 0 and [o["new_commits"] for o in json.loads(out)] == [0], err
        assert len(receivers["worker"].got) == 1
        assert stored(url["worker"], "SELECT count(*) FROM alert_deliveries") == [(1,)]
    finally:
        for r in receivers.values():
            r.close()


def test_jobs_run_on_sqlite_too(tmp_path: Path) -> None:
    """The same job queue on the embedded store (one process: its write transactions take jobs one at a time)."""
    repos = [synthetic_repo(tmp_path / f"s{i}", 30, seed=i) for i in range(3)]
    engine = LocalEngine(Settings(db=tmp_path / "jobs.db"))
    for r in repos:
        engine.register_repository(r.path)
    worker = SyncWorker(engine)
    assert worker.enqueue() == 3
    outcomes = anyio.run(worker.run_until_empty)
    assert [(o.new_commits, o.error, o.kept) for o in outcomes] == [(30, None, True)] * 3
    assert worker.enqueue() == 3 and [o.new_commits for o in anyio.run(worker.run_until_empty)] == [0, 0, 0]
    assert [j.state for j in worker.jobs()] == ["done"] * 6
    engine.store.close()


def test_database_url_is_never_shown_with_its_password(tmp_path: Path) -> None:
    """An unreachable PostgreSQL store is a clear error naming the URL without its password."""
    settings = Settings(db=tmp_path / "x.db", database_url=SecretStr(f"postgresql://u:s3cret@127.0.0.1:{free_port()}/db"))
    done = subprocess.run([*ENGMETRICS, "repos"], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "ENGMETRICS_DATABASE_URL": settings.database_url.get_secret_value(),
                               "ENGMETRICS_CONFIG": os.devnull})
    assert done.returncode == 2, done.stderr
    assert "cannot be reached" in done.stderr and "s3cret" not in done.stderr and "u:***@" in done.stderr


@contextmanager
def mcp_http_process(url: str, cwd: Path) -> Iterator[str]:
    """``engmetrics serve --transport http`` (stateless) over the PostgreSQL store at ``url``; its /mcp URL."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("ENGMETRICS_")}
    proc = subprocess.Popen(
        [*ENGMETRICS, "serve", "--transport", "http", "--port", str(port), "--no-sync"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=cwd,  # outside a work tree: it serves the whole store
        env={**env, "ENGMETRICS_CONFIG": os.devnull, "ENGMETRICS_DATABASE_URL": url},
    )
    try:
        deadline = time.time() + 60
        while True:
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", port)) == 0:
                    break
            if proc.poll() is not None or time.time() > deadline:
                raise AssertionError(f"engmetrics serve did not start: {proc.stderr.read().decode() if proc.stderr else ''}")
            time.sleep(0.1)
        yield f"http://127.0.0.1:{port}/mcp"
    finally:
        proc.terminate()
        try:
            out, _ = proc.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, _ = proc.communicate()
        assert out == b"", "the HTTP server wrote to stdout"


def _rpc(mcp_url: str, request_id: int, method: str, params: dict[str, object]) -> dict[str, object]:
    """One JSON-RPC request on its own (no session header, no initialize before it); its result."""
    r = httpx2.post(mcp_url, timeout=60, json={"jsonrpc": "2.0", "id": request_id, "method": method, "params": params},
                    headers={"Content-Type": "application/json", "Accept": "application/json, text/event-stream",
                             "MCP-Protocol-Version": "2025-11-25"})
    assert r.status_code == 200, r.text
    assert "mcp-session-id" not in r.headers  # stateless: no session to pin the client to one process
    if r.headers["content-type"].startswith("text/event-stream"):
        data = [line[5:].strip() for line in r.text.splitlines() if line.startswith("data:") and line[5:].strip()]
        message = json.loads(data[-1])
    else:
        message = r.json()
    assert message["id"] == request_id and "error" not in message, message
    result: dict[str, object] = message["result"]
    return result


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_stateless_mcp_over_http_any_process_answers_any_request(team_store, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Two ``serve --transport http`` processes (stateless) over one PostgreSQL store (behind a load balancer, requests alternate):
    each request stands alone, and both answer a tool call with the same figures from the store."""
    url, _ = team_store
    with mcp_http_process(url, tmp_path) as a, mcp_http_process(url, tmp_path) as b:
        tools = [{t["name"] for t in _rpc(m, 1, "tools/list", {})["tools"]} for m in (a, b)]  # type: ignore[index, union-attr]
        assert tools[0] == tools[1] and "get_dora" in tools[0]
        with psycopg.connect(url) as conn:  # every production deployment of the sample, counted apart
            first, last, deployments = conn.execute(
                "SELECT min(deployed_at), max(deployed_at), count(*) FROM deployments"
                " WHERE status = 'success' AND lower(environment) IN ('production', 'prod')").fetchone()
        assert deployments > 0
        day = 86400
        window = {"from": time.strftime("%Y-%m-%d", time.gmtime(first - day)),
                  "to": time.strftime("%Y-%m-%d", time.gmtime(last + 2 * day))}
        args = {"name": "get_dora", "arguments": window}
        answers = [_rpc(m, 2, "tools/call", args) for m in (a, b, a)]
        assert all(not r.get("isError") for r in answers), answers
        figures = [r["structuredContent"] for r in answers]
        assert figures[0] == figures[1] == figures[2]
        assert figures[0]["deployment_frequency"]["deployments"] == deployments  # type: ignore[index]


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_a_recorded_deployment_and_its_derivation_commit_together(team_store, sample_workspace, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Recording a deployment writes the event and rebuilds the derived deployments in one transaction: other
    processes are notified once (one commit), so none can read the tags gone and the event not yet derived."""

    from engmetrics.store.postgres import CHANGES_CHANNEL

    url, _ = team_store
    engine = LocalEngine(Settings(db=tmp_path / "unused.db", database_url=SecretStr(url)))
    head = run_git(sample_workspace.repo.path, "rev-parse", "HEAD").decode().strip()
    with psycopg.connect(url, autocommit=True) as listener:
        listener.execute(f"LISTEN {CHANGES_CHANNEL}")
        anyio.run(lambda: engine.dora.record_deployment("sample", head, at="2024-01-01T00:00:00Z"))
        commits = list(listener.notifies(timeout=2.0))
    engine.store.close()
    assert len(commits) == 1
    with psycopg.connect(url) as conn:
        assert conn.execute("SELECT count(*) FROM deployments WHERE source = 'event'").fetchone()[0] == 1


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
@pytest.mark.parametrize("kind", ["deployments", "incidents"])
def test_an_import_and_its_derivation_commit_together(team_store, sample_workspace, tmp_path: Path, kind: str) -> None:  # type: ignore[no-untyped-def]
    """Importing a deployments (or incidents) file writes the events and rebuilds the derived deployments in one
    transaction, as recording one does: other processes are notified once (one commit; two before, the events and
    then their derivation), so none can read the tags' deployments gone and the events' not yet derived."""
    from engmetrics.store.postgres import CHANGES_CHANNEL

    url, _ = team_store
    engine = LocalEngine(Settings(db=tmp_path / "unused.db", database_url=SecretStr(url)))
    shas = run_git(sample_workspace.repo.path, "rev-list", "--max-count=2", "HEAD").decode().split()
    if kind == "deployments":
        rows = [{"repo": "sample", "sha": sha, "deployed_at": f"2024-01-0{i + 1}T00:00:00Z"} for i, sha in enumerate(shas)]
    else:
        rows = [{"id": "INC-IMPORT-1", "title": "outage", "repo": "sample", "started_at": "2024-01-01T00:00:00Z",
                 "resolved_at": "2024-01-01T02:00:00Z"}]
    path = tmp_path / f"{kind}.json"
    path.write_text(json.dumps(rows))
    before = stored(url, "SELECT count(*) FROM deployments")[0][0]
    with psycopg.connect(url, autocommit=True) as listener:
        listener.execute(f"LISTEN {CHANGES_CHANNEL}")
        report = anyio.run(engine.dora.import_events, path, kind)
        commits = list(listener.notifies(timeout=2.0))
    engine.store.close()
    assert (report.imported, report.errors) == (len(rows), [])
    assert len(commits) == 1
    if kind == "deployments":  # the events replace the tags as the repository's deployments
        assert stored(url, "SELECT count(*), count(*) FILTER (WHERE source = 'event') FROM deployments") == [(2, 2)]
    else:
        assert stored(url, "SELECT count(*) FROM incidents WHERE id = 'INC-IMPORT-1'") == [(1,)]
        assert stored(url, "SELECT count(*) FROM deployments")[0][0] == before > 0


def _two_engines_with_an_alert(backend: Backend, tmp_path: Path, hook: str) -> tuple[str, list[LocalEngine]]:
    """Two engines (two processes' worth) over one store holding a synced repository (6 release tags in the last 70
    hours) and an alert on its deployment frequency (> 0 over 30 days: breached) notifying ``hook``."""
    now = int(time.time())
    repo = synthetic_repo(tmp_path / "app", 60, seed=2, start=now - 70 * 3600, tag_every=10)
    settings = backend.settings(tmp_path / "unused.db", alerts_key=SecretStr(Fernet.generate_key().decode()),
                                alerts_every_seconds=0)
    engines = [LocalEngine(settings), LocalEngine(settings)]
    engines[0].register_repository(repo.path)
    anyio.run(engines[0].repos.sync)
    anyio.run(engines[0].alerts.create_alert, AlertCreate(
        metric="deployment_frequency", condition={"operator": "gt", "threshold": 0}, window="30d",
        actions=[{"url": hook, "secret": SECRET}]))
    return settings.database_url.get_secret_value(), engines


async def _race_on_locked_rows(url: str, lock: str, engines: list[LocalEngine],
                               act: Callable[[LocalEngine], Awaitable[None]]) -> None:
    """Run ``act`` for every engine at once while ``lock`` (a SELECT … FOR UPDATE) holds the rows they need, and let
    go only when every engine waits on them: each acts from the same read, one write after the other."""

    def waiting_on_locks() -> None:
        with psycopg.connect(url, autocommit=True) as watch:
            deadline = time.time() + 60
            while watch.execute("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
                                " AND datname = current_database()").fetchone()[0] < len(engines):  # type: ignore[index]
                assert time.time() < deadline, f"the engines never reached the rows of {lock!r}"
                time.sleep(0.05)

    with psycopg.connect(url) as locker:
        locker.execute(lock)
        async with anyio.create_task_group() as tg:
            for engine in engines:
                tg.start_soon(act, engine)
            await anyio.to_thread.run_sync(waiting_on_locks)
            locker.commit()


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_an_alert_two_processes_evaluate_at_once_transitions_once(backend: Backend, tmp_path: Path) -> None:
    """Two processes sharing the store (sync workers syncing two repositories, an org-wide alert) evaluate one alert at
    the same moment: both read it 'ok' and both see it breached, but only the first to write moves it to 'firing' and
    queues its notification; the other finds it moved and leaves it. The test holds the alert's row locked until both
    evaluations wait on it, so they write one after the other from the same stale read."""
    # never sent: no background task group here
    url, engines = _two_engines_with_an_alert(backend, tmp_path, "http://127.0.0.1:9/hook")
    runs: list[AlertRun] = []

    async def evaluate(engine: LocalEngine) -> None:
        runs.append(await engine.alerts.evaluate_alerts())

    anyio.run(_race_on_locked_rows, url, "SELECT id FROM alerts FOR UPDATE", engines, evaluate)
    for engine in engines:
        engine.store.close()
    assert sorted(len(r.transitions) for r in runs) == [0, 1]
    assert [(t.from_state, t.to_state) for r in runs for t in r.transitions] == [("ok", "firing")]
    assert stored(url, "SELECT state FROM alerts") == [("firing",)]
    assert stored(url, "SELECT transition, status FROM alert_deliveries") == [("firing", "pending")]


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_a_notification_two_processes_deliver_at_once_is_sent_once(backend: Backend, tmp_path: Path) -> None:
    """Two processes sharing the store (API workers, sync workers, `serve`, each delivering in the background) read
    the same queued notification due at the same moment: only the first to claim it sends it; the other finds it
    claimed and leaves it. The test holds the delivery's row locked until both processes wait on it, so both act from
    the same read: the receiver gets the notification once and one attempt is logged."""
    receiver = Receiver()
    url, engines = _two_engines_with_an_alert(backend, tmp_path, receiver.url)
    assert [t.to_state for t in anyio.run(engines[0].alerts.evaluate_alerts).transitions] == ["firing"]  # queued, unsent
    runs: list[AlertRun] = []

    async def deliver(engine: LocalEngine) -> None:
        runs.append(await engine.alerts.deliver_pending(wait=False))

    try:
        anyio.run(_race_on_locked_rows, url, "SELECT id FROM alert_deliveries FOR UPDATE", engines, deliver)
        assert len(receiver.got) == 1 and receiver.got[0]["valid"] and receiver.got[0]["event"] == "alert.firing"
        assert sorted(r.delivered for r in runs) == [0, 1]
        assert stored(url, "SELECT transition, status, attempts, claimed_by, claim_until FROM alert_deliveries") \
            == [("firing", "delivered", 1, None, None)]
        assert stored(url, "SELECT attempt, status_code FROM alert_delivery_attempts") == [(1, 200)]
    finally:
        receiver.close()
        for engine in engines:
            engine.store.close()
