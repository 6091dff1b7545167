"""Stand-ins on 127.0.0.1 for the AI sources' APIs (starlette apps; serve them with `test_api.Served`).

`CursorApi`: Cursor's AI Code Tracking API as its documentation describes it — ``GET /analytics/ai-code/commits``
and ``/changes`` (JSON pages: ``page`` from 1, ``pageSize`` default 100 and at most 1000, else 400), their ``.csv``
downloads (streamed in small chunks), ``startDate``/``endDate`` (ISO date or time, ``now``, ``Nd``), ``user`` (email or
``user_…`` id), Basic authentication with the key as user name (401 otherwise), and its rate limit: at most
``limit`` requests per ``window`` seconds per endpoint, beyond which it answers 429 with ``Retry-After``. Every
request is logged (endpoint, query) and every 429 counted.

`CopilotApi`: GitHub's Copilot usage metrics reports — ``…/organization-28-day/latest`` and ``…-1-day?day=``
answering signed ``download_links`` to files it serves itself (``/downloads/…``; a request for one carrying an
``Authorization`` header is recorded), and ``/orgs/{org}/copilot/billing`` with the seats; Bearer token check.
"""

from __future__ import annotations

import base64
import csv
import io
import json
import math
import time
from collections import defaultdict, deque
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

COMMIT_COLUMNS = ("commit_hash", "user_id", "user_email", "repo_name", "branch_name", "is_primary_branch",
                  "total_lines_added", "total_lines_deleted", "tab_lines_added", "tab_lines_deleted",
                  "composer_lines_added", "composer_lines_deleted", "non_ai_lines_added", "non_ai_lines_deleted",
                  "message", "commit_ts", "created_at")
CHANGE_COLUMNS = ("change_id", "user_id", "user_email", "source", "model", "total_lines_added", "total_lines_deleted",
                  "created_at", "metadata_json")


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(p.capitalize() for p in rest)


def _when(value: str, *, end: bool) -> datetime:
    """Cursor's date parameter as a time: 'now', 'Nd' (N days ago), an ISO date (its start, or the next day's for
    an end) or time."""
    now = datetime.now(UTC)
    v = value.strip().lower()
    if v == "now":
        return now
    if v.endswith("d") and v[:-1].isdigit():
        return now - timedelta(days=int(v[:-1]))
    if len(v) == 10:
        d = datetime.fromisoformat(v).replace(tzinfo=UTC)
        return d + timedelta(days=1) if end else d
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


class CursorApi:
    """The stand-in Cursor API (see the module docstring). ``commits``/``changes``: rows in the API's camelCase."""

    def __init__(self, key: str = "crsr_test_key", *, limit: int = 5, window: float = 60.0,
                 retry_after: float = 1.0) -> None:
        self.key = key
        self.commits: list[dict[str, Any]] = []
        self.changes: list[dict[str, Any]] = []
        self.limit = limit
        self.window = window
        self.retry_after = retry_after
        self.requests: list[tuple[str, dict[str, str]]] = []
        self.rejected_429 = 0
        self.always_429 = False
        self._sent: dict[str, deque[float]] = defaultdict(deque)
        self.chunk = 7  # bytes per CSV chunk
        self.app = Starlette(routes=[
            Route("/analytics/ai-code/commits", self._json("commits")),
            Route("/analytics/ai-code/changes", self._json("changes")),
            Route("/analytics/ai-code/commits.csv", self._csv("commits")),
            Route("/analytics/ai-code/changes.csv", self._csv("changes")),
        ])

    def _gate(self, request: Request) -> Response | None:
        """401 without the key, 429 beyond the rate limit (counted), else None."""
        self.requests.append((request.url.path, dict(request.query_params)))
        auth = request.headers.get("authorization", "")
        expected = "Basic " + base64.b64encode(f"{self.key}:".encode()).decode()
        if auth != expected:
            return JSONResponse({"error": "Unauthorized", "message": "Invalid API key"}, status_code=401)
        sent = self._sent[request.url.path]
        now = time.monotonic()
        while sent and now - sent[0] >= self.window:
            sent.popleft()
        if self.always_429 or len(sent) >= self.limit:
            self.rejected_429 += 1
            wait = self.retry_after if self.always_429 else max(self.retry_after, self.window - (now - sent[0]))
            return JSONResponse({"error": "Too Many Requests"}, status_code=429,
                                headers={"Retry-After": str(math.ceil(wait))})
        sent.append(now)
        return None

    def _rows(self, kind: str, request: Request) -> list[dict[str, Any]]:
        q = request.query_params
        start = _when(q.get("startDate", "7d"), end=False)
        end = _when(q.get("endDate", "now"), end=True)
        user = q.get("user")
        stamp = "commitTs" if kind == "commits" else "createdAt"
        rows = []
        for row in (self.commits if kind == "commits" else self.changes):
            at = datetime.fromisoformat(str(row[stamp]).replace("Z", "+00:00"))
            if not start <= at < end:
                continue
            if user and user not in (row.get("userEmail"), row.get("userId")):
                continue
            rows.append(row)
        return rows

    def _json(self, kind: str):  # type: ignore[no-untyped-def]
        async def handle(request: Request) -> Response:
            if (refused := self._gate(request)) is not None:
                return refused
            q = request.query_params
            page, size = int(q.get("page", "1")), int(q.get("pageSize", "100"))
            if size > 1000 or size < 1 or page < 1:
                return JSONResponse({"error": "Bad Request", "message": "pageSize must be between 1 and 1000"},
                                    status_code=400)
            rows = self._rows(kind, request)
            return JSONResponse({"items": rows[(page - 1) * size: page * size], "totalCount": len(rows), "page": page,
                                 "pageSize": size})

        return handle

    def _csv(self, kind: str):  # type: ignore[no-untyped-def]
        async def handle(request: Request) -> Response:
            if (refused := self._gate(request)) is not None:
                return refused
            columns = COMMIT_COLUMNS if kind == "commits" else CHANGE_COLUMNS
            buf = io.StringIO()
            writer = csv.writer(buf)
            writer.writerow(columns)
            for row in self._rows(kind, request):
                values = []
                for c in columns:
                    if c == "metadata_json":
                        values.append(json.dumps(row.get("metadata", [])))
                        continue
                    v = row.get(_camel(c))
                    values.append("" if v is None else ("true" if v is True else "false" if v is False else v))
                writer.writerow(values)
            data = buf.getvalue().encode()

            async def chunks() -> AsyncIterator[bytes]:
                for k in range(0, len(data), self.chunk):
                    yield data[k:k + self.chunk]

            return StreamingResponse(chunks(), media_type="text/csv; charset=utf-8")

        return handle


class CopilotApi:
    """The stand-in Copilot usage metrics reports (see the module docstring). ``days``: day records by day; the
    28-day report covers the 28 days ending ``latest_end``."""

    def __init__(self, org: str = "acme", token: str = "ghp_test", *, seats: int | None = 20) -> None:
        self.org = org
        self.token = token
        self.seats = seats
        self.days: dict[date, dict[str, Any]] = {}
        self.latest_end: date = date(2026, 1, 31)
        self.url = ""  # set once served: the base of the download links
        self.requests: list[tuple[str, dict[str, str]]] = []
        self.downloads_with_auth = 0
        base = f"/orgs/{org}/copilot/metrics/reports/organization"
        self.app = Starlette(routes=[
            Route(f"{base}-28-day/latest", self._latest),
            Route(f"{base}-1-day", self._one_day),
            Route("/downloads/{name}", self._download),
            Route(f"/orgs/{org}/copilot/billing", self._billing),
        ])

    def _authorised(self, request: Request) -> Response | None:
        self.requests.append((request.url.path, dict(request.query_params)))
        if request.headers.get("authorization") != f"Bearer {self.token}":
            return JSONResponse({"message": "Bad credentials"}, status_code=401)
        return None

    def _span(self, first: date, last: date) -> list[dict[str, Any]]:
        return [self.days[d] for d in sorted(self.days) if first <= d <= last]

    async def _latest(self, request: Request) -> Response:
        if (refused := self._authorised(request)) is not None:
            return refused
        start = self.latest_end - timedelta(days=27)
        return JSONResponse({
            "download_links": [f"{self.url}/downloads/28-{start}-a.json", f"{self.url}/downloads/28-{start}-b.ndjson"],
            "report_start_day": start.isoformat(), "report_end_day": self.latest_end.isoformat(),
        })

    async def _one_day(self, request: Request) -> Response:
        if (refused := self._authorised(request)) is not None:
            return refused
        day = request.query_params.get("day", "")
        return JSONResponse({"download_links": [f"{self.url}/downloads/1-{day}.json"], "report_day": day})

    async def _download(self, request: Request) -> Response:
        self.requests.append((request.url.path, {}))
        if "authorization" in request.headers:
            self.downloads_with_auth += 1
        name = request.path_params["name"]
        if name.startswith("28-"):
            start = date.fromisoformat(name[3:13])
            days = self._span(start, start + timedelta(days=27))
            half = len(days) // 2
            if name.endswith("-a.json"):  # a JSON list holding one report with day totals
                return JSONResponse([{"day_totals": days[:half], "organization_id": "1",
                                      "report_start_day": start.isoformat()}])
            return Response("\n".join(json.dumps({"day_totals": [d]}) for d in days[half:]) + "\n",
                            media_type="application/x-ndjson")
        day = date.fromisoformat(name[2:12])
        record = self.days.get(day)
        return JSONResponse(record if record is not None else {"day_totals": []})

    async def _billing(self, request: Request) -> Response:
        if (refused := self._authorised(request)) is not None:
            return refused
        if self.seats is None:
            return JSONResponse({"message": "Resource not accessible by personal access token"}, status_code=403)
        return JSONResponse({"seat_breakdown": {"total": self.seats, "active_this_cycle": self.seats - 2}})
