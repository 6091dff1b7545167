"""Choosing and preparing an engine from settings: local (with repositories or the demo) or remote."""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

import anyio.to_thread
import platformdirs

from engmetrics.config import Settings
from engmetrics.engine.engine import Engine
from engmetrics.engine.local import LocalEngine
from engmetrics.errors import Unsupported

log = logging.getLogger(__name__)


def demo_root() -> Path:
    """Where the demo workspace lives: ENGMETRICS_DEMO_DIR, else beside the default store."""
    explicit = os.environ.get("ENGMETRICS_DEMO_DIR")
    if explicit:
        return Path(explicit).expanduser()
    return Path(platformdirs.user_data_dir("engmetrics", appauthor=False)) / "demo"


async def prepare_demo(engine: Engine, root: Path) -> None:
    """Build the demo workspace under ``root`` if missing, register its repositories, sync and import events."""
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
        }))
    info = json.loads(marker.read_text())
    for path in info["repos"]:
        engine.register_repository(path)
    await engine.repos.sync()
    await engine.dora.import_events(info["deployments"], "deployments")
    await engine.dora.import_events(info["incidents"], "incidents")


def make_engine(settings: Settings, *, db: Path | None = None) -> Engine:
    """The engine the settings ask for: remote when ENGMETRICS_API_URL is set, else local (over ``db`` when given)."""
    if settings.api_url:
        from engmetrics.engine.remote import RemoteEngine  # lazy: httpx2 and the providers load in remote mode only

        return RemoteEngine(settings)
    if db is not None:
        settings = settings.model_copy(update={"db": db})
    return LocalEngine(settings)
