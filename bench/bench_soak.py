"""Soak of the REST API: memory and file handles must level off. `python bench/bench_soak.py [--seconds 600]`.

Starts `engmetrics api` (its own process) over the tests' sample workspace and keeps it busy for
``--seconds`` (default 10 minutes) with ``--concurrency`` looping clients over every GET operation of
/v1/openapi.json: varied windows (so the API's 2-second answer reuse is often missed and the engine
computes), list pages, some bad requests (unknown parameter, bad period: 4xx) and some without a key
(401); each client opens new connections every ``--reconnect`` requests. Every ``--interval`` seconds
(default 10) it samples the server's resident memory (VmRSS), open file descriptors (and how many are
the SQLite store's files), and threads, from /proc.

"Levels off" is judged on the second half of the run: the least-squares slope of RSS (MB per minute) and
the growth of open files between the middle and the end. ``--src DIR`` runs another checkout's code
(PYTHONPATH) for a before/after comparison. Results go to bench/results/soak.json (``--out``).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from bench_api import _env, _free_port, build_store, make_key  # noqa: E402

PERIODS = ["last_7_days", "last_30_days", "last_90_days", "this_month", "last_month", "ytd", "14d", "60d"]


def proc_sample(pid: int, db: Path) -> dict[str, float]:
    """RSS (MB), open file descriptors, those on the store's files, and threads of process ``pid``."""
    status = Path(f"/proc/{pid}/status").read_text()
    fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
    rss_mb = int(fields["VmRSS"].split()[0]) / 1024
    fds = os.listdir(f"/proc/{pid}/fd")
    store_fds = 0
    for fd in fds:
        try:
            if os.readlink(f"/proc/{pid}/fd/{fd}").startswith(str(db)):
                store_fds += 1
        except OSError:
            pass
    return {"rss_mb": round(rss_mb, 1), "open_files": len(fds), "store_files": store_fds,
            "threads": int(fields["Threads"].strip())}


def start_api(db: Path, port: int, src: str | None):  # type: ignore[no-untyped-def]
    import subprocess

    import httpx2

    env = _env(db)
    if src:
        env["PYTHONPATH"] = str(Path(src).resolve() / "src")
    proc = subprocess.Popen(
        [sys.executable, "-m", "engmetrics.cli.main", "api", "--port", str(port), "--sync-every", "0",
         "--log-level", "WARNING", "--limits", "enterprise=100000000/1000000000"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )
    deadline = time.time() + 30
    while time.time() < deadline:
        try:
            if httpx2.get(f"http://127.0.0.1:{port}/v1/health", timeout=1).status_code == 200:
                return proc
        except httpx2.TransportError:
            time.sleep(0.1)
    proc.kill()
    raise SystemExit("engmetrics api did not start")


def request_for(paths: dict[str, set[str]], rng: random.Random) -> tuple[str, dict[str, str], bool]:
    """(path, query, with key) for one request of the mix (``paths``: each GET path and the parameters it takes)."""
    path = rng.choice(sorted(paths))
    takes = paths[path]
    roll = rng.random()
    if roll < 0.05:
        return path, {}, False  # no key: 401
    if roll < 0.10:
        return path, {"perid": "last_30_days"}, True  # unknown parameter: 400
    if roll < 0.13:
        return path, {"period": "fortnight-ish"}, True  # bad period: 422
    query: dict[str, str] = {}
    if "limit" in takes and rng.random() < 0.5:
        query["limit"] = str(rng.choice([1, 5, 20, 100]))
    if "period" not in takes:
        return path, query, True
    if rng.random() < 0.5:
        query["period"] = rng.choice(PERIODS)
    elif rng.random() < 0.6:
        # An explicit window ending on a random recent day: defeats the 2-second answer reuse.
        end = time.gmtime(time.time() - rng.randint(0, 60) * 86_400)
        query["from"] = f"{end.tm_year - 1}-{end.tm_mon:02d}-{end.tm_mday:02d}"
        query["to"] = f"{end.tm_year}-{end.tm_mon:02d}-{end.tm_mday:02d}"
    return path, query, True


async def load(base: str, key: str, paths: dict[str, set[str]], until: float, concurrency: int, reconnect: int,
               counts: dict[str, int]) -> None:
    import httpx2

    async def client_loop(n: int) -> None:
        rng = random.Random(n)
        while time.monotonic() < until:
            async with httpx2.AsyncClient(base_url=base, timeout=30) as http:
                for _ in range(reconnect):
                    if time.monotonic() >= until:
                        return
                    path, query, keyed = request_for(paths, rng)
                    headers = {"Authorization": f"Bearer {key}"} if keyed else {}
                    try:
                        r = await http.get(path, params=query, headers=headers)
                        counts[str(r.status_code)] = counts.get(str(r.status_code), 0) + 1
                    except httpx2.TransportError as exc:
                        counts[type(exc).__name__] = counts.get(type(exc).__name__, 0) + 1

    await asyncio.gather(*(client_loop(i) for i in range(concurrency)))


def slope_per_minute(points: list[tuple[float, float]]) -> float:
    """Least-squares slope of (seconds, value) points, per minute."""
    n = len(points)
    if n < 2:
        return 0.0
    mx = sum(t for t, _ in points) / n
    my = sum(v for _, v in points) / n
    sxx = sum((t - mx) ** 2 for t, _ in points)
    sxy = sum((t - mx) * (v - my) for t, v in points)
    return 60 * sxy / sxx if sxx else 0.0


async def soak(args: argparse.Namespace, db: Path, key: str) -> dict[str, object]:
    import httpx2

    port = _free_port()
    proc = start_api(db, port, args.src)
    base = f"http://127.0.0.1:{port}"
    try:
        doc = httpx2.get(f"{base}/v1/openapi.json", headers={"Authorization": f"Bearer {key}"}, timeout=30).json()
        paths = {p: {param["name"] for param in item["get"].get("parameters", [])}
                 for p, item in doc["paths"].items()
                 if "get" in item and "{" not in p and p not in ("/v1/health", "/v1/openapi.json")}
        counts: dict[str, int] = {}
        started = time.monotonic()
        until = started + args.seconds
        samples: list[dict[str, float]] = []
        task = asyncio.create_task(load(base, key, paths, until, args.concurrency, args.reconnect, counts))
        while True:
            sample = {"t": round(time.monotonic() - started, 1), "requests": sum(counts.values()),
                      **proc_sample(proc.pid, db)}
            samples.append(sample)
            print(json.dumps(sample), flush=True)
            if time.monotonic() >= until:
                break
            await asyncio.sleep(min(args.interval, max(0.0, until - time.monotonic())))
        await task
        samples.append({"t": round(time.monotonic() - started, 1), "requests": sum(counts.values()),
                        **proc_sample(proc.pid, db)})
    finally:
        proc.terminate()
        proc.wait(10)
    half = [s for s in samples if s["t"] >= args.seconds / 2]
    middle = half[0]
    last = samples[-1]
    return {
        "machine": f"{platform.system()} {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
        "code": args.src or "this checkout",
        "seconds": args.seconds, "interval_seconds": args.interval, "concurrency": args.concurrency,
        "endpoints": sorted(paths),
        "requests": sum(counts.values()), "by_status": dict(sorted(counts.items())),
        "requests_per_second": round(sum(counts.values()) / max(1.0, last["t"]), 1),
        "rss_mb": {"first": samples[0]["rss_mb"], "middle": middle["rss_mb"], "last": last["rss_mb"],
                   "max": max(s["rss_mb"] for s in samples),
                   "second_half_slope_mb_per_minute": round(slope_per_minute([(s["t"], s["rss_mb"]) for s in half]), 3)},
        "open_files": {"first": samples[0]["open_files"], "middle": middle["open_files"], "last": last["open_files"],
                       "max": max(s["open_files"] for s in samples)},
        "store_files": {"first": samples[0]["store_files"], "last": last["store_files"],
                        "max": max(s["store_files"] for s in samples)},
        "threads": {"first": samples[0]["threads"], "last": last["threads"], "max": max(s["threads"] for s in samples)},
        "samples": samples,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=600.0)
    ap.add_argument("--interval", type=float, default=10.0)
    ap.add_argument("--concurrency", type=int, default=8)
    ap.add_argument("--reconnect", type=int, default=200, help="requests per connection pool before a new one")
    ap.add_argument("--src", default=None, help="another checkout whose src/ to run (before/after comparison)")
    ap.add_argument("--out", type=Path, default=HERE / "results" / "soak.json")
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="engmetrics-soak-"))
    db = build_store(work)
    key = make_key(db, "enterprise")
    result = asyncio.run(soak(args, db, key))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1) + "\n")
    summary = {k: v for k, v in result.items() if k not in ("samples", "endpoints")}
    print(json.dumps(summary, indent=1))


if __name__ == "__main__":
    main()
