"""The reports area's pure computations: commit classification, changelog entries, scorecard signals, series
presentation, insights, benchmarks, report composition and formats, and how figures are written in words.
No SQL, no store, no I/O: the area's `queries` read the data and its service calls these."""
