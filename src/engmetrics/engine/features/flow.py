"""Engine operations for pull requests, reviews, flow, value stream and teams.

`FlowApi` declares the operations (with `@operation` for their REST route); `LocalFlow` implements
them for `LocalEngine` (it may use `self.store`, `self.settings`, `self.resolve_repo`, `self.scope_repo_ids`).
"""

from __future__ import annotations


class FlowApi:
    """Declarations of the flow operations; each raises `Unsupported` unless an engine implements it."""


class LocalFlow:
    """The local engine's implementation of the flow operations."""
