"""A GraphQL pull request node (`pr_query.PR_QUERY`) turned into rows: the PR, its reviews, commits and
review comments.

A PR's state is ``merged``/``closed``/``open``; reviewers and authors are lowercase logins; review and
review-comment ids are text (64-bit ``fullDatabaseId``); times are Unix seconds.
"""

from __future__ import annotations

import json
from typing import Any

from engmetrics.sources.github.times import fromisoformat, unix_seconds
from engmetrics.sources.pr_table import PrCommitRow, PrRow

_PR_STATES: dict[str | None, str] = {"MERGED": "merged", "CLOSED": "closed"}

ReviewRow = tuple[int, int, str, str | None, str, int | None, int]
"""A ``pr_reviews`` row: (repo_id, number, review id, reviewer login, state, submitted at, comment count)."""
CommentRow = tuple[int, int, str, str, str | None, int | None, str | None]
"""A ``pr_review_comments`` row: (repo_id, number, comment id, review id, author login, created at, path)."""
PrRows = tuple[PrRow, list[ReviewRow], list[PrCommitRow], list[CommentRow]]
"""One PR's rows: (pull_requests row, pr_reviews rows, pr_commits rows, pr_review_comments rows)."""


def pr_rows(repo_id: int, node: dict[str, Any]) -> PrRows:
    """A GraphQL pull request node as (pull_requests row, pr_reviews rows, pr_commits rows,
    pr_review_comments rows).

    Plain look-ups and tuples only (this runs for every PR of a sync). A node of the usual shape (every
    field the query asks for present, connections not null) takes a direct path; any other shape the
    tolerant one, with the same result.
    """
    try:
        return _pr_rows_usual(repo_id, node)
    except (KeyError, TypeError, AttributeError, ValueError):
        return _pr_rows_tolerant(repo_id, node)


def _pr_rows_usual(repo_id: int, node: dict[str, Any]) -> PrRows:
    iso = fromisoformat
    number = int(node["number"])
    commits_conn = node["commits"]
    commit_rows: list[PrCommitRow] = []
    first_at: int | None = None
    first_email = last_at = first_commit_at = None
    for cn in commits_conn["nodes"]:
        c = cn["commit"]
        email = (c["author"]["email"] or "").lower() or None
        a, d = c["authoredDate"], c["committedDate"]
        authored = int(iso(a).timestamp()) if a else 0
        committed = (authored if d == a else int(iso(d).timestamp())) if d else 0
        commit_rows.append((repo_id, number, c["oid"], email, authored, committed))
        if first_at is None or authored < first_at:
            first_at, first_email = authored, email
        if authored and (first_commit_at is None or authored < first_commit_at):
            first_commit_at = authored
        if committed and (last_at is None or committed > last_at):
            last_at = committed
    review_rows: list[ReviewRow] = []
    comment_rows: list[CommentRow] = []
    for r in node["reviews"]["nodes"]:
        at = r["submittedAt"]
        if not at:
            continue
        login = r["author"]["login"] if r["author"] is not None else None
        rid = str(r["fullDatabaseId"] or f"{number}-{len(review_rows)}")
        comments = r["comments"]
        review_rows.append((
            repo_id, number, rid, (login or "").lower() or None,
            str(r["state"] or "").lower(), int(iso(at).timestamp()), int(comments["totalCount"] or 0),
        ))
        for k, cm in enumerate(comments["nodes"]):
            made = cm["createdAt"]
            if not made:
                continue
            who = cm["author"]["login"] if cm["author"] is not None else None
            comment_rows.append((
                repo_id, number, str(cm["fullDatabaseId"] or f"{rid}-{k}"), rid, (who or "").lower() or None,
                int(iso(made).timestamp()), cm["path"] or None,
            ))
    ready = None
    for n in node["timelineItems"]["nodes"]:
        if n and n.get("createdAt"):
            ready = n["createdAt"]
    issue_at = None
    for n in node["closingIssuesReferences"]["nodes"]:
        if n and n.get("createdAt"):
            t = int(iso(n["createdAt"]).timestamp())
            issue_at = t if issue_at is None else min(issue_at, t)
    labels = [x["name"] for x in node["labels"]["nodes"] if x and x.get("name")]
    author = node["author"]
    merge = node["mergeCommit"]
    created, merged, closed, updated = node["createdAt"], node["mergedAt"], node["closedAt"], node["updatedAt"]
    merged_at = int(iso(merged).timestamp()) if merged else None
    closed_at = (merged_at if closed == merged else int(iso(closed).timestamp())) if closed else None
    updated_at = (merged_at if updated == merged else closed_at if updated == closed else int(iso(updated).timestamp())) if updated else None
    row = (
        repo_id, number, "github", str(node["title"] or ""), ((author and author["login"]) or "").lower() or None,
        first_email, _PR_STATES.get(node["state"], "open"), int(bool(node["isDraft"])),
        int(iso(created).timestamp()) if created else None, int(iso(ready).timestamp()) if ready else None,
        first_commit_at, last_at, merged_at, closed_at, updated_at, node["baseRefName"], node["headRefName"],
        node["additions"], node["deletions"], node["changedFiles"],
        int(commits_conn["totalCount"] or len(commit_rows)), json.dumps(labels) if labels else "[]",
        merge["oid"] if merge else None, node["headRefOid"], issue_at,
    )
    return row, review_rows, commit_rows, comment_rows


def _pr_rows_tolerant(repo_id: int, node: dict[str, Any]) -> PrRows:
    ts = unix_seconds
    get = node.get
    number = int(node["number"])
    state = _PR_STATES.get(get("state"), "open")
    commits_conn = get("commits") or {}
    commit_rows: list[PrCommitRow] = []
    first_at: int | None = None
    first_email = last_at = None
    for c in commits_conn.get("nodes") or ():
        c = c and c.get("commit")
        if not c:
            continue
        author = c.get("author")
        email = ((author and author.get("email")) or "").lower() or None
        authored = ts(c.get("authoredDate")) or 0
        committed = ts(c.get("committedDate")) or 0
        commit_rows.append((repo_id, number, c["oid"], email, authored, committed))
        if first_at is None or authored < first_at:
            first_at, first_email = authored, email
        if committed and (last_at is None or committed > last_at):
            last_at = committed
    review_rows: list[ReviewRow] = []
    comment_rows: list[CommentRow] = []
    reviews = get("reviews")
    for r in (reviews and reviews.get("nodes")) or ():
        if not r or not r.get("submittedAt"):
            continue
        author = r.get("author")
        comments = r.get("comments")
        rid = str(r.get("fullDatabaseId") or f"{number}-{len(review_rows)}")
        review_rows.append((
            repo_id, number, rid,
            ((author and author.get("login")) or "").lower() or None, str(r.get("state") or "").lower(),
            ts(r["submittedAt"]), int((comments and comments.get("totalCount")) or 0),
        ))
        for k, cm in enumerate((comments and comments.get("nodes")) or ()):
            if not cm or not cm.get("createdAt"):
                continue
            who = cm.get("author")
            comment_rows.append((
                repo_id, number, str(cm.get("fullDatabaseId") or f"{rid}-{k}"), rid,
                ((who and who.get("login")) or "").lower() or None, ts(cm["createdAt"]), cm.get("path") or None,
            ))
    ready_at = None
    timeline = get("timelineItems")
    for n in (timeline and timeline.get("nodes")) or ():
        if n and n.get("createdAt"):
            ready_at = n["createdAt"]  # the last one
    issue_at = None
    issues = get("closingIssuesReferences")
    for n in (issues and issues.get("nodes")) or ():
        if n and n.get("createdAt"):
            t = ts(n["createdAt"]) or 0
            issue_at = t if issue_at is None else min(issue_at, t)
    labels_conn = get("labels")
    labels = [x["name"] for x in ((labels_conn and labels_conn.get("nodes")) or ()) if x and x.get("name")]
    author = get("author")
    merge = get("mergeCommit")
    first_commit_at = None
    if commit_rows:
        authored_times = [r[4] for r in commit_rows if r[4]]
        first_commit_at = min(authored_times) if authored_times else None
    row = (
        repo_id, number, "github", str(get("title") or ""), ((author and author.get("login")) or "").lower() or None,
        first_email, state, int(bool(get("isDraft"))), ts(get("createdAt")), ts(ready_at), first_commit_at,
        last_at, ts(get("mergedAt")), ts(get("closedAt")), ts(get("updatedAt")), get("baseRefName"),
        get("headRefName"), get("additions"), get("deletions"), get("changedFiles"),
        int(commits_conn.get("totalCount") or len(commit_rows)), json.dumps(labels) if labels else "[]",
        merge.get("oid") if merge else None, get("headRefOid"), issue_at,
    )
    return row, review_rows, commit_rows, comment_rows
