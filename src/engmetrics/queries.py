"""Request models: the arguments of each engine operation, shared by MCP tools, REST routes and the CLI.

Each is validated once, here; a `ValidationError` becomes an `InvalidInput` naming the field.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import TypeVar

from pydantic import BaseModel, Field, ValidationError

from engmetrics.errors import InvalidInput
from engmetrics.models import Model
from engmetrics.validation import check_value, describe_validation_error

M = TypeVar("M", bound=BaseModel)
DEFAULT_LIMIT = 20
MAX_LIMIT = 100


class WindowArgs(Model):
    """A time window: a named ``period`` or explicit ``from``/``to``."""

    period: str | None = Field(default=None, description="Named window: last_N_days or 'Nd', this_/last_week, this_/last_month, this_/last_quarter, ytd")
    from_: str | None = Field(default=None, alias="from", description="Window start instead of period: ISO date/time (UTC), '7d' (ago) or 'now'")
    to: str | None = Field(default=None, description="Window end, inclusive, as from")


class Scope(Model):
    """Which repository or team a question is about (all repositories when both are null)."""

    repo: str | None = Field(default=None, description="Repository name; all when omitted")
    team: str | None = Field(default=None, description="Team name, instead of repo")


class Page(Model):
    """Cursor pagination."""

    limit: int = Field(default=DEFAULT_LIMIT, ge=1, le=MAX_LIMIT, description="Items per page, 1–100")
    cursor: str | None = Field(default=None, description="`cursor` of the previous page")


def validate(model: type[M], **values: object) -> M:
    """Build ``model`` from keyword values, turning validation errors into `InvalidInput` (in our words, see
    `engmetrics.validation`)."""
    for name, value in values.items():  # the same string checks as at the MCP and REST edges (the CLI's edge)
        check_value(name.rstrip("_"), value)
    try:
        return model.model_validate({k: v for k, v in values.items() if v is not None})
    except ValidationError as exc:
        field, message = describe_validation_error(exc)
        raise InvalidInput(message, param=field) from None


def encode_cursor(offset: int) -> str:
    """An opaque cursor for the item at ``offset``."""
    return base64.urlsafe_b64encode(json.dumps({"o": offset}).encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> int:
    """The offset in a cursor from `encode_cursor` (0 for None); `InvalidInput` if it is not ours."""
    if not cursor:
        return 0
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        offset = json.loads(base64.urlsafe_b64decode(padded.encode()))["o"]
        if not isinstance(offset, int) or offset < 0:
            raise ValueError
        return offset
    except (ValueError, KeyError, TypeError, binascii.Error, json.JSONDecodeError, UnicodeDecodeError):
        raise InvalidInput(
            "cursor is not one this server issued: pass the `cursor` from the previous page, or omit it for the first page.",
            param="cursor",
        ) from None
