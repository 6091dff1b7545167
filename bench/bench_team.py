"""The team server at scale: a synthetic organisation on PostgreSQL, synced and served by one and by two workers.

    PYTHONPATH=src python bench/bench_team.py                          # 200 repositories × 5,000 commits (1,000,000)
    PYTHONPATH=src python bench/bench_team.py --repos 20 --commits 500 # a quick look
    PYTHONPATH=src python bench/bench_team.py --database-url postgresql://…/postgres   # a server you have
    PYTHONPATH=src python bench/bench_team.py --reuse postgresql://…/DB [--sqlite org.db]  # get_dora only, on a filled DB

Without ``--database-url`` it starts a PostgreSQL server of its own (initdb + pg_ctl in a temporary directory, as the
tests do). The repositories are built once with ``git fast-import`` under ``--work`` (default: a folder in the system's
temporary directory, reused by later runs). It measures, in this order:

1. ingest: every repository registered in a new database, one sync job each, taken by ``engmetrics sync-worker``
   processes: wall time with one worker, then (new database) with two; the ratio one ÷ two;
2. org-wide ``get_dora`` (every repository, the histories' last 90 days): p50 and p95 of 30 calls of the engine
   in process, and of ``GET /v1/metrics/dora`` through one API worker with its answer cache off; target p50 < 100 ms;
3. REST throughput: ``engmetrics api --workers 1`` then ``--workers 2`` (cache off) under a closed loop of 16
   concurrent clients (one load process per core) asking for one repository's DORA figures, 20 s each: requests per
   second and the ratio two ÷ one.

Prints a table and writes ``bench/results/team.json``. On a machine with two cores the load generator and PostgreSQL
share the cores with the workers, so the ratios are a floor of what separate hosts give.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT / "tests"))

START = 1_700_000_000  # the synthetic histories' first commit (2023-11-14), one commit an hour after it
WINDOW: dict[str, str] = {}  # the last 90 days of the histories (set in main)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def env(url: str) -> dict[str, str]:
    out = {k: v for k, v in os.environ.items() if not k.startswith("ENGMETRICS_")}
    out.update(ENGMETRICS_DATABASE_URL=url, ENGMETRICS_CONFIG=os.devnull, PYTHONPATH=str(ROOT / "src"))
    return out


def build_repos(work: Path, repos: int, commits: int) -> list[Path]:
    """``repos`` synthetic repositories of ``commits`` commits each under ``work`` (built once, then reused)."""
    from gitrepo import synthetic_repo  # type: ignore[import-not-found]

    paths = []
    for i in range(repos):
        path = work / f"c{commits}" / f"repo{i:03d}"
        if not (path / ".git" / "refs" / "heads" / "main").exists():
            synthetic_repo(path, commits, seed=i, tag_every=25, start=START)
        paths.append(path)
    return paths


class Databases:
    """New databases on a server: ours (initdb) or the one ``--database-url`` names."""

    def __init__(self, admin_url: str | None) -> None:
        self.server = None
        if admin_url is None:
            from helpers import PostgresServer  # type: ignore[import-not-found]

            self.server = PostgresServer()
            admin_url = self.server.url()
        self.admin_url = admin_url
        self.n = 0

    def new(self) -> str:
        import psycopg

        self.n += 1
        name = f"bench_team_{os.getpid()}_{self.n}"
        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.admin_url.rsplit("/", 1)[0] + "/" + name

    def close(self) -> None:
        if self.server is not None:
            self.server.stop()


def ingest(url: str, paths: list[Path], workers: int) -> dict[str, float]:
    """Register every repository, queue their syncs, and time ``workers`` sync-worker processes until all are done."""
    from pydantic import SecretStr

    from engmetrics.config import Settings
    from engmetrics.engine.local import LocalEngine
    from engmetrics.engine.sync_jobs import SyncWorker

    engine = LocalEngine(Settings(database_url=SecretStr(url)))
    for p in paths:
        engine.register_repository(p)
    queue = SyncWorker(engine)
    queued = queue.enqueue()
    started = time.perf_counter()
    procs = [subprocess.Popen([sys.executable, "-m", "engmetrics.cli.main", "sync-worker", "--once", "--log-level",
                               "WARNING"], env=env(url), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
             for _ in range(workers)]
    for p in procs:
        _, err = p.communicate()
        if p.returncode != 0:
            raise SystemExit(err.decode(errors="replace"))
    seconds = time.perf_counter() - started
    jobs = queue.jobs()
    failed = [j.error for j in jobs if j.state != "done"]
    if failed:
        raise SystemExit(f"{len(failed)} jobs failed: {failed[:3]}")
    commits = engine.store.read().execute("SELECT count(*) FROM commits").fetchone()[0]
    engine.store.close()
    return {"seconds": round(seconds, 1), "jobs": queued, "commits": int(commits),
            "commits_per_second": round(commits / seconds), "workers_used": len({j.worker for j in jobs})}


def dora_latency(url: str, calls: int = 30, sqlite: Path | None = None) -> dict[str, float]:
    """Org-wide get_dora in process: p50/p95 in ms over ``calls`` calls (after one warm-up); on the SQLite store
    ``sqlite`` instead of the database ``url`` when given."""
    import anyio

    from pydantic import SecretStr

    from engmetrics.areas.dora.models import DoraQuery
    from engmetrics.config import Settings
    from engmetrics.engine.local import LocalEngine

    engine = LocalEngine(Settings(db=sqlite) if sqlite is not None else Settings(database_url=SecretStr(url)))
    q = DoraQuery(**WINDOW)
    times = []

    async def go() -> dict[str, object]:
        report = await engine.dora.get_dora(q)
        for _ in range(calls):
            t = time.perf_counter()
            await engine.dora.get_dora(q)
            times.append((time.perf_counter() - t) * 1000)
        return {"deployments": report.deployment_frequency.deployments, "lead_time_changes": report.lead_time.changes}

    shape = anyio.run(go)
    engine.store.close()
    return {"p50_ms": round(statistics.median(times), 1), "p95_ms": round(sorted(times)[int(0.95 * len(times)) - 1], 1),
            **shape}  # type: ignore[dict-item]


def make_key(url: str) -> str:
    out = subprocess.run([sys.executable, "-m", "engmetrics.cli.main", "api-key", "create", "--name", "bench",
                          "--plan", "enterprise", "--json"], env=env(url), capture_output=True, text=True, check=True)
    return str(json.loads(out.stdout)["key"])


class Api:
    """``engmetrics api --workers N`` over the store (cache off, no background sync, huge limits)."""

    def __init__(self, url: str, workers: int) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "engmetrics.cli.main", "api", "--port", str(self.port), "--workers", str(workers),
             "--cache-seconds", "0", "--sync-every", "0", "--limits", "enterprise=100000000/1000000000",
             "--log-level", "WARNING"], env=env(url), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        import httpx2

        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                if httpx2.get(self.base + "/v1/health", timeout=2).status_code == 200:
                    return
            except httpx2.TransportError:
                time.sleep(0.2)
        raise SystemExit("the API did not start")

    def close(self) -> None:
        self.proc.terminate()
        self.proc.wait(30)


def rest_dora_latency(base: str, key: str, calls: int = 30) -> dict[str, float]:
    import httpx2

    times = []
    with httpx2.Client(base_url=base, headers={"Authorization": f"Bearer {key}"}, timeout=120) as c:
        assert c.get("/v1/metrics/dora", params=WINDOW).status_code == 200
        for _ in range(calls):
            t = time.perf_counter()
            assert c.get("/v1/metrics/dora", params=WINDOW).status_code == 200
            times.append((time.perf_counter() - t) * 1000)
    return {"p50_ms": round(statistics.median(times), 1), "p95_ms": round(sorted(times)[int(0.95 * len(times)) - 1], 1)}


def _load(base: str, key: str, repos: int, seconds: float, concurrency: int, window: dict[str, str],
          out: multiprocessing.Queue) -> None:
    import httpx2

    async def main() -> tuple[int, int]:
        done = errors = 0
        stop = time.perf_counter() + seconds
        async with httpx2.AsyncClient(base_url=base, headers={"Authorization": f"Bearer {key}"}, timeout=120,
                                      limits=httpx2.Limits(max_connections=concurrency)) as c:
            async def loop(n: int) -> None:
                nonlocal done, errors
                i = n
                while time.perf_counter() < stop:
                    r = await c.get("/v1/metrics/dora", params={**window, "repo": f"repo{i % repos:03d}"})
                    done += r.status_code == 200
                    errors += r.status_code != 200
                    i += concurrency
            await asyncio.gather(*(loop(n) for n in range(concurrency)))
        return done, errors

    out.put(asyncio.run(main()))


def throughput(base: str, key: str, repos: int, seconds: float = 20.0, concurrency: int = 16) -> dict[str, float]:
    """Requests per second of one repository's DORA figures under ``concurrency`` clients (split over processes)."""
    procs_n = max(1, min(2, os.cpu_count() or 1))
    q: multiprocessing.Queue = multiprocessing.Queue()
    procs = [multiprocessing.Process(target=_load, args=(base, key, repos, seconds, concurrency // procs_n, dict(WINDOW), q))
             for _ in range(procs_n)]
    for p in procs:
        p.start()
    results = [q.get() for _ in procs]
    for p in procs:
        p.join()
    ok = sum(r[0] for r in results)
    return {"requests_per_second": round(ok / seconds, 1), "errors": sum(r[1] for r in results)}


def reuse(url: str, sqlite: Path | None) -> None:
    """Org-wide get_dora on an existing database (and SQLite store): the ``get_dora_org_wide`` part of team.json."""
    part: dict[str, object] = {"in_process": dora_latency(url)}
    print("get_dora, org-wide, in process:", part["in_process"], flush=True)
    api = Api(url, 1)
    try:
        part["rest"] = rest_dora_latency(api.base, make_key(url))
        print("GET /v1/metrics/dora, org-wide:", part["rest"], flush=True)
    finally:
        api.close()
    if sqlite is not None:
        part["in_process_sqlite"] = dora_latency(url, sqlite=sqlite)
        print("get_dora, org-wide, in process, SQLite:", part["in_process_sqlite"], flush=True)
    part["target_p50_ms"] = 100
    out = HERE / "results" / "team.json"
    result = json.loads(out.read_text())
    result["machine"] = {"python": platform.python_version(), "cpus": os.cpu_count(), "platform": platform.platform()}
    result["get_dora_org_wide"] = part
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(part, indent=2))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repos", type=int, default=200)
    ap.add_argument("--commits", type=int, default=5000, help="commits per repository")
    ap.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "engmetrics-bench-team")
    ap.add_argument("--database-url", help="an existing server's maintenance database (new databases are made on it)")
    ap.add_argument("--seconds", type=float, default=20.0, help="length of each throughput run")
    ap.add_argument("--reuse", metavar="URL", help="a database a previous run (or `sync-worker`) filled with this "
                    "organisation: measure only org-wide get_dora on it (in process and through one API worker) and "
                    "update that part of bench/results/team.json, keeping its ingest and throughput figures")
    ap.add_argument("--sqlite", type=Path, help="with --reuse: also org-wide get_dora in process on this SQLite store "
                    "holding the same organisation")
    args = ap.parse_args()
    from datetime import UTC, datetime, timedelta

    end = datetime.fromtimestamp(START + args.commits * 3600, UTC)
    WINDOW.update({"from": (end - timedelta(days=90)).strftime("%Y-%m-%d"), "to": end.strftime("%Y-%m-%d")})
    if args.reuse:
        reuse(args.reuse, args.sqlite)
        return

    t = time.perf_counter()
    paths = build_repos(args.work, args.repos, args.commits)
    print(f"{len(paths)} repositories × {args.commits} commits ready in {time.perf_counter() - t:.0f} s", flush=True)
    dbs = Databases(args.database_url)
    try:
        one = ingest(dbs.new(), paths, 1)
        print("ingest, 1 worker:", one, flush=True)
        url = dbs.new()
        two = ingest(url, paths, 2)
        print("ingest, 2 workers:", two, flush=True)
        dora = dora_latency(url)
        print("get_dora, org-wide, in process:", dora, flush=True)
        key = make_key(url)
        rest: dict[str, dict[str, float]] = {}
        for workers in (1, 2):
            api = Api(url, workers)
            try:
                if workers == 1:
                    rest["dora_latency"] = rest_dora_latency(api.base, key)
                    print("GET /v1/metrics/dora, org-wide:", rest["dora_latency"], flush=True)
                rest[f"workers_{workers}"] = throughput(api.base, key, args.repos, args.seconds)
                print(f"REST, {workers} worker(s):", rest[f"workers_{workers}"], flush=True)
            finally:
                api.close()
    finally:
        dbs.close()
    result = {
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count(), "platform": platform.platform()},
        "repositories": args.repos, "commits_per_repository": args.commits,
        "ingest": {"one_worker": one, "two_workers": two, "ratio": round(one["seconds"] / two["seconds"], 2)},
        "get_dora_org_wide": {"in_process": dora, "rest": rest.get("dora_latency"), "target_p50_ms": 100},
        "rest_throughput": {"one_worker": rest["workers_1"], "two_workers": rest["workers_2"],
                            "ratio": round(rest["workers_2"]["requests_per_second"]
                                           / max(rest["workers_1"]["requests_per_second"], 0.1), 2)},
    }
    (HERE / "results").mkdir(exist_ok=True)
    (HERE / "results" / "team.json").write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
