"""Scoring a change — a commit, a range, a branch or a pull request — and explaining every point.

The change's commits are read from git (``git log --numstat base..head``), so a branch not synced yet
can be scored; merge commits are left out. Several commits are scored as one change (`features.combine`)
against the history before the first of them: the stored history when they are newer than all of it,
otherwise a replay of the stored changes before them (so an old commit scores as it would have then).

Explanation: with L the change's calibrated log-odds and L₀ those of a typical change (every feature at
the repository's median), each signal j adds cⱼ = βⱼ·(zⱼ − z₀ⱼ) to the log-odds (z: standardised log
features). The score S (a percentile) differs from the typical change's S₀ by S − S₀, shared out in
proportion to the cⱼ (integrated gradients along the straight path from the typical change, which for a
monotone function of a linear score is exactly this share), so baseline + Σ contributions = score.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from engmetrics.errors import DataError, InvalidInput, NotFound
from engmetrics.periods import iso
from engmetrics.risk.features import FEATURES, Change, FileDelta, History, combine, is_test, make_change, replay, sensitive_kinds, stored_changes, subsystem
from engmetrics.risk.model import RiskModel, tier
from engmetrics.risk.models import RiskModelInfo, RiskScore, RiskSignal, ScoredCommit
from engmetrics.risk.sloc import UNKNOWN, count_added_sloc
from engmetrics.risk.training import Trained
from engmetrics.sources.git import LOG_FORMAT, LogParser, decode_text, parse_trailers, run_git
from engmetrics.store.db import Store

MAX_COMMITS = 1000


@dataclass
class GitCommit:
    """A commit read from git for scoring."""

    change: Change
    subject: str
    parents: int


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
        raise DataError(f"git log {' '.join(revs)} failed in {path}: {decode_text(proc.stderr).strip()[:200]}")
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
    sloc = count_added_sloc(path, [c.change.sha for c in out if c.parents < 2])
    for c in out:
        n = sloc.get(c.change.sha, UNKNOWN)
        c.change.sloc_added = n if n >= 0 else None
    return out


@dataclass
class Target:
    """What is scored: a label and the git log arguments selecting its commits."""

    label: str
    revs: list[str]
    pr_number: int | None = None


def resolve_target(path: str, default_branch: str | None, *, base: str | None, head: str | None, commit: str | None,
                   pr_number: int | None, merged_pr: tuple[str, str, str | None] | None) -> Target:
    """The commits to score. ``merged_pr`` = (kind, sha, head_sha) of a merged PR found in the store, if any."""
    if commit and (base or head or pr_number):
        raise InvalidInput("Give either commit, or base/head, or pr_number — not several.", param="commit")
    if pr_number and (base or head):
        raise InvalidInput("Give either pr_number or base/head, not both.", param="pr_number")
    if commit:
        sha = _verify(path, commit, "commit")
        return Target(f"commit {sha[:12]}", ["--no-walk", sha])
    if pr_number:
        ref = f"refs/pull/{pr_number}/head"
        if run_git(path, "rev-parse", "-q", "--verify", ref).returncode == 0:
            base_rev = branch_ref(path, default_branch or "main")
            mb = decode_text(run_git(path, "merge-base", base_rev, ref).stdout).strip()
            return Target(f"PR #{pr_number}", [f"{mb}..{ref}" if mb else ref], pr_number)
        if merged_pr is not None:
            kind, sha, _head_sha = merged_pr
            if kind == "merge":
                return Target(f"PR #{pr_number} (merged in {sha[:12]})", [f"{sha}^1..{sha}^2"], pr_number)
            return Target(f"PR #{pr_number} (squashed as {sha[:12]})", ["--no-walk", sha], pr_number)
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


_PHRASES = {
    "la": "large change ({la:.0f} lines added)", "ld": "many lines deleted ({ld:.0f})",
    "nf": "{nf:.0f} files touched", "ns": "spread across {ns:.0f} subsystems", "nd": "spread over {nd:.0f} directories",
    "entropy": "changes scattered evenly over many files", "lt": "touches large files ({lt:.0f} lines before)",
    "fix": "it is a bug fix, and fixes often need follow-ups", "ndev": "files with many past authors ({ndev:.0f})",
    "age": "files untouched for a long time ({age:.0f} days on average)", "nuc": "files with a busy history ({nuc:.0f} past changes)",
    "exp": "the author has few past changes here", "rexp": "the author has little recent experience here",
    "sexp": "the author rarely works in these subsystems", "test_share": "few of the changed lines are tests",
    "tests_touched": "no test changes", "hotspot": "touches a hotspot ({hotspot:.0f} changes in 90 days)",
    "coupling_missed": "{coupling_missed:.0f} files that usually change with these were left out",
    "sensitive": "touches sensitive paths", "ai_share": "{ai_pct:.0f}% of lines from AI-assisted commits",
    "author_file_exp": "the author has not changed most of these files before",
    "owner_coverage": "few of the touched paths have a CODEOWNERS owner",
    "owner_involved": "no code owner of these paths authored or co-authored it",
    "recent_fixes": "touches files fixed {recent_fixes:.0f} times in the past year",
    "sloc_added": "large change ({sloc_added:.0f} lines of code added, not counting blanks and comments)",
}
_ACTIONS = {
    "low": "A normal review is enough.",
    "medium": "Review with care.",
    "high": "Review carefully before merging",
    "critical": "Hold it for a careful review by an owner of this code",
}


# Which way each phrase above describes its signal: "high" phrases read right when the value is above the
# typical change's, "low" ones when it is below. A learned model may give points the other way round (on some
# histories, touching tests goes with later fixes); then the phrase would be false and a neutral one is used.
_PHRASE_DIRECTION = {
    "exp": "low", "rexp": "low", "sexp": "low", "test_share": "low", "tests_touched": "low",
    "author_file_exp": "low", "owner_coverage": "low", "owner_involved": "low",
}
_LABELS = {"tests_touched": "tests touched", "test_share": "share of test lines", "la": "lines added",
           "sloc_added": "source lines added",
           "ld": "lines deleted", "nf": "files", "ns": "subsystems", "nd": "directories"}


def _reason(name: str, values: dict[str, float], typical: dict[str, float]) -> str | None:
    """The phrase for a signal that adds points, true to its value against the typical change."""
    if name not in _PHRASES:
        return None
    value, usual = values.get(name, 0.0), typical.get(name, 0.0)
    direction = _PHRASE_DIRECTION.get(name, "high")
    if (value > usual and direction == "high") or (value < usual and direction == "low"):
        return _PHRASES[name].format(**values)
    label = _LABELS.get(name, name.replace("_", " "))
    side = "above" if value > usual else "below" if value < usual else "at"
    return (f"{label} {value:g} ({side} the typical {usual:g}), which on this repository's history goes with "
            "more bug fixes")


def recommendation(
    level: str, points: dict[str, float], x: dict[str, float], change: Change, typical: dict[str, float] | None = None
) -> str:
    """A sentence built from the signals adding the most points (each phrased by its actual value against
    the typical change's), with an action for the tier."""
    ranked = [k for k, v in sorted(points.items(), key=lambda kv: -kv[1]) if v >= 1.0]
    if "sloc_added" in ranked and "la" in ranked:  # lines added says the same thing less precisely
        ranked.remove("la")
    top = ranked[:3]
    values = {**x, "ai_pct": 100 * x.get("ai_share", 0.0)}
    usual = typical or {}
    reasons = [r for k in top if (r := _reason(k, values, usual)) is not None]
    subs = sorted({subsystem(f.path) for f in change.files if not is_test(f.path)} - {"."})
    where = f" for {subs[0]}/" if subs else ""
    action = _ACTIONS[level]
    if level in ("high", "critical"):
        no_tests = values.get("tests_touched", 0.0) < 0.5
        if no_tests and ("tests_touched" in top or "test_share" in top):
            action += f"; add tests{where}"
        elif {"sloc_added", "la", "nf", "ns"} & set(top):
            action += "; consider splitting it"
        elif "coupling_missed" in top:
            action += "; check the co-changing files"
        action += "."
    if not reasons:
        return f"{level.capitalize()} risk: nothing stands out against this repository's typical change. {action}"
    text = "; ".join(reasons)
    return f"{level.capitalize()} risk: {text[0].upper()}{text[1:]}. {action}"


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


def score(store: Store, repo_id: int, repo_name: str, trained: Trained, path: str, target: Target) -> RiskScore:
    """Score ``target``'s commits in the repository at ``path``."""
    commits = read_commits(path, target.revs)
    if len(commits) > MAX_COMMITS:
        raise InvalidInput(f"{target.label} has {len(commits)} commits; score at most {MAX_COMMITS} at once "
                           "(pass a narrower base/head).", param="base")
    notes: list[str] = []
    real = [c for c in commits if c.parents < 2]
    if not real:
        raise InvalidInput(f"{target.label} holds no commit with changes (only merges, or none): pass another "
                           "commit or range.", param="commit")
    if len(real) < len(commits):
        notes.append(f"{len(commits) - len(real)} merge commit(s) left out (their changes are in the merged commits).")
    changes = [c.change for c in real]
    change = combine(changes)
    own = {c.sha for c in changes}
    history = history_before(store, repo_id, trained, (change.time, change.sha), own)
    x = history.features(change)
    model = trained.model
    p, s, base, points = explain(model, x)
    values = dict(zip(FEATURES, x.tolist(), strict=True))
    typical = dict(zip(FEATURES, model.typical or [0.0] * len(FEATURES), strict=True))
    signals = {
        name: RiskSignal(value=round(values[name], 3), contribution=round(points.get(name, 0.0), 1),
                         typical=round(typical[name], 3))
        for name in FEATURES
    }
    level = tier(s)
    sensitive = [f"{f.path} ({', '.join(sensitive_kinds(f.path))})" for f in change.files if sensitive_kinds(f.path)]
    listed = sorted(real, key=lambda c: c.change.time, reverse=True)[:20]
    if model.kind == "prior":
        notes.append("Scored by the prior model: this repository has too little labelled history to train one.")
    return RiskScore(
        repo=repo_name, target=target.label, pr_number=target.pr_number, risk_score=int(round(s)), tier=level,
        probability=round(p, 4), baseline_score=round(base, 1), signals=signals,
        recommendation=recommendation(level, points, values, change, typical), model=model_info(model),
        commits=[ScoredCommit(sha=c.change.sha, subject=c.subject[:200], author=c.change.author_email,
                              committed_at=iso(c.change.time) or "") for c in listed],
        commits_total=len(real), coupled_files_missing=history.coupled_missing(change),
        sensitive_paths=sensitive[:10], notes=notes,
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
