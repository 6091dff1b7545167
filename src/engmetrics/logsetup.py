"""Logging set-up shared by the CLI and the server: stderr only (stdout may carry the MCP protocol)."""

from __future__ import annotations

import logging
import sys


def setup_logging(level: str = "WARNING") -> None:
    """Log at ``level`` (DEBUG, INFO, WARNING, ERROR; unknown → WARNING) to stderr."""
    logging.basicConfig(
        level=getattr(logging, level.upper(), logging.WARNING),
        stream=sys.stderr,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        force=True,
    )
