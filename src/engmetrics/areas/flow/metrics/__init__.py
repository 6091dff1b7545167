"""The flow area's pure computations over pull-request timelines: flow, reviews, value stream. No SQL, no I/O."""
