"""The git source against real repositories built with git (see tests/gitrepo.py)."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from engmetrics.errors import DataError
from engmetrics.sources.git.messages import parse_trailers
from engmetrics.sources.git.repository import check_repository, current_branch, default_branch
from engmetrics.sources.git.sync import GitSyncResult, sync_git
from engmetrics.store.db import Store
from engmetrics.store.open import open_store
from engmetrics.store.repos import add_repository
from gitrepo import GitRepo, run_git, unix


@pytest.fixture
def store(tmp_path: Path) -> Store:
    s = open_store(tmp_path / "store.sqlite")
    yield s
    s.close()


def register(store: Store, repo: GitRepo) -> int:
    with store.tx() as conn:
        return add_repository(conn, repo.path).id


def commits(store: Store, repo_id: int) -> dict[str, dict]:
    rows = store.read().execute("SELECT * FROM commits WHERE repo_id = ?", (repo_id,)).fetchall()
    return {r["sha"]: dict(r) for r in rows}


def file_changes(store: Store, repo_id: int, sha: str | None = None) -> list[tuple]:
    sql = "SELECT sha, path, old_path, additions, deletions FROM file_changes WHERE repo_id = ?"
    args: tuple = (repo_id,)
    if sha:
        sql += " AND sha = ?"
        args += (sha,)
    return sorted(tuple(r) for r in store.read().execute(sql, args))


def tags(store: Store, repo_id: int) -> dict[str, tuple]:
    rows = store.read().execute("SELECT name, sha, tag_time, annotated FROM tags WHERE repo_id = ?", (repo_id,))
    return {r[0]: (r[1], r[2], bool(r[3])) for r in rows}


def cursor(store: Store, repo_id: int) -> dict | None:
    row = store.read().execute(
        "SELECT cursor FROM sync_cursors WHERE repo_id = ? AND source = 'git'", (repo_id,)
    ).fetchone()
    return json.loads(row[0]) if row else None


@pytest.fixture
def history(tmp_path: Path) -> tuple[GitRepo, dict[str, str]]:
    """main: root → rename+binary → (feature branch merged) → revert; tags v1.0.0 (annotated), v1.1.0."""
    repo = GitRepo(tmp_path / "repo")
    shas: dict[str, str] = {}
    shas["root"] = repo.commit(
        {"app.py": "a\nb\nc\n", "logo.png": b"\x89PNG\0\1\2\3"},
        "feat: start\n\nFirst body line.\n\nSigned-off-by: Ada <ada@example.com>\nReviewed-by: Bob <bob@example.com>\n",
        when="2024-01-01T10:00:00Z",
    )
    shas["rename"] = repo.commit(
        {"app.py": None, "src/app.py": "a\nb\nc\nd\n", "logo.png": b"\x89PNG\0\7\7"},
        "refactor: move app",
        author=("Bob", "bob@example.com"),
        when="2024-01-02T10:00:00Z",
        committed="2024-01-02T12:00:00Z",
    )
    repo.tag("v1.0.0", annotated=True, when="2024-01-03T09:00:00Z")
    repo.checkout("feature", create=True)
    shas["feature"] = repo.commit({"lib.py": "x = 1\n"}, "feat: lib", when="2024-01-04T10:00:00Z")
    repo.checkout("main")
    shas["main2"] = repo.commit({"README.md": "hi\n"}, "docs: readme", when="2024-01-05T10:00:00Z")
    shas["merge"] = repo.merge("feature", when="2024-01-06T10:00:00Z")
    shas["revert"] = repo.revert(shas["main2"], when="2024-01-07T10:00:00Z")
    repo.tag("v1.1.0")
    return repo, shas


def test_full_sync_records_commits_files_and_tags(store: Store, history) -> None:
    repo, shas = history
    rid = register(store, repo)
    seen: list[tuple[int, int | None]] = []
    result = sync_git(store, rid, str(repo.path), progress=lambda done, total: seen.append((done, total)))

    assert isinstance(result, GitSyncResult)
    assert result.new_commits == 6 and result.walked_history and result.skipped == []
    assert result.new_tags == 2 and result.default_branch == "main"
    assert seen and seen[-1][0] == 6 and seen[-1][1] in (6, None)

    rows = commits(store, rid)
    assert set(rows) == set(shas.values())
    root = rows[shas["root"]]
    assert root["parents"] == "" and root["subject"] == "feat: start"
    assert root["body"].startswith("First body line.")
    assert json.loads(root["trailers"]) == [["Signed-off-by", "Ada <ada@example.com>"], ["Reviewed-by", "Bob <bob@example.com>"]]
    assert (root["additions"], root["deletions"], root["files_changed"]) == (3, 0, 2)  # the binary counts 0
    assert root["author_time"] == unix("2024-01-01T10:00:00Z") and root["author_name"] == "Ada Lovelace"

    moved = rows[shas["rename"]]
    assert moved["author_email"] == "bob@example.com"
    assert moved["committer_time"] == unix("2024-01-02T12:00:00Z")
    assert moved["author_time"] == unix("2024-01-02T10:00:00Z")
    assert file_changes(store, rid, shas["rename"]) == [
        (shas["rename"], "logo.png", None, None, None),
        (shas["rename"], "src/app.py", "app.py", 1, 0),
    ]
    assert (moved["additions"], moved["deletions"], moved["files_changed"]) == (1, 0, 2)

    merge = rows[shas["merge"]]
    assert merge["parents"].split() == [shas["main2"], shas["feature"]]
    assert file_changes(store, rid, shas["merge"]) == [] and merge["files_changed"] == 0

    revert = rows[shas["revert"]]
    assert revert["subject"] == 'Revert "docs: readme"'
    assert f"This reverts commit {shas['main2']}." in revert["body"]
    assert file_changes(store, rid, shas["revert"]) == [(shas["revert"], "README.md", None, 0, 1)]

    assert tags(store, rid) == {
        "v1.0.0": (shas["rename"], unix("2024-01-03T09:00:00Z"), True),
        "v1.1.0": (shas["revert"], unix("2024-01-07T10:00:00Z"), False),  # the commit's committer date
    }
    assert cursor(store, rid)["tips"]["refs/heads/main"] == shas["revert"]


def test_resync_without_changes_walks_nothing(store: Store, history) -> None:
    repo, _ = history
    rid = register(store, repo)
    sync_git(store, rid, str(repo.path))
    before = (len(commits(store, rid)), file_changes(store, rid), tags(store, rid))
    again = sync_git(store, rid, str(repo.path))
    assert (again.new_commits, again.new_tags, again.walked_history) == (0, 0, False)
    assert again.default_branch == "main"
    assert (len(commits(store, rid)), file_changes(store, rid), tags(store, rid)) == before


def test_incremental_sync_adds_exactly_the_new_commits_and_tags(store: Store, history) -> None:
    repo, shas = history
    rid = register(store, repo)
    sync_git(store, rid, str(repo.path))
    n_files = len(file_changes(store, rid))

    a = repo.commit({"src/app.py": "a\nb\nc\nd\ne\n"}, "fix: e", when="2024-02-01T10:00:00Z")
    b = repo.commit({"new.txt": "n\n"}, "feat: new", when="2024-02-02T10:00:00Z")
    repo.tag("v1.2.0", annotated=True, when="2024-02-03T10:00:00Z")
    progress: list[tuple[int, int | None]] = []
    result = sync_git(store, rid, str(repo.path), progress=lambda d, t: progress.append((d, t)))
    assert (result.new_commits, result.new_tags, result.walked_history) == (2, 1, True)
    assert progress[-1] == (2, 2)  # only the new range is walked
    assert set(commits(store, rid)) == set(shas.values()) | {a, b}
    assert len(file_changes(store, rid)) == n_files + 2

    # Tags moved and deleted are reconciled; commits never duplicate.
    repo.tag("v1.1.0", a, force=True)
    repo.delete_tag("v1.0.0")
    result = sync_git(store, rid, str(repo.path))
    assert (result.new_commits, result.new_tags) == (0, 1)
    assert set(tags(store, rid)) == {"v1.1.0", "v1.2.0"} and tags(store, rid)["v1.1.0"][0] == a
    assert len(file_changes(store, rid)) == n_files + 2


def test_crash_mid_sync_leaves_store_consistent_and_next_sync_completes(store: Store, history) -> None:
    repo, shas = history
    rid = register(store, repo)

    def explode(done: int, total: int | None) -> None:
        raise KeyboardInterrupt("simulated crash after the first batch")

    with pytest.raises(KeyboardInterrupt):
        sync_git(store, rid, str(repo.path), progress=explode, batch_size=2)
    partial = commits(store, rid)
    assert len(partial) == 2 and cursor(store, rid) is None and tags(store, rid) == {}
    for sha in partial:  # each written commit came with its file changes
        assert len(file_changes(store, rid, sha)) == partial[sha]["files_changed"]

    result = sync_git(store, rid, str(repo.path), batch_size=2)
    assert result.new_commits == 4 and result.walked_history
    assert set(commits(store, rid)) == set(shas.values())
    rows = file_changes(store, rid)
    assert len(rows) == len(set(rows)) == sum(c["files_changed"] for c in commits(store, rid).values())
    assert cursor(store, rid) is not None and len(tags(store, rid)) == 2


def test_non_utf8_messages_and_paths(store: Store, tmp_path: Path) -> None:
    repo = GitRepo(tmp_path / "repo")
    latin = repo.commit({"a.txt": "a\n"}, "café crème\n\nrésumé\n", encoding="latin1")
    raw = repo.commit({b"caf\xe9.txt": b"x\n"}, b"bad \xff\xfe bytes\n\nbody \xe9\n")
    rid = register(store, repo)
    result = sync_git(store, rid, str(repo.path))
    assert result.new_commits == 2 and result.skipped == []
    rows = commits(store, rid)
    assert rows[latin]["subject"] == "café crème" and rows[latin]["body"] == "résumé"
    # Without an encoding header git re-encodes invalid UTF-8 itself (as Latin-1); either way it is text.
    assert rows[raw]["subject"] in ("bad \xff\xfe bytes", "bad \ufffd\ufffd bytes")
    assert rows[raw]["body"] in ("body \xe9", "body \ufffd")
    assert file_changes(store, rid, raw) == [(raw, "caf\ufffd.txt", None, 1, 0)]


def test_tag_times_kinds_and_odd_targets(store: Store, tmp_path: Path) -> None:
    repo = GitRepo(tmp_path / "repo")
    c1 = repo.commit({"a": "1\n"}, "one", when="2024-05-01T00:00:00Z", committed="2024-05-01T06:00:00Z")
    repo.tag("light", when="2030-01-01T00:00:00Z")  # lightweight: the tagger date does not exist
    repo.tag("annotated", annotated=True, when="2024-05-02T00:00:00Z")
    repo.git("tag", "-a", "-m", "nested", "nested", "annotated", env={
        "GIT_COMMITTER_DATE": "@1714700000 +0000", "GIT_COMMITTER_NAME": "T", "GIT_COMMITTER_EMAIL": "t@x"})
    repo.git("tag", "tree-tag", "HEAD^{tree}")
    rid = register(store, repo)
    result = sync_git(store, rid, str(repo.path))
    assert tags(store, rid) == {
        "light": (c1, unix("2024-05-01T06:00:00Z"), False),
        "annotated": (c1, unix("2024-05-02T00:00:00Z"), True),
        "nested": (c1, 1714700000, True),
    }
    assert any("tag" in note and "not a commit" in note for note in result.skipped)


def test_thousands_of_tags(store: Store, tmp_path: Path) -> None:
    repo = GitRepo(tmp_path / "repo")
    head = repo.commit({"a": "1\n"}, "one")
    repo.git("update-ref", "--stdin", input="".join(f"create refs/tags/t{i} {head}\n" for i in range(3000)).encode())
    rid = register(store, repo)
    assert sync_git(store, rid, str(repo.path)).new_tags == 3000
    repo.git("update-ref", "--stdin", input="".join(f"delete refs/tags/t{i}\n" for i in range(1000)).encode())
    again = sync_git(store, rid, str(repo.path))
    assert (again.new_tags, again.new_commits) == (0, 0)
    assert len(tags(store, rid)) == 2000


def test_shallow_clone(store: Store, history, tmp_path: Path) -> None:
    origin, shas = history
    chores = [origin.commit({f"f{i}.txt": f"{i}\n"}, f"chore: {i}") for i in range(6)]
    clone = GitRepo.clone(origin, tmp_path / "shallow", "--depth", "5")
    boundary = (clone.path / ".git" / "shallow").read_text().split()
    assert boundary == [chores[1]]
    rid = register(store, clone)
    result = sync_git(store, rid, str(clone.path))
    assert result.walked_history and result.new_commits == 5
    assert any("shallow" in note for note in result.skipped)
    rows = commits(store, rid)
    assert set(rows) == set(chores[1:])
    # The grafted boundary has no parents here and no file changes (its diff would be its whole tree).
    assert rows[chores[1]]["parents"] == "" and file_changes(store, rid, chores[1]) == []
    assert rows[chores[1]]["files_changed"] == 0
    assert file_changes(store, rid, chores[2]) == [(chores[2], "f2.txt", None, 1, 0)]


def _missing_objects(repo: GitRepo) -> int:
    out = repo.git("rev-list", "--objects", "--all", "--missing=print")
    return sum(1 for line in out.splitlines() if line.startswith("?"))


def test_partial_clone_never_fetches(store: Store, history, tmp_path: Path) -> None:
    origin, shas = history
    clone = GitRepo.clone(origin, tmp_path / "partial", "--filter=blob:none", "--no-checkout")
    missing = _missing_objects(clone)
    assert missing > 0  # really a partial clone
    rid = register(store, clone)
    result = sync_git(store, rid, str(clone.path))
    assert result.walked_history and result.new_commits == len(shas)
    assert any("partial clone" in note for note in result.skipped)
    assert _missing_objects(clone) == missing  # nothing was fetched
    assert file_changes(store, rid, shas["rename"]) == [
        (shas["rename"], "app.py", None, None, None),
        (shas["rename"], "logo.png", None, None, None),
        (shas["rename"], "src/app.py", None, None, None),
    ]
    assert set(tags(store, rid)) == {"v1.0.0", "v1.1.0"}
    assert clone.git("config", "remote.origin.url").startswith("file://")


def test_missing_blob_keeps_the_commits(store: Store, history) -> None:
    repo, shas = history
    blob = repo.git("rev-parse", f"{shas['main2']}:README.md")
    (repo.path / ".git" / "objects" / blob[:2] / blob[2:]).unlink()
    rid = register(store, repo)
    result = sync_git(store, rid, str(repo.path))
    assert set(commits(store, rid)) == set(shas.values())
    assert any("without file changes" in note for note in result.skipped)


def test_missing_commit_keeps_what_was_read(store: Store, history) -> None:
    repo, shas = history
    target = shas["rename"]
    (repo.path / ".git" / "objects" / target[:2] / target[2:]).unlink()
    rid = register(store, repo)
    result = sync_git(store, rid, str(repo.path))
    rows = commits(store, rid)
    assert shas["revert"] in rows and target not in rows
    assert any("next sync will try again" in note for note in result.skipped)
    assert cursor(store, rid) is None  # so a repaired repository is read in full next time


def test_empty_repository(store: Store, tmp_path: Path) -> None:
    repo = GitRepo(tmp_path / "empty")
    rid = register(store, repo)
    result = sync_git(store, rid, str(repo.path))
    assert (result.new_commits, result.new_tags) == (0, 0)
    assert result.skipped == ["the repository has no commits yet"]
    assert result.default_branch == "main"
    assert commits(store, rid) == {}


def test_bad_paths_raise_data_error(tmp_path: Path, store: Store) -> None:
    with pytest.raises(DataError, match="does not exist"):
        check_repository(str(tmp_path / "nope"))
    plain = tmp_path / "plain"
    plain.mkdir()
    with pytest.raises(DataError, match="not a git repository"):
        check_repository(str(plain))
    (tmp_path / "file.txt").write_text("x")
    with pytest.raises(DataError, match="is a file"):
        check_repository(str(tmp_path / "file.txt"))
    with store.tx() as conn:
        rid = add_repository(conn, plain).id
    with pytest.raises(DataError, match="not a git repository"):
        sync_git(store, rid, str(plain))


def test_check_repository_and_branches(tmp_path: Path, history) -> None:
    repo, _ = history
    (repo.path / "sub").mkdir()
    assert check_repository(str(repo.path / "sub")) == str(repo.path.resolve())
    assert current_branch(str(repo.path)) == "main" and default_branch(str(repo.path)) == "main"

    bare = tmp_path / "bare.git"
    run_git(tmp_path, "clone", "-q", "--bare", str(repo.path), str(bare))
    assert check_repository(str(bare)) == str(bare.resolve())

    clone = GitRepo.clone(repo, tmp_path / "clone")
    clone.checkout("feature", create=False)
    assert current_branch(str(clone.path)) == "feature"
    assert default_branch(str(clone.path)) == "main"  # from origin/HEAD

    other = GitRepo(tmp_path / "other", branch="develop")
    other.commit({"a": "1\n"}, "one")
    assert default_branch(str(other.path)) == "develop"
    other.branch("master")
    assert default_branch(str(other.path)) == "master"
    other.checkout(other.head())
    assert current_branch(str(other.path)) is None


def test_clone_remote_branches_are_walked(store: Store, history, tmp_path: Path) -> None:
    origin, shas = history
    origin.checkout("feature")
    extra = origin.commit({"only-remote.txt": "r\n"}, "feat: remote only")
    origin.checkout("main")
    clone = GitRepo.clone(origin, tmp_path / "clone")
    rid = register(store, clone)
    sync_git(store, rid, str(clone.path))
    assert extra in commits(store, rid)


MESSAGES = [
    "subject only: no trailers",
    "subject\n\nSigned-off-by: A <a@x>\n",
    "subject\n\nbody\n\nKey: value\nOther-Key:  spaced value \nFolded: first\n  second\n\tthird\n",
    "subject\n\nNot a trailer block\nKey: value\n",
    "subject\n\nmostly prose here\nand more prose\nSigned-off-by: A <a@x>\n",
    "subject\n\nprose one\nprose two\nprose three\nprose four\nSigned-off-by: A <a@x>\n",
    "subject\n\n(cherry picked from commit 0123456789abcdef)\nSigned-off-by: A <a@x>\n",
    "Key: value in title\n",
    "subject\n\nKey : value with space before colon\nBad Key: no\n",
    "subject\n\nBug: 123\n\n",
    "subject\n\n# comment\nAcked-by: C\n",
    "subject\n\nCo-authored-by: D <d@x>\nCo-authored-by: E <e@x>\n",
    "subject\nsecond title line\n\nFixes: #1\n",
]


@pytest.mark.parametrize("message", MESSAGES)
def test_trailers_match_git_interpret_trailers(message: str, tmp_path: Path) -> None:
    out = run_git(tmp_path, "interpret-trailers", "--parse", "--no-divider", input=message.encode()).decode()
    expected = [tuple(part.strip() for part in line.split(":", 1)) for line in out.splitlines() if line]
    assert parse_trailers(message) == expected


def test_nothing_printed_to_stdout(store: Store, history, capfd) -> None:
    repo, _ = history
    rid = register(store, repo)
    sync_git(store, rid, str(repo.path))
    sync_git(store, rid, str(repo.path))
    default_branch(str(repo.path))
    captured = capfd.readouterr()
    assert captured.out == ""


def test_repository_env_vars_do_not_redirect_git(store: Store, history, tmp_path: Path, monkeypatch) -> None:
    repo, shas = history
    other = GitRepo(tmp_path / "other")
    other.commit({"z": "z\n"}, "elsewhere")
    monkeypatch.setenv("GIT_DIR", str(other.path / ".git"))
    rid = register(store, repo)
    sync_git(store, rid, str(repo.path))
    assert set(commits(store, rid)) == set(shas.values())


def test_git_processes_are_cleaned_up(store: Store, history) -> None:
    repo, _ = history
    rid = register(store, repo)

    def stop(done: int, total: int | None) -> None:
        raise RuntimeError("stop")

    with pytest.raises(RuntimeError):
        sync_git(store, rid, str(repo.path), progress=stop, batch_size=1)
    ps = subprocess.run(["ps", "-o", "pid=,ppid=,stat=", "--ppid", str(os.getpid())], capture_output=True, text=True)
    assert all("Z" not in line.split()[2] for line in ps.stdout.splitlines() if line.strip())


def _history_indexes(store: Store) -> dict[str, str]:
    rows = store.read().execute(
        "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name IN ('commits', 'file_changes')"
        " AND sql IS NOT NULL"
    ).fetchall()
    return {r[0]: r[1] for r in rows}


def test_first_bulk_load_defers_indexes_and_rebuilds_them(store: Store, history, tmp_path: Path) -> None:
    repo, shas = history
    before = _history_indexes(store)
    assert {"commits_by_author", "file_changes_by_path"} <= set(before)
    rid = register(store, repo)
    result = sync_git(store, rid, str(repo.path), batch_size=2, defer_indexes_min=1)
    assert result.new_commits == len(shas)
    assert _history_indexes(store) == before
    assert store.read().execute("SELECT count(*) FROM kv WHERE key = 'git:deferred_indexes'").fetchone()[0] == 0
    plan = " ".join(r[-1] for r in store.read().execute(
        "EXPLAIN QUERY PLAN SELECT sha FROM file_changes WHERE repo_id = ? AND path = ?", (rid, "src/app.py")))
    assert "file_changes_by_path" in plan

    # Stopped after its first batch: the store is consistent, the indexes are back, and a rerun completes it.
    other = open_store(tmp_path / "other.sqlite")
    try:
        rid2 = register(other, repo)

        def explode(done: int, total: int | None) -> None:
            raise KeyboardInterrupt("simulated crash after the first batch")

        with pytest.raises(KeyboardInterrupt):
            sync_git(other, rid2, str(repo.path), progress=explode, batch_size=2, defer_indexes_min=1)
        assert _history_indexes(other) == before
        assert len(commits(other, rid2)) == 2
        assert sync_git(other, rid2, str(repo.path), batch_size=2, defer_indexes_min=1).new_commits == len(shas) - 2
        rows = file_changes(other, rid2)
        assert len(rows) == len(set(rows)) == sum(c["files_changed"] for c in commits(other, rid2).values())
    finally:
        other.close()


def test_indexes_left_out_by_a_killed_sync_are_rebuilt_by_the_next(store: Store, history) -> None:
    """A process killed mid-load leaves the dropped indexes' SQL in kv; the next sync rebuilds them first."""
    repo, shas = history
    before = _history_indexes(store)
    conn = store.read()
    with store.tx() as c:
        c.execute("INSERT INTO kv(key, value) VALUES ('git:deferred_indexes', ?)",
                  (json.dumps([before["file_changes_by_path"], before["commits_by_author"]]),))
        c.execute("DROP INDEX file_changes_by_path")
        c.execute("DROP INDEX commits_by_author")
    assert "file_changes_by_path" not in _history_indexes(store)
    rid = register(store, repo)
    sync_git(store, rid, str(repo.path))
    assert _history_indexes(store) == before
    assert conn.execute("SELECT count(*) FROM kv WHERE key = 'git:deferred_indexes'").fetchone()[0] == 0
    assert len(commits(store, rid)) == len(shas)
