"""Turning failures into tool errors: user errors keep their message, bugs become a short apology.

No traceback or secret ever reaches an MCP client; bugs are logged (with traceback) on stderr.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable
from typing import ParamSpec, TypeVar

from mcp.server.mcpserver.exceptions import ToolError

from engmetrics.errors import EngmetricsError

log = logging.getLogger("engmetrics.server")
P = ParamSpec("P")
R = TypeVar("R")


def user_errors(fn: Callable[P, Awaitable[R]]) -> Callable[P, Awaitable[R]]:
    """Wrap a tool so `EngmetricsError` becomes a `ToolError` with its message, and anything else a generic one."""

    @functools.wraps(fn)
    async def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return await fn(*args, **kwargs)
        except ToolError:
            raise
        except EngmetricsError as exc:
            raise ToolError(exc.message) from None
        except Exception:
            log.exception("tool %s failed unexpectedly", fn.__name__)
            raise ToolError(
                f"engmetrics hit an internal error in {fn.__name__}; the server log (stderr) has the details. "
                "Try again, or run `engmetrics sync` and retry."
            ) from None

    return wrapper
