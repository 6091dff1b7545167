"""`engmetrics risk score` and `engmetrics risk evaluate`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from engmetrics.areas.risk.models import RiskEvaluationQuery, RiskScoreQuery
from engmetrics.cli.common import DbOpt, JsonOpt, described, err, local_engine, out, print_json, run
from engmetrics.errors import EngmetricsError
from engmetrics.queries import validate
from engmetrics.validation import path_is

if TYPE_CHECKING:
    from engmetrics.engine.local import LocalEngine

risk_app = typer.Typer(help="Change risk learned from the repository's own history.", no_args_is_help=True)


@risk_app.command("score")
def score_command(
    repo: Annotated[str | None, typer.Option("--repo", help=described(RiskScoreQuery, "repo"))] = None,
    base: Annotated[str | None, typer.Option("--base", help=described(RiskScoreQuery, "base"))] = None,
    head: Annotated[str | None, typer.Option("--head", help=described(RiskScoreQuery, "head"))] = None,
    commit: Annotated[str | None, typer.Option("--commit", help=described(RiskScoreQuery, "commit"))] = None,
    pr: Annotated[int | None, typer.Option("--pr", help=described(RiskScoreQuery, "pr_number"))] = None,
    db: DbOpt = None,
    json_: JsonOpt = False,
) -> None:
    """Score the current branch (or --base/--head, --commit, --pr) 0–100 with every signal explained."""
    from engmetrics.areas.risk.metrics.wording import LABELS  # lazy: it loads numpy, which other commands skip

    q = validate(RiskScoreQuery, repo=repo, base=base, head=head, commit=commit, pr_number=pr)
    engine: LocalEngine = local_engine(db)
    if repo and ("/" in repo or repo.startswith(".")):
        try:
            engine.register_repository(repo)
        except EngmetricsError:  # a name, not a path: resolved by the engine
            pass
    if not any(r.commits for r in run(engine.repos.list_repositories).repositories):
        run(lambda: engine.repos.sync(None))
    result = run(lambda: engine.risk.score_pr_risk(q))
    if json_:
        print_json(result)
        return
    out.print(f"[bold]{result.repo}[/] {result.target}: risk [bold]{result.risk_score}[/]/100 ({result.tier}), "
              f"p={result.probability:.2f}")
    out.print(result.recommendation)
    table = Table(title=f"signals (a typical change scores {result.baseline_score:.0f})")
    for col in ("signal", "this change", "typical", "points"):
        table.add_column(col)
    for name, s in sorted(result.signals.items(), key=lambda kv: -abs(kv[1].contribution or 0.0)):
        if s.contribution is not None and abs(s.contribution) >= 0.5:
            table.add_row(LABELS.get(name, name), f"{s.value:g}", f"{s.typical:g}" if s.typical is not None else "—",
                          f"{s.contribution:+.1f}")
    out.print(table)
    for name, s in sorted(result.signals.items(), key=lambda kv: -abs(kv[1].contribution or 0.0)):
        if s.says and s.contribution is not None:
            out.print(f"{s.contribution:+5.1f}  {s.says}.", highlight=False)
    if result.added_lines:
        added = ", ".join(f"{a.lines} lines of {a.file_type} {'code' if a.counted_as_code else a.kind}"
                          for a in result.added_lines)
        out.print(f"adds: {added}", highlight=False)
    if result.model is not None:
        auc = "n/a" if result.model.auc is None else f"{result.model.auc:.3f}"
        out.print(f"model: {result.model.kind}, trained on {result.model.trained_on} changes, AUC {auc}")
    if result.fix_labels is not None:
        fl = result.fix_labels
        out.print(f"labels: {fl.labelled} of {fl.fixes} fixes traced by SZZ, {fl.pending} pending, "
                  f"{fl.unreadable} unreadable")
    for note in result.notes:
        err.print(f"note: {note}")


@risk_app.command("evaluate")
def evaluate_command(
    repo: Annotated[str, typer.Option("--repo", help=described(RiskEvaluationQuery, "repo"))],
    db: DbOpt = None,
    json_: JsonOpt = False,
    bootstrap: Annotated[int, typer.Option("--bootstrap", min=0, help=described(RiskEvaluationQuery, "bootstrap"))] = (
        RiskEvaluationQuery.model_fields["bootstrap"].default
    ),
) -> None:
    """How well the model separates bug-inducing from clean changes on the repository's past, vs baselines."""
    q = validate(RiskEvaluationQuery, repo=repo, bootstrap=bootstrap)
    engine: LocalEngine = local_engine(db)
    if path_is(q.repo, "dir"):
        q = q.model_copy(update={"repo": engine.register_repository(q.repo).name})
        run(lambda: engine.repos.sync(q.repo))
    result = run(lambda: engine.risk.evaluate_risk(q))
    if json_:
        print_json(result.model_dump())
        return
    out.print(f"[bold]{result.repo}[/]: {result.changes} changes with known labels, {result.labelled_inducing} "
              f"bug-inducing (SZZ), {result.splits} time-ordered splits")
    if result.fix_labels is not None:
        fl = result.fix_labels
        out.print(f"labels: {fl.labelled} of {fl.fixes} fixes traced by SZZ, {fl.pending} pending, "
                  f"{fl.unreadable} unreadable", highlight=False)
        if fl.note:
            err.print(f"note: {fl.note}", highlight=False)
    table = Table()
    for col in ("model", "AUC", "AUC 95% CI", "vs LApredict (paired 95% CI)", "Brier", "Recall@20%Effort", "Popt"):
        table.add_column(col)

    def f(v: float | None) -> str:
        return "n/a" if v is None else f"{v:.3f}"

    def span(ci: list[float] | None) -> str:
        return "n/a" if ci is None else f"{ci[0]:.3f}–{ci[1]:.3f}"

    for m in result.models:
        gap_ci = "n/a" if m.auc_vs_lapredict_ci is None else f"{m.auc_vs_lapredict_ci[0]:+.3f} to {m.auc_vs_lapredict_ci[1]:+.3f}"
        vs = "—" if m.auc_vs_lapredict is None else f"{m.auc_vs_lapredict:+.3f} ({gap_ci})"
        table.add_row(m.name, f(m.auc), span(m.auc_ci), vs, f(m.brier), f(m.recall_at_20_effort), f(m.popt))
    out.print(table)
    for c in result.signal_checks:
        if c.verdict == "absent":
            out.print(f"{c.name}: no change with known labels carries it here, so it cannot help (its weight stays 0).",
                      highlight=False)
            continue
        gain = "n/a" if c.auc_gain is None else f"{c.auc_gain:+.3f}"
        ci = "" if c.auc_gain_ci is None else f" (95% {c.auc_gain_ci[0]:+.3f} to {c.auc_gain_ci[1]:+.3f})"
        out.print(f"{c.name}: in {c.changes_with_signal} of {result.changes} changes; AUC with it minus without "
                  f"{gain}{ci}: {c.verdict}.", highlight=False)


def register(app: typer.Typer) -> None:
    """Add the `risk` command group."""
    app.add_typer(risk_app, name="risk")
