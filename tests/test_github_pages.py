"""The GitHub PR sync over several pages, which writes through a separate writer process: the rows are
the ones `write_pr_page` writes for the same nodes, a first load's deferred indexes come back, and an
update of some PRs rewrites them (reviews, review comments and commits replaced)."""

from __future__ import annotations

import time
from pathlib import Path

import anyio
import pytest
from test_github_standin import StandInGitHub, pr_node

from engmetrics.sources.github.client import GitHubClient
from engmetrics.sources.github.pr_query import PR_PAGE_SIZE, raw_page_info
from engmetrics.sources.github.storage import write_pr_page
from engmetrics.sources.github.sync import sync_github_repo
from engmetrics.store.db import Store
from engmetrics.store.open import open_store

NOW = int(time.time()) // 60 * 60
TABLES = {
    "pull_requests": "SELECT * FROM pull_requests ORDER BY repo_id, number",
    "pr_reviews": "SELECT * FROM pr_reviews ORDER BY repo_id, number, id",
    "pr_commits": "SELECT * FROM pr_commits ORDER BY repo_id, number, sha",
    "pr_review_comments": "SELECT * FROM pr_review_comments ORDER BY repo_id, number, id",
}


def nodes(n: int, *, shift: int = 0) -> list[dict]:
    out = []
    for k in range(1, n + 1):
        t = NOW - (n - k) * 600 + shift
        node = pr_node(
            k, author=f"Dev{k % 5}", created=t - 7200, merged=t if k % 4 else None, merge_sha=f"{k:040x}" if k % 4 else None,
            commits=[(f"{k:036x}{j:04x}", t - 9000 + j * 600, t - 8000 + j * 600, f"Dev{k % 5}@Example.com") for j in range(k % 3 + 1)],
            reviews=[(f"dev{(k + 1) % 5}", "COMMENTED", t - 3600, 2), (f"dev{(k + 2) % 5}", "APPROVED", t - 1800, 0)][: k % 3],
            ready=t - 5000 if k % 7 == 0 else None, issue_created=t - 90000 if k % 5 == 0 else None,
            title=f"PR {k} ✓" if k % 6 == 0 else None, draft=k % 11 == 0,
        )
        if k % 9 == 0:
            node["labels"] = {"nodes": [{"name": "bug"}, {"name": "Ünïcode"}, None]}
        if k % 13 == 0:  # a review with no id or author (a deleted account), nothing else
            node["reviews"]["nodes"].append({"fullDatabaseId": None, "author": None, "state": "DISMISSED",
                                             "submittedAt": node["createdAt"], "comments": {"totalCount": 0, "nodes": []}})
        if k % 17 == 0 and node["reviews"]["nodes"]:  # a comment with no id or author
            node["reviews"]["nodes"][0]["comments"]["nodes"].append(
                {"fullDatabaseId": None, "author": None, "createdAt": node["createdAt"], "path": "README.md"})
        out.append(node)
    return out


def new_store(path: Path) -> Store:
    store = open_store(path)
    with store.tx() as c:
        c.execute("INSERT INTO repositories(id, name, path, added_at) VALUES (1, 'sample', '/nonexistent', 0)")
    return store


def sync(store: Store, url: str, token: str) -> int:
    async def go() -> int:
        async with GitHubClient(token, url) as client:
            return (await sync_github_repo(store, client, 1, "sample", "acme/sample")).pull_requests

    return anyio.run(go)


def rows(store: Store) -> dict[str, list[tuple]]:
    conn = store.read()
    return {t: [tuple(r) for r in conn.execute(q)] for t, q in TABLES.items()}


def reference(path: Path, prs: list[dict]) -> dict[str, list[tuple]]:
    store = new_store(path)
    with store.tx() as c:
        write_pr_page(c, 1, prs)
    out = rows(store)
    store.close()
    return out


def test_multi_page_sync_writes_the_same_rows_and_restores_indexes(tmp_path: Path) -> None:
    gh = StandInGitHub()
    gh.prs = nodes(3 * PR_PAGE_SIZE + 17)
    url = gh.start()
    try:
        store = new_store(tmp_path / "db.sqlite")
        assert sync(store, url, gh.token) == len(gh.prs)
        first = rows(store)
        assert first == reference(tmp_path / "ref.sqlite", gh.prs)
        assert len(first["pr_review_comments"]) > 2 * PR_PAGE_SIZE
        conn = store.read()
        indexes = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}
        assert {"pull_requests_by_merge", "pull_requests_by_merged", "pull_requests_by_state", "pr_reviews_by_time"} <= indexes
        assert conn.execute("SELECT count(*) FROM kv WHERE key = 'github:deferred_indexes'").fetchone()[0] == 0

        # Later: every PR updated after the stored cursor (fewer commits/reviews on some): a second multi-page sync.
        gh.prs = nodes(3 * PR_PAGE_SIZE + 17, shift=(3 * PR_PAGE_SIZE + 17) * 600 + 7200)
        for node in gh.prs[::2]:
            node["commits"] = {"totalCount": 0, "nodes": []}
            node["reviews"] = {"nodes": []}
        gh.changed()
        assert sync(store, url, gh.token) == len(gh.prs)
        second = rows(store)
        assert second == reference(tmp_path / "ref2.sqlite", gh.prs)
        assert 0 < len(second["pr_review_comments"]) < len(first["pr_review_comments"])  # replaced, not added to
        store.close()
    finally:
        gh.stop()


def test_first_load_with_every_page_sent_raw_writes_the_same_rows(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from engmetrics.sources.github import pulls

    monkeypatch.setattr(pulls, "_RAW_SHARE", 1)  # every page (the first one too) goes to the writer unparsed
    gh = StandInGitHub()
    gh.prs = nodes(2 * PR_PAGE_SIZE + 3)
    gh.prs[5]["title"] = 'a "pageInfo": {"hasNextPage": false} title'
    url = gh.start()
    try:
        store = new_store(tmp_path / "db.sqlite")
        assert sync(store, url, gh.token) == len(gh.prs)
        assert rows(store) == reference(tmp_path / "ref.sqlite", gh.prs)
        store.close()
    finally:
        gh.stop()


def test_raw_page_info_reads_page_info_and_counts_nodes_or_gives_up() -> None:
    body = (b'{"data":{"repository":{"pullRequests":{"pageInfo":{"hasNextPage":true,"endCursor":"Y3"},'
            b'"nodes":[{"number":1,"title":"\\"pageInfo\\": \\"headRefOid\\":","headRefOid":"a"},null,'
            b'{"number":2,"headRefOid" : "b"}]}}}}')
    assert raw_page_info(body) == ({"hasNextPage": True, "endCursor": "Y3"}, 2)
    assert raw_page_info(b'{"data":{"repository":null}}') is None


def test_pr_rows_usual_and_tolerant_paths_agree_and_odd_shapes_still_convert() -> None:
    from engmetrics.sources.github.pr_rows import _pr_rows_tolerant, _pr_rows_usual, pr_rows

    for node in nodes(60):
        assert _pr_rows_usual(1, node) == _pr_rows_tolerant(1, node)
    # Shapes the stand-in (GitHub's schema) never serves, taken by the tolerant path: null connections.
    odd = nodes(13)[-1]
    odd["reviews"]["nodes"].append({"fullDatabaseId": None, "author": None, "state": "DISMISSED",
                                    "submittedAt": odd["createdAt"], "comments": None})
    odd["commits"] = None
    odd["labels"] = None
    row, reviews, commits, comments = pr_rows(1, odd)
    assert row[1] == 13 and row[20] == 0 and row[21] == "[]" and commits == []
    assert reviews[-1][2:] == ("13-2", None, "dismissed", reviews[-1][5], 0) and len(comments) == 2
