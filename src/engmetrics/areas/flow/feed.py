"""The flow area's parts of the activity feed (given to the activity area by the engine): PRs opened, PRs
merged, reviews by anyone. Each yields ts (Unix seconds), id, type, source, title, author, repo and three
metadata columns, named beside the SQL (see `FeedPart` for the placeholders)."""

from __future__ import annotations

from engmetrics.areas.activity.api import FeedPart

PR_FEED_PARTS: dict[str, FeedPart] = {
    "pr_opened": FeedPart(
        "SELECT p.created_at AS ts, 'act_pr_opened_' || p.repo_id || '_' || p.number AS id, 'pr_opened' AS type,"
        " p.source AS source, 'Opened #' || p.number || ': ' || p.title AS title, p.author AS author,"
        " r.name AS repo, p.number AS m1, p.additions AS m2, p.deletions AS m3"
        " FROM pull_requests p JOIN repositories r ON r.id = p.repo_id"
        " WHERE p.created_at >= :start AND p.created_at < :end {repo:p.repo_id} {pr_author}",
        ("number", "additions", "deletions"),
    ),
    "pr_merged": FeedPart(
        "SELECT p.merged_at AS ts, 'act_pr_merged_' || p.repo_id || '_' || p.number AS id, 'pr_merged' AS type,"
        " p.source AS source, 'Merged #' || p.number || ': ' || p.title AS title, p.author AS author,"
        " r.name AS repo, p.number AS m1, p.merge_sha AS m2, p.commit_count AS m3"
        " FROM pull_requests p JOIN repositories r ON r.id = p.repo_id"
        " WHERE p.merged_at >= :start AND p.merged_at < :end {repo:p.repo_id} {pr_author}",
        ("number", "merge_sha", "commits"),
    ),
    "review": FeedPart(
        "SELECT p.submitted_at AS ts, 'act_review_' || p.repo_id || '_' || p.number || '_' || p.rid AS id,"
        " 'review' AS type, 'github' AS source, 'Reviewed #' || p.number || ': ' || p.title AS title,"
        " p.author AS author, r.name AS repo, p.number AS m1, p.state AS m2, p.comments AS m3"
        " FROM (SELECT v.repo_id, v.number, v.id AS rid, v.reviewer AS author, v.state, v.comments, v.submitted_at,"
        " pr.title FROM pr_reviews v JOIN pull_requests pr ON pr.repo_id = v.repo_id AND pr.number = v.number) p"
        " JOIN repositories r ON r.id = p.repo_id"
        " WHERE p.submitted_at >= :start AND p.submitted_at < :end {repo:p.repo_id} {pr_author}",
        ("number", "state", "comments"),
    ),
}
