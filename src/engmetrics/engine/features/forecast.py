"""Engine operations for delivery forecasts (forecast_delivery, forecast_backlog).

`ForecastApi` declares the operations (with `@operation` for their REST route); `LocalForecast` implements
them for `LocalEngine` (it may use `self.store`, `self.settings`, `self.resolve_repo`, `self.scope_repo_ids`).
"""

from __future__ import annotations


class ForecastApi:
    """Declarations of the forecast operations; each raises `Unsupported` unless an engine implements it."""


class LocalForecast:
    """The local engine's implementation of the forecast operations."""
