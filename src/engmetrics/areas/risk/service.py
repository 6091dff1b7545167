"""The risk area over the local store and the repositories' git history: `RiskApi` implemented with `training`
(the cached model), `targets` and `scoring` (a change read from git, explained), `queries` and the pure
`metrics`."""

from __future__ import annotations

import logging
import re
from dataclasses import asdict
from pathlib import Path

import numpy as np

from engmetrics.areas.context import AreaService
from engmetrics.areas.risk import queries
from engmetrics.areas.risk.api import RiskApi
from engmetrics.areas.risk.feature_replay import labelled_dataset
from engmetrics.areas.risk.labelling import ensure_labels, fix_pattern
from engmetrics.areas.risk.metrics.evaluation import evaluate
from engmetrics.areas.risk.metrics.explain import top_signals
from engmetrics.areas.risk.metrics.fixes import fix_labels
from engmetrics.areas.risk.metrics.model import tier
from engmetrics.areas.risk.models import (
    EvaluatedModel,
    SignalCheckResult,
    RiskEvaluation,
    RiskEvaluationQuery,
    RiskScore,
    RiskScoreQuery,
    RiskyChange,
    RiskyChangeList,
    RiskyChangesQuery,
)
from engmetrics.areas.risk.scoring import score
from engmetrics.areas.risk.source_lines import ensure_sloc
from engmetrics.areas.risk.targets import resolve_target
from engmetrics.areas.risk.training import Trained, ensure_model
from engmetrics.errors import DataError, EngmetricsError, NotFound
from engmetrics.periods import Window, iso, resolve_window
from engmetrics.queries import decode_cursor, encode_cursor
from engmetrics.sources.git.repository import check_repository
from engmetrics.sources.git.repository import default_branch as git_default_branch
from engmetrics.store.repos import RepoRow
from engmetrics.validation import path_exists

_OWNER = re.compile(r"^([^/]+)/(.+)$")


def lookup_names(repo: str | None, owner: str | None) -> list[str]:
    """Names to look a repository up by, in order: 'owner/name' (``owner`` given apart, as in the Koalr API),
    the name as given, then the name without its owner."""
    if not repo:
        return []
    names = [repo]
    if owner and "/" not in repo:
        names.insert(0, f"{owner}/{repo}")
    if m := _OWNER.match(repo):
        names.append(m.group(2))
    return names


log = logging.getLogger(__name__)


class RiskService(AreaService, RiskApi):
    """The risk area over the local store and the repositories' git history."""

    def _risk_repo(self, repo: str | None, owner: str | None = None) -> RepoRow:
        """The repository a risk question is about: the named one, else the working tree's, else the only one."""
        names = lookup_names(repo, owner)
        for i, name in enumerate(names):
            try:
                return self.resolve_repo(name)
            except NotFound:
                if i < len(names) - 1:
                    continue
                if repo and path_exists(repo):
                    top = check_repository(repo)  # DataError when it is not a git repository
                    raise NotFound(
                        f"{top} is not synced yet: run `engmetrics sync --repo {top}` (or the sync tool) first.",
                        param="repo",
                    ) from None
                raise
        rows = self.served_repositories()
        try:
            top = check_repository(str(Path.cwd()))
            for r in rows:
                if r.path == top:
                    return r
        except EngmetricsError:
            pass
        if len(rows) == 1:
            return rows[0]
        if not rows:
            raise NotFound("No repository is synced yet: run `engmetrics sync --repo PATH` first.", param="repo")
        raise NotFound(
            f"Several repositories are synced ({', '.join(r.name for r in rows)}): pass repo to say which.", param="repo"
        )

    # ---- score_pr_risk ---------------------------------------------------------------------------------------

    async def score_pr_risk(self, q: RiskScoreQuery) -> RiskScore:
        row = self._risk_repo(q.repo, q.owner)
        return await self.store.run(self._score_pr_risk, row, q)

    def _score_pr_risk(self, row: RepoRow, q: RiskScoreQuery) -> RiskScore:
        path = check_repository(row.path)
        merged = queries.merged_pr_sha(self.store.read(), row.id, q.pr_number) if q.pr_number else None
        target = resolve_target(
            path, row.default_branch or git_default_branch(path), base=q.base, head=q.head, commit=q.commit,
            pr_number=q.pr_number, merged_pr_sha=merged,
        )
        trained = ensure_model(self.store, row.id, path, settings=self.settings)
        coverage = queries.label_coverage(self.store.read(), row.id, fix_pattern(self.settings))
        return score(self.store, row.id, row.name, trained, path, target, coverage, limit=q.limit,
                     offset=decode_cursor(q.cursor))

    # ---- list_risky_changes ----------------------------------------------------------------------------------

    async def list_risky_changes(self, q: RiskyChangesQuery) -> RiskyChangeList:
        window = resolve_window(q.period, q.from_, q.to)
        offset = decode_cursor(q.cursor)
        rows = [self._risk_repo(q.repo)] if q.repo else None
        return await self.store.run(self._list_risky_changes, rows, window, q.limit, offset)

    def _list_risky_changes(self, rows: list[RepoRow] | None, window: Window, limit: int,
                            offset: int) -> RiskyChangeList:
        """The window's changes of ``rows`` (None: every served repository), riskiest first (probability, then
        repository name and sha), one page of them."""
        found: list[tuple[float, float, RepoRow, Trained, int]] = []  # (score, probability, row, model, row index)
        for row in rows if rows is not None else self.served_repositories():
            trained = ensure_model(self.store, row.id, row.path, settings=self.settings)
            inside = np.nonzero((trained.times >= window.start_ts) & (trained.times < window.end_ts))[0]
            if not len(inside):
                continue
            probabilities = trained.model.proba(trained.X[inside])
            scores = trained.model.percentile(probabilities)
            found += [(float(s), float(p), row, trained, int(i))
                      for s, p, i in zip(scores, probabilities, inside, strict=True)]
        found.sort(key=lambda t: (-t[1], t[2].name, t[3].shas[t[4]]))
        page = found[offset : offset + limit]
        conn = self.store.read()
        summaries: dict[int, dict[str, queries.CommitSummary]] = {}
        fixed: dict[int, set[str]] = {}
        for row_id in {row.id for _, _, row, _, _ in page}:
            shas = [trained.shas[i] for _, _, row, trained, i in page if row.id == row_id]
            summaries[row_id] = queries.commit_summaries(conn, row_id, shas)
            fixed[row_id] = queries.later_fixed(conn, row_id, shas)
        items = []
        for s, p, row, trained, i in page:
            sha = trained.shas[i]
            shown = int(round(s))  # the tier is the shown score's: 49.6 is 50, medium
            c = summaries[row.id].get(sha)
            items.append(RiskyChange(
                repo=row.name, sha=sha, subject=c.subject[:200] if c else "", author=c.author_email if c else "",
                committed_at=(iso(c.committer_time) or "") if c else "", risk_score=shown, tier=tier(shown),
                probability=round(p, 4), top_signals=top_signals(trained.model, trained.X[i]),
                later_fixed=sha in fixed[row.id],
            ))
        nxt = offset + len(page)
        return RiskyChangeList(items=items, total=len(found), cursor=encode_cursor(nxt) if nxt < len(found) else None)

    # ---- labels for other areas (in process) --------------------------------------------------------------------

    async def ensure_fix_labels(self, repo_ids: list[int] | None) -> None:
        rows = [r for r in self.served_repositories() if repo_ids is None or r.id in repo_ids]
        pattern = fix_pattern(self.settings)

        def work() -> None:
            for row in rows:
                try:
                    ensure_labels(self.store, row.id, row.path, pattern)
                except EngmetricsError as exc:  # an unreadable clone: its labels stay as they are
                    log.warning("SZZ labels of %s not updated: %s", row.name, exc)

        await self.store.run(work)

    # ---- evaluate_risk (in process) --------------------------------------------------------------------------

    async def evaluate_risk(self, q: RiskEvaluationQuery) -> RiskEvaluation:
        """Rolling evaluation of the risk models on one repository's history (CLI `engmetrics risk evaluate`)."""
        row = self._risk_repo(q.repo)
        return await self.store.run(self._evaluate_risk, row, q.bootstrap)

    def _evaluate_risk(self, row: RepoRow, bootstrap: int) -> RiskEvaluation:
        pattern = fix_pattern(self.settings)
        ensure_labels(self.store, row.id, row.path, pattern)
        ensure_sloc(self.store, row.id, row.path)
        coverage = queries.label_coverage(self.store.read(), row.id, pattern)
        data = labelled_dataset(self.store, row.id, pattern, row.path, self.settings)
        ev = evaluate(data.X, data.times, data.fixed_at, bootstrap=bootstrap)
        if not ev.splits:
            said = f"SZZ labelled {coverage.labelled} of the {coverage.fixes} fix commits found by message"
            if coverage.pending or coverage.unreadable:
                said += f"; {coverage.pending} are pending (git failed on them) and {coverage.unreadable} unreadable"
                said += f" (git: {coverage.error})" if coverage.error else ""
            raise DataError(
                f"No evaluation is possible on {row.name}: {ev.why_no_splits}. {said}. Sync more history (a "
                "full clone, not a shallow or partial one), or set ENGMETRICS_RISK_FIX_PATTERN if this repository "
                "names its fixes differently.",
                param="repo",
            )
        return RiskEvaluation(
            repo=row.name, changes=ev.changes, labelled_inducing=ev.labelled_inducing, splits=ev.splits,
            fix_labels=fix_labels(coverage), models=[EvaluatedModel.model_validate(asdict(m)) for m in ev.models],
            signal_checks=[SignalCheckResult(name=c.name, changes_with_signal=c.changes_with_signal, auc_gain=c.auc_gain,
                                             auc_gain_ci=c.auc_gain_ci, verdict=c.verdict) for c in ev.signal_checks],
        )
