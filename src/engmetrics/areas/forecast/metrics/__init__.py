"""The forecast area's pure computations (numpy arrays and dates in, arrays, numbers and models out; no store).

Units: items and weeks throughout; times are Unix seconds (UTC).

- `throughput`: completion times counted into 7-day weeks ending at the forecast's as-of instant.
- `calendar`: the working-day calendar future weeks are laid on (working weekdays, holidays).
- `simulate`: vectorised numpy Monte Carlo (stationary block bootstrap or i.i.d. weeks), quantile
  curves of cumulative throughput, and completion weeks/item counts read off them.
- `calibration`: conformal corrections learnt from forecasts at past origins, made monotone across levels
  so P50 ≤ P85 ≤ P95 always holds.
- `backtest`: forecasts at past origins compared with what happened; walk-forward conformal
  calibration, hit rates with binomial intervals, and pinball loss.
- `caveats`: the plain-language warnings (stale, short or thin history, very wide range, far from the
  history's pace).
"""
