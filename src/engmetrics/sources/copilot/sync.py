"""Bring the store up to date with GitHub Copilot's usage metrics reports, incrementally by day.

For an organisation (``copilot_org``) or an enterprise (``copilot_enterprise``): the latest 28-day report
(``…/copilot/metrics/reports/organization-28-day/latest``) gives the last 28 processed days; when the previous
sync ended before those, the 1-day reports (``…-1-day?day=YYYY-MM-DD``) fill the days between (at most 365). Each
answer holds signed download links; the files are fetched without GitHub's token (they are pre-signed and may live on
another host) and their day totals written, one transaction per report. The seats assigned come from the billing
endpoint when the token may read it. The cursor is the last day read.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

import anyio.to_thread

from engmetrics.errors import RemoteError
from engmetrics.sources.copilot.reports import CopilotDay, parse_report
from engmetrics.sources.copilot.storage import upsert_day, write_seats
from engmetrics.sources.cursor.storage import read_cursor, write_cursor
from engmetrics.sources.github.client import GitHubClient
from engmetrics.store.db import Store

if TYPE_CHECKING:  # imported where used (see download)
    import httpx2

MAX_BACKFILL_DAYS = 365


@dataclass(frozen=True)
class CopilotScope:
    """Whose Copilot metrics: an organisation or an enterprise, with the endpoints that serve them."""

    kind: str  # org | enterprise
    name: str

    @property
    def key(self) -> str:
        """How the store names the scope: 'org:<name>' or 'enterprise:<slug>'."""
        return f"{self.kind}:{self.name}"

    @property
    def reports(self) -> str:
        base = f"/orgs/{self.name}" if self.kind == "org" else f"/enterprises/{self.name}"
        return f"{base}/copilot/metrics/reports/{'organization' if self.kind == 'org' else 'enterprise'}"

    @property
    def seats_path(self) -> str:
        return f"/orgs/{self.name}/copilot/billing" if self.kind == "org" else f"/enterprises/{self.name}/copilot/billing/seats"


@dataclass
class CopilotOutcome:
    """What a Copilot sync did: reports read, days written or unchanged, seats (None: unknown), notes."""

    scope: str
    reports: int = 0
    days_written: int = 0
    days_unchanged: int = 0
    last_day: str | None = None
    seats: int | None = None
    notes: list[str] = field(default_factory=list)


def _links(data: Any, what: str) -> list[str]:
    if not isinstance(data, dict) or not isinstance(data.get("download_links"), list):
        raise RemoteError(f"GitHub answered the Copilot {what} without download_links.")
    return [str(u) for u in data["download_links"]]


async def _download(http: httpx2.AsyncClient, url: str, what: str) -> str:
    """The text of one signed report link (retried once on a network error or a 5xx)."""
    import httpx2  # lazy: httpx2 is heavy, and the engine imports this module at start-up

    for attempt in range(3):
        try:
            resp = await http.get(url)
        except httpx2.TransportError as exc:
            if attempt == 2:
                raise RemoteError(f"Cannot download the Copilot {what} ({type(exc).__name__}); sync again later.") from None
            continue
        if resp.status_code < 300:
            return resp.text
        if resp.status_code < 500 or attempt == 2:
            raise RemoteError(f"Downloading the Copilot {what} failed (HTTP {resp.status_code}); its signed links "
                              "expire quickly, so sync again.", status=resp.status_code)
    raise AssertionError("unreachable")


def _metrics_error(exc: RemoteError, scope: CopilotScope) -> RemoteError:
    if exc.status in (401, 403, 404):
        return RemoteError(
            f"GitHub refused Copilot usage metrics for {scope.kind} {scope.name!r} (HTTP {exc.status}). The \"Copilot "
            "usage metrics\" policy must be enabled, and the token needs read access to them (organisation: a "
            "fine-grained token with \"Organization Copilot metrics\" read, or classic read:org; enterprise: "
            "manage_billing:copilot or read:enterprise). Check ENGMETRICS_COPILOT_ORG / ENGMETRICS_COPILOT_ENTERPRISE.",
            status=exc.status,
        )
    return exc


async def sync_copilot(store: Store, gh: GitHubClient, scope: CopilotScope, *, now: datetime) -> CopilotOutcome:
    """Sync one scope's day totals and seats (see the module docstring)."""
    import httpx2  # lazy: httpx2 is heavy, and the engine imports this module at start-up

    out = CopilotOutcome(scope.key)
    source = f"copilot:{scope.key}"

    def save(days: list[CopilotDay]) -> None:
        with store.tx() as conn:
            for d in days:
                if upsert_day(conn, scope.key, d):
                    out.days_written += 1
                else:
                    out.days_unchanged += 1

    async with httpx2.AsyncClient(timeout=60.0, follow_redirects=True) as http:

        async def fetch(path: str, params: dict[str, Any] | None, what: str) -> tuple[Any, list[CopilotDay]]:
            try:
                data = (await gh.request("GET", path, params=params)).json()
            except RemoteError as exc:
                raise _metrics_error(exc, scope) from None
            days: list[CopilotDay] = []
            for url in _links(data, what):
                days += parse_report(await _download(http, url, what), what)
            out.reports += 1
            return data, days

        latest, days = await fetch(f"{scope.reports}-28-day/latest", None, "28-day report")
        await anyio.to_thread.run_sync(save, days)
        start_text = str(latest.get("report_start_day") or (days[0].day.isoformat() if days else ""))
        end_text = str(latest.get("report_end_day") or (days[-1].day.isoformat() if days else ""))
        def current() -> str | None:
            return read_cursor(store.read(), source)

        cursor = await anyio.to_thread.run_sync(current)
        if cursor and start_text:
            first_missing = date.fromisoformat(cursor) + timedelta(days=1)
            report_start = date.fromisoformat(start_text[:10])
            first_missing = max(first_missing, report_start - timedelta(days=MAX_BACKFILL_DAYS))
            day = first_missing
            while day < report_start:
                _, got = await fetch(f"{scope.reports}-1-day", {"day": day.isoformat()}, f"report of {day.isoformat()}")
                await anyio.to_thread.run_sync(save, got)
                day += timedelta(days=1)
        if end_text:
            out.last_day = end_text[:10]

            def advance() -> None:
                with store.tx() as conn:
                    write_cursor(conn, source, end_text[:10], int(now.timestamp()))

            await anyio.to_thread.run_sync(advance)
    try:
        billing = (await gh.request("GET", scope.seats_path, params={"per_page": 1})).json()
        seats = (billing.get("seat_breakdown") or {}).get("total") if scope.kind == "org" else billing.get("total_seats")
        if isinstance(seats, int) and not isinstance(seats, bool):
            out.seats = seats

            def keep(n: int = seats) -> None:
                with store.tx() as conn:
                    write_seats(conn, scope.key, n, int(now.timestamp()))

            await anyio.to_thread.run_sync(keep)
    except RemoteError as exc:
        out.notes.append(f"Copilot seats unknown (GitHub answered HTTP {exc.status} on {scope.seats_path}): the "
                         "adoption rate needs them; the token may lack billing read access.")
    return out
