"""Flow: pull requests, reviews, flow efficiency, value stream and teams."""
