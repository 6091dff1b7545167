"""Monte Carlo delivery forecasts from weekly throughput, calibrated on the team's own history.

- `throughput`: which items count (merged PRs, first-parent commits, imported work items), weekly
  throughput history, and the working-day calendar future weeks are laid on.
- `simulate`: vectorised numpy Monte Carlo (stationary block bootstrap or i.i.d. weeks), quantile
  curves of cumulative throughput, and completion weeks/dates read off them.
- `backtest`: forecasts at past origins compared with what happened; walk-forward conformal
  calibration, hit rates with binomial intervals, and pinball loss.
- `models`: request and result models (the MCP tools' and REST API's contract).
"""
