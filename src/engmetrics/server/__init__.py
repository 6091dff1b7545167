"""The MCP face: tools, resources and prompts over an `Engine`."""

from engmetrics.server.app import build_server

__all__ = ["build_server"]
