"""Benchmark the GitHub source against the raw HTTP transfers it needs, on the stand-in API.

    PYTHONPATH=src python bench/bench_github.py             # 10,000 pull requests
    PYTHONPATH=src python bench/bench_github.py --prs 2000

In one run: (1) the raw transfers — the same requests the sync makes (the pulls probe, every GraphQL
page of pull requests, the deployments/releases/issues lists) with a bare httpx2 client, bodies read and
discarded; (2) a full sync of those PRs (with 3 commits and 2 reviews each) into a new SQLite store;
(3) a re-sync with nothing new. Prints times, the ratio (target ≤ 2×), request counts (target for the
re-sync: one conditional request per endpoint, i.e. 4) and writes bench/results/github.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))
sys.path.insert(0, str(HERE.parent / "src"))

from test_github_standin import StandInGitHub, pr_node  # noqa: E402


def make_prs(n: int, now: int) -> list[dict]:
    out = []
    for k in range(1, n + 1):
        t = now - (n - k) * 600
        out.append(pr_node(
            k, author=f"dev{k % 17}", created=t - 7200, merged=t, merge_sha=f"{k:040x}",
            commits=[(f"{k:036x}{j:04x}", t - 9000 + j * 600, t - 8000 + j * 600, f"dev{k % 17}@example.com") for j in range(3)],
            reviews=[(f"dev{(k + 1) % 17}", "COMMENTED", t - 3600, 2), (f"dev{(k + 2) % 17}", "APPROVED", t - 1800, 0)],
        ))
    return out


async def raw_transfer(url: str, token: str, n: int) -> tuple[float, int]:
    import httpx2

    from engmetrics.sources.github.pr_query import PR_PAGE_SIZE, PR_QUERY

    headers = {"Authorization": f"Bearer {token}", "Accept": "application/vnd.github+json"}
    requests = 0
    started = time.perf_counter()
    async with httpx2.AsyncClient(base_url=url, headers=headers) as c:
        (await c.get("/repos/acme/sample/pulls", params={"state": "all", "per_page": 1})).read()
        requests += 1
        cursor = None
        while True:
            r = await c.post("/graphql", json={"query": PR_QUERY, "variables": {"owner": "acme", "name": "sample",
                                                                                "cursor": cursor, "n": PR_PAGE_SIZE}})
            requests += 1
            page = r.json()["data"]["repository"]["pullRequests"]["pageInfo"]
            if not page["hasNextPage"]:
                break
            cursor = page["endCursor"]
        for path in ("deployments", "releases", "issues"):
            (await c.get(f"/repos/acme/sample/{path}", params={"per_page": 100})).read()
            requests += 1
    return time.perf_counter() - started, requests


async def sync(url: str, token: str, db: Path) -> tuple[float, dict, int]:
    from engmetrics.sources.github.client import GitHubClient
    from engmetrics.sources.github.sync import sync_github_repo
    from engmetrics.store.open import open_store

    store = open_store(db)
    with store.tx() as c:
        c.execute("INSERT OR IGNORE INTO repositories(id, name, path, added_at) VALUES (1, 'sample', '/nonexistent', 0)")
    started = time.perf_counter()
    async with GitHubClient(token, url) as client:
        res = await sync_github_repo(store, client, 1, "sample", "acme/sample")
        stats = client.stats
    seconds = time.perf_counter() - started
    store.close()
    return seconds, {"requests": stats.requests, "conditional": stats.conditional, "not_modified": stats.not_modified,
                     "bytes": stats.bytes}, res.pull_requests


def serve(n: int, queue) -> None:  # type: ignore[no-untyped-def]
    """Child process: the stand-in with ``n`` PRs (its own process, so it does not share our GIL)."""
    gh = StandInGitHub()
    gh.prs = make_prs(n, int(time.time()))
    queue.put((gh.start(), gh.token))
    while True:
        time.sleep(3600)


def main() -> None:
    import multiprocessing

    ap = argparse.ArgumentParser()
    ap.add_argument("--prs", type=int, default=10_000)
    args = ap.parse_args()
    queue: multiprocessing.Queue = multiprocessing.Queue()
    server = multiprocessing.Process(target=serve, args=(args.prs, queue), daemon=True)
    server.start()
    try:
        url, token = queue.get(timeout=120)
        asyncio.run(raw_transfer(url, token, args.prs))  # warm the stand-in's page cache (both sides served from it)
        raw_s, raw_n = asyncio.run(raw_transfer(url, token, args.prs))
        with tempfile.TemporaryDirectory() as tmp:
            db = Path(tmp) / "bench.db"
            full_s, full, written = asyncio.run(sync(url, token, db))
            again_s, again, _ = asyncio.run(sync(url, token, db))
    finally:
        server.terminate()
        server.join(5)
    result = {
        "prs": args.prs, "prs_written": written,
        "raw_transfer_seconds": round(raw_s, 3), "raw_requests": raw_n,
        "full_sync_seconds": round(full_s, 3), "full_sync": full,
        "ratio_vs_raw": round(full_s / raw_s, 2),
        "resync_seconds": round(again_s, 3), "resync": again,
        "load_average": round(os.getloadavg()[0], 2), "cpus": os.cpu_count(),
    }
    print(f"raw HTTP transfers : {raw_s:7.2f} s  ({raw_n} requests)")
    print(f"full sync          : {full_s:7.2f} s  ({full['requests']} requests, {full['bytes'] / 1e6:.1f} MB, "
          f"{written} PRs)  ratio {result['ratio_vs_raw']}x (target <= 2x)")
    print(f"re-sync, no change : {again_s:7.2f} s  ({again['requests']} requests, {again['conditional']} conditional, "
          f"{again['not_modified']} answered 304)")
    print(f"load average at the end: {result['load_average']:.2f} on {result['cpus']} CPUs (the stand-in shares them)")
    (HERE / "results").mkdir(exist_ok=True)
    (HERE / "results" / "github.json").write_text(json.dumps(result, indent=1) + "\n")


if __name__ == "__main__":
    main()
