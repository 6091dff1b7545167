"""The time budget of one remote engine call (seconds, monotonic clock) and what its HTTP attempts did.

`RemoteEngine.call` opens one `Deadline` for the whole call (`deadline_for_call`); every request, retry, backoff,
rate-limit wait and page of that call reads it (`current_deadline`), so an agent gets a clear error — naming what
was tried and for how long — before its MCP client gives up.
"""

from __future__ import annotations

import contextvars
import time
from collections.abc import Iterator
from contextlib import contextmanager

from engmetrics.errors import RemoteError


class Deadline:
    """The time budget of one engine call (``seconds``) and what its HTTP attempts did (for the error that ends it)."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.started = time.monotonic()
        self.until = self.started + seconds
        self.tried: list[tuple[str, str]] = []  # (request, what happened)

    def note(self, where: str, what: str) -> None:
        """Record what one attempt did."""
        self.tried.append((where, what))

    def remaining(self) -> float:
        """Seconds left (≤ 0 once over)."""
        return self.until - time.monotonic()

    def elapsed(self) -> float:
        """Seconds since the call started."""
        return time.monotonic() - self.started

    def error(self, label: str, where: str) -> RemoteError:
        """The error for a call that ran out of time, saying what was tried and for how long."""
        one_request = len({w for w, _ in self.tried}) <= 1
        tried = "; ".join(f"{i}: {t if one_request else w + ': ' + t}" for i, (w, t) in enumerate(self.tried, 1))
        n = len(self.tried)
        return RemoteError(
            f"{label} did not answer {where} in time: gave up after {self.elapsed():.1f} s, the deadline for one "
            f"call (ENGMETRICS_REMOTE_DEADLINE_SECONDS={self.seconds:g}), with {n} attempt{'s' if n != 1 else ''} "
            f"({tried or 'none finished'}). Check that the server is up and not overloaded, or raise the deadline, then try again."
        )


_CURRENT: contextvars.ContextVar[Deadline | None] = contextvars.ContextVar("engmetrics_remote_deadline", default=None)


@contextmanager
def deadline_for_call(seconds: float) -> Iterator[Deadline]:
    """A new `Deadline` of ``seconds`` that every request made inside the block shares."""
    deadline = Deadline(seconds)
    token = _CURRENT.set(deadline)
    try:
        yield deadline
    finally:
        _CURRENT.reset(token)


def current_deadline(default_seconds: float) -> Deadline:
    """The deadline of the call in progress; a fresh one of ``default_seconds`` outside `deadline_for_call`."""
    return _CURRENT.get() or Deadline(default_seconds)
