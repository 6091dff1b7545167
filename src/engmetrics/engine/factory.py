"""Choosing and preparing an engine from settings: local (over the store, with repositories or the demo) or remote
(ENGMETRICS_API_URL)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, overload

import anyio.to_thread
import platformdirs
from pydantic import BaseModel

from engmetrics.config import Settings

if TYPE_CHECKING:  # the engines are imported where made: only the one the settings ask for is loaded
    from engmetrics.engine.local import LocalEngine
    from engmetrics.engine.remote.engine import RemoteEngine


class DemoMarker(BaseModel):
    """``workspace.json`` in the demo workspace: where `build_demo` put its repositories and event files."""

    repos: list[str]
    deployments: str
    incidents: str


def demo_root() -> Path:
    """Where the demo workspace lives: ENGMETRICS_DEMO_DIR, else beside the default store."""
    explicit = os.environ.get("ENGMETRICS_DEMO_DIR")
    if explicit:
        return Path(explicit).expanduser()
    return Path(platformdirs.user_data_dir("engmetrics", appauthor=False)) / "demo"


async def prepare_demo(engine: LocalEngine, root: Path) -> None:
    """Build the demo workspace under ``root`` if missing, register its repositories, sync and import events."""
    from engmetrics.demo.workspace import build_demo  # lazy: the demo builder is only needed with --demo / `engmetrics demo`

    marker = root / "workspace.json"
    if not marker.exists():
        ws = await anyio.to_thread.run_sync(lambda: build_demo(root))
        marker.write_text(json.dumps({
            "repos": [str(p) for p in ws.repos],
            "deployments": str(ws.deployments_file),
            "incidents": str(ws.incidents_file),
        }))
    info = DemoMarker.model_validate_json(marker.read_text())
    for path in info.repos:
        engine.register_repository(path)
    await engine.repos.sync()
    await engine.dora.import_events(info.deployments, "deployments")
    await engine.dora.import_events(info.incidents, "incidents")


@overload
def make_engine(settings: Settings, *, db: Path) -> LocalEngine: ...


@overload
def make_engine(settings: Settings, *, db: None = None) -> LocalEngine | RemoteEngine: ...


def make_engine(settings: Settings, *, db: Path | None = None) -> LocalEngine | RemoteEngine:
    """The engine the settings ask for: remote when ENGMETRICS_API_URL is set, else local. With ``db`` (the demo's
    store) a local engine over that store, whatever the settings."""
    if settings.api_url and db is None:
        from engmetrics.engine.remote.engine import RemoteEngine  # lazy: httpx2 and the providers only for remote

        return RemoteEngine(settings)
    from engmetrics.engine.local import LocalEngine  # lazy: the store and the areas' services only for local

    return LocalEngine(settings if db is None else settings.model_copy(update={"db": db}))
