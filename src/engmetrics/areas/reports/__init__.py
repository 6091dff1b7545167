"""Reports: changelogs, scorecards, metric series, insights, benchmarks and written reports."""
