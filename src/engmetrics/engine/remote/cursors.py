"""The cursors the remote engine hands to its callers: opaque strings (``r`` + base64url JSON) carrying a
provider's paging state, e.g. the API's own cursor and how many items of its page were already returned."""

from __future__ import annotations

import base64
import binascii
import json

from pydantic import JsonValue

from engmetrics.errors import InvalidInput

CursorState = dict[str, JsonValue]
"""A provider's paging state (short keys, JSON values)."""

_NOT_OURS = ("cursor is not one this server issued: pass the `cursor` from the previous page, or omit it for the "
             "first page.")


def encode_remote_cursor(state: CursorState) -> str:
    """An opaque cursor carrying the provider's paging state."""
    return "r" + base64.urlsafe_b64encode(json.dumps(state, separators=(",", ":")).encode()).decode().rstrip("=")


def decode_remote_cursor(cursor: str | None) -> CursorState:
    """The state in a cursor from `encode_remote_cursor` ({} for None); `InvalidInput` if it is not ours."""
    if not cursor:
        return {}
    try:
        if not cursor.startswith("r"):
            raise ValueError
        raw = cursor[1:] + "=" * (-len(cursor[1:]) % 4)
        state: JsonValue = json.loads(base64.urlsafe_b64decode(raw.encode()))
        if not isinstance(state, dict):
            raise ValueError
        return state
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise InvalidInput(_NOT_OURS, param="cursor") from None


def state_int(state: CursorState, key: str, default: int) -> int:
    """``state[key]``, an int (``default`` when absent); `InvalidInput` when the cursor carries something else."""
    value = state.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInput(_NOT_OURS, param="cursor")
    return value


def state_str(state: CursorState, key: str) -> str | None:
    """``state[key]``, a string (None when absent or empty); `InvalidInput` when the cursor carries something else."""
    value = state.get(key)
    if value is not None and not isinstance(value, str):
        raise InvalidInput(_NOT_OURS, param="cursor")
    return value or None
