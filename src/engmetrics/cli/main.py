"""`engmetrics` entry point: `serve` starts without the rest of the CLI; every other command goes to typer.

`engmetrics serve` is what MCP clients launch and time out on, so it neither imports typer nor any other
command (see `engmetrics.cli.serve`).
"""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    """Entry point: exit 0 ok, 1 usage error, 2 data error, 3 internal error (see `engmetrics.cli.errors`)."""
    args = sys.argv[1:] if argv is None else list(argv)
    if args[:1] == ["serve"]:
        from engmetrics.cli.serve import serve_main  # lazy: `serve` must start without typer or any other command

        return serve_main(args[1:])
    from engmetrics.cli.app import run_app  # lazy: typer and every command load only for the other commands

    return run_app(args)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
