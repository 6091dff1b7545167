"""Change risk: features against hand-computed values, no look-ahead, SZZ, the rolling evaluation on a
planted pattern, and the MCP tools in both protocol modes (with bad input)."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp import Client

from engmetrics.config import Settings
from engmetrics.engine.local import LocalEngine
from engmetrics.areas.risk.labelling import ensure_labels, fix_pattern
from engmetrics.areas.risk.metrics.features import FEATURES, replay
from engmetrics.areas.risk.models import RiskEvaluationQuery, RiskScoreQuery
from engmetrics.areas.risk.queries import pending_fixes, stored_changes
from engmetrics.areas.risk.source_lines import ensure_sloc
from engmetrics.areas.risk.szz import label_fix, replay_labels
from engmetrics.server.app import build_server
from engmetrics.server.runtime import Runtime
from conftest import Backend
from gitrepo import GitRepo

ADA = ("Ada", "ada@example.com")
GRACE = ("Grace", "grace@example.com")
T0 = datetime(2024, 1, 1, tzinfo=UTC)


def _engine(tmp: Path, repo: GitRepo, backend: Backend | None = None) -> LocalEngine:
    """An engine over a new store (SQLite, or ``backend``'s) with ``repo`` registered and synced."""
    settings = (backend.settings(tmp / "risk.db", sync_max_age_seconds=3600) if backend is not None
                else Settings(db=tmp / "risk.db", sync_max_age_seconds=3600))
    engine = LocalEngine(settings)
    engine.register_repository(repo.path)
    anyio.run(engine.repos.sync)
    return engine


def _features(engine: LocalEngine) -> dict[str, dict[str, float]]:
    row = engine.served_repositories()[0]
    _, shas, X = replay(stored_changes(engine.store.read(), row.id))
    return {sha: dict(zip(FEATURES, x.tolist(), strict=True)) for sha, x in zip(shas, X, strict=True)}


@pytest.fixture
def small(tmp_path: Path):  # type: ignore[no-untyped-def]
    repo = GitRepo(tmp_path / "small")
    c1 = repo.commit({"a/x.py": "1\n2\n3\n", "b/y.py": "1\n"}, "feat: start", author=ADA, when=T0)
    c2 = repo.commit({"a/x.py": "1\n2\nX\nY\n", "tests/test_x.py": "a\nb\nc\nd\n"}, "feat: more", author=GRACE,
                     when=T0 + timedelta(days=1))
    c3 = repo.commit({"a/x.py": "1\n2\nX\nY\nZ\n", "b/y.py": "1\n2\n"}, "fix: crash in x", author=ADA,
                     when=T0 + timedelta(days=2))
    engine = _engine(tmp_path, repo)
    yield repo, engine, (c1, c2, c3)
    engine.store.close()


def test_features_match_hand_computed_values(small) -> None:
    repo, engine, (c1, c2, c3) = small
    f = _features(engine)
    first = f[c1]
    assert (first["nf"], first["ns"], first["nd"], first["la"], first["ld"], first["exp"], first["nuc"]) == (2, 2, 2, 4, 0, 0, 0)
    assert first["entropy"] == pytest.approx(-(0.75 * math.log2(0.75) + 0.25 * math.log2(0.25)))
    second = f[c2]
    assert (second["la"], second["ld"], second["lt"], second["ndev"], second["nuc"]) == (6, 1, 3, 1, 1)
    assert second["tests_touched"] == 1 and second["test_share"] == pytest.approx(4 / 7)
    assert second["author_file_exp"] == 0 and second["age"] == pytest.approx(1.0)
    x = f[c3]
    expected = {
        "ns": 2, "nd": 2, "nf": 2, "entropy": 1.0, "la": 2, "ld": 0, "lt": 4 + 1, "fix": 1, "ndev": 2, "nuc": 2,
        "age": 1.5, "exp": 1, "sexp": 1, "author_file_exp": 1.0, "tests_touched": 0, "hotspot": 2,
    }
    for name, value in expected.items():
        assert x[name] == pytest.approx(value), name
    assert x["rexp"] == pytest.approx(1 / (1 + 2 / 365.25))


def test_recent_fixes_counts_distinct_fixes_of_the_touched_files_in_the_past_year(tmp_path: Path) -> None:
    repo = GitRepo(tmp_path / "fixes")
    body = "".join(f"line {k}\n" for k in range(20))
    repo.commit({"a.py": "a = 1\n", "b.py": body}, "feat: start", when=T0)
    repo.commit({"a.py": "a = 2\n", "b.py": body + "x\n"}, "fix: a and b", when=T0 + timedelta(days=1))
    repo.commit({"b.py": body + "y\n"}, "fix: b again", when=T0 + timedelta(days=2))
    both = repo.commit({"a.py": "a = 3\n", "b.py": body + "z\n"}, "feat: both", when=T0 + timedelta(days=10))
    repo.commit({"b.py": None, "c.py": body + "z\n"}, "chore: rename b to c", when=T0 + timedelta(days=20))
    renamed = repo.commit({"c.py": body + "w\n"}, "feat: c", when=T0 + timedelta(days=21))
    fresh = repo.commit({"d.py": "d\n"}, "feat: new file", when=T0 + timedelta(days=22))
    late = repo.commit({"a.py": "a = 4\n"}, "feat: a much later", when=T0 + timedelta(days=400))
    engine = _engine(tmp_path, repo)
    f = _features(engine)
    engine.store.close()
    assert f[both]["recent_fixes"] == 2  # "fix: a and b" counts once though it touched both files
    assert f[renamed]["recent_fixes"] == 2  # the fixes of b.py follow it to c.py
    assert f[fresh]["recent_fixes"] == 0
    assert f[late]["recent_fixes"] == 0  # the only fix of a.py was 399 days before


def test_source_lines_added_leave_out_blanks_comments_and_whitespace_edits(tmp_path: Path) -> None:
    repo = GitRepo(tmp_path / "sloc")
    code = "import os\n\n# a comment\ndef f():\n    \"\"\"Doc.\"\"\"\n\n    return os.sep\n"
    first = repo.commit({"app.py": code}, "feat: start", when=T0)  # 3 source lines of 7 added
    reindented = code.replace("    return os.sep", "        return os.sep") + "x = 1\n// note\n"
    second = repo.commit({"app.py": reindented}, "feat: more", when=T0 + timedelta(days=1))  # only x = 1
    moved = repo.commit({"app.py": None, "lib/app.py": reindented}, "chore: move", when=T0 + timedelta(days=2))
    binary = repo.commit({"logo.png": b"\x89PNG\x00\x01\x02"}, "feat: logo", when=T0 + timedelta(days=3))
    engine = _engine(tmp_path, repo)
    row = engine.resolve_repo("sloc")
    assert ensure_sloc(engine.store, row.id, row.path) == 4
    assert ensure_sloc(engine.store, row.id, row.path) == 0  # incremental: nothing new
    f = _features(engine)
    assert (f[first]["sloc_added"], f[first]["la"]) == (3, 7)
    assert (f[second]["sloc_added"], f[second]["la"]) == (1, 3)
    assert f[moved]["sloc_added"] == 0 and f[binary]["sloc_added"] == 0
    # A commit git could not diff is unknown (-1): lines added stands in.
    with engine.store.tx() as conn:
        conn.execute("UPDATE risk_sloc SET added = -1 WHERE sha = ?", (first,))
    assert _features(engine)[first]["sloc_added"] == 7
    # Commits scored before they are synced are counted too.
    third = repo.commit({"lib/app.py": reindented + "\n# only a comment\ny = 2\n"}, "feat: y", when=T0 + timedelta(days=4))
    scored = anyio.run(engine.risk.score_pr_risk, RiskScoreQuery(repo="sloc", commit=third))
    assert scored.signals["sloc_added"].value == 1 and scored.signals["la"].value == 3
    assert ensure_sloc(engine.store, row.id, row.path) == 0  # scoring does not store anything
    engine.store.close()


def test_recommendation_names_size_once_and_suggests_splitting() -> None:
    import numpy as np

    from engmetrics.areas.risk.metrics.changes import AddedLines, Change, FileDelta
    from engmetrics.areas.risk.metrics.wording import Context, recommendation

    change = Change("abc", "ada@example.com", "Ada", 0, "feat: big", [FileDelta("payments/api.py", None, 400, 3)])
    x = {name: 0.0 for name in FEATURES} | {"sloc_added": 310, "la": 400, "nf": 1, "tests_touched": 1}
    past = np.array([1.0, 3, 5, 8, 13, 21, 34, 55, 89, 144])  # past changes: every one smaller than 310
    ctx = Context(change, x, {k: float(np.median(past)) for k in FEATURES}, {k: past for k in FEATURES},
                  AddedLines(310, {("source", "Python"): [310, 1]}))
    text = recommendation("high", {"sloc_added": 30.0, "la": 8.0, "hotspot": 2.0}, ctx)
    assert "310 lines of Python" in text and "400 lines" not in text
    assert "very large change for this repository (bigger than 100% of past changes that add code)" in text
    assert text.endswith("consider splitting it.")


def test_no_look_ahead_old_features_do_not_change(small) -> None:
    repo, engine, (c1, c2, c3) = small
    before = _features(engine)
    repo.commit({"a/x.py": "changed\n", "b/y.py": None, "c/z.py": "z\n"}, "feat: later", author=GRACE,
                when=T0 + timedelta(days=30))
    anyio.run(engine.repos.sync)
    after = _features(engine)
    assert len(after) == 4
    for sha in (c1, c2, c3):
        assert after[sha] == before[sha]


def test_szz_finds_the_inducing_commit_and_reverts(tmp_path: Path) -> None:
    repo = GitRepo(tmp_path / "szz")
    repo.commit({"app.py": "def f():\n    return 1\n\n# note\n"}, "feat: start", when=T0)
    bug = repo.commit({"app.py": "def f():\n    return 2  # wrong\n\n# note\n", "other.py": "x = 1\n"}, "feat: change f",
                      when=T0 + timedelta(days=1))
    repo.commit({"other.py": "x = 1\ny = 2\n"}, "feat: unrelated", when=T0 + timedelta(days=2))
    fix = repo.commit({"app.py": "def f():\n    return 1\n\n# a different note\n"}, "fix: f returns 1 again",
                      when=T0 + timedelta(days=3))
    bad = repo.commit({"b.py": "boom\n"}, "feat: boom", when=T0 + timedelta(days=4))
    revert = repo.revert(bad, when=T0 + timedelta(days=5))
    engine = _engine(tmp_path, repo)
    row = engine.resolve_repo("szz")
    assert ensure_labels(engine.store, row.id, row.path) == 2
    links = set(engine.store.read().execute("SELECT fix_sha, inducing_sha FROM risk_szz_links").fetchall())
    assert {tuple(r) for r in links} == {(fix, bug), (revert, bad)}  # the comment-only line blames nobody
    assert ensure_labels(engine.store, row.id, row.path) == 0  # incremental: nothing new
    repo.commit({"other.py": "x = 1\ny = 3\n"}, "fix: y is 3", when=T0 + timedelta(days=6))
    repo.commit({"other.py": "x = 1\ny = 3\nz = 4\n"}, "feat: z", when=T0 + timedelta(days=7))
    anyio.run(engine.repos.sync)
    assert ensure_labels(engine.store, row.id, row.path) == 1  # only the new fix
    assert ensure_labels(engine.store, row.id, row.path) == 0
    engine.store.close()


def test_replay_labels_agree_with_blame_across_merges_and_renames(tmp_path: Path) -> None:
    repo = GitRepo(tmp_path / "replay")
    lines = [f"line{k} = {k}\n" for k in range(12)]
    repo.commit({"lib/a.py": "".join(lines), "b.py": "b = 1\n"}, "feat: start", when=T0)
    repo.checkout("side", create=True)
    side = [*lines]
    side[3] = "line3 = 'side'\n"
    on_side = repo.commit({"lib/a.py": "".join(side)}, "feat: side edit", when=T0 + timedelta(days=1))
    repo.checkout("main")
    main = [*lines]
    main[9] = "line9 = 'main'\n"
    on_main = repo.commit({"lib/a.py": "".join(main), "b.py": "b = 2\n"}, "feat: main edit", when=T0 + timedelta(days=2))
    repo.merge("side", when=T0 + timedelta(days=3))
    repo.git("mv", "lib/a.py", "lib/renamed.py")
    repo.commit(message="chore: rename", when=T0 + timedelta(days=4))
    merged = [*lines]
    merged[3], merged[9] = "line3 = 'fixed'\n", "line9 = 'fixed'\n"
    fix = repo.commit({"lib/renamed.py": "".join(merged), "b.py": "b = 3\n"}, "fix: both edits were wrong",
                      when=T0 + timedelta(days=5))
    engine = _engine(tmp_path, repo)
    row = engine.resolve_repo("replay")
    fixes = [f for f in pending_fixes(engine.store.read(), row.id, fix_pattern()) if f.sha == fix]
    replayed = replay_labels(row.path, fixes)
    assert replayed.error is None
    assert replayed.found[fix] == label_fix(row.path, fixes[0]) == {on_side: 1, on_main: 2}
    engine.store.close()


def test_fix_pattern_comes_from_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ENGMETRICS_RISK_FIX_PATTERN", r"\bOOPS\b")
    assert fix_pattern() == r"\bOOPS\b"
    assert Settings().risk_fix_pattern == r"\bOOPS\b"


def _planted(root: Path, cycles: int = 48) -> GitRepo:
    """Single-file changes are later fixed; bigger multi-file changes never are."""
    repo = GitRepo(root / "planted")
    day = 0
    for i in range(cycles):
        when = T0 + timedelta(days=day)
        repo.commit({f"s/s{i}.py": "".join(f"v{k} = {i}\n" for k in range(5))}, f"feat: small {i}", author=ADA, when=when)
        repo.commit({f"m{j}/m{i}.py": "".join(f"w{k} = {i}\n" for k in range(12)) for j in range(3)},
                    f"feat: big {i}", author=GRACE, when=when + timedelta(hours=5))
        repo.commit({f"s/s{i}.py": "".join(f"v{k} = {i + (k == 2)}\n" for k in range(5))}, f"fix: small {i} was wrong",
                    author=GRACE, when=when + timedelta(days=1))
        day += 2
    return repo


def test_evaluation_beats_size_on_a_planted_pattern(tmp_path: Path) -> None:
    repo = _planted(tmp_path)
    engine = _engine(tmp_path, repo)
    ev = anyio.run(lambda: engine.risk.evaluate_risk(RiskEvaluationQuery(repo="planted", bootstrap=20)))
    models = {m.name: m for m in ev.models}
    assert set(models) == {"engmetrics", "lapredict", "kamei", "size"}
    assert ev.splits >= 3 and ev.labelled_inducing > 20
    assert models["engmetrics"].auc > models["size"].auc + 0.2
    assert models["size"].brier is None and models["engmetrics"].brier is not None
    # The paired gap to LApredict: the per-split differences averaged, with an interval around it.
    for name in ("engmetrics", "kamei", "size"):
        m, la = models[name], models["lapredict"]
        splits = [a - b for a, b in zip(m.auc_per_split, la.auc_per_split, strict=True)]
        assert m.auc_vs_lapredict == pytest.approx(sum(splits) / len(splits), abs=2e-4)
        assert m.auc_vs_lapredict_ci is not None
        assert m.auc_vs_lapredict_ci[0] <= m.auc_vs_lapredict <= m.auc_vs_lapredict_ci[1]
    assert models["engmetrics"].auc_vs_lapredict > 0.2  # small files carry the planted bugs; size alone can't see it
    assert models["lapredict"].auc_vs_lapredict is None and models["lapredict"].auc_vs_lapredict_ci is None
    engine.store.close()


def test_branch_with_no_arguments_scores_unsynced_commits(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    repo = _planted(tmp_path, cycles=12)
    engine = _engine(tmp_path, repo)
    repo.checkout("feature", create=True)
    a = repo.commit({"s/new.py": "a = 1\n", "tests/test_new.py": "def test(): pass\n"}, "feat: new", when=T0 + timedelta(days=60))
    b = repo.commit({"s/new.py": "a = 2\n"}, "feat: tweak", when=T0 + timedelta(days=61))
    monkeypatch.chdir(repo.path)
    result = anyio.run(engine.risk.score_pr_risk, RiskScoreQuery())
    assert result.target == "feature vs main"
    assert {c.sha for c in result.commits} == {a, b} and result.commits_total == 2
    assert 0 <= result.risk_score <= 100 and result.tier in ("low", "medium", "high", "critical")
    total = result.baseline_score + sum(s.contribution for s in result.signals.values())
    assert abs(total - result.risk_score) <= 1.5  # rounding of each signal to 0.1 point
    assert result.signals["nf"].value == 2 and result.signals["tests_touched"].value == 1
    assert result.recommendation
    engine.store.close()


@pytest.mark.parametrize("mode", ["auto", "legacy"])
async def test_tools_over_mcp(backend: Backend, sample_settings: Settings, tmp_path: Path, mode: str) -> None:
    engine = LocalEngine(backend.copy(sample_settings, tmp_path / "engmetrics.db", sync_max_age_seconds=3600))
    server = build_server(Runtime(engine, sync_on_start=False))
    async with Client(server, mode=mode) as client:
        result = await client.call_tool("score_pr_risk", {"repo": "sample", "commit": "HEAD~3"})
        assert not result.is_error, result.content
        data = result.structured_content
        assert data["target"].startswith("commit ") and data["commits_total"] == 1
        assert set(data["signals"]) == set(FEATURES)
        assert data["model"]["kind"] in ("trained", "prior")
        listed = await client.call_tool("list_risky_changes", {"period": "last_90_days", "limit": 3})
        assert not listed.is_error, listed.content
        page = listed.structured_content
        assert len(page["items"]) == 3 and page["cursor"]
        scores = [i["risk_score"] for i in page["items"]]
        assert scores == sorted(scores, reverse=True)
    engine.store.close()


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        ({"repo": "sample", "commit": "deadbeef123"}, "Unknown commit"),
        ({"repo": "sample", "base": "HEAD", "head": "HEAD"}, "No commits to score"),
        ({"repo": "sample", "pr_number": 4242}, "PR #4242 is not in the local repository"),
        ({"repo": "sample", "commit": "HEAD", "base": "HEAD~1"}, "not several"),
        ({"repo": "sample", "commit": "--output=/tmp/x"}, "not a revision"),
        ({"repo": "sample", "pr_number": 0}, "pr_number"),
        ({"repo": "/"}, "not a git repository"),
        ({"repo": "nope"}, "Unknown repository"),
    ],
)
async def test_bad_input_is_a_clear_tool_error(workspace_copy, args: dict, needle: str) -> None:
    engine = LocalEngine(Settings(db=workspace_copy.db, sync_max_age_seconds=3600))
    server = build_server(Runtime(engine, sync_on_start=False))
    async with Client(server) as client:
        result = await client.call_tool("score_pr_risk", args)
    assert result.is_error
    text = result.content[0].text
    assert needle in text and "Traceback" not in text
    engine.store.close()


def test_cli_evaluate_json_shape(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import json

    from engmetrics.cli.main import main

    repo = _planted(tmp_path, cycles=30)
    code = main(["risk", "evaluate", "--repo", str(repo.path), "--db", str(tmp_path / "cli.db"), "--json", "--bootstrap", "20"])
    assert code == 0
    data = json.loads(capsys.readouterr().out)
    assert {"repo", "changes", "labelled_inducing", "splits", "models"} <= set(data)
    assert [m["name"] for m in data["models"]] == ["engmetrics", "lapredict", "kamei", "size"]
    assert {"name", "auc", "auc_ci", "brier", "recall_at_20_effort", "popt"} <= set(data["models"][0])


def test_cli_score_syncs_a_fresh_store_and_explains(small, tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    import json

    from engmetrics.cli.main import main

    repo, _, (_, _, c3) = small
    db = str(tmp_path / "fresh.db")  # nothing synced: the command syncs the repository first
    assert main(["risk", "score", "--repo", str(repo.path), "--commit", c3, "--db", db, "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["target"] == f"commit {c3[:12]}" and data["commits_total"] == 1
    assert data["signals"]["sloc_added"]["value"] == 2 and data["signals"]["fix"]["value"] == 1  # "fix: crash in x"
    assert data["model"]["kind"] == "prior"
    assert main(["risk", "score", "--repo", "small", "--commit", c3, "--db", db]) == 0
    text = capsys.readouterr().out
    assert f"small commit {c3[:12]}: risk {data['risk_score']}/100 ({data['tier']})" in text
    # Labels known: changes older than the horizon (20% of the 2-day span): the first two of three.
    assert "model: prior, trained on 2 changes, AUC n/a" in text
    assert "labels: 1 of 1 fixes traced by SZZ, 0 pending, 0 unreadable" in text
    # Option help is the request model's field description (one text for MCP, REST and the CLI).
    monkeypatch.setenv("COLUMNS", "250")
    assert main(["risk", "score", "--help"]) == 0
    assert RiskScoreQuery.model_fields["commit"].description in capsys.readouterr().out


def test_codeowners_coverage_and_owner_involvement(tmp_path: Path) -> None:
    from engmetrics.areas.risk.metrics.codeowners import People, Rules, participants, signals

    rules = Rules.parse("# owners\n*.md @docs-team\n/src/ @ada grace@example.com\nsrc/vendored/\n/ci/ @org/infra\n")
    assert rules.owners("src/app.py") == ("@ada", "grace@example.com")
    assert rules.owners("src/vendored/x.py") == ()  # a later rule with no owners un-owns
    assert rules.owners("docs/guide.md") == ("@docs-team",)
    assert rules.owners("lib/x.py") == ()
    me = participants("123+ada@users.noreply.github.com", "Ada", "fix: x\n\nCo-authored-by: Bob <bob@example.com>\n")
    assert signals(rules, ["src/app.py", "lib/x.py"], me) == (0.5, 1.0)
    bob = participants("bob@example.com", "Bob", "feat: y")
    assert signals(rules, ["src/app.py", "lib/x.py"], bob) == (0.5, 0.0)
    grace_coauthor = participants("bob@example.com", "Bob", "feat\n\nCo-authored-by: Grace <grace@example.com>")
    assert signals(rules, ["src/app.py"], grace_coauthor) == (1.0, 1.0)
    people = People.from_config({"infra": {"people": ["carol"]}}, {"carol": {"emails": ["c@corp.example"]}})
    assert signals(rules, ["ci/deploy.yml"], participants("c@corp.example", "Carol", "ci"), people) == (1.0, 1.0)

    # Over history: the CODEOWNERS in force before each change, no look-ahead.
    repo = GitRepo(tmp_path / "owners")
    repo.commit({"src/a.py": "a = 1\n"}, "feat: start", author=ADA, when=T0)
    repo.commit({".github/CODEOWNERS": "/src/ @ada\n"}, "chore: owners", author=ADA, when=T0 + timedelta(days=1))
    by_ada = repo.commit({"src/a.py": "a = 2\n"}, "feat: ada edits", author=ADA, when=T0 + timedelta(days=2))
    by_grace = repo.commit({"src/a.py": "a = 3\n", "b.py": "b\n"}, "feat: grace edits", author=GRACE,
                           when=T0 + timedelta(days=3))
    engine = _engine(tmp_path, repo)
    from engmetrics.areas.risk.feature_replay import labelled_dataset

    row = engine.resolve_repo("owners")
    shas, _, X, _, _ = labelled_dataset(engine.store, row.id, fix_pattern(), row.path)
    f = {s: dict(zip(FEATURES, x.tolist(), strict=True)) for s, x in zip(shas, X, strict=True)}
    assert (f[shas[0]]["owner_coverage"], f[shas[0]]["owner_involved"]) == (0.0, 0.0)
    assert (f[by_ada]["owner_coverage"], f[by_ada]["owner_involved"]) == (1.0, 1.0)  # "ada" = local part of the email
    assert (f[by_grace]["owner_coverage"], f[by_grace]["owner_involved"]) == (0.5, 0.0)
    engine.store.close()


def test_recommendation_phrases_each_signal_by_its_actual_value() -> None:
    """A learned model may give points to touching tests; the sentence must not then claim 'no test changes'."""
    from engmetrics.areas.risk.metrics.changes import Change, FileDelta
    from engmetrics.areas.risk.metrics.wording import Context, recommendation

    change = Change(sha="a" * 40, author_email="a@x.io", author_name="A", time=0, message="feat: x",
                    files=[FileDelta("payments/api.py", None, 10, 2), FileDelta("tests/test_api.py", None, 5, 0)])
    touched = recommendation("high", {"tests_touched": 4.0}, Context(change, {"tests_touched": 1.0}, {"tests_touched": 0.0}))
    assert "no tests" not in touched.lower() and "add tests" not in touched
    assert touched == "High risk: it changes tests. Review carefully before merging."
    untouched = recommendation("high", {"tests_touched": 4.0}, Context(change, {"tests_touched": 0.0}, {"tests_touched": 1.0}))
    assert "it changes no tests" in untouched and "add tests for payments/" in untouched


# ---------------------------------------------------------------------------------------------------
# The risk tools through a real MCP client session, on the planted history (small single-file changes are
# later fixed, bigger three-file ones never are), with figures computed here from git and the definitions.

TIERS = ((95, "critical"), (80, "high"), (50, "medium"), (0, "low"))  # README: low < 50 ≤ medium < 80 ≤ high < 95


def _tier_of(score: int) -> str:
    return next(name for cut, name in TIERS if score >= cut)


def _git_commits(repo: GitRepo, rev: str = "main") -> list[tuple[str, int, str, str]]:
    """(sha, committer time, author email, subject) of every commit of ``rev``, read with plain git."""
    rows = repo.git("log", "--format=%H%x00%ct%x00%ae%x00%s", rev).splitlines()
    return [(sha, int(ct), email, subject) for sha, ct, email, subject in (r.split("\0") for r in rows)]


def _code_lines(text: str) -> int:
    """Source lines (DESIGN.md): not blank, not comment-only."""
    return sum(1 for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#"))


def test_score_pr_risk_tool_figures_and_wording(tmp_path: Path) -> None:
    repo = _planted(tmp_path)
    engine = _engine(tmp_path, repo)
    history = _git_commits(repo)
    repo.checkout("feature", create=True)
    code = "import os\n\n# helpers\n" + "".join(f"def f{k}(x):\n    # doubles x\n    return x * {k}\n\n" for k in range(40))
    docs = "# New\n\nA module.\n"
    test = "def test_x():\n    assert True\n"
    feat = repo.commit({"s/new_module.py": code, "docs/new.md": docs}, "feat: new module", author=ADA,
                       when=T0 + timedelta(days=100))
    tst = repo.commit({"tests/test_new.py": test}, "test: new module", author=ADA, when=T0 + timedelta(days=100, hours=1))
    repo.checkout("main")
    repo.checkout("other", create=True)
    small = repo.commit({"s/s_new.py": "".join(f"v{k} = 'new'\n" for k in range(5))}, "feat: small new", author=ADA,
                        when=T0 + timedelta(days=100))

    # Independently: the planted history's labels, and the training rows (labels known: older than the horizon,
    # 90 days at most 20% of the history's span).
    times = [t for _, t, _, _ in history]
    horizon = min(90 * 86400, 0.2 * (max(times) - min(times)))
    known = [(t, subject) for _, t, _, subject in history if t <= max(times) - horizon]
    fixes = [s for _, _, _, s in history if s.startswith("fix:")]
    # Source lines added of each past change: small = 5 lines, big = 3 files of 12, fix = the one changed line.
    past_code = sorted(5 if s.startswith("feat: small") else 36 if s.startswith("feat: big") else 1
                       for _, _, _, s in history)
    typical_code = past_code[len(past_code) // 2]
    sloc = _code_lines(code)

    async def session() -> tuple[dict[str, Any], dict[str, Any]]:
        async with Client(build_server(Runtime(engine, sync_on_start=False))) as client:
            branch = await client.call_tool("score_pr_risk", {"repo": "planted", "base": "main", "head": "feature"})
            assert not branch.is_error, branch.content
            alone = await client.call_tool("score_pr_risk", {"repo": "planted", "commit": small})
            assert not alone.is_error, alone.content
            return branch.structured_content, alone.structured_content

    big, one = anyio.run(session)

    assert big["target"] == "feature vs main" and big["commits_total"] == 2
    assert {c["sha"] for c in big["commits"]} == {feat, tst}
    values = {name: s["value"] for name, s in big["signals"].items()}
    assert values["sloc_added"] == sloc == 81
    assert values["la"] == len(code.splitlines()) + len(docs.splitlines()) + len(test.splitlines())
    assert (values["ld"], values["nf"], values["ns"], values["nd"], values["tests_touched"]) == (0, 3, 3, 3, 1)
    assert values["test_share"] == pytest.approx(len(test.splitlines()) / values["la"], abs=1e-3)
    assert big["added_lines"] == [
        {"file_type": "Python", "kind": "source", "lines": sloc, "files": 1, "counted_as_code": True},
        {"file_type": "Markdown", "kind": "docs", "lines": 2, "files": 1, "counted_as_code": False},
        {"file_type": "Python", "kind": "tests", "lines": 2, "files": 1, "counted_as_code": False},
    ]
    assert big["model"]["kind"] == "trained"
    assert big["model"]["trained_on"] == len(known) == 115
    assert big["model"]["inducing"] == sum(1 for _, s in known if s.startswith("feat: small"))
    assert big["fix_labels"] == {"fixes": len(fixes), "labelled": len(fixes), "pending": 0, "unreadable": 0, "note": None}
    for scored in (big, one):
        assert scored["tier"] == _tier_of(scored["risk_score"])
        total = scored["baseline_score"] + sum(s["contribution"] for s in scored["signals"].values())
        assert abs(total - scored["risk_score"]) <= 1.5
        assert scored["recommendation"].startswith(f"{scored['tier'].capitalize()} risk: ")
        for s in scored["signals"].values():
            assert (s["says"] is not None) == (abs(s["contribution"]) >= 1.0)
    # The model learned the planted pattern: a small single-file change is riskier than a large module.
    assert one["risk_score"] > big["risk_score"] and one["probability"] > big["probability"]
    says = big["signals"]["sloc_added"]["says"]
    assert says == (
        f"It adds {sloc} lines of Python, about {sloc / typical_code:.0f} times the typical code change here "
        f"({typical_code}), a very large change for this repository (bigger than 100% of past changes that add "
        "code); besides the code, 2 lines of Markdown documentation and 2 lines of Python tests"
    )
    # Here large means safe (the planted bugs are in small changes): its size is what keeps it low, and says so.
    assert big["tier"] == "low" and big["signals"]["sloc_added"]["contribution"] <= -1.0
    assert big["recommendation"].startswith(f"Low risk: it adds {sloc} lines of Python, about ")
    assert big["recommendation"].endswith(". A normal review is enough.")
    engine.store.close()


def test_list_risky_changes_tool_pages_through_the_window(backend: Backend, tmp_path: Path) -> None:
    repo = _planted(tmp_path)
    engine = _engine(tmp_path, repo, backend)
    start, end = datetime(2024, 1, 21, tzinfo=UTC), datetime(2024, 2, 20, tzinfo=UTC)  # to=2024-02-19 is inclusive
    inside = {sha: (t, email, subject) for sha, t, email, subject in _git_commits(repo)
              if start.timestamp() <= t < end.timestamp()}
    fixed = {sha for sha, (_, _, subject) in inside.items() if subject.startswith("feat: small")}  # each fixed a day later

    async def session() -> tuple[list[dict[str, Any]], dict[str, Any]]:
        pages = []
        async with Client(build_server(Runtime(engine, sync_on_start=False))) as client:
            args: dict[str, Any] = {"repo": "planted", "from": "2024-01-21", "to": "2024-02-19", "limit": 10}
            while True:
                result = await client.call_tool("list_risky_changes", args)
                assert not result.is_error, result.content
                pages.append(result.structured_content)
                if not pages[-1]["cursor"]:
                    break
                args["cursor"] = pages[-1]["cursor"]
            whole = await client.call_tool("list_risky_changes", {"from": "2024-01-21", "to": "2024-02-19", "limit": 100})
            assert not whole.is_error, whole.content
            return pages, whole.structured_content

    pages, whole = anyio.run(session)

    items = [item for page in pages for item in page["items"]]
    assert len(inside) == 45 and all(page["total"] == len(inside) for page in pages)
    assert [len(page["items"]) for page in pages] == [10, 10, 10, 10, 5]
    assert [i["sha"] for i in items] == [i["sha"] for i in whole["items"]]  # the only repository: the same list
    assert sorted(i["sha"] for i in items) == sorted(inside)
    probabilities = [i["probability"] for i in items]
    assert probabilities == sorted(probabilities, reverse=True)
    assert [i["risk_score"] for i in items] == sorted((i["risk_score"] for i in items), reverse=True)
    for i in items:
        when, email, subject = inside[i["sha"]]
        assert (i["repo"], i["subject"], i["author"]) == ("planted", subject, email)
        assert i["committed_at"] == datetime.fromtimestamp(when, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        assert i["tier"] == _tier_of(i["risk_score"])
        assert i["later_fixed"] is (i["sha"] in fixed)
        assert set(i["top_signals"]) <= set(FEATURES)
    # The planted pattern is learned: the later-fixed changes are exactly the riskiest ones.
    assert [i["later_fixed"] for i in items] == [True] * len(fixed) + [False] * (len(items) - len(fixed))
    engine.store.close()
