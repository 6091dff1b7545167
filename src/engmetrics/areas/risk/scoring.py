"""Scoring a change — a commit, a range, a branch or a pull request — and explaining every point.

The change's commits are read from git (``git log --numstat base..head``), so a branch not synced yet
can be scored; merge commits are left out (git records no diff of their own for them: their changes are in
the commits they merge). Several commits are scored as one change (`features.combine`) against the history
before the first of them: the stored history when they are newer than all of it, otherwise a replay of the
stored changes before them (so an old commit scores as it would have then).

**Merge commits** (GitHub's default "Create a merge commit" workflow): a merge commit is scored as what it
brings — the commits reachable from its other parents and not from its first (``sha^1..sha``, merges among
them left out), the same commits DESIGN.md counts as the pull request's. A conflict resolution made in the
merge commit itself is not counted. A pull request number found in a merge commit's message (``Merge pull
request #N``, or a two-parent commit titled ``… (#N)``) is scored the same way; a single-parent commit
titled ``… (#N)`` is a squash merge and is scored as that one commit.

Explanation: with L the change's calibrated log-odds and L₀ those of a typical change (every feature at
the repository's median), each signal j adds cⱼ = βⱼ·(zⱼ − z₀ⱼ) to the log-odds (z: standardised log
features). The score S (a percentile) differs from the typical change's S₀ by S − S₀, shared out in
proportion to the cⱼ (integrated gradients along the straight path from the typical change, which for a
monotone function of a linear score is exactly this share), so baseline + Σ contributions = score.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from engmetrics.errors import DataError, InvalidInput, NotFound
from engmetrics.models import FixLabels
from engmetrics.periods import iso
from engmetrics.areas.risk.metrics.features import (
    FEATURES,
    Change,
    FileDelta,
    History,
    combine,
    is_bot_change,
    is_product_change,
    make_change,
    replay,
    sensitive_kinds,
    stored_changes,
)
from engmetrics.areas.risk.metrics.model import RiskModel, tier
from engmetrics.areas.risk.models import AddedLines as AddedLinesRow
from engmetrics.areas.risk.models import RiskModelInfo, RiskScore, RiskSignal, ScoredCommit
from engmetrics.areas.risk.source_lines import AddedLines, count_added_lines
from engmetrics.areas.risk.szz import LabelCoverage, fix_pattern, git_says, is_missing_objects, label_coverage
from engmetrics.areas.risk.training import Trained
from engmetrics.areas.risk.metrics.wording import Context, recommendation, sentence
from engmetrics.sources.git import LOG_FORMAT, LogParser, decode_text, parse_trailers, run_git
from engmetrics.store.db import Store

if TYPE_CHECKING:
    from engmetrics.config import Settings

MAX_COMMITS = 1000


@dataclass
class GitCommit:
    """A commit read from git for scoring."""

    change: Change
    subject: str
    parents: int
    added: AddedLines | None = None  # lines added by file type; None: git could not count them


def _verify(path: str, rev: str, what: str) -> str:
    if rev.startswith("-"):
        raise InvalidInput(f"{what} {rev!r} is not a revision: pass a sha, branch or tag name.", param=what)
    proc = run_git(path, "rev-parse", "-q", "--verify", "--end-of-options", f"{rev}^{{commit}}")
    sha = decode_text(proc.stdout).strip()
    if proc.returncode != 0 or not sha:
        raise NotFound(
            f"Unknown {what} {rev!r} in {path}: pass a commit sha, branch or tag that exists there "
            "(check with `git rev-parse`), or fetch it first.",
            param=what,
        )
    return sha


def branch_ref(path: str, branch: str) -> str:
    """A revision for a branch name: the local branch, else origin's, else the name as given."""
    for ref in (f"refs/heads/{branch}", f"refs/remotes/origin/{branch}"):
        if run_git(path, "rev-parse", "-q", "--verify", ref).returncode == 0:
            return ref
    return branch


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

    def emit(h: list[str], files: list[tuple]) -> None:
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


def parents_of(path: str, sha: str) -> list[str]:
    """The parents of commit ``sha`` (first parent first)."""
    proc = run_git(path, "rev-list", "--parents", "-n", "1", "--end-of-options", sha)
    if proc.returncode != 0:
        raise DataError(f"git rev-list {sha} failed in {path}: {decode_text(proc.stderr).strip()[:200]}")
    return decode_text(proc.stdout).split()[1:]


def commit_target(path: str, sha: str, label: str, pr_number: int | None = None) -> Target:
    """One commit as a target: a merge commit is scored as the commits it brings (``sha^1..sha``)."""
    parents = parents_of(path, sha)
    if len(parents) >= 2:
        return Target(f"merge {label}" if label.startswith("commit ") else label, [f"{parents[0]}..{sha}"], pr_number,
                      merge=sha)
    return Target(label, ["--no-walk", sha], pr_number)


@dataclass
class Target:
    """What is scored: a label and the git log arguments selecting its commits."""

    label: str
    revs: list[str]
    pr_number: int | None = None
    merge: str | None = None  # the merge commit whose merged commits these are


def resolve_target(path: str, default_branch: str | None, *, base: str | None, head: str | None, commit: str | None,
                   pr_number: int | None, merged_pr: tuple[str, str, str | None] | None) -> Target:
    """The commits to score. ``merged_pr`` = (kind, sha, head_sha) of a merged PR found in the store, if any
    (its commit's parents decide how it is scored: see the module docstring)."""
    if commit and (base or head or pr_number):
        raise InvalidInput("Give either commit, or base/head, or pr_number — not several.", param="commit")
    if pr_number and (base or head):
        raise InvalidInput("Give either pr_number or base/head, not both.", param="pr_number")
    if commit:
        sha = _verify(path, commit, "commit")
        return commit_target(path, sha, f"commit {sha[:12]}")
    if pr_number:
        ref = f"refs/pull/{pr_number}/head"
        if run_git(path, "rev-parse", "-q", "--verify", ref).returncode == 0:
            base_rev = branch_ref(path, default_branch or "main")
            mb = decode_text(run_git(path, "merge-base", base_rev, ref).stdout).strip()
            return Target(f"PR #{pr_number}", [f"{mb}..{ref}" if mb else ref], pr_number)
        if merged_pr is not None:
            _kind, sha, _head_sha = merged_pr  # what the commit graph says decides, not the message
            merge = len(parents_of(path, sha)) >= 2
            label = f"PR #{pr_number} ({'merged in' if merge else 'squashed as'} {sha[:12]})"
            return commit_target(path, sha, label, pr_number)
        raise NotFound(
            f"PR #{pr_number} is not in the local repository: no refs/pull/{pr_number}/head and no merged commit "
            f"naming it ('Merge pull request #{pr_number}' or '(#{pr_number})'). Fetch it with "
            f"`git fetch origin pull/{pr_number}/head:refs/pull/{pr_number}/head`, or pass base/head.",
            param="pr_number",
        )
    head_rev = head or "HEAD"
    head_sha = _verify(path, head_rev, "head")
    if base:
        base_sha = _verify(path, base, "base")
        base_name = base
    else:
        if not default_branch:
            raise DataError(f"{path} has no default branch to compare with: pass base.", param="base")
        base_name = default_branch
        base_sha = _verify(path, branch_ref(path, default_branch), "base")
    if head is None:
        from engmetrics.sources.git import current_branch

        head_name = current_branch(path) or "HEAD"
    else:
        head_name = head
    if base_sha == head_sha or run_git(path, "merge-base", "--is-ancestor", head_sha, base_sha).returncode == 0:
        raise InvalidInput(
            f"No commits to score: {head_name} has nothing that {base_name} does not have. Check out a feature "
            "branch, or pass commit=<sha> (e.g. 'HEAD') or base/head of a non-empty range.",
            param="head" if head else "base",
        )
    return Target(f"{head_name} vs {base_name}", [f"{base_sha}..{head_sha}"])


# ---------------------------------------------------------------------------------------------------
# Explaining


def explain(model: RiskModel, x: np.ndarray) -> tuple[float, float, float, dict[str, float]]:
    """(probability 0–1, score 0–100, baseline score, points per feature) of one feature row ``x``."""
    X = x.reshape(1, -1)
    typical = np.asarray(model.typical if model.typical else np.zeros(len(FEATURES))).reshape(1, -1)
    z, z0 = model.standardise(X)[0], model.standardise(typical)[0]
    c = np.asarray(model.coef) * (z - z0)
    p = float(model.proba(X)[0])
    score = float(model.percentile(p))
    base = float(model.percentile(float(model.proba(typical)[0])))
    total = float(c.sum())
    share = (score - base) / total if abs(total) > 1e-9 else 0.0
    points = {name: float(ci * share) for name, ci in zip(model.features, c, strict=True)}
    return p, score, base, points


def model_info(model: RiskModel) -> RiskModelInfo:
    """The public description of a model."""
    note = None
    if model.kind == "prior":
        note = (f"Too little labelled history to train ({model.trained_on} changes, {model.inducing} bug-inducing; "
                "needs 100 and 10): the documented prior model is used.")
    return RiskModelInfo(kind=model.kind, trained_on=model.trained_on, inducing=model.inducing,
                         auc=None if model.auc is None else round(model.auc, 3), note=note)


def history_before(store: Store, repo_id: int, trained: Trained, first: tuple[int, str], own: set[str]) -> History:
    """The feature state before ``first`` (time, sha): the cached one when every stored change is older."""
    h = trained.history()
    if (h.last_time, h.last_sha) < first:
        return h
    changes = stored_changes(store.read(), repo_id)
    return replay(changes, fix_pattern=h.fix_pattern, until=first, skip=frozenset(own), codeowners=h.codeowners,
                  people=h.people)[0]


def _added_rows(added: AddedLines) -> list[AddedLinesRow]:
    rows = [AddedLinesRow(file_type=t, kind=k, lines=v[0], files=v[1], counted_as_code=k == "source")
            for (k, t), v in added.by_type.items() if v[0] > 0]
    return sorted(rows, key=lambda r: (not r.counted_as_code, -r.lines, r.file_type))


def fix_labels(coverage: LabelCoverage) -> FixLabels:
    """The public form of SZZ's label coverage, with a note when not every fix is labelled."""
    note = None
    if coverage.pending or coverage.unreadable:
        parts = []
        if coverage.pending:
            parts.append(f"{coverage.pending} pending (not traced yet: git failed on them or they are new)")
        if coverage.unreadable:
            parts.append(f"{coverage.unreadable} unreadable (git: {coverage.error or 'objects missing'})")
        note = (f"{coverage.labelled} of {coverage.fixes} fixes are labelled; {' and '.join(parts)}. The model "
                "learned from the labelled ones only; pending ones are tried again on the next run, unreadable ones once a "
                "fetch brings new commits or objects.")
    return FixLabels(fixes=coverage.fixes, labelled=coverage.labelled, pending=coverage.pending,
                     unreadable=coverage.unreadable, note=note)


def sync_fix_labels(store: Store, repo_id: int, settings: Settings | None = None) -> FixLabels:
    """What `sync` says about change risk's labels: the coverage now (sync itself labels nothing: SZZ runs when
    risk is first scored or evaluated, and labels only what is new or was not reached before)."""
    coverage = label_coverage(store.read(), repo_id, fix_pattern(settings))
    labels = fix_labels(coverage)
    if coverage.pending and not coverage.unreadable and coverage.labelled == 0:
        labels.note = (f"{coverage.pending} fix commits found; SZZ traces them the first time change risk is scored "
                       "or evaluated (score_pr_risk, engmetrics risk evaluate).")
    elif coverage.pending and not coverage.unreadable:
        labels.note = (f"{coverage.pending} of {coverage.fixes} fixes are not traced yet (new, or git failed on them "
                       "before); SZZ traces them the next time change risk is scored or evaluated.")
    return labels


def score(store: Store, repo_id: int, repo_name: str, trained: Trained, path: str, target: Target,
          coverage: LabelCoverage | None = None) -> RiskScore:
    """Score ``target``'s commits in the repository at ``path``; ``coverage``: the SZZ labels' coverage, said
    in the result."""
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
    history = history_before(store, repo_id, trained, (change.time, change.sha), own)
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
    level = tier(s)
    sensitive = [f"{f.path} ({', '.join(sensitive_kinds(f.path))})" for f in change.files if sensitive_kinds(f.path)]
    listed = sorted(real, key=lambda c: c.change.time, reverse=True)[:20]
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
        repo=repo_name, target=target.label, pr_number=target.pr_number, risk_score=int(round(s)), tier=level,
        probability=round(p, 4), baseline_score=round(base, 1), signals=signals,
        recommendation=recommendation(level, points, ctx, product=product), model=model_info(model),
        commits=[ScoredCommit(sha=c.change.sha, subject=c.subject[:200], author=c.change.author_email,
                              committed_at=iso(c.change.time) or "") for c in listed],
        commits_total=len(real), added_lines=_added_rows(added)[:10], coupled_files_missing=history.coupled_missing(change),
        sensitive_paths=sensitive[:10], fix_labels=labels, notes=notes,
    )


def top_signals(model: RiskModel, x: np.ndarray, n: int = 2) -> list[str]:
    """Names of the ``n`` signals adding the most points to a change's score (positive ones only)."""
    _, _, _, points = explain(model, x)
    return [k for k, v in sorted(points.items(), key=lambda kv: -kv[1]) if v > 0][:n]


_OWNER = re.compile(r"^([^/]+)/(.+)$")


def split_owner(repo: str | None, owner: str | None) -> list[str]:
    """Names to look a repository up by: 'owner/name', then 'name'."""
    if not repo:
        return []
    names = [repo]
    if owner and "/" not in repo:
        names.insert(0, f"{owner}/{repo}")
    if m := _OWNER.match(repo):
        names.append(m.group(2))
    return names
