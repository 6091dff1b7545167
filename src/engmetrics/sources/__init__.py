"""Sources: readers that write events (git history, GitHub, imports) into the store.

``git/`` reads a repository's history and tags (and the pull requests git reveals), ``github/`` GitHub's
pull requests, deployments, releases and incident issues, `events` explicit deployment and incident
events; `cursors`, `bulk_load` and `pr_table` are what they share when writing.
"""
