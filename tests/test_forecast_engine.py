"""Forecasts end to end: a real git repository with squash-merged PRs, the local engine, MCP tools (both
protocol modes), the CLI, and imported work items."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from mcp import Client

from engmetrics.areas.forecast.models import BacktestQuery, DeliveryForecastQuery
from engmetrics.cli.main import main as cli_main
from engmetrics.config import Settings
from engmetrics.engine.local import LocalEngine
from engmetrics.server.app import build_server
from engmetrics.server.runtime import Runtime
from gitrepo import GitRepo

WEEKS = 60


@pytest.fixture(scope="module")
def pr_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A repository with 60 weeks of squash-merged PRs ('… (#N)'), 0–8 a week in runs, plus direct commits."""
    import anyio

    root = tmp_path_factory.mktemp("forecast")
    repo = GitRepo(root / "prs")
    rng = np.random.default_rng(5)
    now = datetime.now(UTC).replace(microsecond=0, second=0, minute=0)
    start = now - timedelta(weeks=WEEKS)
    number, rate = 1, 4.0
    for week in range(WEEKS):
        rate = float(np.clip(rate + rng.normal(0, 1), 0.5, 8))
        for i in range(int(rng.poisson(rate))):
            when = start + timedelta(weeks=week, days=int(i % 5), hours=10 + i)
            repo.commit({f"f{number}.py": f"{number}\n"}, f"feat: change {number} (#{number})", when=when)
            number += 1
        repo.commit({"notes.txt": f"{week}\n"}, f"chore: notes {week}", when=start + timedelta(weeks=week, days=5))
    db = root / "engmetrics.db"
    engine = LocalEngine(Settings(db=db))
    engine.register_repository(repo.path, "prs")
    anyio.run(engine.repos.sync)
    engine.store.close()
    return db


def make(db: Path):  # type: ignore[no-untyped-def]
    engine = LocalEngine(Settings(db=db, sync_max_age_seconds=3600))
    return build_server(Runtime(engine, sync_on_start=False)), engine


async def test_engine_counts_prs_and_commits(pr_store: Path) -> None:
    engine = LocalEngine(Settings(db=pr_store))
    prs = await engine.forecast.forecast_delivery(DeliveryForecastQuery(items=30, repo="prs", simulations=2000))
    assert prs.throughput.item_source == "prs" and prs.calibrated
    assert prs.p50 <= prs.p85 <= prs.p95
    assert {r.method for r in prs.reliability.rows} == {"calibrated", "iid"}
    commits = await engine.forecast.forecast_delivery(
        DeliveryForecastQuery(items=30, repo="prs", item_source="commits", simulations=2000)
    )
    # Every PR commit and one chore a week sit on the first-parent chain.
    assert commits.throughput.items == prs.throughput.items + commits.throughput.weeks
    report = await engine.forecast.forecast_backtest(BacktestQuery(repo="prs", horizons=[4], simulations=300))
    assert {r.method for r in report.rows} == {"calibrated", "bootstrap", "iid"}
    assert report.rows[0].origins > 20
    engine.store.close()


@pytest.mark.parametrize("mode", ["auto", "legacy"])
async def test_tools_over_mcp(pr_store: Path, mode: str) -> None:
    server, engine = make(pr_store)
    async with Client(server, mode=mode) as client:
        result = await client.call_tool("forecast_delivery", {"items": 20, "repo": "prs"})
        assert not result.is_error, result.content
        data = result.structured_content
        assert data["simulations"] == 10000 and data["p85"] >= data["p50"]
        assert len(json.dumps(data)) < 8000  # about 2,000 tokens
        future = (datetime.now(UTC) + timedelta(days=60)).date().isoformat()
        counts = (await client.call_tool("forecast_delivery", {"by_date": future, "repo": "prs"})).structured_content
        assert counts["p50"] >= counts["p85"] >= counts["p95"] >= 0
        backlog = (await client.call_tool("forecast_backlog", {"backlog_size": 68, "repo": "prs"})).structured_content
        w = backlog["weeks_to_empty"]
        assert w["p50"] <= w["p85"] <= w["p95"] and backlog["weekly_throughput_p85"] >= backlog["weekly_throughput_p50"]
    engine.store.close()


@pytest.mark.parametrize(
    ("tool", "args", "needle"),
    [
        ("forecast_delivery", {"items": 0}, "positive"),
        ("forecast_delivery", {"items": -5}, "positive"),
        ("forecast_delivery", {}, "either items"),
        ("forecast_delivery", {"by_date": "2001-01-01"}, "in the past"),
        ("forecast_delivery", {"by_date": "soon"}, "ISO date"),
        ("forecast_delivery", {"items": 5, "repo": "nope"}, "Unknown repository"),
        ("forecast_delivery", {"items": 5, "start_date": "1999-01-01"}, "no throughput"),
        ("forecast_delivery", {"items": "many"}, "`items`"),
        ("forecast_backlog", {}, "backlog_size is required"),
        ("forecast_backlog", {"backlog_size": 10, "item_source": "work_items"}, "no throughput"),
    ],
)
async def test_bad_input_names_the_fix(pr_store: Path, tool: str, args: dict, needle: str) -> None:
    server, engine = make(pr_store)
    async with Client(server, mode="legacy") as client:
        result = await client.call_tool(tool, args)
    assert result.is_error
    text = result.content[0].text
    assert needle in text and "Traceback" not in text
    engine.store.close()


def test_cli_and_work_items(pr_store: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import shutil

    db = tmp_path / "copy.db"
    shutil.copy(pr_store, db)
    now = datetime.now(UTC)
    rows = ["id,completed_at,team,type"]
    for i in range(120):
        rows.append(f"W-{i},{(now - timedelta(days=1 + i * 2)).strftime('%Y-%m-%dT%H:%M:%SZ')},core,story")
    rows += [f"OPEN-{i},,core,story" for i in range(15)] + ["BAD,not-a-date,core,bug", ",2025-01-01,core,bug"]
    items = tmp_path / "items.csv"
    items.write_text("\n".join(rows) + "\n")
    assert cli_main(["forecast", "import-items", str(items), "--db", str(db), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["imported"] == 135 and report["open_items"] == 15 and len(report["errors"]) == 2
    assert cli_main(["forecast", "import-items", str(items), "--db", str(db), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["unchanged"] == 135

    assert cli_main(["forecast", "backlog", "--team", "core", "--items-from", "work_items", "--db", str(db), "--json"]) == 0
    backlog = json.loads(capsys.readouterr().out)
    assert backlog["backlog_size"] == 15 and backlog["backlog_source"] == "work_items"
    assert backlog["throughput"]["item_source"] == "work_items"

    assert cli_main(["forecast", "delivery", "--items", "12", "--repo", "prs", "--db", str(db)]) == 0
    assert "P85" in capsys.readouterr().out
    assert cli_main(["forecast", "backtest", "--repo", "prs", "--horizons", "4", "--simulations", "300",
                     "--db", str(db), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["rows"]
    assert cli_main(["forecast", "delivery", "--items", "0", "--db", str(db)]) == 2
    assert cli_main(["forecast", "backtest", "--horizons", "four", "--db", str(db)]) == 2
