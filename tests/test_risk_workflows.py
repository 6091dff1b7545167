"""Change risk on real workflows: merge commits and merge-commit PRs, source lines by file type, docs-only
changes, fix labels (issue references, version bumps, bots), plain explanations, and SZZ coverage when git
fails (a real `git` wrapper on PATH, and objects deleted from a real repository)."""

from __future__ import annotations

import json
import os
import re
import shutil
import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

import anyio
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engmetrics.config import Settings
from engmetrics.engine.local import LocalEngine
from engmetrics.errors import DataError
from engmetrics.areas.risk.feature_replay import labelled_dataset
from engmetrics.areas.risk.labelling import ensure_labels, fix_pattern
from engmetrics.areas.risk.metrics.changes import AddedLines, Change, FileDelta
from engmetrics.areas.risk.metrics.features import FEATURES, History
from engmetrics.areas.risk.metrics.fixes import DEFAULT_FIX_PATTERN
from engmetrics.areas.risk.metrics.wording import Context, recommendation, sentence, size_word
from engmetrics.areas.risk.models import RiskEvaluationQuery, RiskScoreQuery
from engmetrics.areas.risk.queries import label_coverage, pending_fixes
from engmetrics.areas.risk.source_lines import ensure_sloc
from gitrepo import GitRepo

ADA = ("Ada", "ada@example.com")
GRACE = ("Grace", "grace@example.com")
DEPENDABOT = ("dependabot[bot]", "49699333+dependabot[bot]@users.noreply.github.com")
PRECOMMIT = ("pre-commit-ci[bot]", "66853113+pre-commit-ci[bot]@users.noreply.github.com")
T0 = datetime(2024, 1, 1, tzinfo=UTC)
CODES = re.compile(
    r"\b(ns|nd|nf|la|ld|lt|ndev|nuc|exp|rexp|sexp|entropy|hotspot|NS|ND|NF|LA|LD|LT|NDEV|NUC|EXP|REXP|SEXP)\b|"
    r"\b\w+_\w+\b|\d+\.\d{3,}"
)


def _engine(tmp: Path, repo: GitRepo, name: str = "risk.db") -> LocalEngine:
    engine = LocalEngine(Settings(db=tmp / name, sync_max_age_seconds=3600))
    engine.register_repository(repo.path)
    anyio.run(engine.repos.sync)
    return engine


def _code(i: int, n: int) -> str:
    return "".join(f"value_{i}_{k} = {k}\n" for k in range(n))


def _base_history(repo: GitRepo, cycles: int = 12) -> None:
    """Code changes, some later fixed, plus documentation: a history to score against."""
    day = 0
    for i in range(cycles):
        when = T0 + timedelta(days=day)
        repo.commit({f"app/m{i}.py": _code(i, 3 + i % 5)}, f"feat: module {i}", author=ADA if i % 2 else GRACE, when=when)
        if i % 3 == 0:
            body = _code(i, 3 + i % 5).replace(f"value_{i}_1 = 1", f"value_{i}_1 = 'fixed'")
            repo.commit({f"app/m{i}.py": body}, f"fix: module {i} was wrong", author=GRACE, when=when + timedelta(hours=6))
        repo.commit({f"docs/page{i}.md": f"# Page {i}\n\nSome words.\n"}, f"docs: page {i}", author=ADA,
                    when=when + timedelta(hours=12))
        day += 2


# ---------------------------------------------------------------------------------------------------
# Merge commits and merge-commit PRs


@pytest.fixture
def merges(tmp_path: Path):  # type: ignore[no-untyped-def]
    repo = GitRepo(tmp_path / "merges")
    _base_history(repo)
    when = T0 + timedelta(days=40)
    repo.checkout("feature", create=True)
    c1 = repo.commit({"app/feature.py": "# a feature\n\ndef feature():\n    return 1\n"}, "Add feature", author=ADA, when=when)
    c2 = repo.commit({"tests/test_feature.py": "def test_feature():\n    assert True\n"}, "Test feature", author=ADA,
                     when=when + timedelta(hours=1))
    repo.checkout("main")
    repo.commit({"docs/other.md": "other\n"}, "docs: other", author=GRACE, when=when + timedelta(hours=2))
    m1 = repo.merge("feature", "Merge pull request #7 from ada/feature", author=GRACE, when=when + timedelta(hours=3))
    repo.checkout("other", create=True)
    o1 = repo.commit({"app/m1.py": _code(1, 4) + "extra = 1\nmore = 2\n"}, "Handle empty input", author=ADA,
                     when=when + timedelta(hours=4))
    repo.checkout("main")
    repo.commit({"docs/again.md": "again\n"}, "docs: again", author=GRACE, when=when + timedelta(hours=5))
    m2 = repo.merge("other", "Handle empty input (#8)", author=GRACE, when=when + timedelta(hours=6))
    s1 = repo.commit({"app/m2.py": _code(2, 5) + "z = 3\n"}, "Tidy module 2 (#9)", author=ADA, when=when + timedelta(hours=7))
    engine = _engine(tmp_path, repo)
    yield repo, engine, {"c1": c1, "c2": c2, "m1": m1, "o1": o1, "m2": m2, "s1": s1}
    engine.store.close()


def _brought(repo: GitRepo, merge: str) -> set[str]:
    """DESIGN.md: the commits reachable from the merge's second parent and not from its first (merges left out)."""
    return set(repo.git("rev-list", "--no-merges", f"{merge}^2", f"^{merge}^1").split())


def test_a_merge_commit_is_scored_as_the_commits_it_brings(merges) -> None:
    repo, engine, c = merges
    result = anyio.run(engine.risk.score_pr_risk, RiskScoreQuery(repo="merges", commit=c["m1"]))
    assert {x.sha for x in result.commits} == _brought(repo, c["m1"]) == {c["c1"], c["c2"]}
    assert result.commits_total == 2 and result.target == f"merge commit {c['m1'][:12]}"
    assert any("merge commit" in n and "2 commit(s) it brings" in n for n in result.notes)
    # Hand-computed: two files, 4 + 2 lines added; source lines: 'def feature():' and 'return 1' (the comment and
    # the blank line are not code, the test file is tests).
    assert (result.signals["nf"].value, result.signals["la"].value, result.signals["sloc_added"].value) == (2, 6, 2)
    kinds = {(a.file_type, a.kind): (a.lines, a.files, a.counted_as_code) for a in result.added_lines}
    assert kinds == {("Python", "source"): (2, 1, True), ("Python", "tests"): (2, 1, False)}
    # The same commits as a range score the same.
    ranged = anyio.run(engine.risk.score_pr_risk, RiskScoreQuery(repo="merges", base=f"{c['m1']}^1", head=f"{c['m1']}^2"))
    assert ranged.risk_score == result.risk_score and ranged.probability == result.probability


def test_prs_merged_by_merge_commits_and_squashes(merges) -> None:
    repo, engine, c = merges
    by_merge = anyio.run(engine.risk.score_pr_risk, RiskScoreQuery(repo="merges", pr_number=7))
    assert by_merge.target == f"PR #7 (merged in {c['m1'][:12]})" and by_merge.pr_number == 7
    assert {x.sha for x in by_merge.commits} == {c["c1"], c["c2"]}
    # A two-parent commit titled "… (#8)" is a merge whatever its subject says.
    titled = anyio.run(engine.risk.score_pr_risk, RiskScoreQuery(repo="merges", pr_number=8))
    assert titled.target == f"PR #8 (merged in {c['m2'][:12]})"
    assert {x.sha for x in titled.commits} == _brought(repo, c["m2"]) == {c["o1"]}
    assert titled.signals["sloc_added"].value == 2
    # A single-parent commit titled "… (#9)" is a squash: that one commit.
    squash = anyio.run(engine.risk.score_pr_risk, RiskScoreQuery(repo="merges", pr_number=9))
    assert squash.target == f"PR #9 (squashed as {c['s1'][:12]})" and [x.sha for x in squash.commits] == [c["s1"]]


# ---------------------------------------------------------------------------------------------------
# Source lines by file type, docs-only changes


def test_docs_only_change_scores_low_and_says_so(tmp_path: Path) -> None:
    repo = GitRepo(tmp_path / "docs")
    _base_history(repo, cycles=15)
    faq = "".join(f"Question {k}?\n\nAnswer {k}.\n\n" for k in range(15))  # 30 non-blank lines of Markdown
    docs = repo.commit({"docs/faqs.md": faq}, "Add FAQ entries\n\nCloses #2121", author=ADA, when=T0 + timedelta(days=40))
    mixed = repo.commit({"docs/faqs.md": faq + "More.\n", "app/new.py": "# note\n\nnew = 1\n"},
                        "Document and add new", author=ADA, when=T0 + timedelta(days=41))
    engine = _engine(tmp_path, repo)
    result = anyio.run(engine.risk.score_pr_risk, RiskScoreQuery(repo="docs", commit=docs))
    assert result.risk_score == 0 and result.tier == "low" and result.probability == 0
    assert result.recommendation.startswith("Low risk: a documentation-only change (30 lines of Markdown documentation)")
    assert result.signals["fix"].value == 0  # "Closes #2121" only closes an issue
    assert result.signals["sloc_added"].value == 0 and result.signals["la"].value == 60  # blank lines too
    assert [a.model_dump() for a in result.added_lines] == [
        {"file_type": "Markdown", "kind": "docs", "lines": 30, "files": 1, "counted_as_code": False}]
    assert result.signals["sloc_added"].says.startswith("It adds no code: a documentation-only change")
    assert abs(result.baseline_score + sum(s.contribution for s in result.signals.values()) - result.risk_score) <= 1.5
    # With one source line among the docs, the model scores it and says what it counted.
    both = anyio.run(engine.risk.score_pr_risk, RiskScoreQuery(repo="docs", commit=mixed))
    assert both.signals["sloc_added"].value == 1  # 'new = 1'; the comment is not code, nor is Markdown
    assert [(a.file_type, a.kind, a.lines) for a in both.added_lines] == [("Python", "source", 1), ("Markdown", "docs", 1)]
    assert "documentation-only" not in both.recommendation
    engine.store.close()


def test_source_lines_are_source_files_only(tmp_path: Path) -> None:
    repo = GitRepo(tmp_path / "kinds")
    files = {
        "src/app.py": "import os\n\n# comment\nx = 1\n",  # 2 source lines
        "web/app.js": "// c\nlet a = 1;\n",  # 1
        "README.md": "# Title\n\ntext\n",  # docs
        "tests/test_app.py": "def test():\n    pass\n",  # tests
        "vendor/lib.py": "y = 2\n",  # vendored
        "package-lock.json": "{}\n",  # generated
        "config.yaml": "a: 1\n",  # config
    }
    sha = repo.commit(files, "feat: many kinds", when=T0)
    engine = _engine(tmp_path, repo)
    result = anyio.run(engine.risk.score_pr_risk, RiskScoreQuery(repo="kinds", commit=sha))
    assert result.signals["sloc_added"].value == 3
    got = {(a.file_type, a.kind): a.lines for a in result.added_lines}
    assert got == {("Python", "source"): 2, ("JavaScript", "source"): 1, ("Markdown", "docs"): 2,
                   ("Python", "tests"): 2, ("Python", "vendored"): 1, ("JSON", "generated"): 1, ("YAML", "config"): 1}
    assert [a.kind for a in result.added_lines if a.counted_as_code] == ["source", "source"]
    from engmetrics.areas.risk.metrics.features import replay
    from engmetrics.areas.risk.queries import stored_changes

    row = engine.resolve_repo("kinds")
    _, _, X = replay(stored_changes(engine.store.read(), row.id))
    assert X[0][FEATURES.index("sloc_added")] == 3  # the stored count (risk_sloc) agrees
    engine.store.close()


# ---------------------------------------------------------------------------------------------------
# Labels: issue references, version bumps, bots


@pytest.mark.parametrize(("message", "fix"), [
    ("fix: crash in parser", True),
    ("Fix #12: crash on empty input", True),
    ("Handle the bug in the loader\n\nCloses #4", True),
    ("Add FAQ entries\n\nCloses #12", False),
    ("Add FAQ entries\n\nFixes #12", False),
    ("Add export\n\nfixes: pallets/flask#12", False),
    ("Add export\n\nResolves #12", False),
    ("Add export\n\nFixes https://github.com/pallets/flask/issues/12", False),
    ("Closes #12", False),
    ("Bump requests from 2.31.0 to 2.32.0", False),
    ("build(deps): bump pytest from 7.4.0 to 7.4.1\n\nBumps pytest.\n- Bug fixes\n- Fix crash in x", False),
    ("Bump the pip group with 3 updates\n\nFix y\n\n---\nupdated-dependencies:\n- dependency-name: x\n"
     "  dependency-type: direct:production\n  update-type: version-update:semver-patch\n", False),
    ("Update semver-patch dependencies", False),
    ("Bump version to 2.0.1 (patch release)", False),
    ("revert: the bad change", True),
    ("Add prefix support", False),
])
def test_fix_pattern(message: str, fix: bool) -> None:
    assert bool(re.search(DEFAULT_FIX_PATTERN, message)) is fix
    history = History()
    change = Change("a" * 40, "ada@example.com", "Ada", 0, message, [FileDelta("app.py", None, 1, 0)])
    assert history.features(change)[FEATURES.index("fix")] == (1.0 if fix else 0.0)


def test_bots_are_neither_fixes_nor_training_rows(tmp_path: Path) -> None:
    repo = GitRepo(tmp_path / "bots")
    _base_history(repo, cycles=6)
    bump = repo.commit({"requirements.txt": "requests==2.32.0\n", "app/m1.py": _code(1, 4) + "fixed = 1\n"},
                       "Bump requests from 2.31.0 to 2.32.0\n\n- Fix crash in y", author=DEPENDABOT, when=T0 + timedelta(days=30))
    auto = repo.commit({"app/m2.py": _code(2, 5).replace("value_2_1 = 1", "value_2_1 = 1  ")},
                       "[pre-commit.ci] auto fixes from pre-commit.com hooks", author=PRECOMMIT, when=T0 + timedelta(days=31))
    human = repo.commit({"app/m4.py": _code(4, 7).replace("value_4_2 = 2", "value_4_2 = 'x'")},
                        "fix: value 2 of module 4", author=ADA, when=T0 + timedelta(days=32))
    engine = _engine(tmp_path, repo)
    row = engine.resolve_repo("bots")
    fixes = {f.sha for f in pending_fixes(engine.store.read(), row.id, fix_pattern())}
    assert human in fixes and bump not in fixes and auto not in fixes
    shas, _, X, _, history = labelled_dataset(engine.store, row.id, fix_pattern(), row.path)
    assert bump not in shas and auto not in shas and human in shas
    assert all(not sha.startswith("docs") for sha in shas)
    # Documentation-only changes are not rows either; the history still saw every change.
    # 6 features, 2 fixes and the human fix are rows; the history also has the 6 docs and the 2 bots' changes.
    assert len(shas) == len(set(shas)) == 6 + 2 + 1 and history.n == 6 + 2 + 6 + 3
    # Scoring a bot's commit works and says it is a bot's.
    result = anyio.run(engine.risk.score_pr_risk, RiskScoreQuery(repo="bots", commit=bump))
    assert result.signals["fix"].value == 0 and any("by a bot" in n for n in result.notes)
    engine.store.close()


# ---------------------------------------------------------------------------------------------------
# Plain explanations


def _context(draw_values: dict[str, float], past: dict[str, np.ndarray], files: list[FileDelta],
             added: AddedLines | None) -> Context:
    change = Change("b" * 40, "ada@example.com", "Ada", 0, "feat: x", files)
    typical = {k: float(np.median(v)) for k, v in past.items()}
    return Context(change=change, values=draw_values, typical=typical, past=past, added=added)


PATHS = ["app/core.py", "docs/guide.md", "tests/test_core.py", "web/ui.js", ".github/workflows/ci.yml", "README.md",
         "config.yaml", "migrations/001.sql", "src/auth/token.py", "vendor/x.go"]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    values=st.fixed_dictionaries({k: st.floats(0, 5000, allow_nan=False) for k in FEATURES}),
    past=st.lists(st.floats(0, 300, allow_nan=False), min_size=1, max_size=40),
    paths=st.lists(st.sampled_from(PATHS), min_size=1, max_size=6, unique=True),
    level=st.sampled_from(["low", "medium", "high", "critical"]),
    points=st.fixed_dictionaries({k: st.floats(-20, 20, allow_nan=False) for k in FEATURES}),
    source=st.integers(0, 500),
    docs=st.integers(0, 500),
)
def test_no_sentence_contains_a_feature_code(values, past, paths, level, points, source, docs) -> None:
    for share in ("test_share", "ai_share", "author_file_exp", "owner_coverage"):
        values[share] = min(values[share] / 5000, 1.0)
    for flag in ("fix", "tests_touched", "owner_involved"):
        values[flag] = float(values[flag] > 2500)
    added = AddedLines(source, {("source", "Python"): [source, 1], ("docs", "Markdown"): [docs, 1]})
    arr = np.array(past)
    ctx = _context(values, {k: arr for k in FEATURES}, [FileDelta(p, None, 3, 1) for p in paths], added)
    for name in FEATURES:
        text = sentence(name, ctx)
        assert text and (text[0].isupper() or text[0].isdigit()) and not CODES.search(text), (name, text)
    for product in (True, False):
        text = recommendation(level, points, ctx, product=product)
        assert text.startswith(f"{level.capitalize()} risk: ") and not CODES.search(text), text


def test_explanations_on_a_generated_history_have_no_feature_codes(merges) -> None:
    repo, engine, c = merges
    for q in (RiskScoreQuery(repo="merges", commit=c["m1"]), RiskScoreQuery(repo="merges", pr_number=8),
              RiskScoreQuery(repo="merges", base=repo.rev_parse("HEAD~6"), head="HEAD"),
              *(RiskScoreQuery(repo="merges", commit=f"HEAD~{k}") for k in range(12))):
        result = anyio.run(engine.risk.score_pr_risk, q)
        texts = [result.recommendation, *(s.says for s in result.signals.values() if s.says)]
        for text in texts:
            assert not CODES.search(text), text


def test_size_words_are_relative_to_the_repository() -> None:
    files = [FileDelta("app/core.py", None, 8, 0)]
    big_repo = np.arange(20.0, 61.0)  # past code changes add 20–60 source lines
    values = {k: 0.0 for k in FEATURES} | {"sloc_added": 8.0, "la": 8.0, "nf": 1.0}
    ctx = _context(values, {k: big_repo for k in FEATURES}, files, AddedLines(8, {("source", "Python"): [8, 1]}))
    text = sentence("sloc_added", ctx)
    assert "large" not in text and size_word(ctx, "sloc_added") == "small"
    # Independent: the share of past changes below 8 is 0, so all of them (100%) are bigger; the median is 40.
    assert text == ("It adds 8 lines of Python, much less than the typical code change here (40), a small change for this "
                    "repository (100% of past changes that add code are bigger)")
    rec = recommendation("high", {"sloc_added": 30.0}, ctx)
    assert "splitting" not in rec
    small_repo = np.array([1.0, 2, 2, 3, 3, 3, 4, 5, 6, 7])
    ctx = _context(values | {"sloc_added": 310.0}, {k: small_repo for k in FEATURES}, files,
                   AddedLines(310, {("source", "Python"): [310, 1]}))
    below = float(np.mean(small_repo < 310))  # every past change is smaller
    assert below == 1.0 and size_word(ctx, "sloc_added") == "very large"
    assert "about 103 times the typical code change here (3)" in sentence("sloc_added", ctx)
    assert recommendation("high", {"sloc_added": 30.0, "la": 8.0}, ctx).endswith("consider splitting it.")


# ---------------------------------------------------------------------------------------------------
# SZZ coverage when git fails


def _fixes_repo(root: Path, n_fixes: int) -> tuple[GitRepo, dict[str, str]]:
    """``n_fixes`` fixes, each of a line its own feature commit added: fix → the inducing commit."""
    repo = GitRepo(root)
    expected: dict[str, str] = {}
    for i in range(n_fixes):
        when = T0 + timedelta(days=2 * i)
        bug = repo.commit({f"app/f{i}.py": f"def f{i}():\n    return {i}\n"}, f"feat: f{i}", author=ADA, when=when)
        fix = repo.commit({f"app/f{i}.py": f"def f{i}():\n    return {i + 1}\n"}, f"fix: f{i} is off by one",
                          author=GRACE, when=when + timedelta(hours=3))
        expected[fix] = bug
    return repo, expected


def _git_wrapper(bin_dir: Path, flag: Path) -> None:
    """A `git` on PATH that fails (exit 1) for blame, diff, diff-tree and `log -p` while ``flag`` exists."""
    real = shutil.which("git")
    assert real
    bin_dir.mkdir()
    script = bin_dir / "git"
    script.write_text(f"""#!/bin/sh
if [ -e "{flag}" ]; then
  sub=""; prev=""; patch=""
  for a in "$@"; do
    if [ -z "$sub" ]; then
      case "$prev" in -C|-c) prev=""; continue;; esac
      case "$a" in -C|-c) prev="$a"; continue;; -*) continue;; esac
      sub="$a"
    elif [ "$a" = "-p" ]; then patch=1; fi
  done
  case "$sub" in
    blame|diff|diff-tree) echo "fatal: simulated failure" >&2; exit 1;;
    log) if [ -n "$patch" ]; then echo "fatal: simulated failure" >&2; exit 1; fi;;
  esac
fi
exec "{real}" "$@"
""")
    script.chmod(script.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)


def _links(engine: LocalEngine) -> dict[str, str]:
    rows = engine.store.read().execute("SELECT fix_sha, inducing_sha FROM risk_szz_links").fetchall()
    return {f: i for f, i in rows}


@pytest.mark.parametrize("n_fixes", [3, 22])  # labelled by blame, and by one replay (20 fixes or more)
def test_szz_with_a_failing_git_leaves_fixes_pending_then_labels_them(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                      n_fixes: int) -> None:
    repo, expected = _fixes_repo(tmp_path / "szzfail", n_fixes)
    flag = tmp_path / "fail"
    _git_wrapper(tmp_path / "bin", flag)
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}{os.pathsep}{os.environ['PATH']}")
    engine = _engine(tmp_path, repo)
    row = engine.resolve_repo("szzfail")
    report = anyio.run(engine.repos.sync)
    assert report.repos[0].fix_labels.model_dump()["pending"] == n_fixes  # sync says so, before any labelling
    flag.touch()
    assert ensure_labels(engine.store, row.id, row.path) == 0
    coverage = label_coverage(engine.store.read(), row.id, fix_pattern())
    assert (coverage.fixes, coverage.labelled, coverage.pending, coverage.unreadable) == (n_fixes, 0, n_fixes, 0)
    assert _links(engine) == {} and engine.store.read().execute("SELECT count(*) FROM risk_szz_fixes").fetchone()[0] == 0
    scored = anyio.run(engine.risk.score_pr_risk, RiskScoreQuery(repo="szzfail", commit="HEAD"))
    assert scored.fix_labels is not None and scored.fix_labels.pending == n_fixes and scored.fix_labels.labelled == 0
    assert any("pending" in n for n in scored.notes)
    assert engine.store.read().execute("SELECT count(*) FROM risk_sloc").fetchone()[0] == 0  # nothing guessed
    flag.unlink()  # git works again: the next run labels every fix
    assert ensure_labels(engine.store, row.id, row.path) == n_fixes
    assert ensure_sloc(engine.store, row.id, row.path) == 2 * n_fixes
    sloc = dict(engine.store.read().execute("SELECT sha, added FROM risk_sloc").fetchall())
    assert all(sloc[bug] == 2 and sloc[fix] == 1 for fix, bug in expected.items())
    assert _links(engine) == expected
    coverage = label_coverage(engine.store.read(), row.id, fix_pattern())
    assert (coverage.labelled, coverage.pending, coverage.unreadable) == (n_fixes, 0, 0)
    assert ensure_labels(engine.store, row.id, row.path) == 0
    engine.store.close()


def _object_path(repo: GitRepo, oid: str) -> Path:
    return repo.path / ".git" / "objects" / oid[:2] / oid[2:]


def test_missing_objects_are_unreadable_and_retried(tmp_path: Path) -> None:
    repo, expected = _fixes_repo(tmp_path / "missing", 3)
    engine = _engine(tmp_path, repo)
    row = engine.resolve_repo("missing")
    fixes = list(expected)
    # The blob the second fix changes (its parent's version of the file) goes missing.
    blob = repo.git("rev-parse", f"{fixes[1]}^:app/f1.py")
    saved = _object_path(repo, blob).read_bytes()
    _object_path(repo, blob).unlink()
    assert ensure_labels(engine.store, row.id, row.path) == 2
    coverage = label_coverage(engine.store.read(), row.id, fix_pattern())
    assert (coverage.labelled, coverage.pending, coverage.unreadable) == (2, 0, 1)
    assert coverage.error and blob[:7] in coverage.error
    assert _links(engine) == {fixes[0]: expected[fixes[0]], fixes[2]: expected[fixes[2]]}
    status = engine.store.read().execute("SELECT status FROM risk_szz_fixes WHERE sha = ?", (fixes[1],)).fetchone()[0]
    assert status == "unreadable"  # never stored as "no bug-inducing commits"
    assert ensure_labels(engine.store, row.id, row.path) == 0  # no new commit or object: nothing to retry yet
    # Source lines: the two commits that need the missing blob are unknown (-1); the others are counted.
    assert ensure_sloc(engine.store, row.id, row.path) == 6
    sloc = dict(engine.store.read().execute("SELECT sha, added FROM risk_sloc").fetchall())
    assert sloc == {fixes[0]: 1, expected[fixes[0]]: 2, fixes[1]: -1, expected[fixes[1]]: -1, fixes[2]: 1,
                    expected[fixes[2]]: 2}
    path = _object_path(repo, blob)
    path.parent.mkdir(exist_ok=True)
    path.write_bytes(saved)
    assert ensure_labels(engine.store, row.id, row.path) == 1  # the object is back: labelled
    assert _links(engine) == expected
    engine.store.close()


def test_evaluate_with_no_readable_fix_says_why(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from engmetrics.cli.main import main

    repo, _ = _fixes_repo(tmp_path / "broken", 30)
    engine = _engine(tmp_path, repo)
    blobs = set()  # every fix's parent version of the file it fixes
    for fix_sha in repo.git("log", "--format=%H", "--grep=^fix:").split():
        name = repo.git("diff-tree", "--no-commit-id", "--name-only", "-r", fix_sha)
        blobs.add(repo.git("rev-parse", f"{fix_sha}^:{name}"))
    for blob in blobs:
        _object_path(repo, blob).unlink()
    with pytest.raises(DataError) as err:
        anyio.run(lambda: engine.risk.evaluate_risk(RiskEvaluationQuery(repo="broken", bootstrap=0)))
    text = str(err.value)
    assert "No evaluation is possible on broken" in text and "30 unreadable" in text and "SZZ labelled 0 of the 30" in text
    engine.store.close()
    code = main(["risk", "evaluate", "--repo", "broken", "--db", str(tmp_path / "risk.db"), "--json"])
    captured = capsys.readouterr()
    assert code == 2 and "No evaluation is possible" in captured.err and "Traceback" not in captured.err
    assert captured.out == ""


def test_sync_json_reports_fix_labels(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from engmetrics.cli.main import main

    repo, _ = _fixes_repo(tmp_path / "synced", 2)
    assert main(["sync", "--repo", str(repo.path), "--db", str(tmp_path / "s.db"), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    labels = data["repos"][0]["fix_labels"]
    assert (labels["fixes"], labels["labelled"], labels["pending"], labels["unreadable"]) == (2, 0, 2, 0)
    assert "first time change risk is scored" in labels["note"]


# ---------------------------------------------------------------------------------------------------
# Source lines on generated histories, against a computation written here from DESIGN.md's definition

_LINES = st.sampled_from(["x = 1", "", "   ", "# a comment", "// a comment", "def f():", "    return 2", "* item",
                          "Some prose.", "let y = 3;", "-- sql comment", "SELECT 1;"])
_NAMES = st.sampled_from(["app/a.py", "web/b.js", "docs/c.md", "tests/test_d.py", "vendor/e.py", "conf/f.yaml",
                          "db/g.sql", "README.rst", "lib/gen/h.py", "notes.txt"])


def _expected_source_lines(path: str, text: str) -> int:
    """DESIGN.md: added lines of source code, not blank, not comment-only, not docs/tests/generated/vendored."""
    from engmetrics.filekinds import kind_of  # the shared path classification (not the metric)

    if kind_of(path) != "source":
        return 0
    comment = re.compile(r"^\s*(#|//|/\*|\*|--|;|%|<!--|\"\"\"|''')")
    return sum(1 for line in text.split("\n") if line.strip() and not comment.match(line))


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(commits=st.lists(st.dictionaries(_NAMES, st.lists(_LINES, min_size=1, max_size=6), min_size=1, max_size=4),
                        min_size=1, max_size=4))
def test_source_lines_on_generated_histories(tmp_path_factory: pytest.TempPathFactory, commits) -> None:
    root = tmp_path_factory.mktemp("gen")
    repo = GitRepo(root / "gen")
    expected: dict[str, int] = {}
    for i, files in enumerate(commits):
        # Each commit writes new files (a fresh folder per commit), so every line it writes is an added line.
        contents = {f"c{i}/{name}": "\n".join(lines) + "\n" for name, lines in files.items()}
        sha = repo.commit(contents, f"feat: commit {i}", when=T0 + timedelta(days=i))
        expected[sha] = sum(_expected_source_lines(p, t) for p, t in contents.items())
    engine = _engine(root, repo)
    row = engine.resolve_repo("gen")
    ensure_sloc(engine.store, row.id, row.path)
    stored = dict(engine.store.read().execute("SELECT sha, added FROM risk_sloc").fetchall())
    assert stored == expected
    last = list(expected)[-1]
    result = anyio.run(engine.risk.score_pr_risk, RiskScoreQuery(repo="gen", commit=last))
    assert sum(a.lines for a in result.added_lines if a.counted_as_code) == expected[last]
    engine.store.close()


def test_a_partial_clone_without_file_contents_is_unreadable_not_clean(tmp_path: Path) -> None:
    from engmetrics.areas.risk.szz import PROBE, REPLAY_MIN

    n = REPLAY_MIN + PROBE + 5
    source, _ = _fixes_repo(tmp_path / "full", n)
    clone = GitRepo.clone(source, tmp_path / "partial", "--filter=blob:none", "--no-checkout")
    engine = _engine(tmp_path, clone)
    row = engine.resolve_repo("partial")
    assert ensure_labels(engine.store, row.id, row.path) == 0
    coverage = label_coverage(engine.store.read(), row.id, fix_pattern())
    assert (coverage.fixes, coverage.labelled, coverage.pending, coverage.unreadable) == (n, 0, 0, n)
    assert _links(engine) == {}  # no fix is stored as blaming nobody
    reasons = [r[0] for r in engine.store.read().execute("SELECT error FROM risk_szz_fixes WHERE status = 'unreadable'")]
    assert sum(r.startswith("not read one by one") for r in reasons) == n - PROBE  # all but the fixes probed
    assert ensure_sloc(engine.store, row.id, row.path) == 2 * n
    assert {a for (a,) in engine.store.read().execute("SELECT added FROM risk_sloc")} == {-1}  # unknown, not 0
    with pytest.raises(DataError, match=f"{n} unreadable"):
        anyio.run(lambda: engine.risk.evaluate_risk(RiskEvaluationQuery(repo="partial", bootstrap=0)))
    engine.store.close()
