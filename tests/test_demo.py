"""The demo workspace: deterministic, and holding every signal the metrics need (tags, reverts, hotfix, events)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from engmetrics.demo.ai import AI_DAYS
from engmetrics.demo.workspace import DemoWorkspace, build_demo

AS_OF = date(2025, 6, 30)
END = datetime(AS_OF.year, AS_OF.month, AS_OF.day, tzinfo=UTC)
RELEASE = re.compile(r"^v\d+\.\d+\.\d+$")
PRERELEASE = re.compile(r"^v\d+\.\d+\.\d+-rc\.\d+$")


def git(repo: Path, *args: str) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update(GIT_CONFIG_GLOBAL="/dev/null", GIT_CONFIG_NOSYSTEM="1")
    return subprocess.run(["git", *args], cwd=repo, env=env, check=True, capture_output=True, text=True).stdout


def ts(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> tuple[DemoWorkspace, DemoWorkspace]:
    a = build_demo(tmp_path_factory.mktemp("demo_a"), as_of=AS_OF)
    b = build_demo(tmp_path_factory.mktemp("demo_b"), as_of=AS_OF)
    return a, b


@pytest.fixture(scope="module")
def ws(pair: tuple[DemoWorkspace, DemoWorkspace]) -> DemoWorkspace:
    return pair[0]


def repo(ws: DemoWorkspace, name: str) -> Path:
    return next(p for p in ws.repos if p.name == name)


def test_same_as_of_and_seed_give_identical_output(pair: tuple[DemoWorkspace, DemoWorkspace]) -> None:
    a, b = pair
    assert [p.name for p in a.repos] == ["webapp", "payments-api"]
    for ra, rb in zip(a.repos, b.repos, strict=True):
        assert git(ra, "rev-parse", "main") == git(rb, "rev-parse", "main")
        assert git(ra, "for-each-ref") == git(rb, "for-each-ref")
    assert a.deployments_file.read_bytes() == b.deployments_file.read_bytes()
    assert a.incidents_file.read_bytes() == b.incidents_file.read_bytes()
    assert a.ai_commits_file.read_bytes() == b.ai_commits_file.read_bytes()
    assert a.ai_changes_file.read_bytes() == b.ai_changes_file.read_bytes()
    assert (a.root / "README.txt").read_text() == (b.root / "README.txt").read_text()


def test_layout_and_checked_out_working_trees(ws: DemoWorkspace) -> None:
    web = repo(ws, "webapp")
    assert web == ws.root / "repos" / "webapp"
    for path in ["package.json", "package-lock.json", ".github/workflows/ci.yml", ".github/CODEOWNERS",
                 "public/logo.png"]:
        assert (web / path).is_file(), path
    for folder in ["src/api", "src/ui", "src/payments", "tests", "docs", "migrations"]:
        assert (web / folder).is_dir(), folder
    assert (web / "public/logo.png").read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    for r in ws.repos:
        assert git(r, "status", "--porcelain") == ""
        assert git(r, "symbolic-ref", "HEAD").strip() == "refs/heads/main"
    assert "webapp" in (ws.root / "README.txt").read_text()


def test_webapp_history_shape(ws: DemoWorkspace) -> None:
    web = repo(ws, "webapp")
    commits = int(git(web, "rev-list", "--count", "main"))
    assert 1200 <= commits <= 1900
    merges = git(web, "log", "--merges", "--format=%s", "main").splitlines()
    assert len(merges) > 60 and all(m.startswith("Merge pull request #") for m in merges)
    subjects = git(web, "log", "--no-merges", "--format=%s", "main").splitlines()
    assert any(s.startswith("Bump lodash from 4.17.20 to 4.17.21") for s in subjects)
    assert any(re.search(r" \(#\d+\)$", s) for s in subjects)
    assert any(s.startswith(("feat:", "feat(")) for s in subjects)
    assert any(s.startswith("✨") or s.startswith(":sparkles:") for s in subjects)
    emails_by_name: dict[str, set[str]] = {}
    for line in git(web, "log", "--format=%an|%ae", "main").splitlines():
        name, email = line.split("|")
        emails_by_name.setdefault(name, set()).add(email)
    humans = {n for n in emails_by_name if not n.endswith("[bot]")}
    assert len(humans) == 6
    assert any(len(e) == 2 for e in emails_by_name.values())
    numstat = git(web, "log", "--format=", "--numstat", "-50", "main").splitlines()
    assert any(line.split("\t")[1] not in ("0", "-") for line in numstat)  # real deletions
    first = int(git(web, "log", "--reverse", "--format=%at", "main").splitlines()[0])
    last = max(int(x) for x in git(web, "log", "--format=%at%n%ct", "main").split())
    assert last < END.timestamp()
    assert (END.timestamp() - first) / 86400 > 700


def test_tags_annotated_releases_and_prereleases(ws: DemoWorkspace) -> None:
    web = repo(ws, "webapp")
    kinds = dict(line.split() for line in git(web, "for-each-ref", "--format=%(refname:short) %(objecttype)",
                                                   "refs/tags").splitlines())
    releases = [t for t in kinds if RELEASE.match(t)]
    assert len(releases) >= 50
    assert all(kinds[t] == "tag" for t in releases)  # annotated
    assert "v2.3.0-rc.1" in kinds and all(PRERELEASE.match(t) for t in kinds if t not in releases)
    assert git(repo(ws, "payments-api"), "tag") == ""


def test_revert_references_an_existing_released_commit(ws: DemoWorkspace) -> None:
    web = repo(ws, "webapp")
    log = git(web, "log", "--format=%H%x00%B%x01", "main")
    reverts = []
    for entry in log.split("\x01"):
        if "\x00" not in entry:
            continue
        sha, body = entry.strip().split("\x00")
        m = re.fullmatch(r'Revert "(.+)"\n\nThis reverts commit ([0-9a-f]{40})\.\n?', body)
        if m:
            reverts.append((sha, m.group(1), m.group(2)))
    assert reverts
    for sha, subject, target in reverts:
        assert git(web, "cat-file", "-t", target).strip() == "commit"
        assert git(web, "log", "-1", "--format=%s", target).strip() == subject
        git(web, "merge-base", "--is-ancestor", target, sha)
        tags = [t for t in git(web, "tag", "--contains", target).split() if RELEASE.match(t)]
        assert tags  # the reverted change was released
        assert [t for t in git(web, "tag", "--contains", sha).split() if RELEASE.match(t)]  # and so was its revert
        assert git(web, "diff", f"{target}~1", sha, "--", *git(web, "show", "--format=", "--name-only",
                                                                  target).split()) == ""


def test_hotfix_release_within_72h_made_of_fixes(ws: DemoWorkspace) -> None:
    web = repo(ws, "webapp")
    when = {name: int(t) for name, t in (line.split() for line in git(
        web, "for-each-ref", "--format=%(refname:short) %(taggerdate:unix)", "refs/tags").splitlines())}
    assert 0 < when["v2.4.1"] - when["v2.4.0"] <= 72 * 3600
    between = [t for t in when if RELEASE.match(t) and when["v2.4.0"] < when[t] < when["v2.4.1"]]
    assert between == []
    subjects = git(web, "log", "--format=%s", "v2.4.0..v2.4.1").splitlines()
    assert subjects and all(re.match(r"fix(\(.+\))?: ", s) for s in subjects)


def test_deployments_reference_main_commits_after_they_were_made(ws: DemoWorkspace) -> None:
    pay = repo(ws, "payments-api")
    deployments = json.loads(ws.deployments_file.read_text())
    committed = {sha: int(t) for sha, t in (line.split() for line in git(
        pay, "log", "--first-parent", "--format=%H %ct", "main").splitlines())}
    assert len(deployments) > 100
    ids = [d["id"] for d in deployments]
    assert len(set(ids)) == len(ids)
    for d in deployments:
        assert set(d) == {"id", "repo", "sha", "environment", "status", "deployed_at", "service"}
        assert d["repo"] == d["service"] == "payments-api"
        assert d["sha"] in committed
        assert d["deployed_at"].endswith("Z")
        assert committed[d["sha"]] < ts(d["deployed_at"]).timestamp() < END.timestamp()
        assert d["environment"] in ("production", "staging") and d["status"] in ("success", "failure")
    prod = [d for d in deployments if d["environment"] == "production"]
    assert sum(d["status"] == "failure" for d in prod) >= 2
    assert sum(d["status"] == "success" for d in prod) > 0.8 * len(prod)
    assert any(ts(d["deployed_at"]) > END.replace(day=1) for d in prod)  # recent data


def test_incidents_reference_existing_deployments_and_commits(ws: DemoWorkspace) -> None:
    incidents = json.loads(ws.incidents_file.read_text())
    deployments = {d["id"]: d for d in json.loads(ws.deployments_file.read_text())}
    assert 15 <= len(incidents) <= 25
    all_commits = {r.name: set(git(r, "rev-list", "--all").split()) for r in ws.repos}
    assert any(i["resolved_at"] is None for i in incidents)
    assert sum(i["resolved_at"] is None for i in incidents) <= 2
    assert any(i["deployment_id"] for i in incidents) and any(i["sha"] for i in incidents)
    assert any((END - ts(i["started_at"])).days < 30 for i in incidents)
    for i in incidents:
        assert set(i) == {"id", "title", "severity", "started_at", "resolved_at", "repo", "deployment_id", "sha"}
        assert re.fullmatch(r"INC-\d+", i["id"]) and i["severity"] in ("sev1", "sev2", "sev3")
        assert i["repo"] in all_commits
        assert ts(i["started_at"]) < END
        if i["resolved_at"]:
            assert ts(i["started_at"]) < ts(i["resolved_at"]) < END
        if i["deployment_id"]:
            dep = deployments[i["deployment_id"]]
            assert dep["repo"] == i["repo"] and ts(dep["deployed_at"]) <= ts(i["started_at"])
        if i["sha"]:
            assert i["sha"] in all_commits[i["repo"]]


def test_ai_trailers_and_cursor_tracking_data(ws: DemoWorkspace) -> None:
    start = END.timestamp() - AI_DAYS * 86400
    signed: dict[str, int] = {}
    shas: dict[str, set[str]] = {}
    for r in ws.repos:
        log = git(r, "log", "--no-merges", "--format=%H%x00%at%x00%B%x01", "main")
        shas[r.name] = set()
        for entry in log.split("\x01"):
            if "\x00" not in entry:
                continue
            sha, at, body = entry.strip().split("\x00")
            shas[r.name].add(sha)
            for line in ("Co-Authored-By: Claude <noreply@anthropic.com>", "Generated with [Claude Code]",
                         "Co-authored-by: Copilot"):
                if line in body:
                    assert int(at) >= start  # AI assistance starts AI_DAYS before the end
                    signed[line] = signed.get(line, 0) + 1
    assert len(signed) == 3 and all(n >= 5 for n in signed.values())
    rows = json.loads(ws.ai_commits_file.read_text())["items"]
    changes = json.loads(ws.ai_changes_file.read_text())["items"]
    assert len(rows) > 60 and len(changes) > 60
    unpushed = [r for r in rows if not any(s.startswith(r["commitHash"]) for s in shas[r["repoName"].split("/")[1]])]
    assert len(unpushed) == 6  # three per repository, for commits never pushed
    assert sum(len(r["commitHash"]) == 10 for r in rows) > 10 and sum(r["message"] is None for r in rows) > 10
    assert all(r["tabLinesAdded"] + r["composerLinesAdded"] <= r["totalLinesAdded"] for r in rows)
    assert any("fileName" not in c["metadata"][0] for c in changes)  # privacy mode


def run_cli(*args: str, env_extra: dict[str, str]) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ENGMETRICS_")}
    env.update(COLUMNS="200", **env_extra)
    return subprocess.run([sys.executable, "-m", "engmetrics.cli.main", *args], capture_output=True, text=True,
                          env=env, timeout=240)


def test_demo_command_builds_syncs_and_answers_from_the_workspace(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    elsewhere = {"ENGMETRICS_DEMO_DIR": str(tmp_path / "default")}  # so --dir is not the default root
    proc = run_cli("demo", "--dir", str(root), "--json", env_extra=elsewhere)
    assert proc.returncode == 0, proc.stderr
    answer = json.loads(proc.stdout)
    assert answer["workspace"] == str(root.resolve())
    assert sorted(answer["repositories"]) == ["payments-api", "webapp"]

    # DESIGN: a deployment is a successful production deployment; explicit events (payments-api's
    # deployments.json) else release tags (webapp, pre-releases excluded, one per commit, at the tagger date).
    dora = answer["dora"]
    lo, hi = ts(dora["period"]["from"]).timestamp(), ts(dora["period"]["to"]).timestamp()
    explicit = [d for d in json.loads((root / "deployments.json").read_text())
                if d["environment"] == "production" and d["status"] == "success"
                and lo <= ts(d["deployed_at"]).timestamp() < hi]
    first_tag: dict[str, int] = {}
    for line in git(root / "repos" / "webapp", "for-each-ref", "--format=%(refname:short) %(*objectname) "
                                                                "%(taggerdate:unix)", "refs/tags").splitlines():
        name, commit, when = line.split()
        if RELEASE.match(name):
            first_tag[commit] = min(int(when), first_tag.get(commit, int(when)))
    tagged = [t for t in first_tag.values() if lo <= t < hi]
    assert explicit and tagged
    assert dora["deployment_frequency"]["deployments"] == len(explicit) + len(tagged)

    assert answer["ai"]["ai_assisted_commits"] > 0  # the demo command shows the AI figures too
    # The AI figures of the Quick start: trailers, imported tracking data, the stability comparison.
    proc = run_cli("ai", "--db", str(root / "engmetrics.db"), "--period", "last_90_days", "--json", env_extra=elsewhere)
    assert proc.returncode == 0, proc.stderr
    ai = json.loads(proc.stdout)
    assert ai["ai_assisted_commits"] > 0 and ai["commits_with_tracking_data"] > 0
    assert ai["ai_share_of_lines_percent"] is not None and set(ai["by_tool"]) == {"claude", "copilot"}
    assert ai["tracking_rows_unmatched"] == 6 and ai["accepted_changes"]["changes"] > 0
    assert sum(g["changes"] for g in ai["stability"]["groups"]) == ai["commits"]

    # Again, as a person reads it: the workspace is reused, and the client snippet points at --dir.
    proc = run_cli("demo", "--dir", str(root), env_extra=elsewhere)
    assert proc.returncode == 0, proc.stderr
    incidents = json.loads((root / "incidents.json").read_text())
    for name in ("webapp", "payments-api"):
        count = sum(i["repo"] == name for i in incidents)
        assert re.search(rf"• {name}: \d+ commits, \d+ deployments \(\w+\), {count} incidents", proc.stdout)
    snippet = json.loads(proc.stdout.split("MCP config):", 1)[1].split("Then ask:", 1)[0])
    server = snippet["mcpServers"]["engmetrics-demo"]
    assert server["args"] == ["serve", "--demo"] and Path(server["command"]).is_absolute()
    assert server["env"] == {"ENGMETRICS_DEMO_DIR": str(root.resolve())}
