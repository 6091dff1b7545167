"""`engmetrics api` (the REST API over the local engine) and `engmetrics api-key create|list|revoke`."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from pydantic import BaseModel
from rich.table import Table

from engmetrics.api.limits import UPSHOT_PLANS, PlanLimits
from engmetrics.apikeys import SECRET_PREFIX
from engmetrics.cli.common import DatabaseUrlOpt, DbOpt, JsonOpt, local_engine, out, print_json
from engmetrics.errors import InvalidInput
from engmetrics.logsetup import setup_logging
from engmetrics.periods import iso
from engmetrics.served import choose_served

if TYPE_CHECKING:
    from starlette.types import ASGIApp

    from engmetrics.engine.local import LocalEngine

key_app = typer.Typer(help="API keys of the REST API: create (secret shown once), list, revoke.", no_args_is_help=True)


def _parse_limits(values: list[str]) -> dict[str, PlanLimits]:
    plans = dict(UPSHOT_PLANS)
    for value in values:
        try:
            plan, _, spec = value.partition("=")
            per_minute, _, per_day = spec.partition("/")
            plans[plan.strip()] = PlanLimits(int(per_minute), int(per_day))
        except ValueError:
            raise InvalidInput(f"--limits {value!r}: write PLAN=PER_MINUTE/PER_DAY, e.g. pro=120/10000.") from None
    return plans


def api_command(
    host: Annotated[str, typer.Option("--host", help="Bind address")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="Port")] = 8080,
    db: DbOpt = None,
    database_url: DatabaseUrlOpt = None,
    repo: Annotated[list[str] | None, typer.Option(
        "--repo", help="Repository path to register and serve, the only ones answered for (repeatable); default: "
        "ENGMETRICS_REPOS, else every repository in the store")] = None,
    sync_every: Annotated[float, typer.Option("--sync-every", help="Seconds between background syncs; 0: never")] = 300.0,
    limits: Annotated[list[str] | None, typer.Option("--limits", help="Plan limits PLAN=PER_MINUTE/PER_DAY (repeatable)")] = None,
    cache_seconds: Annotated[float, typer.Option("--cache-seconds", help="Identical GETs within this many seconds share one answer; 0: off")] = 2.0,
    workers: Annotated[int, typer.Option("--workers", min=1, help="Worker processes serving the port (more than one "
                                         "needs a PostgreSQL store: --database-url)")] = 1,
    log_level: Annotated[str, typer.Option("--log-level", help="DEBUG, INFO, WARNING, ERROR (stderr)")] = "INFO",
) -> None:
    """Serve the REST API (/v1, the Upshot contract) over the local store. Keys: `engmetrics api-key create`."""
    import uvicorn  # lazy: the HTTP server loads only for `engmetrics api`

    setup_logging(log_level)
    engine = local_engine(db, database_url)
    served = choose_served(engine.settings, repo or [], work_tree=False)  # --repo, else ENGMETRICS_REPOS, else all
    paths = [] if served.whole_store else [str(engine.register_repository(path).path) for path in served.paths]
    spec = WorkerSpec(db=str(engine.settings.db), repos=paths, limits=limits or [], sync_every=sync_every,
                      cache_seconds=cache_seconds, log_level=log_level)
    if workers == 1:
        uvicorn.Server(uvicorn.Config(_build(engine, spec), host=host, port=port, log_level=log_level.lower(),
                                      access_log=False, lifespan="on", server_header=False)).run()
        return
    if not engine.shares_store:
        raise InvalidInput("--workers needs a PostgreSQL store, which the workers share (keys, rate limits, "
                           "idempotency, sync jobs): pass --database-url postgresql://… or set ENGMETRICS_DATABASE_URL, "
                           "or serve with one worker.")
    url = engine.settings.database_url
    engine.store.close()
    os.environ[WORKER_ENV] = spec.model_dump_json()
    if url is not None:
        os.environ["ENGMETRICS_DATABASE_URL"] = url.get_secret_value()  # the workers' store (never logged)
    uvicorn.run("engmetrics.cli.api:worker_app", factory=True, workers=workers, host=host, port=port,
                log_level=log_level.lower(), access_log=False, lifespan="on", server_header=False)


WORKER_ENV = "ENGMETRICS_API_WORKER"
"""The environment variable carrying a `WorkerSpec` from `engmetrics api --workers N` to its worker processes."""


class WorkerSpec(BaseModel):
    """What each API worker process serves: the store (with ENGMETRICS_DATABASE_URL), the served repositories, the
    limits, the background sync and cache periods (seconds)."""

    db: str
    repos: list[str]
    limits: list[str]
    sync_every: float
    cache_seconds: float
    log_level: str


def _build(engine: LocalEngine, spec: WorkerSpec) -> ASGIApp:
    from engmetrics.api.app import ApiConfig, build_api  # lazy: the REST app (starlette) loads only here

    if spec.repos:
        engine.serve_only([engine.register_repository(path) for path in spec.repos])
    config = ApiConfig(plans=_parse_limits(spec.limits), sync_every_seconds=spec.sync_every or None,
                       cache_seconds=spec.cache_seconds)
    return build_api(engine, config)


def worker_app() -> ASGIApp:
    """The ASGI app of one worker process of `engmetrics api --workers N` (uvicorn calls it in each worker)."""
    spec = WorkerSpec.model_validate_json(os.environ[WORKER_ENV])
    setup_logging(spec.log_level)
    return _build(local_engine(Path(spec.db)), spec)


@key_app.command("create")
def create(
    name: Annotated[str, typer.Option("--name", help="What the key is for, e.g. 'ci' or 'alice-laptop'")],
    scopes: Annotated[list[str] | None, typer.Option("--scopes", help="read, write, *, or RESOURCE:read|write (repeatable)")] = None,
    plan: Annotated[str, typer.Option("--plan", help="Rate-limit plan: free, pro or enterprise")] = "free",
    db: DbOpt = None,
    database_url: DatabaseUrlOpt = None,
    json_: JsonOpt = False,
) -> None:
    """Create a key. Its secret is printed once and stored only as a hash."""
    from engmetrics.api.app import API_VERSION  # lazy: the REST app (starlette) loads only when needed

    created = local_engine(db, database_url).keys.create(name, scopes, plan, api_version=API_VERSION)
    body = {"id": created.key.id, "key": created.secret, "name": created.key.name, "scopes": list(created.key.scopes),
            "plan": created.key.plan}
    if json_:
        print_json(body)
        return
    out.print(f"Created {created.key.id} ({created.key.name}, plan {created.key.plan}, scopes {', '.join(created.key.scopes)}).")
    out.print("Secret (shown once; store it now, e.g. as ENGMETRICS_API_KEY):", highlight=False)
    out.print(created.secret, highlight=False)


@key_app.command("list")
def list_(db: DbOpt = None, database_url: DatabaseUrlOpt = None, json_: JsonOpt = False) -> None:
    """Every key: id, name, scopes, plan, created/last used/revoked (never a secret)."""
    keys = local_engine(db, database_url).keys.list()
    if json_:
        print_json([k.public() for k in keys])
        return
    table = Table(title="API keys")
    for col in ("id", "name", "key", "scopes", "plan", "created", "last used", "revoked"):
        table.add_column(col)
    for k in keys:
        table.add_row(k.id, k.name, f"{SECRET_PREFIX}…{k.hint}", ", ".join(k.scopes), k.plan, iso(k.created_at) or "",
                      iso(k.last_used_at) or "", iso(k.revoked_at) or "")
    out.print(table)


@key_app.command("revoke")
def revoke(key_id: Annotated[str, typer.Argument(help="The key's id (key_…)")], db: DbOpt = None,
           database_url: DatabaseUrlOpt = None, json_: JsonOpt = False) -> None:
    """Revoke a key: requests with it answer 401 from now on."""
    key = local_engine(db, database_url).keys.revoke(key_id)
    if json_:
        print_json(key.public())
    else:
        out.print(f"Revoked {key.id} ({key.name}).")


def register(app: typer.Typer) -> None:
    """Add `api` and `api-key`."""
    app.command("api")(api_command)
    app.add_typer(key_app, name="api-key")
