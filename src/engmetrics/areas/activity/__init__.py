"""Activity: the feed of commits, deployments, incidents and PR events, and one contributor's summary."""
