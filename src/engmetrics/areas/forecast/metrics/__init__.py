"""Monte Carlo delivery forecasts from weekly throughput, calibrated on the team's own history.

- `throughput`: which items count (merged PRs, first-parent commits, imported work items), weekly
  throughput history, and the working-day calendar future weeks are laid on.
- `simulate`: vectorised numpy Monte Carlo (stationary block bootstrap or i.i.d. weeks), quantile
  curves of cumulative throughput, and completion weeks/dates read off them.
- `calibration`: conformal corrections learnt from forecasts at past origins, made monotone across levels
  so P50 ≤ P85 ≤ P95 always holds.
- `backtest`: forecasts at past origins compared with what happened; walk-forward conformal
  calibration, hit rates with binomial intervals, and pinball loss.
- `caveats`: the plain-language warnings (stale, short or thin history, very wide range, far from the
  history's pace).
- `models`: request and result models (the MCP tools' and REST API's contract).
"""
