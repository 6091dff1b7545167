"""The derive step: stored commits, tags, events and incidents → deployments and deployment_changes."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from engmetrics.errors import InvalidInput, NotFound
from engmetrics.areas.dora.derive import derive_all, derive_repository
from engmetrics.store.db import Store
from engmetrics.store.open import open_store

H = 3600
T0 = 1_736_000_000  # 2025-01-04


def sha(name: str) -> str:
    return hashlib.sha1(name.encode()).hexdigest()


@pytest.fixture
def store(tmp_path: Path) -> Store:
    s = open_store(tmp_path / "engmetrics.db")
    yield s
    s.close()


def add_repo(store: Store, repo_id: int, name: str) -> None:
    with store.tx() as c:
        c.execute(
            "INSERT INTO repositories(id, name, path, added_at) VALUES (?, ?, ?, 0)", (repo_id, name, f"/repos/{name}")
        )


def add_commit(store: Store, repo_id: int, name: str, parents: list[str], t: int, subject: str = "", body: str = "") -> None:
    with store.tx() as c:
        c.execute(
            "INSERT INTO commits VALUES (?, ?, 'A', 'a@x', ?, 'A', 'a@x', ?, ?, ?, ?, '[]', 1, 0, 1)",
            (repo_id, sha(name), t, t, " ".join(sha(p) for p in parents), subject or name, body),
        )


def add_tag(store: Store, repo_id: int, tag: str, commit: str, t: int) -> None:
    with store.tx() as c:
        c.execute("INSERT INTO tags VALUES (?, ?, ?, ?, 1)", (repo_id, tag, sha(commit), t))


def add_event(store: Store, ident: str, repo_id: int, commit_sha: str, t: int, *, env: str = "production",
              status: str = "success", service: str | None = None) -> None:
    with store.tx() as c:
        c.execute(
            "INSERT INTO deployment_events VALUES (?, ?, ?, ?, ?, ?, ?, 'cli')",
            (ident, repo_id, commit_sha, env, status, t, service),
        )


def deployments(store: Store, repo_id: int = 1) -> dict[str, dict]:
    rows = store.read().execute("SELECT * FROM deployments WHERE repo_id = ? ORDER BY deployed_at, id", (repo_id,))
    return {r["id"]: dict(r) for r in rows}


def changes(store: Store, deployment_id: str) -> set[str]:
    rows = store.read().execute("SELECT sha FROM deployment_changes WHERE deployment_id = ?", (deployment_id,))
    return {r[0] for r in rows}


def merge_history(store: Store) -> None:
    """main: A - B - C - M - E ; feature F1 - F2 from B merged at M ; maintenance H1 (a fix) from B.

    Tags (time order): v1.0.0@B, v1.1.0@M, v1.0.1@H1, v1.2.0@E, plus v1.2.0-rc1@E (pre-release).
    """
    add_repo(store, 1, "app")
    add_commit(store, 1, "A", [], T0, "init")
    add_commit(store, 1, "B", ["A"], T0 + 1 * H, "feat: b")
    add_commit(store, 1, "F1", ["B"], T0 + 2 * H, "feat: f1")
    add_commit(store, 1, "C", ["B"], T0 + 3 * H, "feat: c")
    add_commit(store, 1, "F2", ["F1"], T0 + 4 * H, "feat: f2")
    add_commit(store, 1, "M", ["C", "F2"], T0 + 5 * H, "Merge branch 'feature'")
    add_commit(store, 1, "H1", ["B"], T0 + 6 * H, "fix: backport crash fix")
    add_commit(store, 1, "E", ["M"], T0 + 7 * H, "feat: e")
    add_tag(store, 1, "v1.0.0", "B", T0 + 1 * H + 600)
    add_tag(store, 1, "v1.1.0", "M", T0 + 5 * H + 600)
    add_tag(store, 1, "v1.0.1", "H1", T0 + 6 * H + 600)
    add_tag(store, 1, "v1.2.0-rc1", "E", T0 + 7 * H + 300)
    add_tag(store, 1, "v1.2.0", "E", T0 + 7 * H + 600)


def test_tags_give_deployments_each_commit_shipped_once(store: Store) -> None:
    merge_history(store)
    assert derive_repository(store, 1) == 4
    deps = deployments(store)
    assert list(deps) == ["tag:1:v1.0.0", "tag:1:v1.1.0", "tag:1:v1.0.1", "tag:1:v1.2.0"]  # rc excluded
    first = deps["tag:1:v1.0.0"]
    assert (first["source"], first["environment"], first["status"], first["tag"]) == ("tag", "production", "success", "v1.0.0")
    assert first["deployed_at"] == T0 + 1 * H + 600 and first["sha"] == sha("B")
    # first deployment: everything reachable counted, but no lead-time rows
    assert first["change_count"] == 2 and changes(store, "tag:1:v1.0.0") == set()
    # merge included
    assert changes(store, "tag:1:v1.1.0") == {sha(x) for x in ("C", "F1", "F2", "M")}
    # non-ancestor steps: v1.0.1 (maintenance branch) after v1.1.0, then v1.2.0 after v1.0.1. `v1.0.1..v1.2.0`
    # would count C, F1, F2, M again (v1.1.0 shipped them); a commit ships once, at its first deployment.
    assert changes(store, "tag:1:v1.0.1") == {sha("H1")}
    assert changes(store, "tag:1:v1.2.0") == {sha("E")}
    assert deps["tag:1:v1.2.0"]["change_count"] == 1
    row = store.read().execute(
        "SELECT author_time, lead_time_hours FROM deployment_changes WHERE deployment_id = 'tag:1:v1.1.0' AND sha = ?",
        (sha("F1"),),
    ).fetchone()
    assert row[0] == T0 + 2 * H and row[1] == pytest.approx((5 * H + 600 - 2 * H) / 3600)


def test_derive_is_idempotent(store: Store) -> None:
    merge_history(store)
    with store.tx() as c:
        c.execute("INSERT INTO incidents VALUES ('inc-1', 1, 'down', 'sev1', ?, ?, NULL, NULL, NULL, 'import')",
                  (T0 + 5 * H + 1200, T0 + 6 * H))

    def snapshot() -> tuple[list, list]:
        conn = store.read()
        return (
            [tuple(r) for r in conn.execute("SELECT * FROM deployments ORDER BY id")],
            [tuple(r) for r in conn.execute("SELECT * FROM deployment_changes ORDER BY deployment_id, sha")],
        )

    derive_repository(store, 1)
    first = snapshot()
    derive_repository(store, 1)
    assert snapshot() == first
    assert derive_all(store) == {1: 4}
    assert snapshot() == first
    failed = [r for r in first[0] if r[12]]
    assert len(failed) == 1 and failed[0][0] == "tag:1:v1.1.0" and failed[0][13:16] == ("incident", "inc-1", pytest.approx(40 / 60, abs=1e-4))


def test_explicit_events_take_precedence_over_tags(store: Store) -> None:
    merge_history(store)
    add_event(store, "dep-1", 1, sha("B"), T0 + 2 * H)
    add_event(store, "dep-2", 1, sha("M")[:10], T0 + 6 * H)  # a unique prefix resolves
    add_event(store, "dep-bad", 1, sha("E"), T0 + 7 * H, status="failure")
    add_event(store, "dep-stg", 1, sha("E"), T0 + 7 * H, env="staging")
    add_event(store, "dep-3", 1, sha("E"), T0 + 8 * H)
    assert derive_repository(store, 1) == 3  # successful production events only
    deps = deployments(store)
    assert set(deps) == {"dep-1", "dep-2", "dep-bad", "dep-stg", "dep-3"}  # no tag deployments
    assert all(d["source"] == "event" and d["tag"] is None for d in deps.values())
    assert deps["dep-2"]["sha"] == sha("M")
    assert changes(store, "dep-2") == {sha(x) for x in ("C", "F1", "F2", "M")}
    assert changes(store, "dep-3") == {sha("E")}
    assert deps["dep-bad"]["status"] == "failure" and deps["dep-bad"]["change_count"] == 0
    assert changes(store, "dep-bad") == set()
    # staging has its own sequence (first staging deployment ships everything) and no lead-time rows
    assert deps["dep-stg"]["change_count"] == 7 and changes(store, "dep-stg") == set()


def test_revert_hotfix_and_incident_marks_are_stored(store: Store) -> None:
    add_repo(store, 1, "app")
    add_commit(store, 1, "A", [], T0, "init")
    add_commit(store, 1, "B", ["A"], T0 + H, "feat: risky")
    add_commit(store, 1, "C", ["B"], T0 + 2 * H, 'Revert "feat: risky"', f"This reverts commit {sha('B')}.")
    add_commit(store, 1, "D", ["C"], T0 + 3 * H, "feat: more")
    add_commit(store, 1, "E", ["D"], T0 + 4 * H, "fix: typo in more")
    add_tag(store, 1, "v1.0.0", "A", T0 + 600)
    add_tag(store, 1, "v1.1.0", "B", T0 + H + 600)
    add_tag(store, 1, "v1.1.1", "C", T0 + 2 * H + 600)  # ships the revert: hotfix + revert of v1.1.0
    add_tag(store, 1, "v1.2.0", "D", T0 + 3 * H + 600)
    add_tag(store, 1, "v1.2.1", "E", T0 + 4 * H + 600)  # hotfix of v1.2.0
    derive_repository(store, 1)
    deps = deployments(store)
    v110, v111, v120, v121 = (deps[f"tag:1:{t}"] for t in ("v1.1.0", "v1.1.1", "v1.2.0", "v1.2.1"))
    assert (v110["failed"], v110["failure_signal"], v110["failure_evidence"], v110["recovery_hours"]) == (
        1, "revert", sha("C"), 1.0)
    assert (v111["is_hotfix"], v111["has_revert"], v111["failed"]) == (1, 1, 0)
    assert (v120["failed"], v120["failure_signal"], v120["failure_evidence"], v120["recovery_hours"]) == (
        1, "hotfix", "v1.2.1", 1.0)
    assert (v121["is_hotfix"], v121["has_revert"]) == (1, 0)
    # an incident attributed by root-cause sha decides over the hotfix
    with store.tx() as c:
        c.execute("INSERT INTO incidents VALUES ('inc-7', 1, 'oops', NULL, ?, ?, NULL, ?, NULL, 'cli')",
                  (T0 + 3 * H + 900, T0 + 3 * H + 900 + 2 * H, sha("D")))
    derive_repository(store, 1)
    v120 = deployments(store)["tag:1:v1.2.0"]
    assert (v120["failure_signal"], v120["failure_evidence"], v120["recovery_hours"]) == ("incident", "inc-7", 2.0)


def test_multiple_repositories_and_errors(store: Store) -> None:
    merge_history(store)
    add_repo(store, 2, "lib")
    add_commit(store, 2, "L1", [], T0, "init lib")
    add_tag(store, 2, "0.1", "L1", T0 + 60)
    add_tag(store, 2, "nightly", "L1", T0 + 60)
    assert derive_all(store) == {1: 4, 2: 1}
    assert list(deployments(store, 2)) == ["tag:2:0.1"]
    assert derive_repository(store, 1, tag_pattern=r"v1\.0\.\d+") == 2
    assert list(deployments(store, 1)) == ["tag:1:v1.0.0", "tag:1:v1.0.1"]
    assert list(deployments(store, 2)) == ["tag:2:0.1"]  # other repositories untouched
    with pytest.raises(NotFound):
        derive_repository(store, 99)
    with pytest.raises(InvalidInput):
        derive_repository(store, 1, tag_pattern="(")
    assert list(deployments(store, 1)) == ["tag:1:v1.0.0", "tag:1:v1.0.1"]  # failed derive changed nothing


# ------------------------------------------------------------------------------ against real git


def git(cwd: Path, *args: str, when: int | None = None) -> str:
    env = dict(os.environ, GIT_AUTHOR_NAME="T", GIT_AUTHOR_EMAIL="t@x", GIT_COMMITTER_NAME="T",
               GIT_COMMITTER_EMAIL="t@x", GIT_CONFIG_GLOBAL="/dev/null", GIT_CONFIG_NOSYSTEM="1")
    if when is not None:
        env["GIT_AUTHOR_DATE"] = env["GIT_COMMITTER_DATE"] = f"@{when} +0000"
    return subprocess.run(["git", *args], cwd=cwd, env=env, check=True, capture_output=True, text=True).stdout


@pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
def test_changes_equal_git_rev_list_not_earlier_deployments_on_a_real_repository(store: Store, tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    t = T0

    def commit(msg: str) -> None:
        nonlocal t
        t += 600
        name = f"{msg.replace(' ', '_').replace(':', '')}.txt"  # one file per commit: merges never conflict
        (repo / name).write_text(f"{msg}\n{t}\n")
        git(repo, "add", name)
        git(repo, "commit", "-q", "-m", msg, when=t)

    def tag(name: str) -> None:
        nonlocal t
        t += 60
        git(repo, "tag", "-a", name, "-m", name, when=t)

    commit("init")
    tag("v1.0.0")
    git(repo, "checkout", "-q", "-b", "feature")
    commit("feat: one")
    commit("feat: two")
    git(repo, "checkout", "-q", "main")
    commit("feat: main work")
    t += 600
    git(repo, "merge", "-q", "--no-ff", "-m", "Merge feature", "feature", when=t)
    tag("v1.1.0")
    git(repo, "checkout", "-q", "-b", "maint", "v1.0.0")
    commit("fix: backport")
    tag("v1.0.1")
    git(repo, "checkout", "-q", "main")
    commit("feat: three")
    tag("v1.2.0")
    git(repo, "checkout", "-q", "v1.1.0")
    tag("v1.1.0-rc9")  # pre-release, ignored

    add_repo(store, 1, "real")
    log = git(repo, "log", "--all", "--format=%H%x1f%P%x1f%at%x1f%ct%x1f%s%x1e")
    with store.tx() as c:
        for rec in filter(None, (r.strip() for r in log.split("\x1e"))):
            h, parents, at, ct, subject = rec.split("\x1f")
            c.execute("INSERT INTO commits VALUES (1, ?, 'T', 't@x', ?, 'T', 't@x', ?, ?, ?, '', '[]', 1, 0, 1)",
                      (h, int(at), int(ct), parents, subject))
        for line in git(repo, "for-each-ref", "--format=%(refname:short)%09%(*objectname)%09%(taggerdate:unix)",
                        "refs/tags").splitlines():
            name, target, when = line.split("\t")
            c.execute("INSERT INTO tags VALUES (1, ?, ?, ?, 1)", (name, target, int(when)))
    assert derive_repository(store, 1) == 4
    order = list(deployments(store))
    assert order == ["tag:1:v1.0.0", "tag:1:v1.1.0", "tag:1:v1.0.1", "tag:1:v1.2.0"]
    names = [o.split(":", 2)[2] for o in order]
    for k in range(1, len(names)):
        # `git rev-list this --not <every earlier deployment>`: each commit ships once.
        expected = set(git(repo, "rev-list", names[k], "--not", *names[:k]).split())
        assert changes(store, f"tag:1:{names[k]}") == expected, names[k]
    assert deployments(store)["tag:1:v1.0.0"]["change_count"] == len(git(repo, "rev-list", "v1.0.0").split())
