"""Engines: one interface (`Engine`), computed locally from the store or called over a remote API."""

from engmetrics.engine.base import Engine, ProgressFn

__all__ = ["Engine", "ProgressFn"]
