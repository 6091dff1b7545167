"""`engmetrics api` (the REST API over the local engine) and `engmetrics api-key create|list|revoke`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from engmetrics.cli.common import DbOpt, JsonOpt, out, print_json, setup_logging

key_app = typer.Typer(help="API keys of the REST API: create (secret shown once), list, revoke.", no_args_is_help=True)


def _parse_limits(values: list[str]) -> dict[str, object]:
    from engmetrics.api.limits import UPSHOT_PLANS, PlanLimits
    from engmetrics.errors import InvalidInput

    plans = dict(UPSHOT_PLANS)
    for value in values:
        try:
            plan, _, spec = value.partition("=")
            per_minute, _, per_day = spec.partition("/")
            plans[plan.strip()] = PlanLimits(int(per_minute), int(per_day))
        except ValueError:
            raise InvalidInput(f"--limits {value!r}: write PLAN=PER_MINUTE/PER_DAY, e.g. pro=120/10000.") from None
    return plans  # type: ignore[return-value]


def api_command(
    host: Annotated[str, typer.Option("--host", help="Bind address")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="Port")] = 8080,
    db: DbOpt = None,
    repo: Annotated[list[str] | None, typer.Option(
        "--repo", help="Repository path to register and serve, the only ones answered for (repeatable); default: "
        "ENGMETRICS_REPOS, else every repository in the store")] = None,
    sync_every: Annotated[float, typer.Option("--sync-every", help="Seconds between background syncs; 0: never")] = 300.0,
    limits: Annotated[list[str] | None, typer.Option("--limits", help="Plan limits PLAN=PER_MINUTE/PER_DAY (repeatable)")] = None,
    cache_seconds: Annotated[float, typer.Option("--cache-seconds", help="Identical GETs within this many seconds share one answer; 0: off")] = 2.0,
    log_level: Annotated[str, typer.Option("--log-level", help="DEBUG, INFO, WARNING, ERROR (stderr)")] = "INFO",
) -> None:
    """Serve the REST API (/v1, the Upshot contract) over the local store. Keys: `engmetrics api-key create`."""
    import uvicorn

    from engmetrics.api.app import ApiConfig, build_api
    from engmetrics.cli.common import local_engine

    from engmetrics.served import choose_served

    setup_logging(log_level)
    engine = local_engine(db)
    served = choose_served(engine.settings, repo or [], work_tree=False)  # --repo, else ENGMETRICS_REPOS, else all
    if not served.whole_store:
        engine.serve_only([engine.register_repository(path) for path in served.paths])
    config = ApiConfig(plans=_parse_limits(limits or []), sync_every_seconds=sync_every or None,  # type: ignore[arg-type]
                       cache_seconds=cache_seconds)
    app = build_api(engine, config)
    uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_level=log_level.lower(), access_log=False,
                                  lifespan="on", server_header=False)).run()


def _store(db: Path | None):  # type: ignore[no-untyped-def]
    from engmetrics.cli.common import settings
    from engmetrics.store.db import open_store

    return open_store(settings(db).db)


@key_app.command("create")
def create(
    name: Annotated[str, typer.Option("--name", help="What the key is for, e.g. 'ci' or 'alice-laptop'")],
    scopes: Annotated[list[str] | None, typer.Option("--scopes", help="read, write, *, or RESOURCE:read|write (repeatable)")] = None,
    plan: Annotated[str, typer.Option("--plan", help="Rate-limit plan: free, pro or enterprise")] = "free",
    db: DbOpt = None,
    json_: JsonOpt = False,
) -> None:
    """Create a key. Its secret is printed once and stored only as a hash."""
    from engmetrics.api.app import API_VERSION
    from engmetrics.api.keys import create_key

    created = create_key(_store(db), name, scopes, plan, api_version=API_VERSION)
    body = {"id": created.key.id, "key": created.secret, "name": created.key.name, "scopes": list(created.key.scopes),
            "plan": created.key.plan}
    if json_:
        print_json(body)
        return
    out.print(f"Created {created.key.id} ({created.key.name}, plan {created.key.plan}, scopes {', '.join(created.key.scopes)}).")
    out.print("Secret (shown once; store it now, e.g. as ENGMETRICS_API_KEY):", highlight=False)
    out.print(created.secret, highlight=False)


@key_app.command("list")
def list_(db: DbOpt = None, json_: JsonOpt = False) -> None:
    """Every key: id, name, scopes, plan, created/last used/revoked (never a secret)."""
    from engmetrics.api.keys import list_keys

    keys = list_keys(_store(db))
    if json_:
        print_json([k.public() for k in keys])
        return
    from engmetrics.periods import iso

    table = Table(title="API keys")
    for col in ("id", "name", "key", "scopes", "plan", "created", "last used", "revoked"):
        table.add_column(col)
    for k in keys:
        table.add_row(k.id, k.name, f"emk_…{k.hint}", ", ".join(k.scopes), k.plan, iso(k.created_at) or "",
                      iso(k.last_used_at) or "", iso(k.revoked_at) or "")
    out.print(table)


@key_app.command("revoke")
def revoke(key_id: Annotated[str, typer.Argument(help="The key's id (key_…)")], db: DbOpt = None, json_: JsonOpt = False) -> None:
    """Revoke a key: requests with it answer 401 from now on."""
    from engmetrics.api.keys import revoke_key

    key = revoke_key(_store(db), key_id)
    if json_:
        print_json(key.public())
    else:
        out.print(f"Revoked {key.id} ({key.name}).")


def register(app: typer.Typer) -> None:
    """Add `api` and `api-key`."""
    app.command("api")(api_command)
    app.add_typer(key_app, name="api-key")
