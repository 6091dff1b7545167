"""The CLI as a user runs it: a real subprocess, exit codes 0/1/2, --json equal to the tool's model."""

from __future__ import annotations

import json
import re
import os
import subprocess
import sys
from pathlib import Path

import anyio
from mcp import Client

from engmetrics.areas.dora.models import DeploymentQuery
from engmetrics.config import Settings
from engmetrics.engine.local import LocalEngine
from engmetrics.server.app import build_server
from engmetrics.server.runtime import Runtime


def cli(*args: str, db: Path, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ENGMETRICS_")}
    env["ENGMETRICS_DB"] = str(db)
    env["COLUMNS"] = "200"
    return subprocess.run([sys.executable, "-m", "engmetrics.cli.main", *args], capture_output=True, text=True,
                          env=env, cwd=cwd, timeout=120)


async def test_dora_json_is_exactly_the_tool_model(workspace_copy) -> None:
    proc = cli("dora", "--period", "last_90_days", "--repo", "sample", "--json", db=workspace_copy.db)
    assert proc.returncode == 0, proc.stderr
    from_cli = json.loads(proc.stdout)
    engine = LocalEngine(Settings(db=workspace_copy.db))
    async with Client(build_server(Runtime(engine, sync_on_start=False))) as client:
        result = await client.call_tool("get_dora", {"period": "last_90_days", "repo": "sample"})
    engine.store.close()
    from_tool = result.structured_content
    # The windows end "now", a second or so apart; everything computed must agree.
    for key in ("period", "previous_period"):
        from_cli.pop(key), from_tool.pop(key)
    assert from_cli == from_tool


def test_dora_table_is_readable(workspace_copy) -> None:
    proc = cli("dora", "--period", "last_90_days", db=workspace_copy.db)
    assert proc.returncode == 0, proc.stderr
    for label in ("Deployment frequency", "Lead time for changes", "Change failure rate", "Recovery time", "Rework rate"):
        assert label in proc.stdout
    # A weekly sparkline per metric: one block per ISO week the 90 days touch (13 or 14), gaps for empty weeks.
    sparks = re.findall(r"│ ([▁▂▃▄▅▆▇█ ]{13,14}) +│", proc.stdout)
    assert len(sparks) == 5, proc.stdout
    assert any(set(s.strip()) - {"▄"} for s in sparks)  # some metric moved over the weeks


def test_html_report_carries_the_dora_charts(workspace_copy) -> None:
    """`engmetrics report --format html`: the charts between their markers, one tile per DORA metric, and the
    timeline's deployments (failed ones marked) as many as `engmetrics dora --json` counts for the same window."""
    proc = cli("report", "--format", "html", "--period", "last_90_days", db=workspace_copy.db)
    assert proc.returncode == 0, proc.stderr
    html = proc.stdout
    charts = html[html.index("<!-- engmetrics charts -->"):html.index("<!-- /engmetrics charts -->")]
    dora = json.loads(cli("dora", "--period", "last_90_days", "--json", db=workspace_copy.db).stdout)
    assert charts.count('class="tile"') == 5 and charts.count('<svg class="timeline"') == 1
    assert charts.count('<circle class="deploy') == dora["deployment_frequency"]["deployments"] > 0
    assert charts.count('<circle class="deploy failed"') == dora["change_failure_rate"]["failed_deployments"]


def test_sparkline_blocks_by_hand() -> None:
    from engmetrics.cli.core import sparkline

    assert sparkline([0, 1, 2, None, 8]) == "▁▂▃ █"  # (v - 0) / 8 * 8 → block index, the top capped
    assert sparkline([5, 5, None]) == "▄▄ "
    assert sparkline([None, None]) == "" and sparkline([]) == ""
    assert sparkline([10.0, 2.5, 6.25]) == "█▁▅"  # (6.25 - 2.5) / 7.5 * 8 = 4 → ▅


def test_exit_codes(workspace_copy, tmp_path: Path) -> None:
    assert cli("dora", "--bogus-option", db=workspace_copy.db).returncode == 1
    unknown = cli("dora", "--repo", "nope", db=workspace_copy.db)
    assert unknown.returncode == 2 and "Unknown repository 'nope'" in unknown.stderr and unknown.stdout == ""
    bad_period = cli("dora", "--period", "soon", db=workspace_copy.db)
    assert bad_period.returncode == 2 and "Accepted periods" in bad_period.stderr
    not_repo = cli("sync", "--repo", str(tmp_path), db=tmp_path / "x.db")
    assert not_repo.returncode == 2 and "not a git repository" in not_repo.stderr.lower()



def test_bad_configuration_is_a_data_error_naming_the_setting(workspace_copy, tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ENGMETRICS_")}
    bad_number = subprocess.run([sys.executable, "-m", "engmetrics.cli.main", "dora", "--db", str(workspace_copy.db)],
                                capture_output=True, text=True, timeout=120,
                                env={**env, "ENGMETRICS_SYNC_MAX_AGE_SECONDS": "later"})
    assert bad_number.returncode == 2 and "ENGMETRICS_SYNC_MAX_AGE_SECONDS" in bad_number.stderr
    assert "later" not in bad_number.stderr and "Traceback" not in bad_number.stderr
    toml = tmp_path / "engmetrics.toml"
    toml.write_text("tag_pattern = [\n")
    bad_file = subprocess.run([sys.executable, "-m", "engmetrics.cli.main", "dora", "--db", str(workspace_copy.db)],
                              capture_output=True, text=True, timeout=120, env={**env, "ENGMETRICS_CONFIG": str(toml)})
    assert bad_file.returncode == 2 and "is not valid TOML" in bad_file.stderr and "Traceback" not in bad_file.stderr


def test_sync_import_and_deploy_record_end_to_end(sample_workspace, tmp_path: Path) -> None:
    db = tmp_path / "fresh.db"
    synced = cli("sync", "--repo", str(sample_workspace.repo.path), "--json", db=db)
    assert synced.returncode == 0, synced.stderr
    report = json.loads(synced.stdout)
    assert report["repos"][0]["new_commits"] > 100 and report["repos"][0]["deployments"] > 10
    again = json.loads(cli("sync", "--json", db=db).stdout)
    assert again["repos"][0]["new_commits"] == 0 and again["repos"][0]["walked_history"] is False

    imported = cli("import", "incidents", str(sample_workspace.incidents_file), db=db)
    assert imported.returncode == 0, imported.stderr
    assert "2 imported" in imported.stdout

    head = sample_workspace.repo.head()
    recorded = cli("deploy", "record", "--repo", str(sample_workspace.repo.path), "--sha", head, "--at",
                   "2025-01-01T12:00:00Z", "--json", db=db)
    assert recorded.returncode == 0, recorded.stderr
    dep = json.loads(recorded.stdout)
    assert dep["sha"] == head and dep["source"] == "event"
    repos = json.loads(cli("repos", "--json", db=db).stdout)
    assert repos["repositories"][0]["deployment_source"] == "events"

    bad = tmp_path / "bad.csv"
    bad.write_text("repo,sha,deployed_at\nsample,zzz,2025-01-01\n")
    rejected = cli("import", "deployments", str(bad), db=db)
    assert rejected.returncode == 2 and "line 2:" in rejected.stderr


def test_a_repository_can_be_named_at_registration(sample_workspace, tmp_path: Path) -> None:
    db = tmp_path / "named.db"
    proc = cli("sync", "--repo", f"{sample_workspace.repo.path}=storefront", "--json", db=db)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["repos"][0]["repo"] == "storefront"
    repos = json.loads(cli("repos", "--json", db=db).stdout)["repositories"]
    assert [(r["name"], r["path"]) for r in repos] == [("storefront", str(sample_workspace.repo.path.resolve()))]


def test_html_report_charts_count_what_dora_counts_on_the_demo(demo_store) -> None:
    """On the demo (payments-api records failed deploy attempts, status failure): the timeline shows only the
    successful production deployments, as many as get_dora counts, and its heading says that count."""
    proc = cli("report", "--format", "html", "--period", "last_90_days", db=demo_store)
    assert proc.returncode == 0, proc.stderr
    charts = proc.stdout[proc.stdout.index("<!-- engmetrics charts -->"):]
    dora = json.loads(cli("dora", "--period", "last_90_days", "--json", db=demo_store).stdout)
    engine = LocalEngine(Settings(db=demo_store))
    listed = anyio.run(engine.dora.list_deployments, DeploymentQuery(
        from_=dora["period"]["from"], to=dora["period"]["to"], environment="production", limit=100))
    engine.store.close()
    attempts = [d for d in listed.items if d.status == "failure"]
    assert attempts, "the demo should hold failed deploy attempts in the window"
    counted = dora["deployment_frequency"]["deployments"]
    assert len(listed.items) == counted + len(attempts) < 100
    assert charts.count('<circle class="deploy') == counted
    assert f"<h2>Deployments ({counted})</h2>" in charts
