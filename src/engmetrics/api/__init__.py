"""The REST API face (/v1, the Upshot contract), generated from the engine's declared operations."""
