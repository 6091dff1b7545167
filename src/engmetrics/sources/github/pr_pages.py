"""What a page of pull requests holds besides whole PRs: the PRs GraphQL errors touched (left out, and the
cursor kept at or before them), the error that stopped the fetch, and the notes saying so.

Pages come newest-updated first; times are Unix seconds.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from engmetrics.errors import EngmetricsError, RemoteError
from engmetrics.sources.github.graphql_errors import GraphQLError, quote_message
from engmetrics.sources.github.pr_query import PR_PAGE_FLOOR, PR_PAGE_SIZE
from engmetrics.sources.github.times import unix_seconds


@dataclass
class PullFetch:
    """What fetching a repository's pull requests met besides whole pages.

    ``failure``: the error that stopped it; ``page_size``: the page size in the end (smaller after
    timeouts or node limits); ``left_out``: the PRs a page held incomplete (``#12``), GitHub's
    ``messages`` for them; ``cap``: the stored cursor must not pass this ``updated_at`` (a PR left out
    was updated then, and the next sync must read it again); ``unbounded``: a PR left out with no
    number or time and nothing read after it (the cursor stays where it was).
    """

    failure: EngmetricsError | None = None
    page_size: int = PR_PAGE_SIZE
    left_out: list[str] = field(default_factory=list)
    messages: list[str] = field(default_factory=list)
    cap: int | None = None
    unbounded: bool = False

    def leave_out(self, node: Any, error: dict[str, Any], updated: int | None) -> None:
        """Record a PR node an error touched (not stored; the cursor stays at or before its time)."""
        number = node.get("number") if isinstance(node, dict) else None
        self.left_out.append(f"#{number}" if number is not None else "")
        message = quote_message(error.get("message"), 200)
        if message not in self.messages:
            self.messages.append(message)
        if updated is None:
            self.unbounded = True
        else:
            self.cap = updated if self.cap is None else min(self.cap, updated)

    def bound(self, updated: int) -> None:
        """A PR read after one left out with no time: that one was updated at or after ``updated``."""
        if self.unbounded:
            self.cap = updated if self.cap is None else min(self.cap, updated)
            self.unbounded = False


def whole_nodes(nodes: list[Any], errors: list[dict[str, Any]], since: int | None, got: PullFetch
                ) -> tuple[list[dict[str, Any]], bool] | None:
    """A page's PR nodes to store, and whether the page reached the cursor ``since`` (pages come newest-updated
    first); None when an error is not inside one PR node (nothing on the page can be trusted).

    A PR that an error touches (its path runs through ``repository.pullRequests.nodes[i]``: a field GitHub
    could not give, a null node) is left out whole (`PullFetch.leave_out`); the others are whole.
    """
    if not errors and since is None and not got.unbounded:  # the usual first load: every node, no parsing
        return [n for n in nodes if n], False
    bad: dict[int, dict[str, Any]] = {}
    for e in errors:
        path = e.get("path") or []
        if (len(path) < 4 or list(path[:3]) != ["repository", "pullRequests", "nodes"] or not isinstance(path[3], int)
                or not 0 <= path[3] < len(nodes)):
            return None
        bad.setdefault(path[3], e)
    fresh: list[dict[str, Any]] = []
    for i, node in enumerate(nodes):
        updated = unix_seconds(node.get("updatedAt")) if isinstance(node, dict) else None
        if updated is not None:
            got.bound(updated)
            if since is not None and updated < since:
                return fresh, True
        if i in bad:
            got.leave_out(node, bad[i], updated)
        elif node:
            fresh.append(node)
    return fresh, False


def left_out_note(got: PullFetch) -> str | None:
    """The note for the PRs GitHub sent incomplete (None when there were none): which, GitHub's messages, what
    happens next and what to check."""
    if not got.left_out:
        return None
    named = [x for x in got.left_out if x]
    shown = ", ".join(named[:10]) + (f" and {len(named) - 10} more" if len(named) > 10 else "")
    if len(named) < len(got.left_out):
        shown += f"{', ' if shown else ''}{len(got.left_out) - len(named)} sent empty"
    return (
        f"pull requests: {len(got.left_out)} came back incomplete from GitHub ({shown}); GitHub said: "
        f"{'; '.join(got.messages[:3])}. They were left out, the others were stored, and the next sync asks for "
        "them again. If this repeats, the token may lack access to something they link to (SSO authorization "
        "for the organization, a private repository)."
    )


def failure_note(exc: EngmetricsError, stored: int) -> str:
    """The note for a PR fetch that stopped: GitHub's message, what was kept, what to do."""
    if isinstance(exc, RemoteError) and exc.status in (401, 404):
        return f"pull requests: {exc.message}"  # says what to do already
    kept = (f"The {stored} read before it were stored; the next sync reads the rest again. " if stored
            else "The next sync tries again. ")
    if isinstance(exc, GraphQLError) and exc.smaller_may_help:
        advice = (f"It failed even with pages of {PR_PAGE_FLOOR} pull requests: GitHub may be slow or busy now, "
                  "so run the sync again later.")
    elif isinstance(exc, GraphQLError):
        advice = "If it persists, check the token's access to the repository and report the message to the engmetrics maintainers."
    else:
        advice = "If it persists, check the network and the token's access to the repository."
    return f"pull requests: {exc.message.rstrip('.')}. {kept}{advice}"
