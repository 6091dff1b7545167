"""The risk area over the local store and the repositories' git history."""

from __future__ import annotations

from typing import Any

from engmetrics.areas.risk.models import (
    RiskEvaluation,
    RiskScore,
    RiskScoreQuery,
    RiskyChange,
    RiskyChangeList,
    RiskyChangesQuery,
)


from engmetrics.areas.context import AreaService
from engmetrics.areas.risk.api import RiskApi


class RiskService(AreaService, RiskApi):
    """The risk area over the local store and the repositories' git history."""


    def _risk_repo(self, repo: str | None, owner: str | None = None) -> Any:
        """The repository a risk question is about: the named one, else the working tree's, else the only one."""
        from pathlib import Path

        from engmetrics.errors import EngmetricsError, NotFound
        from engmetrics.areas.risk.scoring import split_owner
        from engmetrics.sources.git import check_repository
        from engmetrics.validation import path_exists

        names = split_owner(repo, owner)
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

    async def score_pr_risk(self, q: RiskScoreQuery) -> RiskScore:
        row = self._risk_repo(q.repo, q.owner)
        return await self.store.run(self._score_pr_risk, row, q)

    def _score_pr_risk(self, row: Any, q: RiskScoreQuery) -> RiskScore:
        from engmetrics.areas.risk.scoring import resolve_target, score
        from engmetrics.areas.risk.szz import fix_pattern, label_coverage
        from engmetrics.areas.risk.training import ensure_model
        from engmetrics.sources.git import check_repository
        from engmetrics.sources.git import default_branch as git_default_branch
        from engmetrics.sources.git_prs import merged_prs

        path = check_repository(row.path)
        merged = None
        if q.pr_number:
            for pr in merged_prs(self.store.read(), [row.id]):
                if pr.number == q.pr_number:
                    merged = (pr.kind, pr.sha, pr.head_sha)
                    break
        target = resolve_target(
            path, row.default_branch or git_default_branch(path), base=q.base, head=q.head, commit=q.commit,
            pr_number=q.pr_number, merged_pr=merged,
        )
        trained = ensure_model(self.store, row.id, path, settings=self.settings)
        coverage = label_coverage(self.store.read(), row.id, fix_pattern(self.settings))
        return score(self.store, row.id, row.name, trained, path, target, coverage)

    async def list_risky_changes(self, q: RiskyChangesQuery) -> RiskyChangeList:
        from engmetrics.periods import resolve_window
        from engmetrics.queries import decode_cursor

        window = resolve_window(q.period, q.from_, q.to)
        offset = decode_cursor(q.cursor)
        rows = [self._risk_repo(q.repo)] if q.repo else None
        return await self.store.run(self._list_risky_changes, rows, window, q.limit, offset)

    def _list_risky_changes(self, rows: list[Any] | None, window: Any, limit: int, offset: int) -> RiskyChangeList:
        import numpy as np

        from engmetrics.periods import iso
        from engmetrics.queries import encode_cursor
        from engmetrics.areas.risk.metrics.model import tier
        from engmetrics.areas.risk.scoring import top_signals
        from engmetrics.areas.risk.training import ensure_model

        rows = rows if rows is not None else self.served_repositories()
        found: list[tuple[float, float, Any, Any, int]] = []  # (score, probability, row, trained, index)
        for row in rows:
            trained = ensure_model(self.store, row.id, row.path, settings=self.settings)
            inside = np.nonzero((trained.times >= window.start_ts) & (trained.times < window.end_ts))[0]
            if not len(inside):
                continue
            p = trained.model.proba(trained.X[inside])
            scores = trained.model.percentile(p)
            found += [(float(s), float(pi), row, trained, int(i)) for s, pi, i in zip(scores, p, inside, strict=True)]
        found.sort(key=lambda t: (-t[1], t[2].name, t[3].shas[t[4]]))
        page = found[offset : offset + limit]
        conn = self.store.read()
        items = []
        for s, p, row, trained, i in page:
            sha = trained.shas[i]
            c = conn.execute(
                "SELECT subject, author_email, committer_time FROM commits WHERE repo_id = ? AND sha = ?", (row.id, sha)
            ).fetchone()
            fixed = conn.execute(
                "SELECT 1 FROM risk_szz_links WHERE repo_id = ? AND inducing_sha = ? LIMIT 1", (row.id, sha)
            ).fetchone()
            items.append(RiskyChange(
                repo=row.name, sha=sha, subject=c[0][:200] if c else "", author=c[1] if c else "",
                committed_at=iso(c[2]) if c else "", risk_score=int(round(s)), tier=tier(s), probability=round(p, 4),
                top_signals=top_signals(trained.model, trained.X[i]), later_fixed=fixed is not None,
            ))
        nxt = offset + len(page)
        return RiskyChangeList(items=items, total=len(found), cursor=encode_cursor(nxt) if nxt < len(found) else None)

    async def evaluate_risk(self, repo: str, *, bootstrap: int | None = None) -> RiskEvaluation:
        """Rolling evaluation of the risk models on one repository's history (CLI `engmetrics risk evaluate`)."""
        row = self._risk_repo(repo)
        return await self.store.run(self._evaluate_risk, row, bootstrap)

    def _evaluate_risk(self, row: Any, bootstrap: int | None) -> RiskEvaluation:
        from engmetrics.errors import DataError
        from engmetrics.areas.risk.metrics.evaluation import BOOTSTRAP, evaluate
        from engmetrics.areas.risk.models import EvaluatedModel
        from engmetrics.areas.risk.scoring import fix_labels
        from engmetrics.areas.risk.source_lines import ensure_sloc
        from engmetrics.areas.risk.szz import ensure_labels, fix_pattern, label_coverage
        from engmetrics.areas.risk.training import labelled_dataset

        pattern = fix_pattern(self.settings)
        ensure_labels(self.store, row.id, row.path, pattern)
        ensure_sloc(self.store, row.id, row.path)
        coverage = label_coverage(self.store.read(), row.id, pattern)
        labels = fix_labels(coverage)
        _, times, X, fixed_at, _ = labelled_dataset(self.store, row.id, pattern, row.path, self.settings)
        ev = evaluate(X, times, fixed_at, bootstrap=BOOTSTRAP if bootstrap is None else bootstrap)
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
            fix_labels=labels, models=[EvaluatedModel(**m.__dict__) for m in ev.models],
        )
