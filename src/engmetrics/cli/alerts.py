"""`engmetrics alerts create|list|delete|run`: alerts on metrics, their states, and evaluating them on demand."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from engmetrics.areas.alerts.models import AlertCreate, AlertId, AlertRun
from engmetrics.cli.common import DbOpt, JsonOpt, RepoOpt, TeamOpt, described, local_engine, out, print_json, run
from engmetrics.queries import validate

alerts_app = typer.Typer(help="Alerts on metrics: create, list, delete, and evaluate them now (run).",
                         no_args_is_help=True)


@alerts_app.command("create")
def create(
    metric: Annotated[str, typer.Option("--metric", help=described(AlertCreate, "metric"))],
    operator: Annotated[str, typer.Option("--operator", help="gt, gte, lt, lte or change_pct (percent change vs the "
                                          "previous window)")],
    threshold: Annotated[float, typer.Option("--threshold", help="In the metric's unit (percent for change_pct)")],
    window: Annotated[str, typer.Option("--window", help=described(AlertCreate, "window"))] = "7d",
    severity: Annotated[str, typer.Option("--severity", help=described(AlertCreate, "severity"))] = "medium",
    webhook: Annotated[list[str] | None, typer.Option("--webhook", help="Webhook URL notified on each transition "
                                                      "(repeatable)")] = None,
    secret: Annotated[str | None, typer.Option("--secret", envvar="ENGMETRICS_WEBHOOK_SECRET", show_envvar=True,
                                               help="Signing secret of the webhooks (better from the environment "
                                               "variable than on the command line); stored encrypted")] = None,
    repo: RepoOpt = None, team: TeamOpt = None, db: DbOpt = None, json_: JsonOpt = False,
) -> None:
    """Create an alert (the same definition again answers the existing one)."""
    q = validate(AlertCreate, metric=metric, condition={"operator": operator, "threshold": threshold}, window=window,
                 severity=severity, repo=repo, team=team,
                 actions=[{"type": "notify_webhook", "url": u, "secret": secret} for u in webhook or []])
    engine = local_engine(db)
    alert = run(lambda: engine.alerts.create_alert(q))
    if json_:
        print_json(alert)
        return
    out.print(f"Alert {alert.id}: {alert.metric} {alert.condition.operator} {alert.condition.threshold:g} over "
              f"{alert.window} ({alert.severity}), state {alert.state}.", highlight=False)


@alerts_app.command("list")
def list_(db: DbOpt = None, json_: JsonOpt = False) -> None:
    """Every alert with its state and last value (webhook secrets are never shown)."""
    engine = local_engine(db)
    alerts = run(engine.alerts.list_alerts)
    if json_:
        print_json(alerts)
        return
    table = Table(title="alerts")
    for col in ("id", "metric", "condition", "window", "severity", "scope", "state", "last value", "evaluated",
                "webhooks"):
        table.add_column(col)
    for a in alerts.alerts:
        table.add_row(a.id, a.metric, f"{a.condition.operator} {a.condition.threshold:g}", a.window, a.severity,
                      a.repo or (f"team {a.team}" if a.team else "all"), a.state,
                      "" if a.last_value is None else f"{a.last_value:g} {a.unit or ''}",
                      (a.last_evaluated_at or "never")[:16], ", ".join(w.url for w in a.actions))
    out.print(table)


@alerts_app.command("delete")
def delete(alert_id: Annotated[str, typer.Argument(help=described(AlertId, "alert_id"))], db: DbOpt = None,
           json_: JsonOpt = False) -> None:
    """Delete an alert (its queued notifications too)."""
    engine = local_engine(db)
    result = run(lambda: engine.alerts.delete_alert(AlertId(alert_id=alert_id)))
    if json_:
        print_json(result)
    else:
        out.print(f"Deleted {result.alert_id}.")


@alerts_app.command("run")
def run_command(repo: RepoOpt = None, db: DbOpt = None, json_: JsonOpt = False) -> None:
    """Evaluate every alert now (or those about --repo) and deliver their notifications, waiting out retries."""
    engine = local_engine(db)
    result: AlertRun = run(lambda: engine.alerts.evaluate_alerts(repo, deliver=True))
    if json_:
        print_json(result)
        return
    out.print(f"{result.evaluated} alerts evaluated, {len(result.transitions)} changed state; notifications: "
              f"{result.delivered} delivered, {result.pending} pending, {result.failed} failed.", highlight=False)
    for t in result.transitions:
        out.print(f"  {t.alert_id} ({t.metric}): {t.from_state} → {t.to_state} at {t.value}", highlight=False)
    if result.no_data:
        out.print(f"  no value in the window: {', '.join(result.no_data)}", highlight=False)


def register(app: typer.Typer) -> None:
    """Add `alerts`."""
    app.add_typer(alerts_app, name="alerts")
