"""The risk area's interface: score a change, list a window's riskiest changes."""

from __future__ import annotations

from abc import ABC, abstractmethod

from engmetrics.areas.risk.models import (
    RiskEvaluation,
    RiskEvaluationQuery,
    RiskScore,
    RiskScoreQuery,
    RiskyChangeList,
    RiskyChangesQuery,
)
from engmetrics.operations import Tool, operation


SCORE_PR_RISK_TOOL = Tool(
    title='Change risk score',
    description="""\
How risky is a change? Scores a branch, a commit range, one commit or a pull request 0–100 (riskier than that \
percent of this repository's past changes), with a tier (low/medium/high/critical), the calibrated probability \
that it introduces a bug that is later fixed, a plain-language recommendation, and every signal's value, the \
points it adds to the score, the repository's typical value and (for signals worth a point or more) a sentence \
saying what it means: source lines added (code only: not docs, tests, generated or vendored files), Kamei's \
just-in-time features (size, spread, file history, author experience), tests touched, hotspots, recent fixes, \
files usually changed together but left out, sensitive paths, AI-assisted lines. `added_lines` says per file \
type what was added and what counted as code. A change that touches no product file (documentation, tests, CI, \
metadata only) scores 0. The model is trained on the repository's own history (bugs traced by SZZ); `model.auc` \
says how well it separates risky from safe changes there and `fix_labels` how many of its fixes were traced \
(those git could not read yet are retried later).

Use it for "how risky is my branch?" (call with no arguments: the current branch vs the default branch), "how \
risky is PR 1847?" (pr_number: refs/pull/N/head in the local clone, or its merged commit — a merge commit is \
scored as the commits it brings, a squash as its one commit), or "is commit abc123 risky?" (commit).
Arguments: repo (name or path; 'owner/name' or owner+repo as in the Koalr API), base/head (revisions; default \
branch and HEAD), commit (one sha/branch/tag), pr_number. Give one of commit, base/head, pr_number.
Example: score_pr_risk(repo="api", pr_number=1847) → {"risk_score": 91, "tier": "high", "signals": \
{"sloc_added": {"value": 42, "contribution": 38.6, "typical": 4, "says": "It adds 42 lines of Python, about 10 \
times the typical code change here (4)…"}, ...}, "recommendation": "High risk: it adds 42 lines of Python, … \
Review carefully before merging; consider splitting it.", "added_lines": [{"file_type": "Python", "kind": \
"source", "lines": 42, "files": 3, "counted_as_code": true}, ...], "model": {"kind": "trained", "auc": 0.8, \
...}, ...}
""",
)

LIST_RISKY_CHANGES_TOOL = Tool(
    title='Riskiest recent changes',
    description="""\
The riskiest changes (commits) of a time window, riskiest first, each with its 0–100 risk score, tier, the \
signals adding the most points, and whether a later fix has already been traced to it (SZZ).

Use it for "which recent changes should we double-check?" or "what were our riskiest commits last month?".
Arguments: period (default last_30_days) or from/to; repo to narrow (all repositories otherwise); limit (1–100, \
default 20) and cursor for the next page.
Example: list_risky_changes(period="last_30_days", repo="api", limit=5) → {"items": [{"sha": "1a2b…", \
"risk_score": 97, "tier": "critical", "top_signals": ["la", "nf"], "later_fixed": false, ...}], "total": 84, \
"cursor": "eyJvIjogNX0"}
""",
)


class RiskApi(ABC):
    """Change risk: score a change, list the riskiest changes."""

    @operation("POST", "/pr-risk/score", tool=SCORE_PR_RISK_TOOL)
    @abstractmethod
    async def score_pr_risk(self, q: RiskScoreQuery) -> RiskScore:
        """Risk 0–100 of a change (branch, range, commit or PR), explained signal by signal."""

    @operation("GET", "/risk/changes", tool=LIST_RISKY_CHANGES_TOOL)
    @abstractmethod
    async def list_risky_changes(self, q: RiskyChangesQuery) -> RiskyChangeList:
        """The riskiest changes of a window, riskiest first."""

    # ---- in process only (the CLI, other areas) ----------------------------------------------------------

    @abstractmethod
    async def evaluate_risk(self, q: RiskEvaluationQuery) -> RiskEvaluation:
        """The risk model's measured accuracy on the repository's own past (time-ordered splits), against
        LApredict, Kamei and size alone."""

    @abstractmethod
    async def ensure_fix_labels(self, repo_ids: list[int] | None) -> None:
        """Trace the fixes of these repositories (None: every served one) to the commits that induced them (SZZ),
        labelling only what is new since the last time; a repository git cannot read is skipped. What the AI area's
        stability comparison reads."""
