"""A new store opened by several processes at once: the migrations run once, nobody crashes. And the
connection pool: worker threads come and go without leaving connections (file handles) behind."""

from __future__ import annotations

import json
import os
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx2
import pytest

from engmetrics.errors import DataError, StoreBusy
from engmetrics.store.db import SqliteStore
from engmetrics.store.open import open_store
from engmetrics.store.migrations import CORE as MIGRATIONS
from engmetrics.store.migrations import FEATURES
from gitrepo import GitRepo

# Each process waits for the same instant before touching the store, so they really start together.
AT_ONCE = """
import sys, time
start_at = float(sys.argv[1])
time.sleep(max(0.0, start_at - time.time()))
from engmetrics.cli.main import main
sys.exit(main(sys.argv[2:]))
"""


def _env(db: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ENGMETRICS_")}
    env["ENGMETRICS_DB"] = str(db)
    return env


def _together(commands: list[list[str]], db: Path, lead: float = 4.0) -> list[subprocess.Popen[str]]:
    start_at = time.time() + lead
    return [subprocess.Popen([sys.executable, "-c", AT_ONCE, str(start_at), *args], env=_env(db), text=True,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE) for args in commands]


def _small_repo(root: Path) -> GitRepo:
    repo = GitRepo(root / "r")
    for i in range(5):
        repo.commit({f"src/f{i}.py": f"x = {i}\n"}, f"feat: change {i}")
    repo.tag("v1.0.0")
    repo.commit({"src/g.py": "y = 1\n"}, "fix: a fix")
    repo.tag("v1.0.1")
    return repo


def _check_schema(db: Path) -> None:
    conn = sqlite3.connect(db)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
    done = dict(conn.execute("SELECT feature, version FROM feature_schema").fetchall())
    assert done == {feature: len(steps) for feature, steps in FEATURES.items()}
    conn.close()


def test_ten_concurrent_first_syncs_on_a_new_store_all_succeed(tmp_path: Path) -> None:
    repo = _small_repo(tmp_path)
    db = tmp_path / "new" / "engmetrics.db"
    procs = _together([["sync", "--repo", str(repo.path), "--json"] for _ in range(10)], db)
    results = [(p.wait(timeout=240), *p.communicate()) for p in procs]
    for code, out, err in results:
        assert code == 0, err
        assert "Traceback" not in err and "OperationalError" not in err
        assert json.loads(out)["errors"] == []
    _check_schema(db)
    conn = sqlite3.connect(db)
    assert conn.execute("SELECT count(*) FROM commits").fetchone()[0] == 6  # each commit stored once
    assert conn.execute("SELECT count(*) FROM repositories").fetchone()[0] == 1
    conn.close()


def test_many_processes_migrating_a_new_store_at_the_same_instant(tmp_path: Path) -> None:
    code = ("import sys, time; t = float(sys.argv[1]); time.sleep(max(0.0, t - time.time()));"
            "from engmetrics.store.open import open_store; open_store(sys.argv[2]).close()")
    for round_ in range(3):
        db = tmp_path / f"round{round_}" / "engmetrics.db"
        start_at = time.time() + 3
        procs = [subprocess.Popen([sys.executable, "-c", code, str(start_at), str(db)], stderr=subprocess.PIPE, text=True)
                 for _ in range(8)]
        for p in procs:
            _, err = p.communicate(timeout=120)
            assert p.returncode == 0, err
        _check_schema(db)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_http(url: str, proc: subprocess.Popen[str], seconds: float = 60) -> int:
    deadline = time.time() + seconds
    while time.time() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"exited {proc.returncode}: {proc.stderr.read()}")  # type: ignore[union-attr]
        try:
            with httpx2.stream("GET", url, timeout=2) as answer:  # the status only: a stateless MCP GET is a stream
                return answer.status_code
        except httpx2.TransportError:
            time.sleep(0.1)
    raise AssertionError(f"{url} did not answer")


def test_serve_api_sync_and_a_key_starting_together_on_a_new_store(tmp_path: Path) -> None:
    repo = _small_repo(tmp_path)
    db = tmp_path / "new" / "engmetrics.db"
    api_port, mcp_port = _free_port(), _free_port()
    api, serve, sync, key = _together([
        ["api", "--port", str(api_port), "--sync-every", "0", "--repo", str(repo.path), "--log-level", "WARNING"],
        ["serve", "--transport", "http", "--port", str(mcp_port), "--repo", str(repo.path)],
        ["sync", "--repo", str(repo.path), "--json"],
        ["api-key", "create", "--name", "together", "--json"],
    ], db)
    try:
        assert sync.wait(timeout=120) == 0, sync.stderr.read()  # type: ignore[union-attr]
        assert key.wait(timeout=120) == 0, key.stderr.read()  # type: ignore[union-attr]
        secret = json.loads(key.stdout.read())["key"]  # type: ignore[union-attr]
        assert _wait_http(f"http://127.0.0.1:{api_port}/v1/health", api) == 200
        answered = httpx2.get(f"http://127.0.0.1:{api_port}/v1/repositories", timeout=30,
                              headers={"Authorization": f"Bearer {secret}"})
        assert answered.status_code == 200, answered.text
        assert answered.json()["repositories"][0]["name"] == "r"
        # The MCP endpoint answers (405 to a plain GET without a session is an answer, not a crash).
        assert _wait_http(f"http://127.0.0.1:{mcp_port}/mcp", serve) in (200, 400, 405, 406)
    finally:
        for p in (api, serve):
            p.terminate()
        errs = [p.communicate(timeout=20)[1] for p in (api, serve)] + [sync.stderr.read(), key.stderr.read()]  # type: ignore[union-attr]
    for err in errs:
        assert "Traceback" not in err and "OperationalError" not in err, err
    _check_schema(db)


def test_worker_threads_that_end_give_their_connection_back(tmp_path: Path) -> None:
    store = open_store(tmp_path / "s.db")
    base = store.open_connections

    def work() -> None:
        store.read().execute("SELECT count(*) FROM repositories").fetchone()

    for _ in range(30):  # thirty short-lived threads, four at a time
        batch = [threading.Thread(target=work) for _ in range(4)]
        for t in batch:
            t.start()
        for t in batch:
            t.join()
    time.sleep(0.1)
    # Live threads keep theirs; ended ones went back to a pool of at most max_idle.
    assert store.open_connections <= base + store.max_idle
    assert store.opened <= base + 4 + 1  # reused, not opened anew per thread
    store.close()
    assert store.open_connections == 0


def test_a_store_used_from_many_threads_answers_the_same(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "s.db")
    store.migrate()
    with store.tx() as conn:
        conn.execute("INSERT INTO repositories(name, path, added_at) VALUES ('a', '/a', 0)")
    seen: list[int] = []

    def work() -> None:
        seen.append(store.read().execute("SELECT count(*) FROM repositories").fetchone()[0])

    threads = [threading.Thread(target=work) for _ in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert seen == [1] * 16
    store.close()


def test_a_store_locked_past_its_busy_timeout_answers_a_user_error(tmp_path: Path) -> None:
    """Another process holding the write lock for longer than a writer waits: `StoreBusy` (a user error saying
    to try again, which every face shows as such), not SQLite's "database is locked"; once the lock is gone,
    writes go through."""
    db = tmp_path / "busy.db"
    open_store(db).close()
    holder = sqlite3.connect(db, isolation_level=None)  # another process's writer, mid-transaction
    holder.execute("BEGIN IMMEDIATE")
    store = SqliteStore(db, busy_timeout_seconds=0.2)
    try:
        with pytest.raises(StoreBusy) as caught:
            with store.tx() as conn:
                conn.execute("INSERT INTO repositories(name, path, added_at) VALUES ('r', '/r', 0)")
        assert isinstance(caught.value, DataError)
        assert str(db) in caught.value.message and "try again" in caught.value.message
        holder.execute("ROLLBACK")
        with store.tx() as conn:
            conn.execute("INSERT INTO repositories(name, path, added_at) VALUES ('r', '/r', 0)")
        assert [r[0] for r in store.read().execute("SELECT name FROM repositories")] == ["r"]
    finally:
        holder.close()
        store.close()
