"""Upshot's changelog and reports mapped onto the reports area's models: ``GET /v1/changelog`` → get_changelog (and
one entry of it → get_changelog_entry), ``POST /v1/reports/generate`` → generate_report, ``GET /v1/reports/:id`` →
get_report.

generate_report never waits for Upshot's writing: when Upshot answers ``generating`` (with its
``estimated_seconds``), the result is the report_id, that status and the estimate at once — get_report fetches it
later. Changelog entries keep Upshot's ids, titles, dates, urls and category counts as sent; the categories Upshot
does not count (it counts features, improvements, fixes), the entry's window and repositories are null.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Literal
from urllib.parse import quote

from pydantic import BaseModel, JsonValue

from engmetrics.areas.reports.models import (
    REPORT_DEFAULT_PERIOD,
    CategoryCounts,
    Changelog,
    ChangelogEntry,
    ChangelogEntryQuery,
    ChangelogQuery,
    Report,
    ReportId,
    ReportRequest,
    ReportStatus,
)
from engmetrics.engine.remote.cursors import decode_remote_cursor, encode_remote_cursor, state_int
from engmetrics.engine.remote.provider import Provider
from engmetrics.errors import DataError, EngmetricsError, InvalidInput, NotFound, RemoteError, Unsupported
from engmetrics.models import Model
from engmetrics.operations import Operation
from engmetrics.periods import parse_instant, resolve_window, to_ts

_ENTRIES_PER_LOOKUP = 100  # entries read to find one by id (Upshot documents no GET /changelog/:id)
_COUNTED = tuple(CategoryCounts.model_fields)


class UpshotChangelogEntry(Model):
    """One entry of GET /v1/changelog."""

    id: str
    title: str
    published_at: str
    categories: dict[str, int] = {}
    url: str | None = None


class UpshotChangelog(Model):
    """GET /v1/changelog."""

    entries: list[UpshotChangelogEntry]


class UpshotGenerated(Model):
    """POST /v1/reports/generate."""

    report_id: str
    status: str
    estimated_seconds: int | None = None


class UpshotReport(Model):
    """GET /v1/reports/:id."""

    id: str
    status: str
    audience: str | None = None
    format: str | None = None
    content: str | None = None
    created_at: str | None = None
    word_count: int | None = None
    estimated_seconds: int | None = None  # not documented; read when sent with a report still generating


ReportState = Literal["generating", "ready", "failed"]
_STATES: dict[str, ReportState] = {"generating": "generating", "ready": "ready", "failed": "failed"}


def changelog_entry(e: UpshotChangelogEntry) -> tuple[ChangelogEntry, list[str]]:
    """Upshot's entry as ours (counts as sent; categories Upshot does not count are null) and the category names
    Upshot sent that engmetrics has no field for."""
    counts: dict[str, int | None] = {name: e.categories.get(name) for name in _COUNTED}
    unknown = sorted(set(e.categories) - set(_COUNTED))
    entry = ChangelogEntry(
        id=e.id, title=e.title, url=e.url or "", published_at=e.published_at, period=None, repos=None,
        categories=CategoryCounts(**counts), items=[], items_total=None, grouped=None,
    )
    return entry, unknown


class UpshotReports:
    """Upshot's changelog and report endpoints as reports-area operations."""

    def __init__(self, provider: Provider) -> None:
        self.provider = provider

    def _state(self, status: str, where: str) -> ReportState:
        state = _STATES.get(status.strip().lower())
        if state is None:
            raise RemoteError(f"{self.provider.label} answered {where} with report status {status!r}, not generating, "
                              "ready or failed.")
        return state

    async def changelog(self, op: Operation, q: ChangelogQuery) -> BaseModel:
        """get_changelog from ``GET /v1/changelog?limit=N`` (newest first). Upshot documents no cursor: a page
        after the first asks for the entries before it again and skips them (our cursor holds how many)."""
        if q.repo or q.team:
            raise Unsupported("Upshot's GET /v1/changelog covers the whole organisation (it takes limit only): drop "
                              "repo and team.")
        if q.group_by != "week":
            raise Unsupported("Upshot's changelog entries are its own (weekly) entries: drop group_by='release'.")
        since = to_ts(parse_instant(q.since, param="since")) if q.since else None
        offset = state_int(decode_remote_cursor(q.cursor), "o", 0)
        if offset < 0:
            raise InvalidInput("cursor is not one this server issued: pass the `cursor` from the previous page, or "
                               "omit it for the first page.", param="cursor")
        data = await self.provider.http.request("GET", "/v1/changelog", params={"limit": offset + q.limit + 1})
        got = self.provider.parse(UpshotChangelog, data, "GET /v1/changelog").entries
        entries: list[ChangelogEntry] = []
        unknown: set[str] = set()
        more = len(got) > offset + q.limit
        for e in got[offset : offset + q.limit]:
            if since is not None and to_ts(e.published_at) < since:
                more = False
                break
            entry, extra = changelog_entry(e)
            entries.append(entry)
            unknown.update(extra)
        notes = ["From Upshot's GET /v1/changelog: ids, titles, dates, urls and category counts as sent. Upshot counts "
                 "features, improvements and fixes; the other categories, each entry's window and repositories are "
                 "null."]
        if q.items_per_entry:
            notes.append("Upshot lists no changes per entry (counts only): items is empty.")
        if unknown:
            notes.append(f"Upshot also counted {', '.join(sorted(unknown))}, which engmetrics has no category for.")
        cursor = encode_remote_cursor({"o": offset + len(entries)}) if more and entries else None
        return Changelog(entries=entries, cursor=cursor, notes=notes)

    async def changelog_entry(self, op: Operation, q: ChangelogEntryQuery) -> BaseModel:
        """get_changelog_entry (the changelog:// resource): the entry of ``GET /v1/changelog`` whose id (or url's last
        part) is ``entry_id`` ('latest': the newest), among Upshot's newest 100."""
        if q.repo or q.team:
            raise Unsupported("Upshot's changelog covers the whole organisation: drop repo and team.")
        data = await self.provider.http.request("GET", "/v1/changelog", params={"limit": _ENTRIES_PER_LOOKUP})
        got = self.provider.parse(UpshotChangelog, data, "GET /v1/changelog").entries
        wanted = q.entry_id.strip()
        if wanted == "latest" and got:
            return changelog_entry(got[0])[0]
        for e in got:
            if wanted in (e.id, (e.url or "").rstrip("/").rpartition("/")[2]):
                return changelog_entry(e)[0]
        ids = ", ".join(e.id for e in got[:5]) or "none"
        raise NotFound(f"Upshot's changelog has no entry {wanted!r} among its newest {len(got)} (newest ids: {ids}).",
                       param="entry_id")

    async def generate(self, op: Operation, q: ReportRequest) -> BaseModel:
        """generate_report through ``POST /v1/reports/generate``: answers at once — with the report when Upshot
        already has it ready, else with its report_id, ``generating`` and Upshot's estimated_seconds."""
        if q.repo or q.team:
            raise Unsupported("Upshot's POST /v1/reports/generate takes an audience, a period and a format, not a "
                              "repository or team: drop repo and team.")
        window = resolve_window(q.period, q.from_, q.to, default=REPORT_DEFAULT_PERIOD)
        first, last = window.start.date().isoformat(), last_day(window.end_ts)
        body: dict[str, JsonValue] = {"audience": q.audience, "period": {"from": first, "to": last}, "format": q.format}
        data = await self.provider.http.request("POST", "/v1/reports/generate", body=body)
        g = self.provider.parse(UpshotGenerated, data, "POST /v1/reports/generate")
        state = self._state(g.status, "POST /v1/reports/generate")
        sent = f"Upshot's POST /v1/reports/generate (period {first} to {last}, inclusive)"
        if state == "generating":
            wait = f"about {g.estimated_seconds} s by its estimate" if g.estimated_seconds is not None else \
                "it gave no estimate"
            return ReportStatus(report_id=g.report_id, status="generating", estimated_seconds=g.estimated_seconds,
                                report=None,
                                notes=[f"{sent}: Upshot is still writing it ({wait}). This answer did not wait: call "
                                       f"get_report(report_id={g.report_id!r}) then."])
        if state == "failed":
            return ReportStatus(report_id=g.report_id, status="failed", estimated_seconds=None, report=None,
                                notes=[f"{sent}: Upshot says it failed to write the report. Try again later."])
        try:
            report = await self._report(g.report_id)
        except EngmetricsError as exc:
            return ReportStatus(report_id=g.report_id, status="ready", estimated_seconds=0, report=None,
                                notes=[f"{sent}: ready, but fetching it failed ({exc.message}). Call "
                                       f"get_report(report_id={g.report_id!r})."])
        return ReportStatus(report_id=g.report_id, status="ready", estimated_seconds=0, report=report,
                            notes=[f"{sent}: written by Upshot; content and word_count as sent."])

    async def get(self, op: Operation, q: ReportId) -> BaseModel:
        """get_report from ``GET /v1/reports/:id``."""
        return await self._report(q.report_id.strip())

    async def _report(self, report_id: str) -> Report:
        path = f"/v1/reports/{quote(report_id, safe='')}"
        data = await self.provider.http.request("GET", path)
        r = self.provider.parse(UpshotReport, data, f"GET {path}")
        state = self._state(r.status, f"GET {path}")
        if r.audience is None or r.format is None:
            if state == "generating":
                wait = f" (about {r.estimated_seconds} s by its estimate)" if r.estimated_seconds is not None else ""
                raise DataError(f"Upshot is still writing report {r.id}{wait}: call get_report again in a little while.")
            raise RemoteError(f"{self.provider.label} answered GET {path} without the report's audience or format.")
        return Report.model_validate({
            "id": r.id, "status": state, "audience": r.audience, "format": r.format, "title": None, "content": r.content,
            "created_at": r.created_at, "word_count": r.word_count, "period": None, "repo": None, "team": None,
            "polished": False, "numbers": [],
        })


def last_day(end_ts: int) -> str:
    """The last day (ISO date, UTC) a window ending at ``end_ts`` (exclusive, Unix seconds) covers: Upshot's
    inclusive ``to``."""
    return datetime.fromtimestamp(end_ts - 1, UTC).date().isoformat()
