"""The flow area's pure computations over pull-request timelines: the records and each PR's stage durations
(`timeline`), sample statistics (`stats`), flow figures (`flow`), review figures (`reviews`), the value stream
(`value_stream`), stuck PRs (`stuck`) and the PR listing (`listing`). No SQL, no I/O; times are Unix seconds
(UTC), durations hours."""
