"""Delivery forecasts: Monte Carlo over weekly throughput, calibrated on the history's own backtest."""
