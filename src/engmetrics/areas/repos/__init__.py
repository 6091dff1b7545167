"""Repositories: which ones engmetrics knows, and bringing their data up to date (sync)."""
