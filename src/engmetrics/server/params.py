"""Annotated argument types shared by the tools, so every tool describes ``period``/``repo``/… the same way."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from pydantic import Field

PeriodArg = Annotated[
    str | None,
    Field(
        description="Named window: last_7_days, last_30_days (default), last_90_days, 7d, 30d, 90d, this_week, "
        "last_week, this_month, last_month, this_quarter, last_quarter, ytd. Omit when giving from/to."
    ),
]
FromArg = Annotated[
    str | None,
    Field(alias="from", description="Window start: ISO date or time in UTC ('2025-02-01'), a relative '7d', or 'now'"),
]
ToArg = Annotated[
    str | None, Field(description="Window end, inclusive: ISO date or time in UTC ('2025-02-15'), '7d', or 'now'")
]
RepoArg = Annotated[
    str | None, Field(description="Repository name (see list_repositories) or path; all repositories when omitted")
]
TeamArg = Annotated[str | None, Field(description="Team name from engmetrics.toml (see list_teams); instead of repo")]
LimitArg = Annotated[int, Field(ge=1, le=100, description="Items per page, 1–100 (default 20)")]
CursorArg = Annotated[str | None, Field(description="The `cursor` from the previous page; omit for the first page")]


def accepts_from(fn: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
    """Let a tool take the argument ``from`` (a Python keyword) as its parameter ``from_``.

    The SDK calls a tool with its arguments' wire names; this maps ``from`` back to ``from_``
    while keeping the signature (and so the input schema) of ``fn``.
    """

    @functools.wraps(fn)
    async def wrapper(**kwargs: Any) -> Any:
        if "from" in kwargs:
            kwargs["from_"] = kwargs.pop("from")
        return await fn(**kwargs)

    wrapper.__signature__ = inspect.signature(fn)  # type: ignore[attr-defined]
    return wrapper
