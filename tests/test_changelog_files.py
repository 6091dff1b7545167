"""Changelogs and reports classify a change by the files it touched as well as its words, and write every
count before a noun in the right number ("1 bot commit", "2 bot commits", "1 production deployment").

The built repository (v1.0.0 the week before; the week of Monday 2024-03-04 and its release v2.0.0 on
Friday the 8th, that week's only deployment) holds, hand-classified:

  features  1  "Add CSV export" (src/export.py, tests/test_export.py, CHANGES.rst: a product file is there)
  docs      3  "Add FAQ entry" (docs/faq.md), the merged PR #12 "Add an install guide" (its two branch
               commits touched docs/install.md and README.md only; they are not listed again), and PR #14
               merged by a merge commit titled "Add a tutorial (#14)" (its commit: docs/tutorial.md)
  tests     2  "Add tests for the parser" (tests/test_parser.py), squash "Add tests for X (#13)" (tests/…)
  other     2  "Add Python 3.13 to the CI matrix" (.github/workflows/ci.yml), "Add a license" (LICENSE)
  grouped      1 bot commit (pre-commit-ci's "[pre-commit.ci] auto fixes", touching src/export.py) and
               1 release chore ("Release version 2.0.0", CHANGES.rst)

Words alone would have put every "Add …" under features (8 features).
"""

from __future__ import annotations

from pathlib import Path

import anyio
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engmetrics.config import Settings
from engmetrics.engine.local import LocalEngine
from engmetrics.areas.reports.metrics.changelog import CommitRow, build_entry, entry_markdown
from engmetrics.areas.reports.models import ChangelogQuery, ReportRequest
from engmetrics.areas.reports.metrics.numbers import count, plural
from gitrepo import GitRepo

BOT = ("pre-commit-ci[bot]", "66853113+pre-commit-ci[bot]@users.noreply.github.com")
WEEK = {"from": "2024-03-04", "to": "2024-03-10"}


def _build(root: Path) -> GitRepo:
    repo = GitRepo(root / "tool")
    repo.commit({"src/core.py": "x = 1\n"}, "Start the tool", when="2024-02-26T09:00:00Z")  # the week before
    repo.tag("v1.0.0", annotated=True, when="2024-02-26T12:00:00Z")
    repo.commit({"docs/faq.md": "# FAQ\n\nQ: why?\nA: because.\n"}, "Add FAQ entry about config files",
                when="2024-03-04T09:00:00Z")
    repo.commit({"tests/test_parser.py": "def test_parse():\n    assert True\n"}, "Add tests for the parser",
                when="2024-03-04T10:00:00Z")
    repo.commit({".github/workflows/ci.yml": "on: push\n"}, "Add Python 3.13 to the CI matrix", when="2024-03-04T11:00:00Z")
    repo.commit({"LICENSE": "BSD\n"}, "Add a license", when="2024-03-04T12:00:00Z")
    repo.commit({"src/export.py": "def export():\n    return 'csv'\n", "tests/test_export.py": "def test_export():\n    pass\n",
                 "CHANGES.rst": "- CSV export\n"}, "Add CSV export", when="2024-03-05T09:00:00Z")
    repo.commit({"src/export.py": "def export():\n    return \"csv\"\n"}, "[pre-commit.ci] auto fixes from pre-commit hooks",
                author=BOT, when="2024-03-05T10:00:00Z")
    repo.branch("install-guide")
    repo.checkout("install-guide")
    repo.commit({"docs/install.md": "pip install tool\n"}, "Write the install page", when="2024-03-06T09:00:00Z")
    repo.commit({"README.md": "See docs/install.md\n"}, "Link it from the readme", when="2024-03-06T10:00:00Z")
    repo.checkout("main")
    repo.merge("install-guide", message="Merge pull request #12 from acme/install-guide\n\nAdd an install guide",
               when="2024-03-06T12:00:00Z")
    repo.commit({"tests/test_x.py": "def test_x():\n    pass\n"}, "Add tests for X (#13)", when="2024-03-07T09:00:00Z")
    repo.branch("tutorial")
    repo.checkout("tutorial")
    repo.commit({"docs/tutorial.md": "# Tutorial\n"}, "Write the tutorial", when="2024-03-07T10:00:00Z")
    repo.checkout("main")
    repo.merge("tutorial", message="Add a tutorial (#14)", when="2024-03-07T11:00:00Z")
    repo.commit({"CHANGES.rst": "Version 2.0.0\n"}, "Release version 2.0.0", when="2024-03-08T10:00:00Z")
    repo.tag("v2.0.0", annotated=True, when="2024-03-08T12:00:00Z")
    return repo


@pytest.fixture(scope="module")
def tool_engine(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    root = tmp_path_factory.mktemp("files")
    repo = _build(root)
    engine = LocalEngine(Settings(db=root / "db.sqlite"))
    engine.register_repository(repo.path)
    assert not anyio.run(engine.repos.sync).errors
    yield engine
    engine.store.close()


def _categories(entry) -> dict[str, int]:  # type: ignore[no-untyped-def]
    return {k: v for k, v in entry.categories.model_dump().items() if v}


EXPECTED = {"features": 1, "docs": 3, "tests": 2, "other": 2}
EXPECTED_ITEMS = {
    "Add FAQ entry about config files": "docs", "Add tests for the parser": "tests",
    "Add Python 3.13 to the CI matrix": "other", "Add a license": "other", "Add CSV export": "features",
    "Add an install guide": "docs", "Add tests for X": "tests", "Add a tutorial": "docs",
}


def test_week_and_release_entries_classify_by_files(tool_engine: LocalEngine) -> None:
    async def go():  # type: ignore[no-untyped-def]
        weeks = await tool_engine.reports.get_changelog(ChangelogQuery(items_per_entry=30, since="2024-03-04"))
        releases = await tool_engine.reports.get_changelog(ChangelogQuery(group_by="release", items_per_entry=30))
        return weeks.entries, releases.entries

    weeks, releases = anyio.run(go)
    assert [e.id for e in weeks] == ["week-of-2024-03-04"]
    week = weeks[0]
    assert _categories(week) == EXPECTED
    assert {i.title: i.category for i in week.items} == EXPECTED_ITEMS
    assert {g.kind: g.count for g in week.grouped} == {"bots": 1, "release_chores": 1}
    assert next(i for i in week.items if i.title == "Add an install guide").pr_number == 12
    assert next(i for i in week.items if i.title == "Add a tutorial").pr_number == 14  # a merge commit "… (#14)"
    # The release v2.0.0 shipped exactly those changes.
    assert [e.title for e in releases] == ["v2.0.0", "v1.0.0"]
    assert _categories(releases[0]) == EXPECTED
    assert {i.title: i.category for i in releases[0].items} == EXPECTED_ITEMS

    md = entry_markdown(week)
    assert "1 feature, 3 documentation changes, 2 test changes, 2 other changes" in md
    assert "## Documentation" in md and "## Tests" in md and "- Add FAQ entry about config files" in md
    assert "Not listed: 1 bot commit, 1 release chore." in md and "1 bots" not in md
    assert md.index("## Documentation") < md.index("## Tests") < md.index("## Other")


def test_report_sections_and_counts_in_the_right_number(tool_engine: LocalEngine) -> None:
    async def go(audience: str):  # type: ignore[no-untyped-def]
        return (await tool_engine.reports.generate_report(ReportRequest(audience=audience, **WEEK))).report  # type: ignore[arg-type]

    team = anyio.run(go, "team")
    assert team is not None
    text = team.content
    assert "made 1 production deployment" in text and "1 production deployments" not in text
    assert "shipped 1 feature and 0 fixes, and had 0 incidents" in text
    assert "1 feature, 3 documentation changes, 2 test changes and 2 other changes." in text
    assert "- Docs: Add FAQ entry about config files" in text and "- Tests: Add tests for the parser" in text
    assert "- Feature: Add CSV export" in text and "Feature: Add FAQ" not in text
    assert "Not listed: 1 bot commit, 1 release chore." in text and "1 bots" not in text
    assert "Changes: 1 feature, 0 improvements, 0 fixes, 0 breaking changes, 0 security changes, " \
           "3 documentation changes, 2 test changes, 2 other changes" in team.numbers

    customers = anyio.run(go, "customers")
    assert customers is not None
    assert "Add CSV export" in customers.content
    for internal in ("FAQ", "tests for", "CI matrix", "license", "install guide", "tutorial"):
        assert internal not in customers.content


@pytest.mark.parametrize(("n", "noun", "text"), [
    (0, "bot commit", "0 bot commits"), (1, "bot", "1 bot"), (2, "bot", "2 bots"), (1, "fix", "1 fix"),
    (2, "fix", "2 fixes"), (1, "deployment", "1 deployment"), (3, "dependency update", "3 dependency updates"),
    (2, "entry", "2 entries"), (2, "day", "2 days"), (2, "breaking change", "2 breaking changes"),
])
def test_count_words(n: int, noun: str, text: str) -> None:
    assert count(n, noun) == text
    assert plural("match") == "matches" and count(2, "person", "people") == "2 people"


# ---- a second, independent computation on generated histories ---------------------------------------------

# Paths of known kinds and subjects whose words say a known category (the test's own tables, not the code's).
PATHS = {
    "docs": ["docs/guide.md", "docs/api/index.rst", "README.md", "docs/conf.txt"],
    "tests": ["tests/test_a.py", "tests/unit/test_b.py", "src/pkg/tests/test_c.py", "web/app.test.js"],
    "ci": [".github/workflows/ci.yml", ".gitlab-ci.yml", "tox.ini", ".pre-commit-config.yaml"],
    "metadata": ["LICENSE", "CHANGES.rst", "AUTHORS", ".gitignore"],
    "product": ["src/pkg/core.py", "web/app.js", "lib/util.go", "pyproject.toml"],
}
SUBJECTS = {
    "features": ["Add a dark mode", "feat: export to CSV", "Introduce plugins"],
    "fixes": ["Fix the crash on empty input", "fix: off-by-one in pagination"],
    "improvements": ["Improve error messages", "refactor: split the parser"],
    "docs": ["docs: explain the cache", "README: describe the retry settings"],
    "tests": ["test: cover the parser", "tests: more cases"],
    "other": ["Tidy things", "chore: rename a variable"],
}


def expected_category(word_category: str, kinds: set[str]) -> str:
    """DESIGN.md's product change and the issue's rule, written again: no product file → docs/tests/other."""
    if not kinds or "product" in kinds:
        return word_category
    rest = kinds - {"metadata"}
    if rest == {"docs"}:
        return "docs"
    if rest == {"tests"}:
        return "tests"
    return word_category if word_category in ("docs", "tests") else "other"


commit_strategy = st.tuples(
    st.sampled_from(sorted(SUBJECTS)),
    st.integers(0, 10),
    st.lists(st.sampled_from(sorted(PATHS)), min_size=0, max_size=3),
    st.integers(0, 3),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(commit_strategy, min_size=1, max_size=25))
def test_category_counts_match_an_independent_count(commits: list[tuple[str, int, list[str], int]]) -> None:
    rows, expected = [], {k: 0 for k in ("features", "improvements", "fixes", "security", "docs", "tests", "other")}
    for i, (words, pick, kinds, offset) in enumerate(commits):
        subject = SUBJECTS[words][pick % len(SUBJECTS[words])]
        paths = tuple(sorted({PATHS[k][(offset + j) % len(PATHS[k])] for j, k in enumerate(kinds)}))
        rows.append(CommitRow("r", f"{i:040x}", subject, "", "Ada", "ada@example.com", 1_700_000_000 + i, ("p",), paths))
        expected[expected_category(words, set(kinds))] += 1
    entry = build_entry("period", "p", 1_700_000_000, 1_800_000_000, rows)
    got = entry.categories.model_dump()
    got.pop("breaking")
    assert got == expected
    assert entry.items_total == len(commits)
