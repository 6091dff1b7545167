"""The narrative layer: changelog, scorecards, metric series, insights, benchmarks and reports,
every sentence built from computed figures."""
