"""Koalr's ``POST /pr-risk/score`` (its 32-signal deployment-risk model) mapped onto score_pr_risk: the request's
pr_number, repo and owner become ``{"prNumber", "repo", "owner"}``; Koalr's risk score (0–100), tier, signals and
recommendation come back as sent. Signals keep Koalr's names and values (numbers in Koalr's units — ratios for
changeEntropy, coverageDelta, authorFileExpertise and aiAuthoredRatio as we read them — and yes/no as booleans);
Koalr sends no points per signal, typical values, probability or model description, so those are null.
"""

from __future__ import annotations

from typing import get_args

from pydantic import BaseModel, JsonValue

from engmetrics.areas.risk.models import RiskScore, RiskScoreQuery, RiskSignal, Tier
from engmetrics.engine.remote.koalr_client import KoalrClient, refuse
from engmetrics.errors import InvalidInput
from engmetrics.models import Model
from engmetrics.operations import Operation

_TIERS: dict[str, Tier] = {tier: tier for tier in get_args(Tier)}
"""Koalr's tier (lower case) → ours, for the tiers both have."""


class KoalrRiskScore(Model):
    """POST /api/v1/pr-risk/score."""

    prNumber: int | None = None  # noqa: N815 - Koalr's names
    repo: str | None = None
    riskScore: int  # noqa: N815
    tier: str | None = None
    signals: dict[str, JsonValue] = {}
    recommendation: str = ""


def koalr_target(q: RiskScoreQuery) -> tuple[int, str, str]:
    """(prNumber, repo, owner) for Koalr from the request: ``repo`` 'acme/api' or repo 'api' with owner 'acme';
    `Unsupported` for what Koalr cannot score (a branch, range or commit), `InvalidInput` for what is missing."""
    if q.base or q.head or q.commit:
        raise refuse("Koalr", "score a branch, a commit range or a commit",
                     "POST /api/v1/pr-risk/score scores a pull request. Pass pr_number, repo and owner.")
    if q.pr_number is None:
        raise InvalidInput("Koalr scores pull requests: pass pr_number (e.g. 1847) with repo and owner.",
                           param="pr_number")
    if not q.repo:
        raise InvalidInput("Koalr needs the repository: pass repo='acme/api' (or repo='api' with owner='acme').",
                           param="repo")
    owner, _, name = q.repo.rpartition("/")
    owner = q.owner or owner
    if not owner:
        raise InvalidInput(f"Koalr needs the GitHub owner of {q.repo!r}: pass owner (e.g. 'acme') or repo='owner/"
                           f"{q.repo}'.", param="owner")
    if q.owner and "/" in q.repo and q.repo.rpartition("/")[0] != q.owner:
        raise InvalidInput(f"repo {q.repo!r} names another owner than owner={q.owner!r}: pass one of them.",
                           param="owner")
    return q.pr_number, name, owner


class KoalrRisk:
    """Koalr's PR risk score as score_pr_risk."""

    def __init__(self, api: KoalrClient) -> None:
        self.api = api

    async def score(self, op: Operation, q: RiskScoreQuery) -> BaseModel:
        """score_pr_risk from ``POST /api/v1/pr-risk/score``."""
        pr_number, repo, owner = koalr_target(q)
        data = await self.api.post("/pr-risk/score", {"prNumber": pr_number, "repo": repo, "owner": owner})
        r = self.api.parse(KoalrRiskScore, data, "/pr-risk/score", "POST")
        signals: dict[str, RiskSignal] = {}
        skipped: list[str] = []
        for name, value in r.signals.items():
            if isinstance(value, bool | int | float):
                signals[name] = RiskSignal(value=value, contribution=None, typical=None, says=None)
            else:
                skipped.append(f"{name}={value!r}")
        tier = _TIERS.get(r.tier.lower()) if r.tier else None
        notes = [
            f"From Koalr's POST /api/v1/pr-risk/score (prNumber {pr_number}, repo {repo!r}, owner {owner!r}): Koalr's "
            "32-signal model — its riskScore (0–100), tier, signals and recommendation as sent.",
            "Koalr sends no points per signal, typical values, probability, scored commits or model description: "
            "they are null.",
        ]
        if r.tier and tier is None:
            notes.append(f"Koalr's tier {r.tier!r} is not one of low, medium, high, critical: tier is null.")
        if skipped:
            notes.append(f"Signals that are not numbers or yes/no, left out: {', '.join(skipped)}.")
        return RiskScore(
            repo=r.repo or f"{owner}/{repo}", target=f"PR #{r.prNumber or pr_number}", pr_number=r.prNumber or pr_number,
            risk_score=r.riskScore, tier=tier,
            probability=None, baseline_score=None, signals=signals, recommendation=r.recommendation, model=None,
            commits=None, commits_total=None, added_lines=None, coupled_files_missing=None, sensitive_paths=None,
            fix_labels=None, notes=notes,
        )
