"""Delivery forecasts: Monte Carlo over weekly throughput, calibrated on the history's own backtest.

- `models`: request and result models (the MCP tools' outputSchema, the REST API's bodies, the CLI's --json).
- `api`: the area's operations (`ForecastApi`: forecast_delivery, forecast_backlog, forecast_backtest, and
  the in-process work-item import).
- `queries`: all of the area's SQL: the completion times of the items counted (merged PRs, first-parent
  commits, imported work items), the open work items, and the work-item writes.
- `work_items`: reading a CSV/JSON work-item file into rows.
- `metrics/`: the pure computations (weekly throughput, calendar, simulation, calibration, backtest, caveats).
- `answers`: a forecast question answered from a weekly throughput history (pure: arrays in, models out).
- `service`: `ForecastService`, the local implementation over the store.
"""
