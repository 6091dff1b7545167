"""Koalr's /api/v1 as the Koalr mappers use it: GET and POST through the provider's HTTP client (X-Koalr-Key, rate
limits and retries within the call's deadline), rolling ``days`` windows ending now, team names resolved to
Koalr's ``teamId`` through ``GET /api/v1/teams`` (cached for the engine's life), and ``page``/``pageSize`` lists
followed lazily up to a tool's ``limit``.

Units: ``days`` whole days; times from Koalr are ISO 8601 UTC strings; nothing here converts a figure.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Generic, TypeVar

from pydantic import BaseModel, JsonValue

from engmetrics.engine.remote.cursors import CursorState, decode_remote_cursor, encode_remote_cursor, state_int
from engmetrics.engine.remote.http import Params, Primitive
from engmetrics.engine.remote.provider import Provider
from engmetrics.errors import InvalidInput, NotFound, Unsupported
from engmetrics.models import Model, Period
from engmetrics.periods import Window, resolve_window, utcnow
from engmetrics.queries import Page, WindowArgs

PREFIX = "/api/v1"
MAX_PAGE_SIZE = 100  # Koalr's documented maximum pageSize

Item = TypeVar("Item", bound=BaseModel)
M = TypeVar("M", bound=BaseModel)


class KoalrTeam(Model):
    """One team of GET /api/v1/teams."""

    id: str
    name: str | None = None
    memberCount: int | None = None  # noqa: N815 - Koalr's names
    createdAt: str | None = None  # noqa: N815


class KoalrPage(Model, Generic[Item]):
    """A page of a Koalr list (``data``), with the total, page number and page size when Koalr gives them."""

    data: list[Item]
    total: int | None = None
    page: int | None = None
    pageSize: int | None = None  # noqa: N815


@dataclass(frozen=True)
class Listed:
    """What `KoalrClient.pages` gathered: the mapped items, Koalr's total, our cursor, items left out on the way."""

    items: list[dict[str, object]]
    total: int | None
    cursor: str | None
    left_out: int


@dataclass(frozen=True)
class DaysWindow:
    """A rolling Koalr window: ``days`` whole days ending now, and the `Window` that is (labelled as asked)."""

    days: int
    window: Window

    @property
    def period(self) -> Period:
        return Period.of(self.window)


def refuse(provider: str, what: str, why: str) -> Unsupported:
    """The error for an argument a provider's endpoint cannot honour (never silently dropped)."""
    return Unsupported(f"{provider}'s API cannot {what}: {why}")


class KoalrClient:
    """Koalr's /api/v1 for one engine: requests, ``days`` windows, team ids (cached), pages."""

    def __init__(self, provider: Provider) -> None:
        self.provider = provider
        self._teams: list[KoalrTeam] | None = None

    async def get(self, path: str, params: Params | None = None) -> JsonValue:
        """The JSON answer of ``GET /api/v1{path}``."""
        return await self.provider.http.request("GET", PREFIX + path, params=params)

    async def post(self, path: str, body: Mapping[str, JsonValue]) -> JsonValue:
        """The JSON answer of ``POST /api/v1{path}`` with ``body``."""
        return await self.provider.http.request("POST", PREFIX + path, body=body)

    def parse(self, model: type[M], data: object, path: str, method: str = "GET") -> M:
        """``data`` as ``model`` (`RemoteError` naming the endpoint when it does not match)."""
        return self.provider.parse(model, data, f"{method} {PREFIX}{path}")

    @staticmethod
    def days(q: WindowArgs) -> DaysWindow:
        """Koalr's rolling ``days`` for the window ``q`` asks for, and the window Koalr then covers (``days`` whole
        days ending now); `Unsupported` for a window ending in the past (Koalr only answers windows ending now)."""
        asked = resolve_window(q.period, q.from_, q.to)
        now = utcnow()
        if asked.end_ts < now.timestamp() - 3600:
            raise Unsupported("Koalr's API only answers rolling windows that end now (days=N): ask for "
                              "period='last_N_days' (or from='Nd' without to).")
        days = max(1, round(asked.days))
        return DaysWindow(days, Window(now - timedelta(days=days), now, asked.label))

    async def teams(self, *, refresh: bool = False) -> list[KoalrTeam]:
        """Koalr's teams (``GET /api/v1/teams``), fetched once per engine unless ``refresh``."""
        if self._teams is None or refresh:
            data = await self.get("/teams")
            self._teams = self.parse(KoalrPage[KoalrTeam], data, "/teams").data
        return self._teams

    async def team_id(self, team: str | None) -> str | None:
        """Koalr's ``teamId`` for ``team`` (a team's name, any case, or its id); None for no team. Teams are cached
        per engine; a name not in the cache is looked up once more (a team made since). `NotFound` naming Koalr's
        teams otherwise."""
        if not team:
            return None
        wanted = team.strip()
        for refresh in (False, True):
            teams = await self.teams(refresh=refresh)
            for t in teams:
                if wanted == t.id or wanted == t.name:
                    return t.id
            for t in teams:
                if t.name and t.name.casefold() == wanted.casefold():
                    return t.id
        names = ", ".join(repr(t.name) for t in teams if t.name) or "none"
        raise NotFound(f"Koalr has no team {team!r} (its teams: {names}); pass one of those names as team.",
                       param="team")

    async def pages(self, path: str, params: Params, q: Page, page_model: type[KoalrPage[Item]],
                    keep: Callable[[Item], dict[str, object] | None], *, page_size: int | None = None) -> Listed:
        """Follow Koalr's ``page`` numbers lazily from ``q.cursor`` until ``q.limit`` kept items (``keep`` maps an item
        onto ours, or None to leave it out). With ``page_size``, asks for pages of that size (``pageSize``); the
        cursor keeps the page size, so a next call pages on the same way."""
        state = decode_remote_cursor(q.cursor)
        page_no, skip = state_int(state, "p", 1), state_int(state, "s", 0)
        size = state_int(state, "z", page_size or 0) or None
        if page_no < 1 or skip < 0 or (size is not None and not 1 <= size <= MAX_PAGE_SIZE):
            raise InvalidInput("cursor is not one this server issued: pass the `cursor` from the previous page, or "
                               "omit it for the first page.", param="cursor")
        items: list[dict[str, object]] = []
        total: int | None = None
        left_out = 0
        next_state: CursorState | None = None
        while True:
            ask: dict[str, Primitive | Sequence[Primitive]] = {**params, "page": page_no}
            if size is not None:
                ask["pageSize"] = size
            data = await self.get(path, params=ask)
            page = self.parse(page_model, data, path)
            total = page.total if page.total is not None else total
            per_page = page.pageSize or size or len(page.data)
            for index in range(skip, len(page.data)):
                mapped = keep(page.data[index])
                if mapped is None:
                    left_out += 1
                    continue
                items.append(mapped)
                if len(items) == q.limit:
                    if index + 1 < len(page.data):
                        next_state = {"p": page_no, "s": index + 1}
                    break
            through = (page_no - 1) * per_page + len(page.data)
            more = bool(page.data) and (page.total is None or through < page.total)
            if len(items) == q.limit:
                if next_state is None and more:
                    next_state = {"p": page_no + 1}
                break
            if not more:
                break
            page_no, skip = page_no + 1, 0
        if next_state is not None and size is not None:
            next_state["z"] = size
        return Listed(items, total, encode_remote_cursor(next_state) if next_state else None, left_out)
