"""Load on the REST API over loopback: `python bench/bench_api.py [--rate 500] [--seconds 20] [--soak-seconds 60]`.

1. Throughput: GET /v1/metrics/dora against `engmetrics api` (its own process) over the tests' sample workspace,
   with `wrk` (apt-get install wrk) as the load generator: a closed loop at 16 connections (the most the server
   gives), then wrk paced by a Lua delay to about ``--rate`` req/s. Without wrk, an open-loop async httpx2
   generator in its own process (it needs a core of its own to reach 500 req/s: on 2 cores it, not the server,
   is the limit). Target: 500 req/s with p99 < 100 ms.
2. Soak: 50 concurrent clients (each looping, sharing 10 keys on the free plan, 30 req/min) for a minute;
   every answer must be 200 or a deliberate 429 (with Retry-After), never an error.

Figures go to bench/results/api.json.
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


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _env(db: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ENGMETRICS_")}
    env["ENGMETRICS_DB"] = str(db)
    return env


def build_store(root: Path) -> Path:
    """The tests' sample workspace (120 days, 3 authors, weekly releases), synced into a store."""
    sys.path.insert(0, str(ROOT / "tests"))
    from conftest import build_sample, sync_sample  # type: ignore[import-not-found]

    ws = sync_sample(build_sample(root))
    return ws.db


def make_key(db: Path, plan: str) -> str:
    out = subprocess.run([sys.executable, "-m", "engmetrics.cli.main", "api-key", "create", "--name", f"bench-{plan}",
                          "--plan", plan, "--json"], env=_env(db), capture_output=True, text=True, check=True)
    return json.loads(out.stdout)["key"]


def start_api(db: Path, port: int, cache_seconds: float = 2.0) -> subprocess.Popen:
    import httpx2

    proc = subprocess.Popen(
        [sys.executable, "-m", "engmetrics.cli.main", "api", "--port", str(port), "--sync-every", "0",
         "--log-level", "WARNING", "--limits", "enterprise=100000000/1000000000",
         "--cache-seconds", str(cache_seconds)],
        env=_env(db), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
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


# ---- load generator (runs in a child process) ------------------------------------------------------------


async def _open_loop(url: str, key: str, rate: float, seconds: float, concurrency: int) -> dict:
    import httpx2

    latencies: list[float] = []
    statuses: dict[str, int] = {}
    limits = httpx2.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx2.AsyncClient(base_url=url, headers={"Authorization": f"Bearer {key}"}, limits=limits,
                                  timeout=10) as client:
        sem = asyncio.Semaphore(concurrency * 4)
        start = time.perf_counter()
        total = int(rate * seconds)

        async def one(scheduled: float) -> None:
            async with sem:
                try:
                    r = await client.get("/v1/metrics/dora", params={"period": "last_30_days"})
                    statuses[str(r.status_code)] = statuses.get(str(r.status_code), 0) + 1
                except Exception as exc:  # noqa: BLE001 - counted, reported
                    statuses[type(exc).__name__] = statuses.get(type(exc).__name__, 0) + 1
                latencies.append(time.perf_counter() - scheduled)

        tasks = []
        for i in range(total):
            scheduled = start + i / rate
            delay = scheduled - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one(scheduled)))
        await asyncio.gather(*tasks)
        elapsed = time.perf_counter() - start
    latencies.sort()

    def pct(p: float) -> float:
        return round(latencies[min(len(latencies) - 1, int(p * len(latencies)))] * 1000, 2)

    return {"target_rate_per_second": rate, "requests": len(latencies), "seconds": round(elapsed, 2),
            "achieved_rate_per_second": round(len(latencies) / elapsed, 1), "statuses": statuses,
            "latency_ms": {"p50": pct(0.50), "p90": pct(0.90), "p99": pct(0.99), "max": round(latencies[-1] * 1000, 2),
                           "mean": round(statistics.fmean(latencies) * 1000, 2)}}


async def _soak(url: str, keys: list[str], clients: int, seconds: float) -> dict:
    import httpx2

    statuses: dict[str, int] = {}
    retry_after_ok = True
    deadline = time.perf_counter() + seconds

    async def worker(i: int) -> None:
        nonlocal retry_after_ok
        async with httpx2.AsyncClient(base_url=url, headers={"Authorization": f"Bearer {keys[i % len(keys)]}"},
                                      timeout=10) as client:
            while time.perf_counter() < deadline:
                try:
                    r = await client.get("/v1/metrics/dora", params={"period": "last_30_days"})
                    statuses[str(r.status_code)] = statuses.get(str(r.status_code), 0) + 1
                    if r.status_code == 429:
                        if "retry-after" not in r.headers or r.json()["error"]["code"] != "rate_limit_exceeded":
                            retry_after_ok = False
                        await asyncio.sleep(min(1.0, float(r.headers.get("retry-after", 1))))
                except Exception as exc:  # noqa: BLE001 - counted, reported
                    statuses[type(exc).__name__] = statuses.get(type(exc).__name__, 0) + 1
                    await asyncio.sleep(0.1)

    await asyncio.gather(*(worker(i) for i in range(clients)))
    errors = {k: v for k, v in statuses.items() if k not in ("200", "429")}
    return {"clients": clients, "seconds": seconds, "keys": len(keys), "plan": "free (30/min)", "statuses": statuses,
            "errors": errors, "every_429_had_retry_after": retry_after_ok}


WRK_PACED = """
local rate = tonumber(os.getenv("WRK_RATE"))
local conns = tonumber(os.getenv("WRK_CONNS"))
function delay()
  return math.random(0, math.floor(2 * 1000 * conns / rate))
end
"""


def run_wrk(url: str, key: str, connections: int, seconds: float, rate: float | None = None) -> dict:
    """wrk against dora: requests/s, latency percentiles (ms), non-2xx count."""
    import re
    import shutil

    args = ["-t2", f"-c{connections}", f"-d{int(seconds)}s", "--latency", "-H", f"Authorization: Bearer {key}"]
    env = dict(os.environ)
    script = None
    if rate:
        script = tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False)
        script.write(WRK_PACED)
        script.close()
        args += ["-s", script.name]
        env.update(WRK_RATE=str(rate), WRK_CONNS=str(connections))  # mean delay per connection = connections / rate
    out = subprocess.run([shutil.which("wrk") or "wrk", *args, f"{url}/v1/metrics/dora?period=last_30_days"],
                         capture_output=True, text=True, env=env, check=True).stdout
    if script:
        os.unlink(script.name)

    def ms(text: str) -> float:
        value, unit = re.match(r"([\d.]+)(us|ms|s)", text).groups()  # type: ignore[union-attr]
        return round(float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit], 2)

    pcts = dict(re.findall(r"^\s+(50|75|90|99)%\s+(\S+)", out, re.M))
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    total = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = re.search(r"Socket errors: (.*)", out)
    return {"tool": "wrk", "connections": connections, "seconds": seconds, "paced_to_rate": rate,
            "requests": total, "achieved_rate_per_second": rps,
            "latency_ms": {f"p{k}": ms(v) for k, v in pcts.items()},
            "non_2xx": int(non2xx.group(1)) if non2xx else 0, "socket_errors": errors.group(1) if errors else None}


def _child(kind: str, args: dict, conn) -> None:  # type: ignore[no-untyped-def]
    coro = _open_loop(**args) if kind == "open_loop" else _soak(**args)
    conn.send(asyncio.run(coro))


def in_child(kind: str, **args: object) -> dict:
    """Run a load phase in a separate process (so the generator does not share the server's interpreter)."""
    ctx = multiprocessing.get_context("spawn")
    parent, child = ctx.Pipe()
    p = ctx.Process(target=_child, args=(kind, args, child))
    p.start()
    result = parent.recv()
    p.join()
    return result


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rate", type=float, default=500.0, help="Requests per second (open loop)")
    ap.add_argument("--seconds", type=float, default=20.0, help="Length of the throughput run")
    ap.add_argument("--concurrency", type=int, default=64, help="Connections of the load generator")
    ap.add_argument("--soak-seconds", type=float, default=60.0, help="Length of the 50-client run")
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument("--cache-seconds", type=float, default=2.0, help="The server's GET cache (0: every request computes)")
    ap.add_argument("--out", type=Path, default=HERE / "results" / "api.json")
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        db = build_store(Path(tmp))
        key = make_key(db, "enterprise")
        soak_keys = [make_key(db, "free") for _ in range(10)]
        port = _free_port()
        proc = start_api(db, port, a.cache_seconds)
        url = f"http://127.0.0.1:{port}"
        try:
            import shutil

            in_child("open_loop", url=url, key=key, rate=50.0, seconds=2.0, concurrency=8)  # warm-up
            if shutil.which("wrk"):
                throughput = {
                    "closed_loop": run_wrk(url, key, 16, a.seconds),
                    "paced": run_wrk(url, key, 32, a.seconds, rate=a.rate),
                }
            else:
                throughput = {"paced": in_child("open_loop", url=url, key=key, rate=a.rate, seconds=a.seconds,
                                                concurrency=a.concurrency)}
            print(json.dumps({"throughput": throughput}, indent=1), file=sys.stderr)
            soak = in_child("soak", url=url, keys=soak_keys, clients=a.clients, seconds=a.soak_seconds)
            print(json.dumps({"soak": soak}, indent=1), file=sys.stderr)
        finally:
            proc.terminate()
            proc.wait(10)
    result = {
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
        "endpoint": "GET /v1/metrics/dora?period=last_30_days (sample workspace: 1 repo, 120 commits, 17 releases)",
        "server": "engmetrics api (one uvicorn process, h11), load generator in a separate process on the same machine",
        "server_cache_seconds": a.cache_seconds,
        "throughput": throughput,
        "throughput_target_met": any(
            t["achieved_rate_per_second"] >= 0.95 * a.rate and t["latency_ms"]["p99"] < 100
            and not t.get("non_2xx") and set(t.get("statuses", {"200": 1})) == {"200"}
            for t in throughput.values()
        ),
        "soak": soak,
        "soak_target_met": not soak["errors"] and soak["every_429_had_retry_after"],
        "measured_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    a.out.parent.mkdir(parents=True, exist_ok=True)
    a.out.write_text(json.dumps(result, indent=1) + "\n")
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
