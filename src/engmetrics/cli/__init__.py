"""The command-line face (typer + rich)."""
