"""Forecast benchmark: Monte Carlo speed, and calibration on real open-source histories.

Speed: 10,000 simulated futures of 26 weeks from a 26-week history (the raw Monte Carlo), and a whole
`forecast_delivery` answer (simulation + calibration on 182 weeks of history + reliability backtest).

Calibration: for each repository, `engmetrics sync` into a scratch store, then the walk-forward backtest
(`engmetrics forecast backtest --as-of`) at 4 and 12 weeks, items = merged PRs, as of the day of the
repository's last commit. A forecast at P85 comes true when at least the promised number of PRs merged; the
calibrated P85 should hit 80–90 %, where i.i.d. sampling falls below.

Ordering (``--ordering N``): `forecast delivery` for 30 items, for the items done by a date 12 weeks
after the start (at the earliest next week), and `forecast backlog` of 30 items, at N start dates 4 weeks
apart ending 12 weeks after the last commit (so the newest start dates meet a stopped history); counts the
forecasts whose levels cross (P50 ≤ P85 ≤ P95 for dates and weeks, the reverse for item counts) and the
warnings given.

    git clone --bare https://github.com/pallets/flask /tmp/fc_flask   # (and others; never inside this repo)
    python bench/bench_forecast.py --repo /tmp/fc_flask --repo /tmp/fc_requests --repo /tmp/fc_httpx \
        --ordering 20 --out bench/results/forecast_backtest.json
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import anyio
import numpy as np

from engmetrics.areas.forecast.answers import ForecastHistory, delivery_forecast
from engmetrics.areas.forecast.metrics.simulate import quantile_curves, simulate_paths
from engmetrics.areas.forecast.models import BacklogForecastQuery, BacktestQuery, DeliveryForecastQuery
from engmetrics.config import Settings
from engmetrics.engine.local import LocalEngine
from engmetrics.errors import EngmetricsError


def best_ms(fn, repeats: int = 7) -> float:  # type: ignore[no-untyped-def]
    """The fastest of ``repeats`` runs of ``fn()``, milliseconds."""
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1000)
    return round(min(times), 2)


def speed() -> dict:
    """Milliseconds for 10,000 simulations (raw), and for a full calibrated forecast_delivery."""
    rng = np.random.default_rng(0)
    weekly = rng.poisson(6, 182).astype(float)
    conf = np.array([0.5, 0.85, 0.95])

    def raw() -> None:
        paths = simulate_paths(weekly[-26:], 26, 10_000, np.random.default_rng(1))
        quantile_curves(paths, conf)

    h = ForecastHistory(weekly=weekly, source="prs", as_of=0, start=date(2026, 3, 2), today=date(2026, 3, 2))
    full = lambda: delivery_forecast(h, DeliveryForecastQuery(items=60))  # noqa: E731
    no_rel = lambda: delivery_forecast(h, DeliveryForecastQuery(items=60, calibrate=False))  # noqa: E731
    return {
        "simulations": 10_000,
        "horizon_weeks": 26,
        "monte_carlo_10k_ms": best_ms(raw),
        "forecast_delivery_calibrated_ms": best_ms(full, 3),
        "forecast_delivery_uncalibrated_with_reliability_ms": best_ms(no_rel, 3),
    }


def last_commit_day(path: str) -> str:
    """The UTC date of the repository's newest commit on HEAD."""
    out = subprocess.run(["git", "-C", path, "log", "-1", "--format=%ct", "HEAD"], capture_output=True, text=True,
                         check=True).stdout.strip()
    return datetime.fromtimestamp(int(out), UTC).date().isoformat()


def backtest(path: str, db: Path, horizons: list[int], source: str) -> dict:
    """Sync ``path`` into ``db`` and run the walk-forward backtest as of the day of its last commit."""
    engine = LocalEngine(Settings(db=db))
    row = engine.register_repository(path)
    as_of = last_commit_day(path)

    async def go():  # type: ignore[no-untyped-def]
        await engine.repos.sync(row.name)
        q = BacktestQuery(repo=row.name, horizons=horizons, item_source=source, as_of=as_of)
        return await engine.forecast.forecast_backtest(q)

    started = time.perf_counter()
    report = anyio.run(go)
    engine.store.close()
    out = report.model_dump(mode="json")
    out["repository"] = Path(path).name
    out["seconds"] = round(time.perf_counter() - started, 1)
    return out


def _crossed(values: list, reverse: bool = False) -> bool:  # type: ignore[type-arg]
    """Whether ``values`` (P50, P85, P95; None = beyond the horizon, the latest) are out of order."""
    big = [float("inf") if v is None else v for v in values]
    if reverse:
        big = big[::-1]
    return any(a > b for a, b in zip(big, big[1:], strict=False))


def ordering(path: str, db: Path, starts: int, source: str) -> dict:
    """Level crossings and warnings over ``starts`` start dates (synced store ``db``), see the module doc."""
    engine = LocalEngine(Settings(db=db))
    name = engine.register_repository(path).name
    last = date.fromisoformat(last_commit_day(path))
    today = datetime.now(UTC).date()
    days = [last + timedelta(weeks=12 - 4 * k) for k in range(starts)]
    crossings = {"dates": 0, "items_by_date": 0, "backlog_weeks": 0}
    warnings: Counter[str] = Counter()
    answered, refused, examples = 0, 0, []

    async def go() -> None:
        nonlocal answered, refused
        for start in days:
            by = max(start + timedelta(weeks=12), today + timedelta(weeks=1)).isoformat()
            common = {"repo": name, "item_source": source, "start_date": start.isoformat()}
            try:
                d = await engine.forecast.forecast_delivery(DeliveryForecastQuery(items=30, **common))
                c = await engine.forecast.forecast_delivery(DeliveryForecastQuery(by_date=by, **common))
                b = await engine.forecast.forecast_backlog(BacklogForecastQuery(backlog_size=30, **common))
            except EngmetricsError:
                refused += 1
                continue
            answered += 1
            crossings["dates"] += _crossed([p.weeks for p in d.forecasts])
            crossings["items_by_date"] += _crossed([p.items for p in c.forecasts], reverse=True)
            w = b.weeks_to_empty
            crossings["backlog_weeks"] += _crossed([w.p50, w.p85, w.p95])
            for text in {re.sub(r"\d+", "N", x.split(":")[0]) for x in d.warnings + c.warnings + b.warnings}:
                warnings[text] += 1
            examples.append({"start_date": start.isoformat(), "dates": [d.p50, d.p85, d.p95],
                             "items_by": by, "items": [c.p50, c.p85, c.p95],
                             "warnings": sorted({x.split(":")[0] for x in d.warnings})})

    anyio.run(go)
    engine.store.close()
    return {"repository": Path(path).name, "last_commit": last.isoformat(), "start_dates": starts,
            "answered": answered, "refused_no_throughput": refused, "crossings": crossings,
            "forecasts_with_warning": dict(sorted(warnings.items())), "examples": examples}


def main() -> int:
    """Run the benchmark; print a table on stderr and the figures as JSON on stdout (or to --out)."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repo", action="append", default=[], help="git repository to backtest (repeatable)")
    ap.add_argument("--horizons", default="4,12")
    ap.add_argument("--items-from", default="prs", choices=["prs", "commits"])
    ap.add_argument("--ordering", type=int, default=0, help="start dates for the level-ordering check (0: skip)")
    ap.add_argument("--out", type=Path)
    args = ap.parse_args()
    result: dict = {"speed": speed(), "backtests": [], "ordering": []}
    print(f"speed: {result['speed']}", file=sys.stderr)
    horizons = [int(h) for h in args.horizons.split(",")]
    with tempfile.TemporaryDirectory() as tmp:
        for i, path in enumerate(args.repo):
            bt = backtest(path, Path(tmp) / f"r{i}.db", horizons, args.items_from)
            result["backtests"].append(bt)
            t = bt["throughput"]
            print(f"\n{bt['repository']}: {t['items']} {t['item_source']} over {t['weeks']} weeks "
                  f"(mean {t['mean_per_week']}/week, lag-1 autocorrelation {t['lag1_autocorrelation']})",
                  file=sys.stderr)
            for r in bt["rows"]:
                hits = "  ".join(f"P{lv['confidence_percent']} {lv['hit_percent']:5.1f}%" for lv in r["levels"])
                print(f"  {r['method']:<10} {r['horizon_weeks']:>2}w n={r['origins']:<4} {hits}  "
                      f"pinball {r['pinball_loss_relative']:.3f}", file=sys.stderr)
            if args.ordering:
                o = ordering(path, Path(tmp) / f"r{i}.db", args.ordering, args.items_from)
                result["ordering"].append(o)
                print(f"  ordering: {o['answered']} start dates answered ({o['refused_no_throughput']} refused: no "
                      f"throughput), crossings {o['crossings']}, warnings {o['forecasts_with_warning']}",
                      file=sys.stderr)
    text = json.dumps(result, indent=1)
    if args.out:
        args.out.write_text(text + "\n")
    else:
        print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
