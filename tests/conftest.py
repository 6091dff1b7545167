"""Shared fixtures: a small real git repository whose history ends now, synced into a real store.

`sample_workspace` (built once per session) has a repository named ``sample`` with ~120 days of history
by three authors, weekly release tags (v1.0.0 …), a reverted commit, a hotfix release within 72 h of its
predecessor, a pre-release tag that must not count, and an incidents file. Tests that change the store
copy it first (`workspace_copy`).
"""

from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass
from typing import Any
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from gitrepo import GitRepo  # noqa: E402
from helpers import PostgresServer, copy_store, database_of  # noqa: E402

pytest_plugins = ["vendor_standins"]  # the stand-in Upshot and Koalr APIs and their fixtures (`upshot`, `koalr`)

AUTHORS = [("Ada Lovelace", "ada@example.com"), ("Grace Hopper", "grace@example.com"), ("Linus T", "linus@example.com")]


@dataclass
class Workspace:
    """A built sample: the repository, its store and the incidents file."""

    root: Path
    repo: GitRepo
    db: Path
    incidents_file: Path
    now: datetime
    tags: dict[str, str]


def build_sample(root: Path, now: datetime | None = None) -> Workspace:
    """Build the sample repository and incidents file under ``root`` (store not yet synced)."""
    now = (now or datetime.now(UTC)).replace(microsecond=0)
    start = now - timedelta(days=120)
    repo = GitRepo(root / "sample")
    tags: dict[str, str] = {}
    day = 0
    version = 0
    reverted_sha = None
    while day < 118:
        when = start + timedelta(days=day, hours=9)
        author = AUTHORS[day % 3]
        kind = "fix" if day % 5 == 0 else "feat"
        files = {f"src/mod{day % 7}.py": f"# change {day}\n" * (day % 4 + 1), "README.md": f"v{day}\n"}
        if day == 50:
            files = {"src/risky_feature.py": "def risky():\n    return 1\n"}
        sha = repo.commit(
            files,
            f"{kind}: change number {day}",
            author=author,
            when=when,
        )
        if day == 50:
            reverted_sha = sha
        if day == 53 and reverted_sha:
            repo.revert(reverted_sha, when=when + timedelta(hours=2))
        if day % 7 == 6:
            version += 1
            name = f"v1.{version}.0"
            repo.tag(name, annotated=True, when=when + timedelta(hours=6))
            tags[name] = repo.head()
            if version == 5:
                # A hotfix release within 72 h: only fix commits.
                repo.commit({"src/hot.py": "fixed\n"}, "fix: hotfix for checkout", author=AUTHORS[0],
                            when=when + timedelta(hours=20))
                repo.tag("v1.5.1", annotated=True, when=when + timedelta(hours=30))
                tags["v1.5.1"] = repo.head()
            if version == 8:
                repo.tag("v1.9.0-rc.1", when=when + timedelta(hours=7))
        day += 1
    incidents = [
        {"id": "INC-1", "title": "Checkout errors after release", "severity": "sev2",
         "started_at": (start + timedelta(days=90, hours=18)).strftime("%Y-%m-%dT%H:%M:%SZ"),
         "resolved_at": (start + timedelta(days=90, hours=21)).strftime("%Y-%m-%dT%H:%M:%SZ"), "repo": "sample"},
        {"id": "INC-2", "title": "Slow search", "severity": "sev3",
         "started_at": (now - timedelta(days=2)).strftime("%Y-%m-%dT%H:%M:%SZ"), "resolved_at": None, "repo": "sample"},
    ]
    incidents_file = root / "incidents.json"
    incidents_file.write_text(json.dumps(incidents))
    return Workspace(root, repo, root / "engmetrics.db", incidents_file, now, tags)


@pytest.fixture(scope="session")
def sample_workspace(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    """The sample repository, synced into its store, incidents imported (treat as read-only)."""
    return sync_sample(build_sample(tmp_path_factory.mktemp("workspace")))


def sync_sample(ws: Workspace) -> Workspace:
    """Register, sync and import the incidents of a built sample into its store; returns ``ws``."""
    import anyio

    from engmetrics.config import Settings
    from engmetrics.engine.local import LocalEngine

    engine = LocalEngine(Settings(db=ws.db))
    engine.register_repository(ws.repo.path)

    async def go() -> None:
        await engine.repos.sync()
        await engine.dora.import_events(ws.incidents_file, "incidents")

    anyio.run(go)
    engine.store.close()
    return ws


@pytest.fixture
def workspace_copy(sample_workspace: Workspace, tmp_path: Path) -> Workspace:
    """A private copy of the sample store (same repository) that a test may change."""
    db = copy_store(sample_workspace.db, tmp_path / "engmetrics.db")
    return Workspace(sample_workspace.root, sample_workspace.repo, db, sample_workspace.incidents_file,
                     sample_workspace.now, sample_workspace.tags)


@pytest.fixture
def local_engine(workspace_copy: Workspace):
    """A LocalEngine over a private copy of the sample store."""
    from engmetrics.config import Settings
    from engmetrics.engine.local import LocalEngine

    engine = LocalEngine(Settings(db=workspace_copy.db, sync_max_age_seconds=3600))
    yield engine
    engine.store.close()


# ---- a release train with exactly known DORA figures --------------------------------------------------------

#: Days of March 2024 with a release: two in each ISO week of Mar 4–31 (2024-W10 … W13).
TRAIN_RELEASE_DAYS = (4, 7, 11, 14, 18, 21, 25, 28)


@dataclass
class Train:
    """The synced release train: its repository and store."""

    repo: GitRepo
    db: Path


@pytest.fixture(scope="session")
def release_train(tmp_path_factory: pytest.TempPathFactory) -> Train:
    """Repository ``train``: v0.1.0 on 2024-02-26 20:00 (its first deployment), then two releases a week in
    March 2024 (v1.1.0 … v1.8.0 on `TRAIN_RELEASE_DAYS` at 20:00 UTC, annotated), each shipping one commit
    "feat: add widget N" authored and committed at 10:00 the same day. Over from=2024-03-04, to=2024-03-31
    (28 days): 8 deployments, 2 per week; every lead time 10 h; no failure (no fix, revert or incident).
    Synced store; treat as read-only (`copy_store` for a private one)."""
    import anyio

    from engmetrics.config import Settings
    from engmetrics.engine.local import LocalEngine

    root = tmp_path_factory.mktemp("train")
    repo = GitRepo(root / "train")
    repo.commit({"src/app.py": "app = 1\n"}, "feat: start the app", when="2024-02-26T10:00:00Z")
    repo.tag("v0.1.0", annotated=True, when="2024-02-26T20:00:00Z")
    for i, day in enumerate(TRAIN_RELEASE_DAYS, start=1):
        repo.commit({f"src/widget{i}.py": f"widget = {i}\n"}, f"feat: add widget {i}", when=f"2024-03-{day:02d}T10:00:00Z")
        repo.tag(f"v1.{i}.0", annotated=True, when=f"2024-03-{day:02d}T20:00:00Z")
    engine = LocalEngine(Settings(db=root / "engmetrics.db"))
    engine.register_repository(repo.path)
    assert not anyio.run(engine.repos.sync).errors
    engine.store.close()
    return Train(repo, root / "engmetrics.db")


# ---- the two stores: SQLite and PostgreSQL ------------------------------------------------------------------


@pytest.fixture(scope="session")
def postgres_server():  # type: ignore[no-untyped-def]
    """A real PostgreSQL server of this test session (initdb + pg_ctl in a temporary directory). Without the
    server programs the PostgreSQL tests are skipped locally, and fail in CI (which installs them)."""
    try:
        server = PostgresServer()
    except FileNotFoundError as exc:
        if os.environ.get("CI"):
            raise
        pytest.skip(str(exc))
    yield server
    server.stop()


@dataclass
class Backend:
    """Where a test's store lives: ``sqlite`` (a file) or ``postgresql`` (a database on the session's server)."""

    kind: str
    server: PostgresServer | None = None

    def settings(self, db: Path, **overrides: Any):  # type: ignore[no-untyped-def]
        """Settings of a new, empty store: SQLite at ``db``, or a new PostgreSQL database."""
        from pydantic import SecretStr

        from engmetrics.config import Settings

        if self.server is None:
            return Settings(db=db, **overrides)
        return Settings(db=db, database_url=SecretStr(self.server.create_database()), **overrides)

    def copy(self, settings, dest: Path, **overrides: Any):  # type: ignore[no-untyped-def]
        """Settings of a private copy of the (closed) store of ``settings``: its file copied to ``dest``, or its
        database copied as a template."""
        from pydantic import SecretStr

        if self.server is None:
            return settings.model_copy(update={"db": copy_store(settings.db, dest), **overrides})
        url = self.server.create_database(template=database_of(settings.database_url.get_secret_value()))
        return settings.model_copy(update={"db": dest, "database_url": SecretStr(url), **overrides})


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def backend(request: pytest.FixtureRequest) -> Backend:
    """Each store in turn: the suites that run on both stores take this (parametrised) fixture."""
    if request.param == "sqlite":
        return Backend("sqlite")
    return Backend("postgresql", request.getfixturevalue("postgres_server"))


@pytest.fixture(scope="session")
def sample_settings(backend: Backend, sample_workspace: Workspace, tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    """Settings of the synced sample store (`sample_workspace`) in the backend's store (treat as read-only)."""
    import anyio

    from engmetrics.engine.local import LocalEngine

    if backend.kind == "sqlite":
        return backend.settings(sample_workspace.db)
    settings = backend.settings(tmp_path_factory.mktemp("pgsample") / "unused.db")
    engine = LocalEngine(settings)
    engine.register_repository(sample_workspace.repo.path)

    async def go() -> None:
        await engine.repos.sync()
        await engine.dora.import_events(sample_workspace.incidents_file, "incidents")

    anyio.run(go)
    engine.store.close()
    return settings
# ---- the demo workspace, synced -----------------------------------------------------------------------------


@pytest.fixture(scope="session")
def demo_workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo workspace (`engmetrics.demo`, ending today) built, synced and its events imported, once per
    session; returns its root (the store is ``engmetrics.db`` there; treat as read-only)."""
    import anyio

    from engmetrics.config import Settings
    from engmetrics.engine.factory import prepare_demo
    from engmetrics.engine.local import LocalEngine

    root = tmp_path_factory.mktemp("demo")
    engine = LocalEngine(Settings(db=root / "engmetrics.db"))
    anyio.run(prepare_demo, engine, root)
    engine.store.close()
    return root


@pytest.fixture
def demo_store(demo_workspace: Path, tmp_path: Path) -> Path:
    """A private copy of the demo's store that a test may change."""
    return copy_store(demo_workspace / "engmetrics.db", tmp_path / "engmetrics.db")
