"""A stand-in GitHub API on 127.0.0.1 (starlette + uvicorn in a thread) for the GitHub source's tests and bench.

Serves recorded-shape JSON for the endpoints engmetrics uses: ``GET /repos/{o}/{r}/pulls`` (probe),
``/deployments`` and their ``/statuses``, ``/releases``, ``/issues``; with ``Link`` pagination, ETags
(304 on ``If-None-Match``), a token check (401), and one-shot faults: a primary rate limit (403,
``X-RateLimit-Remaining: 0`` and a reset), a secondary rate limit (403 with ``Retry-After``) and a 502.
Every request is counted by kind.

``POST /graphql`` answers like GitHub's GraphQL API: the query is validated against GitHub's published
schema, held to GitHub's pagination rules and node limit, and executed over the stand-in's pull
requests (`github_graphql`), so a query GitHub would refuse is refused here, and a value the schema
cannot carry (an id above 2^31 − 1 in a 32-bit ``Int``) comes back as GitHub's partial answer with an
error. Review and review-comment ids are above 2^31 (`review_id`, `comment_id`). A test can make a page
fail (``graphql_fault``: e.g. `TIMEOUT` for a page of more than 50 PRs) or one PR's field fail (put a
`github_graphql.field_error` in its data), and lower the node limit.
"""

from __future__ import annotations

import hashlib
import json
import socket
import threading
import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from github_graphql import NODE_LIMIT, answer, field_error, github_schema

REVIEW_IDS = 2**32
"""Review ids start above 2^31 (as on github.com): `review_id`."""
COMMENT_IDS = 2**40
TIMEOUT = {"data": None, "errors": [{"message": (
    "Something went wrong while executing your query. This may be the result of a timeout, or it could be a "
    "GitHub bug. Please include `C0DE:1234:5678:9ABC:DEF0` when reporting this issue.")}]}
"""GitHub's answer (HTTP 200) to a query that took too long."""


def review_id(number: int, k: int) -> int:
    """The id of PR ``number``'s ``k``-th review (above 2^31)."""
    return REVIEW_IDS + number * 100 + k


def comment_id(number: int, k: int, j: int) -> int:
    """The id of the ``j``-th comment of PR ``number``'s ``k``-th review (above 2^31)."""
    return COMMENT_IDS + (number * 100 + k) * 100 + j


def iso(ts: int | float | None) -> str | None:
    """Unix seconds → GitHub's ISO 8601 format."""
    return None if ts is None else datetime.fromtimestamp(int(ts), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def pr_node(
    number: int, *, created: int, updated: int | None = None, merged: int | None = None, closed: int | None = None,
    author: str = "ada", draft: bool = False, merge_sha: str | None = None,
    commits: list[tuple[str, int, int, str]] = (), reviews: list[tuple[str, str, int, int]] = (),
    ready: int | None = None, issue_created: int | None = None, additions: int = 10, deletions: int = 2,
    title: str | None = None,
) -> dict[str, Any]:
    """A GraphQL PullRequest node. commits: (oid, authored, committed, email); reviews: (login, STATE, at, comments).

    A review with n comments carries n comment nodes by its reviewer, a minute apart before it, on
    ``src/f<j>.py`` (GitHub's schema gives every review comment a path). Review and comment ids are above 2^31: `review_id`,
    `comment_id` (``fullDatabaseId``, a string; ``databaseId``, the deprecated 32-bit ``Int``, cannot carry them)."""
    state = "MERGED" if merged else ("CLOSED" if closed else "OPEN")
    return {
        "number": number, "title": title or f"PR {number}", "state": state, "isDraft": draft,
        "createdAt": iso(created), "updatedAt": iso(updated or merged or closed or created), "mergedAt": iso(merged),
        "closedAt": iso(closed or merged), "author": {"login": author}, "baseRefName": "main",
        "headRefName": f"feature-{number}", "headRefOid": (merge_sha or "f" * 40), "additions": additions,
        "deletions": deletions, "changedFiles": 2, "mergeCommit": {"oid": merge_sha} if merge_sha else None,
        "labels": {"totalCount": 1, "nodes": [{"name": "feature"}]},
        "commits": {"totalCount": len(commits), "nodes": [
            {"commit": {"oid": o, "authoredDate": iso(a), "committedDate": iso(c), "author": {"email": e}}}
            for o, a, c, e in commits
        ]},
        "reviews": {"totalCount": len(reviews), "nodes": [
            {"databaseId": review_id(number, k), "fullDatabaseId": str(review_id(number, k)), "author": {"login": login},
             "state": st, "submittedAt": iso(at),
             "comments": {"totalCount": n, "nodes": [
                 {"databaseId": comment_id(number, k, j), "fullDatabaseId": str(comment_id(number, k, j)),
                  "author": {"login": login}, "createdAt": iso(at - 60 * (n - j)),
                  "path": f"src/f{j}.py"}
                 for j in range(n)
             ]}}
            for k, (login, st, at, n) in enumerate(reviews)
        ]},
        "timelineItems": {"nodes": [{"__typename": "ReadyForReviewEvent", "createdAt": iso(ready)}] if ready else []},
        "closingIssuesReferences": {"nodes": [{"number": 1, "createdAt": iso(issue_created)}] if issue_created else []},
    }


class StandInGitHub:
    """The stand-in server's data, faults and counters; `start()` serves it and returns the base URL."""

    def __init__(self, token: str = "ghp_standin_secret", owner: str = "acme", name: str = "sample") -> None:
        self.token = token
        self.slug = f"{owner}/{name}"
        self.prs: list[dict[str, Any]] = []
        self.deployments: list[dict[str, Any]] = []
        self.statuses: dict[int, list[dict[str, Any]]] = {}
        self.releases: list[dict[str, Any]] = []
        self.issues: list[dict[str, Any]] = []
        self.faults: list[str] = []  # one-shot, in order: "rate_limit", "secondary", "bad_gateway"
        self.counts: Counter[str] = Counter()
        self.per_page_cap = 100
        self.graphql_fault: Callable[[dict[str, Any]], dict[str, Any] | int | None] | None = None
        """Given a GraphQL request's variables, an answer to give instead of executing it: a JSON body (HTTP
        200, like `TIMEOUT`) or an HTTP status; None: execute it."""
        self.graphql_requests: list[dict[str, Any]] = []  # the variables of every GraphQL request, in order
        self.node_limit = NODE_LIMIT
        self._graphql_cache: dict[tuple[str, str], bytes] = {}
        self.url = ""
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    # -- helpers ------------------------------------------------------------------------------

    def changed(self) -> None:
        """Call after editing ``prs`` (or ``node_limit``) so GraphQL answers are rebuilt."""
        self._graphql_cache.clear()

    def _fault(self) -> Response | None:
        if not self.faults:
            return None
        kind = self.faults.pop(0)
        self.counts[f"fault:{kind}"] += 1
        if kind == "rate_limit":
            return Response(
                json.dumps({"message": "API rate limit exceeded"}), status_code=403, media_type="application/json",
                headers={"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": str(int(time.time()) + 1),
                         "X-RateLimit-Limit": "5000"},
            )
        if kind == "secondary":
            return Response(
                json.dumps({"message": "You have exceeded a secondary rate limit. Please wait a few minutes."}),
                status_code=403, media_type="application/json", headers={"Retry-After": "1"},
            )
        return Response("<html>502 Bad Gateway</html>", status_code=502)

    def _auth(self, request: Request) -> Response | None:
        if request.headers.get("authorization") != f"Bearer {self.token}":
            self.counts["unauthorized"] += 1
            return Response(json.dumps({"message": "Bad credentials"}), status_code=401, media_type="application/json")
        return None

    def _json(self, request: Request, body: bytes, link: str | None = None) -> Response:
        etag = '"' + hashlib.sha1(body).hexdigest() + '"'
        headers = {"ETag": etag, "X-RateLimit-Remaining": "4999", "X-RateLimit-Reset": str(int(time.time()) + 3600)}
        if link:
            headers["Link"] = link
        if request.headers.get("if-none-match") == etag:
            return Response(status_code=304, headers=headers)
        return Response(body, media_type="application/json", headers=headers)

    def _page(self, request: Request, items: list[Any]) -> Response:
        per_page = min(int(request.query_params.get("per_page", 30)), self.per_page_cap)
        page = int(request.query_params.get("page", 1))
        chunk = items[(page - 1) * per_page : page * per_page]
        link = None
        if page * per_page < len(items):
            params = dict(request.query_params)
            params["page"] = str(page + 1)
            query = "&".join(f"{k}={v}" for k, v in params.items())
            link = f'<{str(request.base_url).rstrip("/")}{request.url.path}?{query}>; rel="next"'
        return self._json(request, json.dumps(chunk).encode(), link)

    # -- endpoints ----------------------------------------------------------------------------

    async def _guard(self, request: Request, kind: str) -> Response | None:
        self.counts[kind] += 1
        self.counts["total"] += 1
        if request.headers.get("if-none-match"):
            self.counts["conditional"] += 1
        return self._auth(request) or self._fault()

    async def pulls(self, request: Request) -> Response:
        if (r := await self._guard(request, "pulls")) is not None:
            return r
        ordered = sorted(self.prs, key=lambda n: (n["updatedAt"], n["number"]), reverse=True)
        rest = [{"number": n["number"], "updated_at": n["updatedAt"], "state": n["state"].lower()} for n in ordered]
        return self._page(request, rest)

    def _repository(self, info: Any, owner: str, name: str, **_: Any) -> dict[str, Any]:
        if f"{owner}/{name}".lower() != self.slug.lower():
            raise field_error(f"Could not resolve to a Repository with the name '{owner}/{name}'.", "NOT_FOUND")
        return {"pullRequests": self._pull_requests}

    def _pull_requests(self, info: Any, orderBy: dict[str, Any] | None = None, **_: Any) -> dict[str, Any]:  # noqa: N803
        order = orderBy or {"field": "CREATED_AT", "direction": "ASC"}
        key = {"UPDATED_AT": "updatedAt", "CREATED_AT": "createdAt"}[order["field"]]
        nodes = sorted(self.prs, key=lambda n: (n[key], n["number"]), reverse=order["direction"] == "DESC")
        return {"totalCount": len(nodes), "nodes": nodes}

    async def graphql(self, request: Request) -> Response:
        if (r := await self._guard(request, "graphql")) is not None:
            return r
        payload = json.loads(await request.body())
        query, variables = str(payload.get("query") or ""), payload.get("variables") or {}
        self.graphql_requests.append(dict(variables))
        headers = {"X-RateLimit-Remaining": "4999", "X-RateLimit-Reset": str(int(time.time()) + 3600)}
        fault = self.graphql_fault(variables) if self.graphql_fault is not None else None
        if fault is not None:
            self.counts["fault:graphql"] += 1
            if isinstance(fault, int):  # an HTTP status (GitHub answers 502 to some queries that run too long)
                return Response(f"<html>{fault}</html>", status_code=fault, media_type="text/html")
            return Response(json.dumps(fault), media_type="application/json", headers=headers)
        key = (query, json.dumps(variables, sort_keys=True))
        body = self._graphql_cache.get(key)
        if body is None:
            body = json.dumps(answer(query, variables, {"repository": self._repository}, node_limit=self.node_limit)).encode()
            self._graphql_cache[key] = body
        return Response(body, media_type="application/json", headers=headers)

    async def deployments_list(self, request: Request) -> Response:
        if (r := await self._guard(request, "deployments")) is not None:
            return r
        return self._page(request, sorted(self.deployments, key=lambda d: d["id"], reverse=True))

    async def statuses_list(self, request: Request) -> Response:
        """A deployment's statuses as GitHub lists them: newest created first (the order of ``statuses[dep]``,
        reversed; ids are given in that order when the data has none)."""
        if (r := await self._guard(request, "statuses")) is not None:
            return r
        dep = int(request.path_params["dep"])
        items = [{"id": dep * 1000 + k, **st} for k, st in enumerate(self.statuses.get(dep, []))]
        return self._page(request, list(reversed(items)))

    async def releases_list(self, request: Request) -> Response:
        if (r := await self._guard(request, "releases")) is not None:
            return r
        return self._page(request, self.releases)

    async def issues_list(self, request: Request) -> Response:
        if (r := await self._guard(request, "issues")) is not None:
            return r
        label = request.query_params.get("labels")
        items = [i for i in self.issues if label in [lb["name"] for lb in i.get("labels", [])]]
        items.sort(key=lambda i: i["updated_at"], reverse=True)
        return self._page(request, items)

    def app(self) -> Starlette:
        """The starlette application."""
        base = "/repos/{owner}/{name}"
        return Starlette(routes=[
            Route(f"{base}/pulls", self.pulls),
            Route("/graphql", self.graphql, methods=["POST"]),
            Route(f"{base}/deployments", self.deployments_list),
            Route(f"{base}/deployments/{{dep}}/statuses", self.statuses_list),
            Route(f"{base}/releases", self.releases_list),
            Route(f"{base}/issues", self.issues_list),
        ])

    def start(self) -> str:
        """Serve on a free 127.0.0.1 port in a thread; returns the base URL."""
        github_schema()  # loaded before serving (once per process): a missing schema fails here, plainly
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        config = uvicorn.Config(self.app(), host="127.0.0.1", port=port, log_level="warning", access_log=False)
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, daemon=True)
        self._thread.start()
        deadline = time.time() + 10
        while not self._server.started and time.time() < deadline:
            time.sleep(0.02)
        self.url = f"http://127.0.0.1:{port}"
        return self.url

    def stop(self) -> None:
        """Stop serving."""
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=5)


def test_standin_checks_the_token_and_serves_etags() -> None:
    import httpx2

    gh = StandInGitHub()
    gh.releases = [{"id": 1, "tag_name": "v1.0.0"}]
    url = gh.start()
    try:
        with httpx2.Client(base_url=url) as c:
            assert c.get("/repos/acme/sample/releases").status_code == 401
            ok = c.get("/repos/acme/sample/releases", headers={"Authorization": f"Bearer {gh.token}"})
            assert ok.status_code == 200 and ok.json()[0]["tag_name"] == "v1.0.0"
            again = c.get("/repos/acme/sample/releases",
                          headers={"Authorization": f"Bearer {gh.token}", "If-None-Match": ok.headers["etag"]})
            assert again.status_code == 304
    finally:
        gh.stop()


# -- GitHub's GraphQL contract ------------------------------------------------------------------------


def _post(url: str, token: str, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
    import httpx2

    with httpx2.Client(base_url=url) as c:
        r = c.post("/graphql", json={"query": query, "variables": variables or {}},
                   headers={"Authorization": f"Bearer {token}"})
        assert r.status_code == 200  # GitHub answers query errors with 200 and `errors`
        return r.json()


def test_pr_query_is_valid_against_githubs_schema_within_its_limits_and_asks_for_nothing_deprecated() -> None:
    import graphql

    from engmetrics.sources.github.pr_query import PR_PAGE_FLOOR, PR_PAGE_SIZE, PR_QUERY, PR_REVIEWS, REVIEW_COMMENTS
    from github_graphql import count_nodes, deprecated_fields

    document = graphql.parse(PR_QUERY)
    assert graphql.validate(github_schema(), document) == []
    assert deprecated_fields(PR_QUERY) == []
    # GitHub's rule, by hand: each connection counts the product of the page sizes on the way to it.
    # PRs n; per PR: labels 20, commits 100, reviews 40 (each with 20 comments), timeline 1, closing issues 5.
    for n in (PR_PAGE_SIZE, PR_PAGE_FLOOR):
        by_hand = n + n * 20 + n * 100 + n * PR_REVIEWS + n * PR_REVIEWS * REVIEW_COMMENTS + n * 1 + n * 5
        assert count_nodes(document, {"n": n}) == (by_hand, [])
    assert count_nodes(document, {"n": PR_PAGE_SIZE})[0] == 96_700 <= NODE_LIMIT


def test_standin_answers_like_github_refusing_what_github_refuses() -> None:
    from engmetrics.sources.github.pr_query import PR_QUERY

    gh = StandInGitHub()
    gh.prs = [pr_node(1, created=1_700_000_000, reviews=[("grace", "APPROVED", 1_700_000_600, 1)])]
    url = gh.start()
    try:
        unknown = _post(url, gh.token, 'query { repository(owner: "acme", name: "sample") { nope } }')
        assert "data" not in unknown and "Cannot query field 'nope' on type 'Repository'" in unknown["errors"][0]["message"]
        too_many = _post(url, gh.token, 'query { repository(owner: "acme", name: "sample") { labels(first: 101) '
                                         '{ nodes { name } } } }')
        assert too_many["errors"][0]["type"] == "EXCESSIVE_PAGINATION" and "data" not in too_many
        unbounded = _post(url, gh.token, 'query { repository(owner: "acme", name: "sample") { pullRequests { nodes '
                                         '{ number } } } }')
        assert unbounded["errors"][0]["type"] == "MISSING_PAGINATION_BOUNDARIES"
        missing = _post(url, gh.token, PR_QUERY, {"owner": "acme", "name": "elsewhere", "cursor": None, "n": 10})
        assert missing["data"] == {"repository": None}
        assert missing["errors"][0]["type"] == "NOT_FOUND" and missing["errors"][0]["path"] == ["repository"]
        gh.node_limit = 50_000
        gh.changed()
        big = _post(url, gh.token, PR_QUERY, {"owner": "acme", "name": "sample", "cursor": None, "n": 100})
        assert big["errors"][0]["type"] == "MAX_NODE_LIMIT_EXCEEDED" and "96,700" in big["errors"][0]["message"]
        small = _post(url, gh.token, PR_QUERY, {"owner": "acme", "name": "sample", "cursor": None, "n": 50})
        assert "errors" not in small
        review = small["data"]["repository"]["pullRequests"]["nodes"][0]["reviews"]["nodes"][0]
        assert review["fullDatabaseId"] == str(review_id(1, 0)) and int(review["fullDatabaseId"]) > 2**31
        assert review["comments"]["nodes"][0]["fullDatabaseId"] == str(comment_id(1, 0, 0))
    finally:
        gh.stop()


def test_a_32_bit_database_id_cannot_carry_githubs_ids_the_query_before_fulldatabaseid_fails() -> None:
    from engmetrics.sources.github.pr_query import PR_QUERY

    old_query = PR_QUERY.replace("fullDatabaseId", "databaseId")
    gh = StandInGitHub()
    gh.prs = [pr_node(k, created=1_700_000_000 + k, reviews=[("grace", "APPROVED", 1_700_000_600, 1)]) for k in (1, 2)]
    url = gh.start()
    try:
        answer_ = _post(url, gh.token, old_query, {"owner": "acme", "name": "sample", "cursor": None, "n": 10})
        paths = sorted(tuple(e["path"]) for e in answer_["errors"])
        base = ("repository", "pullRequests", "nodes")
        assert paths == sorted([
            (*base, i, "reviews", "nodes", 0, *tail) for i in (0, 1) for tail in (("databaseId",), ("comments", "nodes", 0, "databaseId"))
        ])
        assert all("32-bit" in e["message"] for e in answer_["errors"])
        assert answer_["data"]["repository"]["pullRequests"]["nodes"][0]["reviews"]["nodes"][0]["databaseId"] is None
    finally:
        gh.stop()
