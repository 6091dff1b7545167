"""Scoring a change — a commit, a range, a branch or a pull request (`targets`) — and explaining every point.

The change's commits are read from git (``git log --numstat base..head``), so a branch not synced yet
can be scored; merge commits are left out (git records no diff of their own for them: their changes are in
the commits they merge). Several commits are scored as one change (`metrics.changes.combine`) against the
history before the first of them: the stored history when they are newer than all of it, otherwise a replay of
the stored changes before them (so an old commit scores as it would have then). A change that touches no product
file scores 0 by rule. Each point is explained by `metrics.explain`, each signal in a sentence by
`metrics.wording`.
"""

from __future__ import annotations

from dataclasses import dataclass

from engmetrics.areas.risk.feature_replay import history_before
from engmetrics.areas.risk.git_output import git_says, is_missing_objects
from engmetrics.areas.risk.metrics.changes import (
    AddedLines,
    Change,
    FileDelta,
    combine,
    is_bot_change,
    is_product_change,
    make_change,
    sensitive_kinds,
)
from engmetrics.areas.risk.metrics.explain import added_lines_rows, explain, model_info
from engmetrics.areas.risk.metrics.features import FEATURES
from engmetrics.areas.risk.metrics.fixes import LabelCoverage, fix_labels
from engmetrics.areas.risk.metrics.model import tier
from engmetrics.areas.risk.metrics.wording import Context, recommendation, sentence
from engmetrics.areas.risk.models import RiskScore, RiskSignal, ScoredCommit
from engmetrics.areas.risk.source_lines import count_added_lines
from engmetrics.areas.risk.targets import Target
from engmetrics.areas.risk.training import Trained
from engmetrics.errors import DataError, InvalidInput
from engmetrics.periods import iso
from engmetrics.queries import encode_cursor
from engmetrics.sources.git.log_parser import LOG_FORMAT, LogParser
from engmetrics.sources.git.messages import parse_trailers
from engmetrics.sources.git.run import run_git
from engmetrics.store.db import Store

MAX_COMMITS = 1000


@dataclass
class GitCommit:
    """A commit read from git for scoring."""

    change: Change
    subject: str
    parents: int
    added: AddedLines | None = None  # lines added by file type; None: git could not count them


def read_commits(path: str, revs: list[str]) -> list[GitCommit]:
    """Commits of ``revs`` (git log arguments, e.g. ['base..head'] or ['--no-walk', sha]) with their line counts."""
    proc = run_git(path, "log", "-z", f"--format={LOG_FORMAT}", "--encoding=UTF-8", "--diff-merges=off", "--no-color",
                "--no-use-mailmap", "--numstat", "-M", "--no-textconv", "--no-ext-diff", *revs, "--")
    if proc.returncode != 0:
        said = git_says(proc.stderr)[:300]
        if is_missing_objects(said):
            raise DataError(f"git cannot read the files of {' '.join(revs)} in {path} ({said}): the clone lacks them (a "
                            "partial or shallow clone?). Fetch them (a full clone, or `git fetch --unshallow`) and try "
                            "again.")
        raise DataError(f"git log {' '.join(revs)} failed in {path}: {said}")
    out: list[GitCommit] = []

    def emit(h: list[str], files: list[tuple[str, str | None, int | None, int | None]]) -> None:
        sha, parents, an, ae, _at, _cn, _ce, ct, message = h
        trailers = parse_trailers(message)
        deltas = [FileDelta(p, o, a, d) for p, o, a, d in files]
        change = make_change(sha, ae, an, int(ct or 0), message.strip(), trailers, deltas)
        out.append(GitCommit(change, message.strip().split("\n", 1)[0], len(parents.split())))

    parser = LogParser("numstat", emit)
    parser.feed(proc.stdout)
    parser.finish()
    added = count_added_lines(path, [c.change.sha for c in out if c.parents < 2])
    for c in out:
        got = added.get(c.change.sha)
        c.added = got
        c.change.sloc_added = got.source if got is not None else None
    return out


def commit_scores(trained: Trained, shas: list[str]) -> dict[str, int]:
    """The 0–100 score of each of ``shas`` the repository's model has features for (synced commits), by sha."""
    index = {sha: i for i, sha in enumerate(trained.shas)}
    rows = [index[sha] for sha in shas if sha in index]
    if not rows:
        return {}
    scores = trained.model.percentile(trained.model.proba(trained.X[rows]))
    return {trained.shas[i]: int(round(float(s))) for i, s in zip(rows, scores, strict=True)}


def score(store: Store, repo_id: int, repo_name: str, trained: Trained, path: str, target: Target,
          coverage: LabelCoverage | None = None, *, limit: int = 10, offset: int = 0) -> RiskScore:
    """Score ``target``'s commits in the repository at ``path``; ``coverage``: the SZZ labels' coverage, said
    in the result. The result lists ``limit`` of the commits from ``offset``, riskiest first by their own score
    (`commit_scores`; commits the model has not seen after them), newest first among equals."""
    commits = read_commits(path, target.revs)
    if len(commits) > MAX_COMMITS:
        raise InvalidInput(f"{target.label} has {len(commits)} commits; score at most {MAX_COMMITS} at once "
                           "(pass a narrower base/head).", param="base")
    notes: list[str] = []
    real = [c for c in commits if c.parents < 2]
    if not real:
        what = ("a merge commit that brings no commit with changes of its own" if target.merge
                else "no commit with changes (only merges, or none)")
        raise InvalidInput(f"{target.label} holds {what}: pass another commit or range.", param="commit")
    if target.merge:
        notes.append(f"{target.merge[:12]} is a merge commit: scored as the {len(real)} commit(s) it brings (reachable "
                     "from its second parent and not its first); a conflict resolution made in the merge itself is "
                     "not counted.")
    elif len(real) < len(commits):
        notes.append(f"{len(commits) - len(real)} merge commit(s) left out (their changes are in the merged commits).")
    changes = [c.change for c in real]
    change = combine(changes)
    added = AddedLines()
    unknown = 0
    for c in real:
        if c.added is None:
            unknown += 1
        else:
            added.add(c.added)
    if unknown:
        notes.append(f"git could not diff {unknown} of the commits (missing objects?): their source lines are the "
                     "lines added to their source files, blank lines and comments included.")
    own = {c.sha for c in changes}
    history = history_before(store, repo_id, trained.history(), (change.time, change.sha), own)
    x = history.features(change)
    model = trained.model
    p, s, base, points = explain(model, x)
    product = is_product_change(change)
    if not product:  # nothing SZZ could ever trace a bug to: 0 by definition, not by the model
        p, s = 0.0, 0.0
        points = {name: 0.0 for name in FEATURES} | {"sloc_added": -base}
        notes.append("It changes no product file (only documentation, tests, CI configuration or repository "
                     "metadata), so no bug can be traced to it: it scores 0 by that rule, not by the model.")
    values = dict(zip(FEATURES, x.tolist(), strict=True))
    typical = dict(zip(FEATURES, model.typical or [0.0] * len(FEATURES), strict=True))
    past = {name: trained.X[:, j] for j, name in enumerate(FEATURES)} if len(trained.X) else {}
    ctx = Context(change=change, values=values, typical=typical, past=past, added=added if not unknown else None)
    signals = {
        name: RiskSignal(value=round(values[name], 3), contribution=round(points.get(name, 0.0), 1),
                         typical=round(typical[name], 3),
                         says=sentence(name, ctx) if abs(points.get(name, 0.0)) >= 1.0 else None)
        for name in FEATURES
    }
    risk_score = int(round(s))
    level = tier(risk_score)  # the tier of the score as shown: 49.6 is 50, medium
    sensitive = [f"{f.path} ({', '.join(sensitive_kinds(f.path))})" for f in change.files if sensitive_kinds(f.path)]
    own_scores = commit_scores(trained, [c.change.sha for c in real])
    ranked = sorted(real, key=lambda c: (-(own_scores.get(c.change.sha, -1)), -c.change.time, c.change.sha))
    listed = ranked[offset : offset + limit]
    more = offset + limit < len(ranked)
    if model.kind == "prior":
        notes.append("Scored by the prior model: this repository has too little labelled history to train one.")
    bots = sum(1 for c in changes if is_bot_change(c))
    if bots:
        notes.append(f"{bots} of the commits are by a bot; bots' changes are not part of the history the model "
                     "learned from.")
    labels = fix_labels(coverage) if coverage is not None else None
    if labels is not None and labels.note:
        notes.append(labels.note)
    return RiskScore(
        repo=repo_name, target=target.label, pr_number=target.pr_number, risk_score=risk_score, tier=level,
        probability=round(p, 4), baseline_score=round(base, 1), signals=signals,
        recommendation=recommendation(level, points, ctx, product=product), model=model_info(model),
        commits=[ScoredCommit(sha=c.change.sha, subject=c.subject[:120], author=c.change.author_email,
                              committed_at=iso(c.change.time) or "", risk_score=own_scores.get(c.change.sha))
                 for c in listed],
        commits_total=len(real), commits_cursor=encode_cursor(offset + limit) if more else None, added_lines=added_lines_rows(added)[:10], coupled_files_missing=history.coupled_missing(change),
        sensitive_paths=sensitive[:10], fix_labels=labels, notes=notes,
    )
