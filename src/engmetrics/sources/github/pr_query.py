"""The GraphQL query for a repository's pull requests, newest-updated first, and a quick look into its raw answer.

One request brings 100 PRs with their commits, reviews (with comment counts and the first
`REVIEW_COMMENTS` comments of each: author, time, path), ready-for-review time and linked issues (one
request instead of four per PR). Review and review-comment ids are read as ``fullDatabaseId`` (GraphQL's
``BigInt``, a string: GitHub's ids are 64-bit, and the deprecated 32-bit ``databaseId`` cannot carry ids
above 2^31 − 1).
"""

from __future__ import annotations

import json
import re
from typing import Any

PR_PAGE_SIZE = 100
PR_PAGE_FLOOR = 6
"""The fewest pull requests a page asks for after GitHub timeouts or node limits (100 halved: 50, 25, 12, 6)."""
REVIEW_COMMENTS = 20  # comments read per review
PR_REVIEWS = 40
"""Reviews read per PR. GitHub charges a GraphQL query by the requests its nested connections imply:
100 PRs x 40 reviews asking for comments is 4,000 → about 44 points per page of 100 PRs (100 reviews per
PR would be about 104), so a 10,000-PR first sync stays within one hour's 5,000-point budget."""

PR_QUERY = """
query($owner: String!, $name: String!, $cursor: String, $n: Int!) {
  repository(owner: $owner, name: $name) {
    pullRequests(first: $n, after: $cursor, orderBy: {field: UPDATED_AT, direction: DESC}) {
      pageInfo { hasNextPage endCursor }
      nodes {
        number title state isDraft createdAt updatedAt mergedAt closedAt
        author { login }
        baseRefName headRefName headRefOid additions deletions changedFiles
        mergeCommit { oid }
        labels(first: 20) { nodes { name } }
        commits(first: 100) { totalCount nodes { commit { oid authoredDate committedDate author { email } } } }
        reviews(first: $reviews) { nodes { fullDatabaseId author { login } state submittedAt
          comments(first: $comments) { totalCount nodes { fullDatabaseId author { login } createdAt path } } } }
        timelineItems(itemTypes: [READY_FOR_REVIEW_EVENT], last: 1) { nodes { ... on ReadyForReviewEvent { createdAt } } }
        closingIssuesReferences(first: 5) { nodes { number createdAt } }
      }
    }
  }
}
""".replace("$comments", str(REVIEW_COMMENTS)).replace("$reviews", str(PR_REVIEWS))


_PAGE_INFO_KEY = re.compile(rb'"pageInfo"\s*:\s*')
_PR_NODE_KEY = re.compile(rb'"headRefOid"\s*:')  # one per PR node in PR_QUERY's answer (a key: never inside a string)


def raw_page_info(body: bytes) -> tuple[dict[str, Any], int] | None:
    """A raw PR_QUERY answer's ``pageInfo`` and number of (non-null) PR nodes, without parsing the rest
    (``pageInfo`` precedes ``nodes``); None if it is not there (no repository, say): parse it all then."""
    m = _PAGE_INFO_KEY.search(body)
    if m is None:
        return None
    try:
        info, _ = json.JSONDecoder().raw_decode(body[m.end(): m.end() + 4096].decode("utf-8", "replace"))
    except ValueError:
        return None
    if not isinstance(info, dict):
        return None
    return info, len(_PR_NODE_KEY.findall(body))


def raw_page_nodes(body: bytes) -> list[dict[str, Any]]:
    """The non-null PR nodes of a raw PR_QUERY answer."""
    return [n for n in json.loads(body)["data"]["repository"]["pullRequests"].get("nodes") or [] if n]
