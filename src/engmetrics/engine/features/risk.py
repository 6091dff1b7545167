"""Engine operations for change risk (score_pr_risk, list_risky_changes).

`RiskApi` declares the operations (with `@operation` for their REST route); `LocalRisk` implements
them for `LocalEngine` (it may use `self.store`, `self.settings`, `self.resolve_repo`, `self.scope_repo_ids`).
"""

from __future__ import annotations


class RiskApi:
    """Declarations of the risk operations; each raises `Unsupported` unless an engine implements it."""


class LocalRisk:
    """The local engine's implementation of the risk operations."""
