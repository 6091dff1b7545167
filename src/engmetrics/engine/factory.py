"""Choosing and preparing an engine from settings: local (with repositories or the demo) or remote."""

from __future__ import annotations

import json
import os
from pathlib import Path

import anyio.to_thread
import platformdirs
from pydantic import BaseModel

from engmetrics.config import Settings
from engmetrics.engine.engine import Engine
from engmetrics.engine.local import LocalEngine
from engmetrics.errors import Unsupported


class DemoMarker(BaseModel):
    """``workspace.json`` in the demo workspace: where `build_demo` put its repositories and event files."""

    repos: list[str]
    deployments: str
    incidents: str
    ai_commits: str | None = None  # absent in workspaces built before the demo had AI tracking data
    ai_changes: str | None = None


def demo_root() -> Path:
    """Where the demo workspace lives: ENGMETRICS_DEMO_DIR, else beside the default store."""
    explicit = os.environ.get("ENGMETRICS_DEMO_DIR")
    if explicit:
        return Path(explicit).expanduser()
    return Path(platformdirs.user_data_dir("engmetrics", appauthor=False)) / "demo"


async def prepare_demo(engine: Engine, root: Path) -> None:
    """Build the demo workspace under ``root`` if missing, register its repositories, sync and import events and
    AI tracking data."""
    from engmetrics.demo.workspace import build_demo  # lazy: the demo builder is needed only for --demo

    if not isinstance(engine, LocalEngine):
        raise Unsupported("The demo workspace needs a local store: unset ENGMETRICS_API_URL to use it.")
    marker = root / "workspace.json"
    if not marker.exists():
        ws = await anyio.to_thread.run_sync(lambda: build_demo(root))
        marker.write_text(json.dumps({
            "repos": [str(p) for p in ws.repos],
            "deployments": str(ws.deployments_file),
            "incidents": str(ws.incidents_file),
            "ai_commits": str(ws.ai_commits_file),
            "ai_changes": str(ws.ai_changes_file),
        }))
    info = DemoMarker.model_validate_json(marker.read_text())
    for path in info.repos:
        engine.register_repository(path)
    await engine.repos.sync()
    await engine.dora.import_events(info.deployments, "deployments")
    await engine.dora.import_events(info.incidents, "incidents")
    if info.ai_commits:
        await engine.ai.import_tracking(info.ai_commits, "ai-commits")
    if info.ai_changes:
        await engine.ai.import_tracking(info.ai_changes, "ai-changes")


def make_engine(settings: Settings, *, db: Path | None = None) -> Engine:
    """The engine the settings ask for: remote when ENGMETRICS_API_URL is set, else local (over ``db`` when given)."""
    if settings.api_url:
        from engmetrics.engine.remote.engine import RemoteEngine  # lazy: httpx2 and the providers in remote mode only

        return RemoteEngine(settings)
    if db is not None:
        settings = settings.model_copy(update={"db": db})
    return LocalEngine(settings)
