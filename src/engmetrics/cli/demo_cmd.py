"""`engmetrics demo`: build the demo workspace, sync it, and show what engmetrics answers."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from engmetrics.areas.ai.models import AiImpactQuery
from engmetrics.cli.common import JsonOpt, err, out, print_json, run
from engmetrics.cli.core import render_dora
from engmetrics.areas.dora.models import DoraQuery

if TYPE_CHECKING:
    from engmetrics.areas.ai.models import AiImpact
    from engmetrics.engine.engine import Engine
    from engmetrics.areas.dora.models import DoraReport
    from engmetrics.areas.repos.models import RepositoryList


def demo_command(
    dir_: Annotated[Path | None, typer.Option("--dir", help="Where to build it (default: the user data directory)")] = None,
    fresh: Annotated[bool, typer.Option("--fresh", help="Delete and rebuild the workspace")] = False,
    json_: JsonOpt = False,
) -> None:
    """Build a realistic demo workspace (git history, releases, deployments, incidents), offline and deterministic,
    then print its DORA summary and the snippet that points Claude Desktop at it."""
    from engmetrics.config import load_settings  # lazy: settings load only when a command runs (CLI start-up)
    from engmetrics.engine.factory import demo_root, make_engine, prepare_demo  # lazy: as above

    root = (dir_ or demo_root()).expanduser().resolve()
    if fresh and root.exists():
        shutil.rmtree(root)
    root.mkdir(parents=True, exist_ok=True)
    engine: Engine = make_engine(load_settings(), db=root / "engmetrics.db")

    async def go() -> tuple[RepositoryList, DoraReport, AiImpact]:
        with err.status("building and syncing the demo workspace…"):
            await prepare_demo(engine, root)
        repos = await engine.repos.list_repositories()
        dora = await engine.dora.get_dora(DoraQuery(period="last_90_days"))
        ai = await engine.ai.get_ai_impact(AiImpactQuery(period="last_90_days"))
        return repos, dora, ai

    repos, dora, ai = run(go)
    if json_:
        print_json({"workspace": str(root), "repositories": [r.name for r in repos.repositories],
                    "dora": dora.model_dump(mode="json", by_alias=True),
                    "ai": ai.model_dump(mode="json", by_alias=True)})
        return
    out.print(f"[bold]engmetrics demo workspace[/] at {root}")
    for r in repos.repositories:
        out.print(f"  • {r.name}: {r.commits} commits, {r.deployments} deployments ({r.deployment_source}), "
                  f"{r.incidents} incidents")
    render_dora(dora)
    share = "unknown" if ai.ai_share_of_lines_percent is None else f"{ai.ai_share_of_lines_percent:g}%"
    out.print(f"AI-assisted code (last 90 days): {ai.ai_assisted_commits} of {ai.commits} commits "
              f"({ai.ai_assisted_commits_percent:g}%), AI share of lines {share}, {ai.adoption.ai_people} of "
              f"{ai.adoption.people} people — `engmetrics ai` compares their stability", highlight=False)
    server: dict[str, object] = {"command": engmetrics_command(), "args": ["serve", "--demo"]}
    if root != demo_root().expanduser().resolve():
        server["env"] = {"ENGMETRICS_DEMO_DIR": str(root)}
    snippet = {"mcpServers": {"engmetrics-demo": server}}
    out.print("\nAdd this to Claude Desktop's claude_desktop_config.json (or your client's MCP config):")
    out.print_json(json.dumps(snippet))
    out.print("Then ask: [italic]\"How are our DORA metrics this quarter?\"[/]")


def engmetrics_command() -> str:
    """The absolute path of the `engmetrics` executable running now (a client may not share this PATH)."""
    here = Path(sys.argv[0])
    if here.name == "engmetrics" and here.exists():
        return str(here.resolve())
    found = shutil.which("engmetrics") or shutil.which("engmetrics", path=str(Path(sys.executable).parent))
    return str(Path(found).resolve()) if found else "engmetrics"


def register(app: typer.Typer) -> None:
    """Add `demo`."""
    app.command("demo")(demo_command)
