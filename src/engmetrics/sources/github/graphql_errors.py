"""GitHub's GraphQL errors: the error raised for an answer's ``errors``, and which of them a smaller query
may avoid (timeouts, node and resource limits).

GitHub answers errors with HTTP 200 and an ``errors`` list (message, type, path), sometimes beside
partial ``data``.
"""

from __future__ import annotations

from typing import Any

from engmetrics.errors import RemoteError

_SMALLER_HELPS = {"MAX_NODE_LIMIT_EXCEEDED", "RESOURCE_LIMITS_EXCEEDED"}
_TIMEOUT_WORDS = ("something went wrong while executing your query", "timeout", "timed out")


def smaller_may_help(error: dict[str, Any]) -> bool:
    """Whether a GraphQL error is one a query for fewer nodes may avoid: GitHub's node and resource limits
    (``MAX_NODE_LIMIT_EXCEEDED``, ``RESOURCE_LIMITS_EXCEEDED``) and its timeouts ("Something went wrong
    while executing your query. This may be the result of a timeout…", no type)."""
    if error.get("type") in _SMALLER_HELPS:
        return True
    message = str(error.get("message") or "").lower()
    return not error.get("path") and any(w in message for w in _TIMEOUT_WORDS)


class GraphQLError(RemoteError):
    """GitHub answered a GraphQL query with ``errors``.

    ``errors``: GitHub's error objects (message, type, path); ``smaller_may_help``: a timeout or a node or
    resource limit, which a query for fewer nodes may avoid.
    """

    def __init__(self, message: str, *, errors: list[dict[str, Any]], smaller_may_help: bool = False,
                 status: int | None = None) -> None:
        super().__init__(message, status=status)
        self.errors = errors
        self.smaller_may_help = smaller_may_help

    @classmethod
    def from_errors(cls, errors: list[dict[str, Any]], *, smaller_may_help: bool) -> GraphQLError:
        """The error for an answer's ``errors``: GitHub's first message (and how many more there were)."""
        first = errors[0]
        kind = first.get("type")
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        advice = (". Check the 'owner/name' in github_repos and the token's access to the repository"
                  if kind == "NOT_FOUND" else "")
        return cls(
            f"GitHub's GraphQL API answered with an error{f' ({kind})' if kind else ''}: "
            f"{quote_message(first.get('message'))}{more}{advice}",
            errors=errors, smaller_may_help=smaller_may_help, status=404 if kind == "NOT_FOUND" else None,
        )


def quote_message(message: Any, limit: int = 300) -> str:
    """GitHub's message, quoted and cut to ``limit`` characters."""
    text = " ".join(str(message or "no message").split())
    return f"'{text[:limit]}{'…' if len(text) > limit else ''}'"
