"""Request and result models of the risk operations (score_pr_risk, list_risky_changes, evaluate_risk)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator

from engmetrics.areas.repos.models import FixLabels
from engmetrics.models import Model
from engmetrics.queries import Page, WindowArgs

Tier = Literal["low", "medium", "high", "critical"]


class RiskScoreQuery(Model):
    """Arguments of score_pr_risk: what to score (nothing = the current branch vs the default branch)."""

    repo: str | None = Field(default=None, description="Repository name or path ('owner/name' works); the working repository when omitted")
    owner: str | None = Field(default=None, description="GitHub organisation or user that owns repo, e.g. 'acme'")
    base: str | None = Field(default=None, description='Base revision (branch, tag or sha); default: the default branch')
    head: str | None = Field(default=None, description='Head revision; default: HEAD (the current branch)')
    commit: str | None = Field(default=None, description='Score this one commit (sha, branch or tag) instead of a range')
    pr_number: int | None = Field(default=None, ge=1, description='Pull request number, e.g. 1847')
    limit: int = Field(default=10, ge=1, le=100, description="Commits listed, riskiest first, 1–100")
    cursor: str | None = Field(default=None, description="`commits_cursor` of the previous answer: the next commits")

    @field_validator("repo", "owner", "base", "head", "commit")
    @classmethod
    def _not_blank(cls, v: str | None) -> str | None:
        if v is not None and not v.strip():
            raise ValueError("must not be blank; omit it instead")
        return v.strip() if v is not None else None


class RiskEvaluationQuery(Model):
    """Arguments of evaluate_risk (the CLI's `engmetrics risk evaluate`): which repository, how many resamples."""

    repo: str = Field(description="Repository name or path (registered and synced)")
    bootstrap: int = Field(default=300, ge=0, description="Bootstrap resamples for the 95% intervals")

    @field_validator("repo")
    @classmethod
    def _not_blank(cls, v: str) -> str:
        if not v.strip():
            raise ValueError("must not be blank: pass a repository name or path")
        return v.strip()


class RiskyChangesQuery(WindowArgs, Page):
    """Arguments of list_risky_changes."""

    repo: str | None = Field(default=None, description='Repository name or path; all repositories when omitted')


class RiskSignal(Model):
    """One signal of a change: its value, the points it adds to the score, and the repository's typical value."""

    value: bool | float = Field(description="The change's value (unit per the signal's definition; a provider's yes/no stays boolean)")
    contribution: float | None = Field(description="Points of the 0–100 score this signal accounts for (negative lowers it)")
    typical: float | None = Field(description="The median value over the repository's past changes")
    says: str | None = Field(default=None, description="What it means, in a plain sentence (signals worth a point or more)")


class AddedLines(Model):
    """Lines a change adds to one type of file."""

    file_type: str = Field(description="e.g. 'Python', 'Markdown', 'YAML'")
    kind: str = Field(description="source, docs, tests, config, ci, metadata, generated, vendored or data")
    lines: int = Field(description="Non-blank lines added (for source files: not comment-only either)")
    files: int
    counted_as_code: bool = Field(description="Whether these are source lines (only kind 'source' is code)")


class RiskModelInfo(Model):
    """Which model scored the change and how well it does on this repository."""

    kind: Literal["trained", "prior"] = Field(description="'trained' on this repository's history, or the documented 'prior'")
    trained_on: int = Field(description="Changes with known labels the model was trained on (or that were available)")
    inducing: int = Field(description="Bug-inducing changes among them (SZZ)")
    auc: float | None = Field(description="AUC of this model on the repository's own history (rolling time-ordered test)")
    note: str | None = None


class ScoredCommit(Model):
    """A commit in the scored change, with its own risk when the repository's model has seen it."""

    sha: str
    subject: str
    author: str
    committed_at: str
    risk_score: int | None = Field(default=None, description="This commit alone, 0–100; null for a commit not synced yet")


class RiskScore(Model):
    """The risk of a change (commit, range, branch or PR), explained signal by signal. From a remote provider, what it
    does not send is null (see `notes`)."""

    repo: str
    target: str = Field(description="What was scored, e.g. 'feature-x vs main', 'commit 1a2b3c4', 'PR #12'")
    pr_number: int | None = None
    risk_score: int = Field(description="0–100: riskier than this percent of the repository's past changes")
    tier: Tier | None = Field(description="low < 50 ≤ medium < 80 ≤ high < 95 ≤ critical (or a remote provider's own tier)")
    probability: float | None = Field(description="Calibrated probability (0–1) that the change induces a bug later fixed")
    baseline_score: float | None = Field(description="Score of a typical change; baseline + contributions = risk_score")
    signals: dict[str, RiskSignal]
    recommendation: str
    model: RiskModelInfo | None
    commits: list[ScoredCommit] | None = Field(description="A page of the commits scored, riskiest first (then newest)")
    commits_total: int | None
    commits_cursor: str | None = Field(default=None, description="Pass as `cursor` for the next commits; null at the end")
    added_lines: list[AddedLines] | None = Field(
        default_factory=list, description="What the change adds, per file type; only source files' lines are code")
    coupled_files_missing: list[str] | None = Field(default_factory=list, description="Files that usually change with these")
    sensitive_paths: list[str] | None = Field(default_factory=list, description="Touched paths on sensitive ground (≤ 10)")
    fix_labels: FixLabels | None = Field(default=None, description="How many of the repository's fixes the model learned from")
    notes: list[str] = Field(default_factory=list)


class RiskyChange(Model):
    """A past change and its risk score."""

    repo: str
    sha: str
    subject: str
    author: str
    committed_at: str
    risk_score: int
    tier: Tier
    probability: float
    top_signals: list[str] = Field(description="The signals adding the most points")
    later_fixed: bool = Field(description="Whether SZZ found a later fix blaming it (so far)")


class RiskyChangeList(Model):
    """The riskiest changes of a window, riskiest first."""

    items: list[RiskyChange]
    total: int = Field(description="Changes in the window")
    cursor: str | None = None


class EvaluatedModel(Model):
    """One model's test figures on the repository's history: the mean over the rolling splits of each
    split's figure, with bootstrap 95% intervals (see `engmetrics.areas.risk.metrics.evaluation`)."""

    name: Literal["engmetrics", "lapredict", "kamei", "size"]
    auc: float | None
    auc_ci: list[float] | None
    brier: float | None
    brier_ci: list[float] | None = None
    recall_at_20_effort: float | None
    recall_at_20_effort_ci: list[float] | None = None
    popt: float | None
    popt_ci: list[float] | None = None
    auc_per_split: list[float | None] = Field(default_factory=list, description="AUC on each split's test changes, oldest first")
    auc_vs_lapredict: float | None = Field(
        default=None, description="This model's AUC minus LApredict's (mean over splits); null for lapredict itself")
    auc_vs_lapredict_ci: list[float] | None = Field(
        default=None, description="Paired bootstrap 95% interval of auc_vs_lapredict (same resamples for both)")


class SignalCheckResult(Model):
    """What one signal adds to the engmetrics model on this history (the model refitted without it)."""

    name: str = Field(description="The signal, e.g. ai_share")
    changes_with_signal: int = Field(description="Changes with known labels whose value is above 0")
    auc_gain: float | None = Field(description="AUC with it minus AUC without it, mean over the splits")
    auc_gain_ci: list[float] | None = Field(default=None, description="Paired bootstrap 95% interval of auc_gain")
    verdict: Literal["helps", "hurts", "no measurable difference", "absent", "unknown"] = Field(
        description="helps/hurts: the interval lies above/below 0; absent: no change carries the signal")


class RiskEvaluation(Model):
    """How well each model separates bug-inducing from clean changes on a repository's own past."""

    repo: str
    changes: int = Field(description="Changes with known labels (older than the label horizon)")
    labelled_inducing: int = Field(description="Bug-inducing changes among them (SZZ)")
    splits: int = Field(description="Time-ordered train/test splits run")
    fix_labels: FixLabels | None = Field(default=None, description="How many fixes SZZ labelled, pending, unreadable")
    models: list[EvaluatedModel]
    signal_checks: list[SignalCheckResult] = Field(
        default_factory=list, description="What single signals (ai_share: AI-assisted lines) add to the engmetrics model")
