"""Change risk: how risky a change is, learned from the repository's own history (SZZ labels)."""
