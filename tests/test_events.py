"""Deployment and incident events: CSV/JSON imports with line-numbered errors, idempotence, deploy record."""

from __future__ import annotations

import json
from pathlib import Path

from engmetrics.areas.dora.models import DeploymentQuery, DoraQuery, IncidentQuery


async def test_import_deployments_csv_reports_bad_rows_and_keeps_good_ones(local_engine, workspace_copy, tmp_path: Path) -> None:
    shas = workspace_copy.repo.log_shas("main")
    f = tmp_path / "deploys.csv"
    f.write_text(
        "id,repo,sha,environment,status,deployed_at\n"
        f"d1,sample,{shas[0]},production,success,{workspace_copy.now.strftime('%Y-%m-%dT%H:%M:%SZ')}\n"
        f"d2,sample,{shas[1][:10]},production,success,2020-13-01\n"
        f"d3,nowhere,{shas[2]},production,success,2025-01-01T00:00:00Z\n"
        f"d4,sample,{shas[3]},production,exploded,2025-01-01T00:00:00Z\n"
        f"d5,sample,not-a-sha,production,success,2025-01-01T00:00:00Z\n"
        f"d6,sample,{shas[5][:12]},staging,success,2025-01-02T00:00:00Z\n"
    )
    report = await local_engine.dora.import_events(f, "deployments")
    assert report.imported == 2
    assert len(report.errors) == 4
    assert report.errors[0].startswith("line 3:") and "deployed_at" in report.errors[0]
    assert report.errors[1].startswith("line 4:") and "Unknown repository 'nowhere'" in report.errors[1]
    assert report.errors[2].startswith("line 5:") and "status" in report.errors[2]
    assert report.errors[3].startswith("line 6:") and "not a commit hash" in report.errors[3]
    again = await local_engine.dora.import_events(f, "deployments")
    assert again.imported == 0 and again.unchanged == 2
    # Explicit events now take precedence over tags for this repository.
    page = await local_engine.dora.list_deployments(DeploymentQuery(from_="2024-12-31", to="now", limit=100))
    assert {d.source for d in page.items} == {"event"}
    staging = [d for d in page.items if d.environment == "staging"]
    assert staging and staging[0].sha == shas[5]  # abbreviated sha expanded


async def test_import_incidents_json_is_idempotent_and_attributes(local_engine, tmp_path: Path) -> None:
    f = tmp_path / "incidents.json"
    f.write_text(json.dumps([
        {"id": "INC-9", "title": "API down", "severity": "sev1", "started_at": "2025-01-05T10:00:00Z",
         "resolved_at": "2025-01-05T12:30:00Z", "repo": "sample"},
        {"id": "INC-10", "title": "", "started_at": "2025-01-05T10:00:00Z"},
        {"id": "INC-11", "title": "Backwards", "started_at": "2025-01-05T10:00:00Z", "resolved_at": "2025-01-04T10:00:00Z"},
        "just a string",
    ]))
    report = await local_engine.dora.import_events(f, "incidents")
    assert report.imported == 1
    assert [e.split(":")[0] for e in report.errors] == ["record 2", "record 3", "record 4"]
    again = await local_engine.dora.import_events(f, "incidents")
    assert again.imported == 0 and again.unchanged == 1
    page = await local_engine.dora.list_incidents(IncidentQuery(from_="2025-01-01", to="2025-01-31"))
    assert [i.id for i in page.items] == ["INC-9"]
    assert page.items[0].duration_hours == 2.5


async def test_corrupt_files_are_data_errors(local_engine, tmp_path: Path) -> None:
    import pytest

    from engmetrics.errors import DataError

    bad = tmp_path / "x.json"
    bad.write_text("{not json")
    with pytest.raises(DataError, match="not valid JSON"):
        await local_engine.dora.import_events(bad, "incidents")
    with pytest.raises(DataError, match="does not exist"):
        await local_engine.dora.import_events(tmp_path / "missing.csv", "deployments")
    weird = tmp_path / "x.xlsx"
    weird.write_bytes(b"PK")
    with pytest.raises(DataError, match="unknown file type"):
        await local_engine.dora.import_events(weird, "deployments")


async def test_deploy_record_makes_events_authoritative(local_engine, workspace_copy) -> None:
    head = workspace_copy.repo.head()
    before = await local_engine.dora.get_dora(DoraQuery(period="last_90_days"))
    assert before.deployment_frequency.deployments > 5
    from datetime import timedelta

    at = (workspace_copy.now - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    dep = await local_engine.dora.record_deployment("sample", head[:8], environment="production", at=at)
    assert dep.sha == head and dep.source == "event" and dep.status == "success"
    after = await local_engine.dora.get_dora(DoraQuery(period="last_90_days"))
    assert after.deployment_frequency.deployments == 1
    # Recording the same event again changes nothing.
    again = await local_engine.dora.record_deployment("sample", head, at=dep.deployed_at)
    assert again.id == dep.id
