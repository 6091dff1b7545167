"""What every public model shares: the `Model` base, the `Period` a figure covers, ratings and trend directions.

One set of pydantic models is the MCP tools' outputSchema, the REST bodies and the CLI's ``--json`` output; each
area keeps its own in ``areas/<area>/models.py``. Field names are snake_case, units are explicit in names or in a
``unit`` field, timestamps are ISO 8601 UTC strings ending in ``Z``.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from engmetrics.periods import Window, iso

Rating = Literal["elite", "high", "medium", "low"]
TrendDirection = Literal["improving", "worsening", "stable"]


class Model(BaseModel):
    """Base for every public model: ``from`` etc. are accepted by alias and names are kept as written."""

    model_config = ConfigDict(populate_by_name=True, serialize_by_alias=True)


class Period(Model):
    """The UTC window a figure covers: ``[from, to)``."""

    from_: str = Field(alias="from", description="Start, ISO 8601 UTC, inclusive")
    to: str = Field(description="End, ISO 8601 UTC, exclusive")
    label: str = Field(description="How the window was asked for, e.g. 'last_30_days'")

    @classmethod
    def of(cls, window: Window) -> Period:
        """The public form of a `Window`."""
        return cls(from_=iso(window.start_ts) or "", to=iso(window.end_ts) or "", label=window.label)


