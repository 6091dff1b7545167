"""The engine `serve` answers with when its store cannot be opened (a corrupt or unreadable file).

The MCP server still starts, lists its tools, resources and prompts, and every tool call answers a tool
error saying what is wrong and how to recover — rather than the process exiting and the agent seeing only
"Connection closed".
"""

from __future__ import annotations

from typing import Any

from engmetrics.engine.engine import Engine
from engmetrics.errors import StoreUnavailable


class UnavailableEngine(Engine):
    """Stands in for the engine: reaching for any area (and so any operation) raises the store's error."""

    def __init__(self, error: StoreUnavailable) -> None:  # no areas: each is looked up in __getattr__
        self.error = StoreUnavailable(
            f"{error.message} Then restart the MCP server (reconnect it in your client). Until then every "
            "engmetrics tool answers with this message."
        )

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        raise self.error

    async def aclose(self) -> None:
        """Nothing to close."""
