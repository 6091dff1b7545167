"""Errors a user can act on, kept apart from bugs.

Every face (MCP, REST, CLI) turns an `EngmetricsError` into a clear message that says what was wrong
and what to send instead; anything else is a bug, logged with its traceback on stderr only.
"""

from __future__ import annotations


class EngmetricsError(Exception):
    """Base of errors caused by input, data or a remote service, never by a bug in engmetrics."""

    code = "engmetrics_error"
    http_status = 400

    def __init__(self, message: str, *, param: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.param = param


class InvalidInput(EngmetricsError):
    """An argument was malformed (bad period, negative limit, unknown metric name…)."""

    code = "invalid_request"
    http_status = 422


class NotFound(EngmetricsError):
    """A named thing (repository, deployment, report, commit) does not exist."""

    code = "not_found"
    http_status = 404


class DataError(EngmetricsError):
    """The data cannot answer: not a git repository, corrupt file, empty history."""

    code = "data_error"
    http_status = 422


class StoreUnavailable(DataError):
    """The local store cannot be opened (corrupt file, unreadable folder); the message says how to recover."""

    code = "store_unavailable"
    http_status = 503


class StoreBusy(DataError):
    """The local store stayed locked by another writer (another engmetrics process) for as long as we wait."""

    code = "store_busy"
    http_status = 503


class RemoteError(EngmetricsError):
    """A remote API failed (network, 4xx/5xx, garbage); the message never contains a secret."""

    code = "remote_error"
    http_status = 502

    def __init__(self, message: str, *, retry_after_seconds: float | None = None, status: int | None = None) -> None:
        super().__init__(message)
        self.retry_after_seconds = retry_after_seconds
        self.status = status


class Unsupported(EngmetricsError):
    """The configured engine or provider cannot answer this question."""

    code = "unsupported"
    http_status = 501

