"""Benchmark get_dora over a large store, in process, and the MCP handshake of `engmetrics serve`.

    python bench/bench_dora.py                      # 100,000 commits, 5,000 deployments (the issue's size)
    python bench/bench_dora.py --commits 20000 --deployments 1000

1. Builds a store with ``--commits`` commits over 5 repositories (linear histories, 2 years) and
   ``--deployments`` explicit deployment events, derives deployments/changes/failures, then times
   ``LocalEngine.get_dora`` (median and p95 over repeated calls) for last_30_days, last_90_days and ytd,
   each beside a reference measured in the same run: a bare ``SELECT count(*)`` over the same
   window's deployments (the floor any answer pays). Target: median < 50 ms.
2. Times the MCP handshake (initialize → response) of ``engmetrics serve`` over stdio against a
   30,000-commit repository that is not yet synced (sync runs in the background), beside the
   handshake of a one-tool MCPServer on the same SDK (the floor: Python start + importing the SDK),
   five times each, interleaved. Target: < 1.5 s. Also records when the first ``tools/list`` is
   answered (the tools load in a worker thread after the handshake).
Writes ``bench/results/dora.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

import anyio

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from engmetrics.config import Settings  # noqa: E402
from engmetrics.engine.local import LocalEngine  # noqa: E402
from engmetrics.areas.dora.models import DoraQuery
from engmetrics.areas.dora.derive import derive_repository
from engmetrics.store.open import open_store

DAY = 86400


def build_store(db: Path, commits: int, deployments: int, repos: int = 5, seed: int = 3) -> None:
    """Fill ``db`` with synthetic repositories, commits and deployment events, then derive."""
    rng = random.Random(seed)
    store = open_store(db)
    end = int(time.time())
    start = end - 730 * DAY
    per_repo = commits // repos
    deps_per_repo = deployments // repos
    with store.tx() as conn:
        for r in range(repos):
            conn.execute("INSERT INTO repositories(id, name, path, added_at) VALUES (?, ?, ?, ?)",
                         (r + 1, f"repo{r}", f"/synthetic/repo{r}", end))
            times = sorted(rng.randint(start, end - 3600) for _ in range(per_repo))
            rows, prev = [], ""
            shas = []
            for i, t in enumerate(times):
                sha = f"{r:02x}{i:038x}"
                subject = "fix: bug" if rng.random() < 0.2 else "feat: thing"
                rows.append((r + 1, sha, "A", f"a{i % 30}@x.io", t, "A", f"a{i % 30}@x.io", t, prev, subject, "",
                             "[]", rng.randint(1, 200), rng.randint(0, 80), rng.randint(1, 6)))
                shas.append((sha, t))
                prev = sha
            conn.executemany("INSERT INTO commits VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
            picks = sorted(rng.sample(range(len(shas)), deps_per_repo))
            conn.executemany(
                "INSERT INTO deployment_events VALUES (?, ?, ?, 'production', ?, ?, NULL, 'import')",
                [(f"dep-{r}-{k}", r + 1, shas[k][0], "success", shas[k][1] + rng.randint(600, 7200)) for k in picks],
            )
            conn.executemany(
                "INSERT INTO incidents VALUES (?, ?, 'incident', 'sev2', ?, ?, NULL, NULL, NULL, 'import')",
                [(f"inc-{r}-{k}", r + 1, shas[k][1] + 9000, shas[k][1] + 9000 + rng.randint(600, 20000))
                 for k in rng.sample(picks, max(1, len(picks) // 12))],
            )
    t0 = time.perf_counter()
    for r in range(repos):
        derive_repository(store, r + 1)
    print(f"derive: {time.perf_counter() - t0:.2f} s for {commits} commits, {deployments} deployments", file=sys.stderr)
    store.close()


def time_calls(fn, n: int) -> list[float]:  # type: ignore[no-untyped-def]
    out = []
    for _ in range(n):
        t0 = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t0) * 1000)
    return out


def bench_dora(db: Path, calls: int) -> dict:
    engine = LocalEngine(Settings(db=db))
    conn = engine.store.read()
    results = {}
    for period in ("last_30_days", "last_90_days", "ytd"):
        q = DoraQuery(period=period)
        anyio.run(engine.dora.get_dora, q)  # warm
        ms = time_calls(lambda: anyio.run(engine.dora.get_dora, q), calls)
        from engmetrics.periods import resolve_window

        w = resolve_window(period)
        ref = time_calls(lambda: conn.execute(
            "SELECT count(*) FROM deployments WHERE deployed_at >= ? AND deployed_at < ?",
            (w.previous().start_ts, w.end_ts)).fetchone(), calls)
        report = anyio.run(engine.dora.get_dora, q)
        results[period] = {
            "median_ms": round(statistics.median(ms), 2),
            "p95_ms": round(sorted(ms)[int(0.95 * (len(ms) - 1))], 2),
            "reference_count_query_median_ms": round(statistics.median(ref), 3),
            "deployments_in_window": report.deployment_frequency.deployments,
        }
    engine.store.close()
    return results


async def handshake_seconds(repo: Path, db: Path) -> tuple[float, float]:
    """(seconds to the initialize response, seconds to the first tools/list answer) from process start."""
    from mcp import Client
    from mcp.client.stdio import StdioServerParameters

    env = {k: v for k, v in os.environ.items() if not k.startswith("ENGMETRICS_")}
    env["ENGMETRICS_DB"] = str(db)
    params = StdioServerParameters(command=sys.executable, args=["-m", "engmetrics.cli.main", "serve", "--repo", str(repo)],
                                   env=env)
    t0 = time.perf_counter()
    async with Client(params, mode="legacy") as client:
        elapsed = time.perf_counter() - t0
        await client.list_tools()
        listed = time.perf_counter() - t0
    return elapsed, listed


MINIMAL_SERVER = """
from mcp.server.mcpserver import MCPServer
srv = MCPServer("minimal")
@srv.tool()
def ping() -> str:
    \"\"\"Answer pong.\"\"\"
    return "pong"
srv.run()
"""


async def reference_handshake_seconds() -> float:
    """The handshake of a one-tool MCPServer (same SDK, same Python): the floor any server pays."""
    from mcp import Client
    from mcp.client.stdio import StdioServerParameters

    params = StdioServerParameters(command=sys.executable, args=["-c", MINIMAL_SERVER])
    t0 = time.perf_counter()
    async with Client(params, mode="legacy"):
        return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--commits", type=int, default=100_000)
    ap.add_argument("--deployments", type=int, default=5_000)
    ap.add_argument("--calls", type=int, default=50)
    ap.add_argument("--handshake-repo", type=Path, help="repository for the handshake test (default: a synthetic 30k one)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "big.db"
        t0 = time.perf_counter()
        build_store(db, args.commits, args.deployments)
        build_s = time.perf_counter() - t0
        dora = bench_dora(db, args.calls)
        repo = args.handshake_repo
        if repo is None:
            sys.path.insert(0, str(ROOT / "bench"))
            from bench_sync import build_synthetic

            repo = Path(tmp) / "synthetic"
            build_synthetic(repo, 30_000)
        hs, listed, ref = [], [], []
        for i in range(5):
            ref.append(anyio.run(reference_handshake_seconds))
            h, t = anyio.run(handshake_seconds, repo, Path(tmp) / f"hs{i}.db")
            hs.append(h)
            listed.append(t)
            time.sleep(3)  # let the server's background sync (git log) die down before the next start
    result = {
        "commits": args.commits,
        "deployments": args.deployments,
        "store_build_and_derive_seconds": round(build_s, 2),
        "get_dora": dora,
        "get_dora_target_median_ms": 50,
        "handshake_seconds": [round(h, 3) for h in hs],
        "reference_minimal_server_handshake_seconds": [round(r, 3) for r in ref],
        "first_tools_list_seconds": [round(t, 3) for t in listed],
        "handshake_ratio_to_reference": round(statistics.median(hs) / statistics.median(ref), 2),
        "handshake_target_seconds": 1.5,
    }
    out = ROOT / "bench" / "results" / "dora.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
