"""Changelog: commit classification on real-looking subjects, and grouping on a built repository."""

from __future__ import annotations

import anyio
import pytest

from engmetrics.config import Settings
from engmetrics.engine.local import LocalEngine
from engmetrics.areas.reports.metrics.changelog import entry_markdown
from engmetrics.areas.reports.metrics.classify import classify
from engmetrics.areas.reports.models import ChangelogEntryQuery, ChangelogQuery
from gitrepo import GitRepo
from helpers import call, mcp_session


@pytest.mark.parametrize(
    ("subject", "category", "breaking", "noise"),
    [
        ("feat(api): add pagination to /users", "features", False, None),
        ("feat!: drop Python 3.8 support", "features", True, None),
        ("fix: handle empty cart on checkout", "fixes", False, None),
        ("fix(auth)!: reject expired tokens", "fixes", True, None),
        ("perf: cache compiled templates", "improvements", False, None),
        ("refactor(db): split the session module", "improvements", False, None),
        ("docs: explain the deploy hook", "docs", False, None),
        ("security: escape user names in emails", "security", False, None),
        ("ci: run tests on 3.13", "other", False, None),
        ("test: cover the empty cart", "tests", False, None),
        ("✅ Add tests for the router", "tests", False, None),
        ("✨ Add dark mode", "features", False, None),
        (":sparkles: Support SSO login", "features", False, None),
        ("🐛 Fix crash when the config is empty", "fixes", False, None),
        ("⚡️ Speed up search indexing", "improvements", False, None),
        ("♻️ Simplify the router", "improvements", False, None),
        ("📝 Update contributing guide", "docs", False, None),
        ("🔒 Upgrade TLS settings", "security", False, None),
        ("💥 Remove the v1 API", "features", True, None),
        ("Add CSV export to reports", "features", False, None),
        ("Fix typo-induced crash in parser", "fixes", False, None),
        ("Patch XSS in the comment form", "security", False, None),
        ("Improve error messages for bad config", "improvements", False, None),
        ("README: mention the Docker image", "docs", False, None),
        ("Tidy things", "other", False, None),
        ("Merge branch 'main' into feature/x", "other", False, "merges"),
        ("Bump lodash from 4.17.20 to 4.17.21", "other", False, "dependencies"),
        ("chore(deps): update dependency react to v19", "other", False, "dependencies"),
        ("⬆️ Upgrade numpy", "other", False, "dependencies"),
        ("Update release notes", "other", False, "release_chores"),
        ("chore(release): 2.4.0", "other", False, "release_chores"),
        ("Release version 8.5.0", "other", False, "release_chores"),
        ("Start version 8.4.2", "other", False, "release_chores"),
        ("Translated using Weblate (German)", "other", False, "translations"),
        ("New Crowdin updates", "other", False, "translations"),
    ],
)
def test_classify_subjects(subject: str, category: str, breaking: bool, noise: str | None) -> None:
    got = classify(subject)
    assert (got.category, got.breaking, got.noise) == (category, breaking, noise)


def test_breaking_footer_and_bot_author() -> None:
    assert classify("feat: new config format", "BREAKING CHANGE: old keys are gone").breaking
    assert classify("Refresh lockfile", author="dependabot[bot] <49699333+dependabot[bot]@users.noreply.github.com>").noise == "bots"
    assert classify("feat(ui): ✨ shiny button").title == "Shiny button"


def _build(tmp_path):  # type: ignore[no-untyped-def]
    repo = GitRepo(tmp_path / "shop")
    # Week of 2024-03-04 (Monday)
    repo.commit({"a.py": "1\n"}, "feat: add basket", when="2024-03-04T10:00:00Z")
    repo.commit({"b.py": "1\n"}, "fix: rounding of totals", when="2024-03-05T10:00:00Z")
    repo.commit({"req.txt": "x==2\n"}, "Bump x from 1.0 to 2.0", author=("dependabot[bot]", "bot@github.com"),
                when="2024-03-05T11:00:00Z")
    repo.commit({"CHANGES": "..\n"}, "Update release notes", when="2024-03-05T12:00:00Z")
    repo.commit({"i18n/de.po": "..\n"}, "Translated using Weblate (German)", when="2024-03-05T13:00:00Z")
    repo.branch("feature/search")
    repo.checkout("feature/search")
    repo.commit({"s.py": "1\n"}, "wip search", when="2024-03-06T10:00:00Z")
    repo.commit({"s.py": "2\n"}, "more search", when="2024-03-06T11:00:00Z")
    repo.checkout("main")
    repo.merge("feature/search", message="Merge pull request #7 from acme/feature/search\n\nAdd full-text search",
               when="2024-03-06T12:00:00Z")
    repo.commit({"c.py": "1\n"}, "feat!: new checkout flow (#9)", when="2024-03-07T10:00:00Z")
    repo.tag("v1.0.0", annotated=True, when="2024-03-07T12:00:00Z")
    # Week of 2024-03-11
    repo.commit({"d.py": "1\n"}, "🐛 Fix login redirect", when="2024-03-12T10:00:00Z")
    repo.commit({"e.md": "1\n"}, "docs: document the API", when="2024-03-12T11:00:00Z")
    repo.tag("v1.1.0", annotated=True, when="2024-03-13T12:00:00Z")
    return repo


def test_changelog_grouping_on_built_repository(tmp_path) -> None:
    repo = _build(tmp_path)
    engine = LocalEngine(Settings(db=tmp_path / "db.sqlite"))
    engine.register_repository(repo.path)

    async def go():  # type: ignore[no-untyped-def]
        await engine.repos.sync()
        weeks = await engine.reports.get_changelog(ChangelogQuery(items_per_entry=30))
        releases = await engine.reports.get_changelog(ChangelogQuery(group_by="release", items_per_entry=30))
        one = await engine.reports.get_changelog_entry(ChangelogEntryQuery(entry_id="week-of-2024-03-04"))
        page = await engine.reports.get_changelog(ChangelogQuery(limit=1))
        nxt = await engine.reports.get_changelog(ChangelogQuery(limit=1, cursor=page.cursor))
        return weeks, releases, one, page, nxt

    weeks, releases, one, page, nxt = anyio.run(go)
    assert [e.id for e in weeks.entries] == ["week-of-2024-03-11", "week-of-2024-03-04"]
    assert weeks.entries[1].title == "Week of Mar 4, 2024" and weeks.entries[1].url == "/changelog/week-of-2024-03-04"
    first = weeks.entries[1]
    c = first.categories
    assert (c.features, c.fixes, c.breaking, c.other) == (3, 1, 1, 0)
    titles = [i.title for i in first.items]
    assert "Add full-text search" in titles and "Wip search" not in titles and "More search" not in titles
    pr = next(i for i in first.items if i.pr_number == 7)
    assert pr.category == "features"
    squash = next(i for i in first.items if i.pr_number == 9)
    assert squash.breaking and squash.title == "New checkout flow"
    assert first.items[0].breaking  # breaking changes first
    assert {g.kind: g.count for g in first.grouped} == {"dependencies": 1, "release_chores": 1, "translations": 1}
    assert one.model_dump() == first.model_dump()
    newest = weeks.entries[0].categories
    assert (newest.fixes, newest.docs) == (1, 1)

    assert [e.title for e in releases.entries] == ["v1.1.0", "v1.0.0"]
    assert releases.entries[0].id == "release-shop-v1.1.0"
    assert releases.entries[0].categories.fixes == 1 and releases.entries[0].categories.docs == 1

    assert page.cursor and [e.id for e in nxt.entries] == ["week-of-2024-03-04"] and nxt.cursor is None
    md = entry_markdown(first)
    assert md.startswith("# Week of Mar 4, 2024") and "## Breaking changes" in md and "Not listed:" in md
    engine.store.close()


def test_changelog_errors(local_engine) -> None:
    from engmetrics.errors import InvalidInput, NotFound

    async def go(q):  # type: ignore[no-untyped-def]
        return await local_engine.reports.get_changelog_entry(q)

    with pytest.raises(NotFound, match="week-of-"):
        anyio.run(go, ChangelogEntryQuery(entry_id="release-nope-v9"))
    with pytest.raises(InvalidInput):
        anyio.run(go, ChangelogEntryQuery(entry_id="week-of-2024-02-31"))


# ---- the get_changelog tool, through a real MCP client session ---------------------------------------------


async def test_get_changelog_tool_on_built_repository(tmp_path) -> None:
    """Hand-computed from `_build`: the week of Mar 4 lists "Add basket", "Rounding of totals", PR #7 "Add
    full-text search" (standing for its two branch commits) and the breaking "New checkout flow" (#9); the
    bump, the release-notes update and the translation are grouped; the week of Mar 11 lists a fix and a doc.
    v1.1.0 shipped the two commits after v1.0.0 (Mar 7 12:00, the repository's first deployment)."""
    repo = _build(tmp_path)
    engine = LocalEngine(Settings(db=tmp_path / "db.sqlite"))
    engine.register_repository(repo.path)
    assert not (await engine.repos.sync()).errors
    engine.store.close()
    merge = repo.git("log", "--merges", "--format=%H")
    branch_only = repo.git("rev-list", f"{merge}^1..{merge}^2").split()  # git's own answer: what PR #7 brought in
    assert len(branch_only) == 2

    async with mcp_session(tmp_path / "db.sqlite") as (client, _):
        weeks = await call(client, "get_changelog", {"items_per_entry": 30})
        two = await call(client, "get_changelog", {"items_per_entry": 2, "limit": 1, "since": "2024-03-04"})
        releases = await call(client, "get_changelog", {"group_by": "release", "items_per_entry": 30})
        older = await call(client, "get_changelog", {"group_by": "release", "limit": 1, "cursor": two["cursor"]})

    assert [e["id"] for e in weeks["entries"]] == ["week-of-2024-03-11", "week-of-2024-03-04"] and weeks["cursor"] is None
    first = weeks["entries"][1]
    assert first["categories"] == {"features": 3, "improvements": 0, "fixes": 1, "breaking": 1, "security": 0,
                                   "docs": 0, "tests": 0, "other": 0}
    assert first["items_total"] == 4 and first["published_at"] == "2024-03-07T10:00:00Z"
    assert first["period"] == {"from": "2024-03-04T00:00:00Z", "to": "2024-03-11T00:00:00Z", "label": "week-of-2024-03-04"}
    assert [(i["title"], i["category"], i["breaking"], i["pr_number"]) for i in first["items"]] == [
        ("New checkout flow", "features", True, 9),  # breaking first, then by category, newest first
        ("Add full-text search", "features", False, 7),
        ("Add basket", "features", False, None),
        ("Rounding of totals", "fixes", False, None),
    ]
    pr = next(i for i in first["items"] if i["pr_number"] == 7)
    assert pr["sha"] == merge[:12]
    listed = {i["sha"] for e in weeks["entries"] for i in e["items"]}
    assert not {s[:12] for s in branch_only} & listed
    assert sorted((g["kind"], g["count"]) for g in first["grouped"]) == [
        ("dependencies", 1), ("release_chores", 1), ("translations", 1)]
    newest = weeks["entries"][0]
    assert [(i["title"], i["category"]) for i in newest["items"]] == [("Fix login redirect", "fixes"), ("Document the API", "docs")]

    # items_per_entry keeps the first listed changes; the counts and items_total are the entry's own.
    assert [e["id"] for e in two["entries"]] == ["week-of-2024-03-11"] and two["cursor"]
    assert len(two["entries"][0]["items"]) == 2 and two["entries"][0]["items_total"] == 2

    v11, v10 = releases["entries"]
    assert (v11["id"], v11["title"], v11["published_at"]) == ("release-shop-v1.1.0", "v1.1.0", "2024-03-13T12:00:00Z")
    assert v11["period"]["from"] == "2024-03-07T12:00:00Z"  # the previous release
    assert {k: v for k, v in v11["categories"].items() if v} == {"fixes": 1, "docs": 1}
    assert (v10["id"], v10["published_at"]) == ("release-shop-v1.0.0", "2024-03-07T12:00:00Z")
    assert [e["id"] for e in older["entries"]] == ["release-shop-v1.0.0"] and older["cursor"] is None


async def test_commits_between_is_git_rev_list(tmp_path) -> None:
    """`DoraApi.commits_between` (what the changelog asks for each PR merge) against `git rev-list base..head` on a
    history with a branch that catches up with main, a criss-cross of merges and a branch merged twice."""
    repo = GitRepo(tmp_path / "dag")
    t = iter(range(1, 100))

    def at() -> str:
        return f"2024-05-01T{next(t) % 24:02d}:{next(t) % 60:02d}:00Z"

    repo.commit({"a": "0"}, "root", when="2024-04-30T00:00:00Z")
    repo.checkout("topic", create=True)
    repo.commit({"t": "1"}, "topic 1", when=at())
    repo.checkout("main")
    repo.commit({"a": "1"}, "main 1", when=at())
    repo.checkout("topic")
    repo.merge("main", message="Merge branch 'main' into topic", when=at())  # the branch catches up
    repo.commit({"t": "2"}, "topic 2", when=at())
    repo.checkout("main")
    repo.commit({"a": "2"}, "main 2", when=at())
    m1 = repo.merge("topic", message="Merge pull request #1 from acme/topic\n\nTopic", when=at())
    repo.checkout("topic")
    repo.commit({"t": "3"}, "topic 3", when=at())
    repo.checkout("main")
    m2 = repo.merge("topic", message="Merge pull request #2 from acme/topic\n\nTopic again", when=at())
    engine = LocalEngine(Settings(db=tmp_path / "db.sqlite"))
    row = engine.register_repository(repo.path)
    assert not (await engine.repos.sync()).errors

    def parents(sha: str) -> tuple[str, str]:
        first, second = repo.git("rev-list", "--parents", "-n", "1", sha).split()[1:]
        return first, second

    ranges = [parents(m1), parents(m2), (repo.rev_parse("main~1"), m2), (m2, m1), ("f" * 40, m1)]
    got = await engine.dora.commits_between(row.id, ranges)
    for (base, head), shas in zip(ranges[:4], got[:4], strict=True):
        expected = repo.git("rev-list", f"{base}..{head}").split()
        assert shas is not None and sorted(shas) == sorted(expected), (base, head)
    assert got[3] == [] and got[4] is None  # an ancestor has nothing of its own; an unknown sha answers None
    assert sorted(got[0] or []) != sorted(got[1] or [])  # the second merge brought only what came after the first
    assert await engine.dora.commits_between(row.id, []) == []
    engine.store.close()
