"""LocalEngine: answers every question from the embedded SQLite store, syncing its sources on demand."""

from __future__ import annotations

import difflib
import logging
import sqlite3
from typing import Any
import time
from collections.abc import Iterable
from pathlib import Path

import anyio
import anyio.from_thread
import anyio.to_thread

from engmetrics.config import Settings
from engmetrics.engine.base import Engine, ProgressFn
from engmetrics.engine.features.flow import LocalFlow
from engmetrics.engine.features.forecast import LocalForecast
from engmetrics.engine.features.narrative import LocalNarrative
from engmetrics.engine.features.risk import LocalRisk
from engmetrics.errors import InvalidInput, NotFound
from engmetrics.models import (
    ActivityFeed,
    ContributorSummary,
    Deployment,
    DeploymentList,
    DoraReport,
    ImportReport,
    Incident,
    IncidentList,
    Period,
    Repository,
    RepositoryList,
    SyncedRepo,
    SyncReport,
)
from engmetrics.periods import Window, iso, resolve_window
from engmetrics.queries import (
    ActivityQuery,
    ContributorQuery,
    DeploymentQuery,
    DoraQuery,
    IncidentQuery,
    decode_cursor,
    encode_cursor,
)
from engmetrics.store.db import Store, open_store, repo_filter
from engmetrics.store.repos import RepoRow, add_repository, find_repository, list_repositories

log = logging.getLogger(__name__)


def period_model(w: Window) -> Period:
    """A `Window` as the public `Period` model."""
    return Period(from_=iso(w.start_ts), to=iso(w.end_ts), label=w.label)


class LocalEngine(LocalRisk, LocalForecast, LocalNarrative, LocalFlow, Engine):
    """The metrics engine over the embedded store (SQLite at ``settings.db``)."""

    kind = "local"

    def __init__(self, settings: Settings, store: Store | None = None) -> None:
        self.settings = settings
        self.store = store or open_store(settings.db)
        self._sync_lock = anyio.Lock()
        self.last_sync_at: float | None = None
        self.served_ids: frozenset[int] | None = None  # None: every repository in the store (see serve_only)

    # ---- the served repositories -------------------------------------------------------------
    #
    # A server started for some repositories (`serve --repo`, ENGMETRICS_REPOS, the work tree it started
    # in, `api --repo`) answers for those only, however many its store holds. The scope lives here and
    # every operation goes through it: `resolve_repo` finds served repositories only (NotFound naming
    # them), `scope_repo_ids` defaults to them and narrows teams to them, `sync` and `list_repositories`
    # cover them, and a question without `repo` is about the one served repository when there is one
    # (`_default_to_served`, applied to every declared operation below the class).

    def serve_only(self, rows: Iterable[RepoRow]) -> None:
        """Answer for these repositories only (registered rows); every repository of the store otherwise."""
        self.served_ids = frozenset(r.id for r in rows)

    def served_repositories(self) -> list[RepoRow]:
        """The repositories this engine answers for, by name: the served ones, or every one in the store."""
        rows = list_repositories(self.store.read())
        return rows if self.served_ids is None else [r for r in rows if r.id in self.served_ids]

    def scope_sentence(self) -> str:
        """What this engine answers for, in a sentence (for instructions and error messages)."""
        rows = self.served_repositories()
        if self.served_ids is None:
            from engmetrics.served import whole_store_sentence

            return whole_store_sentence(self.settings.db, [r.name for r in rows])
        named = ", ".join(f"{r.name} ({r.path})" for r in rows)
        one = len(rows) == 1
        return (
            f"This server answers only for {named}. Tools called without `repo` answer for "
            f"{'it' if one else 'all of them together'}; other repositories in the store are not served."
        )

    def _served_names(self) -> str:
        return ", ".join(r.name for r in self.served_repositories()) or "none"

    def _with_served_default(self, q: Any) -> Any:
        """``q`` with ``repo`` set to the one served repository when it names neither a repository nor a team."""
        if self.served_ids is None or len(self.served_ids) != 1 or getattr(q, "repo", None) or getattr(q, "team", None):
            return q
        rows = self.served_repositories()
        return q.model_copy(update={"repo": rows[0].name}) if rows else q

    # ---- repositories and sync -------------------------------------------------------------

    def register_repository(self, path: str | Path, name: str | None = None) -> RepoRow:
        """Register a git repository (checked to be one) so that `sync` reads it.

        ``path`` may be ``PATH=NAME`` to name it (default: the folder's name, e.g. ``~/src/api=payments``).
        """
        from engmetrics.sources.git import check_repository
        from engmetrics.validation import path_exists

        text = str(path)
        if name is None and "=" in text and not path_exists(text):
            text, _, given = text.rpartition("=")
            name = given.strip() or None
        top = check_repository(text)
        with self.store.tx() as conn:
            return add_repository(conn, top, name)

    def resolve_repo(self, name_or_path: str) -> RepoRow:
        """The served repository with this name or path (`NotFound` naming the served ones)."""
        conn = self.store.read()
        if self.served_ids is None:
            return find_repository(conn, name_or_path)
        try:
            return find_repository(conn, name_or_path, among=self.served_ids)
        except NotFound:
            raise NotFound(
                f"Repository {name_or_path!r} is not served here: this server answers only for {self._served_names()} "
                "(the repositories it was started with). Omit `repo`, or pass one of those; to ask about another "
                "repository, start engmetrics with --repo for it too.",
                param="repo",
            ) from None

    def scope_repo_ids(self, repo: str | None, team: str | None = None) -> list[int] | None:
        """Repository ids a question covers: one repository, a team's (its served ones), or every served one
        (None when every repository of the store is served)."""
        if team:
            from engmetrics.teams import team_repo_ids

            ids = team_repo_ids(self, team)
            if self.served_ids is not None:
                ids = [i for i in ids if i in self.served_ids]
                if not ids:
                    raise NotFound(
                        f"Team {team!r} has no repository served here: this server answers only for "
                        f"{self._served_names()}. Ask about one of those, or start engmetrics with --repo for the "
                        "team's repositories.",
                        param="team",
                    )
            return ids
        if repo:
            return [self.resolve_repo(repo).id]
        return None if self.served_ids is None else sorted(self.served_ids)

    async def list_repositories(self) -> RepositoryList:
        return await self.store.run(self._list_repositories)

    def _list_repositories(self) -> RepositoryList:
        conn = self.store.read()
        out = []
        for r in self.served_repositories():
            c = conn.execute(
                "SELECT count(*), min(author_time), max(committer_time) FROM commits WHERE repo_id = ?", (r.id,)
            ).fetchone()
            tags = conn.execute("SELECT count(*) FROM tags WHERE repo_id = ?", (r.id,)).fetchone()[0]
            deps = conn.execute("SELECT count(*), max(source) FROM deployments WHERE repo_id = ?", (r.id,)).fetchone()
            inc = conn.execute("SELECT count(*) FROM incidents WHERE repo_id = ?", (r.id,)).fetchone()[0]
            source = "none" if not deps[0] else ("events" if deps[1] == "event" else "tags")
            out.append(
                Repository(
                    name=r.name,
                    path=r.path,
                    default_branch=r.default_branch,
                    commits=c[0],
                    tags=tags,
                    deployments=deps[0],
                    incidents=inc,
                    deployment_source=source,
                    first_commit_at=iso(c[1]),
                    last_commit_at=iso(c[2]),
                    last_synced_at=iso(r.last_synced_at),
                )
            )
        return RepositoryList(repositories=out)

    async def sync(self, repo: str | None = None, progress: ProgressFn | None = None) -> SyncReport:
        async with self._sync_lock:
            rows = [self.resolve_repo(repo)] if repo else self.served_repositories()
            report = SyncReport(repos=[])
            for index, row in enumerate(rows):
                if progress:
                    await progress(index, len(rows), f"syncing {row.name}")
                try:
                    report.repos.append(await anyio.to_thread.run_sync(self._sync_one, row, progress))
                except Exception as exc:  # one bad repository must not stop the others
                    from engmetrics.errors import EngmetricsError

                    leaf: BaseException = exc
                    while isinstance(leaf, BaseExceptionGroup) and leaf.exceptions:  # the cause, not the group's text
                        leaf = leaf.exceptions[0]
                    if not isinstance(leaf, EngmetricsError):
                        log.error("sync of %s failed", row.name, exc_info=leaf)
                    report.errors.append(f"{row.name}: {leaf}")
            if progress:
                await progress(len(rows), len(rows), "done")
            self.last_sync_at = time.time()
            return report

    def _sync_one(self, row: RepoRow, progress: ProgressFn | None) -> SyncedRepo:
        from engmetrics.sources.derive import derive_repository
        from engmetrics.sources.git import sync_git

        started = time.perf_counter()

        def on_batch(done: int, total: int | None) -> None:
            if progress is not None:
                try:
                    anyio.from_thread.run(progress, done, total, f"{row.name}: {done} commits")
                except RuntimeError:  # not called from an anyio worker thread (CLI): ignore
                    pass

        result = sync_git(self.store, row.id, row.path, on_batch)
        from engmetrics.engine.features.flow import sync_pull_request_sources

        prs, pr_notes = sync_pull_request_sources(self, row, progress)
        derive_repository(self.store, row.id, self.settings.tag_pattern)
        from engmetrics.risk.score import sync_fix_labels

        labels = sync_fix_labels(self.store, row.id, self.settings)
        with self.store.tx() as conn:
            conn.execute(
                "UPDATE repositories SET last_synced_at = ?, default_branch = coalesce(?, default_branch) WHERE id = ?",
                (int(time.time()), result.default_branch, row.id),
            )
            # What is stored, as `repos` lists it (every environment and status; DORA counts the successful
            # production ones), not what derive_repository counts for DORA.
            deployments = conn.execute("SELECT count(*) FROM deployments WHERE repo_id = ?", (row.id,)).fetchone()[0]
        return SyncedRepo(
            repo=row.name,
            new_commits=result.new_commits,
            new_tags=result.new_tags,
            deployments=deployments,
            walked_history=result.walked_history,
            skipped=list(result.skipped) + pr_notes,
            pull_requests=prs,
            fix_labels=labels,
            seconds=round(time.perf_counter() - started, 3),
        )

    def is_stale(self) -> bool:
        """Whether data is older than ``sync_max_age_seconds``."""
        return self.last_sync_at is None or time.time() - self.last_sync_at > self.settings.sync_max_age_seconds

    # ---- explicit events ---------------------------------------------------------------------

    async def record_deployment(
        self,
        repo: str,
        sha: str,
        *,
        environment: str = "production",
        status: str = "success",
        at: str | None = None,
        service: str | None = None,
    ) -> Deployment:
        """Store one deployment event (what a CD pipeline calls after a deploy) and re-derive its repository."""
        from engmetrics.periods import parse_instant, utcnow
        from engmetrics.sources.derive import derive_repository
        from engmetrics.sources.events import upsert_deployment

        row = self.resolve_repo(repo)
        deployed_at = int((parse_instant(at, param="at") if at else utcnow()).timestamp())

        def write() -> str:
            with self.store.tx() as conn:
                eid, _ = upsert_deployment(
                    conn, row, sha=sha, deployed_at=deployed_at, environment=environment, status=status,
                    service=service, source="cli",
                )
            derive_repository(self.store, row.id, self.settings.tag_pattern)
            return eid

        eid = await self.store.run(write)
        page = await self.store.run(self._deployments_by_ids, [eid])
        return page[0]

    async def import_events(self, path: str | Path, kind: str) -> ImportReport:
        """Import deployments or incidents (CSV or JSON) and re-derive the repositories they touch."""
        from engmetrics.sources.derive import derive_repository
        from engmetrics.sources.events import import_file

        if kind not in ("deployments", "incidents"):
            raise InvalidInput("kind must be 'deployments' or 'incidents'")

        def work() -> ImportReport:
            outcome = import_file(self.store, Path(path), kind)  # type: ignore[arg-type]
            repo_ids = outcome.touched_repo_ids if kind == "deployments" else {r.id for r in list_repositories(self.store.read())}
            for rid in sorted(repo_ids):
                derive_repository(self.store, rid, self.settings.tag_pattern)
            return ImportReport(
                kind=kind, file=str(path), imported=outcome.imported, unchanged=outcome.unchanged, errors=outcome.errors
            )

        return await self.store.run(work)

    # ---- DORA ----------------------------------------------------------------------------------

    async def get_dora(self, q: DoraQuery) -> DoraReport:
        from engmetrics.engine.dora_query import dora_report

        window = resolve_window(q.period, q.from_, q.to)
        repo_ids = self.scope_repo_ids(q.repo, q.team)
        year = q.benchmark_year or self.settings.benchmark_year
        return await self.store.run(dora_report, self.store, window, repo_ids, year, q.repo, q.team)

    # ---- lists ---------------------------------------------------------------------------------

    def _deployment_rows(self, rows: list[sqlite3.Row]) -> list[Deployment]:
        conn = self.store.read()
        out = []
        for r in rows:
            med = conn.execute(
                "SELECT lead_time_hours FROM deployment_changes WHERE deployment_id = ? AND lead_time_hours > 0"
                " ORDER BY lead_time_hours",
                (r["id"],),
            ).fetchall()
            median = None
            if med:
                vals = [m[0] for m in med]
                n = len(vals)
                median = round(vals[n // 2] if n % 2 else (vals[n // 2 - 1] + vals[n // 2]) / 2, 2)
            out.append(
                Deployment(
                    id=r["id"],
                    repo=r["repo_name"],
                    sha=r["sha"],
                    environment=r["environment"],
                    status=r["status"],
                    deployed_at=iso(r["deployed_at"]),
                    service=r["service"],
                    source=r["source"],
                    tag=r["tag"],
                    change_count=r["change_count"],
                    lead_time_hours_median=median,
                    failed=bool(r["failed"]),
                    failure_signal=r["failure_signal"],
                    unplanned=bool(r["is_hotfix"] or r["has_revert"] or r["during_incident"]),
                    rework_signal=(
                        "revert" if r["has_revert"] else "hotfix" if r["is_hotfix"]
                        else "incident" if r["during_incident"] else None
                    ),
                )
            )
        return out

    _DEPLOY_SELECT = "SELECT d.*, r.name AS repo_name FROM deployments d JOIN repositories r ON r.id = d.repo_id"

    def _deployments_by_ids(self, ids: list[str]) -> list[Deployment]:
        rows = self.store.read().execute(
            f"{self._DEPLOY_SELECT} WHERE d.id IN ({','.join('?' * len(ids))})", ids
        ).fetchall()
        return self._deployment_rows(rows)

    def _page(
        self, table: str, select: str, where: str, args: list[Any], order: str, limit: int, offset: int
    ) -> tuple[list[sqlite3.Row], int, str | None]:
        """One page of ``select … WHERE 1=1{where} ORDER BY {order}``: (rows, total matching, next cursor or None).

        ``table`` is the ``FROM`` clause the count runs over (same alias as ``select``'s).
        """
        conn = self.store.read()
        total = conn.execute(f"SELECT count(*) FROM {table} WHERE 1=1{where}", args).fetchone()[0]
        rows = conn.execute(f"{select} WHERE 1=1{where} ORDER BY {order} LIMIT ? OFFSET ?", [*args, limit, offset]).fetchall()
        nxt = offset + len(rows)
        return rows, total, encode_cursor(nxt) if nxt < total else None

    async def list_deployments(self, q: DeploymentQuery) -> DeploymentList:
        window = resolve_window(q.period, q.from_, q.to)
        repo_ids = self.scope_repo_ids(q.repo, q.team)
        offset = decode_cursor(q.cursor)

        def work() -> DeploymentList:
            where, args = repo_filter(repo_ids, "d.repo_id")
            where += " AND d.deployed_at >= ? AND d.deployed_at < ?"
            args += [window.start_ts, window.end_ts]
            if q.environment:
                where += " AND d.environment = ?"
                args.append(q.environment.lower())
            rows, total, cursor = self._page(
                "deployments d", self._DEPLOY_SELECT, where, args, "d.deployed_at DESC, d.id", q.limit, offset
            )
            return DeploymentList(items=self._deployment_rows(rows), total=total, cursor=cursor)

        return await self.store.run(work)

    async def list_incidents(self, q: IncidentQuery) -> IncidentList:
        window = resolve_window(q.period, q.from_, q.to)
        repo_ids = self.scope_repo_ids(q.repo, q.team)
        offset = decode_cursor(q.cursor)

        def work() -> IncidentList:
            where, args = repo_filter(repo_ids, "i.repo_id")
            # An incident belongs to a window when it was open during it.
            where += " AND i.started_at < ? AND (i.resolved_at IS NULL OR i.resolved_at >= ?)"
            args += [window.end_ts, window.start_ts]
            if q.status == "open":
                where += " AND i.resolved_at IS NULL"
            elif q.status == "resolved":
                where += " AND i.resolved_at IS NOT NULL"
            rows, total, cursor = self._page(
                "incidents i",
                "SELECT i.*, r.name AS repo_name, (SELECT d.id FROM deployments d WHERE d.failure_signal = 'incident'"
                " AND d.failure_evidence = i.id LIMIT 1) AS attributed FROM incidents i"
                " LEFT JOIN repositories r ON r.id = i.repo_id",
                where, args, "i.started_at DESC, i.id", q.limit, offset,
            )
            items = [
                Incident(
                    id=r["id"],
                    title=r["title"],
                    severity=r["severity"],
                    status="open" if r["resolved_at"] is None else "resolved",
                    started_at=iso(r["started_at"]),
                    resolved_at=iso(r["resolved_at"]),
                    duration_hours=None
                    if r["resolved_at"] is None
                    else round((r["resolved_at"] - r["started_at"]) / 3600, 2),
                    repo=r["repo_name"],
                    deployment_id=r["deployment_id"] or r["attributed"],
                    sha=r["sha"],
                )
                for r in rows
            ]
            return IncidentList(items=items, total=total, cursor=cursor)

        return await self.store.run(work)

    async def get_activity(self, q: ActivityQuery) -> ActivityFeed:
        window = resolve_window(q.period, q.from_, q.to)
        repo_ids = self.scope_repo_ids(q.repo, q.team)
        offset = decode_cursor(q.cursor)
        from engmetrics.engine.activity import activity_page

        return await self.store.run(activity_page, self.store, window, repo_ids, q.type, q.author, q.limit, offset)

    async def get_contributor_summary(self, q: ContributorQuery) -> ContributorSummary:
        window = resolve_window(q.period, q.from_, q.to)
        served_ids = self.scope_repo_ids(None)
        served, served_args = repo_filter(served_ids, "repo_id")
        scope_c, _ = repo_filter(served_ids, "c.repo_id")

        def work() -> ContributorSummary:
            conn = self.store.read()
            who = q.contributor.strip().lower()
            # One person, several identities: every email used under a name that the given email or name
            # was used with (e.g. a work and a personal address under "Priya Raman"), in the served repositories.
            emails = [
                r[0]
                for r in conn.execute(
                    f"SELECT DISTINCT author_email FROM commits WHERE lower(author_name) IN ("
                    f" SELECT DISTINCT lower(author_name) FROM commits WHERE (lower(author_email) = ? OR lower(author_name) = ?)"
                    f"{served}){served} ORDER BY lower(author_email) = ? DESC, author_email",
                    (who, who, *served_args, *served_args, who),
                )
            ]
            if not emails:
                known = [
                    r[0] for r in conn.execute(
                        f"SELECT DISTINCT author_email FROM commits WHERE 1=1{served} ORDER BY author_time DESC LIMIT 2000",
                        served_args,
                    )
                ]
                names = [r[0] for r in conn.execute(f"SELECT DISTINCT author_name FROM commits WHERE 1=1{served} LIMIT 2000",
                                                    served_args)]
                close = difflib.get_close_matches(q.contributor, known + names, n=3, cutoff=0.6)
                hint = f" Did you mean {', '.join(repr(c) for c in close)}?" if close else ""
                where = "any synced repository" if self.served_ids is None else f"the served repositories ({self._served_names()})"
                raise NotFound(
                    f"No commits by {q.contributor!r} in {where}.{hint} Pass an author email or name "
                    "exactly as it appears in git log.",
                    param="contributor",
                )
            marks = ",".join("?" * len(emails))
            base = f"FROM commits c WHERE c.author_email IN ({marks}) AND c.author_time >= ? AND c.author_time < ?{scope_c}"
            args = [*emails, window.start_ts, window.end_ts, *served_args]
            agg = conn.execute(
                f"SELECT count(*), coalesce(sum(additions),0), coalesce(sum(deletions),0), min(author_time),"
                f" max(author_time) {base}",
                args,
            ).fetchone()
            files = conn.execute(
                "SELECT count(*) FROM (SELECT DISTINCT f.repo_id, f.path FROM file_changes f JOIN commits c"
                f" ON c.repo_id = f.repo_id AND c.sha = f.sha WHERE c.author_email IN ({marks})"
                f" AND c.author_time >= ? AND c.author_time < ?{scope_c})",
                args,
            ).fetchone()[0]
            repos = [
                r[0]
                for r in conn.execute(
                    f"SELECT DISTINCT r.name FROM commits c JOIN repositories r ON r.id = c.repo_id"
                    f" WHERE c.author_email IN ({marks}) AND c.author_time >= ? AND c.author_time < ?{scope_c} ORDER BY r.name",
                    args,
                )
            ]
            names = sorted(
                {r[0] for r in conn.execute(f"SELECT DISTINCT author_name FROM commits WHERE author_email IN ({marks}){served}",
                                            [*emails, *served_args])}
            )
            deploys = conn.execute(
                "SELECT count(DISTINCT d.id) FROM deployments d JOIN deployment_changes dc ON dc.deployment_id = d.id"
                f" JOIN commits c ON c.repo_id = d.repo_id AND c.sha = dc.sha WHERE c.author_email IN ({marks})"
                f" AND d.deployed_at >= ? AND d.deployed_at < ? AND d.status = 'success'{scope_c}",
                args,
            ).fetchone()[0]
            extra = self._contributor_pr_counts(conn, emails, window, served_ids)
            return ContributorSummary(
                contributor=emails[0],
                names=names,
                emails=emails,
                period=window.label,
                period_window=period_model(window),
                commits=agg[0],
                lines_added=agg[1],
                lines_removed=agg[2],
                files_touched=files,
                repos=repos,
                prs_merged=extra[0],
                prs_reviewed=extra[1],
                deploy_contributions=deploys,
                first_commit_at=iso(agg[3]),
                last_commit_at=iso(agg[4]),
            )

        return await self.store.run(work)

    def _contributor_pr_counts(self, conn: sqlite3.Connection, emails: list[str], window: Window,
                               repo_ids: list[int] | None = None) -> tuple[int | None, int | None]:
        """(prs_merged, prs_reviewed) in ``repo_ids`` (None: all) when PR data exists; (None, None) otherwise."""
        from engmetrics.engine.features.flow import contributor_pr_counts

        return contributor_pr_counts(self, conn, emails, window, repo_ids)

    async def aclose(self) -> None:
        self.store.close()


def _default_to_served(cls: type[LocalEngine]) -> None:
    """Wrap every declared operation whose request has a ``repo`` so that, on an engine serving one repository,
    a question naming neither a repository nor a team is about that repository (`_with_served_default`).

    Done once here for every operation (core and feature areas alike) rather than in each one; the other
    halves of the scope (lookups, defaults of several served repositories, teams) are in `resolve_repo` and
    `scope_repo_ids`, which every operation already goes through.
    """
    import functools

    from engmetrics.engine.operations import operations

    for op in operations(cls):
        if op.query_model is None or "repo" not in op.query_model.model_fields:
            continue
        fn = getattr(cls, op.name)

        @functools.wraps(fn)
        async def scoped(self: LocalEngine, q: Any, _fn: Any = fn) -> Any:
            return await _fn(self, self._with_served_default(q))

        setattr(cls, op.name, scoped)


_default_to_served(LocalEngine)
