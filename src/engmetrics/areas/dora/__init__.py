"""DORA: deployments, what each shipped, which failed, and the five DORA figures over a window."""
