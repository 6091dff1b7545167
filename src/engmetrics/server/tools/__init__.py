"""One module per tool (or small family of tools); each exposes ``register(mcp, runtime)``."""
