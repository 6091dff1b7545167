"""Engine operations for changelog, scorecards, metric series, insights, benchmarks and reports.

`NarrativeApi` declares the operations (with `@operation` for their REST route); `LocalNarrative` implements
them for `LocalEngine` (it may use `self.store`, `self.settings`, `self.resolve_repo`, `self.scope_repo_ids`).
"""

from __future__ import annotations


class NarrativeApi:
    """Declarations of the narrative operations; each raises `Unsupported` unless an engine implements it."""


class LocalNarrative:
    """The local engine's implementation of the narrative operations."""
