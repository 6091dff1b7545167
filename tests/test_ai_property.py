"""The AI shares against an independent computation from DESIGN.md's definition, on generated histories (hypothesis,
bounded examples): real git repositories built per example, synced, with generated tracking data imported.

Definition (over the non-merge commits authored in the window): AI share of lines = AI lines added (tracking data:
TAB + COMPOSER, at most the commit's lines added) ÷ lines added (git numstat); AI-assisted commits = commits with AI
lines or an AI co-author trailer ÷ commits; adoption = people with an AI-assisted commit ÷ people who committed;
groups: trailer or ≥ 50 % AI lines → mostly, above 0 → some, else none.
"""

from __future__ import annotations

import json

import anyio
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engmetrics.areas.ai.models import AiImpactQuery
from engmetrics.config import Settings
from engmetrics.engine.local import LocalEngine
from gitrepo import GitRepo

AUTHORS = [("Ada", "ada@example.com"), ("Bob", "bob@example.com"), ("Cy", "cy@example.com")]
TRAILER = "\n\nCo-authored-by: Copilot <175728472+Copilot@users.noreply.github.com>\n"

commit = st.fixed_dictionaries({
    "author": st.integers(0, 2),
    "lines": st.integers(0, 12),
    "trailer": st.booleans(),
    "tracking": st.none() | st.tuples(st.integers(0, 15), st.integers(0, 15)),
    "short": st.booleans(),
})


def r2pct(part: float, whole: float) -> float | None:
    return round(part / whole * 100, 2) if whole else None


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                  HealthCheck.too_slow])
@given(commits=st.lists(commit, min_size=1, max_size=7))
def test_shares_match_the_definition(tmp_path_factory, commits: list[dict]) -> None:  # type: ignore[no-untyped-def]
    root = tmp_path_factory.mktemp("prop")
    repo = GitRepo(root / "r")
    rows = []
    shas = []
    for i, c in enumerate(commits):
        body = "".join(f"v{i}_{k} = {k}\n" for k in range(c["lines"]))
        sha = repo.commit({f"f{i}.py": body} if c["lines"] else None, f"feat: {i}" + (TRAILER if c["trailer"] else ""),
                          author=AUTHORS[c["author"]], when=f"2024-03-{i + 2:02d}T10:00:00Z")
        shas.append(sha)
        if c["tracking"] is not None:
            tab, composer = c["tracking"]
            rows.append({"commitHash": sha[:10] if c["short"] else sha, "repoName": "r", "totalLinesAdded": c["lines"],
                         "tabLinesAdded": tab, "composerLinesAdded": composer})
    (root / "t.json").write_text(json.dumps({"items": rows}))
    engine = LocalEngine(Settings(db=root / "db.sqlite"))
    engine.register_repository(repo.path)
    anyio.run(engine.repos.sync)
    anyio.run(engine.ai.import_tracking, root / "t.json", "ai-commits")
    got = anyio.run(engine.ai.get_ai_impact, AiImpactQuery(**{"from": "2024-03-01", "to": "2024-03-31"}))
    engine.store.close()

    # The definition, computed here.
    lines = sum(c["lines"] for c in commits)
    ai = [min(sum(c["tracking"]), c["lines"]) if c["tracking"] else 0 for c in commits]
    tab = [min(c["tracking"][0], c["lines"]) if c["tracking"] else 0 for c in commits]
    tracked = sum(1 for c in commits if c["tracking"] is not None)
    assisted = [c["trailer"] or bool(c["tracking"] and sum(c["tracking"]) > 0) for c in commits]
    people = {c["author"] for c in commits}
    ai_people = {c["author"] for c, a in zip(commits, assisted) if a}

    def group(c: dict, ai_lines: int) -> str:
        raw = sum(c["tracking"]) if c["tracking"] else 0
        frac = ai_lines / c["lines"] if c["lines"] else (1.0 if raw else 0.0)
        return "mostly" if c["trailer"] or frac >= 0.5 else ("some" if frac > 0 else "none")

    groups = [group(c, a) for c, a in zip(commits, ai)]
    assert got.commits == len(commits) and got.lines_added == lines
    assert got.commits_with_tracking_data == tracked
    assert got.ai_lines_added == sum(ai)
    assert got.ai_share_of_lines_percent == (r2pct(sum(ai), lines) if tracked else None)
    assert got.ai_assisted_commits == sum(assisted)
    assert got.ai_assisted_commits_percent == r2pct(sum(assisted), len(commits))
    assert got.adoption.adoption_percent == r2pct(len(ai_people), len(people))
    by_source = {s.source: s.lines_added for s in got.by_source}
    assert by_source["tab"] == sum(tab) and by_source["composer"] == sum(ai) - sum(tab)
    assert {g.group: g.changes for g in got.stability.groups} == {k: groups.count(k) for k in ("none", "some", "mostly")}
    assert got.tracking_rows_unmatched == 0
