"""AI-assisted code: how much of the code AI writes (tracking data, AI trailers, Copilot) and how AI-assisted changes
fare (bug-inducing, reverted, failed deployments, review time) against the others."""
