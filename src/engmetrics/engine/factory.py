"""Choosing and preparing an engine from settings: local (with repositories or the demo) or remote."""

from __future__ import annotations

import logging
from pathlib import Path

from engmetrics.config import Settings

log = logging.getLogger(__name__)


def demo_root() -> Path:
    """Where the demo workspace lives: ENGMETRICS_DEMO_DIR, else beside the default store."""
    import os

    import platformdirs

    explicit = os.environ.get("ENGMETRICS_DEMO_DIR")
    if explicit:
        return Path(explicit).expanduser()
    return Path(platformdirs.user_data_dir("engmetrics", appauthor=False)) / "demo"


async def prepare_demo(engine, root: Path) -> None:  # type: ignore[no-untyped-def]
    """Build the demo workspace under ``root`` if missing, register its repositories, sync and import events."""
    import json

    import anyio.to_thread

    from engmetrics.demo.workspace import build_demo

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


def make_engine(settings: Settings, *, db: Path | None = None):  # type: ignore[no-untyped-def]
    """The engine the settings ask for: remote when ENGMETRICS_API_URL is set, else local."""
    if settings.api_url:
        from engmetrics.engine.remote import RemoteEngine

        return RemoteEngine(settings)
    from engmetrics.engine.local import LocalEngine

    if db is not None:
        settings = settings.model_copy(update={"db": db})
    return LocalEngine(settings)
