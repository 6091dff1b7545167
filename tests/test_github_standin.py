"""A stand-in GitHub API on 127.0.0.1 (starlette + uvicorn in a thread) for the GitHub source's tests and bench.

Serves recorded-shape JSON for the endpoints engmetrics uses: ``GET /repos/{o}/{r}/pulls`` (probe),
``POST /graphql`` (pull requests), ``/deployments`` and their ``/statuses``, ``/releases``, ``/issues``;
with ``Link`` pagination, ETags (304 on ``If-None-Match``), a token check (401), and one-shot faults:
a primary rate limit (403, ``X-RateLimit-Remaining: 0`` and a reset), a secondary rate limit (403 with
``Retry-After``) and a 502. Every request is counted by kind.
"""

from __future__ import annotations

import hashlib
import json
import socket
import threading
import time
from collections import Counter
from datetime import UTC, datetime
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route


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
    ``src/f<j>.py`` (every third one with no path)."""
    state = "MERGED" if merged else ("CLOSED" if closed else "OPEN")
    return {
        "number": number, "title": title or f"PR {number}", "state": state, "isDraft": draft,
        "createdAt": iso(created), "updatedAt": iso(updated or merged or closed or created), "mergedAt": iso(merged),
        "closedAt": iso(closed or merged), "author": {"login": author}, "baseRefName": "main",
        "headRefName": f"feature-{number}", "headRefOid": (merge_sha or "f" * 40), "additions": additions,
        "deletions": deletions, "changedFiles": 2, "mergeCommit": {"oid": merge_sha} if merge_sha else None,
        "labels": {"nodes": [{"name": "feature"}]},
        "commits": {"totalCount": len(commits), "nodes": [
            {"commit": {"oid": o, "authoredDate": iso(a), "committedDate": iso(c), "author": {"email": e}}}
            for o, a, c, e in commits
        ]},
        "reviews": {"nodes": [
            {"databaseId": number * 100 + k, "author": {"login": login}, "state": st, "submittedAt": iso(at),
             "comments": {"totalCount": n, "nodes": [
                 {"databaseId": (number * 100 + k) * 100 + j, "author": {"login": login}, "createdAt": iso(at - 60 * (n - j)),
                  "path": None if j % 3 == 2 else f"src/f{j}.py"}
                 for j in range(n)
             ]}}
            for k, (login, st, at, n) in enumerate(reviews)
        ]},
        "timelineItems": {"nodes": [{"createdAt": iso(ready)}] if ready else []},
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
        self._graphql_cache: dict[tuple[str | None, int], bytes] = {}
        self.url = ""
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    # -- helpers ------------------------------------------------------------------------------

    def changed(self) -> None:
        """Call after editing ``prs`` so GraphQL pages are rebuilt."""
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

    async def graphql(self, request: Request) -> Response:
        if (r := await self._guard(request, "graphql")) is not None:
            return r
        payload = json.loads(await request.body())
        v = payload.get("variables") or {}
        key = (v.get("cursor"), int(v.get("n", 100)))
        body = self._graphql_cache.get(key)
        if body is None:
            ordered = sorted(self.prs, key=lambda n: (n["updatedAt"], n["number"]), reverse=True)
            start = int(key[0] or 0)
            nodes = ordered[start : start + key[1]]
            end = start + len(nodes)
            body = json.dumps({"data": {"repository": {"pullRequests": {
                "pageInfo": {"hasNextPage": end < len(ordered), "endCursor": str(end)}, "nodes": nodes}}}}).encode()
            self._graphql_cache[key] = body
        return Response(body, media_type="application/json", headers={"X-RateLimit-Remaining": "4999"})

    async def deployments_list(self, request: Request) -> Response:
        if (r := await self._guard(request, "deployments")) is not None:
            return r
        return self._page(request, sorted(self.deployments, key=lambda d: d["id"], reverse=True))

    async def statuses_list(self, request: Request) -> Response:
        if (r := await self._guard(request, "statuses")) is not None:
            return r
        dep = int(request.path_params["dep"])
        return self._page(request, list(reversed(self.statuses.get(dep, []))))

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
