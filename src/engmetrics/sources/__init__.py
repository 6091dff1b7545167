"""Sources: readers that write events (git history, GitHub, imports) into the store."""
